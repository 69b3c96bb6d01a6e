/*
 * balloond: a guest whose balloon driver follows the host's target for as
 * long as it runs, as a Linux guest's balloon driver does -- the guest that
 * `xl mem-set` and `virsh setmem` act on (include/hvkit/pv.h "The
 * balloon").  It asks hv for the target (HC_BALLOON_TARGET, which also
 * tells hv a driver runs: query-balloon answers from then on), gives pages
 * back from 8 MiB up or takes them back until it has that many, prints
 *
 *   balloond: 16384 KiB
 *
 * each time it gets there, and asks again a moment later, for ever.  It
 * never gives back the first 8 MiB (its own code, stack and data are
 * there), so a target below that stops at 8 MiB.  Not in guests.list: a
 * guest that never ends is for the front-ends' tests.  Outside hv it says
 * so and ends.
 */
#include "guestkit/guestkit.h"
#include "guestkit/pv.h"

#define FIRST_FRAME (8u << 20 >> 12) /* pages are given from 8 MiB up */
#define BATCH       HVKIT_BALLOON_BATCH

static uint64_t list[BATCH];

/* Give back (or take back) the `n` frames from `first`, in lists of BATCH;
 * the pages the guest has after the last list, or hv's error. */
static long frames_op(unsigned call, uint64_t first, uint64_t n)
{
    long rc = 0;
    for (uint64_t done = 0; done < n && rc >= 0;) {
        uint64_t k = n - done < BATCH ? n - done : BATCH;
        for (uint64_t i = 0; i < k; i++)
            list[i] = first + done + i;
        rc = pv_call(call, (uintptr_t)list, k, 0);
        done += k;
    }
    return rc;
}

/* A moment between two looks at the target, in guest time: the target is
 * a hypercall away, and asking without a pause would keep hv busy. */
static void pause_a_while(void)
{
    for (volatile unsigned i = 0; i < 2000000; i++)
        __asm__ volatile("pause");
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (!pv_available() || !pv_hcpage_init()) {
        printf("balloond: not under hvkit with HVKIT_FEATURE_PV\n");
        return 0;
    }
    /* The RAM in pages: one page given back and taken back again tells. */
    list[0] = FIRST_FRAME;
    long ram = pv_call(HC_BALLOON_RELEASE, (uintptr_t)list, 1, 0) + 1;
    pv_call(HC_BALLOON_RECLAIM, (uintptr_t)list, 1, 0);
    if (ram <= FIRST_FRAME) {
        printf("balloond: %ld pages of RAM, nothing above 8 MiB to give\n", ram);
        return 1;
    }
    /* Frames [FIRST_FRAME, FIRST_FRAME + given) are the ones given back. */
    uint64_t given = 0;
    long shown = -1;
    for (;;) {
        long target = pv_call(HC_BALLOON_TARGET, 0, 0, 0);
        if (target < FIRST_FRAME)
            target = FIRST_FRAME;
        long have = ram - (long)given, rc = have;
        if (target < have) {
            uint64_t n = (uint64_t)(have - target);
            rc = frames_op(HC_BALLOON_RELEASE, FIRST_FRAME + given, n);
            given += n;
        } else if (target > have) {
            uint64_t n = (uint64_t)(target - have);
            rc = frames_op(HC_BALLOON_RECLAIM, FIRST_FRAME + given - n, n);
            given -= n;
        }
        if (rc < 0) {
            printf("balloond: hv refused a list (%ld)\n", rc);
            return 1;
        }
        if (rc != shown) {
            printf("balloond: %ld KiB\n", rc * 4);
            shown = rc;
        }
        pause_a_while();
    }
}
