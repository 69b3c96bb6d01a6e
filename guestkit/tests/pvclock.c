/*
 * pvclock: the PV clock (include/hvkit/pv.h "The PV clock") read the way a
 * guest kernel reads it: RDTSC and the published scale, no exit.
 *   - registration: WRMSR, a published structure (even version, a scale
 *     with its top bit set);
 *   - no exits: 100000 reads cost no VM exit (HC_EXIT_COUNT around them);
 *   - monotonic: no read is earlier than the one before;
 *   - agrees with the PIT: over half a second the PV clock and the PIT's
 *     channel 0 (rate generator, read through the latch command) agree
 *     within 1% (each PIT read costs a few exits; they are dated by the
 *     clock reads around them).
 * Skipped outside hv.
 */
#include "guestkit/guestkit.h"
#include "guestkit/pic.h"
#include "guestkit/pv.h"

#define READS 100000u
/* How long the clock is compared with the PIT. */
#define SPAN_NS 500000000ull

/* The 8254's ports (Intel 82C54 data sheet): channel 0 and the control
 * word, which here selects channel 0, LSB then MSB, mode 2 (rate
 * generator), binary; 0x00 latches channel 0's count. */
#define PIT_CH0            0x40
#define PIT_CMD            0x43
#define PIT_CH0_LOHI_MODE2 0x34
#define PIT_CH0_LATCH      0x00

/* Channel 0's count, and in *at the PV clock's time of the read. */
static uint16_t pit_read(uint64_t *at)
{
    uint64_t before = pv_clock_ns();
    outb(PIT_CMD, PIT_CH0_LATCH);
    uint16_t lo = inb(PIT_CH0);
    uint16_t hi = inb(PIT_CH0);
    uint64_t after = pv_clock_ns();
    *at = before + (after - before) / 2;
    return (uint16_t)(lo | hi << 8);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (!pv_available()) {
        report_skip("registration: not under hvkit with HVKIT_FEATURE_PV");
        report_skip("no exits: not under hvkit with HVKIT_FEATURE_PV");
        report_skip("monotonic: not under hvkit with HVKIT_FEATURE_PV");
        report_skip("agrees with the PIT: not under hvkit with HVKIT_FEATURE_PV");
        return report_summary();
    }
    bool reg = pv_clock_init();
    const volatile struct hvkit_pvclock *c = pv_clock();
    report(reg && c->version && !(c->version & 1) && c->tsc_to_system_mul >= 0x80000000u,
           "registration: version %u, mul %#x, shift %d, system_time %llu ns", c->version,
           c->tsc_to_system_mul, c->tsc_shift, (unsigned long long)c->system_time);

    long e0 = hypercall(HC_EXIT_COUNT, 0, 0, 0);
    uint64_t first = pv_clock_ns(), prev = first;
    unsigned backwards = 0;
    for (unsigned i = 0; i < READS; i++) {
        uint64_t now = pv_clock_ns();
        if (now < prev)
            backwards++;
        prev = now;
    }
    long e1 = hypercall(HC_EXIT_COUNT, 0, 0, 0);
    /* One exit is the second HC_EXIT_COUNT itself. */
    report(e1 - e0 <= 1 + READS / 10000,
           "no exits: %u reads of the clock with %ld exits (%ld counted around them)", READS,
           e1 - e0 - 1, e1 - e0);
    report(backwards == 0 && prev > first,
           "monotonic: %u reads, none earlier than the last, "
           "%llu ns between the first and the last",
           READS, (unsigned long long)(prev - first));

    /* The PIT's time: channel 0 counting down from 65536 over and over
     * (mode 2), read through the latch command; every read is bracketed
     * by two clock reads and dated at their middle, so the error is half
     * a PIT read (a few exits) at each end, not a polling interval. */
    outb(PIT_CMD, PIT_CH0_LOHI_MODE2);
    outb(PIT_CH0, 0);
    outb(PIT_CH0, 0);
    uint64_t t0, t, wraps = 0;
    uint16_t c0 = pit_read(&t0), last = c0, now_count;
    do {
        now_count = pit_read(&t);
        /* Counting down: a larger value means it went through 0. */
        if (now_count > last)
            wraps++;
        last = now_count;
    } while (t - t0 < SPAN_NS);
    uint64_t pit_clocks = wraps * 65536u + c0 - now_count;
    uint64_t pit_ns = pit_clocks * 1000000000ull / PIT_HZ, pv_ns = t - t0;
    uint64_t diff = pv_ns > pit_ns ? pv_ns - pit_ns : pit_ns - pv_ns;
    report(diff * 100 < pit_ns,
           "agrees with the PIT: %llu PIT clocks = %llu us by the PIT, %llu us by the PV clock "
           "(within 1%%)",
           (unsigned long long)pit_clocks, (unsigned long long)(pit_ns / 1000),
           (unsigned long long)(pv_ns / 1000));
    return report_summary();
}
