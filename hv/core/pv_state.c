/*
 * pv_state.c - the paravirtual interface's part of a vmstate (pv.h,
 * docs/vmstate.md sections 'pv' and 'pv-balloon'): what hv keeps about a
 * guest that used include/hvkit/pv.h, field by field, once for both
 * directions (core/vms.h).
 *
 * What is saved: the two MSRs as the guest wrote them, the shared page's
 * address, every port's binding, the grant table's place, the console's
 * and the block ring's set-up and hv's own indices, the balloon's count,
 * port and target, the vCPU hot-plug driver's port with the available
 * vCPUs, and the guest's PV clock reading.  What is not: the
 * counters the log prints at the end (events, bytes, requests: they say
 * what this hv did, like the disks' I/O counters, and a load keeps them),
 * and anything in guest RAM (the shared page's bits, the grant entries,
 * the rings' contents, the clock structure), which travels with RAM.  The
 * bitmap of pages given back is its own, streamed section (it can be
 * 96 KiB), checked in vms_domain.c.
 *
 * A load checks every value as the hypercalls would have checked it when
 * the guest made it (pv_calls.c, pv_msr.c): a state that names a page
 * outside this domain's RAM, a port beyond the table, or a disk this
 * domain does not have is refused before anything changes.  So a PV
 * guest's state loaded into a domain without the PV block ring's disk is
 * refused by name, rather than run with a ring whose disk is gone.
 *
 * Pure: compiled hosted for tests/unit/test_hv_vmstate.c.
 */
#include "klib.h"

#include "dev/uart16550.h"
#include "pv.h"
#include "vms.h"

/* The MSRs' reserved bits below the address (pv_msr.c): a 4 KiB page,
 * and a clock aligned to its 32 bytes. */
#define HCPAGE_LOW  0xfffull
#define PVCLOCK_LOW 0x1full
/* The lowest vector a port may carry (pv_evtchn.c: the exceptions'
 * vectors are not interrupts, SDM vol 3A 6.2 "Exception and Interrupt
 * Vectors"). */
#define FIRST_VECTOR 32u
/* "No disk" in the block ring's disk number. */
#define NO_DISK 0xffffffffu

uint64_t pv_balloon_words(uint64_t ram)
{
    /* One bit a page, rounded up to whole words, as pv_balloon.c makes it. */
    return (ram / 4096 + 63) / 64;
}

/* An MSR value: no reserved bit set, and when enabled its `len` bytes in
 * RAM (pv_msr.c refuses anything else with #GP, so a guest never had it). */
static void msr_check(struct vms *v, uint64_t value, uint64_t low, uint64_t len,
                      const struct pv_env *e, const char *what)
{
    bool ok = !(value & low & ~(uint64_t)HVKIT_MSR_ENABLE);
    if (ok && (value & HVKIT_MSR_ENABLE))
        ok = gmem_range_ok(e->mem, value & ~low, len);
    vms_check(v, ok, what);
}

/* The MSRs and the clock.  The clock is saved as the time the guest's PV
 * clock showed at the save, and loaded as an offset to this hv's clock:
 * the clock then goes on from that value, as the guest's TSC goes on from
 * the value it had (cpustate.c).  hv's own clock cannot be used as it is:
 * it counts from this hv's start, so a state loaded into a newer run (or
 * back into this one, later) would see its time jump, backwards if this
 * hv has run for less time than the saved guest had.  The time the state
 * lay on the disk is not counted, as KVM's clock does not count the time
 * a QEMU guest was stopped or saved (QEMU saves and restores it with
 * KVM_GET_CLOCK/KVM_SET_CLOCK): a guest that wants the date asks the CMOS
 * clock, and a monotonic clock must never go back. */
static void msrs_state(struct vms *v, struct pv_domain *pv, const struct pv_env *e)
{
    uint32_t vcpus = e->nr_vcpus;
    vms_u32(v, &vcpus);
    /* The DOMAIN section has checked the number of vCPUs already; this is
     * the layout's own guard (a count read below must not overrun). */
    if (!vms_check(v, vcpus == e->nr_vcpus, "the number of vCPUs"))
        return;
    vms_u64(v, &pv->hcpage_msr);
    msr_check(v, pv->hcpage_msr, HCPAGE_LOW, 4096, e, "the hypercall page MSR");
    for (unsigned i = 0; i < vcpus; i++) {
        vms_u64(v, &pv->pvclock_msr[i]);
        msr_check(v, pv->pvclock_msr[i], PVCLOCK_LOW, sizeof(struct hvkit_pvclock), e,
                  "a PV clock MSR");
    }
    /* Saving: the guest's reading.  Loading: the offset that gives it
     * back now (unsigned arithmetic: the offset may be "negative"). */
    uint64_t guest_ns = e->clock_ns;
    vms_u64(v, &guest_ns);
    if (v->loading)
        pv->clock_offset = guest_ns - e->clock_ns;
}

