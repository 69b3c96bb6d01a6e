/*
 * Unit tests for the QEMU monitor front-end's pure parts (mgmt/hmp): the
 * command table, the argument parser, expressions, the x/xp/print layout,
 * `info registers`, `info status`, the page-table walks of `info tlb` and
 * `info mem`, and the ELF core.  The expected texts are what QEMU 7.2's
 * monitor printed for the same input (the pattern guest,
 * guestkit/tests/pattern.c, on plain QEMU); tests/integration/hmp-qemu.sh
 * compares the two monitors live.
 */
#include <check.h>
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check_main.h"

#include "../../mgmt/common/guard.h"
#include "../../mgmt/hmp/bulk.h"
#include "../../mgmt/hmp/cmdtab.h"
#include "../../mgmt/hmp/elfcore.h"
#include "../../mgmt/hmp/expr.h"
#include "../../mgmt/hmp/hmp.h"
#include "../../mgmt/hmp/memdump.h"
#include "../../mgmt/hmp/pagewalk.h"
#include "../../mgmt/hmp/regs.h"
#include "../../mgmt/hmp/status.h"

/* ---- A machine for the handlers: the pattern guest's page, in memory ---- */

/* The pattern page as guestkit/tests/pattern.c fills it, at PAGE_ADDR. */
#define PAGE_ADDR 0x108000ull
static uint8_t page[4096];
static struct hmp_regs fake_regs;
static bool fake_paused;

static void fill_page(void)
{
    for (int i = 0; i < 256; i++)
        page[i] = (uint8_t)i;
    memcpy(&page[256], "hvkit pattern", 14);
    memset(&page[270], 0xff, sizeof(page) - 270);
}

static int fake_read(void *ctx, int dom, int cpu, uint64_t addr, void *buf, size_t len,
                     bool physical, struct hmp_err *err)
{
    (void)ctx, (void)dom, (void)cpu, (void)physical;
    if (addr < PAGE_ADDR || addr + len > PAGE_ADDR + sizeof(page)) {
        snprintf(err->desc, sizeof(err->desc), "guest-physical %#llx is outside guest RAM",
                 (unsigned long long)addr);
        return -1;
    }
    memcpy(buf, page + (addr - PAGE_ADDR), len);
    return 0;
}

static int fake_status(void *ctx, int dom, struct hmp_status *st, struct hmp_err *err)
{
    (void)ctx, (void)dom, (void)err;
    st->running = !fake_paused;
    snprintf(st->status, sizeof(st->status), "%s", fake_paused ? "paused" : "running");
    return 0;
}

static int fake_simple(void *ctx, int dom, const char *command, struct hmp_err *err)
{
    (void)ctx, (void)dom;
    if (!strcmp(command, "stop"))
        fake_paused = true;
    else if (!strcmp(command, "cont"))
        fake_paused = false;
    else {
        snprintf(err->desc, sizeof(err->desc), "no %s here", command);
        return -1;
    }
    return 0;
}

static int fake_regs_fn(void *ctx, int dom, int cpu, struct hmp_regs *r, struct hmp_err *err)
{
    (void)ctx, (void)dom, (void)err;
    if (cpu != 0)
        return -1;
    *r = fake_regs;
    return 0;
}

static int fake_cpus(void *ctx, int dom, struct hmp_cpu *c, int max, struct hmp_err *err)
{
    (void)ctx, (void)dom, (void)max, (void)err;
    c[0] = (struct hmp_cpu){.index = 0, .halted = false, .thread_id = -1};
    return 1;
}

static const struct hmp_backend fake = {
    .status = fake_status,
    .simple = fake_simple,
    .regs = fake_regs_fn,
    .read_mem = fake_read,
    .cpus = fake_cpus,
};

/* Run monitor lines on a fresh monitor over `be`; returns what it printed
 * (static buffer). */
static struct hmp mon;
static const char *run_on(const struct hmp_backend *be, const char *const *lines)
{
    static char *text;
    size_t len;
    free(text);
    FILE *out = open_memstream(&text, &len);
    hmp_init(&mon, out, be, NULL, 0);
    for (int i = 0; lines[i]; i++)
        hmp_run_line(&mon, lines[i]);
    fclose(out);
    return text;
}

#define RUN(...) run_on(&fake, (const char *const[]){__VA_ARGS__, NULL})

/* ---- The bulk path: a machine with save_mem ---- */

/* What the fake's save_mem saw: calls, the largest, whether the domain
 * was paused for every one, and the error it is to give (NULL: none). */
static int bulk_calls;
static uint64_t bulk_largest;
static bool bulk_all_paused;
static const char *bulk_fail;

/* Guest memory as save_mem writes it: the pattern page at PAGE_ADDR,
 * zeros elsewhere (physical); virtual reads only the page. */
static int fake_save_mem(void *ctx, int dom, int cpu, uint64_t addr, uint64_t len, bool physical,
                         const char *path, struct hmp_err *err)
{
    (void)ctx, (void)dom, (void)cpu;
    bulk_calls++;
    bulk_largest = len > bulk_largest ? len : bulk_largest;
    bulk_all_paused &= fake_paused;
    if (bulk_fail || (!physical && (addr < PAGE_ADDR || addr + len > PAGE_ADDR + sizeof(page)))) {
        snprintf(err->desc, sizeof(err->desc), "%s",
                 bulk_fail ? bulk_fail : "Invalid addr 0x0000000000108ff0/size 32 specified");
        return -1;
    }
    FILE *f = fopen(path, "wb");
    for (uint64_t a = addr; a < addr + len; a++)
        fputc(a >= PAGE_ADDR && a < PAGE_ADDR + sizeof(page) ? page[a - PAGE_ADDR] : 0, f);
    fclose(f);
    return 0;
}

static int fake_domain(void *ctx, int dom, struct hmp_domain *d, struct hmp_err *err)
{
    (void)ctx, (void)dom, (void)err;
    *d = (struct hmp_domain){.memory = 20u << 20, .vcpus = 1};
    return 0;
}

static const struct hmp_backend fake_bulk = {
    .status = fake_status,
    .simple = fake_simple,
    .regs = fake_regs_fn,
    .read_mem = fake_read,
    .save_mem = fake_save_mem,
    .cpus = fake_cpus,
    .domain = fake_domain,
};

