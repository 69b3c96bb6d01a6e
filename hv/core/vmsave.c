/*
 * vmsave.c: savevm, loadvm and delvm of a domain (vmsave.h): its whole
 * state as an hvkit vmstate (docs/vmstate.md, vms_domain.c) in the VM state
 * area of an internal snapshot of its first writable qcow2 virtio disk,
 * through imgtool's library compiled into hv (qcow2_vmstate.c) and the
 * outer machine's ATA disk under it (disk/diskio.c).
 *
 * What QEMU's savevm does, in the same order: the guest is paused, the
 * state is written past the end of the virtual disk, an older snapshot of
 * the same name is deleted and the new one taken (it records the state's
 * size, the date and the guest's run time, and takes over the state's
 * clusters), and the guest goes on.  loadvm checks the whole state first
 * (vms_load_check), reverts the disk to the snapshot, then puts the
 * models, RAM and vCPUs back.
 *
 * The disk is the one the guest's virtio-blk device has open: the same
 * handle, so the device and the snapshot never see two views of the
 * image.  The guest is paused and hv runs nothing else meanwhile, so no
 * request of the guest's is in flight.
 */
#include "klib.h"

#include "alloc.h"
#include "cpu.h"
#include "disk/outer.h"
#include "hv.h"
#include "img.h"
#include "log.h"
#include "pv.h"
#include "vcpustate.h"
#include "vdev.h"
#include "vdev_hot.h"
#include "vms_domain.h"
#include "vmsave.h"
#include "vmwork.h"
#include "wallclock.h"
#include "xcr.h"

/* QEMU 7.2's words when no disk can hold a snapshot's VM state. */
#define NO_VMSTATE_DISK "no block device can store vmstate for snapshot"

/*
 * What the last save to a file left there, for the next save into the same
 * file to write only what changed (xl save's role, with QEMU's way of
 * finding the changes: the dirty log, core/dirty.c).  A second save can
 * skip a page when the set of non-zero pages is the same as last time (then
 * every page lies at the same place in the stream) and the page was not
 * written since: the log, started at the first save, says which were.
 * Anything that writes guest RAM behind the log's back (a load) or another
 * file makes the next save a full one.  Domain 0's only.
 */
static struct {
    bool valid;        /* `file` holds this domain's last save */
    unsigned file;     /* its outer disk number */
    bool logging;      /* the dirty log was started for saves */
    uint64_t *nonzero; /* bit per page: not all zeros at the last save */
    uint64_t *dirty;   /* the log's harvest: written since the last save */
    uint64_t words;    /* 64-bit words of each bitmap */
} inc;

/* ---- The stream over the disk or the file --------------------------------------- */

/* The chunk being filled goes to the snapshot's VM state area, or to the
 * file. */
static int flush_chunk(struct work *w, char *err)
{
    int r = 0;
    if (w->buf_len && w->file.write)
        r = w->file.write(w->file.ctx, w->buf_at, w->buf, w->buf_len);
    else if (w->buf_len)
        r = img_vmstate_write(w->img, w->buf_at, w->buf, w->buf_len);
    if (r < 0) {
        ksnprintf(err, VMS_ERR_LEN, "%s",
                  w->file.write ? "writing the save file failed" : img_strerror(w->img));
        return -1;
    }
    w->written += w->buf_len;
    w->buf_at += w->buf_len;
    w->buf_len = 0;
    return 0;
}

/* vms_sink.write: the stream is written in order, so bytes are gathered
 * into the chunk and written a chunk at a time; a gap (the pages an
 * incremental save leaves as they are) ends a chunk. */
static int sink_write(void *ctx, uint64_t pos, const void *buf, size_t len, char *err)
{
    struct work *w = ctx;
    const uint8_t *p = buf;
    if (pos != w->buf_at + w->buf_len) {
        if (pos < w->buf_at + w->buf_len) {
            ksnprintf(err, VMS_ERR_LEN, "VM state written out of order");
            return -1;
        }
        if (flush_chunk(w, err) < 0)
            return -1;
        w->buf_at = pos;
    }
    while (len) {
        size_t n = CHUNK - w->buf_len < len ? CHUNK - w->buf_len : len;
        memcpy(w->buf + w->buf_len, p, n);
        w->buf_len += (uint32_t)n;
        p += n;
        len -= n;
        if (w->buf_len == CHUNK && flush_chunk(w, err) < 0)
            return -1;
    }
    return 0;
}

