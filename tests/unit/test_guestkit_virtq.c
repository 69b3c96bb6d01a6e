/*
 * Unit tests for guestkit's virtio pieces that need no hardware: the
 * driver's half of a split virtqueue (guestkit/runtime/virtq.c, virtio 1.2
 * 2.7 "Split Virtqueues") with the test playing the device, and the
 * parsing of "virtio_mmio.device=" words and key=value arguments
 * (guestkit/runtime/parse.c).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "guestkit/parse.h"
#include "guestkit/virtq.h"
#include "check_main.h"

static struct virtq_page page;
static struct virtq vq;

/* ---- The device's side, as the spec lays the rings out --------------------- */

static uint16_t avail_idx(void)
{
    return vq.avail[1];
}

static uint16_t avail_ring(uint16_t slot)
{
    return vq.avail[2 + (slot & (vq.size - 1))];
}

static uint16_t used_event(void)
{
    return vq.avail[2 + vq.size];
}

static void set_avail_event(uint16_t v)
{
    vq.used[2 + 4 * vq.size] = v;
}

/* The device puts chain `head` in the used ring with `len` bytes written. */
static void device_use(uint16_t head, uint32_t len)
{
    uint16_t idx = vq.used[1];
    volatile struct virtq_used_elem *e =
        (volatile struct virtq_used_elem *)&vq.used[2] + (idx & (vq.size - 1));
    e->id = head;
    e->len = len;
    vq.used[1] = (uint16_t)(idx + 1);
}

START_TEST(init_lays_out_the_parts)
{
    ck_assert(virtq_init(&vq, &page, 16, 3, false, false));
    /* Alignment from 2.7's table: descriptors 16, available 2, used 4. */
    ck_assert_uint_eq(virtq_desc_addr(&vq) % 16, 0);
    ck_assert_uint_eq(virtq_avail_addr(&vq) % 2, 0);
    ck_assert_uint_eq(virtq_used_addr(&vq) % 4, 0);
    ck_assert_uint_eq(vq.num_free, 16);
    ck_assert_uint_eq(vq.index, 3);
    /* Sizes that are not powers of 2, 0 and too large are refused. */
    ck_assert(!virtq_init(&vq, &page, 12, 0, false, false));
    ck_assert(!virtq_init(&vq, &page, 0, 0, false, false));
    ck_assert(!virtq_init(&vq, &page, VIRTQ_MAX_SIZE * 2, 0, false, false));
}
END_TEST

START_TEST(chain_is_linked_and_published)
{
    ck_assert(virtq_init(&vq, &page, 8, 0, false, false));
    int token;
    struct virtq_buf bufs[3] = {{0x1000, 16, false}, {0x2000, 512, true}, {0x3000, 1, true}};
    ck_assert(virtq_add(&vq, bufs, 3, &token));
    /* Not visible before publish. */
    ck_assert_uint_eq(avail_idx(), 0);
    ck_assert(virtq_publish(&vq));
    ck_assert_uint_eq(avail_idx(), 1);
    /* Walk the chain from the head as a device would. */
    uint16_t d = avail_ring(0);
    ck_assert_uint_eq(vq.desc[d].addr, 0x1000);
    ck_assert_uint_eq(vq.desc[d].flags, VIRTQ_DESC_F_NEXT);
    d = vq.desc[d].next;
    ck_assert_uint_eq(vq.desc[d].addr, 0x2000);
    ck_assert_uint_eq(vq.desc[d].flags, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE);
    d = vq.desc[d].next;
    ck_assert_uint_eq(vq.desc[d].len, 1);
    ck_assert_uint_eq(vq.desc[d].flags, VIRTQ_DESC_F_WRITE);
    ck_assert_uint_eq(vq.num_free, 5);
    /* The device uses it: the token comes back and the descriptors are free. */
    ck_assert(!virtq_has_used(&vq));
    device_use(avail_ring(0), 513);
    ck_assert(virtq_has_used(&vq));
    uint32_t len = 0;
    ck_assert_ptr_eq(virtq_get_used(&vq, &len), &token);
    ck_assert_uint_eq(len, 513);
    ck_assert_uint_eq(vq.num_free, 8);
    ck_assert_ptr_null(virtq_get_used(&vq, &len));
}
END_TEST

