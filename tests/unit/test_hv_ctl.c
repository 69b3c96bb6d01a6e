/*
 * test_hv_ctl.c - hv's control-protocol dispatcher and commands
 * (hv/core/ctl*.c), hosted: request lines in, reply lines out, against two
 * domains with real run states (domain.c) and a vCPU with guest RAM.
 *
 * The replies are compared whole, as a front-end reads them: the error
 * classes and words of docs/control-protocol.md, the id given back as it
 * was sent, nothing changed by a refused request.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/ctl.h"
#include "core/hv.h"
#include "core/vdev.h"
#include "check_main.h"

#define RAM (1u << 20)

static struct host h;
static struct domain d0, d1;
static struct vcpu v0, v1;
static char reply[16384];
static struct ctl_after after;

/* ctl_harness.c: host_load_vcpu() and a backend with nothing to load. */
extern const struct backend ctl_test_backend;

static void setup(void)
{
    memset(&h, 0, sizeof(h));
    h.be = &ctl_test_backend;
    domain_init(&d0, &h, 0, NULL, NULL);
    domain_init(&d1, &h, 1, NULL, NULL);
    h.domains = &d0;
    d0.next = &d1;
    h.nr_domains = 2;
    memset(&v0, 0, sizeof(v0));
    memset(&v1, 0, sizeof(v1));
    v0.loaded = v1.loaded = VCPU_STATE_ALL;
    domain_add_vcpu(&d0, &v0);
    domain_add_vcpu(&d1, &v1);
    d0.mem.size = d1.mem.size = RAM;
    d0.mem.host = calloc(1, RAM);
    d1.mem.host = calloc(1, RAM);
    d0.state = d1.state = DOMAIN_RUNNING;
}

static void teardown(void)
{
    free(d0.mem.host);
    free(d1.mem.host);
}

/* One request line; the reply as a string. */
static const char *req(const char *line)
{
    size_t n = ctl_handle(&h, line, strlen(line), reply, sizeof(reply), &after);
    ck_assert_uint_lt(n, sizeof(reply));
    reply[n] = 0;
    return reply;
}

START_TEST(version_and_ids)
{
    ck_assert_str_eq(req("{\"execute\": \"query-version\"}"),
                     "{\"return\": {\"hvkit\": {\"major\": 0, \"minor\": 1}, \"package\": \"hvkit "
                     "0.1\", \"protocol\": 1}}");
    /* Any JSON value is an id, given back as it was written. */
    ck_assert_str_eq(req("{\"id\": {\"a\": [1, \"x\\n\"]}, \"execute\": \"stop\"}"),
                     "{\"return\": {}, \"id\": {\"a\": [1, \"x\\n\"]}}");
    ck_assert_str_eq(req("{\"execute\": \"cont\", \"id\": 18446744073709551615}"),
                     "{\"return\": {}, \"id\": 18446744073709551615}");
}
END_TEST

START_TEST(malformed_requests_are_generic_errors)
{
    ck_assert_str_eq(req("{\"execute\": "),
                     "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error: "
                     "expected a value at the end of the text\"}}");
    ck_assert_str_eq(req("[1]"), "{\"error\": {\"class\": \"GenericError\", \"desc\": \"a request "
                                 "must be a JSON object, not array\"}}");
    ck_assert_str_eq(req("{\"id\": 3}"), "{\"error\": {\"class\": \"GenericError\", \"desc\": \"a "
                                         "request needs \\\"execute\\\" naming a command\"}, "
                                         "\"id\": 3}");
    ck_assert_str_eq(req("{\"execute\": 1, \"id\": 4}"),
                     "{\"error\": {\"class\": \"GenericError\", \"desc\": \"\\\"execute\\\" must "
                     "be a string, not number\"}, \"id\": 4}");
    ck_assert_str_eq(req("{\"execute\": \"stop\", \"argumnets\": {}}"),
                     "{\"error\": {\"class\": \"GenericError\", \"desc\": \"request member "
                     "'argumnets' is unexpected\"}}");
    /* None of them did anything. */
    ck_assert_int_eq(d0.state, DOMAIN_RUNNING);
}
END_TEST