/* One chunk of the state being loaded, from the file or the snapshot. */
static int fill_chunk(struct work *w, char *err)
{
    int r = w->file.read ? w->file.read(w->file.ctx, w->buf_at, w->buf, w->buf_len)
                         : img_snapshot_vmstate_read(w->img, w->id, w->buf_at, w->buf, w->buf_len);
    if (r < 0) {
        w->buf_len = 0;
        ksnprintf(err, VMS_ERR_LEN, "%s",
                  w->file.read ? "reading the save file failed" : img_strerror(w->img));
    }
    return r < 0 ? -1 : 0;
}

/* vms_source.read: from the chunk that holds pos, read first when it is
 * not the one in the buffer. */
int vmwork_source_read(void *ctx, uint64_t pos, void *buf, size_t len, char *err)
{
    struct work *w = ctx;
    uint8_t *p = buf;
    while (len) {
        if (pos < w->buf_at || pos >= w->buf_at + w->buf_len) {
            w->buf_at = pos - pos % CHUNK;
            w->buf_len = (uint32_t)(w->size - w->buf_at < CHUNK ? w->size - w->buf_at : CHUNK);
            if (fill_chunk(w, err) < 0)
                return -1;
        }
        uint64_t off = pos - w->buf_at;
        size_t n = w->buf_len - off < len ? (size_t)(w->buf_len - off) : len;
        memcpy(p, w->buf + off, n);
        p += n;
        pos += n;
        len -= n;
    }
    return 0;
}

/* ---- Shared steps ------------------------------------------------------------------ */

/* A domain that has ended may have given its devices back (teardown.c):
 * nothing of it is looked at then. */
static bool ended(const struct domain *d, char *err, size_t err_len)
{
    if (!domain_stopped(d) && !d->torn_down)
        return false;
    ksnprintf(err, err_len, "domain %u has ended (%s)", d->id, domain_state_name(d->state));
    return true;
}

/* Room for the work, or a message. */
struct work *vmwork_alloc(struct domain *d, char *err, size_t err_len)
{
    if (d && ended(d, err, err_len))
        return NULL;
    struct work *w = kzalloc(sizeof(*w));
    if (!w) {
        ksnprintf(err, err_len, "no memory for the VM state's buffers");
        return NULL;
    }
    if (d)
        vmwork_bind(w, d);
    return w;
}

void vmwork_bind(struct work *w, struct domain *d)
{
    w->parts.cpu = w->cpu;
    w->parts.nr_virtio = vdev_transports(d, w->parts.virtio, VDEV_MAX);
    /* What a PV guest's state is checked against (pv_state.c): its RAM,
     * npt=lazy, and its disks by number, for the PV block ring. */
    struct pv_env *e = &w->parts.pv;
    e->nr_vcpus = d->nr_vcpus;
    e->mem = &d->mem;
    e->lazy = d->guestmem.lazy;
    e->nr_disks = 0;
    for (unsigned n = 0; n < VDEV_MAX; n++) {
        e->disk[n] = vdev_disk(d, n, &e->disk_ro[n]);
        e->disk_sectors[n] = e->disk[n] ? img_size(e->disk[n]) / HVKIT_BLK_SECTOR : 0;
        if (e->disk[n])
            e->nr_disks = n + 1;
    }
}

/* The disk that holds the domain's snapshots, or NULL and why (err
 * starts empty, for the steps after to fill). */
static struct img *snapshot_disk(struct domain *d, char *err, size_t err_len)
{
    err[0] = '\0';
    if (ended(d, err, err_len))
        return NULL;
    struct img *img = vdev_snapshot_disk(d);
    if (!img)
        ksnprintf(err, err_len, NO_VMSTATE_DISK);
    return img;
}

/* The work of a savevm or loadvm: with the disk that holds snapshots.  A
 * domain with a disk attached at run time is refused: the snapshot would
 * hold neither that disk's bytes nor its device, and a loadvm would give
 * the guest a driver out of step with it (core/vdev_hot.h). */
