/*
 * pvblk: the PV block driver (include/hvkit/pv.h "PV block") on the disk
 * hv's virtio-blk serves too.  It writes vblk's pattern (every 512-byte
 * sector 32 lines "sector %08x\n") over the whole disk through the PV
 * ring in requests of many sizes, flushes, reads it back through the ring
 * in other sizes and through virtio-blk, and compares.  Then the hostile
 * requests: segment counts 0 and 9, sectors outside a page, grants beyond
 * the table, revoked or read-only for a read, sectors past the end (also
 * wrapping), an unknown operation, and a broken producer index -- each
 * refused, and the pattern still there.  The host checks the image file
 * afterwards (tests/integration/pv.sh: qemu-img check and compare).
 *
 * Arguments: sectors=N, the capacity the disk must have.  Skipped outside
 * hv.
 */
#include "guestkit/guestkit.h"
#include "guestkit/parse.h"
#include "guestkit/sector_pattern.h"
#include "guestkit/pv.h"
#include "guestkit/virtio_blk.h"

#define SECTOR      512
#define BUF_SECTORS 256 /* 128 KiB */
#define EVT_VECTOR  0x70
#define PORT_BLK    4

static uint8_t buf[BUF_SECTORS * SECTOR] __attribute__((aligned(4096)));
static uint64_t capacity;

static const char *const tests[] = {
    "set up",
    "capacity",
    "pattern written",
    "flush",
    "pattern read back",
    "read through virtio-blk",
    "ring port signalled",
    "hostile requests",
    "pattern intact",
    "broken ring",
};

/* The pattern over the whole disk, in requests of 1, 7, 8, 64, 256 and 3
 * sectors, one starting 512 bytes into a page (a segment that does not
 * start at sector 0 of its page). */
static bool write_pattern(void)
{
    static const uint32_t sizes[] = {1, 7, 8, 64, 255, 3};
    uint64_t sector = 0;
    for (unsigned k = 0; sector < capacity; k++) {
        uint32_t n = sizes[k % 6];
        unsigned skew = k % 2;
        if (n > capacity - sector)
            n = (uint32_t)(capacity - sector);
        sector_pattern_fill_n(buf + skew * SECTOR, sector, n);
        if (pv_blk_rw(HVKIT_BLK_OP_WRITE, sector, buf + skew * SECTOR, n) != HVKIT_BLK_OK)
            return false;
        sector += n;
    }
    return true;
}

/* Read [0, capacity) in pieces of `step` sectors through read(), compare. */
static bool read_back(uint32_t step, bool (*read)(uint64_t, void *, uint32_t))
{
    for (uint64_t sector = 0; sector < capacity; sector += step) {
        uint32_t n = step;
        if (n > capacity - sector)
            n = (uint32_t)(capacity - sector);
        if (!read(sector, buf, n))
            return false;
        if (!sector_pattern_read_ok(buf, sector, n))
            return false;
    }
    return true;
}

static bool pv_read(uint64_t sector, void *p, uint32_t n)
{
    return pv_blk_rw(HVKIT_BLK_OP_READ, sector, p, n) == HVKIT_BLK_OK;
}

static struct virtio_blk vblk;
static bool virtio_read(uint64_t sector, void *p, uint32_t n)
{
    /* The driver's own limit per request. */
    for (uint32_t done = 0; done < n; done += 32) {
        uint32_t k = n - done < 32 ? n - done : 32;
        if (virtio_blk_read(&vblk, sector + done, (uint8_t *)p + done * SECTOR, k) !=
            VIRTIO_BLK_S_OK)
            return false;
    }
    return true;
}

/* A one-segment request over buf's first page. */
static struct hvkit_blk_req req(unsigned op, uint64_t sector, long ref, unsigned first,
                                unsigned last)
{
    struct hvkit_blk_req r = {.op = (uint8_t)op, .nr_segs = 1, .id = 0x1234, .sector = sector};
    r.seg[0].gref = (uint32_t)ref;
    r.seg[0].first_sect = (uint8_t)first;
    r.seg[0].last_sect = (uint8_t)last;
    return r;
}

