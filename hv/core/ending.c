/*
 * ending.c - ending the outer machine.
 *
 * hv ends when every domain has stopped (host_end), or when hv itself
 * cannot go on (end_error).  Under QEMU with
 * `-device isa-debug-exit,iobase=0xf4,iosize=4`, writing N to port 0xf4
 * ends QEMU with status (N << 1) | 1, so hv passes the guest's own
 * code on and hv's status equals the guest's alone.  Bochs and real hardware
 * have no such port: the write is ignored and we fall back to the Bochs
 * shutdown port 0x8900 (writing the string "Shutdown" there makes Bochs
 * quit), and finally halt.
 */
#include "hvkit/abi.h"
#include "klib.h"

#include "benchcount.h"
#include "alloc.h"
#include "cpu.h"
#include "ending.h"
#include "hv.h"
#include "log.h"
#include "pv.h"
#include "slatdot.h"

/* main.c: print the exit statistics, if any guest has run (for end_error,
 * which may come from anywhere, even a fault in hv). */
void hv_print_stats(void);

/* End the outer machine with `code` for its exit status, by whichever of
 * the three means works here; the common tail of the endings below. */
static __attribute__((noreturn)) void outer_exit(uint32_t code)
{
    /* Let COM1 finish sending the last line first (LSR bit 6, TEMT: FIFO and
     * shift register empty): Bochs's shutdown port ends the emulator at once
     * and drops what the UART still holds.  Bounded, like serial_putc(). */
    for (int i = 0; i < 1000000 && !(inb(HVKIT_PORT_COM1 + 5) & 0x40); i++)
        ;
    /* QEMU isa-debug-exit: a 32-bit write ends the emulator. */
    outl(HVKIT_PORT_DEBUG_EXIT, code);
    /* Still here: no isa-debug-exit.  Try Bochs's shutdown port. */
    for (const char *s = "Shutdown"; *s; s++)
        outb(0x8900, (uint8_t)*s);
    /* Real hardware: nothing more we can do; the log says how it ended. */
    cpu_halt_forever();
}

/* stats_report() callback: each statistics line as an hv line. */
static void stats_line(void *ctx, const char *line)
{
    (void)ctx;
    hv_log("%s", line);
}

/* slat_dot() callback: each line of the graph, marked for
 * docs/slatgraph.sh to pick out of the log. */
static void dot_line(void *ctx, const char *line)
{
    (void)ctx;
    hv_log("dot: %s", line);
}

/* What a domain's second-level tables did besides the exits counted:
 * pages mapped on first touch (npt=lazy), first writes the dirty log
 * caught.  (The tables themselves are gone by now: with slat-dot their
 * graph was printed when the domain stopped, host_domain_ended.) */
static void guestmem_report(const struct guestmem *g)
{
    if (g->lazy)
        hv_log("npt=lazy: %llu pages mapped on first touch", (unsigned long long)g->lazy_maps);
    if (g->dirty.writes_caught)
        hv_log("dirty log: %llu first writes caught", (unsigned long long)g->dirty.writes_caught);
}

void host_domain_ended(struct host *h, struct domain *d)
{
    /* The end of one of several domains is worth a line; with one domain
     * its end is hv's last line (host_end) and needs none. */
    if (h->nr_domains > 1 && !d->end_logged) {
        hv_log("domain %u %s%s%s", d->id, domain_state_name(d->state), d->why[0] ? ": " : "",
               d->why);
        d->end_logged = true;
    }
    /* The tables as they are at the end, as a Graphviz graph, while they
     * still exist. */
    if (h->opt.slat_dot && !d->torn_down)
        slat_dot(&d->guestmem.slat, d->guestmem.map, dot_line, NULL);
    /* The PV console's unfinished line, and what the PV devices did. */
    pv_domain_end(d);
    size_t before = alloc_free_bytes();
    domain_teardown(d);
    pv_teardown(d);
    if (h->nr_domains < 2)
        return;
    hv_log("domain %u torn down: %zu KiB back to the heap", d->id,
           (alloc_free_bytes() - before) >> 10);
    /* The last one: every domain's memory should be back. */
    for (const struct domain *o = h->domains; o; o = o->next)
        if (!o->torn_down)
            return;
    hv_log("heap: %zu KiB free after teardown, %zu KiB before the domains were made",
           alloc_free_bytes() >> 10, h->heap_free_before >> 10);
}

