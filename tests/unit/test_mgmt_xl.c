/*
 * Unit tests for xl's configuration reader (mgmt/xl/cfg.c, disk.c,
 * domcfg.c): the xl.cfg(5) syntax as Xen 4.17's libxlu reads it, the
 * xl-disk-configuration(5) forms, the keys hvkit acts on, and the messages
 * (file and line) for bad files.  The expected messages are libxlu's and
 * xl's texts for the same mistakes.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"

#include "../../mgmt/xl/cfg.h"
#include "../../mgmt/xl/disk.h"
#include "../../mgmt/xl/domcfg.h"
#include "../../mgmt/xl/fmt.h"
#include "../../mgmt/xl/jsonout.h"

/* The messages a parse printed, collected in memory. */
static char msgs[4096];

static int parse(struct xlcfg *cfg, const char *text)
{
    FILE *f = fmemopen(msgs, sizeof(msgs), "w");
    int rc = xlcfg_parse(cfg, "g.cfg", f, text, strlen(text));
    fclose(f);
    return rc;
}

/* Parse `text` into a domain; the messages land in msgs. */
static int dom(struct xldom *d, const char *text)
{
    struct xlcfg cfg;
    FILE *f = fmemopen(msgs, sizeof(msgs), "w");
    int rc = xlcfg_parse(&cfg, "g.cfg", f, text, strlen(text));
    if (rc == 0) {
        rc = xldom_from_cfg(d, &cfg);
        xlcfg_free(&cfg);
    }
    fclose(f);
    return rc;
}

START_TEST(test_syntax)
{
    struct xlcfg cfg;
    const char *text = "# a guest\n"
                       "name = \"g1\"; memory=64 # MiB\n"
                       "disk = [ 'a.qcow2,qcow2,xvda,rw',\n"
                       "         \"b.img,,xvdb,ro\", ]\n"
                       "extra = 'x\\ty'\n"
                       "\n"
                       "memory = 0x20\n"
                       "disk += [ 'c' ]\n"
                       "extra += \"z\"";
    ck_assert_int_eq(parse(&cfg, text), 0);
    ck_assert_int_eq(cfg.n, 4);
    const struct xlcfg_setting *s = xlcfg_find(&cfg, "name");
    ck_assert_str_eq(s->atom[0].text, "g1");
    ck_assert_int_eq(s->lineno, 2);
    s = xlcfg_find(&cfg, "memory");
    ck_assert(s->atom[0].is_number);
    ck_assert_str_eq(s->atom[0].text, "0x20"); /* the last setting counts */
    s = xlcfg_find(&cfg, "disk");
    ck_assert(s->is_list);
    ck_assert_int_eq(s->n, 3);
    ck_assert_str_eq(s->atom[1].text, "b.img,,xvdb,ro");
    ck_assert_str_eq(s->atom[2].text, "c");
    ck_assert_str_eq(xlcfg_find(&cfg, "extra")->atom[0].text, "x\tyz");
    ck_assert_ptr_null(xlcfg_find(&cfg, "vif"));
    xlcfg_free(&cfg);
}
END_TEST

