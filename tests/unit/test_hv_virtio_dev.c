/*
 * Unit tests for hv/dev/virtio/console.c and blk.c behind the virtio-mmio
 * transport, driven register by register by the harness's driver steps.
 *
 * virtio-console: output through the transmitq (one and several pieces,
 * indirect), emerg_wr, input into the receiveq's buffers, also from the
 * owner's hook when the driver posts buffers.
 * virtio-blk over imgtool's library: the configuration space, IN/OUT on
 * qcow2 and raw images read back through the library, FLUSH, GET_ID,
 * DISCARD and WRITE_ZEROES, and every refusal (read-only disk, sectors past
 * the end, partial sectors, unknown types, bad flags, a chain without a
 * status byte, more data pieces than seg_max, a piece longer than
 * size_max), each with its status and one log line.  The oracle for
 * the image is QEMU itself: a pattern written through the device into a
 * qcow2 file must pass `qemu-img check` and read back with `qemu-io`.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "dev/virtio/blk.h"
#include "dev/virtio/console.h"
#include "test_img_util.h"
#include "virtio_harness.h"

#define V1 (1ull << VIRTIO_F_VERSION_1)

static struct virtio_mmio t;

/* ---- virtio-console ---------------------------------------------------------- */

static struct virtio_console con;
static char out[4096];
static size_t out_len;

static void collect(void *ctx, const uint8_t *buf, size_t len)
{
    (void)ctx;
    memcpy(out + out_len, buf, len);
    out_len += len;
}

static void con_setup(void)
{
    harness_reset();
    out_len = 0;
    virtio_console_init(&con, "virtio-console0", collect, NULL);
    virtio_mmio_init(&t, &con.dev, &harness_mem, 0xfeb00000, harness_irq, NULL, harness_log, NULL);
}

