/*
 * stats.c - exit statistics and the names of the core exit reasons.
 *
 * Counting exits per reason is the first tool for understanding what a
 * guest costs under virtualization: every exit is a world switch (hundreds
 * to thousands of cycles on hardware, far more nested in an emulator), so a
 * guest that prints one character at a time through a polled UART shows up
 * at once as thousands of IO exits.  hv prints the table when the guest
 * ends; the names are the ones the trace uses.
 */
#include "klib.h"

#include "stats.h"

/* Names indexed by enum exit_reason (exit.h). */
/* Designated initializers keep each name next to its reason whatever the
 * enum's order; a reason added to exit.h without a name here reads "?". */
static const char *const reason_names[EXIT_REASON_COUNT] = {
    [EXIT_CPUID] = "CPUID",
    [EXIT_IO] = "IO",
    [EXIT_HLT] = "HLT",
    [EXIT_MSR_READ] = "MSR_READ",
    [EXIT_MSR_WRITE] = "MSR_WRITE",
    [EXIT_HYPERCALL] = "HYPERCALL",
    [EXIT_SHUTDOWN] = "SHUTDOWN",
    [EXIT_MEM_VIOLATION] = "MEM_VIOLATION",
    [EXIT_EXCEPTION] = "EXCEPTION",
    [EXIT_INTERRUPT] = "INTERRUPT",
    [EXIT_ENTRY_FAILED] = "ENTRY_FAILED",
    [EXIT_UNHANDLED] = "UNHANDLED",
    [EXIT_VIRT_INSN] = "VIRT_INSN",
    [EXIT_IRQ_WINDOW] = "IRQ_WINDOW",
    [EXIT_NMI_WINDOW] = "NMI_WINDOW",
    [EXIT_CR_WRITE] = "CR_WRITE",
    [EXIT_XSETBV] = "XSETBV",
};

/* The short name of a core exit reason, for the trace and the statistics;
 * never NULL, so callers can print it unchecked. */
const char *exit_reason_name(enum exit_reason r)
{
    /* The cast catches negative values of a corrupted enum as well. */
    if ((unsigned)r >= EXIT_REASON_COUNT || !reason_names[r])
        return "?";
    return reason_names[r];
}

/* The table: a title, then one line per reason that occurred, in the
 * order of enum exit_reason, then the total.  Lines go to a callback so
 * that hv can prefix them with "[hv] " and a unit test can collect them. */
void stats_report(const struct exit_stats *s, stats_line_fn line, void *ctx)
{
    /* One line: an 18-column name and a 20-digit count fit easily. */
    char buf[80];
    line(ctx, "exit statistics (reason, count):");
    for (unsigned r = 0; r < EXIT_REASON_COUNT; r++) {
        /* Reasons that never happened would only add noise. */
        if (!s->count[r])
            continue;
        /* The name left-aligned in a column, so the counts line up. */
        ksnprintf(buf, sizeof(buf), "  %-18s %llu", reason_names[r],
                  (unsigned long long)s->count[r]);
        line(ctx, buf);
    }
    /* The total equals the sum of the lines above, and the guest's
     * HC_EXIT_COUNT at the moment it ended. */
    ksnprintf(buf, sizeof(buf), "  %-18s %llu", "total", (unsigned long long)s->total);
    line(ctx, buf);
}
