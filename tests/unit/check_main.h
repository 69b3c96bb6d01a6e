/*
 * check_main.h - the end of every Check unit-test program's main().
 *
 * Each tests/unit/test_*.c builds its Suite and hands it to check_main(),
 * so that how the tests run and what the program returns are written once.
 */
#ifndef TESTS_UNIT_CHECK_MAIN_H
#define TESTS_UNIT_CHECK_MAIN_H

#include <check.h>
#include <stdlib.h>

/*
 * Run every test case of `s` and return main()'s exit status: EXIT_SUCCESS
 * when all passed, EXIT_FAILURE otherwise.  CK_NORMAL prints Check's
 * summary line "NN%: Checks: C, Failures: F, Errors: E", which tests/run
 * counts, and one line per failed test.  The fork mode comes from CK_FORK
 * (tests/run sets it to "yes"), so a test that crashes is reported as an
 * error and does not take the other tests with it.
 */
static inline int check_main(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
