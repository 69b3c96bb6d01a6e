/*
 * Unit tests for hv's PV block back-end (hv/core/pv_blk.c) over a qcow2
 * image in memory: requests in a ring in "guest RAM", data in granted
 * pages.  Reads and writes land where the sectors say (read back through
 * the image itself), the responses carry the ids and statuses, hostile
 * requests change neither the image nor guest memory, a broken producer
 * index reads nothing, and the image stays clean (img_check).
 */
#include <check.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "core/pv.h"
#include "test_img_util.h"

/* hv's log, hosted: lines are counted, so a test can see one was made. */
static int log_lines;
void hv_log(const char *fmt, ...)
{
    (void)fmt;
    log_lines++;
}

#define RAM        (64u * 1024)
#define RING_GPA   0x1000u
#define TABLE_GPA  0x2000u
#define DATA_GPA   0x4000u /* pages 4.. hold data */
#define DISK_BYTES (1u << 20)

static uint8_t *ram;
static struct guest_mem mem;
static struct pv_grants grants;
static struct hvkit_grant *table;
static struct hvkit_blk_ring *ring;
static struct img *img;
static struct pv_blk blk;

static void setup(void)
{
    ram = aligned_alloc(4096, RAM);
    memset(ram, 0, RAM);
    mem = (struct guest_mem){.host = ram, .size = RAM};
    grants = (struct pv_grants){.gpa = TABLE_GPA, .nr = 8};
    table = (struct hvkit_grant *)(ram + TABLE_GPA);
    /* Grants 0-3: data pages 4-7 writable; 4: page 4 read-only; 5:
     * revoked. */
    for (unsigned i = 0; i < 4; i++)
        table[i] = (struct hvkit_grant){.flags = HVKIT_GRANT_PERMIT, .gfn = 4 + i};
    table[4] = (struct hvkit_grant){.flags = HVKIT_GRANT_PERMIT | HVKIT_GRANT_READONLY, .gfn = 4};
    table[5] = (struct hvkit_grant){.flags = 0, .gfn = 5};
    ring = (struct hvkit_blk_ring *)(ram + RING_GPA);
    struct img_create_opts o = {.format = IMG_FMT_QCOW2, .size = DISK_BYTES};
    img = mem_qcow2(&o);
    blk = (struct pv_blk){.active = true, .img = img, .sectors = DISK_BYTES / 512};
    log_lines = 0;
}

static void teardown(void)
{
    mem_free(img);
    free(ram);
}

/* Queue one request with `n` segments of grants 0.. covering whole
 * pages. */
static void queue(uint8_t op, uint64_t sector, unsigned n, uint64_t id)
{
    struct hvkit_blk_req *r = &ring->slot[ring->req_prod % HVKIT_BLK_RING_SLOTS].req;
    memset(r, 0, sizeof(*r));
    r->op = op;
    r->nr_segs = (uint8_t)n;
    r->id = id;
    r->sector = sector;
    for (unsigned i = 0; i < n && i < HVKIT_BLK_MAX_SEGS; i++)
        r->seg[i] = (struct hvkit_blk_seg){.gref = i, .first_sect = 0, .last_sect = 7};
    ring->req_prod++;
}

static const struct hvkit_blk_rsp *rsp(uint32_t i)
{
    return &ring->slot[i % HVKIT_BLK_RING_SLOTS].rsp;
}

START_TEST(write_then_read)
{
    /* Two pages of a pattern written at sector 16, then read into pages
     * 6-7 (grants 2, 3 via a request whose segments say so). */
    for (unsigned i = 0; i < 8192; i++)
        ram[DATA_GPA + i] = (uint8_t)(i * 7 + 1);
    queue(HVKIT_BLK_OP_WRITE, 16, 2, 41);
    queue(HVKIT_BLK_OP_FLUSH, 0, 0, 42);
    ck_assert_int_eq(pv_blk_process(&blk, ring, &grants, &mem), 2);
    ck_assert_uint_eq(ring->rsp_prod, 2);
    ck_assert_uint_eq(rsp(0)->id, 41);
    ck_assert_int_eq(rsp(0)->status, HVKIT_BLK_OK);
    ck_assert_uint_eq(rsp(1)->id, 42);
    ck_assert_int_eq(rsp(1)->status, HVKIT_BLK_OK);
    /* The image holds it at byte 16 * 512. */
    uint8_t back[8192];
    ck_assert_int_eq(img_read(img, 16 * 512, back, sizeof(back)), 0);
    ck_assert_mem_eq(back, ram + DATA_GPA, sizeof(back));
    /* Read it back through the ring into pages 6 and 7. */
    queue(HVKIT_BLK_OP_READ, 16, 2, 43);
    struct hvkit_blk_req *r = &ring->slot[2].req;
    r->seg[0].gref = 2;
    r->seg[1].gref = 3;
    ck_assert_int_eq(pv_blk_process(&blk, ring, &grants, &mem), 1);
    ck_assert_int_eq(rsp(2)->status, HVKIT_BLK_OK);
    ck_assert_mem_eq(ram + DATA_GPA + 8192, ram + DATA_GPA, 8192);
    assert_clean(img);
}
END_TEST

