/*
 * Unit tests for the hosted parts of hv/core: the command-line parser, the
 * exit statistics, the CPUID policy and the emulated MSRs.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hvkit/abi.h"
#include "core/cmdline.h"
#include "core/cpuid.h"
#include "core/cr.h"
#include "core/fastpath.h"
#include "core/msr.h"
#include "core/stats.h"
#include "core/xcr.h"
#include "check_main.h"

static struct hv_options opt;
static char err[256];

/* ---- cmdline ---- */

START_TEST(defaults_and_file_name_skipped)
{
    ck_assert_int_eq(hv_parse_cmdline("build/hv/hv.elf", true, &opt, err, sizeof(err)), 0);
    ck_assert_uint_eq(opt.mem, 64ull << 20);
    ck_assert(!opt.trace);
    ck_assert_int_eq(opt.vendor, VENDOR_AUTO);
    ck_assert_uint_eq(opt.max_exits, 0);
    ck_assert_int_eq(hv_parse_cmdline(NULL, true, &opt, err, sizeof(err)), 0);
    ck_assert_int_eq(hv_parse_cmdline("", true, &opt, err, sizeof(err)), 0);
}
END_TEST

START_TEST(all_options)
{
    ck_assert_int_eq(
        hv_parse_cmdline("hv.elf  trace\tmem=128M vendor=svm", true, &opt, err, sizeof(err)), 0);
    ck_assert(opt.trace);
    ck_assert_uint_eq(opt.mem, 128ull << 20);
    ck_assert_int_eq(opt.vendor, VENDOR_SVM);
    ck_assert_int_eq(hv_parse_cmdline("vendor=vmx mem=1g", false, &opt, err, sizeof(err)), 0);
    ck_assert_int_eq(opt.vendor, VENDOR_VMX);
    ck_assert_uint_eq(opt.mem, 1ull << 30);
    ck_assert_int_eq(hv_parse_cmdline("x vendor=auto", true, &opt, err, sizeof(err)), 0);
    ck_assert_int_eq(opt.vendor, VENDOR_AUTO);
    ck_assert_int_eq(hv_parse_cmdline("max-exits=100000", false, &opt, err, sizeof(err)), 0);
    ck_assert_uint_eq(opt.max_exits, 100000);
    ck_assert_int_eq(hv_parse_cmdline("max-exits=0x10", false, &opt, err, sizeof(err)), 0);
    ck_assert_uint_eq(opt.max_exits, 16);
    ck_assert_uint_eq(opt.domains, 1);
    ck_assert_int_eq(hv_parse_cmdline("domains=3", false, &opt, err, sizeof(err)), 0);
    ck_assert_uint_eq(opt.domains, 3);
    /* Out of range, a size suffix, not a number: refused by name. */
    ck_assert_int_eq(hv_parse_cmdline("domains=0", false, &opt, err, sizeof(err)), -1);
    ck_assert(strstr(err, "bad count in 'domains=0' (want domains=1 to domains=4)") != NULL);
    ck_assert_int_eq(hv_parse_cmdline("domains=5", false, &opt, err, sizeof(err)), -1);
    ck_assert_int_eq(hv_parse_cmdline("domains=2K", false, &opt, err, sizeof(err)), -1);
    ck_assert_int_eq(hv_parse_cmdline("domains=two", false, &opt, err, sizeof(err)), -1);
    /* smp=N: vCPUs per domain, 1 by default, at most 8. */
    ck_assert_int_eq(hv_parse_cmdline("", false, &opt, err, sizeof(err)), 0);
    ck_assert_uint_eq(opt.smp, 1);
    ck_assert_int_eq(hv_parse_cmdline("smp=4", false, &opt, err, sizeof(err)), 0);
    ck_assert_uint_eq(opt.smp, 4);
    ck_assert_int_eq(hv_parse_cmdline("smp=9", false, &opt, err, sizeof(err)), -1);
    ck_assert(strstr(err, "bad count in 'smp=9' (want smp=1 to smp=8)") != NULL);
    ck_assert_int_eq(hv_parse_cmdline("smp=0", false, &opt, err, sizeof(err)), -1);
    /* maxcpus=M: the vCPUs built (0, none asked, by default), 1 to 8. */
    ck_assert_uint_eq(opt.maxcpus, 0);
    ck_assert_int_eq(hv_parse_cmdline("smp=1 maxcpus=4", false, &opt, err, sizeof(err)), 0);
    ck_assert_uint_eq(opt.smp, 1);
    ck_assert_uint_eq(opt.maxcpus, 4);
    ck_assert_int_eq(hv_parse_cmdline("maxcpus=9", false, &opt, err, sizeof(err)), -1);
    ck_assert(strstr(err, "bad count in 'maxcpus=9' (want maxcpus=1 to maxcpus=8)") != NULL);
    /* The lifecycle actions: destroy by default, xl.cfg's words, nothing
     * else (not even a prefix or another case). */
    ck_assert_int_eq(hv_parse_cmdline("", false, &opt, err, sizeof(err)), 0);
    ck_assert_int_eq(opt.on_poweroff, DOMAIN_ACTION_DESTROY);
    ck_assert_int_eq(opt.on_reboot, DOMAIN_ACTION_DESTROY);
    ck_assert_int_eq(opt.on_crash, DOMAIN_ACTION_DESTROY);
    ck_assert_int_eq(hv_parse_cmdline("on_crash=restart on_reboot=preserve on_poweroff=restart",
                                      false, &opt, err, sizeof(err)),
                     0);
    ck_assert_int_eq(opt.on_crash, DOMAIN_ACTION_RESTART);
    ck_assert_int_eq(opt.on_reboot, DOMAIN_ACTION_PRESERVE);
    ck_assert_int_eq(opt.on_poweroff, DOMAIN_ACTION_RESTART);
    ck_assert_int_eq(hv_parse_cmdline("on_crash=rest", false, &opt, err, sizeof(err)), -1);
    ck_assert(strstr(err, "bad action in 'on_crash=rest' (want destroy, restart or preserve)"));
    ck_assert_int_eq(hv_parse_cmdline("on_reboot=Destroy", false, &opt, err, sizeof(err)), -1);
    ck_assert_str_eq(domain_action_name(DOMAIN_ACTION_PRESERVE), "preserve");
    ck_assert_str_eq(domain_action_name((enum domain_action)7), "?");
}
END_TEST