START_TEST(test_syntax_errors)
{
    static const struct {
        const char *text, *msg;
    } cases[] = {
        {"name = \"a\"\nmemory 64\n",
         "g.cfg:2: config parsing error near `64': syntax error, unexpected NUMBER, expecting '=' "
         "or OP_ADD\n"},
        {"a = 1\nb = [ 1, 2\nc = 3\n",
         "g.cfg:3: config parsing error near `c': syntax error, unexpected IDENT, expecting ',' or "
         "']'\n"},
        {"a = \n",
         "g.cfg:1: config parsing error near <newline>: syntax error, unexpected NEWLINE, "
         "expecting STRING or NUMBER or '['\n"},
        {"a = 1 2\n", "g.cfg:1: config parsing error near `2': syntax error, unexpected NUMBER, "
                      "expecting NEWLINE or ';'\n"},
        {"\n\nllc-colors = \"9-13\"\n",
         "g.cfg:3: config parsing error near `-colors': lexical error\n"},
        {"a = \"open\n", "g.cfg:1: config parsing error near `\"open': lexical error\n"},
        {"= 3\n", "g.cfg:1: config parsing error near `=': syntax error, unexpected '=', expecting "
                  "IDENT or NEWLINE or ';'\n"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct xlcfg cfg;
        ck_assert_int_eq(parse(&cfg, cases[i].text), -1);
        ck_assert_str_eq(msgs, cases[i].msg);
        ck_assert_int_eq(cfg.n, 0);
    }
}
END_TEST

START_TEST(test_override)
{
    struct xlcfg cfg;
    ck_assert_int_eq(parse(&cfg, "name='a'\nmemory=64\n"), 0);
    FILE *f = fmemopen(msgs, sizeof(msgs), "w");
    cfg.report = f;
    ck_assert_int_eq(xlcfg_override(&cfg, "memory=96"), 0);
    ck_assert_int_eq(xlcfg_override(&cfg, "memory 96"), -1);
    fclose(f);
    ck_assert_str_eq(msgs, "command line:1: config parsing error near `96': syntax error, "
                           "unexpected NUMBER, expecting '=' or OP_ADD\n");
    ck_assert_str_eq(xlcfg_find(&cfg, "memory")->atom[0].text, "96");
    xlcfg_free(&cfg);
}
END_TEST

static int disk(struct xldisk *d, const char *spec)
{
    FILE *f = fmemopen(msgs, sizeof(msgs), "w");
    int rc = xldisk_parse(d, spec, "g.cfg", f);
    fclose(f);
    return rc;
}

START_TEST(test_disks)
{
    struct xldisk d;
    ck_assert_int_eq(disk(&d, "/img/a.qcow2,qcow2,xvda,rw"), 0);
    ck_assert_str_eq(d.target, "/img/a.qcow2");
    ck_assert_str_eq(d.format, "qcow2");
    ck_assert_str_eq(d.vdev, "xvda");
    ck_assert(!d.readonly && !d.cdrom);
    ck_assert_int_eq(disk(&d, "/dev/vg/guest-volume,,hda"), 0);
    ck_assert_str_eq(d.format, "raw");
    ck_assert_str_eq(d.vdev, "hda");
    ck_assert_int_eq(disk(&d, "/root/image.iso,,hdc,cdrom"), 0);
    ck_assert(d.cdrom && d.readonly);
    ck_assert_int_eq(disk(&d, "format=raw, vdev=hdc, access=ro, devtype=cdrom, target=/r/i,x.iso"),
                     0);
    ck_assert_str_eq(d.target, "/r/i,x.iso");
    ck_assert(d.cdrom && d.readonly);
    /* The deprecated vdev suffix (xl-disk-configuration(5)). */
    ck_assert_int_eq(disk(&d, "raw:/root/image.iso,hdc:cdrom,ro"), 0);
    ck_assert_str_eq(d.vdev, "hdc");
    ck_assert_str_eq(d.target, "/root/image.iso");
    ck_assert(d.cdrom && d.readonly);
    /* After an old prefix the format is not positional. */
    ck_assert_int_eq(disk(&d, "phy:/dev/vg/a,xvda,w"), 0);
    ck_assert_str_eq(d.target, "/dev/vg/a");
    ck_assert_str_eq(d.vdev, "xvda");
    ck_assert_int_eq(disk(&d, "tap:qcow2:/i/b.qcow2,xvdb,r"), 0);
    ck_assert_str_eq(d.format, "qcow2");
    ck_assert_str_eq(d.target, "/i/b.qcow2");
    ck_assert(d.readonly);
}
END_TEST

START_TEST(test_disk_errors)
{
    struct xldisk d;
    ck_assert_int_eq(disk(&d, "/usr/share/ovmf/OVMF.fd,hdb,w"), -1);
    ck_assert_str_eq(msgs, "g.cfg: config parsing error in disk specification: unknown value for "
                           "format: near `hdb' in `/usr/share/ovmf/OVMF.fd,hdb,w'\n");
    ck_assert_int_eq(disk(&d, "a.img,raw,xvda,rx"), -1);
    ck_assert_str_eq(msgs, "g.cfg: config parsing error in disk specification: unknown value for "
                           "access: near `rx' in `a.img,raw,xvda,rx'\n");
    ck_assert_int_eq(disk(&d, "a.img,raw,xvda,w,extra"), -1);
    ck_assert_str_eq(msgs, "g.cfg: config parsing error in disk specification: too many positional "
                           "parameters: near `extra' in `a.img,raw,xvda,w,extra'\n");
    ck_assert_int_eq(disk(&d, "a.img"), -1);
    ck_assert_str_eq(msgs,
                     "g.cfg: config parsing error in disk specification: no vdev specified in "
                     "`a.img'\n");
}
END_TEST

/* A disk written by xldisk_spec() reads back the same (a target with
 * commas too: target= comes last). */
START_TEST(test_disk_spec)
{
    struct xldisk d, back;
    char spec[XLDISK_TEXT_MAX + 128];
    const char *const cases[] = {"/img/a.qcow2,qcow2,xvda,rw", "b.img,raw,xvdb,ro",
                                 "vdev=hdc, devtype=cdrom, target=/r/i,x.iso", ",,hdc,cdrom"};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ck_assert_int_eq(disk(&d, cases[i]), 0);
        ck_assert(xldisk_spec(&d, spec, sizeof(spec)));
        ck_assert_int_eq(disk(&back, spec), 0);
        ck_assert_str_eq(back.target, d.target);
        ck_assert_str_eq(back.format, d.format);
        ck_assert_str_eq(back.vdev, d.vdev);
        ck_assert(back.readonly == d.readonly && back.cdrom == d.cdrom);
    }
    ck_assert_str_eq(spec, "vdev=hdc, access=ro, devtype=cdrom");
    ck_assert(!xldisk_spec(&d, spec, 10));
}
END_TEST

