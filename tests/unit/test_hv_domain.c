/*
 * Unit tests for hv/core/domain.c: a new domain has its console and exit
 * port on its own port bus, vCPUs attach to it and point back, and the
 * run state changes as domain.h promises: the first end of a domain is the
 * one kept, with its code or its formatted reason.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/domain.h"
#include "hvkit/abi.h"
#include "check_main.h"

/* The lines COM1 passed on, with the domain each came from. */
static char lines[4][64];
static const void *line_ctx[4];
static int nlines;

static void line_out(void *ctx, const char *s, size_t len)
{
    if (nlines < 4) {
        memcpy(lines[nlines], s, len < 63 ? len : 63);
        lines[nlines][len < 63 ? len : 63] = '\0';
        line_ctx[nlines] = ctx;
    }
    nlines++;
}

/* Two domains, to show that nothing is shared between them. */
static struct domain a, b;

static void setup(void)
{
    nlines = 0;
    domain_init(&a, NULL, 0, NULL, line_out);
    domain_init(&b, NULL, 1, NULL, line_out);
}

START_TEST(new_domain_is_created_and_empty)
{
    ck_assert_int_eq(a.state, DOMAIN_CREATED);
    ck_assert_uint_eq(a.id, 0);
    ck_assert_uint_eq(b.id, 1);
    ck_assert_uint_eq(a.nr_vcpus, 0);
    ck_assert_uint_eq(a.stats.total, 0);
    ck_assert_uint_eq(a.mmio.ndev, 0);
    ck_assert_ptr_null(a.mmio.head);
    ck_assert(!domain_running(&a));
    ck_assert(!domain_stopped(&a));
}
END_TEST

START_TEST(console_and_exit_port_are_per_domain)
{
    /* "hi\n" to domain a's COM1 arrives as one line from domain a. */
    iobus_out(&a.io, HVKIT_PORT_COM1, 1, 'h');
    iobus_out(&a.io, HVKIT_PORT_COM1, 1, 'i');
    iobus_out(&a.io, HVKIT_PORT_COM1, 1, '\n');
    ck_assert_int_eq(nlines, 1);
    ck_assert_str_eq(lines[0], "hi");
    ck_assert_ptr_eq(line_ctx[0], &a);
    /* Domain b's exit port is its own: a's stays untouched. */
    iobus_out(&b.io, HVKIT_PORT_DEBUG_EXIT, 4, 7);
    ck_assert(b.dbg_exit.requested);
    ck_assert_uint_eq(b.dbg_exit.code, 7);
    ck_assert(!a.dbg_exit.requested);
}
END_TEST

START_TEST(vcpus_attach_and_point_back)
{
    static struct vcpu v[DOMAIN_MAX_VCPUS + 1];
    for (unsigned i = 0; i < DOMAIN_MAX_VCPUS; i++) {
        ck_assert_int_eq(domain_add_vcpu(&a, &v[i]), 0);
        ck_assert_ptr_eq(v[i].dom, &a);
        ck_assert_uint_eq(v[i].id, i);
        ck_assert_ptr_eq(a.vcpu[i], &v[i]);
    }
    /* One too many is refused and left alone. */
    v[DOMAIN_MAX_VCPUS].dom = NULL;
    ck_assert_int_eq(domain_add_vcpu(&a, &v[DOMAIN_MAX_VCPUS]), -1);
    ck_assert_ptr_null(v[DOMAIN_MAX_VCPUS].dom);
    ck_assert_uint_eq(a.nr_vcpus, DOMAIN_MAX_VCPUS);
}
END_TEST

START_TEST(shutdown_keeps_code_and_wins)
{
    a.state = DOMAIN_RUNNING;
    domain_shutdown(&a, 42);
    ck_assert_int_eq(a.state, DOMAIN_SHUTDOWN);
    ck_assert_uint_eq(a.exit_code, 42);
    ck_assert(domain_stopped(&a) && !domain_running(&a));
    /* A later crash or second shutdown does not rewrite history. */
    domain_crash(&a, "late %d", 1);
    domain_shutdown(&a, 3);
    ck_assert_int_eq(a.state, DOMAIN_SHUTDOWN);
    ck_assert_uint_eq(a.exit_code, 42);
    ck_assert_str_eq(a.why, "");
    /* The other domain runs on. */
    ck_assert_int_eq(b.state, DOMAIN_CREATED);
}
END_TEST