#define RUN_BULK(...) run_on(&fake_bulk, (const char *const[]){__VA_ARGS__, NULL})

/* ---- The command table ---- */

START_TEST(test_table_sorted)
{
    const struct hmp_cmd *tables[2] = {hmp_cmds, hmp_info_cmds};
    for (int t = 0; t < 2; t++)
        for (const struct hmp_cmd *c = tables[t]; c->name; c++) {
            ck_assert_ptr_nonnull(c->help);
            ck_assert_ptr_nonnull(c->run);
            if (c[1].name)
                ck_assert_msg(strcmp(c->name, c[1].name) < 0, "%s before %s", c->name, c[1].name);
        }
}
END_TEST

START_TEST(test_aliases)
{
    ck_assert(hmp_cmd_matches("p", "print|p"));
    ck_assert(hmp_cmd_matches("print", "print|p"));
    ck_assert(!hmp_cmd_matches("pr", "print|p"));
    ck_assert(!hmp_cmd_matches("P", "print|p"));
    ck_assert_ptr_eq(hmp_cmd_find(hmp_cmds, "?"), hmp_cmd_find(hmp_cmds, "help"));
}
END_TEST

START_TEST(test_unknown_commands)
{
    ck_assert_str_eq(RUN("foo"), "unknown command: 'foo'\n");
    ck_assert_str_eq(RUN("info foo"), "unknown command: 'info foo'\n");
    ck_assert_str_eq(RUN("help foo"), "unknown command: 'foo'\n");
    ck_assert_str_eq(RUN("help info foo"), "unknown command: 'info foo'\n");
    ck_assert_str_eq(RUN("", "   "), "");
}
END_TEST

START_TEST(test_help_lines)
{
    ck_assert_str_eq(RUN("help x"), "x /fmt addr -- virtual memory dump starting at 'addr'\n");
    ck_assert_str_eq(RUN("help info status"),
                     "info status  -- show the current VM status (running|paused)\n");
    ck_assert_str_eq(RUN("help cont"), "cont|c  -- resume emulation\n");
    /* `info` alone and `help info` list the info commands. */
    char *info = strdup(RUN("info"));
    ck_assert(strstr(info, "info balloon  -- show balloon information\n") == info);
    ck_assert_str_eq(info, RUN("help info"));
    free(info);
    /* `help` alone lists every command, "help|? [cmd] -- show the help" among them. */
    ck_assert_ptr_nonnull(strstr(RUN("help"), "\nhelp|? [cmd] -- show the help\n"));
}
END_TEST

/* A command line the monitor cannot read: its error, then the line that
 * points at the command's help, as QEMU's monitor prints them. */