START_TEST(console_identity)
{
    ck_assert_uint_eq(reg_rd(&t, VIRTIO_MMIO_DEVICE_ID), 3);
    reg_wr(&t, VIRTIO_MMIO_DEV_FEAT_SEL, 0);
    uint32_t f = reg_rd(&t, VIRTIO_MMIO_DEV_FEATURES);
    ck_assert_uint_eq(f & (1u << VIRTIO_CONSOLE_F_EMERG_WRITE), 1u << VIRTIO_CONSOLE_F_EMERG_WRITE);
    ck_assert_uint_eq(f & (1u << VIRTIO_CONSOLE_F_MULTIPORT), 0);
    /* Two queues: receiveq and transmitq of port 0. */
    reg_wr(&t, VIRTIO_MMIO_QUEUE_SEL, 1);
    ck_assert_uint_ne(reg_rd(&t, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
    reg_wr(&t, VIRTIO_MMIO_QUEUE_SEL, 2);
    ck_assert_uint_eq(reg_rd(&t, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
    /* max_nr_ports reads 1. */
    ck_assert_uint_eq(virtio_mmio_read(&t, 0x104, 4), 1);
}
END_TEST

START_TEST(console_output)
{
    drv_start(&t, V1, 8);
    memcpy(guest + BUF, "Hello, ", 7);
    memcpy(guest + BUF + 0x100, "virtio\n", 7);
    /* One chain of two pieces, and one of one piece. */
    put_desc(Q1_DESC, 0, BUF, 7, VIRTQ_DESC_F_NEXT, 1);
    put_desc(Q1_DESC, 1, BUF + 0x100, 7, 0, 0);
    put_desc(Q1_DESC, 2, BUF + 0x100, 6, 0, 0);
    avail_add(Q1_AVAIL, 8, 0);
    avail_add(Q1_AVAIL, 8, 2);
    reg_wr(&t, VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_CONSOLE_TX);
    ck_assert_uint_eq(out_len, 20);
    ck_assert_mem_eq(out, "Hello, virtio\nvirtio", 20);
    ck_assert_uint_eq(used_idx(Q1_USED), 2);
    ck_assert_uint_eq(used_len(Q1_USED, 0), 0);
    ck_assert(rec.irq);
    ck_assert_int_eq(rec.lines, 0);
}
END_TEST

START_TEST(console_emergency_write)
{
    /* Works before any queue exists (5.3.4), in any access size. */
    virtio_mmio_write(&t, 0x100 + VIRTIO_CONSOLE_EMERG_WR, 4, 'X');
    virtio_mmio_write(&t, 0x100 + VIRTIO_CONSOLE_EMERG_WR, 1, '!');
    ck_assert_uint_eq(out_len, 2);
    ck_assert_mem_eq(out, "X!", 2);
    /* Other fields are read-only: a write there changes nothing. */
    virtio_mmio_write(&t, 0x104, 4, 7);
    ck_assert_uint_eq(virtio_mmio_read(&t, 0x104, 4), 1);
}
END_TEST

START_TEST(console_input)
{
    drv_start(&t, V1, 8);
    /* Two 4-byte receive buffers; six bytes of input fill one and a half. */
    put_desc(Q0_DESC, 0, BUF, 4, VIRTQ_DESC_F_WRITE, 0);
    put_desc(Q0_DESC, 1, BUF + 0x10, 4, VIRTQ_DESC_F_WRITE, 0);
    avail_add(Q0_AVAIL, 8, 0);
    avail_add(Q0_AVAIL, 8, 1);
    reg_wr(&t, VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_CONSOLE_RX);
    ck_assert_uint_eq(used_idx(Q0_USED), 0);
    ck_assert_uint_eq(virtio_console_input(&con, &t, (const uint8_t *)"abcdef", 6), 6);
    ck_assert_uint_eq(used_idx(Q0_USED), 2);
    ck_assert_uint_eq(used_len(Q0_USED, 0), 4);
    ck_assert_uint_eq(used_len(Q0_USED, 1), 2);
    ck_assert_mem_eq(guest + BUF, "abcd", 4);
    ck_assert_mem_eq(guest + BUF + 0x10, "ef", 2);
    /* No buffers left: nothing is taken. */
    ck_assert_uint_eq(virtio_console_input(&con, &t, (const uint8_t *)"g", 1), 0);
}
END_TEST

/* Input that waited for receive buffers: the owner's hook hands it over
 * when the driver notifies the receiveq. */
static int in_calls;
static void feed_waiting(void *ctx)
{
    (void)ctx;
    in_calls++;
    virtio_console_input(&con, &t, (const uint8_t *)"hi\n", 3);
}

START_TEST(console_input_on_notify)
{
    con.in = feed_waiting;
    drv_start(&t, V1, 8);
    /* DRIVER_OK looks at every ready queue once (buffers may have come
     * before it): the hook was asked, with no buffer to fill yet. */
    ck_assert_int_eq(in_calls, 1);
    ck_assert_uint_eq(used_idx(Q0_USED), 0);
    in_calls = 0;
    /* Output does not ask for input. */
    put_desc(Q1_DESC, 0, BUF + 0x100, 2, 0, 0);
    memcpy(guest + BUF + 0x100, "ok", 2);
    avail_add(Q1_AVAIL, 8, 0);
    reg_wr(&t, VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_CONSOLE_TX);
    ck_assert_int_eq(in_calls, 0);
    /* A receive buffer posted: the hook fills it at once, with an
     * interrupt. */
    put_desc(Q0_DESC, 0, BUF, 16, VIRTQ_DESC_F_WRITE, 0);
    avail_add(Q0_AVAIL, 8, 0);
    reg_wr(&t, VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_CONSOLE_RX);
    ck_assert_int_eq(in_calls, 1);
    ck_assert_uint_eq(used_idx(Q0_USED), 1);
    ck_assert_uint_eq(used_len(Q0_USED, 0), 3);
    ck_assert_mem_eq(guest + BUF, "hi\n", 3);
    ck_assert(rec.irq);
}
END_TEST

/* ---- virtio-blk ---------------------------------------------------------------- */

static struct virtio_blk blk;
static struct img *img;

#define DISK_BYTES (4u << 20)
#define HDR        (BUF + 0x0)
#define DATA       (BUF + 0x1000)
#define STATUS     (BUF + 0x40)

static void blk_open(bool readonly)
{
    harness_reset();
    struct img_create_opts o;
    img_create_opts_init(&o);
    o.format = IMG_FMT_QCOW2;
    o.size = DISK_BYTES;
    o.cluster_size = 4096;
    img = mem_qcow2(&o);
    virtio_blk_init(&blk, "virtio-blk0", img, readonly);
    virtio_mmio_init(&t, &blk.dev, &harness_mem, 0xfeb00200, harness_irq, NULL, harness_log, NULL);
    drv_start(&t, V1 | (1ull << VIRTIO_BLK_F_FLUSH), 8);
}

static void blk_setup(void)
{
    blk_open(false);
}

static void blk_teardown(void)
{
    mem_free(img);
}

/* One request: header {type, 0, sector}, then `data_len` bytes at DATA
 * (readable for OUT-like types, writable for IN-like ones), then the
 * status byte.  Returns the status and the used length in *used. */
static uint8_t request(uint32_t type, uint64_t sector, uint32_t data_len, bool data_writable,
                       uint32_t *used)
{
    uint16_t n = used_idx(Q0_USED);
    g32(HDR, type);
    g32(HDR + 4, 0);
    g64(HDR + 8, sector);
    guest[STATUS] = 0xee;
    unsigned d = 0;
    put_desc(Q0_DESC, d, HDR, 16, VIRTQ_DESC_F_NEXT, (uint16_t)(d + 1));
    d++;
    if (data_len) {
        put_desc(Q0_DESC, d, DATA, data_len,
                 VIRTQ_DESC_F_NEXT | (data_writable ? VIRTQ_DESC_F_WRITE : 0), (uint16_t)(d + 1));
        d++;
    }
    put_desc(Q0_DESC, d, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
    avail_add(Q0_AVAIL, 8, 0);
    reg_wr(&t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    ck_assert_uint_eq(used_idx(Q0_USED), (uint16_t)(n + 1));
    if (used)
        *used = used_len(Q0_USED, n % 8);
    return guest[STATUS];
}

static void fill(uint8_t *p, size_t len, uint8_t seed)
{
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)(seed + i * 7 + (i >> 9));
}

START_TEST(blk_config)
{
    ck_assert_uint_eq(reg_rd(&t, VIRTIO_MMIO_DEVICE_ID), 2);
    /* capacity, size_max, seg_max, blk_size */
    ck_assert_uint_eq(virtio_mmio_read(&t, 0x100, 4), DISK_BYTES / 512);
    ck_assert_uint_eq(virtio_mmio_read(&t, 0x104, 4), 0);
    ck_assert_uint_eq(virtio_mmio_read(&t, 0x108, 4), VIRTIO_BLK_SIZE_MAX);
    ck_assert_uint_eq(virtio_mmio_read(&t, 0x10c, 4), VIRTIO_BLK_SEG_MAX);
    /* A chain can break seg_max: it may have VIRTQ_MAX_SIZE descriptors. */
    ck_assert_uint_lt(VIRTIO_BLK_SEG_MAX + 2, VIRTQ_MAX_SIZE);
    ck_assert_uint_eq(virtio_mmio_read(&t, 0x114, 4), 512);
    /* max_discard_seg, max_write_zeroes_seg */
    ck_assert_uint_eq(virtio_mmio_read(&t, 0x128, 4), 1);
    ck_assert_uint_eq(virtio_mmio_read(&t, 0x134, 4), 1);
    reg_wr(&t, VIRTIO_MMIO_DEV_FEAT_SEL, 0);
    uint32_t f = reg_rd(&t, VIRTIO_MMIO_DEV_FEATURES);
    ck_assert_uint_eq(f & (1u << VIRTIO_BLK_F_RO), 0);
    ck_assert_uint_ne(f & (1u << VIRTIO_BLK_F_FLUSH), 0);
    ck_assert_uint_ne(f & (1u << VIRTIO_BLK_F_SEG_MAX), 0);
    ck_assert_uint_ne(f & (1u << VIRTIO_BLK_F_SIZE_MAX), 0);
}
END_TEST

START_TEST(blk_write_read_back)
{
    uint8_t want[8192], got[8192];
    fill(want, sizeof(want), 3);
    memcpy(guest + DATA, want, sizeof(want));
    uint32_t used;
    ck_assert_uint_eq(request(VIRTIO_BLK_T_OUT, 100, sizeof(want), false, &used), 0);
    ck_assert_uint_eq(used, 1);
    /* The image has it, through the library. */
    ck_assert_int_eq(img_read(img, 100 * 512, got, sizeof(got)), 0);
    ck_assert_mem_eq(got, want, sizeof(want));
    /* And IN reads it back into guest memory, reporting data + status. */
    memset(guest + DATA, 0, sizeof(want));
    ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, 100, sizeof(want), true, &used), 0);
    ck_assert_uint_eq(used, sizeof(want) + 1);
    ck_assert_mem_eq(guest + DATA, want, sizeof(want));
    /* Unwritten sectors read as zeros; the last sector of the disk works. */
    ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, DISK_BYTES / 512 - 1, 512, true, NULL), 0);
    ck_assert_uint_eq(guest[DATA], 0);
    ck_assert_uint_eq(request(VIRTIO_BLK_T_FLUSH, 0, 0, false, &used), 0);
    ck_assert_uint_eq(used, 1);
    assert_clean(img);
    ck_assert_int_eq(rec.lines, 0);
}
END_TEST

START_TEST(blk_scattered_pieces)
{
    /* An IN whose data and status share one piece, and a header split in
     * two pieces: framing is the driver's choice (2.7.4 "Message
     * Framing"). */
    uint8_t want[1024];
    fill(want, sizeof(want), 9);
    ck_assert_int_eq(img_write(img, 0, want, sizeof(want)), 0);
    g32(HDR, VIRTIO_BLK_T_IN);
    g32(HDR + 4, 0);
    g64(HDR + 8, 0);
    put_desc(Q0_DESC, 0, HDR, 6, VIRTQ_DESC_F_NEXT, 1);
    put_desc(Q0_DESC, 1, HDR + 6, 10, VIRTQ_DESC_F_NEXT, 2);
    put_desc(Q0_DESC, 2, DATA, 1000, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 3);
    put_desc(Q0_DESC, 3, DATA + 1000, 25, VIRTQ_DESC_F_WRITE, 0);
    avail_add(Q0_AVAIL, 8, 0);
    reg_wr(&t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    ck_assert_uint_eq(used_len(Q0_USED, 0), 1025);
    ck_assert_mem_eq(guest + DATA, want, sizeof(want));
    ck_assert_uint_eq(guest[DATA + 1024], VIRTIO_BLK_S_OK);
}
END_TEST

START_TEST(blk_get_id_and_zeroes)
{
    uint32_t used;
    memset(guest + DATA, 0xaa, 32);
    ck_assert_uint_eq(request(VIRTIO_BLK_T_GET_ID, 0, 20, true, &used), 0);
    ck_assert_uint_eq(used, 21);
    ck_assert_uint_eq(guest[DATA], 0);
    /* Write data, then WRITE_ZEROES with unmap and DISCARD over parts. */
    uint8_t data[16384], got[16384];
    fill(data, sizeof(data), 1);
    ck_assert_int_eq(img_write(img, 0, data, sizeof(data)), 0);
    g64(DATA, 8);
    g32(DATA + 8, 8);
    g32(DATA + 12, 1);
    ck_assert_uint_eq(request(VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false, NULL), 0);
    g64(DATA, 24);
    g32(DATA + 8, 4);
    g32(DATA + 12, 0);
    ck_assert_uint_eq(request(VIRTIO_BLK_T_DISCARD, 0, 16, false, NULL), 0);
    ck_assert_int_eq(img_read(img, 0, got, sizeof(got)), 0);
    memset(data + 8 * 512, 0, 8 * 512);
    memset(data + 24 * 512, 0, 4 * 512);
    ck_assert_mem_eq(got, data, sizeof(data));
    assert_clean(img);
}
END_TEST

START_TEST(blk_refusals)
{
    uint32_t used;
    /* Past the end: IOERR, one line. */
    ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, DISK_BYTES / 512, 512, true, &used),
                      VIRTIO_BLK_S_IOERR);
    ck_assert_uint_eq(used, 1);
    ck_assert_ptr_nonnull(strstr(rec.last, "past the end"));
    ck_assert_int_eq(rec.lines, 1);
    /* Straddling the end, and a sector that would overflow. */
    ck_assert_uint_eq(request(VIRTIO_BLK_T_OUT, DISK_BYTES / 512 - 1, 1024, false, NULL),
                      VIRTIO_BLK_S_IOERR);
    ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, 0xffffffffffffffffull, 512, true, NULL),
                      VIRTIO_BLK_S_IOERR);
    /* Logged once per kind: the same kind again adds no line. */
    ck_assert_int_eq(rec.lines, 1);
    /* Not whole sectors. */
    ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, 0, 100, true, NULL), VIRTIO_BLK_S_IOERR);
    ck_assert_ptr_nonnull(strstr(rec.last, "whole sectors"));
    /* Unknown type, GET_LIFETIME (not offered), bad flags, discard with
     * unmap, two segments. */
    ck_assert_uint_eq(request(77, 0, 0, false, NULL), VIRTIO_BLK_S_UNSUPP);
    ck_assert_uint_eq(request(10, 0, 16, true, NULL), VIRTIO_BLK_S_UNSUPP);
    g64(DATA, 0);
    g32(DATA + 8, 1);
    g32(DATA + 12, 2);
    ck_assert_uint_eq(request(VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false, NULL), VIRTIO_BLK_S_UNSUPP);
    g32(DATA + 12, 1);
    ck_assert_uint_eq(request(VIRTIO_BLK_T_DISCARD, 0, 16, false, NULL), VIRTIO_BLK_S_UNSUPP);
    ck_assert_uint_eq(request(VIRTIO_BLK_T_DISCARD, 0, 32, false, NULL), VIRTIO_BLK_S_UNSUPP);
    g32(DATA + 8, VIRTIO_BLK_ZERO_MAX + 1);
    g32(DATA + 12, 0);
    ck_assert_uint_eq(request(VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false, NULL), VIRTIO_BLK_S_IOERR);
    /* A header cut short. */
    put_desc(Q0_DESC, 0, HDR, 8, VIRTQ_DESC_F_NEXT, 1);
    put_desc(Q0_DESC, 1, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
    avail_add(Q0_AVAIL, 8, 0);
    reg_wr(&t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    ck_assert_uint_eq(guest[STATUS], VIRTIO_BLK_S_IOERR);
    /* No writable byte at all: returned with nothing written. */
    put_desc(Q0_DESC, 0, HDR, 16, 0, 0);
    avail_add(Q0_AVAIL, 8, 0);
    reg_wr(&t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    uint16_t u = used_idx(Q0_USED);
    ck_assert_uint_eq(used_len(Q0_USED, (uint16_t)(u - 1) % 8), 0);
    ck_assert_ptr_nonnull(strstr(rec.last, "status byte"));
    /* None of it broke the device or touched the disk. */
    ck_assert_uint_eq(reg_rd(&t, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET, 0);
    ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, 0, 512, true, NULL), VIRTIO_BLK_S_OK);
    assert_clean(img);
}
END_TEST

/* An IN or OUT through an indirect table at TABLE: the header, `pieces`
 * data pieces of `len` bytes each (at DATA, DATA + len, ...), the status.
 * Returns the status and the used length in *used. */
#define TABLE 0x40000u
static uint8_t pieces_request(uint32_t type, uint64_t sector, unsigned pieces, uint32_t len,
                              uint32_t *used)
{
    uint16_t n = used_idx(Q0_USED), flag = type == VIRTIO_BLK_T_IN ? VIRTQ_DESC_F_WRITE : 0;
    g32(HDR, type);
    g32(HDR + 4, 0);
    g64(HDR + 8, sector);
    guest[STATUS] = 0xee;
    put_desc(TABLE, 0, HDR, 16, VIRTQ_DESC_F_NEXT, 1);
    for (unsigned i = 1; i <= pieces; i++)
        put_desc(TABLE, i, DATA + (uint64_t)(i - 1) * len, len, VIRTQ_DESC_F_NEXT | flag,
                 (uint16_t)(i + 1));
    put_desc(TABLE, pieces + 1, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
    put_desc(Q0_DESC, 0, TABLE, (pieces + 2) * 16, VIRTQ_DESC_F_INDIRECT, 0);
    avail_add(Q0_AVAIL, 8, 0);
    reg_wr(&t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    ck_assert_uint_eq(used_idx(Q0_USED), (uint16_t)(n + 1));
    *used = used_len(Q0_USED, n % 8);
    return guest[STATUS];
}

/* A clock for the counters that moves 1000 ns each time it is read, so
 * that every request takes a known time: a request reads it at its start
 * and at its end (1000 ns), an access's idle time is read once more. */
static uint64_t fake_ns;
static uint64_t fake_clock(void)
{
    return fake_ns += 1000;
}

/* The counters as QEMU 7.2's virtio-blk keeps them: IN and OUT by their
 * data bytes, FLUSH, WRITE_ZEROES as a write; invalid requests (past the
 * end, not whole sectors) and failed ones (a read-only disk) apart;
 * GET_ID and unsupported types not counted. */
START_TEST(blk_counters)
{
    struct blkacct *a = blk.acct;
    a->clock_ns = fake_clock;
    uint64_t idle;
    ck_assert(!blkacct_idle_ns(a, &idle));
    ck_assert_uint_eq(request(VIRTIO_BLK_T_OUT, 8, 4096, false, NULL), VIRTIO_BLK_S_OK);
    ck_assert_uint_eq(request(VIRTIO_BLK_T_OUT, 2, 1024, false, NULL), VIRTIO_BLK_S_OK);
    ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, 0, 8192, true, NULL), VIRTIO_BLK_S_OK);
    ck_assert_uint_eq(request(VIRTIO_BLK_T_FLUSH, 0, 0, false, NULL), VIRTIO_BLK_S_OK);
    ck_assert_uint_eq(request(VIRTIO_BLK_T_GET_ID, 0, 20, true, NULL), VIRTIO_BLK_S_OK);
    ck_assert_uint_eq(request(77, 0, 0, false, NULL), VIRTIO_BLK_S_UNSUPP);
    /* Two invalid reads, one invalid write. */
    ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, DISK_BYTES / 512, 512, true, NULL),
                      VIRTIO_BLK_S_IOERR);
    ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, 0, 100, true, NULL), VIRTIO_BLK_S_IOERR);
    ck_assert_uint_eq(request(VIRTIO_BLK_T_OUT, DISK_BYTES / 512 - 1, 1024, false, NULL),
                      VIRTIO_BLK_S_IOERR);
    /* WRITE_ZEROES of 16 sectors from sector 100: a write. */
    g64(DATA, 100);
    g32(DATA + 8, 16);
    g32(DATA + 12, 0);
    ck_assert_uint_eq(request(VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false, NULL), VIRTIO_BLK_S_OK);
    /* DISCARD of 4 sectors: an unmap. */
    g64(DATA, 200);
    g32(DATA + 8, 4);
    ck_assert_uint_eq(request(VIRTIO_BLK_T_DISCARD, 0, 16, false, NULL), VIRTIO_BLK_S_OK);

    ck_assert_uint_eq(a->ops[BLKACCT_READ], 1);
    ck_assert_uint_eq(a->bytes[BLKACCT_READ], 8192);
    ck_assert_uint_eq(a->ops[BLKACCT_WRITE], 3);
    ck_assert_uint_eq(a->bytes[BLKACCT_WRITE], 4096 + 1024 + 16 * 512);
    ck_assert_uint_eq(a->ops[BLKACCT_FLUSH], 1);
    ck_assert_uint_eq(a->bytes[BLKACCT_FLUSH], 0);
    ck_assert_uint_eq(a->ops[BLKACCT_UNMAP], 1);
    ck_assert_uint_eq(a->bytes[BLKACCT_UNMAP], 4 * 512);
    ck_assert_uint_eq(a->invalid[BLKACCT_READ], 2);
    ck_assert_uint_eq(a->invalid[BLKACCT_WRITE], 1);
    ck_assert_uint_eq(a->failed[BLKACCT_READ] + a->failed[BLKACCT_WRITE], 0);
    /* Each request done took one tick of the clock; invalid ones none. */
    ck_assert_uint_eq(a->time_ns[BLKACCT_READ], 1000);
    ck_assert_uint_eq(a->time_ns[BLKACCT_WRITE], 3000);
    ck_assert_uint_eq(a->time_ns[BLKACCT_FLUSH], 1000);
    /* The highest write reached sector 116 (the zeroed range). */
    ck_assert_uint_eq(a->wr_highest_offset, 116 * 512);
    ck_assert(blkacct_idle_ns(a, &idle));
    ck_assert_uint_eq(idle, 1000);
}
END_TEST