/* xlcfg_put_string() writes what the reader reads back whole. */
START_TEST(test_put_string)
{
    static const char *const values[] = {"/srv/a b.iso", "it's", "back\\slash",
                                         "tab\tnew\nline\0017"};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        char text[256];
        FILE *f = fmemopen(text, sizeof(text), "w");
        fputs("k = ", f);
        xlcfg_put_string(f, values[i]);
        fclose(f);
        struct xlcfg cfg;
        ck_assert_int_eq(parse(&cfg, text), 0);
        ck_assert_str_eq(xlcfg_find(&cfg, "k")->atom[0].text, values[i]);
        xlcfg_free(&cfg);
    }
}
END_TEST

/* cd-insert's line: the disk list again with the drive's new medium,
 * replacing the line an earlier change added and nothing else. */
START_TEST(test_cd_setting)
{
    static struct xldom d;
    const char *text = "name='g'\nkernel='k'\n"
                       "disk = [ 'a.qcow2,qcow2,xvda,rw', '/c/a.iso,,hdc,cdrom' ]\n";
    ck_assert_int_eq(dom(&d, text), 0);
    ck_assert_ptr_null(xldom_cd_setting(&d, "xvda", "/x"));
    ck_assert_ptr_null(xldom_cd_setting(&d, "hdd", "/x"));
    char *line = xldom_cd_setting(&d, "hdc", "/c/it's b.iso");
    ck_assert_str_eq(line, "disk = [ 'format=qcow2, vdev=xvda, access=rw, devtype=disk, "
                           "target=a.qcow2', 'format=raw, vdev=hdc, access=ro, devtype=cdrom, "
                           "target=/c/it\\'s b.iso' ]");
    /* The file with the line after it reads as the same disks but the
     * medium. */
    char all[1024];
    snprintf(all, sizeof(all), "%s\n%s\n", text, line);
    free(line);
    ck_assert_int_eq(dom(&d, all), 0);
    ck_assert_int_eq(d.ndisks, 2);
    ck_assert_str_eq(d.disk[0].target, "a.qcow2");
    ck_assert_str_eq(d.disk[0].format, "qcow2");
    ck_assert_str_eq(d.disk[1].target, "/c/it's b.iso");
    ck_assert(d.disk[1].cdrom && d.disk[1].readonly);
    /* An eject: the drive empty. */
    line = xldom_cd_setting(&d, "hdc", "");
    ck_assert_str_eq(strstr(line, "'vdev=hdc"), "'vdev=hdc, access=ro, devtype=cdrom' ]");
    free(line);
    /* The line a change added goes when the next comes: what is before
     * it, without the newlines; the file's own lines stay. */
    ck_assert_uint_eq(xlcfg_before_last(all, strlen(all), "disk"), strlen(text) - 1);
    ck_assert_uint_eq(xlcfg_before_last(text, strlen(text), "disk"),
                      strlen("name='g'\nkernel='k'"));
    const char *multi = "name='g'\ndisk = [ 'a,,xvda',\n  ',,hdc,cdrom' ]\n";
    ck_assert_uint_eq(xlcfg_before_last(multi, strlen(multi), "disk"), strlen(multi) - 1);
    const char *two = "name='g'\ndisk = [ ',,hdc,cdrom' ]; memory=64\n";
    ck_assert_uint_eq(xlcfg_before_last(two, strlen(two), "disk"), strlen(two) - 1);
    /* Several lines a restore added go together, and only all of them,
     * in their order. */
    static const char *const keys[] = {"name", "memory"};
    const char *restored = "kernel='k'\n\nname=\"g\"\n\nmemory=4\n";
    ck_assert_uint_eq(xlcfg_before_lines(restored, strlen(restored), keys, 2),
                      strlen("kernel='k'"));
    const char *swapped = "kernel='k'\nmemory=4\nname=\"g\"\n";
    ck_assert_uint_eq(xlcfg_before_lines(swapped, strlen(swapped), keys, 2), strlen(swapped) - 1);
    const char *one = "kernel='k'\nmemory=4\n";
    ck_assert_uint_eq(xlcfg_before_lines(one, strlen(one), keys, 2), strlen(one) - 1);
    ck_assert_uint_eq(xlcfg_before_lines("memory=4\n", 9, keys, 2), 8);
}
END_TEST