/* A line that is not JSON still names its request when the id can be
 * found, so a front-end matching replies by id gets its answer at once. */
START_TEST(unreadable_requests_keep_their_id)
{
    ck_assert_str_eq(req("{\"execute\": \"stop\", \"id\": 7, \"arguments\": {\"domain\": 0x1}}"),
                     "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error: "
                     "expected ',' or '}' in an object: 'x' at byte 54\"}, \"id\": 7}");
    ck_assert_str_eq(req("{\"id\": 12, \"execute\": \"stop\""),
                     "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error: "
                     "expected ',' or '}' in an object at the end of the text\"}, \"id\": 12}");
    /* An id inside the arguments, or one that is not a plain integer, is
     * not the request's: no id then, as before. */
    ck_assert_str_eq(req("{\"execute\": \"stop\", \"arguments\": {\"id\": 5}, \"x\": }"),
                     "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error: "
                     "unexpected character: '}' at byte 49\"}}");
    ck_assert_str_eq(req("{\"execute\": \"stop\", \"id\": -3, \"x\": }"),
                     "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error: "
                     "unexpected character: '}' at byte 35\"}}");
    ck_assert_int_eq(d0.state, DOMAIN_RUNNING);
}
END_TEST

START_TEST(unknown_commands_and_bad_arguments)
{
    ck_assert_str_eq(req("{\"execute\": \"nope\", \"id\": \"q\"}"),
                     "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command nope "
                     "has not been found\"}, \"id\": \"q\"}");
    ck_assert_str_eq(req("{\"execute\": \"stop\", \"arguments\": {\"dommain\": 1}}"),
                     "{\"error\": {\"class\": \"InvalidParameter\", \"desc\": \"stop takes no "
                     "argument 'dommain'\"}}");
    ck_assert_str_eq(req("{\"execute\": \"stop\", \"arguments\": [1]}"),
                     "{\"error\": {\"class\": \"InvalidParameter\", \"desc\": \"\\\"arguments\\\" "
                     "must be an object, not array\"}}");
    ck_assert_str_eq(req("{\"execute\": \"stop\", \"arguments\": {\"domain\": \"1\"}}"),
                     "{\"error\": {\"class\": \"InvalidParameter\", \"desc\": \"argument 'domain' "
                     "must be an integer from 0 to 2^64-1\"}}");
    ck_assert_str_eq(req("{\"execute\": \"stop\", \"arguments\": {\"domain\": 2}}"),
                     "{\"error\": {\"class\": \"DeviceNotFound\", \"desc\": \"no domain 2 (hv "
                     "has 2)\"}}");
    ck_assert_str_eq(req("{\"execute\": \"x-query-registers\", \"arguments\": {\"cpu\": 1}}"),
                     "{\"error\": {\"class\": \"DeviceNotFound\", \"desc\": \"domain 0 has no CPU "
                     "1 (it has 1)\"}}");
    ck_assert_int_eq(d0.state, DOMAIN_RUNNING);
    ck_assert_int_eq(d1.state, DOMAIN_RUNNING);
}
END_TEST

START_TEST(stop_cont_status)
{
    ck_assert_str_eq(req("{\"execute\": \"stop\", \"arguments\": {\"domain\": 1}}"),
                     "{\"return\": {}}");
    ck_assert_int_eq(d1.state, DOMAIN_PAUSED);
    ck_assert_int_eq(d0.state, DOMAIN_RUNNING);
    ck_assert_str_eq(req("{\"execute\": \"query-status\", \"arguments\": {\"domain\": 1}}"),
                     "{\"return\": {\"status\": \"paused\", \"running\": false, \"singlestep\": "
                     "false, \"state\": \"paused\"}}");
    /* stop twice, as QEMU, is no error. */
    ck_assert_str_eq(req("{\"execute\": \"stop\", \"arguments\": {\"domain\": 1}}"),
                     "{\"return\": {}}");
    ck_assert_str_eq(req("{\"execute\": \"cont\", \"arguments\": {\"domain\": 1}}"),
                     "{\"return\": {}}");
    ck_assert_int_eq(d1.state, DOMAIN_RUNNING);
    /* An ended domain can be neither. */
    domain_shutdown(&d0, 3);
    ck_assert_str_eq(req("{\"execute\": \"stop\"}"),
                     "{\"error\": {\"class\": \"GenericError\", \"desc\": \"domain 0 cannot be "
                     "stopped: it is shutdown\"}}");
    ck_assert_str_eq(req("{\"execute\": \"query-status\"}"),
                     "{\"return\": {\"status\": \"shutdown\", \"running\": false, \"singlestep\": "
                     "false, \"state\": \"shutdown\"}}");
}
END_TEST

