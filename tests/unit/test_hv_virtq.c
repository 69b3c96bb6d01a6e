/*
 * Unit tests for hv/dev/virtio/virtq.c alone, without the transport: the
 * device's half of a split virtqueue (virtio 1.2 2.7 "Split Virtqueues")
 * called directly on a queue in the harness's guest RAM.
 *
 * Two test cases, one per part of the queue, so that each can be judged on
 * its own (labs/03-virtio grades its exercises 2 and 3 with them):
 *   chain  virtq_pop() taking chains off the available ring: following
 *          `next` in any order, indirect tables, a chain as long as its
 *          table, and the chains a driver must not make (loops, a `next`
 *          outside the table, rules of indirect tables, buffers outside RAM);
 *   used   virtq_push() filling the used ring, virtq_need_interrupt()
 *          with and without event indexes, and the avail_event field
 *          virtq_pop() writes for the driver.
 * The oracle for the event-index rule is written out here as the set it
 * describes (2.7.7 "Used Buffer Notification Suppression": interrupt when
 * the used entries just added include the one numbered used_event), not
 * as the spec's one-line formula, so that the two agree by being right.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "virtio_harness.h"

/* A queue of `size` entries at the harness's queue-0 addresses, ready,
 * with the given features. */
static struct virtq q;
static struct virtq_chain c;
static char why[160];

static void make_queue(uint16_t size, bool event_idx, bool indirect)
{
    harness_reset();
    virtq_reset(&q);
    q.size = size;
    q.ready = true;
    q.desc = Q0_DESC;
    q.avail = Q0_AVAIL;
    q.used = Q0_USED;
    q.event_idx = event_idx;
    q.indirect = indirect;
    memset(&c, 0, sizeof(c));
    why[0] = 0;
}

static enum virtq_result pop(void)
{
    return virtq_pop(&q, &harness_mem, &c, why, sizeof(why));
}

/* Piece i of the chain is the guest buffer [gpa, gpa + len). */
static void seg_is(unsigned i, uint64_t gpa, uint32_t len)
{
    ck_assert_uint_lt(i, c.nseg);
    ck_assert_uint_eq(c.seg[i].gpa, gpa);
    ck_assert_uint_eq(c.seg[i].len, len);
    ck_assert_ptr_eq(c.seg[i].host, guest + gpa);
}

/* The chain taken is `head`'s, of `nseg` pieces, `nread` of them readable,
 * with `read_len` and `write_len` bytes in each kind. */
static void chain_is(uint16_t head, unsigned nseg, unsigned nread, uint64_t read_len,
                     uint64_t write_len)
{
    ck_assert_uint_eq(c.head, head);
    ck_assert_uint_eq(c.nseg, nseg);
    ck_assert_uint_eq(c.nread, nread);
    ck_assert_uint_eq(c.read_len, read_len);
    ck_assert_uint_eq(c.write_len, write_len);
}

/* ---- Chains (labs/03-virtio exercise 2) ----------------------------------------- */

START_TEST(chain_follows_next)
{
    /* Head 4 -> 1 -> 6: the walk must follow `next`, not the table's
     * order; two readable pieces, then a writable one. */
    make_queue(8, false, false);
    put_desc(Q0_DESC, 4, BUF, 5, VIRTQ_DESC_F_NEXT, 1);
    put_desc(Q0_DESC, 1, BUF + 0x100, 3, VIRTQ_DESC_F_NEXT, 6);
    put_desc(Q0_DESC, 6, BUF + 0x200, 16, VIRTQ_DESC_F_WRITE, 0);
    /* A decoy: descriptor 5 is what the entry after 4 would have been. */
    put_desc(Q0_DESC, 5, BUF + 0x300, 7, 0, 0);
    avail_add(Q0_AVAIL, 8, 4);
    ck_assert_int_eq(pop(), VIRTQ_CHAIN);
    chain_is(4, 3, 2, 8, 16);
    seg_is(0, BUF, 5);
    seg_is(1, BUF + 0x100, 3);
    seg_is(2, BUF + 0x200, 16);
    /* A single descriptor is a chain too, and the chain's fields start
     * afresh for each pop. */
    put_desc(Q0_DESC, 2, BUF + 0x400, 9, VIRTQ_DESC_F_WRITE, 7);
    avail_add(Q0_AVAIL, 8, 2);
    ck_assert_int_eq(pop(), VIRTQ_CHAIN);
    chain_is(2, 1, 0, 0, 9);
    seg_is(0, BUF + 0x400, 9);
    ck_assert_int_eq(pop(), VIRTQ_EMPTY);
}
END_TEST