/* The shared page and the ports (HC_PV_SHARED, HC_EVTCHN_BIND). */
static void ports_state(struct vms *v, struct pv_domain *pv, const struct pv_env *e)
{
    vms_bool(v, &pv->shared_set);
    vms_u64(v, &pv->shared_gpa);
    vms_check(v,
              pv->shared_set
                  ? !(pv->shared_gpa & 0xfff) &&
                        gmem_range_ok(e->mem, pv->shared_gpa, sizeof(struct hvkit_shared))
                  : pv->shared_gpa == 0,
              "the shared page's address");
    for (unsigned p = 0; p < HVKIT_EVTCHN_PORTS; p++) {
        struct pv_port *port = &pv->ports[p];
        uint8_t owner = (uint8_t)port->owner;
        vms_bool(v, &port->bound);
        vms_u8(v, &port->vector);
        vms_u8(v, &owner);
        /* Port 0 is never bound; a bound port has an interrupt vector and
         * one of the owners; an unbound one is all zeros (close clears
         * it). */
        bool ok = port->bound ? p != 0 && port->vector >= FIRST_VECTOR && owner <= PV_OWNER_BLK
                              : port->vector == 0 && owner == PV_OWNER_NONE;
        if (vms_check(v, ok, "an event channel port"))
            port->owner = (enum pv_port_owner)owner;
    }
}

/* The grant table's place (HC_GRANT_SETUP): none, or one it accepted. */
static void grants_state(struct vms *v, struct pv_domain *pv, const struct pv_env *e)
{
    vms_u64(v, &pv->grants.gpa);
    vms_u32(v, &pv->grants.nr);
    vms_check(v,
              pv->grants.nr ? pv_grant_check_table(e->mem, pv->grants.gpa, pv->grants.nr) == HC_OK
                            : pv->grants.gpa == 0,
              "the grant table");
}

/* A device's port: in the table, and held by that device while it is
 * active (HC_CONSOLE_SETUP, HC_BLK_SETUP; a closed port stops it). */
static bool device_port_ok(const struct pv_domain *pv, bool active, unsigned port,
                           enum pv_port_owner owner)
{
    if (port >= HVKIT_EVTCHN_PORTS)
        return false;
    return !active || (pv->ports[port].bound && pv->ports[port].owner == owner);
}

/* The PV console: its set-up and the output line collected so far (as
 * the UART's section keeps COM1's), so that a line the guest had begun
 * before the save ends as one line after the load. */
static void console_state(struct vms *v, struct pv_domain *pv)
{
    struct pv_console *c = &pv->con;
    uint32_t port = c->port, len = (uint32_t)c->len;
    vms_bool(v, &c->active);
    vms_bool(v, &c->broken);
    vms_u32(v, &c->gref);
    vms_u32(v, &port);
    vms_u32(v, &len);
    vms_bytes(v, c->line, sizeof(c->line));
    /* A full line is passed on at once (pv_console.c), so fewer bytes
     * than the buffer holds are ever waiting. */
    if (vms_check(v, device_port_ok(pv, c->active, port, PV_OWNER_CONSOLE), "the console's port") &&
        vms_check(v, len < sizeof(c->line), "the console's line length")) {
        c->port = port;
        c->len = len;
    }
}

/* The disk number of the block ring's image among the domain's disks;
 * NO_DISK for an inactive ring. */
static uint32_t blk_disk(const struct pv_blk *b, const struct pv_env *e)
{
    for (unsigned i = 0; b->active && i < e->nr_disks; i++)
        if (e->disk[i] == b->img)
            return i;
    return NO_DISK;
}

/* The PV block ring: its set-up, the disk by number and size, and hv's
 * own indices.  A request is carried out within the exit that notified
 * it, so none is ever in flight: hv has answered every request it took,
 * and the two indices are equal. */