START_TEST(sizes)
{
    uint64_t v;
    ck_assert_int_eq(hv_parse_size("65536K", 6, &v), 0);
    ck_assert_uint_eq(v, 64ull << 20);
    ck_assert_int_eq(hv_parse_size("0x4000000", 9, &v), 0);
    ck_assert_uint_eq(v, 64ull << 20);
    ck_assert_int_eq(hv_parse_size("3G", 2, &v), 0);
    ck_assert_uint_eq(v, 3ull << 30);
    ck_assert_int_eq(hv_parse_size("", 0, &v), -1);
    ck_assert_int_eq(hv_parse_size("M", 1, &v), -1);
    ck_assert_int_eq(hv_parse_size("12MB", 4, &v), -1);
    ck_assert_int_eq(hv_parse_size("12T", 3, &v), -1);
    ck_assert_int_eq(hv_parse_size("99999999999999999999", 20, &v), -1);
    ck_assert_int_eq(hv_parse_size("17179869184G", 12, &v), -1);
}
END_TEST

START_TEST(mem_rounded_and_ranged)
{
    /* Rounded up to whole 2 MiB pages. */
    ck_assert_int_eq(hv_parse_cmdline("mem=3M", false, &opt, err, sizeof(err)), 0);
    ck_assert_uint_eq(opt.mem, 4ull << 20);
    ck_assert_int_eq(hv_parse_cmdline("mem=1M", false, &opt, err, sizeof(err)), -1);
    ck_assert(strstr(err, "out of range") != NULL);
    ck_assert_int_eq(hv_parse_cmdline("mem=4G", false, &opt, err, sizeof(err)), -1);
    ck_assert(strstr(err, "out of range") != NULL);
    ck_assert_int_eq(hv_parse_cmdline("mem=lots", false, &opt, err, sizeof(err)), -1);
    ck_assert(strstr(err, "bad size in 'mem=lots'") != NULL);
}
END_TEST

