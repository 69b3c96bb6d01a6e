/*
 * Unit tests for hv/disk/diskio.c: an image file on a disk of the outer
 * machine (its trailer, reads past the end, growth up to the limit, the
 * read-only flag), over a disk in memory that plays the ATA drive.  Then
 * imgtool's library writes a qcow2 image through it, as hv's virtio-blk
 * will, and qemu-img checks the file the launcher would cut back out.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "disk/diskio.h"
#include "img.h"
#include "check_main.h"

#define SECTORS 4096 /* a 2 MiB disk */

static uint8_t disk[SECTORS * DISKIO_SECTOR];
static unsigned flushes, writes;

static int mem_read(void *ctx, uint64_t lba, void *buf, uint32_t count)
{
    (void)ctx;
    if (lba + count > SECTORS)
        return -1;
    memcpy(buf, disk + lba * DISKIO_SECTOR, (size_t)count * DISKIO_SECTOR);
    return 0;
}

static int mem_write(void *ctx, uint64_t lba, const void *buf, uint32_t count)
{
    (void)ctx;
    if (lba + count > SECTORS)
        return -1;
    memcpy(disk + lba * DISKIO_SECTOR, buf, (size_t)count * DISKIO_SECTOR);
    writes++;
    return 0;
}

static int mem_flush(void *ctx)
{
    (void)ctx;
    flushes++;
    return 0;
}

static const struct sector_dev dev = {NULL, SECTORS, mem_read, mem_write, mem_flush};
static struct diskio_file file;
static struct img_io io;

/* A disk holding a file of `length` bytes of pattern, the rest junk (what
 * an extension may hold), and the launcher's trailer. */
static void setup_disk(uint64_t length, uint32_t flags)
{
    for (size_t i = 0; i < sizeof(disk); i++)
        disk[i] = i < length ? (uint8_t)(i * 7 + 1) : 0xaa;
    struct diskio_trailer t = {
        .index = 2, .length = length, .limit = (SECTORS - 1) * DISKIO_SECTOR, .flags = flags};
    strcpy(t.name, "disk.qcow2");
    diskio_trailer_encode(&t, disk + (SECTORS - 1) * DISKIO_SECTOR);
    const char *why = NULL;
    ck_assert_msg(diskio_open(&file, &dev, &why) == 0, "%s", why);
    diskio_img_io(&file, true, &io);
    flushes = writes = 0;
}

/* The trailer's length, as the launcher reads it after the run. */
static uint64_t trailer_length(void)
{
    struct diskio_trailer t;
    const char *why;
    ck_assert(diskio_trailer_decode(disk + (SECTORS - 1) * DISKIO_SECTOR, SECTORS, &t, &why) == 0);
    return t.length;
}

START_TEST(trailer_round_trip_and_refusals)
{
    setup_disk(1000, 0);
    ck_assert_uint_eq(file.t.index, 2);
    ck_assert_uint_eq(file.t.length, 1000);
    ck_assert_str_eq(file.t.name, "disk.qcow2");
    uint8_t *s = disk + (SECTORS - 1) * DISKIO_SECTOR;
    struct diskio_trailer t;
    const char *why = NULL;
    /* A flipped byte breaks the checksum. */
    s[20] ^= 1;
    ck_assert_int_eq(diskio_trailer_decode(s, SECTORS, &t, &why), -1);
    ck_assert_str_eq(why, "the trailer's checksum is wrong");
    s[20] ^= 1;
    /* A disk of another size than the trailer says. */
    ck_assert_int_eq(diskio_trailer_decode(s, SECTORS + 1, &t, &why), -1);
    /* No magic. */
    s[0] = 'X';
    ck_assert_int_eq(diskio_trailer_decode(s, SECTORS, &t, &why), -1);
    ck_assert_str_eq(why, "no hvkit trailer in the last sector");
}
END_TEST

START_TEST(reads_inside_and_past_the_end)
{
    setup_disk(1000, 0);
    uint64_t size;
    ck_assert_int_eq(io.size(io.ctx, &size), 0);
    ck_assert_uint_eq(size, 1000);
    /* Across a sector boundary, unaligned. */
    uint8_t buf[700];
    ck_assert_int_eq(io.read(io.ctx, 300, buf, sizeof(buf)), 0);
    for (size_t i = 0; i < sizeof(buf); i++)
        ck_assert_uint_eq(buf[i], (uint8_t)((300 + i) * 7 + 1));
    /* Straddling the end: the part past it is zeros, not the junk. */
    ck_assert_int_eq(io.read(io.ctx, 900, buf, 300), 0);
    ck_assert_uint_eq(buf[99], (uint8_t)(999 * 7 + 1));
    for (size_t i = 100; i < 300; i++)
        ck_assert_uint_eq(buf[i], 0);
    ck_assert_int_eq(io.read(io.ctx, 5000, buf, 10), 0);
    ck_assert_uint_eq(buf[0], 0);
}
END_TEST

