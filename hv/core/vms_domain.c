/*
 * vms_domain.c: a whole domain as one vmstate (vms_domain.h).
 *
 * Reading order: the DOMAIN section (what the state is for), saving (every
 * section in the stream's order, RAM last), then loading: the first pass
 * into the scratch models (model_state() per section, then the check that
 * nothing is missing), the commit, and RAM's two passes.
 */
#include "klib.h"

#include "dev/devstate.h"
#include "memmap.h"
#include "vms_domain.h"

/* ---- The DOMAIN section ----------------------------------------------------- */

/*
 * What the state was taken from: its number of vCPUs, its RAM size and
 * its virtio devices.  A state goes only into a domain of the same shape;
 * anything else is refused here, by this section, before any model is
 * looked at.
 */
static void domain_shape(struct vms *v, const struct domain *d, const struct vms_parts *parts)
{
    uint32_t vcpus = d->nr_vcpus, virtio = parts->nr_virtio;
    uint64_t ram = d->mem.size;
    vms_u32(v, &vcpus);
    vms_u64(v, &ram);
    vms_u32(v, &virtio);
    if (v->loading && !v->failed &&
        (vcpus != d->nr_vcpus || ram != d->mem.size || virtio != parts->nr_virtio))
        vms_fail(v,
                 "the state is of a domain with %u vCPUs, %llu KiB of RAM and %u virtio "
                 "devices; this one has %u, %llu KiB and %u",
                 vcpus, (unsigned long long)(ram >> 10), virtio, d->nr_vcpus,
                 (unsigned long long)(d->mem.size >> 10), parts->nr_virtio);
}

/* ---- Saving --------------------------------------------------------------------- */

/* True when the page at p holds only zeros. */
static bool zero_page(const uint8_t *p)
{
    const uint64_t *w = (const uint64_t *)p;
    for (unsigned i = 0; i < VMS_PAGE_SIZE / 8; i++)
        if (w[i])
            return false;
    return true;
}

/*
 * Guest RAM: for each page that is not all zeros, its guest-physical
 * address (8 bytes) and its 4096 bytes, in ascending order.  A small guest
 * leaves most of its RAM untouched, and the zero pages are not written at
 * all: they cost nothing on the slow way to the disk.  The pages are
 * counted first, since the section's header carries its length.
 */
static int save_ram(struct vms *v, const struct guest_mem *mem, const struct vms_parts *parts)
{
    uint64_t pages = 0;
    for (uint64_t gpa = 0; gpa < mem->size; gpa += VMS_PAGE_SIZE)
        pages += !zero_page(mem->host + gpa);
    if (vms_stream_begin(v, VMS_SEC_RAM, 0, pages * (8 + VMS_PAGE_SIZE)) < 0)
        return -1;
    for (uint64_t gpa = 0; gpa < mem->size; gpa += VMS_PAGE_SIZE) {
        if (zero_page(mem->host + gpa))
            continue;
        /* A page the sink holds already, at this very place: its address
         * and bytes are the same as last time. */
        int (*put)(struct vms *, const void *, size_t) =
            parts->page_clean && parts->page_clean(parts->clean_ctx, gpa) ? vms_stream_skip
                                                                          : vms_stream_write;
        if (put(v, &gpa, 8) < 0 || put(v, mem->host + gpa, VMS_PAGE_SIZE) < 0)
            return -1;
    }
    return vms_stream_end(v);
}

/*
 * The models a state is made of, wherever they are: the live ones of a
 * domain (saving) or the scratch copies (loading).  One dispatch,
 * model_state(), serves both, so saving and loading name the same
 * serialiser for each section.
 */
struct models {
    struct pic8259 *pic;
    struct pit8254 *pit;
    struct ioapic *ioapic;
    struct uart16550 *com1;
    struct fwcfg *fwcfg;
    struct port92 *port92;
    struct debug_exit *dbg_exit;
    struct acpi_pm *acpi;
    struct lapic *lapic[DOMAIN_MAX_VCPUS];
    struct cpu_state *cpu;
    struct virtio_mmio *virtio[VDEV_MAX];
    /* The CD-ROM drive, NULL in a domain without one. */
    struct ide_cd *cd;
};