/* Each vCPU's own guest-mode time (query-cpus-fast's cpu-tsc), their sum
 * in query-domains, and the balloon's target as asked: the RAM when
 * nothing was, hv's balloon= option, then the last `balloon`, even one
 * above the RAM. */
START_TEST(vcpu_times_and_balloon_target)
{
    static struct vcpu v2;
    memset(&v2, 0, sizeof(v2));
    v2.loaded = VCPU_STATE_ALL;
    domain_add_vcpu(&d1, &v2);
    v1.run_tsc = 1000;
    v2.run_tsc = 234;
    const char *r = req("{\"execute\": \"query-cpus-fast\", \"arguments\": {\"domain\": 1}}");
    ck_assert_ptr_nonnull(strstr(r, "\"cpu-index\": 0, "));
    const char *second = strstr(r, "\"cpu-index\": 1, ");
    ck_assert_ptr_nonnull(second);
    ck_assert_ptr_nonnull(strstr(r, "\"cpu-tsc\": 1000, "));
    ck_assert_ptr_nonnull(strstr(second, "\"cpu-tsc\": 234, \"cpu-time-ns\": 234, "));
    r = req("{\"execute\": \"query-domains\"}");
    ck_assert_ptr_nonnull(
        strstr(r, "\"cpu-tsc\": 1234, \"cpu-time-ns\": 1234, \"balloon-target\": 1048576, "));
    h.opt.balloon = RAM / 2;
    ck_assert_ptr_nonnull(
        strstr(req("{\"execute\": \"query-domains\"}"), "\"balloon-target\": 524288, "));
    d0.balloon_target_kib = 2048;
    ck_assert_ptr_nonnull(
        strstr(req("{\"execute\": \"query-domains\"}"), "\"balloon-target\": 2097152, "));
}
END_TEST

START_TEST(read_memory_physical_and_virtual)
{
    memcpy(d0.mem.host + 0x1000, "\x01\x02\xab\xff", 4);
    ck_assert_str_eq(req("{\"execute\": \"x-read-memory\", \"arguments\": {\"addr\": 4096, "
                         "\"size\": 4, \"physical\": true}}"),
                     "{\"return\": {\"data\": \"0102abff\"}}");
    /* Paging off: virtual is physical. */
    ck_assert_str_eq(req("{\"execute\": \"x-read-memory\", \"arguments\": {\"addr\": 4097, "
                         "\"size\": 2}}"),
                     "{\"return\": {\"data\": \"02ab\"}}");
    /* Across the top of RAM: nothing, and the first byte outside named. */
    ck_assert_str_eq(req("{\"execute\": \"x-read-memory\", \"arguments\": {\"addr\": 1048575, "
                         "\"size\": 2, \"physical\": true}}"),
                     "{\"error\": {\"class\": \"GenericError\", \"desc\": \"guest-physical "
                     "0x100000 is outside guest RAM (RAM is 0x0-0xfffff)\"}}");
    ck_assert_str_eq(req("{\"execute\": \"x-read-memory\", \"arguments\": {\"addr\": 0, "
                         "\"size\": 4097}}"),
                     "{\"error\": {\"class\": \"InvalidParameter\", \"desc\": \"argument 'size' "
                     "must be from 1 to 4096 bytes\"}}");
    ck_assert_str_eq(req("{\"execute\": \"x-read-memory\", \"arguments\": {\"size\": 1}}"),
                     "{\"error\": {\"class\": \"InvalidParameter\", \"desc\": \"argument 'addr' "
                     "is missing\"}}");
    ck_assert_str_eq(req("{\"execute\": \"x-read-memory\", \"arguments\": {\"addr\": "
                         "18446744073709551615, \"size\": 2, \"physical\": true}}"),
                     "{\"error\": {\"class\": \"InvalidParameter\", \"desc\": "
                     "\"0xffffffffffffffff + 2 bytes wraps around the address space\"}}");
    /* 4-level paging over an empty PML4 at 0x2000: nothing is mapped. */
    v0.cr0 = 0x80000011;
    v0.cr4 = 0x20;
    v0.efer = 0x500;
    v0.cr3 = 0x2000;
    req("{\"execute\": \"x-read-memory\", \"arguments\": {\"addr\": 4096, \"size\": 4}}");
    ck_assert_msg(strstr(reply, "\"GenericError\"") &&
                      strstr(reply, "guest-virtual memory at 0x1000 cannot be read"),
                  "%s", reply);
}
END_TEST

