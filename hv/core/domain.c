/*
 * domain.c - a domain's set-up and its run-state changes (see domain.h).
 *
 * The state changes are the whole of "how a guest ends" in the core: a
 * handler that decides the guest has ended records how, and returns.  The
 * run loop (run.c) sees that the domain is no longer running and stops
 * entering its vCPUs; ending.c reports the endings once every domain has
 * stopped.  Compiled hosted too (tests/unit/test_hv_domain.c).
 */
#include "hvkit/abi.h"
#include "klib.h"

#include "domain.h"
#include "hv.h"

/* An empty domain with its console and exit port; see domain.h. */
void domain_init(struct domain *d, struct host *h, unsigned id, iobus_note_fn note,
                 uart_line_fn line)
{
    /* No memory, no vCPUs, CREATED (0), zero statistics. */
    memset(d, 0, sizeof(*d));
    d->id = id;
    d->host = h;
    /* The port bus routes each guest IN/OUT to the device owning the port;
     * unclaimed ports read all ones, as on an ISA bus with nothing driving
     * the lines. */
    iobus_init(&d->io, note, d);
    /* COM1: the guest's console; its output lines reach hv's log. */
    uart_init(&d->com1, HVKIT_PORT_COM1, line, d);
    /* No memory-mapped device yet: device models add themselves. */
    mmio_bus_init(&d->mmio);
    /* Port 0xf4: the guest's way to end with an exit code, as QEMU's
     * isa-debug-exit device gives a kernel on plain QEMU. */
    debug_exit_init(&d->dbg_exit, HVKIT_PORT_DEBUG_EXIT);
    /* Cannot fail: the bus is empty and the two ranges are disjoint. */
    iobus_add(&d->io, &d->com1.dev);
    iobus_add(&d->io, &d->dbg_exit.dev);
}

/* Attach a vCPU; its number is its index in the domain. */
int domain_add_vcpu(struct domain *d, struct vcpu *v)
{
    if (d->nr_vcpus >= DOMAIN_MAX_VCPUS)
        return -1;
    v->dom = d;
    v->id = d->nr_vcpus;
    d->vcpu[d->nr_vcpus++] = v;
    return 0;
}

/* A device model's range into the map and onto the bus, both or neither. */
int domain_add_mmio(struct domain *d, struct mmio_device *dev, char *err, size_t err_len)
{
    /* Not reported to the guest: a PC's firmware does not list its APICs
     * in the memory map either (memmap.h). */
    struct mem_range r = {.base = dev->base,
                          .size = dev->size,
                          .kind = MEM_MMIO,
                          .report = MEM_REPORT_NONE,
                          .name = dev->name,
                          .owner = dev};
    /* The bus first, since it can take the device back out: it refuses
     * only an empty or wrapping range or another device's addresses. */
    if (mmio_add(&d->mmio, dev) < 0) {
        ksnprintf(err, err_len, "%s at %#llx..%#llx: an empty range or another device's", dev->name,
                  (unsigned long long)dev->base, (unsigned long long)(dev->base + dev->size - 1));
        return -1;
    }
    /* The map checks the range against everything else in the guest's
     * address space, RAM and holes included, and says what is wrong. */
    if (memmap_add(&d->map, &r, err, err_len) < 0) {
        mmio_remove(&d->mmio, dev);
        return -1;
    }
    return 0;
}

/* The guest's own end with an exit code. */
void domain_shutdown(struct domain *d, uint32_t code)
{
    /* The first end is the one that happened; anything a handler decides
     * after it (e.g. while finishing a REP string instruction) is moot. */
    if (domain_stopped(d))
        return;
    d->state = DOMAIN_SHUTDOWN;
    d->shutdown_reason = DOMAIN_POWEROFF;
    d->exit_code = code;
}

/* The guest reset its machine: an end whose action is on_reboot's. */
void domain_guest_reboot(struct domain *d)
{
    if (domain_stopped(d))
        return;
    d->state = DOMAIN_SHUTDOWN;
    d->shutdown_reason = DOMAIN_REBOOT;
}