/* How many instances of section `id` a domain of this shape has (CONFIG:
 * none it needs; a save file has one, which check_all() reads through;
 * the PV sections: none it needs, a guest that used the interface has
 * them, written and read on their own). */
static unsigned instances(uint32_t id, const struct domain *d, const struct vms_parts *parts)
{
    if (id == VMS_SEC_CPU || id == VMS_SEC_LAPIC)
        return d->nr_vcpus;
    if (id == VMS_SEC_CONFIG || id == VMS_SEC_PV || id == VMS_SEC_PV_BALLOON)
        return 0;
    /* The drive belongs to the domain's shape, as its virtio devices do. */
    if (id == VMS_SEC_CDROM)
        return d->cd != NULL;
    return id == VMS_SEC_VIRTIO ? parts->nr_virtio : 1;
}

/* The serialiser of section id, instance i (checked by the caller). */
static void model_state(struct vms *v, uint32_t id, unsigned i, const struct models *m)
{
    switch (id) {
    case VMS_SEC_CPU:
        cpu_state_vms(v, &m->cpu[i]);
        break;
    case VMS_SEC_LAPIC:
        lapic_state(v, m->lapic[i]);
        break;
    case VMS_SEC_PIC:
        pic_state(v, m->pic);
        break;
    case VMS_SEC_PIT:
        pit_state(v, m->pit);
        break;
    case VMS_SEC_IOAPIC:
        ioapic_state(v, m->ioapic);
        break;
    case VMS_SEC_UART:
        uart_state(v, m->com1);
        break;
    case VMS_SEC_FWCFG:
        fwcfg_state(v, m->fwcfg);
        break;
    case VMS_SEC_PORT92:
        port92_state(v, m->port92);
        break;
    case VMS_SEC_DEBUG_EXIT:
        debug_exit_state(v, m->dbg_exit);
        break;
    case VMS_SEC_VIRTIO:
        virtio_mmio_state(v, m->virtio[i]);
        break;
    case VMS_SEC_ACPI_PM:
        acpi_pm_state(v, m->acpi);
        break;
    case VMS_SEC_CDROM:
        ide_cd_state(v, m->cd);
        break;
    default:
        /* DOMAIN, RAM and END have no model; the callers never ask. */
        vms_fail(v, "not expected here");
    }
}

/* The live models of domain d. */
static void live_models(struct models *m, struct domain *d, const struct vms_parts *parts)
{
    *m = (struct models){.pic = &d->pic,
                         .pit = &d->pit,
                         .ioapic = &d->ioapic,
                         .com1 = &d->com1,
                         .fwcfg = &d->fwcfg,
                         .port92 = &d->port92,
                         .dbg_exit = &d->dbg_exit,
                         .acpi = &d->acpi,
                         .cpu = parts->cpu,
                         .cd = d->cd};
    for (unsigned i = 0; i < d->nr_vcpus; i++)
        m->lapic[i] = &d->vcpu[i]->lapic;
    for (unsigned i = 0; i < parts->nr_virtio; i++)
        m->virtio[i] = parts->virtio[i];
}

/*
 * The PV interface's sections, for a guest that used it (d->pv): 'pv'
 * (pv_state.c) and, when the guest has given pages back at some time,
 * 'pv-balloon', the bitmap as hv keeps it, one bit a page in 64-bit
 * little-endian words.
 */
static int save_pv(struct vms *v, struct domain *d, const struct vms_parts *parts)
{
    struct pv_extra x = {.target_kib = d->balloon_target_kib,
                         .has_map = d->pv->ballooned != NULL,
                         .vcpu_avail = domain_vcpus_available(d)};
    vms_section_begin(v, VMS_SEC_PV, 0);
    pv_state_vms(v, d->pv, &x, &parts->pv);
    if (vms_section_end(v) < 0)
        return -1;
    if (!x.has_map)
        return 0;
    uint64_t len = pv_balloon_words(d->mem.size) * 8;
    if (vms_stream_begin(v, VMS_SEC_PV_BALLOON, 0, len) < 0 ||
        vms_stream_write(v, d->pv->ballooned, (size_t)len) < 0)
        return -1;
    return vms_stream_end(v);
}