/* A read-only disk fails writes (counted failed, with their time) and
 * still reads. */
START_TEST(blk_counters_read_only)
{
    mem_free(img);
    blk_open(true);
    blk.acct->clock_ns = fake_clock;
    ck_assert_uint_eq(request(VIRTIO_BLK_T_OUT, 0, 512, false, NULL), VIRTIO_BLK_S_IOERR);
    ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, 0, 512, true, NULL), VIRTIO_BLK_S_OK);
    ck_assert_uint_eq(blk.acct->failed[BLKACCT_WRITE], 1);
    ck_assert_uint_eq(blk.acct->invalid[BLKACCT_WRITE], 0);
    ck_assert_uint_eq(blk.acct->ops[BLKACCT_WRITE], 0);
    ck_assert_uint_eq(blk.acct->time_ns[BLKACCT_WRITE], 1000);
    ck_assert_uint_eq(blk.acct->ops[BLKACCT_READ], 1);
    /* The failed write reached the disk: QEMU's block layer records it. */
    ck_assert_uint_eq(blk.acct->wr_highest_offset, 512);
    /* One past the end is invalid, even on a read-only disk. */
    ck_assert_uint_eq(request(VIRTIO_BLK_T_OUT, DISK_BYTES / 512, 512, false, NULL),
                      VIRTIO_BLK_S_IOERR);
    ck_assert_uint_eq(blk.acct->invalid[BLKACCT_WRITE], 1);
    ck_assert_uint_eq(blk.acct->failed[BLKACCT_WRITE], 1);
}
END_TEST

