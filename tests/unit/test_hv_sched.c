/*
 * Unit tests for hv/core/sched.c: round robin picks the next runnable vCPU
 * after the one that ran last, going round, skipping vCPUs that wait in
 * HLT and those of paused or ended domains, and keeps a vCPU alone on the
 * CPU; the earliest of the deadlines wins, "never" loses to any; CPU time
 * converts to nanoseconds without overflow.
 */
#include <check.h>
#include <stdint.h>

#include "check_main.h"
#include "core/sched.h"

/* Three domains with one vCPU each, as hv makes them. */
static struct domain d[3];
static struct vcpu v[3];
static struct vcpu *all[3] = {&v[0], &v[1], &v[2]};

static void setup(void)
{
    for (unsigned i = 0; i < 3; i++) {
        domain_init(&d[i], NULL, i, NULL, NULL);
        v[i] = (struct vcpu){0};
        domain_add_vcpu(&d[i], &v[i]);
        d[i].state = DOMAIN_RUNNING;
    }
}

START_TEST(round_robin_goes_round)
{
    /* From nothing: the first; then each in turn, and back to the first. */
    ck_assert_int_eq(sched_pick(all, 3, -1), 0);
    ck_assert_int_eq(sched_pick(all, 3, 0), 1);
    ck_assert_int_eq(sched_pick(all, 3, 1), 2);
    ck_assert_int_eq(sched_pick(all, 3, 2), 0);
}
END_TEST

START_TEST(blocked_paused_and_ended_are_skipped)
{
    /* vCPU 1 waits in HLT, domain 2 is paused: after 0 comes 0 again. */
    v[1].blocked = true;
    ck_assert_int_eq(domain_pause(&d[2]), 0);
    ck_assert_int_eq(sched_pick(all, 3, 0), 0);
    ck_assert_int_eq(sched_pick(all, 3, 2), 0);
    /* Domain 0 crashes: nobody can run. */
    domain_crash(&d[0], "x");
    ck_assert_int_eq(sched_pick(all, 3, 0), -1);
    /* vCPU 1 wakes: it is the one. */
    v[1].blocked = false;
    ck_assert_int_eq(sched_pick(all, 3, 1), 1);
    ck_assert_int_eq(sched_pick(all, 3, -1), 1);
    /* Unpaused, domain 2 follows 1. */
    ck_assert_int_eq(domain_unpause(&d[2]), 0);
    ck_assert_int_eq(sched_pick(all, 3, 1), 2);
    /* No vCPU at all. */
    ck_assert_int_eq(sched_pick(all, 0, -1), -1);
}
END_TEST

START_TEST(earliest_deadline)
{
    ck_assert_uint_eq(sched_earliest(5, 3, 9), 3);
    ck_assert_uint_eq(sched_earliest(UINT64_MAX, 7, UINT64_MAX), 7);
    ck_assert_uint_eq(sched_earliest(UINT64_MAX, UINT64_MAX, UINT64_MAX), UINT64_MAX);
}
END_TEST

START_TEST(ticks_to_ns)
{
    /* 2.5 GHz: 2.5e9 ticks are one second. */
    ck_assert_uint_eq(sched_ticks_to_ns(2500000000ull, 2500000000ull), 1000000000ull);
    ck_assert_uint_eq(sched_ticks_to_ns(5, 1000000000ull), 5);
    /* A day at 3 GHz: ticks * 1e9 alone would overflow 64 bits. */
    uint64_t day = 86400ull * 3000000000ull;
    ck_assert_uint_eq(sched_ticks_to_ns(day, 3000000000ull), 86400ull * 1000000000ull);
    /* No clock measured: 0, not a division by zero. */
    ck_assert_uint_eq(sched_ticks_to_ns(123, 0), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hv_sched");
    TCase *tc = tcase_create("sched");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, round_robin_goes_round);
    tcase_add_test(tc, blocked_paused_and_ended_are_skipped);
    tcase_add_test(tc, earliest_deadline);
    tcase_add_test(tc, ticks_to_ns);
    suite_add_tcase(s, tc);
    return check_main(s);
}