START_TEST(test_domain)
{
    struct xldom d;
    ck_assert_int_eq(dom(&d, "name='g'\ntype='pvh'\nkernel='k.elf'\nmemory=64\nmaxmem=96\n"
                             "root='/dev/xvda1'\nextra='quiet'\non_crash='preserve'\n"
                             "uuid='6fa459ea-ee8a-3ca4-894e-db77e160355e'\n"
                             "disk=['a.qcow2,qcow2,xvda,rw', 'b.img,raw,xvdb,ro']\n"
                             "vif=['bridge=xenbr0']\n"),
                     0);
    ck_assert_str_eq(d.name, "g");
    ck_assert_str_eq(d.type, "pvh");
    ck_assert_int_eq(d.memory, 64);
    ck_assert_int_eq(d.maxmem, 96);
    ck_assert_str_eq(d.cmdline, "root=/dev/xvda1 quiet");
    ck_assert_str_eq(d.on_poweroff, "destroy");
    ck_assert_str_eq(d.on_reboot, "restart");
    ck_assert_str_eq(d.on_crash, "preserve");
    ck_assert_int_eq(d.ndisks, 2);
    ck_assert(d.disk[1].readonly);
    ck_assert_str_eq(msgs, "g.cfg:11: hvkit: warning: `vif' is accepted but not acted on (hvkit "
                           "has no virtual network)\n");
    /* maxvcpus above vcpus: built with it, no warning (xl vcpu-set moves
     * between).  (fmemopen leaves the buffer alone when nothing is
     * written.) */
    msgs[0] = '\0';
    ck_assert_int_eq(dom(&d, "name='g'\nkernel='k'\nvcpus=1\nmaxvcpus=4\n"), 0);
    ck_assert_int_eq(d.vcpus, 1);
    ck_assert_int_eq(d.maxvcpus, 4);
    ck_assert_str_eq(msgs, "");
    ck_assert_int_eq(dom(&d, "name='g'\nkernel='k'\ncmdline='a b'\nextra='c'\n"), 0);
    ck_assert_str_eq(d.cmdline, "a b");
    ck_assert_str_eq(msgs, "Warning: ignoring root= and extra= in favour of cmdline=\n");
}
END_TEST