/* Requests beyond seg_max are invalid, as a driver's mistake. */
START_TEST(blk_counters_limits)
{
    drv_start(&t, V1 | (1ull << VIRTIO_F_INDIRECT_DESC), 8);
    uint32_t used;
    ck_assert_uint_eq(pieces_request(VIRTIO_BLK_T_IN, 0, VIRTIO_BLK_SEG_MAX + 1, 512, &used),
                      VIRTIO_BLK_S_IOERR);
    ck_assert_uint_eq(blk.acct->invalid[BLKACCT_READ], 1);
    ck_assert_uint_eq(blk.acct->ops[BLKACCT_READ], 0);
}
END_TEST

START_TEST(blk_seg_max)
{
    drv_start(&t, V1 | (1ull << VIRTIO_F_INDIRECT_DESC), 8);
    uint8_t disk[VIRTIO_BLK_SEG_MAX * 512 + 512], got[sizeof(disk)];
    fill(disk, sizeof(disk), 5);
    ck_assert_int_eq(img_write(img, 0, disk, sizeof(disk)), 0);
    uint32_t used;
    /* seg_max pieces: read in full. */
    ck_assert_uint_eq(pieces_request(VIRTIO_BLK_T_IN, 0, VIRTIO_BLK_SEG_MAX, 512, &used),
                      VIRTIO_BLK_S_OK);
    ck_assert_uint_eq(used, VIRTIO_BLK_SEG_MAX * 512 + 1);
    ck_assert_mem_eq(guest + DATA, disk, VIRTIO_BLK_SEG_MAX * 512);
    ck_assert_int_eq(rec.lines, 0);
    /* One more: IOERR, nothing read into guest memory, one line. */
    memset(guest + DATA, 0x77, sizeof(disk));
    ck_assert_uint_eq(pieces_request(VIRTIO_BLK_T_IN, 0, VIRTIO_BLK_SEG_MAX + 1, 512, &used),
                      VIRTIO_BLK_S_IOERR);
    ck_assert_uint_eq(used, 1);
    ck_assert_uint_eq(guest[DATA], 0x77);
    ck_assert_uint_eq(guest[DATA + VIRTIO_BLK_SEG_MAX * 512], 0x77);
    ck_assert_int_eq(rec.lines, 1);
    ck_assert_ptr_nonnull(strstr(rec.last, "127 data segments (seg_max 126)"));
    ck_assert_ptr_nonnull(strstr(rec.last, "VIRTIO_BLK_S_IOERR"));
    /* The same as a write: the disk is unchanged; logged once per kind. */
    ck_assert_uint_eq(pieces_request(VIRTIO_BLK_T_OUT, 0, VIRTIO_BLK_SEG_MAX + 1, 512, &used),
                      VIRTIO_BLK_S_IOERR);
    ck_assert_int_eq(img_read(img, 0, got, sizeof(got)), 0);
    ck_assert_mem_eq(got, disk, sizeof(disk));
    ck_assert_int_eq(rec.lines, 1);
    /* A request refused is not a broken ring: the device goes on. */
    ck_assert_uint_eq(reg_rd(&t, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET, 0);
    ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, 0, 512, true, NULL), VIRTIO_BLK_S_OK);
}
END_TEST