static struct work *work_new(struct domain *d, char *err, size_t err_len)
{
    struct img *img = snapshot_disk(d, err, err_len);
    if (!img)
        return NULL;
    if (vdev_hot_count(d)) {
        ksnprintf(err, err_len,
                  "domain %u has a disk attached at run time: detach it first (a snapshot "
                  "holds the disks of the domain's start only)",
                  d->id);
        return NULL;
    }
    struct work *w = vmwork_alloc(d, err, err_len);
    if (w)
        w->img = img;
    return w;
}

/* The snapshot whose id or name is `key` (ids first, as QEMU looks them
 * up), into *info; false if there is none. */
static bool find_snapshot(struct img *img, const char *key, struct img_snapshot_info *info)
{
    int n = img_snapshot_count(img);
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < n; i++)
            if (img_snapshot_get(img, i, info) == 0 && !strcmp(pass ? info->name : info->id, key))
                return true;
    return false;
}

/* Nanoseconds on hv's clock (the local APIC's bus clock, core/irq.c),
 * for the guest's run time and the log's timings. */
uint64_t vmwork_now_ns(const struct domain *d)
{
    const struct lapic *l = &d->vcpu[0]->lapic;
    return l->bus ? l->bus(l->clock_ctx) : 0;
}

/* Pause for the operation; *was_paused says whether to unpause after. */
int vmwork_pause(struct domain *d, bool *was_paused, char *err, size_t err_len)
{
    *was_paused = d->state == DOMAIN_PAUSED;
    if (domain_pause(d) < 0) {
        ksnprintf(err, err_len, "domain %u is %s", d->id, domain_state_name(d->state));
        return -1;
    }
    return 0;
}

void vmwork_resume(struct domain *d, bool was_paused)
{
    if (!was_paused)
        domain_unpause(d);
}

/* ---- savevm ------------------------------------------------------------------------- */

/* The domain's state into the disk's VM state area; its length, or -1. */
int64_t vmwork_write(struct domain *d, struct work *w, char *err, size_t err_len)
{
    struct vms_sink sink = {.write = sink_write, .ctx = w};
    for (unsigned i = 0; i < d->nr_vcpus; i++) {
        /* VT-x reads a VMCS only while it is the current one. */
        host_load_vcpu(d->host, d->vcpu[i]);
        if (vcpu_get_cpu_state(d->vcpu[i], &w->cpu[i], err, err_len) < 0)
            return -1;
    }
    /* The guest's PV clock now, which a load makes its clock go on from
     * (pv_state.c, pv_restore.c). */
    w->parts.pv.clock_ns = d->pv ? pv_clock_guest_ns(d) : 0;
    int64_t n = vms_save_domain(&w->v, d, &w->parts, &sink);
    if (n < 0 || flush_chunk(w, w->v.err) < 0) {
        ksnprintf(err, err_len, "%s", w->v.err);
        return -1;
    }
    return n;
}

int domain_savevm(struct domain *d, const char *name, char *err, size_t err_len)
{
    struct work *w = work_new(d, err, err_len);
    if (!w)
        return -1;
    bool was_paused;
    if (vmwork_pause(d, &was_paused, err, err_len) < 0) {
        kfree(w);
        return -1;
    }
    struct img_snapshot_info old;
    uint64_t t0 = vmwork_now_ns(d);
    int64_t n = vmwork_write(d, w, err, err_len);
    /* A snapshot of the same name is replaced, as by QEMU's savevm. */
    if (n >= 0 && find_snapshot(w->img, name, &old) && !strcmp(old.name, name) &&
        img_snapshot_delete(w->img, old.id) < 0)
        n = -1;
    if (n >= 0) {
        /* The date from the outer machine's clock; the VM clock is the
         * guest's time in guest mode, as QEMU's stops while paused. */
        struct img_snapshot_vm vm = {.date_sec = (uint32_t)wallclock_unix_seconds(),
                                     .vm_clock_nsec = irq_tsc_to_ns(d->vcpu[0]->run_tsc),
                                     .vm_state_size = (uint64_t)n};
        if (img_snapshot_create_vm(w->img, name, &vm) < 0 || img_flush(w->img) < 0)
            n = -1;
    }
    if (n < 0 && !err[0])
        ksnprintf(err, err_len, "%s", img_strerror(w->img));
    if (n < 0)
        /* Nothing half-saved stays behind in the image. */
        img_vmstate_discard(w->img);
    else
        hv_log("savevm '%s': %llu bytes of VM state in %llu ms", name, (unsigned long long)n,
               (unsigned long long)((vmwork_now_ns(d) - t0) / 1000000));
    vmwork_resume(d, was_paused);
    kfree(w);
    return n < 0 ? -1 : 0;
}