int64_t vms_save_domain(struct vms *v, struct domain *d, const struct vms_parts *parts,
                        const struct vms_sink *sink)
{
    struct models m;
    live_models(&m, d, parts);
    if (vms_save_begin(v, sink) < 0)
        return -1;
    vms_section_begin(v, VMS_SEC_DOMAIN, 0);
    domain_shape(v, d, parts);
    if (vms_section_end(v) < 0)
        return -1;
    /* A save file's CONFIG second: a restore that makes a new domain
     * reads the shape and this before anything else. */
    if (parts->config && vms_config_save(v, parts->config) < 0)
        return -1;
    /* Every model's sections in the order of the ids (docs/vmstate.md),
     * each instance once; RAM, the large one, last. */
    for (uint32_t id = VMS_SEC_CPU; id < VMS_SEC_COUNT; id++)
        for (unsigned i = 0; id != VMS_SEC_RAM && i < instances(id, d, parts); i++) {
            vms_section_begin(v, id, i);
            model_state(v, id, i, &m);
            if (vms_section_end(v) < 0)
                return -1;
        }
    /* The PV sections only for a guest that used the interface, before
     * RAM so that RAM stays last. */
    if (d->pv && save_pv(v, d, parts) < 0)
        return -1;
    if (save_ram(v, &d->mem, parts) < 0)
        return -1;
    return vms_save_end(v);
}

/* ---- Loading: the first pass ---------------------------------------------------- */

/*
 * The scratch copies start as copies of the live models, so that what a
 * model was given at creation (clocks, callbacks, ports, tables) is there
 * and only the saved fields are replaced.
 */
static void scratch_models(struct models *m, struct vms_scratch *s, struct domain *d,
                           const struct vms_parts *parts)
{
    s->pic = d->pic;
    s->pit = d->pit;
    s->ioapic = d->ioapic;
    s->com1 = d->com1;
    s->fwcfg = d->fwcfg;
    s->port92 = d->port92;
    s->dbg_exit = d->dbg_exit;
    s->acpi = d->acpi;
    *m = (struct models){.pic = &s->pic,
                         .pit = &s->pit,
                         .ioapic = &s->ioapic,
                         .com1 = &s->com1,
                         .fwcfg = &s->fwcfg,
                         .port92 = &s->port92,
                         .dbg_exit = &s->dbg_exit,
                         .acpi = &s->acpi,
                         .cpu = s->cpu};
    if (d->cd) {
        s->cd = *d->cd;
        m->cd = &s->cd;
    }
    for (unsigned i = 0; i < d->nr_vcpus; i++) {
        s->lapic[i] = d->vcpu[i]->lapic;
        m->lapic[i] = &s->lapic[i];
    }
    for (unsigned i = 0; i < parts->nr_virtio; i++) {
        s->virtio[i] = *parts->virtio[i];
        m->virtio[i] = &s->virtio[i];
    }
    memset(s->seen, 0, sizeof(s->seen));
    s->ram_at = s->ram_len = 0;
    /* The PV state starts from nothing: a state without 'pv' is of a
     * guest that never used the interface. */
    s->pv_present = false;
    memset(&s->pv, 0, sizeof(s->pv));
    s->pv_x = (struct pv_extra){0};
    s->balloon_set = 0;
}

/* A section's instance must name a vCPU or device the domain has, and
 * appear once. */
static int check_instance(struct vms *v, struct vms_scratch *s, unsigned count)
{
    /* The drive is part of the machine: said in those words. */
    if (v->id == VMS_SEC_CDROM && count == 0)
        return vms_fail(v, "the state is of a machine with a CD-ROM drive; this domain has none");
    if (v->instance >= count)
        return vms_fail(v, "no such instance in this domain (it has %u)", count);
    if (s->seen[v->id] & (1u << v->instance))
        return vms_fail(v, "appears twice");
    s->seen[v->id] |= 1u << v->instance;
    return 0;
}