START_TEST(chain_through_indirect_table)
{
    /* Descriptor 3 points at a table of four; inside it the chain goes
     * 0 -> 2 -> 1 (entry 3 is not part of it). */
    make_queue(8, false, true);
    put_desc(BUF + 0x800, 0, BUF, 2, VIRTQ_DESC_F_NEXT, 2);
    put_desc(BUF + 0x800, 2, BUF + 2, 4, VIRTQ_DESC_F_NEXT, 1);
    put_desc(BUF + 0x800, 1, BUF + 0x100, 6, VIRTQ_DESC_F_WRITE, 0);
    put_desc(BUF + 0x800, 3, BUF + 0x300, 1, 0, 0);
    put_desc(Q0_DESC, 3, BUF + 0x800, 64, VIRTQ_DESC_F_INDIRECT, 0);
    avail_add(Q0_AVAIL, 8, 3);
    ck_assert_int_eq(pop(), VIRTQ_CHAIN);
    chain_is(3, 3, 2, 6, 6);
    seg_is(0, BUF, 2);
    seg_is(1, BUF + 2, 4);
    seg_is(2, BUF + 0x100, 6);
}
END_TEST

START_TEST(chain_as_long_as_the_table)
{
    /* Every descriptor of the table once, 7 -> 6 -> ... -> 0: legal, and
     * exactly at the limit a loop guard must allow.  The same for an
     * indirect table of 16 entries in a queue of 8 (its limit is its own
     * length, not the queue's). */
    make_queue(8, false, true);
    for (unsigned i = 1; i < 8; i++)
        put_desc(Q0_DESC, i, BUF + 0x10 * i, 0x10, VIRTQ_DESC_F_NEXT, (uint16_t)(i - 1));
    put_desc(Q0_DESC, 0, BUF, 0x10, 0, 0);
    avail_add(Q0_AVAIL, 8, 7);
    ck_assert_int_eq(pop(), VIRTQ_CHAIN);
    chain_is(7, 8, 8, 8 * 0x10, 0);
    seg_is(0, BUF + 0x70, 0x10);
    seg_is(7, BUF, 0x10);
    for (unsigned i = 0; i < 16; i++)
        put_desc(BUF + 0x1000, i, BUF + 0x20 * i, 0x20, i < 15 ? VIRTQ_DESC_F_NEXT : 0,
                 (uint16_t)(i + 1));
    put_desc(Q0_DESC, 5, BUF + 0x1000, 16 * 16, VIRTQ_DESC_F_INDIRECT, 0);
    avail_add(Q0_AVAIL, 8, 5);
    ck_assert_int_eq(pop(), VIRTQ_CHAIN);
    chain_is(5, 16, 16, 16 * 0x20, 0);
    seg_is(15, BUF + 0x20 * 15, 0x20);
}
END_TEST

/* A chain the driver must not make, planted at head 0 of a queue of 8. */
struct bad_chain {
    const char *what;
    bool indirect; /* VIRTIO_F_INDIRECT_DESC negotiated */
    void (*plant)(void);
};

static void loop2(void)
{
    put_desc(Q0_DESC, 0, BUF, 4, VIRTQ_DESC_F_NEXT, 1);
    put_desc(Q0_DESC, 1, BUF, 4, VIRTQ_DESC_F_NEXT, 0);
}

static void self_loop(void)
{
    put_desc(Q0_DESC, 0, BUF, 4, VIRTQ_DESC_F_NEXT, 0);
}

static void loop_at_the_end(void)
{
    /* 0 -> 1 -> ... -> 7 -> 3: the loop starts late. */
    for (unsigned i = 0; i < 8; i++)
        put_desc(Q0_DESC, i, BUF, 4, VIRTQ_DESC_F_NEXT, (uint16_t)(i < 7 ? i + 1 : 3));
}

static void next_outside(void)
{
    put_desc(Q0_DESC, 0, BUF, 4, VIRTQ_DESC_F_NEXT, 8);
}

static void indirect_loop(void)
{
    for (unsigned i = 0; i < 4; i++)
        put_desc(BUF + 0x800, i, BUF, 4, VIRTQ_DESC_F_NEXT, (uint16_t)((i + 1) % 4));
    put_desc(Q0_DESC, 0, BUF + 0x800, 64, VIRTQ_DESC_F_INDIRECT, 0);
}

