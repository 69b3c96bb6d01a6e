/*
 * Verdict lines and the summary (the format kvm-unit-tests uses, which the
 * integration tests and tests/run count with grep).
 */
#include <stdarg.h>

#include "guestkit/console.h"
#include "guestkit/report.h"

static unsigned tests, failures, skipped;

/* One verdict line: the label, the formatted text, a newline. */
static void report_line(const char *label, const char *fmt, va_list ap)
{
    printf("%s: ", label);
    vprintf(fmt, ap);
    putchar('\n');
}

bool report(bool cond, const char *fmt, ...)
{
    va_list ap;
    tests++;
    if (!cond)
        failures++;
    va_start(ap, fmt);
    report_line(cond ? "PASS" : "FAIL", fmt, ap);
    va_end(ap);
    return cond;
}

void report_skip(const char *fmt, ...)
{
    va_list ap;
    tests++;
    skipped++;
    va_start(ap, fmt);
    report_line("SKIP", fmt, ap);
    va_end(ap);
}

void report_skip_all(const char *const *names, unsigned n, const char *why)
{
    for (unsigned i = 0; i < n; i++)
        report_skip("%s: %s", names[i], why);
}

void report_info(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("    ");
    vprintf(fmt, ap);
    putchar('\n');
    va_end(ap);
}

int report_summary(void)
{
    printf("SUMMARY: %u tests, %u unexpected failures, %u skipped\n", tests, failures, skipped);
    return failures == 0 ? 0 : 1;
}