START_TEST(queue_full_and_reuse_across_wrap)
{
    ck_assert(virtq_init(&vq, &page, 4, 0, false, false));
    struct virtq_buf b[2] = {{0x1000, 8, false}, {0x2000, 8, true}};
    /* Two chains of two fill the queue; a third does not fit. */
    ck_assert(virtq_add(&vq, b, 2, (void *)1));
    ck_assert(virtq_add(&vq, b, 2, (void *)2));
    ck_assert(!virtq_add(&vq, b, 1, (void *)3));
    ck_assert(!virtq_add(&vq, b, 0, (void *)3));
    virtq_publish(&vq);
    /* Completed out of order, then many more rounds: more than 65536
     * chains, so every 16-bit index wraps. */
    device_use(avail_ring(1), 0);
    device_use(avail_ring(0), 0);
    ck_assert_ptr_eq(virtq_get_used(&vq, NULL), (void *)2);
    ck_assert_ptr_eq(virtq_get_used(&vq, NULL), (void *)1);
    for (unsigned i = 0; i < 70000; i++) {
        ck_assert(virtq_add(&vq, b, 2, (void *)(uintptr_t)(i + 10)));
        virtq_publish(&vq);
        device_use(avail_ring((uint16_t)(avail_idx() - 1)), 4);
        ck_assert_ptr_eq(virtq_get_used(&vq, NULL), (void *)(uintptr_t)(i + 10));
    }
    ck_assert_uint_eq(vq.num_free, 4);
}
END_TEST

START_TEST(device_naming_a_bad_head_frees_nothing)
{
    ck_assert(virtq_init(&vq, &page, 4, 0, false, false));
    struct virtq_buf b = {0x1000, 8, true};
    ck_assert(virtq_add(&vq, &b, 1, (void *)1));
    virtq_publish(&vq);
    device_use(3, 0);   /* not a chain in flight */
    device_use(200, 0); /* not even a descriptor */
    ck_assert_ptr_null(virtq_get_used(&vq, NULL));
    ck_assert_ptr_null(virtq_get_used(&vq, NULL));
    ck_assert_uint_eq(vq.num_free, 3);
}
END_TEST

START_TEST(indirect_uses_one_descriptor)
{
    static struct virtq_desc table[4] __attribute__((aligned(16)));
    ck_assert(virtq_init(&vq, &page, 4, 0, false, false));
    struct virtq_buf bufs[3] = {{0x1000, 16, false}, {0x2000, 4096, true}, {0x3000, 1, true}};
    /* Not negotiated: refused. */
    ck_assert(!virtq_add_indirect(&vq, table, bufs, 3, (void *)1));
    ck_assert(virtq_init(&vq, &page, 4, 0, false, true));
    ck_assert(virtq_add_indirect(&vq, table, bufs, 3, (void *)1));
    ck_assert_uint_eq(vq.num_free, 3);
    uint16_t head = vq.avail[2];
    ck_assert_uint_eq(vq.desc[head].flags, VIRTQ_DESC_F_INDIRECT);
    ck_assert_uint_eq(vq.desc[head].len, 3 * sizeof(struct virtq_desc));
    ck_assert_uint_eq(vq.desc[head].addr, (uintptr_t)table);
    ck_assert_uint_eq(table[0].flags, VIRTQ_DESC_F_NEXT);
    ck_assert_uint_eq(table[0].next, 1);
    ck_assert_uint_eq(table[2].flags, VIRTQ_DESC_F_WRITE);
    /* More descriptors than the queue has are refused (2.7.5.3.1). */
    struct virtq_buf many[5] = {0};
    ck_assert(!virtq_add_indirect(&vq, table, many, 5, (void *)2));
}
END_TEST

