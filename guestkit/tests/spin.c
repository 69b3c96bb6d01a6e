/*
 * spin: a guest that keeps the CPU without ever exiting, the case a
 * hypervisor's scheduler must preempt (hv's time slices, core/run.c).
 *
 *   spin ticks     The PIT rings at 100 Hz through the 8259 (IRQ 0) while
 *                  the guest spins with IF=1 for 500 ms of TSC time, then
 *                  counts the interrupts it took.  On a PC they come on time
 *                  (50, give or take a tick); under a hypervisor that looks
 *                  at its timers only when the guest exits, a spinning guest
 *                  would see none.  Passes with at least 10 (a loaded host
 *                  stalls any emulator, and stalled ticks merge) and at
 *                  most 52; the count itself is an info line.
 *   spin cli MS [EVERY]  Spins MS milliseconds with interrupts off (or on),
 *   spin sti MS [EVERY]  printing one line every EVERY ms (default 100),
 *                  then exits 0: another domain must run meanwhile
 *                  (tests/integration/sched.sh).
 *
 * Time is the TSC's, measured against the PIT's one-shot first (no exit in
 * the spin loop itself: RDTSC does not exit under hv).
 */
#include "guestkit/guestkit.h"
#include "guestkit/pic.h"

/* IRQ 0s taken so far. */
static volatile unsigned ticks;

static void on_timer(int irq)
{
    (void)irq;
    ticks++;
}

/* TSC ticks in one millisecond: the TSC's advance over a 50 ms one-shot of
 * the PIT, polled (each poll exits under hv; the spin loops below do not),
 * the median of three, as an emulator on a loaded host can stall any one
 * measurement. */
static uint64_t tsc_per_ms(void)
{
    uint64_t m[3];
    for (int i = 0; i < 3; i++) {
        pit_oneshot(PIT_HZ / 20);
        uint64_t t0 = rdtsc();
        while (!pit_out())
            ;
        m[i] = (rdtsc() - t0) / 50;
    }
    /* The median: the one that is neither the largest nor the smallest. */
    uint64_t lo = m[0] < m[1] ? m[0] : m[1], hi = m[0] < m[1] ? m[1] : m[0];
    return m[2] < lo ? lo : m[2] > hi ? hi : m[2];
}

/* Spin until the TSC reaches `end`, touching nothing but the TSC and a
 * local: a guest that never exits on its own. */
static void spin_until(uint64_t end)
{
    while (rdtsc() < end)
        __asm__ volatile("" ::: "memory");
}

/* spin ticks: the timer while spinning with IF=1. */
static int ticks_on_time(void)
{
    uint64_t per_ms = tsc_per_ms();
    set_irq_handler(0, on_timer);
    pic_init();
    pic_unmask(0);
    pit_periodic(PIT_HZ / 100);
    sti();
    /* Start at a tick, so that the 500 ms hold a whole number of periods. */
    unsigned first = ticks;
    while (ticks == first)
        ;
    unsigned start = ticks;
    uint64_t t0 = rdtsc();
    spin_until(t0 + 500 * per_ms);
    unsigned got = ticks - start;
    report_info("TSC: %llu ticks per ms", (unsigned long long)per_ms);
    cli();
    pit_stop();
    /* On time: 50, one more or less at the ends.  But an emulator on a
     * loaded host stalls, plain QEMU as well, and ticks it could not
     * deliver meanwhile merge (several missed periods make one interrupt),
     * so the bound is generous below: at least 10.  A guest whose timer is
     * looked at only when it exits gets none while it spins (at most the
     * one pending at its first exit afterwards). */
    report(got >= 10 && got <= 52,
           "IRQ 0 while spinning with IF=1: 10 to 52 ticks in 500 ms at 100 Hz (50 on time)");
    return report_summary();
}

/* spin cli|sti MS [EVERY]: keep the CPU for MS ms, with a line every
 * `every` ms. */
static int hog(bool interrupts, unsigned ms, unsigned every)
{
    uint64_t per_ms = tsc_per_ms();
    /* No interrupt source: the PIT stopped, every IRQ masked (the BIOS's
     * 18.2 Hz tick would otherwise find no handler). */
    pit_stop();
    pic_init();
    if (interrupts)
        sti();
    else
        cli();
    uint64_t t = rdtsc();
    for (unsigned done = 0; done < ms;) {
        unsigned step = ms - done < every ? ms - done : every;
        t += step * per_ms;
        spin_until(t);
        done += step;
        /* The UART's port I/O exits, but only between the spins. */
        printf("spin: %u ms with IF=%d\n", done, interrupts);
    }
    cli();
    printf("spun %u ms\n", ms);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "ticks") == 0)
        return ticks_on_time();
    if ((argc == 3 || argc == 4) && (strcmp(argv[1], "cli") == 0 || strcmp(argv[1], "sti") == 0)) {
        unsigned every = argc == 4 ? (unsigned)kstrtoull(argv[3], NULL, 10) : 100;
        return hog(argv[1][0] == 's', (unsigned)kstrtoull(argv[2], NULL, 10), every ? every : 100);
    }
    printf("usage: spin ticks | spin cli|sti MS [EVERY]\n");
    return 2;
}