START_TEST(test_domain_errors)
{
    static const struct {
        const char *text, *msg;
    } cases[] = {
        {"kernel='k'\n", "Domain name must be specified.\n"},
        {"name='g'\nkernel='k'\nmemory='lots'\n",
         "g.cfg:3: warning: parameter `memory' is not a valid number\n"},
        {"name=['g']\n",
         "g.cfg:1: warning: parameter `name' is a list but should be a single value\n"},
        {"name='g'\nkernel='k'\ndisk='a,raw,xvda'\n",
         "g.cfg:3: warning: parameter `disk' is a single value but should be a list\n"},
        {"name='g'\nkernel='k'\non_crash='explode'\n",
         "Unknown on_crash action \"explode\" specified\n"},
        {"name='g'\ntype='hvx'\n", "Invalid domain type hvx.\n"},
        {"name='g'\nkernel='k'\nuuid='1234'\n", "Failed to parse UUID: 1234\n"},
        {"name='g'\nkernel='k'\ndisk=['a.vhd,vhd,xvda']\n",
         "g.cfg:3: hvkit: disk `a.vhd,vhd,xvda': format vhd is not one hvkit reads (raw, qcow2)\n"},
        {"name='g'\nkernel='k'\nvcpus=3\nmaxvcpus=2\n",
         "hvkit: maxvcpus=2 and vcpus=3: want vcpus <= maxvcpus <= 8 (hv's domains have 1 to 8 "
         "vCPUs)\n"},
        {"name='g'\nkernel='k'\nmaxvcpus=9\n",
         "hvkit: maxvcpus=9 and vcpus=1: want vcpus <= maxvcpus <= 8 (hv's domains have 1 to 8 "
         "vCPUs)\n"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct xldom d;
        ck_assert_int_eq(dom(&d, cases[i].text), -1);
        ck_assert_str_eq(msgs, cases[i].msg);
    }
}
END_TEST

/* xl mem-set's sizes: MiB by default, xl's units, anything else refused. */
START_TEST(test_mem_sizes)
{
    ck_assert_int_eq(xl_mem_kb("64"), 65536);
    ck_assert_int_eq(xl_mem_kb("64m"), 65536);
    ck_assert_int_eq(xl_mem_kb("64M"), 65536);
    ck_assert_int_eq(xl_mem_kb("512k"), 512);
    ck_assert_int_eq(xl_mem_kb("2g"), 2097152);
    ck_assert_int_eq(xl_mem_kb("1t"), 1073741824LL);
    ck_assert_int_eq(xl_mem_kb("4096b"), 4);
    ck_assert_int_eq(xl_mem_kb("99x"), -1);
    ck_assert_int_eq(xl_mem_kb("64mb"), -1);
    ck_assert_int_eq(xl_mem_kb("m"), -1);
    ck_assert_int_eq(xl_mem_kb(""), -1);
    ck_assert_int_eq(xl_mem_kb("-5"), -1);
}
END_TEST

/* CPU ranges in and out as xl vcpu-pin and vcpu-list write them. */
START_TEST(test_cpumaps)
{
    uint64_t m;
    char out[64];
    FILE *f = fmemopen(msgs, sizeof(msgs), "w");
    ck_assert_int_eq(xl_cpumap_parse("all", 4, &m, f), 0);
    ck_assert_uint_eq(m, 0xf);
    ck_assert_int_eq(xl_cpumap_parse("0-3,^1", 8, &m, f), 0);
    ck_assert_uint_eq(m, 0xd);
    ck_assert_int_eq(xl_cpumap_parse("5", 8, &m, f), 0);
    ck_assert_uint_eq(m, 0x20);
    ck_assert_int_eq(xl_cpumap_parse("3-1", 8, &m, f), -1);
    ck_assert_int_eq(xl_cpumap_parse("^all", 8, &m, f), -1);
    fclose(f);
    ck_assert_str_eq(msgs, "Invalid pcpu range: 3-1.\nCan't combine \"^\" and \"all\".\n");
    xl_cpumap_print(0xf, 4, out, sizeof(out));
    ck_assert_str_eq(out, "all");
    xl_cpumap_print(0, 4, out, sizeof(out));
    ck_assert_str_eq(out, "none");
    xl_cpumap_print(0x2d, 8, out, sizeof(out));
    ck_assert_str_eq(out, "0,2-3,5");
    xl_cpumap_print(0x1, 2, out, sizeof(out));
    ck_assert_str_eq(out, "0");
}
END_TEST

/* xl uptime's clock, long and short (-s). */
START_TEST(test_uptime)
{
    char out[64];
    xl_uptime_str(5, false, out, sizeof(out));
    ck_assert_str_eq(out, " 0:00:05");
    xl_uptime_str(3600 * 13 + 62, false, out, sizeof(out));
    ck_assert_str_eq(out, "13:01:02");
    xl_uptime_str(86400 + 7200 + 60, false, out, sizeof(out));
    ck_assert_str_eq(out, "1 day,  2:01:00");
    xl_uptime_str(3 * 86400 + 59, true, out, sizeof(out));
    ck_assert_str_eq(out, "3 days,  0:00");
}
END_TEST

/* State letters: xl list's r b p s c d order, xentop's d s b c p r. */
START_TEST(test_states)
{
    ck_assert_str_eq(xl_state_letters("running"), "r-----");
    ck_assert_str_eq(xl_state_letters("paused"), "--p---");
    ck_assert_str_eq(xl_state_letters("crashed"), "---sc-");
    ck_assert_str_eq(xl_state_letters("what"), "------");
    ck_assert_str_eq(xl_xentop_letters("running"), "-----r");
    ck_assert_str_eq(xl_xentop_letters("paused"), "----p-");
    ck_assert_str_eq(xl_xentop_letters("dying"), "d-----");
}
END_TEST

/* Xen's numbers for vdev names (block-list's Vdev column). */
START_TEST(test_vdev_numbers)
{
    ck_assert_int_eq(xl_vdev_number("xvda"), 51712);
    ck_assert_int_eq(xl_vdev_number("xvdb"), 51728);
    ck_assert_int_eq(xl_vdev_number("hda"), 768);
    ck_assert_int_eq(xl_vdev_number("hdb"), 832);
    ck_assert_int_eq(xl_vdev_number("hdc"), 5632);
    ck_assert_int_eq(xl_vdev_number("sdb"), 2064);
    ck_assert_int_eq(xl_vdev_number("hde"), -1);
    ck_assert_int_eq(xl_vdev_number("vda"), -1);
}
END_TEST

/* xl list -l's JSON layout: yajl's beautified form, four spaces. */
START_TEST(test_json_layout)
{
    char buf[512];
    FILE *f = fmemopen(buf, sizeof(buf), "w");
    struct jout j;
    jout_init(&j, f);
    jout_open(&j, '[');
    jout_open(&j, '{');
    jout_kint(&j, "domid", 1);
    jout_key(&j, "avail_vcpus");
    jout_open(&j, '[');
    jout_int(&j, 0);
    jout_close(&j, '[');
    jout_kstr(&j, "name", "a\"b");
    jout_kstr(&j, "ramdisk", "");
    jout_key(&j, "type.pv");
    jout_open(&j, '{');
    jout_close(&j, '{');
    jout_close(&j, '{');
    jout_close(&j, '[');
    fclose(f);
    ck_assert_str_eq(buf, "[\n"
                          "    {\n"
                          "        \"domid\": 1,\n"
                          "        \"avail_vcpus\": [\n"
                          "            0\n"
                          "        ],\n"
                          "        \"name\": \"a\\\"b\",\n"
                          "        \"type.pv\": {}\n"
                          "    }\n"
                          "]");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mgmt_xl");
    TCase *tc = tcase_create("cfg");
    tcase_add_test(tc, test_syntax);
    tcase_add_test(tc, test_syntax_errors);
    tcase_add_test(tc, test_override);
    tcase_add_test(tc, test_disks);
    tcase_add_test(tc, test_disk_errors);
    tcase_add_test(tc, test_disk_spec);
    tcase_add_test(tc, test_put_string);
    tcase_add_test(tc, test_cd_setting);
    tcase_add_test(tc, test_domain);
    tcase_add_test(tc, test_domain_errors);
    suite_add_tcase(s, tc);
    TCase *out = tcase_create("formats");
    tcase_add_test(out, test_mem_sizes);
    tcase_add_test(out, test_cpumaps);
    tcase_add_test(out, test_uptime);
    tcase_add_test(out, test_states);
    tcase_add_test(out, test_vdev_numbers);
    tcase_add_test(out, test_json_layout);
    suite_add_tcase(s, out);
    return check_main(s);
}