START_TEST(notification_flags_without_event_idx)
{
    ck_assert(virtq_init(&vq, &page, 4, 0, false, false));
    struct virtq_buf b = {0x1000, 8, true};
    virtq_add(&vq, &b, 1, (void *)1);
    ck_assert(virtq_publish(&vq));
    /* Nothing new: no notification. */
    ck_assert(!virtq_publish(&vq));
    /* The device says VIRTQ_USED_F_NO_NOTIFY. */
    vq.used[0] = VIRTQ_USED_F_NO_NOTIFY;
    virtq_add(&vq, &b, 1, (void *)2);
    ck_assert(!virtq_publish(&vq));
    /* Interrupt suppression goes into the available ring's flags. */
    virtq_want_interrupts(&vq, false);
    ck_assert_uint_eq(vq.avail[0], VIRTQ_AVAIL_F_NO_INTERRUPT);
    virtq_want_interrupts(&vq, true);
    ck_assert_uint_eq(vq.avail[0], 0);
}
END_TEST

START_TEST(event_idx_notifications)
{
    ck_assert(virtq_init(&vq, &page, 8, 0, true, false));
    struct virtq_buf b = {0x1000, 8, true};
    /* avail_event 0: the device wants to hear when entry 0 is published. */
    virtq_add(&vq, &b, 1, (void *)1);
    ck_assert(virtq_publish(&vq));
    /* It now asks to hear at entry 3 only: publishing 1 and 2 is quiet,
     * publishing 3 (in a batch with 4) notifies. */
    set_avail_event(3);
    virtq_add(&vq, &b, 1, (void *)2);
    ck_assert(!virtq_publish(&vq));
    virtq_add(&vq, &b, 1, (void *)3);
    ck_assert(!virtq_publish(&vq));
    virtq_add(&vq, &b, 1, (void *)4);
    virtq_add(&vq, &b, 1, (void *)5);
    ck_assert(virtq_publish(&vq));
    ck_assert_uint_eq(vq.notified, 2);
    ck_assert_uint_eq(vq.suppressed, 2);
    /* Across the 16-bit wrap. */
    ck_assert(virtq_init(&vq, &page, 8, 0, true, false));
    vq.avail_idx = vq.avail_idx_notified = 0xfffe;
    set_avail_event(0xffff);
    virtq_add(&vq, &b, 1, (void *)1);
    virtq_add(&vq, &b, 1, (void *)2);
    ck_assert(virtq_publish(&vq));
    ck_assert_uint_eq(avail_idx(), 0);
}
END_TEST

START_TEST(event_idx_interrupt_requests)
{
    ck_assert(virtq_init(&vq, &page, 8, 0, true, false));
    struct virtq_buf b = {0x1000, 8, true};
    /* With event indices the flags stay 0 (2.7.7.1) and used_event says
     * when to interrupt: at the next entry, or (off) only after a wrap. */
    virtq_want_interrupts(&vq, false);
    ck_assert_uint_eq(vq.avail[0], 0);
    ck_assert_uint_eq(used_event(), 0xffff);
    virtq_want_interrupts(&vq, true);
    ck_assert_uint_eq(used_event(), 0);
    virtq_add(&vq, &b, 1, (void *)1);
    virtq_publish(&vq);
    device_use(avail_ring(0), 0);
    ck_assert_ptr_eq(virtq_get_used(&vq, NULL), (void *)1);
    /* Taking an entry moves the request along while interrupts are on. */
    ck_assert_uint_eq(used_event(), 1);
    virtq_want_interrupts(&vq, false);
    ck_assert_uint_eq(used_event(), 0);
}
END_TEST

/* ---- Parsing ------------------------------------------------------------------ */