/*
 * RAM's first pass: every record's address is a page of the domain's RAM,
 * in ascending order (so each page comes once), and the checksum holds.
 * The page contents are read (the checksum covers them) but not used.
 */
static int check_ram(struct vms *v, struct domain *d, struct vms_scratch *s, uint64_t length)
{
    uint64_t next = 0;
    if (length % (8 + VMS_PAGE_SIZE))
        return vms_fail(v, "%llu bytes is not a whole number of pages", (unsigned long long)length);
    for (uint64_t n = length / (8 + VMS_PAGE_SIZE); n; n--) {
        uint64_t gpa;
        if (vms_stream_read(v, &gpa, 8) < 0)
            return -1;
        if (gpa % VMS_PAGE_SIZE || gpa < next || gpa >= d->mem.size)
            return vms_fail(v, "page address %#llx is not a new page of the domain's RAM",
                            (unsigned long long)gpa);
        next = gpa + VMS_PAGE_SIZE;
        if (vms_stream_read(v, s->page, VMS_PAGE_SIZE) < 0)
            return -1;
    }
    return vms_stream_finish(v);
}

/*
 * The balloon's bitmap, read whole into the caller's room (s->balloon):
 * exactly the domain's number of words, no bit past its last page, and
 * every page it names RAM as the memory map has it (pv_balloon.c gives
 * back nothing else), counted for check_pv().
 */
static int check_balloon(struct vms *v, struct domain *d, struct vms_scratch *s, uint64_t length)
{
    uint64_t words = pv_balloon_words(d->mem.size), pages = d->mem.size / VMS_PAGE_SIZE;
    if (length != words * 8)
        return vms_fail(v, "%llu bytes long, the bitmap of this domain's RAM has %llu",
                        (unsigned long long)length, (unsigned long long)(words * 8));
    if (!s->balloon)
        return vms_fail(v, "no room for the bitmap");
    if (vms_stream_read(v, s->balloon, (size_t)length) < 0 || vms_stream_finish(v) < 0)
        return -1;
    for (uint64_t w = 0; w < words; w++)
        for (uint64_t bits = s->balloon[w]; bits; bits &= bits - 1) {
            uint64_t page = w * 64 + (uint64_t)__builtin_ctzll(bits);
            const struct mem_range *m =
                page < pages ? memmap_find(&d->map, page * VMS_PAGE_SIZE) : NULL;
            if (!m || m->kind != MEM_RAM || (page + 1) * VMS_PAGE_SIZE > m->base + m->size)
                return vms_fail(v, "page %#llx is not RAM the guest could give back",
                                (unsigned long long)(page * VMS_PAGE_SIZE));
            s->balloon_set++;
        }
    return 0;
}

/* The PV sections agree: a bitmap exactly when 'pv' says there is one,
 * naming as many pages as it counts, and room for the commit. */
static int check_pv(struct vms *v, struct domain *d, const struct vms_scratch *s)
{
    bool has_map = s->seen[VMS_SEC_PV_BALLOON] != 0;
    v->id = VMS_SEC_PV;
    v->instance = 0;
    if (!s->pv_present && has_map)
        return vms_fail(v, "the state has a 'pv-balloon' section but no 'pv'");
    if (!s->pv_present)
        return 0;
    if (s->pv_x.has_map != has_map)
        return vms_fail(v, "the state %s the 'pv-balloon' section this section announces",
                        has_map ? "has" : "lacks");
    if (has_map && s->balloon_set != s->pv.balloon_pages)
        return vms_fail(v, "%llu pages given back, and the 'pv-balloon' section names %llu",
                        (unsigned long long)s->pv.balloon_pages,
                        (unsigned long long)s->balloon_set);
    if (!d->pv && !s->pv_spare)
        return vms_fail(v, "no memory for the paravirtual interface's state");
    return 0;
}

