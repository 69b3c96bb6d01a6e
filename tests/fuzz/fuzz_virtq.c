/*
 * fuzz_virtq.c - libFuzzer target for the device's half of hv's split
 * virtqueues (hv/dev/virtio/virtq.c), the code that reads rings a guest's
 * driver wrote.
 *
 * The input is a whole situation a hostile driver can create:
 *
 *   bytes 0-1   QueueNum (little endian, any value: most are refused)
 *   byte 2      bit 0 VIRTIO_F_EVENT_IDX, bit 1 VIRTIO_F_INDIRECT_DESC,
 *               bits 4-7 how many chains the device is asked to take
 *   bytes 3-    guest RAM from guest-physical 0 (zero-filled to 8 KiB):
 *               the descriptor table at 0x0, the available ring at
 *               0x1000, the used ring at 0x1400; [0x1e00, 0x1f00) is a
 *               hole that is not RAM, as MMIO would be
 *
 * Guest RAM is a heap block of exactly 8 KiB, so AddressSanitizer reports
 * any access outside it.  Besides crashes, sanitizer reports and hangs, a
 * bug is: a chain piece outside RAM or in the hole, more pieces than
 * VIRTQ_MAX_SIZE, lengths that do not add up, readable pieces counted
 * wrongly, a refusal without a reason, or a queue that moved after a
 * refusal.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dev/virtio/virtq.h"

#define RAM       0x2000u
#define HOLE_BASE 0x1e00u
#define HOLE_END  0x1f00u

static uint8_t *ram;

static void check(bool ok)
{
    if (!ok)
        __builtin_trap();
}

static uint8_t *fuzz_map(void *ctx, uint64_t gpa, uint64_t len, bool write)
{
    (void)ctx;
    (void)write;
    if (gpa > RAM || len > RAM - gpa)
        return NULL;
    if (gpa < HOLE_END && gpa + len > HOLE_BASE)
        return NULL;
    return ram + gpa;
}

/* Every promise virtq.h makes about a chain it hands out. */
static void check_chain(const struct virtq_chain *c, uint16_t qsize)
{
    check(c->head < qsize);
    check(c->nseg <= VIRTQ_MAX_SIZE && c->nread <= c->nseg);
    uint64_t rd = 0, wr = 0;
    for (unsigned i = 0; i < c->nseg; i++) {
        const struct virtq_seg *s = &c->seg[i];
        check(s->host == ram + s->gpa);
        check(s->gpa <= RAM && s->len <= RAM - s->gpa);
        check(s->len == 0 || s->gpa + s->len <= HOLE_BASE || s->gpa >= HOLE_END);
        if (i < c->nread)
            rd += s->len;
        else
            wr += s->len;
    }
    check(rd == c->read_len && wr == c->write_len);
    check(rd + wr <= 0xffffffffull);
    /* Touch every byte through the copy helpers: ASan sees any stray. */
    static uint8_t buf[RAM];
    check(virtq_chain_read(c, 0, buf, sizeof(buf)) == (rd < RAM ? rd : RAM));
    check(virtq_chain_write(c, 0, buf, sizeof(buf)) == (wr < RAM ? wr : RAM));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    ram = calloc(1, RAM);
    memcpy(ram, data + 3, size - 3 < RAM ? size - 3 : RAM);
    struct virtq_mem mem = {.ctx = NULL, .map = fuzz_map};
    struct virtq q;
    virtq_reset(&q);
    q.size = (uint16_t)(data[0] | data[1] << 8);
    q.desc = 0;
    q.avail = 0x1000;
    q.used = 0x1400;
    q.event_idx = data[2] & 1;
    q.indirect = data[2] & 2;
    char why[160];
    if (virtq_check_layout(&q, &mem, why, sizeof(why)) < 0) {
        check(why[0] != 0);
        free(ram);
        return 0;
    }
    q.ready = true;
    static struct virtq_chain c;
    unsigned rounds = 1 + (data[2] >> 4);
    for (unsigned i = 0; i < rounds; i++) {
        struct virtq before = q;
        why[0] = 0;
        enum virtq_result r = virtq_pop(&q, &mem, &c, why, sizeof(why));
        if (r == VIRTQ_BROKEN) {
            check(why[0] != 0);
            check(q.last_avail == before.last_avail);
            break;
        }
        if (r == VIRTQ_EMPTY)
            break;
        check(q.last_avail == (uint16_t)(before.last_avail + 1));
        check_chain(&c, q.size);
        check(virtq_push(&q, &mem, c.head, (uint32_t)c.write_len, why, sizeof(why)) == 0);
        virtq_need_interrupt(&q, &mem);
    }
    free(ram);
    return 0;
}
