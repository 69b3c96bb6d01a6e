/*
 * counter: a guest that counts, printing "count N" every 20 ms of the
 * PIT's time, up to a limit (its argument, 150 by default), then exits 0.
 * The count lives in RAM and the loop's place in the guest's registers, so
 * a snapshot taken while it counts (savevm) and loaded later (loadvm) puts
 * it back exactly: it prints from the saved value on, as the snapshot
 * tests check (tests/integration/vmstate-hv.sh).  The same guest counts on
 * plain QEMU.
 *
 * The wait polls the PIT's channel 0 in one-shot mode (pit_oneshot,
 * pit_out), with interrupts off, so the guest needs nothing from hv but
 * port I/O.
 */
#include "guestkit/guestkit.h"
#include "guestkit/pic.h"

/* 20 ms of PIT input clocks (PIT_HZ / 50). */
#define PERIOD (PIT_HZ / 50)

/* In RAM, not only in a register: a restored snapshot must bring it back. */
static volatile unsigned long count;

int main(int argc, char **argv)
{
    unsigned long limit = 0;
    /* The limit in decimal; anything else is refused. */
    for (const char *p = argc > 1 ? argv[1] : "150"; *p; p++) {
        if (*p < '0' || *p > '9' || limit > 100000) {
            printf("counter: '%s' is not a count\n", argv[1]);
            return 2;
        }
        limit = limit * 10 + (unsigned long)(*p - '0');
    }
    pit_stop();
    for (count = 1; count <= limit; count++) {
        pit_oneshot(PERIOD);
        while (!pit_out())
            ;
        printf("count %lu\n", count);
    }
    return report_summary();
}