/* ---- loadvm ------------------------------------------------------------------------- */

/* After the models and RAM: each vCPU's state through its backend, and
 * what follows from the restored models outside them. */
static int put_back(struct domain *d, struct work *w, char *err, size_t err_len)
{
    for (unsigned i = 0; i < d->nr_vcpus; i++) {
        struct vcpu *v = d->vcpu[i];
        host_load_vcpu(d->host, v);
        if (vcpu_set_cpu_state(v, &w->cpu[i], err, err_len) < 0)
            return -1;
        /* The APIC's page follows its restored base (irq.c). */
        irq_apic_base_changed(v);
    }
    /* The PV interface's parts outside its fields: the hypercall page,
     * the clocks, the balloon's translations. */
    if (d->pv)
        pv_restore_finish(d);
    /* Each virtio device's line as its restored InterruptStatus says. */
    for (unsigned i = 0; i < w->parts.nr_virtio; i++) {
        struct virtio_mmio *t = w->parts.virtio[i];
        if (t->set_irq)
            t->set_irq(t->irq_ctx, t->isr != 0);
    }
    /* The CD-ROM drive's line (IRQ 15) as its restored registers say. */
    if (d->cd)
        ide_cd_sync_irq(d->cd);
    /* Every interrupt controller changed: irq.c looks at them again. */
    d->irq_epoch++;
    return 0;
}

/* Does this CPU take each saved vCPU's XCR0 (the components CPUID.(EAX=
 * 0DH,ECX=0):EDX:EAX names, and XSETBV's rules, core/xcr.c)?  A state
 * taken on a CPU with AVX is refused on one without, before anything
 * changes, rather than fault in hv's XSETBV or XRSTOR half way. */
static int check_xcr0(struct domain *d, struct work *w, char *err, size_t err_len)
{
    struct cpuid_regs x = cpuid_count(0xd, 0);
    uint64_t supported = read_cr4() & CR4_OSXSAVE ? ((uint64_t)x.edx << 32) | x.eax : XCR0_X87;
    for (unsigned i = 0; i < d->nr_vcpus; i++)
        if (!xcr0_valid(w->scratch.cpu[i].xcr0, supported)) {
            ksnprintf(err, err_len,
                      "vmstate: section 'cpu' (instance %u): XCR0 %#llx enables state "
                      "components this CPU does not have (it supports %#llx)",
                      i, (unsigned long long)w->scratch.cpu[i].xcr0, (unsigned long long)supported);
            return -1;
        }
    return 0;
}

/* The room a load of a PV guest's state needs (vms_domain.h "Set by the
 * caller before a load"), made before anything is read, so that the
 * commit never waits on hv's allocator; -1 without memory. */
static int spares_get(struct domain *d, struct work *w, char *err, size_t err_len)
{
    w->scratch.balloon = kzalloc(pv_balloon_words(d->mem.size) * 8);
    w->scratch.pv_spare = kzalloc(sizeof(struct pv_domain));
    if (w->scratch.balloon && w->scratch.pv_spare)
        return 0;
    ksnprintf(err, err_len, "no memory for the VM state's buffers");
    return -1;
}

/* What the commit did not take (kfree takes NULL). */
static void spares_put(struct work *w)
{
    kfree(w->scratch.balloon);
    kfree(w->scratch.pv_spare);
    w->scratch.balloon = NULL;
    w->scratch.pv_spare = NULL;
}

/* Check the whole state, revert the disk, commit.  The domain is only
 * changed once the state has passed every check. */
