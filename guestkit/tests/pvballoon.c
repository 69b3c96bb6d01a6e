/*
 * pvballoon: the balloon (include/hvkit/pv.h "The balloon") from the
 * guest's side.  The guest reads the target hv sets (hv's balloon= option,
 * hvrun --balloon), gives pages back from 8 MiB up until it has that many
 * (or, with no target below its RAM, gives 4 MiB back and takes them back
 * again), checks the count hv answers after every list, takes a page back
 * and finds it zeroed, and tries the hostile lists (frames outside RAM or
 * just past it, a page twice, a page not given, bad counts, a list outside
 * RAM): each refused with nothing changed.
 *
 * Arguments: touch -- at the end, read a page given back: hv must end the
 * guest as crashed, naming the page (tests/integration/pv.sh).
 * Skipped outside hv.
 */
#include "guestkit/guestkit.h"
#include "guestkit/parse.h"
#include "guestkit/pv.h"

#define FIRST_FRAME (8u << 20 >> 12) /* pages are given from 8 MiB up */
#define BATCH       HVKIT_BALLOON_BATCH

static uint64_t list[BATCH];

static const char *const tests[] = {"target", "given back", "taken back zeroed", "hostile lists"};

/* Give (or take) frames [first, first + n) in lists of BATCH; the count hv
 * answers after the last list, or the first error. */
static long frames_op(unsigned call, uint64_t first, uint64_t n, bool *counts_ok, long *expect)
{
    long rc = 0;
    for (uint64_t done = 0; done < n;) {
        uint64_t k = n - done < BATCH ? n - done : BATCH;
        for (uint64_t i = 0; i < k; i++)
            list[i] = first + done + i;
        rc = pv_call(call, (uintptr_t)list, k, 0);
        if (rc < 0)
            return rc;
        *expect += call == HC_BALLOON_RELEASE ? -(long)k : (long)k;
        if (rc != *expect)
            *counts_ok = false;
        done += k;
    }
    return rc;
}

static void hostile(long *pages, long ram)
{
    uint64_t given = FIRST_FRAME; /* given back by now */
    struct {
        unsigned call;
        uint64_t a, n;
        uint64_t frames[3];
        long want;
        const char *what;
    } cases[] = {
        {HC_BALLOON_RELEASE, 0, 1, {1ull << 40}, HC_EINVAL, "a frame far outside RAM"},
        {HC_BALLOON_RELEASE, 0, 1, {(uint64_t)ram}, HC_EINVAL, "the first frame past RAM"},
        {HC_BALLOON_RELEASE, 0, 2, {given - 1, given - 1}, HC_EINVAL, "one frame twice"},
        {HC_BALLOON_RELEASE, 0, 1, {given}, HC_EINVAL, "a frame already given"},
        {HC_BALLOON_RECLAIM, 0, 1, {given - 1}, HC_EINVAL, "taking a frame never given"},
        {HC_BALLOON_RECLAIM, 0, 2, {given, given}, HC_EINVAL, "taking one frame twice"},
        {HC_BALLOON_RELEASE, 0, 0, {0}, HC_EINVAL, "count 0"},
        {HC_BALLOON_RELEASE, 0, BATCH + 1, {0}, HC_EINVAL, "count 513"},
        {HC_BALLOON_RELEASE, 0xfff00000000ull, 1, {0}, HC_EFAULT, "a list outside RAM"},
    };
    unsigned ok = 0, n = sizeof(cases) / sizeof(cases[0]);
    for (unsigned i = 0; i < n; i++) {
        memcpy(list, cases[i].frames, sizeof(cases[i].frames));
        uint64_t at = cases[i].a ? cases[i].a : (uintptr_t)list;
        long rc = pv_call(cases[i].call, at, cases[i].n, 0);
        if (rc == cases[i].want)
            ok++;
        else
            report_info("%s: %ld, want %ld", cases[i].what, rc, cases[i].want);
    }
    /* Nothing changed: one more page goes and comes back with the count
     * moving by one from where it was. */
    list[0] = FIRST_FRAME - 1;
    long a = pv_call(HC_BALLOON_RELEASE, (uintptr_t)list, 1, 0);
    long b = pv_call(HC_BALLOON_RECLAIM, (uintptr_t)list, 1, 0);
    report(ok == n && a == *pages - 1 && b == *pages,
           "hostile lists: %u of %u refused, the count unchanged (%ld, %ld)", ok, n, a, b);
}

int main(int argc, char **argv)
{
    if (!pv_available()) {
        report_skip_all(tests, sizeof(tests) / sizeof(tests[0]),
                        "not under hvkit with HVKIT_FEATURE_PV");
        return report_summary();
    }
    pv_hcpage_init();
    long target = pv_call(HC_BALLOON_TARGET, 0, 0, 0);
    /* The RAM in pages: give one page back and count. */
    list[0] = FIRST_FRAME - 2;
    long ram = pv_call(HC_BALLOON_RELEASE, (uintptr_t)list, 1, 0) + 1;
    pv_call(HC_BALLOON_RECLAIM, (uintptr_t)list, 1, 0);
    report(target > 0 && ram > 0 && target <= ram, "target: %ld of %ld pages", target, ram);

    /* A pattern in the first page to give, to see it zeroed later. */
    volatile uint64_t *first = (volatile uint64_t *)(uintptr_t)((uint64_t)FIRST_FRAME << 12);
    first[0] = 0x0123456789abcdefull;
    bool shrink = target < ram;
    uint64_t give = shrink ? (uint64_t)(ram - target) : 1024;
    long pages = ram;
    bool counts = true;
    long rc = frames_op(HC_BALLOON_RELEASE, FIRST_FRAME, give, &counts, &pages);
    report(rc >= 0 && counts && (!shrink || rc == target),
           "given back: %llu pages from %#x, hv counts %ld pages left%s", (unsigned long long)give,
           FIRST_FRAME << 12, rc, shrink ? ", the target" : "");

    /* The first page back: zeroed. */
    list[0] = FIRST_FRAME;
    long back = pv_call(HC_BALLOON_RECLAIM, (uintptr_t)list, 1, 0);
    report(back == pages + 1 && first[0] == 0, "taken back zeroed: %ld pages, first word %#llx",
           back, (unsigned long long)first[0]);
    pages = back;
    pv_call(HC_BALLOON_RELEASE, (uintptr_t)list, 1, 0);
    pages--;

    hostile(&pages, ram);

    /* Without a target below RAM: everything back again. */
    if (!shrink) {
        counts = true;
        rc = frames_op(HC_BALLOON_RECLAIM, FIRST_FRAME, give, &counts, &pages);
        report_info("all taken back: %ld pages", rc);
    }
    if (gk_arg_value(argc, argv, "touch")) {
        printf("pvballoon: touching page %#x, which was given back\n", FIRST_FRAME << 12);
        (void)first[1];
        printf("pvballoon: the touch went through\n");
        return 3;
    }
    return report_summary();
}
