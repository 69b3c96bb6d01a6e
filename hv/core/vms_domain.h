/*
 * vms_domain.h: a whole domain as one hvkit vmstate (docs/vmstate.md): its
 * vCPUs, device models and guest RAM, saved in one pass and loaded in two.
 *
 * Loading never leaves a domain half restored because of the state: the
 * first pass reads every section into scratch copies of the models
 * (struct vms_scratch), checking framing, versions, checksums and values,
 * and stops at the first problem with nothing in the domain changed.  Only
 * a state that passed is committed: the scratch models are copied over
 * the live ones and guest RAM is read a second time, page by page, into
 * the domain's memory.
 *
 * The vCPUs' architectural state comes in and goes out as struct
 * cpu_state (cpustate.h): the caller gets it from the backend before a
 * save and hands it to the backend after a load, so this file, like the
 * models', is compiled hosted for the unit tests too.  The caller also
 * names the domain's virtio transports (vdev.c knows them) and does what
 * follows a load outside the models: driving interrupt lines, moving the
 * APIC page (core/vmsave.c in hv).
 */
#ifndef HV_CORE_VMS_DOMAIN_H
#define HV_CORE_VMS_DOMAIN_H

#include <stdint.h>

#include "cpustate.h"
#include "dev/ide_cd.h"
#include "dev/virtio/virtio_mmio.h"
#include "domain.h"
#include "pv.h"
#include "vdev.h"
#include "vms.h"
#include "vms_config.h"

/* What a save or a load works on besides struct domain. */
struct vms_parts {
    /* One per vCPU of the domain (d->nr_vcpus). */
    struct cpu_state *cpu;
    /* The domain's virtio transports, in window order. */
    struct virtio_mmio *virtio[VDEV_MAX];
    unsigned nr_virtio;
    /* Optional (NULL: write every page): the sink already holds the page
     * at gpa, unchanged, from the previous save, at the same place (an
     * incremental save into the same file, vmsave.c); such pages are
     * counted in the checksum but not written again. */
    bool (*page_clean)(void *ctx, uint64_t gpa);
    void *clean_ctx;
    /* Optional (NULL: none): a CONFIG section to write, second. */
    const struct vms_config *config;
    /* What the PV sections are saved and checked against (pv.h); the
     * caller sets clock_ns before each save and each load. */
    struct pv_env pv;
};

/* The scratch copies a load fills before anything is committed; large
 * (tens of KiB), so the caller allocates it. */
struct vms_scratch {
    struct pic8259 pic;
    struct pit8254 pit;
    struct ioapic ioapic;
    struct uart16550 com1;
    struct fwcfg fwcfg;
    struct port92 port92;
    struct debug_exit dbg_exit;
    struct acpi_pm acpi;
    struct ide_cd cd;
    struct lapic lapic[DOMAIN_MAX_VCPUS];
    struct cpu_state cpu[DOMAIN_MAX_VCPUS];
    struct virtio_mmio virtio[VDEV_MAX];
    /* Which sections were found, one bit per instance. */
    uint32_t seen[VMS_SEC_COUNT];
    /* Where the RAM section's payload lies in the stream, and its length. */
    uint64_t ram_at, ram_len;
    /* The PV sections: whether the state has 'pv', its values, and the
     * 'pv-balloon' bitmap with the number of pages it names. */
    bool pv_present;
    struct pv_domain pv;
    struct pv_extra pv_x;
    uint64_t balloon_set;
    /* Set by the caller before a load, zeroed, freed by the caller after
     * it unless the commit took them (then NULL): room for the bitmap
     * (pv_balloon_words(RAM) words, the section is read into it; a
     * domain that has no bitmap yet keeps it) and a struct pv_domain for
     * a domain that has never used the PV interface.  hv's allocator is
     * not called while loading, so the commit cannot fail for memory. */
    uint64_t *balloon;
    struct pv_domain *pv_spare;
    /* A page being read. */
    uint8_t page[VMS_PAGE_SIZE];
};

/* Write domain d's state to sink.  Returns the state's length in bytes,
 * or -1 with the reason in v->err.  Nothing in the domain changes. */
int64_t vms_save_domain(struct vms *v, struct domain *d, const struct vms_parts *parts,
                        const struct vms_sink *sink);

/* Load the state src holds into domain d: checked whole into `scratch`
 * first, then committed (see above); parts->cpu gets the vCPUs' state.
 * Returns 0, or -1 with the reason in v->err and the domain unchanged
 * (unless reading the source fails during the commit, see the docs). */
int vms_load_domain(struct vms *v, struct domain *d, const struct vms_parts *parts,
                    const struct vms_source *src, struct vms_scratch *scratch);

/* The two halves of vms_load_domain(), for a caller with work between
 * them (hv's loadvm reverts the disk there): the check, which changes
 * nothing in the domain, and the commit of a state that passed it. */
int vms_load_check(struct vms *v, struct domain *d, const struct vms_parts *parts,
                   const struct vms_source *src, struct vms_scratch *scratch);
int vms_load_commit(struct vms *v, struct domain *d, const struct vms_parts *parts,
                    const struct vms_source *src, struct vms_scratch *scratch);

#endif