START_TEST(crash_formats_reason_and_wins)
{
    a.state = DOMAIN_RUNNING;
    domain_crash(&a, "read from guest-physical %#llx", 0xfee00000ull);
    ck_assert_int_eq(a.state, DOMAIN_CRASHED);
    ck_assert_str_eq(a.why, "read from guest-physical 0xfee00000");
    domain_fail(&a, "later");
    domain_shutdown(&a, 1);
    ck_assert_int_eq(a.state, DOMAIN_CRASHED);
    ck_assert_str_eq(a.why, "read from guest-physical 0xfee00000");
}
END_TEST

START_TEST(fail_and_long_reason_truncated)
{
    char big[400];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    domain_fail(&b, "%s", big);
    ck_assert_int_eq(b.state, DOMAIN_FAILED);
    /* Cut to the buffer, still a string. */
    ck_assert_uint_eq(strlen(b.why), DOMAIN_WHY_LEN - 1);
}
END_TEST

static uint64_t zero_read(void *ctx, uint64_t off, uint8_t size)
{
    (void)ctx;
    (void)off;
    (void)size;
    return 0;
}

static void no_write(void *ctx, uint64_t off, uint8_t size, uint64_t val)
{
    (void)ctx;
    (void)off;
    (void)size;
    (void)val;
}

START_TEST(mmio_devices_go_into_map_and_bus)
{
    char err[160];
    ck_assert_int_eq(memmap_pc(&a.map, 64ull << 20, false, err, sizeof(err)), 0);
    struct mmio_device lapic = {.name = "local APIC",
                                .base = 0xfee00000,
                                .size = 0x1000,
                                .read = zero_read,
                                .write = no_write};
    ck_assert_int_eq(domain_add_mmio(&a, &lapic, err, sizeof(err)), 0);
    /* Both know it: the map names it as the device's MMIO, the bus finds it. */
    const struct mem_range *r = memmap_find(&a.map, 0xfee00fff);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->kind, MEM_MMIO);
    ck_assert_str_eq(r->name, "local APIC");
    ck_assert_ptr_eq(r->owner, &lapic);
    ck_assert_ptr_eq(mmio_find(&a.mmio, 0xfee00800), &lapic);
    /* Over RAM: the map refuses, and the bus is left as it was. */
    struct mmio_device bad = {
        .name = "bad", .base = 0x100000, .size = 0x1000, .read = zero_read, .write = no_write};
    ck_assert_int_eq(domain_add_mmio(&a, &bad, err, sizeof(err)), -1);
    ck_assert_ptr_null(mmio_find(&a.mmio, 0x100000));
    ck_assert_uint_eq(a.mmio.ndev, 1);
    /* Over another device: the bus refuses, the map is untouched. */
    struct mmio_device twin = lapic;
    unsigned n = a.map.n;
    ck_assert_int_eq(domain_add_mmio(&a, &twin, err, sizeof(err)), -1);
    ck_assert(strstr(err, "another device") != NULL);
    ck_assert_uint_eq(a.map.n, n);
}
END_TEST

START_TEST(state_names)
{
    ck_assert_str_eq(domain_state_name(DOMAIN_CREATED), "created");
    ck_assert_str_eq(domain_state_name(DOMAIN_RUNNING), "running");
    ck_assert_str_eq(domain_state_name(DOMAIN_PAUSED), "paused");
    ck_assert_str_eq(domain_state_name(DOMAIN_SHUTDOWN), "shut down");
    ck_assert_str_eq(domain_state_name(DOMAIN_CRASHED), "crashed");
    ck_assert_str_eq(domain_state_name(DOMAIN_FAILED), "failed");
    ck_assert_str_eq(domain_state_name(DOMAIN_DYING), "dying");
    ck_assert_str_eq(domain_state_name((enum domain_state)99), "?");
}
END_TEST

/* Pause and unpause: QEMU's stop and cont, idempotent, refused once the
 * domain has ended (and then nothing changes). */