START_TEST(paging_options)
{
    ck_assert_int_eq(hv_parse_cmdline("mem=8M", false, &opt, err, sizeof(err)), 0);
    ck_assert(!opt.lazy);
    ck_assert(!opt.slat_dot);
    ck_assert_int_eq(hv_parse_cmdline("npt=lazy slat-dot", false, &opt, err, sizeof(err)), 0);
    ck_assert(opt.lazy);
    ck_assert(opt.slat_dot);
    ck_assert_int_eq(hv_parse_cmdline("npt=lazy npt=eager", false, &opt, err, sizeof(err)), 0);
    ck_assert(!opt.lazy);
    ck_assert_int_eq(hv_parse_cmdline("npt=sloppy", false, &opt, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "bad mode in 'npt=sloppy' (want npt=eager or npt=lazy)");
    ck_assert_int_eq(hv_parse_cmdline("npt=", false, &opt, err, sizeof(err)), -1);
    ck_assert(strstr(err, "unknown option 'npt='") != NULL);
    /* idle=halt|spin, the same kind of option: halt by default. */
    ck_assert(!opt.idle_spin);
    ck_assert_int_eq(hv_parse_cmdline("idle=spin", false, &opt, err, sizeof(err)), 0);
    ck_assert(opt.idle_spin);
    ck_assert_int_eq(hv_parse_cmdline("idle=spin idle=halt", false, &opt, err, sizeof(err)), 0);
    ck_assert(!opt.idle_spin);
    ck_assert_int_eq(hv_parse_cmdline("idle=nap", false, &opt, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "bad mode in 'idle=nap' (want idle=halt or idle=spin)");
}
END_TEST

/* cdrom=N|empty: the CD-ROM drive's medium, an outer disk 0-3 or none. */
START_TEST(cdrom_option)
{
    ck_assert_int_eq(hv_parse_cmdline("mem=8M", false, &opt, err, sizeof(err)), 0);
    ck_assert_int_eq(opt.cdrom, HV_CDROM_NONE);
    ck_assert_int_eq(hv_parse_cmdline("cdrom=2", false, &opt, err, sizeof(err)), 0);
    ck_assert_int_eq(opt.cdrom, 2);
    ck_assert_int_eq(hv_parse_cmdline("cdrom=empty", false, &opt, err, sizeof(err)), 0);
    ck_assert_int_eq(opt.cdrom, HV_CDROM_EMPTY);
    ck_assert_int_eq(hv_parse_cmdline("cdrom=4", false, &opt, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "'cdrom=4': want cdrom=N with N the outer disk's number 0-3, or "
                          "cdrom=empty");
    ck_assert_int_eq(hv_parse_cmdline("cdrom=12", false, &opt, err, sizeof(err)), -1);
    ck_assert_int_eq(hv_parse_cmdline("cdrom=", false, &opt, err, sizeof(err)), -1);
    ck_assert(strstr(err, "unknown option 'cdrom='") != NULL);
}
END_TEST

START_TEST(unknown_and_bad_options)
{
    ck_assert_int_eq(hv_parse_cmdline("hv.elf trace tarce", true, &opt, err, sizeof(err)), -1);
    ck_assert(strstr(err, "unknown option 'tarce'") != NULL);
    ck_assert(strstr(err, "mem=SIZE") != NULL);
    ck_assert_int_eq(hv_parse_cmdline("vendor=arm", false, &opt, err, sizeof(err)), -1);
    ck_assert(strstr(err, "bad vendor in 'vendor=arm'") != NULL);
    /* A count, not a size: no suffix, no words. */
    ck_assert_int_eq(hv_parse_cmdline("max-exits=1M", false, &opt, err, sizeof(err)), -1);
    ck_assert(strstr(err, "bad count in 'max-exits=1M'") != NULL);
    ck_assert_int_eq(hv_parse_cmdline("max-exits=many", false, &opt, err, sizeof(err)), -1);
    /* Without skipping, the file name is an unknown option. */
    ck_assert_int_eq(hv_parse_cmdline("hv.elf", false, &opt, err, sizeof(err)), -1);
    ck_assert(strstr(err, "'hv.elf'") != NULL);
    /* "tracer" and "trac" are not "trace". */
    ck_assert_int_eq(hv_parse_cmdline("tracer", false, &opt, err, sizeof(err)), -1);
    ck_assert_int_eq(hv_parse_cmdline("trac", false, &opt, err, sizeof(err)), -1);
}
END_TEST

/* ---- stats ---- */

static char report[16][80];
static int nreport;

static void report_line(void *ctx, const char *line)
{
    (void)ctx;
    if (nreport < 16)
        strncpy(report[nreport], line, sizeof(report[0]) - 1);
    nreport++;
}

/* savevm=, loadvm=, delvm=NAME@MS, save=, restore=N@MS: kept in order of
 * time; bad names and a fifth event are refused. */
START_TEST(snapshot_events)
{
    ck_assert_int_eq(hv_parse_cmdline("savevm=s1@1000 loadvm=s1@2500 delvm=s1@2500", false, &opt,
                                      err, sizeof(err)),
                     0);
    ck_assert_uint_eq(opt.nvmevents, 3);
    ck_assert_int_eq(opt.vmevent[0].kind, HV_SAVEVM);
    ck_assert_str_eq(opt.vmevent[0].name, "s1");
    ck_assert_uint_eq(opt.vmevent[1].at_ms, 2500);
    ck_assert_int_eq(opt.vmevent[2].kind, HV_DELVM);
    /* Out of order on the command line, in order of time in the options. */
    ck_assert_int_eq(
        hv_parse_cmdline("restore=1@900 save=1@300 savevm=a.b@600", false, &opt, err, sizeof(err)),
        0);
    ck_assert_int_eq(opt.vmevent[0].kind, HV_SAVE);
    ck_assert_str_eq(opt.vmevent[0].name, "1");
    ck_assert_int_eq(opt.vmevent[1].kind, HV_SAVEVM);
    ck_assert_int_eq(opt.vmevent[2].kind, HV_RESTORE);
    ck_assert_uint_eq(opt.vmevent[2].at_ms, 900);
    const char *bad[] = {"savevm=s1",
                         "savevm=@5",
                         "savevm=s1@",
                         "savevm=a b@1",
                         "savevm=s/1@1",
                         "savevm=s1@1x",
                         "save=a@9",
                         "delvm=a@1 delvm=a@1 delvm=a@1 delvm=a@1 delvm=a@1",
                         "savevm=0123456789012345678901234567890123@1"};
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(hv_parse_cmdline(bad[i], false, &opt, err, sizeof(err)) == -1, "%s", bad[i]);
    ck_assert(strstr(err, "want NAME@MS") != NULL);
}
END_TEST

START_TEST(stats_count_and_report)
{
    struct exit_stats s;
    memset(&s, 0, sizeof(s));
    for (int i = 0; i < 5; i++)
        stats_record(&s, EXIT_IO);
    stats_record(&s, EXIT_CPUID);
    stats_record(&s, EXIT_HLT);
    stats_record(&s, EXIT_HLT);
    stats_record(&s, (enum exit_reason)999);
    ck_assert_uint_eq(s.total, 9);
    ck_assert_uint_eq(s.count[EXIT_IO], 5);
    ck_assert_uint_eq(s.count[EXIT_UNHANDLED], 1);
    nreport = 0;
    memset(report, 0, sizeof(report));
    stats_report(&s, report_line, NULL);
    /* Title, CPUID, IO, HLT, UNHANDLED (enum order), total. */
    ck_assert_int_eq(nreport, 6);
    ck_assert(strstr(report[1], "CPUID") && strstr(report[1], " 1"));
    ck_assert(strstr(report[2], "IO") && strstr(report[2], " 5"));
    ck_assert(strstr(report[3], "HLT") && strstr(report[3], " 2"));
    ck_assert(strstr(report[4], "UNHANDLED"));
    ck_assert(strstr(report[5], "total") && strstr(report[5], " 9"));
}
END_TEST

START_TEST(reason_names)
{
    ck_assert_str_eq(exit_reason_name(EXIT_IO), "IO");
    ck_assert_str_eq(exit_reason_name(EXIT_MEM_VIOLATION), "MEM_VIOLATION");
    ck_assert_str_eq(exit_reason_name(EXIT_VIRT_INSN), "VIRT_INSN");
    ck_assert_str_eq(exit_reason_name(EXIT_REASON_COUNT), "?");
    /* Every reason has a name. */
    for (int r = 0; r < EXIT_REASON_COUNT; r++)
        ck_assert_str_ne(exit_reason_name((enum exit_reason)r), "?");
}
END_TEST

/* ---- CPUID policy ---- */

START_TEST(cpuid_leaf1)
{
    struct cpuid_regs r = {
        .eax = 0x800f11, .ebx = 1, .ecx = (1u << 5) | (1u << 15) | 1, .edx = ~0u};
    cpuid_policy(1, 0, 0, &r);
    ck_assert_uint_eq(r.eax, 0x800f11);
    /* VMX and PDCM hidden; x2APIC and the TSC-deadline timer offered. */
    ck_assert_uint_eq(r.ecx, HVKIT_CPUID_HV_BIT | (1u << 21) | (1u << 24) | 1);
    ck_assert_uint_eq(r.edx, ~0u);
}
END_TEST

START_TEST(cpuid_follows_guest_state)
{
    struct cpuid_regs r = {.ebx = 0x12345678u, .ecx = 1u << 26, .edx = 1u << 9};
    struct cpuid_state st = {.osxsave = true, .apic = true, .apic_id = 0};
    cpuid_guest_state(1, &st, &r);
    /* OSXSAVE is the guest's CR4.OSXSAVE; EBX[31:24] the APIC ID. */
    ck_assert_uint_eq(r.ecx, (1u << 26) | (1u << 27));
    ck_assert_uint_eq(r.edx, 1u << 9);
    ck_assert_uint_eq(r.ebx, 0x00345678u);
    /* A disabled APIC disappears from both leaves. */
    st = (struct cpuid_state){.osxsave = false, .apic = false};
    cpuid_guest_state(1, &st, &r);
    ck_assert_uint_eq(r.ecx, 1u << 26);
    ck_assert_uint_eq(r.edx, 0);
    r = (struct cpuid_regs){.edx = ~0u};
    cpuid_guest_state(0x80000001u, &st, &r);
    ck_assert_uint_eq(r.edx, ~(1u << 9));
    /* The topology leaves' EDX is the asking vCPU's x2APIC ID, so they
     * are never kept for the domain (fastpath.c's table). */
    st = (struct cpuid_state){.apic = true, .apic_id = 3};
    r = (struct cpuid_regs){.eax = 1, .ebx = 1, .ecx = 0x100, .edx = 0};
    cpuid_guest_state(0xb, &st, &r);
    ck_assert_uint_eq(r.edx, 3);
    ck_assert_uint_eq(r.ecx, 0x100);
    ck_assert(!cpuid_table_keeps(0xb) && !cpuid_table_keeps(0x1f) && !cpuid_table_keeps(1));
}
END_TEST

START_TEST(cpuid_no_pmu_no_pks)
{
    struct cpuid_regs r = {0x07300403u, 1, 2, 3};
    cpuid_policy(0xa, 0, 0, &r);
    ck_assert_uint_eq(r.eax | r.ebx | r.ecx | r.edx, 0);
    r = (struct cpuid_regs){.ecx = 0x8001020cu};
    cpuid_policy(7, 0, 0, &r);
    ck_assert_uint_eq(r.ecx, 0x0001020cu);
    /* Other subleaves of 7 are left alone. */
    r = (struct cpuid_regs){.ecx = 0x80000000u};
    cpuid_policy(7, 1, 0, &r);
    ck_assert_uint_eq(r.ecx, 0x80000000u);
}
END_TEST

START_TEST(cpuid_svm_hidden)
{
    struct cpuid_regs r = {.ecx = 0xffffffffu, .edx = 0x2};
    cpuid_policy(0x80000001u, 0, 0, &r);
    /* SVM and the extended performance counters. */
    ck_assert_uint_eq(r.ecx, ~((1u << 2) | (1u << 23) | (1u << 24) | (1u << 28)));
    ck_assert_uint_eq(r.edx, 0x2);
    r = (struct cpuid_regs){1, 2, 3, 4};
    cpuid_policy(0x8000000au, 0, 0, &r);
    ck_assert_uint_eq(r.eax | r.ebx | r.ecx | r.edx, 0);
}
END_TEST

START_TEST(cpuid_hypervisor_leaves)
{
    struct cpuid_regs r = {9, 9, 9, 9};
    cpuid_policy(HVKIT_CPUID_BASE, 0, HVKIT_FEATURE_IRQ, &r);
    ck_assert_uint_eq(r.eax, HVKIT_CPUID_MAX_LEAF);
    char sig[13];
    memcpy(sig, &r.ebx, 4);
    memcpy(sig + 4, &r.ecx, 4);
    memcpy(sig + 8, &r.edx, 4);
    sig[12] = '\0';
    ck_assert_str_eq(sig, HVKIT_CPUID_SIGNATURE);
    r = (struct cpuid_regs){9, 9, 9, 9};
    cpuid_policy(HVKIT_CPUID_BASE + 1, 0, 0, &r);
    ck_assert_uint_eq(r.eax, HVKIT_ABI_VERSION);
    ck_assert_uint_eq(r.ebx | r.ecx | r.edx, 0);
    /* The feature bits go to ECX. */
    cpuid_policy(HVKIT_CPUID_BASE + 1, 0, HVKIT_FEATURE_IRQ, &r);
    ck_assert_uint_eq(r.ecx, HVKIT_FEATURE_IRQ);
    r = (struct cpuid_regs){9, 9, 9, 9};
    cpuid_policy(HVKIT_CPUID_BASE + 0x42, 0, HVKIT_FEATURE_IRQ, &r);
    ck_assert_uint_eq(r.eax | r.ebx | r.ecx | r.edx, 0);
    /* Other leaves pass through unchanged. */
    r = (struct cpuid_regs){5, 6, 7, 8};
    cpuid_policy(0x7, 0, HVKIT_FEATURE_IRQ, &r);
    ck_assert_uint_eq(r.eax, 5);
    ck_assert_uint_eq(r.edx, 8);
}
END_TEST

/* The table of kept answers (the exit fast path's, core/fastpath.c). */
START_TEST(cpuid_table_kept_answers)
{
    static struct cpuid_table t;
    struct cpuid_regs r = {1, 2, 3, 4}, out = {0};
    ck_assert(!cpuid_table_find(&t, 0, 0, &out));
    cpuid_table_keep(&t, 0, 0, &r);
    ck_assert(cpuid_table_find(&t, 0, 0, &out));
    ck_assert_uint_eq(out.eax, 1);
    ck_assert_uint_eq(out.edx, 4);
    /* Another subleaf of the leaf is not the kept one, and replaces it. */
    ck_assert(!cpuid_table_find(&t, 0, 1, &out));
    cpuid_table_keep(&t, 0, 1, &(struct cpuid_regs){5, 6, 7, 8});
    ck_assert(!cpuid_table_find(&t, 0, 0, &out));
    ck_assert(cpuid_table_find(&t, 0, 1, &out));
    ck_assert_uint_eq(out.eax, 5);
    /* The base, hypervisor and extended ranges do not evict each other. */
    cpuid_table_keep(&t, 0x40000000u, 0, &r);
    cpuid_table_keep(&t, 0x80000000u, 0, &r);
    ck_assert(cpuid_table_find(&t, 0, 1, &out));
    ck_assert(cpuid_table_find(&t, 0x40000000u, 0, &out));
    ck_assert(cpuid_table_find(&t, 0x80000000u, 0, &out));
    /* Leaves whose answer follows the guest's state are never kept. */
    cpuid_table_keep(&t, 1, 0, &r);
    cpuid_table_keep(&t, 0xd, 0, &r);
    cpuid_table_keep(&t, 0x80000001u, 0, &r);
    ck_assert(!cpuid_table_find(&t, 1, 0, &out));
    ck_assert(!cpuid_table_find(&t, 0xd, 0, &out));
    ck_assert(!cpuid_table_find(&t, 0x80000001u, 0, &out));
}
END_TEST

/* The exit fast path's copies of its last answers (core/fastpath.h): a
 * CPUID leaf or a void port is found on the domain's pages once and then
 * in the vCPU, until fastpath_arm() forgets the copies before an entry. */
START_TEST(fastpath_keeps_last_answer)
{
    static struct domain d;
    static struct vcpu v;
    v.dom = &d;
    v.fast_left = 5;
    cpuid_table_keep(&d.cpuid, 0, 0, &(struct cpuid_regs){1, 2, 3, 4});
    /* Found in the table, and copied into the vCPU. */
    v.regs.rax = 0;
    v.regs.rcx = 0;
    ck_assert(fastpath_cpuid_find(&v));
    ck_assert(cpuid_entry_is(&v.fast_leaf, 0, 0));
    /* The copy answers without the table (which only the full path
     * changes, and the full path runs fastpath_arm() before the entry). */
    memset(&d.cpuid, 0, sizeof(d.cpuid));
    ck_assert(fastpath_cpuid_find(&v));
    fastpath_cpuid_apply(&v);
    ck_assert_uint_eq(v.regs.rax, 1);
    ck_assert_uint_eq(v.regs.rdx, 4);
    /* Counted by kind, one exit less left for the loop. */
    ck_assert_uint_eq(v.fast_cpuid, 1);
    ck_assert_uint_eq(v.fast_left, 4);
    /* Another subleaf or leaf is not the copy's: the table has neither. */
    v.regs.rax = 0;
    v.regs.rcx = 1;
    ck_assert(!fastpath_cpuid_find(&v));
    v.regs.rax = 0x80000000u;
    v.regs.rcx = 0;
    ck_assert(!fastpath_cpuid_find(&v));
    /* A port nobody owns, reported already: void, and kept. */
    d.io.bits[0x2f0 / 8].reported = 1u << (0x2f0 % 8);
    ck_assert(fastpath_port_void(&v, 0x2f0, 1));
    ck_assert_uint_eq(v.fast_port, 0x2f0);
    ck_assert_uint_eq(v.fast_port_size, 1);
    /* Not reported yet, or wider than the kept access: the full path. */
    ck_assert(!fastpath_port_void(&v, 0x2f1, 1));
    d.io.bits[0x2f0 / 8].owned = 1u << (0x2f1 % 8);
    ck_assert(!fastpath_port_void(&v, 0x2f0, 2));
    /* The kept one still answers (the copy is forgotten at the entry). */
    ck_assert(fastpath_port_void(&v, 0x2f0, 1));
    /* An IN reads all ones into AL only. */
    v.regs.rax = 0x1234;
    fastpath_port_apply(&v, true, 1);
    ck_assert_uint_eq(v.regs.rax, 0x12ff);
    ck_assert_uint_eq(v.fast_io, 1);
}
END_TEST

/* ---- MSRs ---- */

START_TEST(efer_rules)
{
    struct vcpu v;
    memset(&v, 0, sizeof(v));
    /* Every group of guest state in struct vcpu (no backend to ask). */
    v.loaded = VCPU_STATE_ALL;
    uint64_t val;
    /* LME and NXE may be set with paging off. */
    ck_assert(msr_write(&v, MSR_EFER, EFER_LME | EFER_NXE));
    ck_assert(msr_read(&v, MSR_EFER, &val));
    ck_assert_uint_eq(val, EFER_LME | EFER_NXE);
    /* SVME is reserved for a guest that has no SVM; so are bits 1-7. */
    ck_assert(!msr_write(&v, MSR_EFER, EFER_LME | EFER_SVME));
    ck_assert(!msr_write(&v, MSR_EFER, 1ull << 3));
    ck_assert_uint_eq(v.efer, EFER_LME | EFER_NXE);
    /* The write that succeeded marked EFER for the backend to write back
     * before the next entry (vcpu.h "Lazy guest state"); a refused one
     * marks nothing. */
    ck_assert_uint_eq(v.dirty, VCPU_EFER);
    v.dirty = 0;
    ck_assert(!msr_write(&v, MSR_EFER, 1ull << 3));
    ck_assert_uint_eq(v.dirty, 0);
    /* LMA comes from the CPU: a write neither sets nor clears it. */
    v.cr0 = CR0_PE | CR0_PG;
    v.efer |= EFER_LMA;
    ck_assert(msr_write(&v, MSR_EFER, EFER_LME | EFER_SCE));
    ck_assert_uint_eq(v.efer, EFER_LME | EFER_SCE | EFER_LMA);
    /* LME cannot change while paging is on. */
    ck_assert(!msr_write(&v, MSR_EFER, EFER_SCE));
    ck_assert_uint_eq(v.efer, EFER_LME | EFER_SCE | EFER_LMA);
}
END_TEST

START_TEST(pat_and_unknown)
{
    struct vcpu v;
    memset(&v, 0, sizeof(v));
    /* Every group of guest state in struct vcpu (no backend to ask). */
    v.loaded = VCPU_STATE_ALL;
    uint64_t val;
    ck_assert(msr_write(&v, MSR_PAT, 0x0007040600070406ull));
    ck_assert(msr_read(&v, MSR_PAT, &val));
    ck_assert_uint_eq(val, 0x0007040600070406ull);
    /* Type 2 is reserved: #GP, value kept. */
    ck_assert(!msr_write(&v, MSR_PAT, 0x0007040600070402ull));
    ck_assert_uint_eq(v.pat, 0x0007040600070406ull);
    ck_assert(!msr_read(&v, 0x12345678u, &val));
    ck_assert(!msr_write(&v, 0x12345678u, 0));
    /* The TSC reads and keeps counting. */
    uint64_t t1, t2;
    ck_assert(msr_read(&v, MSR_TSC, &t1));
    ck_assert(msr_read(&v, MSR_TSC, &t2));
    ck_assert_uint_ge(t2, t1);
}
END_TEST

START_TEST(tsc_misc_ds_and_pmu)
{
    struct vcpu v;
    memset(&v, 0, sizeof(v));
    /* Every group of guest state in struct vcpu (no backend to ask). */
    v.loaded = VCPU_STATE_ALL;
    uint64_t val, t;
    /* Writing the TSC moves it and IA32_TSC_ADJUST by the same amount. */
    ck_assert(msr_write(&v, MSR_TSC, 1ull << 62));
    ck_assert(msr_read(&v, MSR_TSC, &t));
    ck_assert_uint_ge(t, 1ull << 62);
    ck_assert_uint_lt(t, (1ull << 62) + (1ull << 40));
    ck_assert(msr_read(&v, 0x3b, &val));
    ck_assert_uint_eq(val, v.tsc_offset);
    /* Writing IA32_TSC_ADJUST back to 0 takes the TSC back. */
    ck_assert(msr_write(&v, 0x3b, 0));
    ck_assert(msr_read(&v, MSR_TSC, &t));
    ck_assert_uint_lt(t, 1ull << 62);
    /* MISC_ENABLE as QEMU resets it, kept as written. */
    ck_assert_uint_eq(msr_misc_enable_reset(1u << 3), 0x40001u);
    ck_assert_uint_eq(msr_misc_enable_reset(0), 1u);
    ck_assert(msr_write(&v, 0x1a0, 0x40001u));
    ck_assert(msr_read(&v, 0x1a0, &val));
    ck_assert_uint_eq(val, 0x40001u);
    /* DS_AREA: canonical addresses only. */
    ck_assert(msr_write(&v, 0x600, 0xffff800000001000ull));
    ck_assert(!msr_write(&v, 0x600, 0x0000800000000000ull));
    ck_assert(msr_read(&v, 0x600, &val));
    ck_assert_uint_eq(val, 0xffff800000001000ull);
    /* Performance counters read 0 and ignore writes (QEMU TCG). */
    const uint32_t pmu[] = {0xc1,  0x186,       0x187,       0x345,
                            0x38f, 0xc0010000u, 0xc0010007u, 0xc0010200u};
    for (unsigned i = 0; i < sizeof(pmu) / sizeof(pmu[0]); i++) {
        ck_assert(msr_write(&v, pmu[i], 0x12345));
        val = 1;
        ck_assert(msr_read(&v, pmu[i], &val));
        ck_assert_uint_eq(val, 0);
    }
    /* Just outside the ranges: still unknown. */
    ck_assert(!msr_read(&v, 0xc0010008u, &val));
    ck_assert(!msr_read(&v, 0x6e1, &val));
}
END_TEST

START_TEST(cr4_rules)
{
    /* No CPUID features: bits 0-10 only. */
    ck_assert_uint_eq(cr4_valid_bits(0, 0, 0, 0), 0x7ffu);
    /* PCID (1.ECX 17), XSAVE (1.ECX 26), SMEP (7.EBX 7), LA57 (7.ECX 16). */
    uint64_t valid = cr4_valid_bits((1u << 17) | (1u << 26), 1u << 7, 1u << 16, 0);
    ck_assert_uint_eq(valid, 0x7ffu | (1u << 17) | (1u << 18) | (1u << 20) | (1u << 12));
    uint64_t pae = CR4_PAE, lma = EFER_LMA | EFER_LME;
    ck_assert(cr4_write_ok(pae, pae | (1u << 18), valid, lma, CR0_PG | CR0_PE, 0));
    /* Reserved: bit 15 always, VMXE (13) when CPUID does not offer VMX. */
    ck_assert(!cr4_write_ok(pae, pae | (1u << 15), valid, lma, CR0_PG, 0));
    ck_assert(!cr4_write_ok(pae, pae | (1u << 13), valid, lma, CR0_PG, 0));
    /* PAE cannot go in long mode; LA57 cannot change there. */
    ck_assert(!cr4_write_ok(pae, 0, valid, lma, CR0_PG, 0));
    ck_assert(cr4_write_ok(pae, 0, valid, 0, 0, 0));
    ck_assert(!cr4_write_ok(pae, pae | (1u << 12), valid, lma, CR0_PG, 0));
    /* PCIDE: only in IA-32e mode with CR3[11:0] = 0. */
    ck_assert(cr4_write_ok(pae, pae | (1u << 17), valid, lma, CR0_PG, 0x1000));
    ck_assert(!cr4_write_ok(pae, pae | (1u << 17), valid, lma, CR0_PG, 0x1001));
    ck_assert(!cr4_write_ok(0, 1u << 17, valid, 0, 0, 0));
    /* CET needs CR0.WP. */
    valid = cr4_valid_bits(0, 0, 1u << 7, 0);
    ck_assert(!cr4_write_ok(0, 1u << 23, valid, 0, 0, 0));
    ck_assert(cr4_write_ok(0, 1u << 23, valid, 0, CR0_WP, 0));
}
END_TEST

/* ---- XCR0 ---- */

START_TEST(xcr0_rules)
{
    /* x87, SSE, AVX, MPX, AVX-512 (7 << 5), AMX (17, 18) supported. */
    uint64_t sup = 0x600ffull;
    ck_assert(xcr0_valid(1, sup));
    ck_assert(xcr0_valid(7, sup));
    ck_assert(xcr0_valid(0xe7, sup));
    ck_assert(xcr0_valid(0x60007ull, sup));
    ck_assert(!xcr0_valid(0, sup));       /* x87 off */
    ck_assert(!xcr0_valid(5, sup));       /* AVX without SSE */
    ck_assert(!xcr0_valid(0xb, sup));     /* BNDREGS without BNDCSR */
    ck_assert(xcr0_valid(0x1b, 0x1f));    /* both MPX components */
    ck_assert(!xcr0_valid(0x67, sup));    /* two of the three AVX-512 bits */
    ck_assert(!xcr0_valid(0xe3, sup));    /* AVX-512 without AVX */
    ck_assert(!xcr0_valid(0x20007, sup)); /* TILECFG without TILEDATA */
    ck_assert(!xcr0_valid(7, 3));         /* AVX not supported */
}
END_TEST

/* ---- CR0 writes ---- */

START_TEST(decode_cr_writes)
{
    struct cr_insn in;
    /* mov %eax, %cr0 */
    ck_assert_int_eq(cr_decode((const uint8_t *)"\x0f\x22\xc0", 3, false, &in), 0);
    ck_assert_int_eq(in.kind, CR_INSN_MOV);
    ck_assert_uint_eq(in.cr, 0);
    ck_assert_uint_eq(in.gpr, 0);
    ck_assert_uint_eq(in.len, 3);
    /* mov %rbx, %cr0 (ModRM rm = 3) */
    ck_assert_int_eq(cr_decode((const uint8_t *)"\x0f\x22\xc3", 3, true, &in), 0);
    ck_assert_uint_eq(in.gpr, 3);
    /* mov %r9, %cr0: REX.B */
    ck_assert_int_eq(cr_decode((const uint8_t *)"\x41\x0f\x22\xc1", 4, true, &in), 0);
    ck_assert_uint_eq(in.gpr, 9);
    ck_assert_uint_eq(in.len, 4);
    /* mov %rax, %cr4 (reg = 4) */
    ck_assert_int_eq(cr_decode((const uint8_t *)"\x0f\x22\xe0", 3, true, &in), 0);
    ck_assert_uint_eq(in.cr, 4);
    /* A REX byte outside 64-bit mode is INC/DEC, not a prefix. */
    ck_assert_int_eq(cr_decode((const uint8_t *)"\x41\x0f\x22\xc1", 4, false, &in), -1);
    /* clts */
    ck_assert_int_eq(cr_decode((const uint8_t *)"\x0f\x06", 2, false, &in), 0);
    ck_assert_int_eq(in.kind, CR_INSN_CLTS);
    ck_assert_uint_eq(in.len, 2);
    /* lmsw %dx (0F 01 F2: mod 3, /6, rm 2) */
    ck_assert_int_eq(cr_decode((const uint8_t *)"\x0f\x01\xf2", 3, false, &in), 0);
    ck_assert_int_eq(in.kind, CR_INSN_LMSW);
    ck_assert_uint_eq(in.gpr, 2);
    /* lmsw from memory, other opcodes, truncated bytes: refused. */
    ck_assert_int_eq(cr_decode((const uint8_t *)"\x0f\x01\x30", 3, false, &in), -1);
    ck_assert_int_eq(cr_decode((const uint8_t *)"\x0f\x20\xc0", 3, false, &in), -1);
    ck_assert_int_eq(cr_decode((const uint8_t *)"\x0f\x22", 2, false, &in), -1);
    ck_assert_int_eq(cr_decode((const uint8_t *)"\x90", 1, false, &in), -1);
}
END_TEST

START_TEST(cr0_rules)
{
    uint64_t pe = CR0_PE | CR0_ET, paged = pe | CR0_PG;
    /* Legal: enable paging in 32-bit mode, long mode with PAE, toggle WP. */
    ck_assert(cr0_write_ok(pe, paged, 0, 0, false));
    ck_assert(cr0_write_ok(pe, paged, EFER_LME, CR4_PAE, false));
    ck_assert(cr0_write_ok(paged, paged | CR0_WP, EFER_LME | EFER_LMA, CR4_PAE, true));
    /* CD and NW together are legal; NW alone is not. */
    ck_assert(cr0_write_ok(pe, pe | CR0_CD | CR0_NW, 0, 0, false));
    ck_assert(!cr0_write_ok(pe, pe | CR0_NW, 0, 0, false));
    /* Reserved high bits, PG without PE. */
    ck_assert(!cr0_write_ok(pe, pe | (1ull << 40), 0, 0, true));
    ck_assert(!cr0_write_ok(pe, CR0_PG | CR0_ET, 0, 0, false));
    /* Long mode without PAE. */
    ck_assert(!cr0_write_ok(pe, paged, EFER_LME, 0, false));
    /* Leaving paging from 64-bit code, but fine from compatibility mode. */
    ck_assert(!cr0_write_ok(paged, pe, EFER_LME | EFER_LMA, CR4_PAE, true));
    ck_assert(cr0_write_ok(paged, pe, EFER_LME | EFER_LMA, CR4_PAE, false));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hv_core");
    TCase *tc = tcase_create("cmdline");
    tcase_add_test(tc, defaults_and_file_name_skipped);
    tcase_add_test(tc, all_options);
    tcase_add_test(tc, sizes);
    tcase_add_test(tc, mem_rounded_and_ranged);
    tcase_add_test(tc, unknown_and_bad_options);
    tcase_add_test(tc, snapshot_events);
    tcase_add_test(tc, paging_options);
    tcase_add_test(tc, cdrom_option);
    suite_add_tcase(s, tc);
    tc = tcase_create("stats");
    tcase_add_test(tc, stats_count_and_report);
    tcase_add_test(tc, reason_names);
    suite_add_tcase(s, tc);
    tc = tcase_create("cpuid");
    tcase_add_test(tc, cpuid_leaf1);
    tcase_add_test(tc, cpuid_svm_hidden);
    tcase_add_test(tc, cpuid_hypervisor_leaves);
    tcase_add_test(tc, cpuid_follows_guest_state);
    tcase_add_test(tc, cpuid_no_pmu_no_pks);
    tcase_add_test(tc, cpuid_table_kept_answers);
    tcase_add_test(tc, fastpath_keeps_last_answer);
    suite_add_tcase(s, tc);
    tc = tcase_create("cr");
    tcase_add_test(tc, decode_cr_writes);
    tcase_add_test(tc, cr0_rules);
    suite_add_tcase(s, tc);
    tc = tcase_create("msr");
    tcase_add_test(tc, efer_rules);
    tcase_add_test(tc, pat_and_unknown);
    tcase_add_test(tc, tsc_misc_ds_and_pmu);
    tcase_add_test(tc, xcr0_rules);
    tcase_add_test(tc, cr4_rules);
    suite_add_tcase(s, tc);
    return check_main(s);
}