START_TEST(blk_size_max)
{
    uint8_t *disk = malloc(2 * VIRTIO_BLK_SIZE_MAX), *got = malloc(2 * VIRTIO_BLK_SIZE_MAX);
    fill(disk, 2 * VIRTIO_BLK_SIZE_MAX, 11);
    ck_assert_int_eq(img_write(img, 0, disk, 2 * VIRTIO_BLK_SIZE_MAX), 0);
    /* size_max bytes in one piece: written. */
    memset(guest + DATA, 0x3c, VIRTIO_BLK_SIZE_MAX + 512);
    ck_assert_uint_eq(request(VIRTIO_BLK_T_OUT, 0, VIRTIO_BLK_SIZE_MAX, false, NULL),
                      VIRTIO_BLK_S_OK);
    memset(disk, 0x3c, VIRTIO_BLK_SIZE_MAX);
    ck_assert_int_eq(rec.lines, 0);
    /* A sector more in that piece: IOERR, nothing written, one line. */
    memset(guest + DATA, 0xc3, VIRTIO_BLK_SIZE_MAX + 512);
    ck_assert_uint_eq(request(VIRTIO_BLK_T_OUT, 0, VIRTIO_BLK_SIZE_MAX + 512, false, NULL),
                      VIRTIO_BLK_S_IOERR);
    ck_assert_int_eq(img_read(img, 0, got, 2 * VIRTIO_BLK_SIZE_MAX), 0);
    ck_assert_mem_eq(got, disk, 2 * VIRTIO_BLK_SIZE_MAX);
    ck_assert_int_eq(rec.lines, 1);
    ck_assert_ptr_nonnull(strstr(rec.last, "data segment of 66048 bytes (size_max 65536)"));
    /* And as a read: guest memory untouched. */
    ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, 0, VIRTIO_BLK_SIZE_MAX + 512, true, NULL),
                      VIRTIO_BLK_S_IOERR);
    ck_assert_uint_eq(guest[DATA], 0xc3);
    ck_assert_int_eq(rec.lines, 1);
    /* Framing is the driver's: the header and size_max bytes of data in
     * one piece, and size_max bytes of data with the status in one piece,
     * carry size_max bytes of data each (2.7.4 "Message Framing"). */
    const uint64_t one = 0x50000; /* header, data and status in a row */
    g32(one, VIRTIO_BLK_T_OUT);
    g32(one + 4, 0);
    g64(one + 8, 0);
    memset(guest + one + 16, 0x5a, VIRTIO_BLK_SIZE_MAX);
    put_desc(Q0_DESC, 0, one, 16 + VIRTIO_BLK_SIZE_MAX, VIRTQ_DESC_F_NEXT, 1);
    put_desc(Q0_DESC, 1, one + 16 + VIRTIO_BLK_SIZE_MAX, 1, VIRTQ_DESC_F_WRITE, 0);
    avail_add(Q0_AVAIL, 8, 0);
    reg_wr(&t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    ck_assert_uint_eq(guest[one + 16 + VIRTIO_BLK_SIZE_MAX], VIRTIO_BLK_S_OK);
    g32(one, VIRTIO_BLK_T_IN);
    put_desc(Q0_DESC, 0, one, 16, VIRTQ_DESC_F_NEXT, 1);
    put_desc(Q0_DESC, 1, DATA, VIRTIO_BLK_SIZE_MAX + 1, VIRTQ_DESC_F_WRITE, 0);
    avail_add(Q0_AVAIL, 8, 0);
    reg_wr(&t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    ck_assert_uint_eq(guest[DATA + VIRTIO_BLK_SIZE_MAX], VIRTIO_BLK_S_OK);
    memset(disk, 0x5a, VIRTIO_BLK_SIZE_MAX);
    ck_assert_mem_eq(guest + DATA, disk, VIRTIO_BLK_SIZE_MAX);
    ck_assert_int_eq(rec.lines, 1);
    ck_assert_uint_eq(reg_rd(&t, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET, 0);
    free(disk);
    free(got);
}
END_TEST

START_TEST(blk_read_only)
{
    mem_free(img);
    blk_open(true);
    reg_wr(&t, VIRTIO_MMIO_DEV_FEAT_SEL, 0);
    ck_assert_uint_ne(reg_rd(&t, VIRTIO_MMIO_DEV_FEATURES) & (1u << VIRTIO_BLK_F_RO), 0);
    memset(guest + DATA, 0x5a, 512);
    ck_assert_uint_eq(request(VIRTIO_BLK_T_OUT, 0, 512, false, NULL), VIRTIO_BLK_S_IOERR);
    ck_assert_ptr_nonnull(strstr(rec.last, "read-only"));
    g64(DATA, 0);
    g32(DATA + 8, 1);
    g32(DATA + 12, 0);
    ck_assert_uint_eq(request(VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false, NULL), VIRTIO_BLK_S_IOERR);
    /* Reads and flushes still work; the disk is unchanged. */
    ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, 0, 512, true, NULL), VIRTIO_BLK_S_OK);
    ck_assert_uint_eq(guest[DATA], 0);
    ck_assert_uint_eq(request(VIRTIO_BLK_T_FLUSH, 0, 0, false, NULL), VIRTIO_BLK_S_OK);
}
END_TEST