/* Every section the domain needs is there, each instance once. */
static int check_complete(struct vms *v, struct domain *d, const struct vms_parts *parts,
                          const struct vms_scratch *s)
{
    for (uint32_t id = VMS_SEC_CPU; id < VMS_SEC_COUNT; id++) {
        unsigned count = instances(id, d, parts);
        uint32_t want = count >= 32 ? ~0u : (1u << count) - 1;
        if ((s->seen[id] & want) != want && id == VMS_SEC_CDROM) {
            v->id = VMS_SEC_END;
            return vms_fail(v, "the state is of a machine without a CD-ROM drive; this domain "
                               "has one");
        }
        if ((s->seen[id] & want) != want) {
            v->id = VMS_SEC_END;
            return vms_fail(v, "the state has no section '%s' for every instance",
                            vms_section_name(id));
        }
    }
    return 0;
}

/* The first pass over the whole state: header, DOMAIN first, then every
 * section until END. */
static int check_all(struct vms *v, struct domain *d, const struct vms_parts *parts,
                     const struct vms_source *src, struct vms_scratch *s, const struct models *m)
{
    bool streamed;
    uint64_t at, length;
    if (vms_load_begin(v, src) < 0 || vms_next_section(v, &streamed, &at, &length) < 0)
        return -1;
    if (v->id != VMS_SEC_DOMAIN)
        return vms_fail(v, "the state must start with its 'domain' section");
    domain_shape(v, d, parts);
    if (vms_section_done(v) < 0)
        return -1;
    for (;;) {
        if (vms_next_section(v, &streamed, &at, &length) < 0)
            return -1;
        if (v->id == VMS_SEC_END)
            break;
        if (v->id == VMS_SEC_CONFIG) {
            /* A save file's: checked, and left for the restore that made
             * the domain (vms_read_config). */
            struct vms_config cfg;
            if (check_instance(v, s, 1) < 0 || vms_config_load(v, length, &cfg, NULL, s->page) < 0)
                return -1;
        } else if (v->id == VMS_SEC_PV_BALLOON) {
            if (check_instance(v, s, 1) < 0 || check_balloon(v, d, s, length) < 0)
                return -1;
        } else if (v->id == VMS_SEC_PV) {
            if (check_instance(v, s, 1) < 0)
                return -1;
            pv_state_vms(v, &s->pv, &s->pv_x, &parts->pv);
            if (vms_section_done(v) < 0)
                return -1;
            s->pv_present = true;
        } else if (streamed) {
            if (check_instance(v, s, 1) < 0 || check_ram(v, d, s, length) < 0)
                return -1;
            s->ram_at = at;
            s->ram_len = length;
        } else if (v->id == VMS_SEC_DOMAIN) {
            return vms_fail(v, "appears twice");
        } else if (check_instance(v, s, instances(v->id, d, parts)) < 0) {
            return -1;
        } else {
            model_state(v, v->id, v->instance, m);
            if (vms_section_done(v) < 0)
                return -1;
        }
    }
    return check_complete(v, d, parts, s) < 0 ? -1 : check_pv(v, d, s);
}

/* ---- Loading: the commit --------------------------------------------------------- */

/*
 * RAM's second pass: the pages the state lists are read into guest memory
 * and every page between them is zeroed, since the state left it out for
 * being zero.  The stream was checked whole in the first pass.
 */
static int commit_ram(struct vms *v, struct domain *d, const struct vms_source *src,
                      const struct vms_scratch *s)
{
    char err[VMS_ERR_LEN] = "";
    uint64_t next = 0, at = s->ram_at, end = s->ram_at + s->ram_len;
    for (; at < end; at += 8 + VMS_PAGE_SIZE) {
        uint64_t gpa;
        if (src->read(src->ctx, at, &gpa, 8, err) < 0)
            return vms_fail(v, "reading guest RAM back failed: %s", err);
        /* Checked again: a source that changed since the first pass must
         * still not make hv write outside the domain's RAM. */
        if (gpa % VMS_PAGE_SIZE || gpa < next || gpa >= d->mem.size)
            return vms_fail(v, "the state changed while it was being loaded");
        if (src->read(src->ctx, at + 8, d->mem.host + gpa, VMS_PAGE_SIZE, err) < 0)
            return vms_fail(v, "reading guest RAM back failed: %s", err);
        memset(d->mem.host + next, 0, gpa - next);
        next = gpa + VMS_PAGE_SIZE;
    }
    memset(d->mem.host + next, 0, d->mem.size - next);
    return 0;
}

