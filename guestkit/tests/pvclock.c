/*
 * pvclock: the PV clock (include/hvkit/pv.h "The PV clock") read the way a
 * guest kernel reads it: RDTSC and the published scale, no exit.
 *   - registration: WRMSR, a published structure (even version, a scale
 *     with its top bit set);
 *   - no exits: 100000 reads cost no VM exit (HC_EXIT_COUNT around them);
 *   - monotonic: no read is earlier than the one before;
 *   - agrees with the PIT: over half a second, the PIT's channel 0 (rate
 *     generator, read through the latch command) counts a span that lies
 *     within 1% of the PV clock's readings around its first and last
 *     read (a PIT read costs exits; the clock reads bracket it).
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

/* Channel 0's count, with the PV clock just before and just after the
 * read in *before and *after: the latch happened between the two. */
static uint16_t pit_read(uint64_t *before, uint64_t *after)
{
    *before = pv_clock_ns();
    outb(PIT_CMD, PIT_CH0_LATCH);
    uint16_t lo = inb(PIT_CH0);
    uint16_t hi = inb(PIT_CH0);
    *after = pv_clock_ns();
    return (uint16_t)(lo | hi << 8);
}

/* A read whose bracket is narrower than TIGHT_NS, tried again while the
 * outer machine stalled in the middle of it (a busy host deschedules the
 * emulator for milliseconds; the bracket then says so, and the read is
 * not trusted).  After TRIES the last one is taken as it is. */
#define TIGHT_NS 1000000ull
/* 65536 PIT clocks, rounded down: reads further apart may miss a wrap. */
#define PIT_PERIOD_NS 54000000ull
#define TRIES         1000
static uint16_t pit_read_tight(uint64_t *before, uint64_t *after)
{
    uint16_t c = pit_read(before, after);
    for (int i = 0; i<TRIES && * after - *before> TIGHT_NS; i++)
        c = pit_read(before, after);
    return c;
}

/* PIT clocks over SPAN_NS, and the PV clock's inner and outer distance of
 * the first and the last read's brackets: the PIT's span lies between
 * them, and a stall of the outer machine widens a bracket instead of
 * shifting a time.  False when two reads were so far apart that the
 * counter may have gone round more than once between them (a wrap
 * missed); the caller measures again. */
static bool pit_measure(uint64_t *clocks, uint64_t *inner, uint64_t *outer)
{
    uint64_t b0, a0, b1, a1, wraps = 0;
    uint16_t c0 = pit_read_tight(&b0, &a0), last = c0, count;
    uint64_t prev = b0;
    do {
        count = pit_read(&b1, &a1);
        if (a1 - prev >= PIT_PERIOD_NS)
            return false;
        prev = b1;
        /* Counting down: a larger value means it went through 0. */
        if (count > last)
            wraps++;
        last = count;
    } while (b1 - a0 < SPAN_NS);
    uint16_t c1 = pit_read_tight(&b1, &a1);
    if (a1 - prev >= PIT_PERIOD_NS)
        return false;
    if (c1 > last)
        wraps++;
    *clocks = wraps * 65536u + c0 - c1;
    *inner = b1 - a0;
    *outer = a1 - b0;
    return true;
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
     * (mode 2), read through the latch command (pit_measure). */
    outb(PIT_CMD, PIT_CH0_LOHI_MODE2);
    outb(PIT_CH0, 0);
    outb(PIT_CH0, 0);
    uint64_t pit_clocks = 0, inner = 0, outer = 0;
    int tries = 0;
    while (tries++ < 5 && !pit_measure(&pit_clocks, &inner, &outer))
        report_info("a PIT read took longer than a PIT period: measured again");
    uint64_t pit_ns = pit_clocks * 1000000000ull / PIT_HZ;
    report(pit_ns * 100 >= inner * 99 && pit_ns * 100 <= outer * 101,
           "agrees with the PIT: %llu PIT clocks = %llu us by the PIT, %llu..%llu us by the PV "
           "clock (within 1%%)",
           (unsigned long long)pit_clocks, (unsigned long long)(pit_ns / 1000),
           (unsigned long long)(inner / 1000), (unsigned long long)(outer / 1000));
    return report_summary();
}