/* The oracle: QEMU's own tools on a qcow2 file the device wrote. */
START_TEST(blk_qemu_agrees)
{
    if (system("qemu-img --version >/dev/null 2>&1") != 0)
        ck_abort_msg("qemu-img is not installed (see mk/deps.sh)");
    char path[] = "/tmp/hvkit-virtio-blk-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    struct img_create_opts o;
    img_create_opts_init(&o);
    o.format = IMG_FMT_QCOW2;
    o.size = DISK_BYTES;
    struct img_err err;
    ck_assert_int_eq(img_create_file(path, &o, &err), 0);
    struct img *file;
    ck_assert_int_eq(img_open_file(path, "qcow2", IMG_OPEN_RW, &file, &err), 0);
    virtio_blk_init(&blk, "virtio-blk1", file, false);
    virtio_mmio_init(&t, &blk.dev, &harness_mem, 0xfeb00400, harness_irq, NULL, harness_log, NULL);
    drv_start(&t, V1, 8);
    /* 0xab over 64 KiB at 1 MiB, then a flush. */
    memset(guest + DATA, 0xab, 65536);
    ck_assert_uint_eq(request(VIRTIO_BLK_T_OUT, 2048, 65536, false, NULL), 0);
    ck_assert_uint_eq(request(VIRTIO_BLK_T_FLUSH, 0, 0, false, NULL), 0);
    ck_assert_int_eq(img_close(file), 0);
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "qemu-img check -q %s", path);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(cmd, sizeof(cmd),
             "qemu-io -f qcow2 -c 'read -q -P 0xab 1M 64k' -c 'read -q -P 0 0 1M' "
             "-c 'read -q -P 0 1088k 2944k' %s 2>&1 | grep -q . && exit 1 || exit 0",
             path);
    ck_assert_msg(system(cmd) == 0, "qemu-io does not read back the pattern");
    unlink(path);
}
END_TEST