static void hostile(void)
{
    long ro = pv_grant((uintptr_t)buf, true), rw = pv_grant((uintptr_t)buf, false);
    long revoked = pv_grant((uintptr_t)buf + 4096, false);
    pv_grant_revoke((unsigned)revoked);
    /* Every write carries junk, so a wrongly accepted one shows in the
     * pattern afterwards. */
    memset(buf, 0xee, 4096);
    struct hvkit_blk_req r[12];
    const char *what[12];
    unsigned n = 0;
    r[n] = req(HVKIT_BLK_OP_WRITE, 0, rw, 0, 7), r[n].nr_segs = 0, what[n++] = "0 segments";
    r[n] = req(HVKIT_BLK_OP_WRITE, 0, rw, 0, 7), r[n].nr_segs = 9, what[n++] = "9 segments";
    r[n] = req(HVKIT_BLK_OP_WRITE, 0, rw, 3, 2), what[n++] = "first after last";
    r[n] = req(HVKIT_BLK_OP_WRITE, 0, rw, 0, 8), what[n++] = "sector 8 of a page";
    r[n] = req(HVKIT_BLK_OP_WRITE, 0, PV_GRANTS, 0, 0), what[n++] = "grant beyond the table";
    r[n] = req(HVKIT_BLK_OP_WRITE, 0, 0xffffffff, 0, 0), what[n++] = "grant 2^32-1";
    r[n] = req(HVKIT_BLK_OP_WRITE, 0, revoked, 0, 0), what[n++] = "revoked grant";
    r[n] = req(HVKIT_BLK_OP_READ, 0, ro, 0, 0), what[n++] = "read into a read-only grant";
    r[n] = req(HVKIT_BLK_OP_WRITE, capacity, rw, 0, 0), what[n++] = "at the end";
    r[n] = req(HVKIT_BLK_OP_WRITE, capacity - 1, rw, 0, 1), what[n++] = "across the end";
    r[n] = req(HVKIT_BLK_OP_WRITE, ~0ull - 3, rw, 0, 7), what[n++] = "sector wrapping";
    r[n] = req(7, 0, rw, 0, 0), what[n++] = "unknown operation";
    unsigned refused = 0;
    for (unsigned i = 0; i < n; i++) {
        long sent;
        int st = pv_blk_raw(&r[i], &sent);
        int want = i == n - 1 ? HVKIT_BLK_EOPNOTSUPP : HVKIT_BLK_ERROR;
        if (sent == HC_OK && st == want)
            refused++;
        else
            report_info("%s: notification %ld, status %d (want %d)", what[i], sent, st, want);
    }
    pv_grant_revoke((unsigned)ro);
    pv_grant_revoke((unsigned)rw);
    report(refused == n, "hostile requests: %u of %u refused with an error status", refused, n);
}

int main(int argc, char **argv)
{
    if (!pv_available()) {
        report_skip_all(tests, sizeof(tests) / sizeof(tests[0]),
                        "not under hvkit with HVKIT_FEATURE_PV");
        return report_summary();
    }
    pv_hcpage_init();
    long rc = pv_evtchn_init(EVT_VECTOR);
    if (rc == HC_OK)
        rc = pv_grant_init();
    long sectors = rc == HC_OK ? pv_blk_init(0, PORT_BLK) : rc;
    if (!report(sectors > 0, "set up: PV block on disk 0 (%ld)", sectors))
        return report_summary();
    capacity = (uint64_t)sectors;
    const char *want = gk_arg_value(argc, argv, "sectors");
    if (want)
        report(capacity == kstrtoull(want, NULL, 0), "capacity: %s sectors", want);

    long e0 = hypercall(HC_EXIT_COUNT, 0, 0, 0);
    unsigned long n0 = pv_blk_notifies(), r0 = pv_blk_requests();
    bool wrote = write_pattern();
    long e1 = hypercall(HC_EXIT_COUNT, 0, 0, 0);
    report(wrote, "pattern written: %llu sectors in %lu requests, %lu notifications, %ld exits",
           (unsigned long long)capacity, pv_blk_requests() - r0, pv_blk_notifies() - n0,
           e1 - e0 - 1);
    report(pv_blk_flush() == HVKIT_BLK_OK, "flush: OK");
    report(read_back(100, pv_read), "pattern read back: through the ring, 100 sectors at a time");
    struct virtio_dev dev;
    if (virtio_find(VIRTIO_ID_BLOCK, 0, &dev) && virtio_blk_init(&vblk, &dev, VIRTIO_WAIT_POLL, 0))
        report(read_back(32, virtio_read), "read through virtio-blk: the same disk shows the "
                                           "pattern");
    else
        report_skip("read through virtio-blk: no virtio-blk device");
    /* The ring's port was signalled for each batch: its pending bit. */
    bool pending = pv_shared()->evtchn_pending & (1ull << PORT_BLK);
    __atomic_fetch_and(&pv_shared()->evtchn_pending, ~(1ull << PORT_BLK), __ATOMIC_SEQ_CST);
    report(pending, "ring port signalled: pending bit of port %d set", PORT_BLK);

    hostile();
    report(read_back(256, pv_read), "pattern intact: after the hostile requests");

    /* Last: a producer index far ahead of hv's consumer index. */
    volatile struct hvkit_blk_ring *ring = pv_blk_ring();
    ring->req_prod += HVKIT_BLK_RING_SLOTS + 1;
    long a = pv_evtchn_send(PORT_BLK), b = pv_evtchn_send(PORT_BLK);
    report(a == HC_EINVAL && b == HC_EINVAL, "broken ring: refused (%ld), and stays refused (%ld)",
           a, b);
    return report_summary();
}