static void blk_state(struct vms *v, struct pv_domain *pv, const struct pv_env *e)
{
    struct pv_blk *b = &pv->blk;
    uint32_t port = b->port, disk = v->loading ? 0 : blk_disk(b, e);
    /* An active ring whose image is not one of the domain's disks any
     * more cannot be named in a state: said, rather than saved wrongly. */
    if (!v->loading && b->active && disk == NO_DISK)
        vms_fail(v, "the PV block ring's disk is not one of the domain's disks");
    vms_bool(v, &b->active);
    vms_bool(v, &b->broken);
    vms_bool(v, &b->readonly);
    vms_u32(v, &b->gref);
    vms_u32(v, &port);
    vms_u32(v, &disk);
    vms_u64(v, &b->sectors);
    vms_u32(v, &b->req_cons);
    vms_u32(v, &b->rsp_prod);
    if (!v->loading || v->failed)
        return;
    if (vms_check(v, device_port_ok(pv, b->active, port, PV_OWNER_BLK), "the block ring's port"))
        b->port = port;
    vms_check(v, b->req_cons == b->rsp_prod, "the block ring's indices");
    if (!b->active) {
        /* Nothing of an inactive ring is used until a new set-up. */
        vms_check(v, disk == NO_DISK, "the block ring's disk");
        b->img = NULL;
        return;
    }
    if (disk >= e->nr_disks || !e->disk[disk]) {
        vms_fail(v, "the guest's PV block ring is on disk %u, which this domain does not have",
                 disk);
        return;
    }
    /* The same disk, as the guest knows it: its size and whether it may
     * write.  Another size would move the guest's sectors. */
    if (b->sectors != e->disk_sectors[disk] || b->readonly != e->disk_ro[disk]) {
        vms_fail(v,
                 "the guest's PV block ring is on a %s disk %u of %llu sectors; this domain's "
                 "disk %u is %s with %llu",
                 b->readonly ? "read-only" : "writable", disk, (unsigned long long)b->sectors, disk,
                 e->disk_ro[disk] ? "read-only" : "writable",
                 (unsigned long long)e->disk_sectors[disk]);
        return;
    }
    b->img = e->disk[disk];
}

/* The balloon: pages given back (their bitmap is 'pv-balloon'), the port
 * to signal, the driver's presence and the host's target. */
static void balloon_state(struct vms *v, struct pv_domain *pv, struct pv_extra *x,
                          const struct pv_env *e)
{
    uint32_t port = pv->balloon_port;
    vms_u64(v, &pv->balloon_pages);
    vms_u32(v, &port);
    vms_bool(v, &pv->balloon_driver);
    vms_bool(v, &x->has_map);
    vms_u64(v, &x->target_kib);
    if (!v->loading || v->failed)
        return;
    /* The port was bound when the guest named it; it may have been
     * closed since (then a new target signals nothing), so only its
     * range is checked. */
    if (vms_check(v, port < HVKIT_EVTCHN_PORTS, "the balloon's port"))
        pv->balloon_port = port;
    /* Without a bitmap no page was given back; the count must be one the
     * RAM can hold (vms_domain.c compares it with the bitmap). */
    vms_check(v, x->has_map ? pv->balloon_pages <= e->mem->size / 4096 : pv->balloon_pages == 0,
              "the number of pages given back");
    /* npt=lazy maps any page on its first touch (pv_balloon.c refuses
     * the balloon there), so it could not keep these unmapped. */
    if (x->has_map && e->lazy && pv->balloon_pages)
        vms_fail(v, "the guest gave pages back, which npt=lazy cannot keep unmapped");
}

/* vCPU hot-plug (pv_vcpu.c): the guest's driver, its port, and the
 * vCPUs the host lets it run -- vCPU 0 always, none the domain lacks.
 * Which vCPUs are online is each vCPU's own state (the 'cpu' section's
 * multiprocessor state). */
static void vcpus_state(struct vms *v, struct pv_domain *pv, struct pv_extra *x,
                        const struct pv_env *e)
{
    uint32_t port = pv->vcpu_port;
    vms_bool(v, &pv->vcpu_driver);
    vms_u32(v, &port);
    vms_u32(v, &x->vcpu_avail);
    if (!v->loading || v->failed)
        return;
    /* As the balloon's port: bound when named, maybe closed since. */
    if (vms_check(v, port < HVKIT_EVTCHN_PORTS, "the vCPU hot-plug port"))
        pv->vcpu_port = port;
    uint32_t all = e->nr_vcpus >= 32 ? UINT32_MAX : (1u << e->nr_vcpus) - 1;
    vms_check(v, (x->vcpu_avail & 1) && !(x->vcpu_avail & ~all), "the available vCPUs");
}

void pv_state_vms(struct vms *v, struct pv_domain *pv, struct pv_extra *x, const struct pv_env *e)
{
    msrs_state(v, pv, e);
    ports_state(v, pv, e);
    grants_state(v, pv, e);
    console_state(v, pv);
    blk_state(v, pv, e);
    balloon_state(v, pv, x, e);
    vcpus_state(v, pv, x, e);
}