/*
 * Print the exit statistics of every domain that has run, for the endings
 * below just before the last line.  Before a guest has run there is
 * nothing to count, and a start-up error should end with its own message,
 * not with a table of zeros.  With several domains each table is headed by
 * the domain's number and how it ended; with one, the table stands alone,
 * as bin/hvrun expects.
 */
void host_print_stats(const struct host *h)
{
    for (const struct domain *d = h->domains; d; d = d->next) {
        if (d->state == DOMAIN_CREATED)
            continue;
        if (h->nr_domains > 1)
            hv_log("domain %u: %s", d->id, domain_state_name(d->state));
        stats_report(&d->stats, stats_line, NULL);
        guestmem_report(&d->guestmem);
    }
}

#ifdef HV_BENCH_COUNT
/* The exit path's counters (benchcount.h), in the benchmark's image only. */
struct bench_counts bench_counts;
#endif

/*
 * Every domain has stopped: print the statistics, then the protocol's last
 * line for the first domain (the guest of the first boot module, the one
 * bin/hvrun runs), and end the outer machine with its status.
 *   DOMAIN_SHUTDOWN  "exit: guest code=N"; the outer status carries N, so
 *                    bin/hvrun can return it as its own;
 *   DOMAIN_CRASHED   "exit: guest crashed (why)"; hv's failure status;
 *   DOMAIN_FAILED    "exit: error (why)"; hv could not run the guest.
 */
void host_end(const struct host *h)
{
    const struct domain *d = h->domains;
#ifdef HV_BENCH_COUNT
    /* Taken before the statistics go out: what running the guests cost,
     * not the console output of hv's last words. */
    struct bench_counts counts = bench_counts;
#endif
    host_print_stats(h);
#ifdef HV_BENCH_COUNT
    /* Totals for bench/hv/run.sh, which subtracts a run with no exits. */
    hv_log("bench counts: vmread %llu vmwrite %llu clock %llu outer-io %llu",
           (unsigned long long)counts.vmreads, (unsigned long long)counts.vmwrites,
           (unsigned long long)counts.clock_reads, (unsigned long long)counts.outer_io);
#endif
    /* No domain, or one that never stopped: a bug in the run loop. */
    if (!d || !domain_stopped(d)) {
        hv_log("exit: error (the run loop ended with no stopped domain)");
        outer_exit(HVKIT_OUTER_EXIT_FAILURE);
    }
    switch (d->state) {
    case DOMAIN_SHUTDOWN:
        /* A reboot with on_reboot=destroy ends as the guest's reset does
         * (dispatch.c), as QEMU's -no-reboot powers off: not an exit code
         * the guest chose. */
        if (d->shutdown_reason == DOMAIN_REBOOT) {
            hv_log("exit: guest crashed (the domain rebooted; on_reboot=destroy)");
            outer_exit(HVKIT_OUTER_EXIT_FAILURE);
        }
        hv_log("exit: guest code=%u", d->exit_code);
        outer_exit(d->exit_code);
    case DOMAIN_DYING:
        /* Destroyed by the host: no end of the guest's own, like a crash
         * for the status (why says "destroyed by the host", or keeps the
         * end it had before). */
    case DOMAIN_CRASHED:
        hv_log("exit: guest crashed (%s)", d->why);
        outer_exit(HVKIT_OUTER_EXIT_FAILURE);
    default:
        hv_log("exit: error (%s)", d->why);
        outer_exit(HVKIT_OUTER_EXIT_FAILURE);
    }
}

/* hv itself cannot go on (bad option or image, no SVM/VMX, failed entry,
 * fault in hv): a printf-style reason on the last line.  The message is
 * formatted into a buffer first because it goes inside the parentheses
 * of one protocol line. */
void end_error(const char *fmt, ...)
{
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    /* Statistics only exist once the guest ran (e.g. a failed VMRUN). */
    hv_print_stats();
    hv_log("exit: error (%s)", why);
    outer_exit(HVKIT_OUTER_EXIT_FAILURE);
}