START_TEST(registers_are_the_cores)
{
    v0.regs.rax = 0x1234;
    v0.regs.r15 = UINT64_MAX;
    v0.rip = 0x100000;
    v0.seg_base[4] = 0x7000; /* fs */
    req("{\"execute\": \"x-query-registers\"}");
    ck_assert_msg(
        strstr(reply, "\"rax\": 4660, ") && strstr(reply, "\"r15\": 18446744073709551615") &&
            strstr(reply, "\"rip\": 1048576") && strstr(reply, "\"fs\": {\"base\": 28672}"),
        "%s", reply);
    ck_assert_ptr_eq(h.loaded, &v0);
}
END_TEST

START_TEST(quit_and_powerdown_say_what_follows)
{
    ck_assert_str_eq(req("{\"execute\": \"system_powerdown\", \"arguments\": {\"domain\": 1}}"),
                     "{\"return\": {}}");
    ck_assert_str_eq(after.event, CTL_EV_POWERDOWN);
    ck_assert_ptr_eq(after.event_dom, &d1);
    ck_assert(d1.powerdown_pending);
    ck_assert_str_eq(req("{\"execute\": \"quit\"}"), "{\"return\": {}}");
    ck_assert(after.quit);
    ck_assert_int_eq(d0.state, DOMAIN_DYING);
    ck_assert_int_eq(d1.state, DOMAIN_DYING);
    /* A refused request leaves nothing to follow. */
    req("{\"execute\": \"quit\", \"arguments\": {\"now\": true}}");
    ck_assert(!after.quit);
}
END_TEST

/* A backend that can inject NMIs, for inject-nmi: the control command
 * only latches them (core/nmi.c); delivery is the run loop's. */
static void no_inject(struct vcpu *v)
{
    (void)v;
}