static void indirect_next_outside(void)
{
    /* A table of 2 whose entry 1 goes on at 2: inside the queue's 8, but
     * outside the table the walk is in. */
    put_desc(BUF + 0x800, 0, BUF, 4, VIRTQ_DESC_F_NEXT, 1);
    put_desc(BUF + 0x800, 1, BUF, 4, VIRTQ_DESC_F_NEXT, 2);
    put_desc(BUF + 0x800, 2, BUF, 4, 0, 0);
    put_desc(Q0_DESC, 0, BUF + 0x800, 32, VIRTQ_DESC_F_INDIRECT, 0);
}

static void nested_indirect(void)
{
    put_desc(BUF + 0x800, 0, BUF + 0x800, 16, VIRTQ_DESC_F_INDIRECT, 0);
    put_desc(Q0_DESC, 0, BUF + 0x800, 16, VIRTQ_DESC_F_INDIRECT, 0);
}

static void indirect_unnegotiated(void)
{
    put_desc(BUF + 0x800, 0, BUF, 4, 0, 0);
    put_desc(Q0_DESC, 0, BUF + 0x800, 16, VIRTQ_DESC_F_INDIRECT, 0);
}

static void buffer_in_hole(void)
{
    put_desc(Q0_DESC, 0, BUF, 4, VIRTQ_DESC_F_NEXT, 1);
    put_desc(Q0_DESC, 1, HOLE_BASE - 16, 32, VIRTQ_DESC_F_WRITE, 0);
}