static int read_checked(struct domain *d, struct work *w, char *err, size_t err_len)
{
    struct vms_source src = {.read = vmwork_source_read, .ctx = w, .size = w->size};
    /* hv's clock now: a PV clock's offset is computed from it. */
    w->parts.pv.clock_ns = pv_clock_host_ns();
    if (vms_load_check(&w->v, d, &w->parts, &src, &w->scratch) < 0) {
        ksnprintf(err, err_len, "%s", w->v.err);
        return -1;
    }
    if (check_xcr0(d, w, err, err_len) < 0)
        return -1;
    /* The disk as it was at the snapshot (QEMU reverts it too); a restore
     * from a file leaves the disks alone, as xl restore does. */
    if (w->img && (img_snapshot_apply(w->img, w->id) < 0 || img_flush(w->img) < 0)) {
        ksnprintf(err, err_len, "%s", img_strerror(w->img));
        return -1;
    }
    /* From here on a failure leaves the guest half restored: it ends.
     * First the balloon's pages in the second-level tables (the one step
     * that may need memory), then the models, RAM and vCPUs. */
    const struct vms_scratch *s = &w->scratch;
    if (pv_restore_balloon(d, s->pv_present && s->pv_x.has_map ? s->balloon : NULL) < 0)
        ksnprintf(w->v.err, sizeof(w->v.err),
                  "no memory for the second-level tables of the pages the guest gave back");
    else if (vms_load_commit(&w->v, d, &w->parts, &src, &w->scratch) == 0 &&
             put_back(d, w, w->v.err, sizeof(w->v.err)) == 0)
        return 0;
    ksnprintf(err, err_len, "%s", w->v.err);
    domain_crash(d, "loadvm failed half way: %s", w->v.err);
    return -1;
}

int vmwork_read(struct domain *d, struct work *w, char *err, size_t err_len)
{
    int r = spares_get(d, w, err, err_len) < 0 ? -1 : read_checked(d, w, err, err_len);
    spares_put(w);
    return r;
}

/* A loadvm's or a restore's last steps, the domain paused: read the state
 * whole (vmwork_read), log `what` and the time it took, and let the domain
 * run again if it ran before (unless the load ended it). */
static int load_and_resume(struct domain *d, struct work *w, bool was_paused, const char *what,
                           char *err, size_t err_len)
{
    uint64_t t0 = vmwork_now_ns(d);
    int r = vmwork_read(d, w, err, err_len);
    /* RAM was written behind the dirty log's back. */
    inc.valid = false;
    if (r == 0)
        hv_log("%s in %llu ms", what, (unsigned long long)((vmwork_now_ns(d) - t0) / 1000000));
    if (!domain_stopped(d))
        vmwork_resume(d, was_paused);
    return r;
}

int domain_loadvm(struct domain *d, const char *name, char *err, size_t err_len)
{
    struct work *w = work_new(d, err, err_len);
    if (!w)
        return -1;
    struct img_snapshot_info info;
    bool was_paused;
    int r = -1;
    if (!find_snapshot(w->img, name, &info))
        ksnprintf(err, err_len, "Snapshot '%s' does not exist in one or more devices", name);
    else if (!info.vm_state_size)
        /* QEMU 7.2's words, its double space included. */
        ksnprintf(err, err_len,
                  "This is a disk-only snapshot. Revert to it  offline using qemu-img");
    else if (vmwork_pause(d, &was_paused, err, err_len) == 0) {
        char what[320];
        ksnprintf(w->id, sizeof(w->id), "%s", info.id);
        w->size = info.vm_state_size;
        ksnprintf(what, sizeof(what), "loadvm '%s': %llu bytes of VM state", name,
                  (unsigned long long)w->size);
        r = load_and_resume(d, w, was_paused, what, err, err_len);
    }
    kfree(w);
    return r;
}

/* ---- delvm -------------------------------------------------------------------------- */

int domain_delvm(struct domain *d, const char *name, char *err, size_t err_len)
{
    struct img_snapshot_info info;
    struct img *img = snapshot_disk(d, err, err_len);
    if (!img)
        return -1;
    if (!find_snapshot(img, name, &info)) {
        ksnprintf(err, err_len, "Snapshot '%s' not found", name);
        return -1;
    }
    if (img_snapshot_delete(img, info.id) < 0 || img_flush(img) < 0) {
        ksnprintf(err, err_len, "%s", img_strerror(img));
        return -1;
    }
    return 0;
}