START_TEST(inject_nmi_reaches_each_lint1)
{
    /* The test backend has no inject_nmi: refused, nothing latched. */
    ck_assert_str_eq(req("{\"execute\": \"inject-nmi\", \"arguments\": {\"domain\": 0}}"),
                     "{\"error\": {\"class\": \"GenericError\", \"desc\": \"this hv's test "
                     "backend cannot inject an NMI\"}}");
    ck_assert(!v0.nmi_pending);
    struct backend nmi_be = ctl_test_backend;
    nmi_be.inject_nmi = no_inject;
    h.be = &nmi_be;
    /* LINT1 programmed for NMI, as the firmware leaves the boot CPU's. */
    v0.lapic.base_msr = APIC_BASE_EN;
    v0.lapic.lvt[LVT_LINT1] = APIC_DM_NMI << APIC_DM_SHIFT;
    v0.blocked = true;
    ck_assert_str_eq(req("{\"execute\": \"inject-nmi\"}"), "{\"return\": {}}");
    ck_assert(v0.nmi_pending);
    /* The NMI ends the vCPU's HLT. */
    ck_assert(!v0.blocked);
    /* A masked LINT1 (an AP before it set up its APIC) ignores the button;
     * a paused domain takes it (on cont). */
    v1.lapic.base_msr = APIC_BASE_EN;
    v1.lapic.lvt[LVT_LINT1] = APIC_LVT_MASKED | (APIC_DM_NMI << APIC_DM_SHIFT);
    d1.state = DOMAIN_PAUSED;
    ck_assert_str_eq(req("{\"execute\": \"inject-nmi\", \"arguments\": {\"domain\": 1}}"),
                     "{\"return\": {}}");
    ck_assert(!v1.nmi_pending);
    /* Xen's trigger names the vCPU and bypasses LINT1; one it lacks is
     * refused. */
    ck_assert_str_eq(
        req("{\"execute\": \"inject-nmi\", \"arguments\": {\"domain\": 1, \"cpu\": 0}}"),
        "{\"return\": {}}");
    ck_assert(v1.nmi_pending);
    ck_assert_str_eq(
        req("{\"execute\": \"inject-nmi\", \"arguments\": {\"domain\": 1, \"cpu\": 1}}"),
        "{\"error\": {\"class\": \"DeviceNotFound\", \"desc\": \"domain 1 has no CPU "
        "1 (it has 1)\"}}");
    /* A domain that has ended has no CPU to take one. */
    d1.state = DOMAIN_CRASHED;
    ck_assert_str_eq(req("{\"execute\": \"inject-nmi\", \"arguments\": {\"domain\": 1}}"),
                     "{\"error\": {\"class\": \"GenericError\", \"desc\": \"domain 1 cannot get "
                     "an NMI: it is crashed\"}}");
    h.be = &ctl_test_backend;
}
END_TEST

/* Events: the lines the poll emits, joined. */
static char events[2048];

static void collect(void *ctx, const char *line, size_t len)
{
    (void)ctx;
    strncat(events, line, len);
    strcat(events, "\n");
}

START_TEST(events_follow_state_changes)
{
    struct ctl_events ev;
    memset(&ev, 0, sizeof(ev));
    events[0] = 0;
    /* The first look only remembers. */
    ctl_events_poll(&ev, &h, collect, NULL);
    ck_assert_str_eq(events, "");
    domain_pause(&d0);
    ctl_events_poll(&ev, &h, collect, NULL);
    domain_unpause(&d0);
    ctl_events_poll(&ev, &h, collect, NULL);
    ctl_events_poll(&ev, &h, collect, NULL);
    domain_shutdown(&d0, 7);
    domain_crash(&d1, "triple fault");
    ctl_events_poll(&ev, &h, collect, NULL);
    d1.restarts++;
    ctl_events_poll(&ev, &h, collect, NULL);
    ck_assert_str_eq(events,
                     "{\"event\": \"STOP\", \"data\": {\"domain\": 0}}\n"
                     "{\"event\": \"RESUME\", \"data\": {\"domain\": 0}}\n"
                     "{\"event\": \"SHUTDOWN\", \"data\": {\"domain\": 0, \"reason\": "
                     "\"guest-shutdown\", \"code\": 7}}\n"
                     "{\"event\": \"CRASHED\", \"data\": {\"domain\": 1, \"reason\": \"triple "
                     "fault\"}}\n"
                     "{\"event\": \"RESET\", \"data\": {\"domain\": 1}}\n");
}
END_TEST

START_TEST(a_domain_made_later_is_created)
{
    struct ctl_events ev;
    memset(&ev, 0, sizeof(ev));
    events[0] = 0;
    /* The boot's domains are only remembered. */
    d1.restarts = 3;
    ctl_events_poll(&ev, &h, collect, NULL);
    ck_assert_str_eq(events, "");
    /* Domain 1 destroyed and its number taken by a new domain (another
     * serial, a name of its own): CREATED, not the RESET or RESUME its
     * state and restart count would otherwise look like. */
    domain_destroy(&d1);
    ctl_events_poll(&ev, &h, collect, NULL);
    d1.state = DOMAIN_RUNNING;
    d1.restarts = 0;
    d1.serial = 1;
    d1.name = "web";
    ctl_events_poll(&ev, &h, collect, NULL);
    ctl_events_poll(&ev, &h, collect, NULL);
    ck_assert_str_eq(events,
                     "{\"event\": \"SHUTDOWN\", \"data\": {\"domain\": 1, \"reason\": "
                     "\"destroyed\"}}\n"
                     "{\"event\": \"CREATED\", \"data\": {\"domain\": 1, \"name\": \"web\"}}\n");
    /* query-domains gives the name. */
    ck_assert_ptr_nonnull(
        strstr(req("{\"execute\": \"query-domains\"}"), "{\"domain\": 1, \"name\": \"web\", "));
}
END_TEST

