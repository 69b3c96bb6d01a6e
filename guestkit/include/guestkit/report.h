/*
 * Test verdicts in the style of kvm-unit-tests.  Every check prints one line
 * "PASS: ...", "FAIL: ..." or "SKIP: ..."; report_summary() prints
 * "SUMMARY: N tests, F unexpected failures, S skipped" and returns the code
 * the guest should exit with (0 when nothing failed, else 1).
 */
#ifndef GUESTKIT_REPORT_H
#define GUESTKIT_REPORT_H

#include <stdbool.h>

/* Print PASS or FAIL with the formatted description; returns cond so that a
 * test can stop early when a precondition failed. */
bool report(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print SKIP with the formatted reason (say honestly why). */
void report_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* SKIP each of the n tests `names` for the same reason `why` (a guest whose
 * machine cannot run any of them). */
void report_skip_all(const char *const *names, unsigned n, const char *why);
/* Print an indented note under the current test (not a verdict). */
void report_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print the SUMMARY line; returns 0 if no test failed, else 1. */
int report_summary(void);

#endif