START_TEST(hostile_requests_change_nothing)
{
    memset(ram + DATA_GPA, 0xee, 4 * 4096);
    queue(HVKIT_BLK_OP_WRITE, 0, 0, 1);               /* no segment */
    queue(HVKIT_BLK_OP_WRITE, 0, 9, 2);               /* 9 segments */
    queue(HVKIT_BLK_OP_WRITE, blk.sectors, 1, 3);     /* at the end */
    queue(HVKIT_BLK_OP_WRITE, blk.sectors - 4, 1, 4); /* across it */
    queue(HVKIT_BLK_OP_WRITE, UINT64_MAX - 3, 1, 5);  /* wrapping */
    queue(HVKIT_BLK_OP_WRITE, 0, 1, 6);               /* revoked grant */
    ring->slot[5].req.seg[0].gref = 5;
    queue(HVKIT_BLK_OP_READ, 0, 1, 7); /* read-only grant */
    ring->slot[6].req.seg[0].gref = 4;
    queue(HVKIT_BLK_OP_WRITE, 0, 1, 8); /* grant beyond the table */
    ring->slot[7].req.seg[0].gref = 8;
    queue(HVKIT_BLK_OP_WRITE, 0, 1, 9); /* sectors outside the page */
    ring->slot[8].req.seg[0].last_sect = 8;
    queue(9, 0, 1, 10); /* unknown operation */
    /* A read into the read-only page would have changed it: keep a copy. */
    uint8_t before[4096];
    memcpy(before, ram + DATA_GPA, sizeof(before));
    ck_assert_int_eq(pv_blk_process(&blk, ring, &grants, &mem), 10);
    for (uint32_t i = 0; i < 9; i++) {
        ck_assert_uint_eq(rsp(i)->id, i + 1);
        ck_assert_int_eq(rsp(i)->status, HVKIT_BLK_ERROR);
    }
    ck_assert_int_eq(rsp(9)->status, HVKIT_BLK_EOPNOTSUPP);
    ck_assert_mem_eq(ram + DATA_GPA, before, sizeof(before));
    /* Nothing reached the image: every sector still reads as zeros. */
    uint8_t back[4096], zero[4096] = {0};
    ck_assert_int_eq(img_read(img, 0, back, sizeof(back)), 0);
    ck_assert_mem_eq(back, zero, sizeof(back));
    ck_assert_uint_eq(blk.refused, 10);
    /* One log line per kind of refusal, not per request. */
    ck_assert_int_le(log_lines, 7);
}
END_TEST

START_TEST(broken_index_reads_nothing)
{
    queue(HVKIT_BLK_OP_WRITE, 0, 1, 1);
    ring->req_prod = HVKIT_BLK_RING_SLOTS + 1;
    ck_assert_int_eq(pv_blk_process(&blk, ring, &grants, &mem), HC_EINVAL);
    ck_assert_uint_eq(blk.req_cons, 0);
    ck_assert_uint_eq(blk.requests, 0);
    /* Exactly a full ring is fine (the guest may fill every slot). */
    ring->req_prod = HVKIT_BLK_RING_SLOTS;
    for (unsigned i = 0; i < HVKIT_BLK_RING_SLOTS; i++)
        ring->slot[i].req = (struct hvkit_blk_req){.op = HVKIT_BLK_OP_FLUSH, .id = i};
    ck_assert_int_eq(pv_blk_process(&blk, ring, &grants, &mem), HVKIT_BLK_RING_SLOTS);
}
END_TEST

START_TEST(read_only_disk_refuses_writes)
{
    blk.readonly = true;
    queue(HVKIT_BLK_OP_WRITE, 0, 1, 1);
    queue(HVKIT_BLK_OP_READ, 0, 1, 2);
    ck_assert_int_eq(pv_blk_process(&blk, ring, &grants, &mem), 2);
    ck_assert_int_eq(rsp(0)->status, HVKIT_BLK_ERROR);
    ck_assert_int_eq(rsp(1)->status, HVKIT_BLK_OK);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hv_pv_blk");
    TCase *tc = tcase_create("ring");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, write_then_read);
    tcase_add_test(tc, hostile_requests_change_nothing);
    tcase_add_test(tc, broken_index_reads_nothing);
    tcase_add_test(tc, read_only_disk_refuses_writes);
    suite_add_tcase(s, tc);
    return check_main(s);
}