/* A clock for the disk counters' idle time: always 5000 ns. */
static uint64_t clock_5000(void)
{
    return 5000;
}

/* query-blockstats: one BlockStats a virtio disk, in query-block's names
 * and order (the console is no disk), the counters as the device left
 * them in the domain; idle_time_ns only once the disk saw an access. */
START_TEST(blockstats_in_qmp_shape)
{
    static struct vdev_plan plan;
    plan.n = 3;
    plan.spec[0] = (struct vdev_spec){.kind = VDEV_BLK, .qcow2 = true};
    plan.spec[1] = (struct vdev_spec){.kind = VDEV_CONSOLE};
    plan.spec[2] = (struct vdev_spec){.kind = VDEV_BLK};
    d1.vdevs = &plan;
    struct blkacct *a = &d1.disk_stats[0];
    a->clock_ns = clock_5000;
    struct blkacct_req rd = {BLKACCT_READ, 0, 4096, 1000}, wr = {BLKACCT_WRITE, 7680, 512, 2000};
    blkacct_done(a, &rd);
    blkacct_done(a, &wr);
    blkacct_invalid(a, &rd);
    a->last_ns = 4000;
    const char *r = req("{\"execute\": \"query-blockstats\", \"arguments\": {\"domain\": 1}}");
    ck_assert_str_eq(
        r, "{\"return\": [{\"device\": \"virtio0\", \"stats\": {\"rd_bytes\": 4096, "
           "\"wr_bytes\": 512, \"unmap_bytes\": 0, \"rd_operations\": 1, \"wr_operations\": 1, "
           "\"flush_operations\": 0, \"unmap_operations\": 0, \"rd_total_time_ns\": 4000, "
           "\"wr_total_time_ns\": 3000, \"flush_total_time_ns\": 0, \"unmap_total_time_ns\": 0, "
           "\"rd_merged\": 0, \"wr_merged\": 0, \"unmap_merged\": 0, \"idle_time_ns\": 1000, "
           "\"failed_rd_operations\": 0, \"failed_wr_operations\": 0, "
           "\"failed_flush_operations\": 0, \"failed_unmap_operations\": 0, "
           "\"invalid_rd_operations\": 1, \"invalid_wr_operations\": 0, "
           "\"invalid_flush_operations\": 0, \"invalid_unmap_operations\": 0, "
           "\"wr_highest_offset\": 8192, \"account_invalid\": true, \"account_failed\": true, "
           "\"timed_stats\": []}}, {\"device\": \"virtio1\", \"stats\": {\"rd_bytes\": 0, "
           "\"wr_bytes\": 0, \"unmap_bytes\": 0, \"rd_operations\": 0, \"wr_operations\": 0, "
           "\"flush_operations\": 0, \"unmap_operations\": 0, \"rd_total_time_ns\": 0, "
           "\"wr_total_time_ns\": 0, \"flush_total_time_ns\": 0, \"unmap_total_time_ns\": 0, "
           "\"rd_merged\": 0, \"wr_merged\": 0, \"unmap_merged\": 0, \"failed_rd_operations\": 0, "
           "\"failed_wr_operations\": 0, \"failed_flush_operations\": 0, "
           "\"failed_unmap_operations\": 0, \"invalid_rd_operations\": 0, "
           "\"invalid_wr_operations\": 0, \"invalid_flush_operations\": 0, "
           "\"invalid_unmap_operations\": 0, \"wr_highest_offset\": 0, \"account_invalid\": "
           "true, \"account_failed\": true, \"timed_stats\": []}}]}");
    /* A domain without disks has none. */
    ck_assert_str_eq(req("{\"execute\": \"query-blockstats\"}"), "{\"return\": []}");
    d1.vdevs = NULL;
}
END_TEST