START_TEST(pause_and_unpause)
{
    /* A domain not started yet can be paused (xl create -p). */
    ck_assert_int_eq(domain_pause(&a), 0);
    ck_assert_int_eq(a.state, DOMAIN_PAUSED);
    ck_assert(!domain_running(&a) && !domain_stopped(&a));
    ck_assert_int_eq(domain_pause(&a), 0);
    ck_assert_int_eq(a.state, DOMAIN_PAUSED);
    ck_assert_int_eq(domain_unpause(&a), 0);
    ck_assert_int_eq(a.state, DOMAIN_RUNNING);
    ck_assert_int_eq(domain_unpause(&a), 0);
    ck_assert_int_eq(a.state, DOMAIN_RUNNING);
    /* A guest may end itself while paused?  No: it does not run.  But the
     * host may destroy a paused domain, and an ended one stays ended. */
    domain_shutdown(&a, 5);
    ck_assert_int_eq(domain_pause(&a), -1);
    ck_assert_int_eq(domain_unpause(&a), -1);
    ck_assert_int_eq(a.state, DOMAIN_SHUTDOWN);
    ck_assert_uint_eq(a.exit_code, 5);
}
END_TEST

/* The power button is an event for the guest, not an end: the domain runs
 * on until its guest powers off. */
START_TEST(powerdown_is_a_request)
{
    a.state = DOMAIN_RUNNING;
    ck_assert_int_eq(domain_request_powerdown(&a), 0);
    ck_assert(a.powerdown_pending);
    ck_assert_int_eq(a.state, DOMAIN_RUNNING);
    /* Pressed while paused: it waits for the guest. */
    b.state = DOMAIN_PAUSED;
    ck_assert_int_eq(domain_request_powerdown(&b), 0);
    ck_assert(b.powerdown_pending);
    /* Refused once ended. */
    a.powerdown_pending = false;
    domain_crash(&a, "x");
    ck_assert_int_eq(domain_request_powerdown(&a), -1);
    ck_assert(!a.powerdown_pending);
}
END_TEST

/* Reset and destroy only record work for the run loop; destroy wins over
 * a reset and keeps the reason of an earlier end. */
START_TEST(reset_and_destroy_are_requests)
{
    a.state = DOMAIN_RUNNING;
    ck_assert_int_eq(domain_reset(&a), 0);
    ck_assert_uint_eq(a.requests, DOMAIN_REQ_RESET);
    ck_assert_int_eq(a.state, DOMAIN_RUNNING);
    ck_assert_int_eq(domain_destroy(&a), 0);
    ck_assert_int_eq(a.state, DOMAIN_DYING);
    ck_assert_uint_eq(a.requests, DOMAIN_REQ_DESTROY);
    ck_assert_str_eq(a.why, "destroyed by the host");
    ck_assert(domain_stopped(&a));
    /* Dying is final. */
    ck_assert_int_eq(domain_destroy(&a), -1);
    ck_assert_int_eq(domain_reset(&a), -1);
    ck_assert_int_eq(domain_unpause(&a), -1);
    /* A crashed domain destroyed later keeps its crash's words. */
    b.state = DOMAIN_RUNNING;
    domain_crash(&b, "triple fault");
    ck_assert_int_eq(domain_reset(&b), 0);
    ck_assert_int_eq(domain_destroy(&b), 0);
    ck_assert_str_eq(b.why, "triple fault");
}
END_TEST

/* Each end picks its own action (xl.cfg's on_poweroff, on_reboot,
 * on_crash); hv's failure and a destroy always destroy. */
START_TEST(end_action_follows_the_end)
{
    a.on_poweroff = DOMAIN_ACTION_PRESERVE;
    a.on_reboot = DOMAIN_ACTION_RESTART;
    a.on_crash = DOMAIN_ACTION_PRESERVE;
    a.state = DOMAIN_RUNNING;
    ck_assert_int_eq(domain_reboot(&a), 0);
    ck_assert_int_eq(a.state, DOMAIN_SHUTDOWN);
    ck_assert_int_eq(a.shutdown_reason, DOMAIN_REBOOT);
    ck_assert_int_eq(domain_end_action(&a), DOMAIN_ACTION_RESTART);
    ck_assert_int_eq(domain_reboot(&a), -1);
    a.state = DOMAIN_RUNNING;
    domain_shutdown(&a, 0);
    ck_assert_int_eq(a.shutdown_reason, DOMAIN_POWEROFF);
    ck_assert_int_eq(domain_end_action(&a), DOMAIN_ACTION_PRESERVE);
    a.state = DOMAIN_RUNNING;
    domain_crash(&a, "x");
    ck_assert_int_eq(domain_end_action(&a), DOMAIN_ACTION_PRESERVE);
    a.state = DOMAIN_FAILED;
    ck_assert_int_eq(domain_end_action(&a), DOMAIN_ACTION_DESTROY);
    a.state = DOMAIN_DYING;
    ck_assert_int_eq(domain_end_action(&a), DOMAIN_ACTION_DESTROY);
}
END_TEST