static void readable_after_writable(void)
{
    put_desc(Q0_DESC, 0, BUF, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
    put_desc(Q0_DESC, 1, BUF + 8, 4, 0, 0);
}

START_TEST(chain_refusals)
{
    static const struct bad_chain bad[] = {
        {"a loop 0 -> 1 -> 0", false, loop2},
        {"a descriptor naming itself", false, self_loop},
        {"a loop back to 3 after all eight", false, loop_at_the_end},
        {"next 8 in a table of 8", false, next_outside},
        {"a loop inside an indirect table", true, indirect_loop},
        {"next 2 in an indirect table of 2", true, indirect_next_outside},
        {"an indirect table inside an indirect table", true, nested_indirect},
        {"an indirect table without VIRTIO_F_INDIRECT_DESC", false, indirect_unnegotiated},
        {"a buffer in the MMIO hole", false, buffer_in_hole},
        {"a readable buffer after a writable one", false, readable_after_writable},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        make_queue(8, false, bad[i].indirect);
        bad[i].plant();
        avail_add(Q0_AVAIL, 8, 0);
        enum virtq_result r = pop();
        ck_assert_msg(r == VIRTQ_BROKEN, "%s: virtq_pop gave %d, not VIRTQ_BROKEN", bad[i].what, r);
        ck_assert_msg(why[0] != 0, "%s: refused without a reason in why", bad[i].what);
        /* The queue is left as it was: the same chain is refused again. */
        ck_assert_msg(q.last_avail == 0, "%s: the refused chain was taken", bad[i].what);
    }
}
END_TEST

/* ---- The used ring and interrupts (labs/03-virtio exercise 3) ------------------------ */

static int push(uint16_t head, uint32_t written)
{
    return virtq_push(&q, &harness_mem, head, written, why, sizeof(why));
}

START_TEST(used_element_then_idx)
{
    make_queue(8, false, false);
    ck_assert_int_eq(push(5, 123), 0);
    ck_assert_uint_eq(used_idx(Q0_USED), 1);
    ck_assert_uint_eq(used_id(Q0_USED, 0), 5);
    ck_assert_uint_eq(used_len(Q0_USED, 0), 123);
    ck_assert_int_eq(push(2, 0x12345678), 0);
    ck_assert_uint_eq(used_idx(Q0_USED), 2);
    ck_assert_uint_eq(used_id(Q0_USED, 1), 2);
    ck_assert_uint_eq(used_len(Q0_USED, 1), 0x12345678);
    /* The flags field and the first element are left alone. */
    ck_assert_uint_eq(r16(Q0_USED), 0);
    ck_assert_uint_eq(used_id(Q0_USED, 0), 5);
    /* Nothing beyond the ring's eight elements and avail_event is written. */
    for (unsigned off = 4 + 8 * 8 + 2; off < 0x1000; off++)
        ck_assert_uint_eq(guest[Q0_USED + off], 0);
}
END_TEST

START_TEST(used_idx_wraps)
{
    /* The device's counter is free-running modulo 2^16; the slot is that
     * counter modulo the queue's size. */
    make_queue(4, false, false);
    q.used_idx = 0xfffe;
    for (unsigned i = 0; i < 6; i++) {
        uint16_t idx = (uint16_t)(0xfffe + i);
        ck_assert_int_eq(push((uint16_t)i, 100 + i), 0);
        ck_assert_uint_eq(used_idx(Q0_USED), (uint16_t)(idx + 1));
        ck_assert_uint_eq(used_id(Q0_USED, idx % 4), i);
        ck_assert_uint_eq(used_len(Q0_USED, idx % 4), 100 + i);
    }
    /* A used ring that is not RAM is refused with a reason. */
    make_queue(4, false, false);
    q.used = HOLE_BASE;
    ck_assert_int_eq(push(0, 1), -1);
    ck_assert_str_ne(why, "");
}
END_TEST

START_TEST(interrupt_without_event_idx)
{
    make_queue(8, false, false);
    /* Nothing used yet: nothing to say. */
    ck_assert(!virtq_need_interrupt(&q, &harness_mem));
    push(0, 1);
    ck_assert(virtq_need_interrupt(&q, &harness_mem));
    /* Already told: no second interrupt for the same entries. */
    ck_assert(!virtq_need_interrupt(&q, &harness_mem));
    /* The driver's "no interrupt, please" (2.7.7). */
    g16(Q0_AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT);
    push(1, 1);
    ck_assert(!virtq_need_interrupt(&q, &harness_mem));
    g16(Q0_AVAIL, 0);
    push(2, 1);
    ck_assert(virtq_need_interrupt(&q, &harness_mem));
}
END_TEST

/* The oracle: did the entries [old, now) just used include used_event? */
static bool event_in(uint16_t old, uint16_t now, uint16_t event)
{
    for (uint16_t i = old; i != now; i++)
        if (i == event)
            return true;
    return false;
}

START_TEST(interrupt_event_idx_rule)
{
    /* Every used_event near the ring's counters, for one to four entries
     * pushed at a time, starting near 0 and across the 2^16 wrap. */
    static const uint16_t starts[] = {0, 5, 0xfffd};
    for (size_t s = 0; s < sizeof(starts) / sizeof(starts[0]); s++) {
        for (unsigned n = 1; n <= 4; n++) {
            for (int d = -3; d <= 8; d++) {
                make_queue(8, true, false);
                uint16_t old = starts[s];
                q.used_idx = q.signalled_used = old;
                uint16_t event = (uint16_t)(old + d);
                g16(Q0_AVAIL + 4 + 2 * 8, event);
                /* The flags field must not count with event indexes. */
                g16(Q0_AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT);
                for (unsigned k = 0; k < n; k++)
                    push((uint16_t)k, 1);
                uint16_t now = (uint16_t)(old + n);
                bool want = event_in(old, now, event);
                ck_assert_msg(virtq_need_interrupt(&q, &harness_mem) == want,
                              "used idx %u -> %u, used_event %u: interrupt should be %s", old, now,
                              event, want ? "sent" : "suppressed");
                /* Counted from here next time: no new entries, no interrupt. */
                ck_assert(!virtq_need_interrupt(&q, &harness_mem));
            }
        }
    }
}
END_TEST

START_TEST(avail_event_after_pop)
{
    /* With event indexes each pop asks to be notified at the next entry:
     * avail_event, after the used ring's last element, is the new
     * last_avail; without them the field is not the device's to write. */
    for (int evidx = 0; evidx <= 1; evidx++) {
        make_queue(8, evidx, false);
        for (unsigned k = 0; k < 3; k++) {
            put_desc(Q0_DESC, k, BUF, 4, 0, 0);
            avail_add(Q0_AVAIL, 8, (uint16_t)k);
            ck_assert_int_eq(pop(), VIRTQ_CHAIN);
            ck_assert_uint_eq(r16(Q0_USED + 4 + 8 * 8), evidx ? k + 1 : 0);
        }
    }
}
END_TEST

static Suite *virtq_suite(void)
{
    Suite *s = suite_create("hv_virtq");
    TCase *tc = tcase_create("chain");
    tcase_add_test(tc, chain_follows_next);
    tcase_add_test(tc, chain_through_indirect_table);
    tcase_add_test(tc, chain_as_long_as_the_table);
    tcase_add_test(tc, chain_refusals);
    suite_add_tcase(s, tc);
    TCase *tu = tcase_create("used");
    tcase_add_test(tu, used_element_then_idx);
    tcase_add_test(tu, used_idx_wraps);
    tcase_add_test(tu, interrupt_without_event_idx);
    tcase_add_test(tu, interrupt_event_idx_rule);
    tcase_add_test(tu, avail_event_after_pop);
    suite_add_tcase(s, tu);
    return s;
}

int main(void)
{
    return check_main(virtq_suite());
}