/* ---- The list ----------------------------------------------------------------------- */

int domain_snapshots(struct domain *d, struct img_snapshot_info *out, int max, char *err,
                     size_t err_len)
{
    struct img *img = snapshot_disk(d, err, err_len);
    if (!img)
        return -1;
    int n = img_snapshot_count(img);
    if (n > max)
        n = max;
    for (int i = 0; i < n; i++)
        if (img_snapshot_get(img, i, &out[i]) < 0) {
            ksnprintf(err, err_len, "%s", img_strerror(img));
            return -1;
        }
    return n;
}

/* ---- save and restore to a file ---------------------------------------------------- */

/* parts.page_clean for an incremental save: not written since the last. */
static bool page_clean(void *ctx, uint64_t gpa)
{
    uint64_t page = gpa / VMS_PAGE_SIZE;
    (void)ctx;
    return !((inc.dirty[page / 64] >> (page % 64)) & 1);
}

/* The bitmap of non-zero pages now, into `out`; true when it is the one of
 * the last save. */
static bool same_layout(const struct guest_mem *mem, uint64_t *out)
{
    memset(out, 0, inc.words * 8);
    for (uint64_t page = 0; page < mem->size / VMS_PAGE_SIZE; page++) {
        const uint64_t *w = (const uint64_t *)(mem->host + page * VMS_PAGE_SIZE);
        for (unsigned i = 0; i < VMS_PAGE_SIZE / 8; i++)
            if (w[i]) {
                out[page / 64] |= 1ull << (page % 64);
                break;
            }
    }
    return inc.valid && !memcmp(out, inc.nonzero, inc.words * 8);
}

/* Decide full or incremental, and have the dirty log running for the next
 * save: started at the first save, unless the guest uses it itself
 * (HC_DIRTY_*), in which case every save is a full one. */
static int plan_save(struct domain *d, struct work *w, unsigned file, uint64_t *now_nonzero)
{
    bool incremental = same_layout(&d->mem, now_nonzero) && inc.file == file && inc.logging;
    if (inc.logging) {
        /* What was written since the last save; the log starts afresh. */
        guestmem_dirty_harvest(&d->guestmem, 0, d->mem.size / VMS_PAGE_SIZE, inc.dirty, true);
    } else if (!d->guestmem.dirty.on) {
        if (guestmem_dirty_start(&d->guestmem) < 0)
            return -1;
        /* The tables are write-protected now: the CPU's cached
         * translations must go, as for HC_DIRTY_START (hypercall.c). */
        for (unsigned i = 0; i < d->nr_vcpus; i++) {
            host_load_vcpu(d->host, d->vcpu[i]);
            vcpu_backend(d->vcpu[i])->flush_slat(d->vcpu[i], 0, d->mem.size);
        }
        inc.logging = true;
    }
    if (incremental)
        w->parts.page_clean = page_clean;
    return 0;
}

/* Outer disk number `name` as an img_io, or a message. */
static int open_file(const char *name, bool writable, struct img_io *io, unsigned *file, char *err,
                     size_t err_len)
{
    const char *why = "";
    *file = (unsigned)kstrtoull(name, NULL, 10);
    if (outer_disk_io(*file, writable, io, &why) < 0) {
        ksnprintf(err, err_len, "outer disk %s: %s", name, why);
        return -1;
    }
    return 0;
}

/* The bitmaps of `inc`, the first time; false without memory. */
static bool inc_ready(const struct domain *d)
{
    if (!inc.nonzero) {
        inc.words = (d->mem.size / VMS_PAGE_SIZE + 63) / 64;
        inc.nonzero = kzalloc(inc.words * 8);
        inc.dirty = kzalloc(inc.words * 8);
    }
    return inc.nonzero && inc.dirty;
}