/* The scratch models replace the live ones. */
static void commit_models(struct domain *d, const struct vms_parts *parts,
                          const struct vms_scratch *s)
{
    d->pic = s->pic;
    d->pit = s->pit;
    d->ioapic = s->ioapic;
    d->com1 = s->com1;
    d->fwcfg = s->fwcfg;
    d->port92 = s->port92;
    d->dbg_exit = s->dbg_exit;
    d->acpi = s->acpi;
    for (unsigned i = 0; i < d->nr_vcpus; i++) {
        d->vcpu[i]->lapic = s->lapic[i];
        parts->cpu[i] = s->cpu[i];
    }
    for (unsigned i = 0; i < parts->nr_virtio; i++)
        *parts->virtio[i] = s->virtio[i];
    if (d->cd)
        *d->cd = s->cd;
}

/*
 * The PV state replaces the domain's: the loaded values, or none when the
 * state's guest had not used the interface (the domain's struct is kept
 * then, zeroed: nothing bound, nothing registered, nothing given back).
 * The counters the log prints stay as they were (pv_state.c).  The
 * balloon's bitmap goes into the domain's own, or the domain keeps the
 * room the state was read into.  The second-level tables were brought in
 * line before (pv_restore_balloon), the rest follows (pv_restore_finish).
 */
static void commit_pv(struct domain *d, struct vms_scratch *s)
{
    if (!s->pv_present && !d->pv)
        return;
    if (!d->pv) {
        d->pv = s->pv_spare;
        s->pv_spare = NULL;
    }
    struct pv_domain *pv = d->pv, was = *pv;
    uint64_t *map = pv->ballooned, bytes = pv_balloon_words(d->mem.size) * 8;
    *pv = s->pv;
    pv->events = was.events;
    pv->injections = was.injections;
    pv->con.bytes = was.con.bytes;
    pv->con.batches = was.con.batches;
    pv->blk.requests = was.blk.requests;
    pv->blk.bytes = was.blk.bytes;
    pv->blk.refused = was.blk.refused;
    pv->blk.logged = was.blk.logged;
    if (s->pv_present && s->pv_x.has_map && map) {
        memcpy(map, s->balloon, (size_t)bytes);
    } else if (s->pv_present && s->pv_x.has_map) {
        map = s->balloon;
        s->balloon = NULL;
    } else if (map) {
        memset(map, 0, (size_t)bytes);
    }
    pv->ballooned = map;
    d->balloon_kib = pv->balloon_pages * 4;
    if (s->pv_present) {
        d->balloon_target_kib = s->pv_x.target_kib;
        d->vcpu_avail = s->pv_x.vcpu_avail;
    }
}

int vms_load_check(struct vms *v, struct domain *d, const struct vms_parts *parts,
                   const struct vms_source *src, struct vms_scratch *scratch)
{
    struct models m;
    scratch_models(&m, scratch, d, parts);
    return check_all(v, d, parts, src, scratch, &m);
}

int vms_load_commit(struct vms *v, struct domain *d, const struct vms_parts *parts,
                    const struct vms_source *src, struct vms_scratch *scratch)
{
    v->id = VMS_SEC_RAM;
    v->instance = 0;
    if (commit_ram(v, d, src, scratch) < 0)
        return -1;
    commit_models(d, parts, scratch);
    commit_pv(d, scratch);
    return 0;
}

int vms_load_domain(struct vms *v, struct domain *d, const struct vms_parts *parts,
                    const struct vms_source *src, struct vms_scratch *scratch)
{
    if (vms_load_check(v, d, parts, src, scratch) < 0)
        return -1;
    return vms_load_commit(v, d, parts, src, scratch);
}