START_TEST(virtio_mmio_words)
{
    struct gk_virtio_mmio_spec s;
    ck_assert(gk_parse_virtio_mmio("512@0xfeb02e00:47", &s));
    ck_assert_uint_eq(s.size, 512);
    ck_assert_uint_eq(s.base, 0xfeb02e00ull);
    ck_assert_uint_eq(s.irq, 47);
    ck_assert(gk_parse_virtio_mmio("4K@0x10000000000:10:3", &s));
    ck_assert_uint_eq(s.size, 4096);
    ck_assert_uint_eq(s.base, 0x10000000000ull);
    ck_assert_uint_eq(s.irq, 10);
    ck_assert(gk_parse_virtio_mmio("1M@4096:5", &s));
    ck_assert_uint_eq(s.size, 1u << 20);
    ck_assert_uint_eq(s.base, 4096);
    /* Malformed: no size, no '@', no IRQ, junk after it, empty size,
     * a window that wraps, a number that overflows. */
    ck_assert(!gk_parse_virtio_mmio("@0x1000:5", &s));
    ck_assert(!gk_parse_virtio_mmio("512 0x1000:5", &s));
    ck_assert(!gk_parse_virtio_mmio("512@0x1000", &s));
    ck_assert(!gk_parse_virtio_mmio("512@0x1000:5x", &s));
    ck_assert(!gk_parse_virtio_mmio("0@0x1000:5", &s));
    ck_assert(!gk_parse_virtio_mmio("512@0xffffffffffffff00:5", &s));
    ck_assert(!gk_parse_virtio_mmio("512@0x1ffffffffffffffff:5", &s));
    ck_assert(!gk_parse_virtio_mmio("512@0x1000:0x100000000", &s));
}
END_TEST

START_TEST(virtio_mmio_on_a_command_line)
{
    struct gk_virtio_mmio_spec s[2];
    const char *line = "guest.elf sectors=8 virtio_mmio.device=512@0xfeb02e00:47 "
                       "xvirtio_mmio.device=512@0x1:1 virtio_mmio.device=bad "
                       "virtio_mmio.device=512@0xfeb02c00:46 virtio_mmio.device=1K@0x0:1";
    /* Three well-formed words; two fit. */
    ck_assert_int_eq(gk_find_virtio_mmio(line, s, 2), 3);
    ck_assert_uint_eq(s[0].base, 0xfeb02e00ull);
    ck_assert_uint_eq(s[1].base, 0xfeb02c00ull);
    ck_assert_uint_eq(s[1].irq, 46);
    ck_assert_int_eq(gk_find_virtio_mmio("", s, 2), 0);
}
END_TEST

START_TEST(key_value_arguments)
{
    char *argv[] = {"guest", "sectors=8192", "ro", "wait=", "sectorsx=1", NULL};
    ck_assert_str_eq(gk_arg_value(5, argv, "sectors"), "8192");
    ck_assert_str_eq(gk_arg_value(5, argv, "ro"), "");
    ck_assert_str_eq(gk_arg_value(5, argv, "wait"), "");
    ck_assert_ptr_null(gk_arg_value(5, argv, "id"));
    /* argv[0] is the kernel's name, never an option. */
    ck_assert_ptr_null(gk_arg_value(5, argv, "guest"));
}
END_TEST

static Suite *virtq_suite(void)
{
    Suite *s = suite_create("guestkit_virtq");
    TCase *q = tcase_create("virtq");
    tcase_add_test(q, init_lays_out_the_parts);
    tcase_add_test(q, chain_is_linked_and_published);
    tcase_add_test(q, queue_full_and_reuse_across_wrap);
    tcase_add_test(q, device_naming_a_bad_head_frees_nothing);
    tcase_add_test(q, indirect_uses_one_descriptor);
    tcase_add_test(q, notification_flags_without_event_idx);
    tcase_add_test(q, event_idx_notifications);
    tcase_add_test(q, event_idx_interrupt_requests);
    suite_add_tcase(s, q);
    TCase *p = tcase_create("parse");
    tcase_add_test(p, virtio_mmio_words);
    tcase_add_test(p, virtio_mmio_on_a_command_line);
    tcase_add_test(p, key_value_arguments);
    suite_add_tcase(s, p);
    return s;
}

int main(void)
{
    return check_main(virtq_suite());
}
