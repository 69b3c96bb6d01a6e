/*
 * Unit tests for hv/dev/virtio/virtio_mmio.c and virtq.c: the version 2
 * register layout, feature negotiation and the status state machine,
 * queue set-up, descriptor chains (direct and indirect), the used ring,
 * interrupts with and without event indexes, and every hostile driver the
 * lesson lists: the device must end in DEVICE_NEEDS_RESET or ignore the
 * access, log one line, touch nothing outside guest RAM and never loop.
 *
 * The device behind the transport is an "echo" device made for the test:
 * it copies each chain's readable bytes into its writable ones.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "virtio_harness.h"

#define V1       (1ull << VIRTIO_F_VERSION_1)
#define INDIRECT (1ull << VIRTIO_F_INDIRECT_DESC)
#define EVIDX    (1ull << VIRTIO_F_EVENT_IDX)

/* ---- The echo device ---------------------------------------------------------- */

static struct virtq_chain chain;
static int requests, resets;
static uint8_t echo_config[8] = {1, 2, 3, 4, 5, 6, 7, 8};

static void echo_notify(void *ctx, struct virtio_mmio *t, unsigned q)
{
    (void)ctx;
    while (virtio_mmio_pop(t, q, &chain)) {
        uint8_t buf[4096];
        size_t n = virtq_chain_read(&chain, 0, buf, sizeof(buf));
        size_t w = virtq_chain_write(&chain, 0, buf, n);
        virtio_mmio_push(t, q, chain.head, (uint32_t)w);
        requests++;
    }
    virtio_mmio_notify_used(t, q);
}

static void echo_reset(void *ctx)
{
    (void)ctx;
    resets++;
}

static const struct virtio_device echo = {
    .name = "echo0",
    .device_id = 42,
    .features = V1 | INDIRECT | EVIDX | (1ull << 5),
    .nqueues = 1,
    .config = echo_config,
    .config_len = sizeof(echo_config),
    .notify = echo_notify,
    .reset = echo_reset,
};

static struct virtio_mmio t;

static void setup(void)
{
    harness_reset();
    requests = resets = 0;
    virtio_mmio_init(&t, &echo, &harness_mem, 0xfeb00000, harness_irq, NULL, harness_log, NULL);
}

/* A two-piece request at descriptors 0 (readable "hello") and 1 (writable). */
static void two_piece(uint16_t size)
{
    memcpy(guest + BUF, "hello", 5);
    put_desc(Q0_DESC, 0, BUF, 5, VIRTQ_DESC_F_NEXT, 1);
    put_desc(Q0_DESC, 1, BUF + 0x100, 16, VIRTQ_DESC_F_WRITE, 0);
    avail_add(Q0_AVAIL, size, 0);
}