/* Record a crash or failure with its formatted reason. */
static void stop_with_reason(struct domain *d, enum domain_state s, const char *fmt, va_list ap)
{
    if (domain_stopped(d))
        return;
    d->state = s;
    /* ksnprintf truncates a reason too long for the buffer rather than
     * overflow it; the reason still starts with what matters. */
    kvsnprintf(d->why, sizeof(d->why), fmt, ap);
}

/* The guest crashed. */
void domain_crash(struct domain *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    stop_with_reason(d, DOMAIN_CRASHED, fmt, ap);
    va_end(ap);
}

/* hv failed to run the guest. */
void domain_fail(struct domain *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    stop_with_reason(d, DOMAIN_FAILED, fmt, ap);
    va_end(ap);
}

/* CREATED or RUNNING -> PAUSED; the run loop skips a paused domain. */
int domain_pause(struct domain *d)
{
    /* An ended domain has nothing to pause, and its end must stay the
     * state the report and the front-ends see. */
    if (domain_stopped(d))
        return -1;
    /* From now on the run loop does not enter it (run.c: only RUNNING
     * domains run); the vCPU state stays as the last exit left it, so an
     * unpause continues at the very instruction. */
    d->state = DOMAIN_PAUSED;
    return 0;
}

/* PAUSED -> RUNNING.  A domain paused before it ever ran starts now: the
 * run loop treats RUNNING alike either way. */
int domain_unpause(struct domain *d)
{
    /* As for pause: an end is final (a reset starts it again). */
    if (domain_stopped(d))
        return -1;
    /* RUNNING stays RUNNING; CREATED stays CREATED until the run loop
     * starts every created domain. */
    if (d->state == DOMAIN_PAUSED)
        d->state = DOMAIN_RUNNING;
    return 0;
}

/* The power button: a flag the guest's event source reads (the guest
 * sees it as an interrupt once hv delivers it); pressing twice before the
 * guest looks is one press, as on a real button. */
int domain_request_powerdown(struct domain *d)
{
    /* Nobody is left to hear the button of an ended machine. */
    if (domain_stopped(d))
        return -1;
    /* The guest's side of the event reads and clears it (core/irq.c
     * turns it into the ACPI power button's status and SCI). */
    d->powerdown_pending = true;
    /* An interrupt controller will change: irq.c must look again even if
     * its last look found nothing to do. */
    d->irq_epoch++;
    return 0;
}

/* A reset is a rebuild, which needs the backend and the loader: the run
 * loop does it (run.c).  A dying domain has nothing left to rebuild. */
int domain_reset(struct domain *d)
{
    if (d->state == DOMAIN_DYING)
        return -1;
    /* Any other state may be reset, an ended one too (that is how a
     * preserved domain is started again). */
    d->requests |= DOMAIN_REQ_RESET;
    return 0;
}

/* The forced reboot: the domain ends as its guest's own reset would. */
int domain_reboot(struct domain *d)
{
    /* Only a domain that still runs (or is paused) can reboot. */
    if (domain_stopped(d))
        return -1;
    /* Its on_reboot action follows in the run loop, as for the guest's
     * own reset. */
    domain_guest_reboot(d);
    return 0;
}

/* DYING at once, so that nothing enters it again; the memory goes back
 * in the run loop, which knows whether a vCPU is loaded.  A reset asked
 * for earlier is dropped: destroy wins. */
int domain_destroy(struct domain *d)
{
    /* Destroying twice would tear down twice. */
    if (d->state == DOMAIN_DYING)
        return -1;
    /* Keep the first end's words, if it had ended; otherwise say why. */
    if (!domain_stopped(d))
        ksnprintf(d->why, sizeof(d->why), "destroyed by the host");
    /* DYING counts as stopped: nothing enters it from now on. */
    d->state = DOMAIN_DYING;
    /* Replaces any reset asked for before. */
    d->requests = DOMAIN_REQ_DESTROY;
    /* A dying domain is never built again: its image (and whatever else
     * its maker allocated to build it) can go back now. */
    if (d->release) {
        d->release(d);
        d->release = NULL;
    }
    return 0;
}