int domain_save_file(struct domain *d, const char *name, char *err, size_t err_len)
{
    bool was_paused;
    unsigned file;
    int64_t n = -1;
    err[0] = '\0';
    uint64_t *now_nonzero = inc_ready(d) ? kzalloc(inc.words * 8) : NULL;
    struct work *w = now_nonzero ? vmwork_alloc(d, err, err_len) : NULL;
    if (!w) {
        /* vmwork_alloc() may have said why already (an ended domain). */
        if (!err[0])
            ksnprintf(err, err_len, "no memory for the save's buffers");
    } else if (open_file(name, true, &w->file, &file, err, err_len) == 0 &&
               vmwork_pause(d, &was_paused, err, err_len) == 0) {
        uint64_t t0 = vmwork_now_ns(d);
        if (plan_save(d, w, file, now_nonzero) < 0)
            ksnprintf(err, err_len, "no memory for the dirty log");
        else
            n = vmwork_write(d, w, err, err_len);
        if (n >= 0 && w->file.flush && w->file.flush(w->file.ctx) < 0) {
            ksnprintf(err, err_len, "flushing the save file failed");
            n = -1;
        }
        /* Only a save that is whole in the file can be built on. */
        inc.valid = n >= 0;
        inc.file = file;
        memcpy(inc.nonzero, now_nonzero, inc.words * 8);
        if (n >= 0)
            hv_log("save to outer disk %u: %llu bytes of state, %llu written (%s) in %llu ms", file,
                   (unsigned long long)n, (unsigned long long)w->written,
                   w->parts.page_clean ? "incremental" : "full",
                   (unsigned long long)((vmwork_now_ns(d) - t0) / 1000000));
        vmwork_resume(d, was_paused);
    }
    if (w && w->file.close)
        w->file.close(w->file.ctx);
    kfree(w);
    kfree(now_nonzero);
    return n < 0 ? -1 : 0;
}

int domain_restore_file(struct domain *d, const char *name, char *err, size_t err_len)
{
    bool was_paused;
    unsigned file;
    err[0] = '\0';
    struct work *w = vmwork_alloc(d, err, err_len);
    if (!w)
        return -1;
    int r = -1;
    if (open_file(name, false, &w->file, &file, err, err_len) == 0 &&
        w->file.size(w->file.ctx, &w->size) == 0 &&
        vmwork_pause(d, &was_paused, err, err_len) == 0) {
        char what[80];
        ksnprintf(what, sizeof(what), "restore from outer disk %u: %llu bytes of state", file,
                  (unsigned long long)w->size);
        r = load_and_resume(d, w, was_paused, what, err, err_len);
    }
    if (w->file.close)
        w->file.close(w->file.ctx);
    kfree(w);
    return r;
}

/* ---- The command-line stand-in ------------------------------------------------------ */

/* Which of the options' events comes next, and when domain 0 started. */
static unsigned next_event;
static uint64_t start_ns;

bool vmsave_poll(struct host *h)
{
    struct domain *d = h->domains;
    bool did = false;
    char err[VMS_ERR_LEN];
    if (!d || !d->nr_vcpus || domain_stopped(d) || next_event >= h->opt.nvmevents)
        return false;
    uint64_t now = vmwork_now_ns(d);
    if (!start_ns)
        start_ns = now;
    while (next_event < h->opt.nvmevents && !domain_stopped(d)) {
        const struct hv_vmevent *e = &h->opt.vmevent[next_event];
        if ((now - start_ns) / 1000000 < e->at_ms)
            return did;
        next_event++;
        did = true;
        static const char *const what[] = {"savevm", "loadvm", "delvm"};
        int r = e->kind == HV_SAVEVM   ? domain_savevm(d, e->name, err, sizeof(err))
                : e->kind == HV_LOADVM ? domain_loadvm(d, e->name, err, sizeof(err))
                : e->kind == HV_DELVM  ? domain_delvm(d, e->name, err, sizeof(err))
                : e->kind == HV_SAVE   ? domain_save_file(d, e->name, err, sizeof(err))
                                       : domain_restore_file(d, e->name, err, sizeof(err));
        if (r < 0 && e->kind >= HV_SAVE)
            hv_log("%s outer disk %s: %s", e->kind == HV_SAVE ? "save to" : "restore from", e->name,
                   err);
        else if (r < 0)
            hv_log("%s '%s': %s", what[e->kind], e->name, err);
        else if (e->kind == HV_DELVM)
            hv_log("delvm '%s': done", e->name);
    }
    return did;
}