Suite *virtio_dev_suite(void)
{
    Suite *s = suite_create("hv_virtio_dev");
    TCase *tc = tcase_create("console");
    tcase_add_checked_fixture(tc, con_setup, NULL);
    tcase_add_test(tc, console_identity);
    tcase_add_test(tc, console_output);
    tcase_add_test(tc, console_emergency_write);
    tcase_add_test(tc, console_input);
    tcase_add_test(tc, console_input_on_notify);
    suite_add_tcase(s, tc);
    TCase *tb = tcase_create("blk");
    tcase_add_checked_fixture(tb, blk_setup, blk_teardown);
    tcase_add_test(tb, blk_config);
    tcase_add_test(tb, blk_write_read_back);
    tcase_add_test(tb, blk_scattered_pieces);
    tcase_add_test(tb, blk_get_id_and_zeroes);
    tcase_add_test(tb, blk_refusals);
    tcase_add_test(tb, blk_seg_max);
    tcase_add_test(tb, blk_size_max);
    tcase_add_test(tb, blk_read_only);
    tcase_add_test(tb, blk_qemu_agrees);
    tcase_add_test(tb, blk_counters);
    tcase_add_test(tb, blk_counters_read_only);
    tcase_add_test(tb, blk_counters_limits);
    suite_add_tcase(s, tb);
    return s;
}

int main(void)
{
    return check_main(virtio_dev_suite());
}