static bool needs_reset(void)
{
    return reg_rd(&t, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET;
}

/* ---- Registers and negotiation ------------------------------------------------ */

START_TEST(identity_registers)
{
    ck_assert_uint_eq(reg_rd(&t, VIRTIO_MMIO_MAGIC), 0x74726976);
    ck_assert_uint_eq(reg_rd(&t, VIRTIO_MMIO_VERSION), 2);
    ck_assert_uint_eq(reg_rd(&t, VIRTIO_MMIO_DEVICE_ID), 42);
    ck_assert_uint_eq(reg_rd(&t, VIRTIO_MMIO_VENDOR_ID), 0x554d4551);
    /* Feature windows: 0 is bits 0-31, 1 is 32-63, others 0. */
    reg_wr(&t, VIRTIO_MMIO_DEV_FEAT_SEL, 0);
    ck_assert_uint_eq(reg_rd(&t, VIRTIO_MMIO_DEV_FEATURES), (uint32_t)echo.features);
    reg_wr(&t, VIRTIO_MMIO_DEV_FEAT_SEL, 1);
    ck_assert_uint_eq(reg_rd(&t, VIRTIO_MMIO_DEV_FEATURES), 1);
    reg_wr(&t, VIRTIO_MMIO_DEV_FEAT_SEL, 2);
    ck_assert_uint_eq(reg_rd(&t, VIRTIO_MMIO_DEV_FEATURES), 0);
    /* One queue: QueueNumMax is the maximum for queue 0 and 0 beyond. */
    ck_assert_uint_eq(reg_rd(&t, VIRTIO_MMIO_QUEUE_NUM_MAX), VIRTQ_MAX_SIZE);
    reg_wr(&t, VIRTIO_MMIO_QUEUE_SEL, 1);
    ck_assert_uint_eq(reg_rd(&t, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
    ck_assert_uint_eq(reg_rd(&t, VIRTIO_MMIO_SHM_LEN_LO), 0xffffffff);
    ck_assert_uint_eq(reg_rd(&t, VIRTIO_MMIO_CONFIG_GEN), 0);
    /* The configuration space in any access size, little endian. */
    ck_assert_uint_eq(virtio_mmio_read(&t, 0x100, 1), 1);
    ck_assert_uint_eq(virtio_mmio_read(&t, 0x102, 2), 0x0403);
    ck_assert_uint_eq(virtio_mmio_read(&t, 0x104, 4), 0x08070605);
    ck_assert_int_eq(rec.lines, 0);
    /* Past its end: 0 and one log line. */
    ck_assert_uint_eq(virtio_mmio_read(&t, 0x106, 4), 0);
    ck_assert_int_eq(rec.lines, 1);
}
END_TEST

START_TEST(negotiation)
{
    /* A feature the device did not offer: FEATURES_OK stays clear. */
    uint32_t s = drv_negotiate(&t, V1 | (1ull << 6));
    ck_assert_uint_eq(s & VIRTIO_STATUS_FEATURES_OK, 0);
    ck_assert_ptr_nonnull(strstr(rec.last, "did not offer"));
    /* Without VIRTIO_F_VERSION_1: refused too. */
    s = drv_negotiate(&t, 1ull << 5);
    ck_assert_uint_eq(s & VIRTIO_STATUS_FEATURES_OK, 0);
    ck_assert_ptr_nonnull(strstr(rec.last, "VERSION_1"));
    /* A subset with VERSION_1: accepted. */
    s = drv_negotiate(&t, V1 | EVIDX);
    ck_assert_uint_eq(s,
                      VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    ck_assert_uint_eq(t.driver_features, V1 | EVIDX);
    /* Changing features after FEATURES_OK: ignored, logged once. */
    int lines = rec.lines;
    reg_wr(&t, VIRTIO_MMIO_DRV_FEAT_SEL, 0);
    reg_wr(&t, VIRTIO_MMIO_DRV_FEATURES, INDIRECT);
    reg_wr(&t, VIRTIO_MMIO_DRV_FEATURES, 0);
    ck_assert_uint_eq(t.driver_features, V1 | EVIDX);
    ck_assert_int_eq(rec.lines, lines + 1);
    ck_assert_ptr_nonnull(strstr(rec.last, "after FEATURES_OK"));
}
END_TEST

START_TEST(status_state_machine)
{
    drv_negotiate(&t, V1);
    /* Clearing a bit without a reset: kept, logged. */
    reg_wr(&t, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
    ck_assert_uint_eq(reg_rd(&t, VIRTIO_MMIO_STATUS),
                      VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    ck_assert_ptr_nonnull(strstr(rec.last, "cleared status bits"));
    /* The driver cannot set NEEDS_RESET. */
    reg_wr(&t, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_NEEDS_RESET | 0xb);
    ck_assert(!needs_reset());
    /* FAILED is the driver's to set. */
    reg_wr(&t, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_FAILED | 0xb);
    ck_assert_uint_eq(reg_rd(&t, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FAILED, VIRTIO_STATUS_FAILED);
    /* 0 resets everything and tells the device. */
    int before = resets;
    reg_wr(&t, VIRTIO_MMIO_STATUS, 0);
    ck_assert_uint_eq(reg_rd(&t, VIRTIO_MMIO_STATUS), 0);
    ck_assert_uint_eq(t.driver_features, 0);
    ck_assert_int_eq(resets, before + 1);
}
END_TEST

START_TEST(narrow_control_access)
{
    /* A 1-byte read of Magic and a 2-byte write of Status: neither is
     * allowed on control registers (4.2.2.2). */
    ck_assert_uint_eq(virtio_mmio_read(&t, VIRTIO_MMIO_MAGIC, 1), 0);
    virtio_mmio_write(&t, VIRTIO_MMIO_STATUS, 2, 1);
    ck_assert_uint_eq(reg_rd(&t, VIRTIO_MMIO_STATUS), 0);
    /* Unaligned 32-bit too. */
    virtio_mmio_write(&t, VIRTIO_MMIO_STATUS + 1, 4, 1);
    ck_assert_uint_eq(reg_rd(&t, VIRTIO_MMIO_STATUS), 0);
    ck_assert_int_eq(rec.lines, 1);
    ck_assert_ptr_nonnull(strstr(rec.last, "only aligned 32-bit"));
}
END_TEST

/* ---- Requests ------------------------------------------------------------------ */

START_TEST(one_request)
{
    drv_start(&t, V1, 8);
    ck_assert_uint_eq(reg_rd(&t, VIRTIO_MMIO_QUEUE_READY), 1);
    two_piece(8);
    reg_wr(&t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    ck_assert_int_eq(requests, 1);
    ck_assert_uint_eq(used_idx(Q0_USED), 1);
    ck_assert_uint_eq(used_id(Q0_USED, 0), 0);
    ck_assert_uint_eq(used_len(Q0_USED, 0), 5);
    ck_assert_mem_eq(guest + BUF + 0x100, "hello", 5);
    /* Interrupt: InterruptStatus bit 0 and the line high until the ACK. */
    ck_assert_uint_eq(reg_rd(&t, VIRTIO_MMIO_INT_STATUS), VIRTIO_INT_USED);
    ck_assert(rec.irq);
    reg_wr(&t, VIRTIO_MMIO_INT_ACK, VIRTIO_INT_USED);
    ck_assert(!rec.irq);
    ck_assert_uint_eq(reg_rd(&t, VIRTIO_MMIO_INT_STATUS), 0);
    /* A second notify with nothing new does nothing. */
    reg_wr(&t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    ck_assert_int_eq(requests, 1);
    ck_assert(!rec.irq);
    ck_assert_int_eq(rec.lines, 0);
}
END_TEST

START_TEST(ring_wraps)
{
    /* 40 requests through a 4-entry queue: the ring indexes wrap. */
    drv_start(&t, V1, 4);
    for (int i = 0; i < 40; i++) {
        uint16_t head = (uint16_t)((i % 2) * 2);
        put_desc(Q0_DESC, head, BUF, 3, VIRTQ_DESC_F_NEXT, (uint16_t)(head + 1));
        put_desc(Q0_DESC, head + 1, BUF + 0x100 + i, 3, VIRTQ_DESC_F_WRITE, 0);
        avail_add(Q0_AVAIL, 4, head);
        reg_wr(&t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
        ck_assert_uint_eq(used_idx(Q0_USED), i + 1);
        ck_assert_uint_eq(used_id(Q0_USED, i % 4), head);
    }
    ck_assert_int_eq(requests, 40);
}
END_TEST

START_TEST(buffers_before_driver_ok)
{
    /* Buffers made available before DRIVER_OK are taken when it comes;
     * the early notification itself is ignored and logged. */
    drv_negotiate(&t, V1);
    drv_queue(&t, 0, 8, Q0_DESC, Q0_AVAIL, Q0_USED);
    two_piece(8);
    reg_wr(&t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    ck_assert_int_eq(requests, 0);
    ck_assert_ptr_nonnull(strstr(rec.last, "before DRIVER_OK"));
    reg_wr(&t, VIRTIO_MMIO_STATUS, reg_rd(&t, VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_DRIVER_OK);
    ck_assert_int_eq(requests, 1);
}
END_TEST

START_TEST(indirect_chain)
{
    drv_start(&t, V1 | INDIRECT, 8);
    /* Descriptor 3 points at an indirect table of three at BUF + 0x800. */
    memcpy(guest + BUF, "abcdef", 6);
    put_desc(BUF + 0x800, 0, BUF, 2, VIRTQ_DESC_F_NEXT, 1);
    put_desc(BUF + 0x800, 1, BUF + 2, 4, VIRTQ_DESC_F_NEXT, 2);
    put_desc(BUF + 0x800, 2, BUF + 0x100, 6, VIRTQ_DESC_F_WRITE, 0);
    put_desc(Q0_DESC, 3, BUF + 0x800, 48, VIRTQ_DESC_F_INDIRECT, 0);
    avail_add(Q0_AVAIL, 8, 3);
    reg_wr(&t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    ck_assert_int_eq(requests, 1);
    ck_assert_uint_eq(chain.nseg, 3);
    ck_assert_uint_eq(chain.nread, 2);
    ck_assert_uint_eq(used_id(Q0_USED, 0), 3);
    ck_assert_uint_eq(used_len(Q0_USED, 0), 6);
    ck_assert_mem_eq(guest + BUF + 0x100, "abcdef", 6);
}
END_TEST

START_TEST(event_idx_suppression)
{
    drv_start(&t, V1 | EVIDX, 8);
    /* used_event = 1: the driver wants an interrupt only once used idx
     * passes 1, i.e. after the second request. */
    g16(Q0_AVAIL + 4 + 2 * 8, 1);
    two_piece(8);
    reg_wr(&t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    ck_assert_uint_eq(used_idx(Q0_USED), 1);
    ck_assert(!rec.irq);
    /* The device asks to be notified at the next available entry. */
    ck_assert_uint_eq(r16(Q0_USED + 4 + 8 * 8), 1);
    two_piece(8);
    reg_wr(&t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    ck_assert_uint_eq(used_idx(Q0_USED), 2);
    ck_assert(rec.irq);
    ck_assert_uint_eq(r16(Q0_USED + 4 + 8 * 8), 2);
}
END_TEST

START_TEST(no_interrupt_flag)
{
    drv_start(&t, V1, 8);
    g16(Q0_AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT);
    two_piece(8);
    reg_wr(&t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    ck_assert_uint_eq(used_idx(Q0_USED), 1);
    ck_assert(!rec.irq);
    g16(Q0_AVAIL, 0);
    two_piece(8);
    reg_wr(&t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    ck_assert(rec.irq);
}
END_TEST

START_TEST(chain_copy_across_pieces)
{
    /* virtq_chain_read/write at offsets that cross piece boundaries. */
    drv_start(&t, V1, 8);
    memcpy(guest + BUF, "0123456789", 10);
    put_desc(Q0_DESC, 0, BUF, 3, VIRTQ_DESC_F_NEXT, 1);
    put_desc(Q0_DESC, 1, BUF + 3, 7, VIRTQ_DESC_F_NEXT, 2);
    put_desc(Q0_DESC, 2, BUF + 0x100, 2, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 3);
    put_desc(Q0_DESC, 3, BUF + 0x200, 8, VIRTQ_DESC_F_WRITE, 0);
    avail_add(Q0_AVAIL, 8, 0);
    struct virtq_chain c;
    t.status |= VIRTIO_STATUS_DRIVER_OK;
    ck_assert(virtio_mmio_pop(&t, 0, &c));
    ck_assert_uint_eq(c.read_len, 10);
    ck_assert_uint_eq(c.write_len, 10);
    char out[8] = {0};
    ck_assert_uint_eq(virtq_chain_read(&c, 2, out, 4), 4);
    ck_assert_mem_eq(out, "2345", 4);
    ck_assert_uint_eq(virtq_chain_read(&c, 8, out, 8), 2);
    ck_assert_uint_eq(virtq_chain_write(&c, 1, "WXYZ", 4), 4);
    ck_assert_mem_eq(guest + BUF + 0x101, "W", 1);
    ck_assert_mem_eq(guest + BUF + 0x200, "XYZ", 3);
    ck_assert_uint_eq(virtq_chain_write(&c, 9, "ab", 2), 1);
}
END_TEST

/* ---- Hostile drivers ------------------------------------------------------------ */

/* Start the device with queue size 8, let `plant` write a bad chain at
 * head 0, notify, and check the device broke down cleanly: NEEDS_RESET,
 * a configuration interrupt, one log line naming `words`, no used entry,
 * and RAM outside the rings untouched.  Then reset and check the device
 * works again. */
static void expect_broken(uint64_t features, void (*plant)(void), const char *words)
{
    drv_start(&t, V1 | features, 8);
    plant();
    avail_add(Q0_AVAIL, 8, 0);
    static uint8_t before[GUEST_RAM];
    memcpy(before, guest, sizeof(before));
    reg_wr(&t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    ck_assert_msg(needs_reset(), "no NEEDS_RESET for %s", words);
    ck_assert_int_eq(requests, 0);
    ck_assert_int_eq(rec.lines, 1);
    ck_assert_msg(strstr(rec.last, words), "log line '%s' lacks '%s'", rec.last, words);
    ck_assert_uint_eq(reg_rd(&t, VIRTIO_MMIO_INT_STATUS), VIRTIO_INT_CONFIG);
    ck_assert(rec.irq);
    ck_assert_int_eq(memcmp(before, guest, sizeof(before)), 0);
    /* Broken: further notifications do nothing and log nothing more. */
    reg_wr(&t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    ck_assert_int_eq(rec.lines, 1);
    /* A reset brings it back. */
    harness_reset();
    drv_start(&t, V1, 8);
    ck_assert(!needs_reset());
    two_piece(8);
    reg_wr(&t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    ck_assert_int_eq(requests, 1);
}

static void plant_loop(void)
{
    put_desc(Q0_DESC, 0, BUF, 4, VIRTQ_DESC_F_NEXT, 1);
    put_desc(Q0_DESC, 1, BUF, 4, VIRTQ_DESC_F_NEXT, 0);
}

static void plant_self_loop(void)
{
    put_desc(Q0_DESC, 0, BUF, 4, VIRTQ_DESC_F_NEXT, 0);
}

static void plant_next_out_of_range(void)
{
    put_desc(Q0_DESC, 0, BUF, 4, VIRTQ_DESC_F_NEXT, 8);
}

static void plant_outside_ram(void)
{
    put_desc(Q0_DESC, 0, GUEST_RAM - 2, 4, 0, 0);
}

static void plant_into_mmio_hole(void)
{
    put_desc(Q0_DESC, 0, HOLE_BASE - 16, 32, VIRTQ_DESC_F_WRITE, 0);
}

static void plant_write_into_read_only(void)
{
    put_desc(Q0_DESC, 0, RO_PAGE, 4, VIRTQ_DESC_F_NEXT, 1);
    put_desc(Q0_DESC, 1, RO_PAGE + 8, 4, VIRTQ_DESC_F_WRITE, 0);
}

static void plant_wrapping_length(void)
{
    put_desc(Q0_DESC, 0, 0xffffffffffffff00ull, 0x1000, 0, 0);
}

static void plant_read_after_write(void)
{
    put_desc(Q0_DESC, 0, BUF, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
    put_desc(Q0_DESC, 1, BUF + 8, 4, 0, 0);
}

static void plant_indirect(void)
{
    put_desc(BUF + 0x800, 0, BUF, 4, 0, 0);
    put_desc(Q0_DESC, 0, BUF + 0x800, 16, VIRTQ_DESC_F_INDIRECT, 0);
}

static void plant_indirect_with_next(void)
{
    put_desc(BUF + 0x800, 0, BUF, 4, 0, 0);
    put_desc(Q0_DESC, 0, BUF + 0x800, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
}

static void plant_nested_indirect(void)
{
    put_desc(BUF + 0x800, 0, BUF + 0x800, 16, VIRTQ_DESC_F_INDIRECT, 0);
    put_desc(Q0_DESC, 0, BUF + 0x800, 16, VIRTQ_DESC_F_INDIRECT, 0);
}

static void plant_indirect_odd_length(void)
{
    put_desc(Q0_DESC, 0, BUF + 0x800, 20, VIRTQ_DESC_F_INDIRECT, 0);
}

static void plant_indirect_loop(void)
{
    /* Four entries that chain 0 -> 1 -> 2 -> 3 -> 0. */
    for (unsigned i = 0; i < 4; i++)
        put_desc(BUF + 0x800, i, BUF, 4, VIRTQ_DESC_F_NEXT, (uint16_t)((i + 1) % 4));
    put_desc(Q0_DESC, 0, BUF + 0x800, 64, VIRTQ_DESC_F_INDIRECT, 0);
}

static void plant_huge_indirect(void)
{
    put_desc(Q0_DESC, 0, BUF, 16 * (VIRTQ_MAX_SIZE + 1), VIRTQ_DESC_F_INDIRECT, 0);
}

START_TEST(hostile_chains)
{
    struct {
        uint64_t features;
        void (*plant)(void);
        const char *words;
    } cases[] = {
        {0, plant_loop, "loops"},
        {0, plant_self_loop, "loops"},
        {0, plant_next_out_of_range, "outside its table"},
        {0, plant_outside_ram, "not guest RAM"},
        {0, plant_into_mmio_hole, "not guest RAM"},
        {0, plant_wrapping_length, "not guest RAM"},
        {0, plant_write_into_read_only, "not guest RAM"},
        {0, plant_read_after_write, "device-readable descriptor after"},
        {0, plant_indirect, "without VIRTIO_F_INDIRECT_DESC"},
        {INDIRECT, plant_indirect_with_next, "VIRTQ_DESC_F_NEXT"},
        {INDIRECT, plant_nested_indirect, "inside an indirect table"},
        {INDIRECT, plant_indirect_odd_length, "multiple of 16"},
        {INDIRECT, plant_indirect_loop, "loops"},
        {INDIRECT, plant_huge_indirect, "indirect table of"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        setup();
        expect_broken(cases[i].features, cases[i].plant, cases[i].words);
    }
}
END_TEST

START_TEST(head_out_of_range)
{
    drv_start(&t, V1, 8);
    g16(Q0_AVAIL + 4, 9);
    g16(Q0_AVAIL + 2, 1);
    reg_wr(&t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    ck_assert(needs_reset());
    ck_assert_ptr_nonnull(strstr(rec.last, "names descriptor 9 of 8"));
}
END_TEST

START_TEST(avail_idx_too_far_ahead)
{
    drv_start(&t, V1, 8);
    g16(Q0_AVAIL + 2, 9);
    reg_wr(&t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    ck_assert(needs_reset());
    ck_assert_ptr_nonnull(strstr(rec.last, "9 entries ahead"));
    ck_assert_uint_eq(used_idx(Q0_USED), 0);
}
END_TEST

START_TEST(bad_queue_layouts)
{
    struct {
        uint16_t size;
        uint64_t desc, avail, used;
        const char *words;
    } cases[] = {
        {3, Q0_DESC, Q0_AVAIL, Q0_USED, "not a power of two"},
        {0, Q0_DESC, Q0_AVAIL, Q0_USED, "not a power of two"},
        {512, Q0_DESC, Q0_AVAIL, Q0_USED, "not a power of two"},
        {8, Q0_DESC + 8, Q0_AVAIL, Q0_USED, "misaligned"},
        {8, Q0_DESC, Q0_AVAIL + 1, Q0_USED, "misaligned"},
        {8, Q0_DESC, Q0_AVAIL, Q0_USED + 2, "misaligned"},
        {8, GUEST_RAM - 64, Q0_AVAIL, Q0_USED, "descriptor table"},
        {8, Q0_DESC, HOLE_BASE - 8, Q0_USED, "available ring"},
        {8, Q0_DESC, Q0_AVAIL, 0xfffffffffffffff0ull, "used ring"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        setup();
        drv_negotiate(&t, V1);
        drv_queue(&t, 0, cases[i].size, cases[i].desc, cases[i].avail, cases[i].used);
        ck_assert_uint_eq(reg_rd(&t, VIRTIO_MMIO_QUEUE_READY), 0);
        ck_assert(needs_reset());
        ck_assert_int_eq(rec.lines, 1);
        ck_assert_msg(strstr(rec.last, cases[i].words), "case %zu: '%s'", i, rec.last);
    }
}
END_TEST

START_TEST(queue_misuse_ignored)
{
    drv_start(&t, V1, 8);
    /* Reconfiguring a ready queue is ignored. */
    reg_wr(&t, VIRTIO_MMIO_QUEUE_SEL, 0);
    reg_wr(&t, VIRTIO_MMIO_QUEUE_NUM, 4);
    ck_assert_uint_eq(reg_rd(&t, VIRTIO_MMIO_QUEUE_NUM), 8);
    ck_assert_ptr_nonnull(strstr(rec.last, "while ready"));
    /* Notifying a queue that does not exist, or one that is not ready. */
    reg_wr(&t, VIRTIO_MMIO_QUEUE_NOTIFY, 5);
    ck_assert_ptr_nonnull(strstr(rec.last, "no such queue"));
    ck_assert(!needs_reset());
    reg_wr(&t, VIRTIO_MMIO_QUEUE_READY, 0);
    two_piece(8);
    int lines = rec.lines;
    reg_wr(&t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    ck_assert_int_eq(requests, 0);
    /* Logged once per kind: the second notify kind adds no line. */
    ck_assert_int_eq(rec.lines, lines);
    ck_assert(!needs_reset());
}
END_TEST

Suite *virtio_suite(void)
{
    Suite *s = suite_create("hv_virtio");
    TCase *tc = tcase_create("transport");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, identity_registers);
    tcase_add_test(tc, negotiation);
    tcase_add_test(tc, status_state_machine);
    tcase_add_test(tc, narrow_control_access);
    tcase_add_test(tc, one_request);
    tcase_add_test(tc, ring_wraps);
    tcase_add_test(tc, buffers_before_driver_ok);
    tcase_add_test(tc, indirect_chain);
    tcase_add_test(tc, event_idx_suppression);
    tcase_add_test(tc, no_interrupt_flag);
    tcase_add_test(tc, chain_copy_across_pieces);
    suite_add_tcase(s, tc);
    TCase *th = tcase_create("hostile");
    tcase_add_checked_fixture(th, setup, NULL);
    tcase_add_test(th, hostile_chains);
    tcase_add_test(th, head_out_of_range);
    tcase_add_test(th, avail_idx_too_far_ahead);
    tcase_add_test(th, bad_queue_layouts);
    tcase_add_test(th, queue_misuse_ignored);
    suite_add_tcase(s, th);
    return s;
}

int main(void)
{
    return check_main(virtio_suite());
}