/* x-console-write: the receiver takes what it has room for (one byte in
 * CHARACTER mode) and the reply says how much; bad data changes nothing. */
START_TEST(console_write_takes_what_fits)
{
    uint64_t epoch = d1.irq_epoch;
    ck_assert_str_eq(req("{\"execute\": \"x-console-write\", \"arguments\": {\"domain\": 1, "
                         "\"data\": \"6869\"}}"),
                     "{\"return\": {\"written\": 1}}");
    ck_assert_uint_eq(d1.com1.rx_count, 1);
    ck_assert_uint_eq(d1.com1.rx[0], 'h');
    ck_assert_uint_gt(d1.irq_epoch, epoch);
    /* Full: nothing taken, and the reply says so. */
    ck_assert_str_eq(req("{\"execute\": \"x-console-write\", \"arguments\": {\"domain\": 1, "
                         "\"data\": \"69\"}}"),
                     "{\"return\": {\"written\": 0}}");
    ck_assert_str_eq(req("{\"execute\": \"x-console-write\", \"arguments\": {\"data\": \"6g\"}}"),
                     "{\"error\": {\"class\": \"InvalidParameter\", \"desc\": \"argument 'data' "
                     "must be hex digits, two per byte\"}}");
    ck_assert_str_eq(req("{\"execute\": \"x-console-write\", \"arguments\": {\"data\": \"686\"}}"),
                     "{\"error\": {\"class\": \"InvalidParameter\", \"desc\": \"argument 'data' "
                     "must be hex digits, two per byte\"}}");
    ck_assert_uint_eq(d0.com1.rx_count, 0);
    ck_assert_str_eq(req("{\"execute\": \"x-console-write\", \"arguments\": {\"domain\": 7, "
                         "\"data\": \"68\"}}"),
                     "{\"error\": {\"class\": \"DeviceNotFound\", \"desc\": \"no domain 7 (hv "
                     "has 2)\"}}");
    domain_shutdown(&d0, 0);
    ck_assert_str_eq(req("{\"execute\": \"x-console-write\", \"arguments\": {\"data\": \"68\"}}"),
                     "{\"error\": {\"class\": \"GenericError\", \"desc\": \"domain 0 has "
                     "ended: its console takes no input\"}}");
}
END_TEST

START_TEST(table_rows_are_complete)
{
    /* Every command is reachable and has a handler; names are unique. */
    for (const struct ctl_cmd *c = ctl_commands; c->name; c++) {
        ck_assert_ptr_nonnull(c->fn);
        for (const struct ctl_cmd *e = c + 1; e->name; e++)
            ck_assert_str_ne(c->name, e->name);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hv_ctl");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, version_and_ids);
    tcase_add_test(tc, malformed_requests_are_generic_errors);
    tcase_add_test(tc, unreadable_requests_keep_their_id);
    tcase_add_test(tc, unknown_commands_and_bad_arguments);
    tcase_add_test(tc, stop_cont_status);
    tcase_add_test(tc, vcpu_times_and_balloon_target);
    tcase_add_test(tc, read_memory_physical_and_virtual);
    tcase_add_test(tc, registers_are_the_cores);
    tcase_add_test(tc, quit_and_powerdown_say_what_follows);
    tcase_add_test(tc, inject_nmi_reaches_each_lint1);
    tcase_add_test(tc, events_follow_state_changes);
    tcase_add_test(tc, a_domain_made_later_is_created);
    tcase_add_test(tc, console_write_takes_what_fits);
    tcase_add_test(tc, table_rows_are_complete);
    tcase_add_test(tc, blockstats_in_qmp_shape);
    suite_add_tcase(s, tc);
    return check_main(s);
}
