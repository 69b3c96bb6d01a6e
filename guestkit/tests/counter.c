/*
 * counter: a guest that counts, printing "count N" every 20 ms of the
 * PIT's time, up to a limit (its argument, 150 by default), then exits 0.
 * The count lives in RAM and the loop's place in the guest's registers, so
 * a snapshot taken while it counts (savevm) and loaded later (loadvm) puts
 * it back exactly: it prints from the saved value on, as the snapshot
 * tests check (tests/integration/vmstate-hv.sh).  The same guest counts on
 * plain QEMU.
 *
 * The wait polls the OUT pin of the PIT's channel 0 (pit_out), with
 * interrupts off, so the guest needs nothing from hv but port I/O.  The
 * channel is programmed once, before the first count, as a 20 ms square
 * wave (pit_square), and each count waits for one rising edge of OUT.
 * Programming it once is what makes the snapshot tests decisive: a
 * snapshot taken at any point after the first count holds a channel the
 * guest will never program again, so a load that leaves the PIT out
 * (labs/05-domains-and-the-monitor, exercise 2) makes the counter wait
 * for ever, wherever the snapshot fell.  (With a new one-shot before each
 * count, a snapshot taken while the guest printed a line would hide it:
 * the guest would program the PIT itself after the load.)
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
    pit_square(PERIOD);
    for (count = 1; count <= limit; count++) {
        /* The high half of the period, then the low half: OUT rises
         * again when the period ends.  A poll that comes late (a busy
         * host) at worst makes one count wait a period longer. */
        while (pit_out())
            ;
        while (!pit_out())
            ;
        printf("count %lu\n", count);
    }
    return report_summary();
}
