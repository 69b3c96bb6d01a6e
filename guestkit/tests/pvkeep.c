/*
 * pvkeep: a guest that uses every part of hvkit's paravirtual interface
 * while it counts, for the snapshot tests (tests/integration/vmstate-hv.sh):
 * a savevm and a loadvm while it runs must leave each part working.
 *
 * Set-up: the hypercall page, the shared page and a loopback port, the
 * grant table, the PV console on its own port, the PV block ring on disk
 * 0, the PV clock, and 16 pages given back to the balloon.  Then, every
 * 20 ms of the PIT's time (as the counter guest, its channel programmed
 * once), count N:
 *   - writes "pvkeep N" into sector N % 64 through the PV block ring and
 *     reads back sector (N - 1) % 64, which must say "pvkeep N-1": after a
 *     loadvm the disk is the snapshot's, and the guest's RAM too, so the
 *     sector it wrote last before the savevm is there;
 *   - reads the PV clock, which must not go back;
 *   - signals the loopback port, whose interrupt must arrive at the next
 *     STI (the port still bound, the vector still the same);
 *   - prints "count N" through the PV console ring.
 * A check that fails prints "pvkeep: FAIL ..." on COM1 and counts.  At the
 * end the balloon's 16 pages are taken back (hv must still know them as
 * given back) and one more is given, with hv's page counts checked; then
 * the usual report.  Arguments: the limit (150 by default).  Skipped
 * outside hv.
 */
#include "guestkit/guestkit.h"
#include "guestkit/pic.h"
#include "guestkit/pv.h"

#define PERIOD      (PIT_HZ / 50) /* 20 ms of PIT input clocks */
#define EVT_VECTOR  0x70
#define PORT_LOOP   5
#define PORT_CON    6
#define PORT_BLK    7
#define SLOTS       64u              /* sectors the counts go round */
#define FIRST_FRAME (4u << 20 >> 12) /* the balloon's pages, from 4 MiB */
#define BALLOONED   16u

static uint8_t sector[512] __attribute__((aligned(4096)));
static uint64_t frames[BALLOONED + 1];
/* In RAM, so a snapshot brings them back. */
static volatile unsigned long count, fails, loops;
static volatile uint64_t last_ns;

static void on_loop(unsigned port)
{
    (void)port;
    loops++;
}

static void fail(const char *what, unsigned long n)
{
    fails++;
    printf("pvkeep: FAIL at count %lu: %s\n", n, what);
}

/* A line through the PV console ring, one notification. */
static void pv_puts(const char *s)
{
    while (*s)
        pv_console_putc(*s++);
    pv_console_flush();
}

/* Everything set up; false (with a report) if a step failed. */
static bool setup(long *pages)
{
    long rc = pv_hcpage_init() ? pv_evtchn_init(EVT_VECTOR) : HC_EINVAL;
    if (rc == HC_OK)
        rc = pv_evtchn_bind(PORT_LOOP, on_loop);
    if (rc == HC_OK)
        rc = pv_grant_init();
    if (rc == HC_OK)
        rc = pv_console_init(PORT_CON);
    long sectors = rc == HC_OK ? pv_blk_init(0, PORT_BLK) : rc;
    bool clock = sectors > 0 && pv_clock_init();
    for (unsigned i = 0; i < BALLOONED; i++)
        frames[i] = FIRST_FRAME + i;
    *pages = clock ? pv_call(HC_BALLOON_RELEASE, (uintptr_t)frames, BALLOONED, 0) : -1;
    return report(*pages > 0,
                  "set up: hypercall page, events, grants, console, block (%ld "
                  "sectors), clock, %u pages given back (%ld left)",
                  sectors, BALLOONED, *pages);
}

/* One count's work; the checks print on failure. */
static void step(unsigned long n)
{
    /* The block ring: this count's sector written, the last one read. */
    memset(sector, 0, sizeof(sector));
    ksnprintf((char *)sector, sizeof(sector), "pvkeep %lu", n);
    if (pv_blk_rw(HVKIT_BLK_OP_WRITE, n % SLOTS, sector, 1) != HVKIT_BLK_OK)
        fail("block write", n);
    if (n > 1) {
        char want[32];
        ksnprintf(want, sizeof(want), "pvkeep %lu", n - 1);
        if (pv_blk_rw(HVKIT_BLK_OP_READ, (n - 1) % SLOTS, sector, 1) != HVKIT_BLK_OK ||
            strcmp((char *)sector, want))
            fail("block read of the last count's sector", n);
    }
    /* The clock never goes back. */
    uint64_t t = pv_clock_ns();
    if (t < last_ns)
        fail("the PV clock went back", n);
    last_ns = t;
    /* The loopback: its interrupt at the STI. */
    unsigned long before = loops;
    if (pv_evtchn_send(PORT_LOOP) != HC_OK)
        fail("loopback send", n);
    sti();
    __asm__ volatile("nop; nop" ::: "memory");
    cli();
    if (loops != before + 1)
        fail("the loopback interrupt did not arrive", n);
    char line[32];
    ksnprintf(line, sizeof(line), "count %lu\n", n);
    pv_puts(line);
}

int main(int argc, char **argv)
{
    unsigned long limit = argc > 1 ? kstrtoull(argv[1], NULL, 10) : 150;
    if (!pv_available()) {
        report_skip("set up: not under hvkit with HVKIT_FEATURE_PV");
        return report_summary();
    }
    long pages;
    if (!setup(&pages))
        return report_summary();
    pit_square(PERIOD);
    for (count = 1; count <= limit; count++) {
        while (pit_out())
            ;
        while (!pit_out())
            ;
        step(count);
    }
    report(fails == 0,
           "%lu counts through the PV console, block ring, clock and loopback port: "
           "%lu failures",
           limit, fails);
    /* The balloon: its pages taken back, one more given. */
    long back = pv_call(HC_BALLOON_RECLAIM, (uintptr_t)frames, BALLOONED, 0);
    frames[0] = FIRST_FRAME + BALLOONED;
    long again = pv_call(HC_BALLOON_RELEASE, (uintptr_t)frames, 1, 0);
    report(back == pages + (long)BALLOONED && again == pages + (long)BALLOONED - 1,
           "balloon: the %u pages taken back (%ld pages, want %ld), one more given (%ld)",
           BALLOONED, back, pages + (long)BALLOONED, again);
    return report_summary();
}
