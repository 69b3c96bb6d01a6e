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
    d->exit_code = code;
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

/* Names for log lines, indexed by state. */
const char *domain_state_name(enum domain_state s)
{
    /* Designated initializers keep each name next to its state. */
    static const char *const names[] = {
        [DOMAIN_CREATED] = "created", [DOMAIN_RUNNING] = "running", [DOMAIN_SHUTDOWN] = "shut down",
        [DOMAIN_CRASHED] = "crashed", [DOMAIN_FAILED] = "failed",
    };
    /* The cast also catches a negative value of a corrupted enum. */
    if ((unsigned)s >= KARRAY_SIZE(names))
        return "?";
    return names[s];
}