START_TEST(writes_grow_the_file_and_the_trailer)
{
    setup_disk(1000, 0);
    /* 600 bytes starting 2000 bytes past the end: the gap (the rest of the
     * old last sector, two whole sectors and the start of the next) reads
     * as zeros although the disk held junk there. */
    uint8_t text[600];
    memset(text, 'x', sizeof(text));
    ck_assert_int_eq(io.write(io.ctx, 3000, text, sizeof(text)), 0);
    ck_assert_uint_eq(file.t.length, 3600);
    ck_assert_uint_eq(trailer_length(), 3600);
    uint8_t buf[3600];
    ck_assert_int_eq(io.read(io.ctx, 0, buf, sizeof(buf)), 0);
    for (size_t i = 1000; i < 3000; i++)
        ck_assert_msg(buf[i] == 0, "byte %zu of the gap is %#x", i, buf[i]);
    ck_assert_uint_eq(buf[3000], 'x');
    ck_assert_uint_eq(buf[3599], 'x');
    ck_assert_uint_eq(buf[999], (uint8_t)(999 * 7 + 1));
    /* The bytes of the last sector after the end are zeros on the disk. */
    ck_assert_uint_eq(disk[3600], 0);
    /* Flush reaches the device. */
    ck_assert_int_eq(io.flush(io.ctx), 0);
    ck_assert_uint_eq(flushes, 1);
}
END_TEST

START_TEST(limit_read_only_and_truncate)
{
    setup_disk(1000, 0);
    uint64_t limit = (SECTORS - 1) * DISKIO_SECTOR;
    uint8_t b = 1;
    /* The limit is the trailer's offset: the file may end there, no further. */
    ck_assert_int_eq(io.write(io.ctx, limit - 1, &b, 1), 0);
    ck_assert_int_eq(io.write(io.ctx, limit, &b, 1), -IMG_ENOSPC);
    ck_assert_uint_eq(trailer_length(), limit);
    /* Shrink, then the old bytes read as zeros. */
    ck_assert_int_eq(io.truncate(io.ctx, 500), 0);
    ck_assert_uint_eq(trailer_length(), 500);
    uint8_t buf[10];
    ck_assert_int_eq(io.read(io.ctx, 600, buf, 10), 0);
    ck_assert_uint_eq(buf[0], 0);
    /* Read-only by the trailer's flag, even when opened writable. */
    setup_disk(1000, DISKIO_FLAG_RDONLY);
    ck_assert_int_eq(io.write(io.ctx, 0, &b, 1), -IMG_EROFS);
    ck_assert_int_eq(io.truncate(io.ctx, 10), -IMG_EROFS);
    ck_assert_uint_eq(writes, 0);
    /* And by the caller. */
    setup_disk(1000, 0);
    diskio_img_io(&file, false, &io);
    ck_assert_int_eq(io.write(io.ctx, 0, &b, 1), -IMG_EROFS);
}
END_TEST

START_TEST(qcow2_through_the_outer_disk_is_clean)
{
    if (system("qemu-img --version >/dev/null 2>&1") != 0)
        ck_abort_msg("qemu-img is not installed (see mk/deps.sh)");
    /* An empty file on the disk; the library creates a 1 MiB qcow2 image
     * in it and writes three pieces, one across a cluster boundary. */
    setup_disk(0, 0);
    struct img_create_opts o;
    img_create_opts_init(&o);
    o.format = IMG_FMT_QCOW2;
    o.size = 1 << 20;
    struct img_err err = {0};
    ck_assert_msg(img_create(img_hosted_env(), &io, &o, &err) == 0, "%s", err.msg);
    struct img *img;
    ck_assert_msg(img_open(img_hosted_env(), &io, "disk.qcow2", "qcow2", IMG_OPEN_RW, &img, &err) ==
                      0,
                  "%s", err.msg);
    static uint8_t data[70000];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i % 251);
    ck_assert_int_eq(img_write(img, 0, data, 4096), 0);
    ck_assert_int_eq(img_write(img, 65536 - 1000, data, sizeof(data)), 0);
    ck_assert_int_eq(img_write(img, 900 * 1024, data, 512), 0);
    ck_assert_int_eq(img_close(img), 0);
    ck_assert_uint_ge(flushes, 1);
    /* What the launcher leaves: the file cut to the trailer's length. */
    uint64_t length = trailer_length();
    char path[] = "/tmp/hv_disk_test_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, disk, length), (ssize_t)length);
    close(fd);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "qemu-img check -q %s", path);
    ck_assert_msg(system(cmd) == 0, "qemu-img check finds errors in %s", path);
    /* qemu-img reads back the second piece. */
    char raw[] = "/tmp/hv_disk_raw_XXXXXX";
    fd = mkstemp(raw);
    close(fd);
    snprintf(cmd, sizeof(cmd), "qemu-img convert -O raw %s %s", path, raw);
    ck_assert_int_eq(system(cmd), 0);
    FILE *f = fopen(raw, "rb");
    static uint8_t back[sizeof(data)];
    ck_assert_int_eq(fseek(f, 65536 - 1000, SEEK_SET), 0);
    ck_assert_uint_eq(fread(back, 1, sizeof(back), f), sizeof(back));
    fclose(f);
    ck_assert(memcmp(back, data, sizeof(data)) == 0);
    unlink(path);
    unlink(raw);
}
END_TEST

static Suite *disk_suite(void)
{
    Suite *s = suite_create("hv_disk");
    TCase *t = tcase_create("diskio");
    tcase_add_test(t, trailer_round_trip_and_refusals);
    tcase_add_test(t, reads_inside_and_past_the_end);
    tcase_add_test(t, writes_grow_the_file_and_the_trailer);
    tcase_add_test(t, limit_read_only_and_truncate);
    tcase_add_test(t, qcow2_through_the_outer_disk_is_clean);
    tcase_set_timeout(t, 60);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return check_main(disk_suite());
}
