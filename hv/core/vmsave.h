/*
 * vmsave.h: savevm, loadvm and delvm of a domain, as QEMU's monitor has
 * them (vmsave.c): an internal snapshot, with the domain's whole state, of
 * its first writable qcow2 virtio disk.  Each pauses the domain around its
 * work and resumes it unless it was paused before.  Each returns 0, or -1
 * with a message in err (QEMU's wording where it has one); a refused
 * savevm leaves the image as it was, a refused loadvm the domain.
 */
#ifndef HV_CORE_VMSAVE_H
#define HV_CORE_VMSAVE_H

#include <stddef.h>

#include "domain.h"

int domain_savevm(struct domain *d, const char *name, char *err, size_t err_len);
int domain_loadvm(struct domain *d, const char *name, char *err, size_t err_len);
int domain_delvm(struct domain *d, const char *name, char *err, size_t err_len);

struct img_snapshot_info;
/* The snapshots of that disk, for query-snapshots and the monitor's `info
 * snapshots` (QEMU's SnapshotInfo fields: id, name, VM state size, date,
 * VM clock, icount): up to max into out.  Their number, or -1 with err
 * when the domain has no such disk. */
int domain_snapshots(struct domain *d, struct img_snapshot_info *out, int max, char *err,
                     size_t err_len);

/*
 * Save the domain's state into, or restore it from, the file the launcher
 * attached as outer disk number `name` (disk/outer.h): xl save and xl
 * restore, without touching the disks.  A second save into the same file
 * writes only what changed since the first (the dirty log, dirty.h).  A
 * restore checks the whole file before anything changes: a corrupted or
 * cut file is refused and the domain runs on as it was.
 */
int domain_save_file(struct domain *d, const char *name, char *err, size_t err_len);
int domain_restore_file(struct domain *d, const char *name, char *err, size_t err_len);

struct host;
/*
 * The savevm=, loadvm=, delvm=, save= and restore= options (cmdline.h:
 * NAME@MS, carried out on domain 0 once it has run MS milliseconds, in
 * order of time): a stand-in for the control channel's commands until a
 * front-end sends them, installed as the host's poll hook (hv.h), which
 * says whether it carried one out.
 */
bool vmsave_poll(struct host *h);

#endif
