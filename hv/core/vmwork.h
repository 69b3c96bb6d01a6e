/*
 * vmwork.h: the steps savevm, loadvm and the saves to a file share
 * (vmsave.c), for the files that write or read a domain's whole state
 * somewhere else: vmfile.c, the control channel's domain-save and
 * domain-restore through the manager's staging disk.
 *
 * A `struct work` holds what one operation needs beyond the stack: the
 * vCPUs' state, the stream's context, a load's scratch models and a chunk
 * buffer.  Its stream goes to (or comes from) the snapshot disk `img`, or,
 * when `file.write` (`file.read`) is set, that img_io: the serialisers
 * hand over 8 bytes here and a page there, gathered into chunks.
 */
#ifndef HV_CORE_VMWORK_H
#define HV_CORE_VMWORK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain.h"
#include "img.h"
#include "vms_domain.h"

/* Reads and writes of the VM state go to the disk in pieces this large:
 * each library or ATA call over the slow channel carries many fields. */
#define CHUNK (64u * 1024u)

struct work {
    struct vms v;
    struct vms_parts parts;
    struct cpu_state cpu[DOMAIN_MAX_VCPUS];
    struct vms_scratch scratch;
    struct img *img;    /* savevm, loadvm: the disk */
    struct img_io file; /* save, restore: the file (an outer disk) */
    uint64_t written;   /* bytes that went to the disk or the file */
    char id[128];       /* loadvm: the snapshot being read */
    uint64_t size;      /* loading: the state's length */
    uint8_t buf[CHUNK]; /* the chunk being filled or read */
    uint64_t buf_at;    /* its place in the stream */
    uint32_t buf_len;   /* bytes in it */
};

/* A zeroed work for domain d (refused for a domain that has ended), or
 * NULL with err.  d may be NULL for a domain not made yet: vmwork_bind()
 * once it is. */
struct work *vmwork_alloc(struct domain *d, char *err, size_t err_len);
/* Point the work's parts at domain d's vCPU states and virtio devices. */
void vmwork_bind(struct work *w, struct domain *d);

/* Pause d for the operation (refused for a domain that cannot be
 * paused); *was_paused says whether vmwork_resume() lets it run again. */
int vmwork_pause(struct domain *d, bool *was_paused, char *err, size_t err_len);
void vmwork_resume(struct domain *d, bool was_paused);

/* The paused domain's state into the work's stream: its length, or -1. */
int64_t vmwork_write(struct domain *d, struct work *w, char *err, size_t err_len);
/* The whole state of w->size bytes checked, then put into the paused
 * domain d: -1 with d unchanged when the check fails (a failure after it
 * crashes the domain, docs/vmstate.md). */
int vmwork_read(struct domain *d, struct work *w, char *err, size_t err_len);
/* vms_source.read over the work's stream (ctx: the work). */
int vmwork_source_read(void *ctx, uint64_t pos, void *buf, size_t len, char *err);

/* Nanoseconds on hv's clock, for the log's timings. */
uint64_t vmwork_now_ns(const struct domain *d);

#endif
