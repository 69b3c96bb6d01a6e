/*
 * ring3: code in ring 3 (a guest's user program) cannot use hvkit's
 * hypercalls, which are for the guest's kernel (include/hvkit/abi.h): every
 * call from ring 3 returns HC_EPERM and does nothing, HC_EXIT included, and
 * ring 0 can still call afterwards.  The way into ring 3 and back
 * (run_in_ring3(), runtime/user.c) is tested on plain QEMU too; the
 * hypercalls are skipped there, where nobody answers them.
 */
#include "guestkit/guestkit.h"

/* What the ring-3 functions leave for main() to report: they cannot print
 * (port I/O is privileged). */
static unsigned cpl_seen = 99;
static long results[6];

/* The calls ring 3 tries, and the arguments that would make each one do
 * something visible if it were accepted. */
static const char leak[] = "ring3: this line must not appear (HC_PUTS from ring 3)";
static const struct {
    const char *name;
    unsigned long nr, a1, a2;
} calls[6] = {
    {"HC_VERSION", HC_VERSION, 0, 0},
    {"HC_ECHO", HC_ECHO, 1, 2},
    {"HC_PUTS", HC_PUTS, 0, sizeof(leak) - 1},
    {"HC_EXIT_COUNT", HC_EXIT_COUNT, 0, 0},
    /* Accepted, it would end the guest with status 42 instead of 0. */
    {"HC_EXIT", HC_EXIT, 42, 0},
    {"an unknown call (0x7fff)", 0x7fff, 0, 0},
};

static void note_cpl(void *arg)
{
    (void)arg;
    cpl_seen = current_cpl();
}

static void do_hlt(void *arg)
{
    (void)arg;
    /* HLT needs CPL 0: #GP(0) in ring 3 (SDM vol 2A "HLT"). */
    __asm__ volatile("hlt");
}

static void do_hypercalls(void *arg)
{
    (void)arg;
    for (int i = 0; i < 6; i++) {
        unsigned long a1 = calls[i].nr == HC_PUTS ? (uintptr_t)leak : calls[i].a1;
        results[i] = hypercall(calls[i].nr, a1, calls[i].a2, 0);
    }
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    struct exception_info info;

    bool back = run_in_ring3(note_cpl, NULL, &info);
    report(back && cpl_seen == 3, "enter ring 3: a function runs at CPL 3 and returns (CPL %u)",
           cpl_seen);
    report(current_cpl() == 0, "back in ring 0: CPL %u after the return", current_cpl());

    back = run_in_ring3(do_hlt, NULL, &info);
    report(!back && info.vector == GP_VECTOR && info.error_code == 0,
           "HLT in ring 3: raises #GP(0) (got %s, error code %#llx)",
           back ? "no exception" : exception_mnemonic(info.vector),
           (unsigned long long)info.error_code);

    if (!under_hvkit()) {
        for (int i = 0; i < 6; i++)
            report_skip("%s from ring 3: not under hvkit", calls[i].name);
        report_skip("hypercalls in ring 3: not under hvkit");
        report_skip("HC_ECHO from ring 0 afterwards: not under hvkit");
        return report_summary();
    }

    back = run_in_ring3(do_hypercalls, NULL, &info);
    report(back, "hypercalls in ring 3: return to the caller (%s)",
           back ? "they did" : exception_mnemonic(info.vector));
    for (int i = 0; i < 6; i++)
        report(results[i] == HC_EPERM, "%s from ring 3: HC_EPERM (got %ld)", calls[i].name,
               results[i]);

    long e = hypercall(HC_ECHO, 1, 2, 3);
    report(e == 6, "HC_ECHO from ring 0 afterwards: 1 + 2 + 3 (got %ld)", e);
    return report_summary();
}
