/*
 * Unit tests for the front-ends' save image (mgmt/common/saveimage.c,
 * docs/vmstate.md "The front-ends' save images"): the header and the
 * configuration in front of a state, written and read back; every cut of
 * the file and every changed byte of the header or the configuration
 * refused; a file that is not an image left to the vmstate reader.
 */
#define _GNU_SOURCE /* memfd_create */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check_main.h"

#include "../../mgmt/common/saveimage.h"

static const char config[] = "name = \"web\"\ndisk = [ \"/x/web.qcow2,qcow2,xvda,w\" ]\n";
/* A stand-in for a state: the image does not look inside it. */
static const char state[] = "HVKITVMS and the rest of a state";

/* A file in memory holding `len` bytes of buf. */
static int mem_file(const void *buf, size_t len)
{
    int fd = memfd_create("img", 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, buf, len, 0), (ssize_t)len);
    return fd;
}

/* The whole image of config and state, into buf; its length. */
static size_t make_image(char *buf, size_t size)
{
    int st = mem_file(state, sizeof(state));
    int out = memfd_create("out", 0);
    ck_assert_int_eq(saveimage_write(out, "xl", config, strlen(config), st, 0, sizeof(state)), 0);
    ssize_t n = pread(out, buf, size, 0);
    ck_assert_int_gt(n, 0);
    close(st);
    close(out);
    return (size_t)n;
}

/* saveimage_read of the `len` bytes of buf: its result, si filled. */
static int read_image(const char *buf, size_t len, struct saveimage *si, char *why)
{
    int fd = mem_file(buf, len);
    int rc = saveimage_read(fd, len, si, why, 256);
    close(fd);
    return rc;
}

START_TEST(test_round_trip)
{
    static char buf[4096];
    struct saveimage si;
    char why[256] = "";
    size_t n = make_image(buf, sizeof(buf));
    ck_assert_uint_eq(n, SAVEIMAGE_HEADER + strlen(config) + sizeof(state));
    ck_assert_mem_eq(buf, "HVKITSAV\1\0\0\0", 12);
    ck_assert_int_eq(read_image(buf, n, &si, why), 0);
    ck_assert(!si.bare);
    ck_assert_str_eq(si.tool, "xl");
    ck_assert_str_eq(si.config, config);
    ck_assert_uint_eq(si.state_at, SAVEIMAGE_HEADER + strlen(config));
    ck_assert_uint_eq(si.state_len, sizeof(state));
    ck_assert_mem_eq(buf + si.state_at, state, sizeof(state));
    /* saveimage_copy takes the state out alone. */
    int in = mem_file(buf, n), out = memfd_create("st", 0);
    char back[sizeof(state)];
    ck_assert_int_eq(saveimage_copy(in, si.state_at, out, si.state_len), 0);
    ck_assert_int_eq(pread(out, back, sizeof(back), 0), (ssize_t)sizeof(back));
    ck_assert_mem_eq(back, state, sizeof(state));
    /* Past the file's end it fails rather than copy less. */
    ck_assert_int_eq(saveimage_copy(in, si.state_at + 1, out, si.state_len), -1);
    close(in);
    close(out);
    saveimage_free(&si);
}
END_TEST

/* Every cut of the image is refused: by its length once the magic is
 * there; before that it is no image, and the vmstate reader's to refuse. */
START_TEST(test_every_cut)
{
    static char buf[4096];
    size_t n = make_image(buf, sizeof(buf));
    for (size_t len = 0; len < n; len++) {
        struct saveimage si;
        char why[256] = "";
        int rc = read_image(buf, len, &si, why);
        if (len < 8) {
            ck_assert_int_eq(rc, 0);
            ck_assert(si.bare);
            continue;
        }
        ck_assert_msg(rc == -1 && strstr(why, "save image: truncated"), "cut at %zu: %d '%s'", len,
                      rc, why);
    }
}
END_TEST

/* Every changed byte of the header or the configuration is refused. */
START_TEST(test_every_byte)
{
    static char buf[4096];
    size_t n = make_image(buf, sizeof(buf));
    for (size_t at = 8; at < SAVEIMAGE_HEADER + strlen(config); at++) {
        struct saveimage si;
        char why[256] = "";
        buf[at] ^= 0x10;
        ck_assert_msg(read_image(buf, n, &si, why) == -1 && strstr(why, "save image: "),
                      "byte %zu changed: accepted ('%s')", at, why);
        buf[at] ^= 0x10;
    }
}
END_TEST

START_TEST(test_refusals)
{
    static char buf[4096];
    struct saveimage si;
    char why[256] = "";
    size_t n = make_image(buf, sizeof(buf));
    buf[8] = 2;
    ck_assert_int_eq(read_image(buf, n, &si, why), -1);
    ck_assert_str_eq(why, "save image: version 2, but this hvkit reads version 1");
    buf[8] = 1;
    /* A file that is no image is a state to the vmstate reader. */
    ck_assert_int_eq(read_image(state, sizeof(state), &si, why), 0);
    ck_assert(si.bare && !si.config && si.state_at == 0 && si.state_len == sizeof(state));
    /* Too long a configuration is not written. */
    int fd = memfd_create("big", 0);
    ck_assert_int_eq(saveimage_write(fd, "xl", config, SAVEIMAGE_CONFIG_MAX + 1, fd, 0, 0), -1);
    close(fd);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mgmt_saveimage");
    TCase *tc = tcase_create("image");
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_every_cut);
    tcase_add_test(tc, test_every_byte);
    tcase_add_test(tc, test_refusals);
    suite_add_tcase(s, tc);
    return check_main(s);
}
