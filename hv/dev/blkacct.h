/*
 * blkacct.h - a disk's I/O counters, kept as QEMU's block accounting keeps
 * them (block/accounting.c, BlockAcctStats), so that the control
 * protocol's query-blockstats answers in QMP's BlockDeviceStats shape and
 * the monitor's `info blockstats`, `virsh domblkstat` and `xl top` can
 * show what a guest did to its disk.
 *
 * Each request a device model carries out is counted once, by its kind
 * (read, write, flush, unmap) and by how it ended:
 *   done     the disk did it: one operation, its bytes, its time;
 *   failed   the disk could not do it (the image library failed, or the
 *            disk is read-only): a failed operation, its time;
 *   invalid  the request itself was wrong (past the end of the disk, not
 *            whole sectors, beyond the device's limits): an invalid
 *            operation, no time.
 * QEMU counts the same three (block_acct_done, block_acct_failed,
 * block_acct_invalid), with account_failed and account_invalid on, as
 * they are for every virtio-blk disk: failed and invalid requests also
 * count as an access for idle_time_ns.
 *
 * The counters belong to the disk, not to the device the guest drives:
 * QEMU keeps them in the BlockBackend, so a system_reset or a loadvm does
 * not clear them and migration does not carry them.  hv keeps them in the
 * domain (domain.h disk_stats) for the same reasons; docs/vmstate.md says
 * why they are not part of a snapshot.
 *
 * Times come from the clock the user of the counters sets (`clock_ns`:
 * hv's TSC in nanoseconds); without one every time stays 0.
 *
 * Pure code, compiled into hv and hosted (tests/unit/test_hv_virtio_dev.c).
 */
#ifndef HV_DEV_BLKACCT_H
#define HV_DEV_BLKACCT_H

#include <stdbool.h>
#include <stdint.h>

/* The kinds of request, as QEMU's BlockAcctType names them. */
enum blkacct_type {
    BLKACCT_READ,
    BLKACCT_WRITE,
    BLKACCT_FLUSH,
    BLKACCT_UNMAP,
    BLKACCT_NR,
};

struct blkacct {
    /* Per kind: bytes and operations done, nanoseconds spent on the ones
     * done and failed, operations failed, operations refused as invalid. */
    uint64_t bytes[BLKACCT_NR];
    uint64_t ops[BLKACCT_NR];
    uint64_t time_ns[BLKACCT_NR];
    uint64_t failed[BLKACCT_NR];
    uint64_t invalid[BLKACCT_NR];
    /* The end of the highest range a write reached, in bytes (QMP's
     * wr_highest_offset). */
    uint64_t wr_highest_offset;
    /* The clock at the last access of any kind, and whether there was one
     * (QMP gives idle_time_ns only then). */
    uint64_t last_ns;
    bool accessed;
    /* The clock, in nanoseconds; NULL: none, every time is 0. */
    uint64_t (*clock_ns)(void);
};

/* One request being carried out: what the counters need at its end
 * (`offset` and `bytes`: the range it reads or writes). */
struct blkacct_req {
    enum blkacct_type type;
    uint64_t offset, bytes;
    uint64_t start_ns;
};

/* The counters' clock now (0 without one). */
uint64_t blkacct_now(const struct blkacct *s);

/* Start a request of `type`; the caller fills in its range once known. */
struct blkacct_req blkacct_start(const struct blkacct *s, enum blkacct_type type);

/* The request ended: done, failed, or refused as invalid.  A write that
 * reached the disk, done or failed, moves wr_highest_offset up to its
 * end, as QEMU's block layer records every write it was given. */
void blkacct_done(struct blkacct *s, const struct blkacct_req *r);
void blkacct_failed(struct blkacct *s, const struct blkacct_req *r);
void blkacct_invalid(struct blkacct *s, const struct blkacct_req *r);

/* Nanoseconds since the last access; false when there was none. */
bool blkacct_idle_ns(const struct blkacct *s, uint64_t *ns);

#endif