/* The names front-ends show: Xen's (xl list's word and columns) and QMP's
 * RunState; "blocked" when every vCPU waits in HLT. */
START_TEST(xen_and_qmp_names)
{
    static struct vcpu v;
    char flags[7];
    domain_add_vcpu(&a, &v);
    struct {
        enum domain_state s;
        bool blocked;
        const char *xen, *cols, *qmp;
    } want[] = {
        {DOMAIN_CREATED, false, "paused", "--p---", "prelaunch"},
        {DOMAIN_RUNNING, false, "running", "r-----", "running"},
        {DOMAIN_RUNNING, true, "blocked", "-b----", "running"},
        {DOMAIN_PAUSED, true, "paused", "--p---", "paused"},
        {DOMAIN_SHUTDOWN, false, "shutdown", "---s--", "shutdown"},
        {DOMAIN_CRASHED, false, "crashed", "----c-", "guest-panicked"},
        {DOMAIN_FAILED, false, "crashed", "----c-", "internal-error"},
        {DOMAIN_DYING, false, "dying", "-----d", "shutdown"},
    };
    for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        a.state = want[i].s;
        v.blocked = want[i].blocked;
        ck_assert_str_eq(domain_xen_state(&a), want[i].xen);
        domain_xen_flags(&a, flags);
        ck_assert_str_eq(flags, want[i].cols);
        ck_assert_str_eq(domain_qmp_status(&a), want[i].qmp);
    }
}
END_TEST

/* Two vCPUs: an AP waiting for its SIPI or stopped counts as blocked
 * for Xen's state, and each vCPU's state has its name (core/smp.c). */
START_TEST(vcpu_states_with_an_ap)
{
    static struct vcpu bsp, ap;
    domain_add_vcpu(&a, &bsp);
    domain_add_vcpu(&a, &ap);
    a.state = DOMAIN_RUNNING;
    ap.mp_state = VCPU_MP_WAIT_SIPI;
    ck_assert_str_eq(vcpu_state_name(&ap), "wait-for-SIPI");
    ck_assert_str_eq(vcpu_state_name(&bsp), "running");
    ck_assert_str_eq(domain_xen_state(&a), "running");
    bsp.blocked = true;
    ck_assert_str_eq(vcpu_state_name(&bsp), "halted");
    ck_assert_str_eq(domain_xen_state(&a), "blocked");
    ap.mp_state = VCPU_MP_RUNNING;
    ck_assert_str_eq(domain_xen_state(&a), "running");
    ap.mp_state = VCPU_MP_STOPPED;
    ck_assert_str_eq(vcpu_state_name(&ap), "stopped");
    ck_assert_str_eq(domain_xen_state(&a), "blocked");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hv_domain");
    TCase *tc = tcase_create("domain");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, new_domain_is_created_and_empty);
    tcase_add_test(tc, console_and_exit_port_are_per_domain);
    tcase_add_test(tc, vcpus_attach_and_point_back);
    tcase_add_test(tc, shutdown_keeps_code_and_wins);
    tcase_add_test(tc, crash_formats_reason_and_wins);
    tcase_add_test(tc, fail_and_long_reason_truncated);
    tcase_add_test(tc, pause_and_unpause);
    tcase_add_test(tc, powerdown_is_a_request);
    tcase_add_test(tc, reset_and_destroy_are_requests);
    tcase_add_test(tc, end_action_follows_the_end);
    tcase_add_test(tc, xen_and_qmp_names);
    tcase_add_test(tc, mmio_devices_go_into_map_and_bus);
    tcase_add_test(tc, state_names);
    tcase_add_test(tc, vcpu_states_with_an_ap);
    suite_add_tcase(s, tc);
    return check_main(s);
}