/* What follows an end: the policy xl.cfg(5) would apply. */
enum domain_action domain_end_action(const struct domain *d)
{
    switch (d->state) {
    case DOMAIN_SHUTDOWN:
        /* A power-off and a reboot are both shutdowns, with their own
         * options. */
        return d->shutdown_reason == DOMAIN_REBOOT ? d->on_reboot : d->on_poweroff;
    case DOMAIN_CRASHED:
        return d->on_crash;
    default:
        /* hv's failure would fail again the same way; a dying domain is
         * being destroyed; a domain that has not ended has no action. */
        return DOMAIN_ACTION_DESTROY;
    }
}

/* Its own name, or "d" and its number. */
const char *domain_name(const struct domain *d, char *buf, size_t size)
{
    if (d->name)
        return d->name;
    ksnprintf(buf, size, "d%u", d->id);
    return buf;
}

/* Names for log lines, indexed by state. */
const char *domain_state_name(enum domain_state s)
{
    /* Designated initializers keep each name next to its state. */
    static const char *const names[] = {
        [DOMAIN_CREATED] = "created",    [DOMAIN_RUNNING] = "running", [DOMAIN_PAUSED] = "paused",
        [DOMAIN_SHUTDOWN] = "shut down", [DOMAIN_CRASHED] = "crashed", [DOMAIN_FAILED] = "failed",
        [DOMAIN_DYING] = "dying",
    };
    /* The cast also catches a negative value of a corrupted enum. */
    if ((unsigned)s >= KARRAY_SIZE(names))
        return "?";
    return names[s];
}

/* Every vCPU waits in HLT (or, an application processor, for its start,
 * or is halted for good: core/smp.c): Xen shows the domain as blocked. */
static bool all_blocked(const struct domain *d)
{
    for (unsigned i = 0; i < d->nr_vcpus; i++)
        if (!d->vcpu[i]->blocked && d->vcpu[i]->mp_state == VCPU_MP_RUNNING)
            return false;
    return d->nr_vcpus > 0;
}

/* Index into "rbpscd", the order of xl list's state columns. */
static unsigned xen_column(const struct domain *d)
{
    switch (d->state) {
    case DOMAIN_RUNNING:
        return all_blocked(d) ? 1 : 0;
    case DOMAIN_CREATED:
    case DOMAIN_PAUSED:
        return 2;
    case DOMAIN_SHUTDOWN:
        return 3;
    case DOMAIN_CRASHED:
    case DOMAIN_FAILED:
        return 4;
    default:
        return 5;
    }
}

/* See domain.h. */
uint64_t domain_balloon_asked_kib(const struct domain *d)
{
    return d->balloon_target_kib ? d->balloon_target_kib : d->host->opt.balloon >> 10;
}

/* Xen's word for the column: xl list's state, spelt out. */
const char *domain_xen_state(const struct domain *d)
{
    static const char *const names[] = {"running",  "blocked", "paused",
                                        "shutdown", "crashed", "dying"};
    return names[xen_column(d)];
}

/* xl list's six state columns, with one letter set. */
void domain_xen_flags(const struct domain *d, char buf[7])
{
    /* One column per state, a dash where the state does not apply. */
    static const char letters[] = "rbpscd";
    unsigned col = xen_column(d);
    for (unsigned i = 0; i < 6; i++)
        buf[i] = i == col ? letters[i] : '-';
    buf[6] = '\0';
}

/* query-status's "status" member for the domain's state. */
const char *domain_qmp_status(const struct domain *d)
{
    /* QEMU's RunState names (qapi/run-state.json); a dying domain is shut
     * down as far as a QMP client can tell. */
    static const char *const names[] = {
        [DOMAIN_CREATED] = "prelaunch",      [DOMAIN_RUNNING] = "running",
        [DOMAIN_PAUSED] = "paused",          [DOMAIN_SHUTDOWN] = "shutdown",
        [DOMAIN_CRASHED] = "guest-panicked", [DOMAIN_FAILED] = "internal-error",
        [DOMAIN_DYING] = "shutdown",
    };
    /* A corrupted state is hv's trouble, which is what this name says. */
    if ((unsigned)d->state >= KARRAY_SIZE(names))
        return "internal-error";
    return names[d->state];
}

const char *vcpu_state_name(const struct vcpu *v)
{
    switch (v->mp_state) {
    case VCPU_MP_WAIT_SIPI:
        return "wait-for-SIPI";
    case VCPU_MP_STOPPED:
        return "stopped";
    default:
        return v->blocked ? "halted" : "running";
    }
}