START_TEST(test_bad_arguments)
{
    static const struct {
        const char *line, *error, *help;
    } bad[] = {
        {"x", "unexpected end of expression", "x"},
        {"x /4q 0x1000", "invalid char in format: 'q'", "x"},
        {"x /s 0x108100", "invalid char in format: 's'", "x"},
        {"p 1 2", "print|p: extraneous characters at the end of line", "p"},
        {"stop junk", "stop|s: extraneous characters at the end of line", "stop"},
        {"info status junk", "status: extraneous characters at the end of line", "info status"},
        {"pmemsave 0 10", "pmemsave: string expected", "pmemsave"},
        {"cpu x", "invalid char 'x' in expression", "cpu"},
        {"memsave 0 0x100000000 f", "'memsave' has failed: integer is for 32-bit values",
         "memsave"},
        {"eject -x virtio0", "eject: unsupported option -x", "eject"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char want[256];
        snprintf(want, sizeof(want), "%s\nTry \"help %s\" for more information\n", bad[i].error,
                 bad[i].help);
        ck_assert_str_eq(RUN(bad[i].line), want);
    }
}
END_TEST

/* ---- Expressions ---- */

static int regs_of_fake(void *ctx, const char *name, int64_t *val)
{
    (void)ctx;
    return hmp_reg_value(&fake_regs, name, val);
}

/* Evaluate `text`; the value, with the message (if any) in `msg`. */
static int64_t eval(const char *text, char *msg, int *rc)
{
    char *buf = NULL;
    size_t len;
    FILE *out = open_memstream(&buf, &len);
    int64_t v = 0;
    *rc = hmp_expr(out, &text, regs_of_fake, NULL, &v);
    fclose(out);
    snprintf(msg, 128, "%s", buf);
    free(buf);
    return v;
}

START_TEST(test_expressions)
{
    char msg[128];
    int rc;
    ck_assert_int_eq(eval("1+2*3", msg, &rc), 7);
    ck_assert_int_eq(eval(" 5 %2", msg, &rc), 1);
    ck_assert_int_eq(eval("~0 & 0xff", msg, &rc), 0xff);
    /* QEMU's precedence: & binds tighter than +, so 1+3&2 is 1+(3&2). */
    ck_assert_int_eq(eval("1+3&2", msg, &rc), 3);
    ck_assert_int_eq(eval("-(2-5)*'A'", msg, &rc), 195);
    ck_assert_int_eq(eval("010 + 0x10", msg, &rc), 24);
    ck_assert_int_eq(eval("(-9223372036854775807-1) / -1", msg, &rc), INT64_MIN);
    eval("(1+2", msg, &rc);
    ck_assert_int_eq(rc, -1);
    ck_assert_str_eq(msg, "')' expected\n");
    eval("1/0", msg, &rc);
    ck_assert_str_eq(msg, "division by zero\n");
    eval("99999999999999999999999", msg, &rc);
    ck_assert_str_eq(msg, "number too large\n");
    eval("1+", msg, &rc);
    ck_assert_str_eq(msg, "unexpected end of expression\n");
    eval("$rax", msg, &rc);
    ck_assert_str_eq(msg, "unknown register\n");
    eval("#", msg, &rc);
    ck_assert_str_eq(msg, "invalid char '#' in expression\n");
}
END_TEST

START_TEST(test_registers_in_expressions)
{
    char msg[128];
    int rc;
    memset(&fake_regs, 0, sizeof(fake_regs));
    fake_regs.gpr[0] = 0x1234;
    fake_regs.gpr[4] = 0x8000;
    fake_regs.rip = 0x1001a8;
    fake_regs.seg[HMP_CS].base = 0x10;
    fake_regs.seg[HMP_CS].limit = 0xffffffff;
    ck_assert_int_eq(eval("$eax", msg, &rc), 0x1234);
    ck_assert_int_eq(eval("$sp + 8", msg, &rc), 0x8008);
    ck_assert_int_eq(eval("$esp", msg, &rc), 0x8000);
    ck_assert_int_eq(eval("$pc", msg, &rc), 0x1001b8);
    ck_assert_int_eq(eval("$eip", msg, &rc), 0x1001a8);
    /* A 32-bit field reads as signed, as QEMU's MD_I32. */
    ck_assert_int_eq(eval("$cs.limit", msg, &rc), -1);
    ck_assert_int_eq(eval("$cs.base", msg, &rc), 0x10);
}
END_TEST

/* ---- x, xp and print ---- */

START_TEST(test_x_layouts)
{
    fill_page();
    ck_assert_str_eq(RUN("x /16xb 0x108000"),
                     "0000000000108000: 0x00 0x01 0x02 0x03 0x04 0x05 0x06 0x07\n"
                     "0000000000108008: 0x08 0x09 0x0a 0x0b 0x0c 0x0d 0x0e 0x0f\n");
    ck_assert_str_eq(RUN("xp /8xh 0x108000"),
                     "0000000000108000: 0x0100 0x0302 0x0504 0x0706 0x0908 0x0b0a 0x0d0c 0x0f0e\n");
    ck_assert_str_eq(RUN("x /2xg 0x108000"),
                     "0000000000108000: 0x0706050403020100 0x0f0e0d0c0b0a0908\n");
    ck_assert_str_eq(RUN("x /10dw 0x108000"),
                     "0000000000108000:   50462976  117835012  185207048  252579084\n"
                     "0000000000108010:  319951120  387323156  454695192  522067228\n"
                     "0000000000108020:  589439264  656811300\n");
    ck_assert_str_eq(RUN("x /10ub 0x1080f0"), "00000000001080f0: 240 241 242 243 244 245 246 247\n"
                                              "00000000001080f8: 248 249\n");
    ck_assert_str_eq(RUN("x /4ob 0x108000"), "0000000000108000:   0  01  02  03\n");
    ck_assert_str_eq(RUN("x /20cb 0x108040"), "0000000000108040: '@' 'A' 'B' 'C' 'D' 'E' 'F' 'G'\n"
                                              "0000000000108048: 'H' 'I' 'J' 'K' 'L' 'M' 'N' 'O'\n"
                                              "0000000000108050: 'P' 'Q' 'R' 'S'\n");
    /* /c with a size: QEMU counts bytes by the size but prints characters. */
    ck_assert_str_eq(RUN("x /4cw 0x108100"),
                     "0000000000108100: 'h' 'v' 'k' 'i' 't' ' ' 'p' 'a' 't' "
                     "'t' 'e' 'r' 'n' '\\x00' '\\xff' '\\xff'\n");
    ck_assert_str_eq(RUN("x /3dg 0x108ff0"),
                     "0000000000108ff0:                   -1                   -1\n"
                     "0000000000109000: Cannot access memory\n");
    ck_assert_str_eq(RUN("x /2dw 0x108ff0"), "0000000000108ff0: 4294967295 4294967295\n");
    ck_assert_str_eq(RUN("x /2og 0x108000"),
                     "0000000000108000:  034060120200300400400  074160320601302404410\n");
    ck_assert_str_eq(RUN("x /2oh 0x108000"), "0000000000108000:   0400  01402\n");
    ck_assert_str_eq(RUN("xp /2xg 0x10000000"), "0000000010000000: Cannot access memory\n");
    ck_assert_str_eq(RUN("x /0x 0x108000"), "");
}
END_TEST

START_TEST(test_fmt_remembered)
{
    fill_page();
    /* The last /fmt's format and size carry over to x without one, and a
     * /fmt with only a count keeps them; a new monitor starts at /1xw. */
    ck_assert_str_eq(RUN("x 0x108000"), "0000000000108000: 0x03020100\n");
    ck_assert_str_eq(RUN("x /3ub 0x108100", "x 0x108000", "x /2 0x108000", "x /x 0x108000"),
                     "0000000000108100: 104 118 107\n"
                     "0000000000108000:   0\n"
                     "0000000000108000:   0   1\n"
                     "0000000000108000: 0x00\n");
    ck_assert_str_eq(RUN("x/4x 0x108000"), "0000000000108000: 0x03020100 0x07060504 0x0b0a0908 "
                                           "0x0f0e0d0c\n");
    /* print shares the remembered format. */
    ck_assert_str_eq(RUN("p /u -1", "p -1"), "18446744073709551615\n18446744073709551615\n");
}
END_TEST

START_TEST(test_print)
{
    ck_assert_str_eq(RUN("p 1+2*3"), "0x7\n");
    ck_assert_str_eq(RUN("p /x 255"), "0xff\n");
    ck_assert_str_eq(RUN("print /o 8"), "010\n");
    ck_assert_str_eq(RUN("p /d -1"), "-1\n");
    ck_assert_str_eq(RUN("p /x 0", "p /o 0"), "0\n0\n");
    ck_assert_str_eq(RUN("p /c 65", "p /c 321", "p /c 10"), "'A'\n'\\x141'\n'\\n'\n");
    ck_assert_str_eq(RUN("p /d 'A'"), "65\n");
}
END_TEST

/* ---- Run state ---- */

START_TEST(test_status)
{
    fake_paused = false;
    ck_assert_str_eq(RUN("info status", "stop", "info status", "c", "info status"),
                     "VM status: running\nVM status: paused\nVM status: running\n");
    char *buf = NULL;
    size_t len;
    FILE *out = open_memstream(&buf, &len);
    struct hmp_status st = {.running = false, .status = "guest-panicked"};
    hmp_print_status(out, &st);
    snprintf(st.status, sizeof(st.status), "shutdown");
    hmp_print_status(out, &st);
    fclose(out);
    ck_assert_str_eq(buf, "VM status: paused (guest-panicked)\nVM status: paused (shutdown)\n");
    free(buf);
}
END_TEST

START_TEST(test_missing_features)
{
    static const struct hmp_backend none;
    const char *const lines[] = {"savevm s1",  "loadvm s1",    "delvm s1", "info snapshots",
                                 "balloon 64", "info balloon", "info kvm", "eject foo",
                                 "commit foo", "commit all",   NULL};
    ck_assert_str_eq(run_on(&none, lines), "Error: no block device can store vmstate for snapshot\n"
                                           "Error: no block device can store vmstate for snapshot\n"
                                           "no block device can store vmstate for snapshot\n"
                                           "Error: No balloon device has been activated\n"
                                           "Error: No balloon device has been activated\n"
                                           "kvm support: disabled\n"
                                           "Error: Device 'foo' not found\n"
                                           "Device 'foo' not found\n");
}
END_TEST

/* ---- info snapshots ---- */

/* The snapshots QEMU 7.2 listed for a qcow2 disk: one taken with the
 * monitor's savevm (no icount recorded), one with qemu-img snapshot -c
 * (icount 0); `fake_nsnap` of them. */
static int fake_nsnap;
static int fake_snapshots(void *ctx, int dom, struct img_snapshot_info *sn, int max,
                          struct hmp_err *err)
{
    (void)ctx, (void)dom, (void)err;
    static const struct img_snapshot_info two[2] = {
        {"1", "snapA", 433152, 1796308303, 0, 0, UINT64_MAX, 16 << 20},
        {"2", "diskonly", 0, 1796308312, 0, 0, 0, 16 << 20},
    };
    int n = fake_nsnap < max ? fake_nsnap : max;
    memcpy(sn, two, (size_t)n * sizeof(*sn));
    return n;
}

START_TEST(test_info_snapshots)
{
    static const struct hmp_backend be = {.snapshots = fake_snapshots};
    const char *const lines[] = {"info snapshots", NULL};
    /* QEMU prints the dates in local time: the expected text is UTC's. */
    setenv("TZ", "UTC", 1);
    tzset();
    fake_nsnap = 0;
    ck_assert_str_eq(run_on(&be, lines), "There is no snapshot available.\n");
    fake_nsnap = 2;
    ck_assert_str_eq(
        run_on(&be, lines),
        "List of snapshots present on all disks:\n"
        "ID        TAG               VM SIZE                DATE     VM CLOCK     ICOUNT\n"
        "--        snapA             423 KiB 2026-12-03 14:31:43 00:00:00.000           \n"
        "--        diskonly              0 B 2026-12-03 14:31:52 00:00:00.000          0\n");
}
END_TEST

/* ---- balloon and commit ---- */

static uint64_t fake_balloon_bytes;
static int fake_balloon(void *ctx, int dom, uint64_t bytes, struct hmp_err *err)
{
    (void)ctx, (void)dom;
    if (bytes == 0) {
        snprintf(err->desc, sizeof(err->desc), "Parameter 'target' expects a size");
        return -1;
    }
    fake_balloon_bytes = bytes;
    return 0;
}

static int fake_balloon_info(void *ctx, int dom, uint64_t *actual, struct hmp_err *err)
{
    (void)ctx, (void)dom, (void)err;
    *actual = fake_balloon_bytes;
    return 0;
}

/* Two disks: virtio0 without a backing file, virtio1 with one that cannot
 * be written (hv's -snapshot overlay). */
static int fake_block(void *ctx, int dom, struct hmp_block *b, int max, struct hmp_err *err)
{
    (void)ctx, (void)dom, (void)max, (void)err;
    memset(b, 0, 2 * sizeof(*b));
    snprintf(b[0].device, sizeof(b[0].device), "virtio0");
    snprintf(b[1].device, sizeof(b[1].device), "virtio1");
    return 2;
}

static int fake_commit(void *ctx, int dom, const char *device, struct hmp_err *err)
{
    (void)ctx, (void)dom;
    const char *cls = "GenericError", *desc = "Operation not supported";
    if (!strcmp(device, "virtio1"))
        desc = "Permission denied";
    else if (strcmp(device, "virtio0"))
        cls = "DeviceNotFound", desc = "no such disk";
    snprintf(err->cls, sizeof(err->cls), "%s", cls);
    snprintf(err->desc, sizeof(err->desc), "%s", desc);
    return -1;
}

/* Two disks: one that saw requests, one that saw none (QMP then has no
 * idle_time_ns and QEMU prints 0). */
static int fake_blockstats(void *ctx, int dom, struct hmp_blockstats *s, int max,
                           struct hmp_err *err)
{
    (void)ctx, (void)dom, (void)max, (void)err;
    s[0] = (struct hmp_blockstats){.device = "virtio0",
                                   .rd_bytes = 1069568,
                                   .wr_bytes = 1064960,
                                   .rd_operations = 130,
                                   .wr_operations = 60,
                                   .flush_operations = 1,
                                   .rd_total_time_ns = 26260049,
                                   .wr_total_time_ns = 42480965,
                                   .flush_total_time_ns = 15608312,
                                   .idle_time_ns = 813914843,
                                   .has_idle = true};
    s[1] = (struct hmp_blockstats){.device = "virtio1", .idle_time_ns = 7};
    return 2;
}

/* info blockstats: QEMU 7.2's line, as its monitor printed it for the vblk
 * guest on microvm (the first line), and its refusal of an argument. */
START_TEST(test_info_blockstats)
{
    static const struct hmp_backend be = {.blockstats = fake_blockstats};
    const char *const lines[] = {"info blockstats", "info blockstats foo", NULL};
    ck_assert_str_eq(
        run_on(&be, lines),
        "virtio0: rd_bytes=1069568 wr_bytes=1064960 rd_operations=130 wr_operations=60 "
        "flush_operations=1 wr_total_time_ns=42480965 rd_total_time_ns=26260049 "
        "flush_total_time_ns=15608312 rd_merged=0 wr_merged=0 idle_time_ns=813914843\n"
        "virtio1: rd_bytes=0 wr_bytes=0 rd_operations=0 wr_operations=0 flush_operations=0 "
        "wr_total_time_ns=0 rd_total_time_ns=0 flush_total_time_ns=0 rd_merged=0 wr_merged=0 "
        "idle_time_ns=0\n"
        "blockstats: extraneous characters at the end of line\n"
        "Try \"help info blockstats\" for more information\n");
}
END_TEST

START_TEST(test_balloon_commit)
{
    static const struct hmp_backend be = {.balloon = fake_balloon,
                                          .balloon_info = fake_balloon_info,
                                          .block = fake_block,
                                          .commit = fake_commit};
    const char *const lines[] = {"balloon 96",     "info balloon", "balloon 0",  "balloon -1",
                                 "commit virtio0", "commit foo",   "commit all", NULL};
    /* QEMU 7.2's texts: info balloon in MiB, its refusals, and commit's
     * (a disk without a backing file: ENOTSUP; "not found" without
     * "Error: "). */
    ck_assert_str_eq(run_on(&be, lines), "balloon: actual=96\n"
                                         "Error: Parameter 'target' expects a size\n"
                                         "enter a positive value\n"
                                         "Try \"help balloon\" for more information\n"
                                         "'commit' error for 'virtio0': Operation not supported\n"
                                         "Device 'foo' not found\n"
                                         "'commit' error for 'all': Permission denied\n");
}
END_TEST

/* ---- info registers ---- */

/* The pattern guest's registers as QEMU 7.2 printed them. */
static void qemu_regs(struct hmp_regs *r)
{
    memset(r, 0, sizeof(*r));
    static const uint64_t g[16] = {0xb475c22e, 0x121f58, 0x3f8, 1, 0x121fb0, 0x109080,
                                   0,          0,        0x10,  0, 0,        0x106640};
    memcpy(r->gpr, g, sizeof(g));
    r->rip = 0x1001a8;
    r->rflags = 6;
    struct hmp_seg data = {0x10, 0, 0xffffffff, 0x00cf9300, true, true};
    for (int i = 0; i < 6; i++)
        r->seg[i] = data;
    r->seg[HMP_CS] = (struct hmp_seg){8, 0, 0xffffffff, 0x00af9a00, true, true};
    r->ldt = (struct hmp_seg){0, 0, 0xffff, 0x8200, true, true};
    r->tr = (struct hmp_seg){0, 0, 0xffff, 0x8b00, true, true};
    r->gdt_base = 0x106480, r->gdt_limit = 0x17;
    r->idt_base = 0x109cc0, r->idt_limit = 0xfff;
    r->cr0 = 0x80000011, r->cr3 = 0x114000, r->cr4 = 0x20;
    r->dr[6] = 0xffff0ff0, r->dr[7] = 0x400;
    r->efer = 0x500;
    r->cpl = -1;
    r->known_gdt = r->known_idt = r->known_dr = true;
}

START_TEST(test_info_registers)
{
    qemu_regs(&fake_regs);
    ck_assert_str_eq(
        RUN("info registers"),
        "\nCPU#0\n"
        "RAX=00000000b475c22e RBX=0000000000000001 RCX=0000000000121f58 RDX=00000000000003f8\n"
        "RSI=0000000000000000 RDI=0000000000000000 RBP=0000000000109080 RSP=0000000000121fb0\n"
        "R8 =0000000000000010 R9 =0000000000000000 R10=0000000000000000 R11=0000000000106640\n"
        "R12=0000000000000000 R13=0000000000000000 R14=0000000000000000 R15=0000000000000000\n"
        "RIP=00000000001001a8 RFL=00000006 [-----P-] CPL=0 II=0 A20=1 SMM=0 HLT=0\n"
        "ES =0010 0000000000000000 ffffffff 00cf9300 DPL=0 DS   [-WA]\n"
        "CS =0008 0000000000000000 ffffffff 00af9a00 DPL=0 CS64 [-R-]\n"
        "SS =0010 0000000000000000 ffffffff 00cf9300 DPL=0 DS   [-WA]\n"
        "DS =0010 0000000000000000 ffffffff 00cf9300 DPL=0 DS   [-WA]\n"
        "FS =0010 0000000000000000 ffffffff 00cf9300 DPL=0 DS   [-WA]\n"
        "GS =0010 0000000000000000 ffffffff 00cf9300 DPL=0 DS   [-WA]\n"
        "LDT=0000 0000000000000000 0000ffff 00008200 DPL=0 LDT\n"
        "TR =0000 0000000000000000 0000ffff 00008b00 DPL=0 TSS64-busy\n"
        "GDT=     0000000000106480 00000017\n"
        "IDT=     0000000000109cc0 00000fff\n"
        "CR0=80000011 CR2=0000000000000000 CR3=0000000000114000 CR4=00000020\n"
        "DR0=0000000000000000 DR1=0000000000000000 DR2=0000000000000000 DR3=0000000000000000 \n"
        "DR6=00000000ffff0ff0 DR7=0000000000000400\n"
        "EFER=0000000000000500\n");
    ck_assert_str_eq(RUN("info registers 1"), "CPU#1 not available\n");
}
END_TEST

START_TEST(test_registers_unknown_parts)
{
    /* What hv's protocol version 1 leaves out prints as dashes. */
    qemu_regs(&fake_regs);
    for (int i = 0; i < 6; i++)
        fake_regs.seg[i].known_desc = false;
    fake_regs.ldt.known_desc = fake_regs.ldt.known_base = false;
    fake_regs.known_gdt = fake_regs.known_dr = false;
    const char *out = RUN("info registers");
    ck_assert_ptr_nonnull(strstr(out, "\nCS =---- 0000000000000000 -------- --------\n"));
    ck_assert_ptr_nonnull(strstr(out, "\nLDT=---- ---------------- -------- --------\n"));
    ck_assert_ptr_nonnull(strstr(out, "\nGDT=     ---------------- --------\n"));
    ck_assert_ptr_nonnull(strstr(out, "\nDR6=---------------- DR7=----------------\n"));
    ck_assert_ptr_nonnull(strstr(out, "\nRIP=00000000001001a8 RFL=00000006 [-----P-] CPL=0"));
}
END_TEST

START_TEST(test_registers_32bit)
{
    /* A guest in 32-bit protected mode (the foreign guest's mode). */
    qemu_regs(&fake_regs);
    fake_regs.efer = 0;
    fake_regs.cr0 = 0x11;
    fake_regs.seg[HMP_CS].flags = 0x00cf9b00;
    const char *out = RUN("info registers");
    ck_assert_ptr_nonnull(strstr(out, "\nEAX=b475c22e EBX=00000001 ECX=00121f58 EDX=000003f8\n"
                                      "ESI=00000000 EDI=00000000 EBP=00109080 ESP=00121fb0\n"
                                      "EIP=001001a8 EFL=00000006 [-----P-] CPL=0 II=0 A20=1 SMM=0 "
                                      "HLT=0\n"
                                      "ES =0010 00000000 ffffffff 00cf9300 DPL=0 DS   [-WA]\n"
                                      "CS =0008 00000000 ffffffff 00cf9b00 DPL=0 CS32 [-RA]\n"));
    ck_assert_ptr_nonnull(strstr(out, "\nTR =0000 00000000 0000ffff 00008b00 DPL=0 TSS32-busy\n"
                                      "GDT=     00106480 00000017\n"));
}
END_TEST

/* ---- info tlb and info mem over a small page table ---- */

/* Guest-physical memory for the walk: tables at 0x1000 (PML4), 0x2000
 * (PDPT), 0x3000 (PD) and 0x4000 (PT). */
static uint64_t tables[5][512];

static int table_read(void *ctx, uint64_t addr, uint64_t entries[512])
{
    (void)ctx;
    if (addr < 0x1000 || addr > 0x4000 || addr % 0x1000)
        return -1;
    memcpy(entries, tables[addr / 0x1000], sizeof(tables[0]));
    return 0;
}

START_TEST(test_page_walks)
{
    memset(tables, 0, sizeof(tables));
    tables[1][0] = 0x2000 | 0x7;                /* PML4[0] -> PDPT, user, writable */
    tables[1][511] = 0x2000 | 0x3;              /* PML4[511]: kernel half, supervisor */
    tables[2][0] = 0x3000 | 0x7;                /* PDPT[0] -> PD */
    tables[2][1] = 0x40000000 | 0x83 | 0x20;    /* PDPT[1]: 1 GiB page, accessed */
    tables[3][0] = 0x4000 | 0x7;                /* PD[0] -> PT */
    tables[3][1] = 0x200000 | 0x85 | 0x40;      /* PD[1]: 2 MiB page, user, read-only, dirty */
    tables[4][1] = 0x1000 | 0x7;                /* PT[1]: 4 KiB user page */
    tables[4][2] = 0x2000 | 0x3 | (1ull << 63); /* PT[2]: supervisor, no-execute */
    char *buf = NULL;
    size_t len;
    FILE *out = open_memstream(&buf, &len);
    hmp_tlb_info(out, 0x1000, table_read, NULL);
    fclose(out);
    ck_assert_str_eq(buf, "0000000000001000: 0000000000001000 -------UW\n"
                          "0000000000002000: 0000000000002000 X-------W\n"
                          "0000000000200000: 0000000000200000 --PD---U-\n"
                          "0000000040000000: 0000000040000000 --P-A---W\n"
                          "ffffff8000001000: 0000000000001000 -------UW\n"
                          "ffffff8000002000: 0000000000002000 X-------W\n"
                          "ffffff8000200000: 0000000000200000 --PD---U-\n"
                          "ffffff8040000000: 0000000040000000 --P-A---W\n");
    free(buf);
}
END_TEST

START_TEST(test_mem_info)
{
    memset(tables, 0, sizeof(tables));
    tables[1][0] = 0x2000 | 0x7;
    tables[2][0] = 0x3000 | 0x7;
    tables[3][0] = 0x4000 | 0x7;
    tables[3][1] = 0x200000 | 0x85; /* 2 MiB, user, read-only */
    tables[4][1] = 0x1000 | 0x7;
    tables[4][2] = 0x2000 | 0x7;
    tables[4][3] = 0x3000 | 0x3; /* supervisor */
    char *buf = NULL;
    size_t len;
    FILE *out = open_memstream(&buf, &len);
    hmp_mem_info(out, 0x1000, table_read, NULL);
    fclose(out);
    ck_assert_str_eq(buf, "0000000000001000-0000000000003000 0000000000002000 urw\n"
                          "0000000000003000-0000000000004000 0000000000001000 -rw\n"
                          "0000000000200000-0000000000400000 0000000000200000 ur-\n");
    free(buf);
}
END_TEST

/* ---- memsave and the ELF core ---- */

START_TEST(test_memsave)
{
    fill_page();
    /* A relative name: after the size expression QEMU would read "/tmp"
     * as a division, and so does hvkit's monitor. */
    ck_assert_int_eq(chdir("/tmp"), 0);
    char name[] = "hmp-memsave-XXXXXX";
    int fd = mkstemp(name);
    ck_assert_int_ge(fd, 0);
    close(fd);
    char line[128];
    snprintf(line, sizeof(line), "pmemsave 0x108100 14 %s", name);
    ck_assert_str_eq(RUN(line), "");
    FILE *f = fopen(name, "rb");
    char got[32] = {0};
    ck_assert_uint_eq(fread(got, 1, sizeof(got), f), 14);
    fclose(f);
    ck_assert_str_eq(got, "hvkit pattern");
    /* A save that cannot read its memory fails and leaves no file, and
     * an existing file as it was. */
    snprintf(line, sizeof(line), "memsave 0x108ff0 0x20 %s", name);
    ck_assert_str_eq(RUN(line), "Error: Invalid addr 0x0000000000108ff0/size 32 specified\n");
    f = fopen(name, "rb");
    ck_assert_uint_eq(fread(got, 1, sizeof(got), f), 14);
    fclose(f);
    unlink(name);
    ck_assert_str_eq(RUN(line), "Error: Invalid addr 0x0000000000108ff0/size 32 specified\n");
    ck_assert_int_ne(access(name, F_OK), 0);
    ck_assert_str_eq(RUN("memsave 0x108000 1 nonexistent/f"),
                     "Error: Could not open 'nonexistent/f': No such file or directory\n");
    ck_assert_str_eq(RUN("pmemsave 0 10 /tmp/f"), "invalid char 't' in expression\n"
                                                  "Try \"help pmemsave\" for more information\n");
}
END_TEST

static int core_read(void *ctx, uint64_t addr, void *buf, size_t len, struct hmp_err *err)
{
    return fake_read(ctx, 0, 0, addr, buf, len, true, err);
}

START_TEST(test_elf_core)
{
    fill_page();
    qemu_regs(&fake_regs);
    char *buf = NULL;
    size_t len;
    FILE *f = open_memstream(&buf, &len);
    struct hmp_core_range r = {PAGE_ADDR, 4096};
    struct hmp_err err;
    ck_assert_int_eq(hmp_write_core(f, &fake_regs, 1, &r, 1, core_read, NULL, &err), 0);
    fclose(f);
    const Elf64_Ehdr *eh = (const void *)buf;
    ck_assert_int_eq(memcmp(eh->e_ident, ELFMAG, SELFMAG), 0);
    ck_assert_int_eq(eh->e_type, ET_CORE);
    ck_assert_int_eq(eh->e_machine, EM_X86_64);
    ck_assert_int_eq(eh->e_phnum, 2);
    const Elf64_Phdr *ph = (const void *)(buf + eh->e_phoff);
    ck_assert_int_eq(ph[0].p_type, PT_NOTE);
    /* NT_PRSTATUS (12 + 8 + 336) and the QEMU note (12 + 8 + 440). */
    ck_assert_uint_eq(ph[0].p_filesz, 356 + 460);
    const Elf64_Nhdr *nh = (const void *)(buf + ph[0].p_offset);
    ck_assert_int_eq(nh->n_type, NT_PRSTATUS);
    ck_assert_str_eq((const char *)(nh + 1), "CORE");
    /* pr_reg starts at 112 in the descriptor; RIP is its 17th member. */
    uint64_t rip;
    memcpy(&rip, (const char *)(nh + 1) + 8 + 112 + 16 * 8, 8);
    ck_assert_uint_eq(rip, 0x1001a8);
    ck_assert_int_eq(ph[1].p_type, PT_LOAD);
    ck_assert_uint_eq(ph[1].p_paddr, PAGE_ADDR);
    ck_assert_uint_eq(ph[1].p_filesz, 4096);
    ck_assert_uint_eq(ph[1].p_offset + 4096, len);
    ck_assert_int_eq(memcmp(buf + ph[1].p_offset, page, 4096), 0);
    free(buf);
    /* A range that cannot be read fails the dump. */
    f = open_memstream(&buf, &len);
    r.start = 0x200000;
    ck_assert_int_eq(hmp_write_core(f, &fake_regs, 1, &r, 1, core_read, NULL, &err), -1);
    fclose(f);
    free(buf);
}
END_TEST

/* memsave, pmemsave and dump-guest-memory by the bulk path: the bytes
 * the machine saved, in chunks of at most HMP_BULK_CHUNK; QEMU's words
 * for a range that cannot be read (the command's own range), the
 * machine's for anything else; the domain paused for a dump and running
 * again after it; and nothing left behind but the files that worked. */
START_TEST(test_bulk_path)
{
    fill_page();
    qemu_regs(&fake_regs);
    char dir[] = "/tmp/hmp-bulk-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(chdir(dir), 0);
    bulk_calls = 0;
    ck_assert_str_eq(RUN_BULK("pmemsave 0x108100 14 p.bin", "memsave 0x108100 14 v.bin"), "");
    ck_assert_int_eq(bulk_calls, 2);
    char got[32] = {0};
    FILE *f = fopen("v.bin", "rb");
    ck_assert_uint_eq(fread(got, 1, sizeof(got), f), 14);
    fclose(f);
    ck_assert_str_eq(got, "hvkit pattern");
    ck_assert_str_eq(RUN_BULK("memsave 0x108ff0 0x20 bad.bin"),
                     "Error: Invalid addr 0x0000000000108ff0/size 32 specified\n");
    bulk_fail = "this manager has no staging disk for guest memory";
    ck_assert_str_eq(RUN_BULK("pmemsave 0 16 p.bin"),
                     "Error: this manager has no staging disk for guest memory\n");
    bulk_fail = NULL;
    /* The old p.bin is as it was. */
    f = fopen("p.bin", "rb");
    ck_assert_uint_eq(fread(got, 1, sizeof(got), f), 14);
    fclose(f);
    /* The dump: 20 MiB in three chunks, paused meanwhile. */
    bulk_calls = 0, bulk_largest = 0, bulk_all_paused = true, fake_paused = false;
    ck_assert_str_eq(RUN_BULK("dump-guest-memory core.elf"), "");
    ck_assert_int_eq(bulk_calls, 3);
    ck_assert_uint_eq(bulk_largest, HMP_BULK_CHUNK);
    ck_assert(bulk_all_paused);
    ck_assert(!fake_paused);
    f = fopen("core.elf", "rb");
    Elf64_Ehdr eh;
    Elf64_Phdr ph[2];
    ck_assert_uint_eq(fread(&eh, sizeof(eh), 1, f), 1);
    ck_assert_uint_eq(fread(ph, sizeof(ph), 1, f), 1);
    ck_assert_uint_eq(ph[1].p_filesz, 20u << 20);
    uint8_t at[4096];
    fseek(f, (long)(ph[1].p_offset + PAGE_ADDR), SEEK_SET);
    ck_assert_uint_eq(fread(at, 1, sizeof(at), f), sizeof(at));
    ck_assert_int_eq(memcmp(at, page, sizeof(page)), 0);
    fseek(f, 0, SEEK_END);
    ck_assert_int_eq(ftell(f), (long)(ph[1].p_offset + (20u << 20)));
    fclose(f);
    /* A dump whose memory cannot be saved: no core, running again. */
    bulk_fail = "An IO error has occurred";
    ck_assert_str_eq(RUN_BULK("dump-guest-memory c2.elf"), "Error: An IO error has occurred\n");
    bulk_fail = NULL;
    ck_assert(!fake_paused);
    /* Nothing else in the directory: no chunk files, no temporary files. */
    char cmd[128], names[256] = {0};
    snprintf(cmd, sizeof(cmd), "ls -A %s", dir);
    FILE *ls = popen(cmd, "r");
    ck_assert_uint_gt(fread(names, 1, sizeof(names) - 1, ls), 0);
    pclose(ls);
    ck_assert_str_eq(names, "core.elf\np.bin\nv.bin\n");
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(chdir("/tmp"), 0);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* ---- A monitor that dies mid-dump ---- */

/* Where the dying machine's simple_apart writes each command it is given
 * (it runs in the output's guard, a process of its own), and on which
 * save_mem call the monitor dies. */
static char apart_log[64];
static int die_on_call, dying_calls;

static int dying_save_mem(void *ctx, int dom, int cpu, uint64_t addr, uint64_t len, bool physical,
                          const char *path, struct hmp_err *err)
{
    /* Killed while the manager moves a chunk: the monitor ends at once,
     * with no handler's cleanup after it. */
    if (++dying_calls == die_on_call)
        _exit(9);
    return fake_save_mem(ctx, dom, cpu, addr, len, physical, path, err);
}

static int logged_apart(void *ctx, int dom, const char *command, struct hmp_err *err)
{
    (void)ctx, (void)dom, (void)err;
    FILE *f = fopen(apart_log, "a");
    fprintf(f, "%s\n", command);
    fclose(f);
    return 0;
}

static const struct hmp_backend dying_bulk = {
    .status = fake_status,
    .simple = fake_simple,
    .simple_apart = logged_apart,
    .regs = fake_regs_fn,
    .read_mem = fake_read,
    .save_mem = dying_save_mem,
    .cpus = fake_cpus,
    .domain = fake_domain,
};

/* A dump in a monitor process that dies on its second chunk, with the
 * domain running or paused before it: the lines the guard gave
 * simple_apart once it finished (the directory is empty then: the guard
 * removes the temporary core and the chunks' directory after the cont),
 * "" for none. */
static const char *dump_and_die(const char *dir, bool paused_before)
{
    static char log[64];
    snprintf(apart_log, sizeof(apart_log), "%s.apart", dir);
    unlink(apart_log);
    pid_t pid = fork();
    if (pid == 0) {
        fake_paused = paused_before;
        dying_calls = 0, die_on_call = 2;
        ck_assert_int_eq(chdir(dir), 0);
        run_on(&dying_bulk, (const char *const[]){"dump-guest-memory core.elf", NULL});
        _exit(0);
    }
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 9, "status %#x", st);
    char cmd[128], names[64];
    snprintf(cmd, sizeof(cmd), "ls -A %s", dir);
    for (int i = 0; i < 100; i++) {
        FILE *ls = popen(cmd, "r");
        size_t n = fread(names, 1, sizeof(names), ls);
        pclose(ls);
        if (n == 0)
            break;
        ck_assert_msg(i < 99, "the guard left %.*s", (int)n, names);
        usleep(50000);
    }
    log[0] = 0;
    FILE *f = fopen(apart_log, "r");
    if (f) {
        log[fread(log, 1, sizeof(log) - 1, f)] = 0;
        fclose(f);
    }
    unlink(apart_log);
    return log;
}

/* A monitor killed during dump-guest-memory leaves neither the core nor
 * its temporary files, and a domain the dump paused runs again: the
 * guard sends the cont on a connection of its own.  A domain that was
 * paused before the dump stays paused. */
START_TEST(test_dump_monitor_dies)
{
    fill_page();
    qemu_regs(&fake_regs);
    char dir[] = "/tmp/hmp-die-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_str_eq(dump_and_die(dir, false), "cont\n");
    ck_assert_str_eq(dump_and_die(dir, true), "");
    ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* The guard's finishing function for test_guard_group_kill: leave a
 * mark, the file whose name ctx is. */
static void mark(void *ctx, const char *steps)
{
    (void)steps;
    FILE *f = fopen(ctx, "w");
    if (f)
        fclose(f);
}

/* A front-end killed with its whole process group (a ^C, `timeout`,
 * kill -KILL -PGID) the moment guard_start has returned still has its
 * command finished: the guard is out of the group by then.  Before it
 * waited for the guard's word, the kill often came before the guard's
 * setsid and took the guard with it. */
START_TEST(test_guard_group_kill)
{
    char marker[] = "/tmp/hmp-guard-XXXXXX";
    int fd = mkstemp(marker);
    ck_assert_int_ge(fd, 0);
    close(fd);
    for (int round = 0; round < 40; round++) {
        unlink(marker);
        pid_t pid = fork();
        if (pid == 0) {
            setpgid(0, 0);
            struct guard g;
            guard_start(&g, mark, marker);
            kill(0, SIGKILL);
            _exit(1);
        }
        int st, i;
        ck_assert_int_eq(waitpid(pid, &st, 0), pid);
        ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
        for (i = 0; i < 200 && access(marker, F_OK) < 0; i++)
            usleep(10000);
        ck_assert_msg(i < 200, "round %d: the guard died with its front-end's group", round);
    }
    unlink(marker);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mgmt_hmp");
    TCase *tc = tcase_create("hmp");
    tcase_add_test(tc, test_table_sorted);
    tcase_add_test(tc, test_aliases);
    tcase_add_test(tc, test_unknown_commands);
    tcase_add_test(tc, test_help_lines);
    tcase_add_test(tc, test_bad_arguments);
    tcase_add_test(tc, test_expressions);
    tcase_add_test(tc, test_registers_in_expressions);
    tcase_add_test(tc, test_x_layouts);
    tcase_add_test(tc, test_fmt_remembered);
    tcase_add_test(tc, test_print);
    tcase_add_test(tc, test_status);
    tcase_add_test(tc, test_missing_features);
    tcase_add_test(tc, test_info_snapshots);
    tcase_add_test(tc, test_balloon_commit);
    tcase_add_test(tc, test_info_registers);
    tcase_add_test(tc, test_registers_unknown_parts);
    tcase_add_test(tc, test_registers_32bit);
    tcase_add_test(tc, test_page_walks);
    tcase_add_test(tc, test_mem_info);
    tcase_add_test(tc, test_memsave);
    tcase_add_test(tc, test_elf_core);
    tcase_add_test(tc, test_info_blockstats);
    tcase_add_test(tc, test_bulk_path);
    tcase_add_test(tc, test_dump_monitor_dies);
    tcase_add_test(tc, test_guard_group_kill);
    suite_add_tcase(s, tc);
    return check_main(s);
}
