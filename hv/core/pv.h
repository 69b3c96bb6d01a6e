/*
 * pv.h - hv's side of the paravirtual ABI (include/hvkit/pv.h): the
 * hypercall page, event channels, grants, the PV console and the PV clock.
 *
 * A domain's PV state is one struct pv_domain, made on the guest's first
 * use of the interface (a domain that never uses it costs one pointer) and
 * given back when the domain is torn down.  The files:
 *   pv_msr.c      the MSRs: hypercall page and PV clock registration
 *   pv_hcpage.c   the hypercall page's layout (the vendor's instruction
 *                 comes from the backend: struct backend.hypercall_insn)
 *   pv_calls.c    the hypercalls of pv.h, rows of hypercall.c's table
 *   pv_evtchn.c   ports, binding, signalling by interrupt injection
 *   pv_grant.c    the grant table: the one check every back-end passes
 *   pv_console.c  the console ring's consumer
 *   pv_blk.c      the PV block back-end: requests over grants
 *   pv_balloon.c  the balloon: pages given back, unmapped, accounted
 *   pv_vcpu.c     vCPU hot-plug: the available vCPUs, an AP going down
 *   pv_clock.c    the pvclock structure and its TSC scale
 *   pv_state.c    the vmstate sections 'pv' and 'pv-balloon' (docs/vmstate.md)
 *   pv_restore.c  what a load does beyond the fields: the second-level
 *                 tables of the balloon, the hypercall page, the clocks
 * The pure parts (page layout, grant check, ring consumer, clock scale)
 * are compiled hosted too (tests/unit/test_hv_pv.c, and pv_state.c in
 * tests/unit/test_hv_vmstate.c).
 */
#ifndef HV_CORE_PV_H
#define HV_CORE_PV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvkit/pv.h"

#include "dev/uart16550.h"
#include "domain.h"
#include "vdev.h"
#include "gmem.h"
#include "vcpu.h"

/* Who holds a bound port: nobody (a loopback) or one of hv's back-ends. */
enum pv_port_owner {
    PV_OWNER_NONE,
    PV_OWNER_CONSOLE,
    PV_OWNER_BLK,
};

struct pv_port {
    bool bound;
    uint8_t vector;
    enum pv_port_owner owner;
};

/* The grant table as the guest registered it (HC_GRANT_SETUP). */
struct pv_grants {
    uint64_t gpa;
    uint32_t nr; /* 0: no table, every grant is refused */
};

/* The PV console back-end (pv_console.c). */
struct pv_console {
    bool active;
    /* A ring found broken is not read again: one log line, then errors. */
    bool broken;
    uint32_t gref;
    unsigned port;
    /* The output line being collected, as the UART collects its own. */
    char line[UART_LINE_MAX];
    size_t len;
    /* Bytes printed and notifications taken, for the log at the end. */
    uint64_t bytes, batches;
};

/* The PV block back-end (pv_blk.c): one ring on one disk. */
struct img;
struct pv_blk {
    bool active;
    bool broken;
    bool readonly;
    uint32_t gref;
    unsigned port;
    struct img *img;
    uint64_t sectors;
    /* hv's own ring indices: never read back from the guest's page. */
    uint32_t req_cons, rsp_prod;
    /* Requests, bytes moved, requests refused; which kinds of refusal
     * were logged (one line each). */
    uint64_t requests, bytes, refused;
    unsigned logged;
};

struct pv_domain {
    /* The MSRs as last written (pv.h: bit 0 = enable). */
    uint64_t hcpage_msr;
    uint64_t pvclock_msr[DOMAIN_MAX_VCPUS];
    /* Added to hv's clock (nanoseconds since hv started the guests'
     * clocks) for the PV clock's system time: 0 until a load, which sets
     * it so that the guest's clock goes on from the value it had at the
     * save instead of jumping to this hv's clock (pv_state.c says why). */
    uint64_t clock_offset;
    /* The shared page (HC_PV_SHARED); valid when shared_set. */
    uint64_t shared_gpa;
    bool shared_set;
    struct pv_port ports[HVKIT_EVTCHN_PORTS];
    struct pv_grants grants;
    struct pv_console con;
    struct pv_blk blk;
    /* The balloon: one bit per page of the RAM block, set while the
     * guest has given the page back (made on first use), and the port to
     * signal when the target changes (0: none). */
    uint64_t *ballooned;
    uint64_t balloon_pages;
    unsigned balloon_port;
    /* The guest's balloon driver has asked for its target: the host may
     * then move it (QEMU's "balloon device activated"). */
    bool balloon_driver;
    /* vCPU hot-plug (pv_vcpu.c): the guest follows the host's count
     * (it called HC_VCPU_AVAIL), and the port to signal when the count
     * changes (0: none; the guest then asks in its own time). */
    bool vcpu_driver;
    unsigned vcpu_port;
    /* Events signalled and vectors injected (masked or already pending
     * events inject nothing). */
    uint64_t events, injections;
};

/* The domain's PV state, made on first use; NULL when hv has no memory
 * for it (the caller answers HC_ENOMEM or #GP). */
struct pv_domain *pv_get(struct domain *d);
struct vms;
/* Give it back (teardown.c). */
void pv_teardown(struct domain *d);
/* A guest that ends passes on its console's unfinished line and hv logs
 * what the PV devices did. */
void pv_domain_end(struct domain *d);

/* ---- MSRs (pv_msr.c), for the dispatcher's RDMSR/WRMSR ---- */
bool pv_msr_owned(uint32_t index);
bool pv_msr_read(struct vcpu *v, uint32_t index, uint64_t *value);
bool pv_msr_write(struct vcpu *v, uint32_t index, uint64_t value);
/* The guest's TSC moved (WRMSR to the TSC or IA32_TSC_ADJUST): its
 * registered PV clock is rewritten. */
void pv_tsc_changed(struct vcpu *v);

/* ---- The hypercall page (pv_hcpage.c) ---- */
/* Fill `page` (4096 bytes) with one HVKIT_HCPAGE_SLOT-byte stub per call
 * number: mov eax, nr; the 3-byte instruction `insn`; ret; int3 padding. */
void pv_hcpage_fill(uint8_t *page, const uint8_t insn[3]);

/* ---- Hypercalls (pv_calls.c): hypercall.c's table rows ---- */
long pv_hc_shared(struct vcpu *v, const struct gprs *r);
long pv_hc_evtchn_bind(struct vcpu *v, const struct gprs *r);
long pv_hc_evtchn_close(struct vcpu *v, const struct gprs *r);
long pv_hc_evtchn_send(struct vcpu *v, const struct gprs *r);
long pv_hc_grant_setup(struct vcpu *v, const struct gprs *r);
long pv_hc_console_setup(struct vcpu *v, const struct gprs *r);
long pv_hc_blk_setup(struct vcpu *v, const struct gprs *r);
long pv_hc_balloon_target(struct vcpu *v, const struct gprs *r);
long pv_hc_balloon_release(struct vcpu *v, const struct gprs *r);
long pv_hc_balloon_reclaim(struct vcpu *v, const struct gprs *r);
long pv_hc_vcpu_avail(struct vcpu *v, const struct gprs *r);
long pv_hc_vcpu_down(struct vcpu *v, const struct gprs *r);

/* ---- vCPU hot-plug (pv_vcpu.c) ---- */
/* The host lets the guest run vCPUs 0..count-1 and tells it.  0; -1 for
 * a count outside 1..the vCPUs the domain was built with; -2 when the
 * guest has no hot-plug driver (never called HC_VCPU_AVAIL) and the count
 * is not the one it has.  Nothing changes on an error. */
int pv_vcpu_set(struct domain *d, unsigned count);

/* ---- The balloon (pv_balloon.c) ---- */
/* The host asks the guest to have `kib` KiB (the control protocol's
 * setter): the target changes and the guest's balloon port, if it gave
 * one, is signalled. */
void pv_balloon_set_target(struct domain *d, uint64_t kib);
/* The target in KiB: what the host asked, else hv's balloon= option, else
 * the whole RAM. */
uint64_t pv_balloon_target_kib(const struct domain *d);
/* True when the guest has given the page holding gpa back (violation.c
 * names it so when the guest touches it). */
static inline bool pv_page_ballooned(const struct domain *d, uint64_t gpa)
{
    const struct pv_domain *pv = d->pv;
    uint64_t page = gpa >> 12;
    return pv && pv->ballooned && gpa < d->mem.size &&
           ((pv->ballooned[page / 64] >> (page % 64)) & 1);
}

/* ---- Event channels (pv_evtchn.c) ---- */
/* Bind, close: HC_OK or an HC_* error (abi.h). */
long pv_evtchn_bind(struct pv_domain *pv, uint64_t port, uint64_t vector);
long pv_evtchn_close(struct pv_domain *pv, uint64_t port);
/* hv signals `port` of v's domain: its pending bit, and its vector at v's
 * local APIC when the bit was clear and the port is not masked.  HC_OK or
 * an error (unbound port, no shared page). */
long pv_evtchn_signal(struct vcpu *v, unsigned port);

/* ---- Grants (pv_grant.c) ---- */
/* Host pointer to the page grant `ref` gives (HC_OK and *page set), or an
 * error: HC_EINVAL for a reference beyond the table, a revoked grant or a
 * write through a read-only one, HC_EFAULT for a table or page outside
 * RAM (or, for a write, a page hv may not store into). */
long pv_grant_map(const struct pv_grants *g, const struct guest_mem *m, uint64_t ref, bool write,
                  uint8_t **page);
/* HC_OK when [gpa, gpa + nr entries) can be the grant table. */
long pv_grant_check_table(const struct guest_mem *m, uint64_t gpa, uint64_t nr);

/* ---- The console ring (pv_console.c) ---- */
/* Consume what the ring holds into c's line buffer, passing each whole
 * line to out(ctx, line, len).  Returns the bytes consumed, or HC_EINVAL
 * for broken indices (the ring is left as it was). */
typedef void (*pv_line_fn)(void *ctx, const char *line, size_t len);
long pv_console_consume(struct hvkit_console_ring *ring, struct pv_console *c, pv_line_fn out,
                        void *ctx);
/* Pass on an unfinished line. */
void pv_console_flush(struct pv_console *c, pv_line_fn out, void *ctx);

/* ---- PV block (pv_blk.c) ---- */
/* Carry out the requests the ring holds on b's image and put the
 * responses in; returns how many, or HC_EINVAL for a broken producer
 * index (nothing read). */
long pv_blk_process(struct pv_blk *b, struct hvkit_blk_ring *ring, const struct pv_grants *g,
                    const struct guest_mem *m);

/* ---- The vmstate (pv_state.c, pv_restore.c; docs/vmstate.md) ---- */
/* What the PV sections are saved against and checked against on a load,
 * besides the PV state itself: the domain's shape, its disks (the PV block
 * ring names one by number) and a clock reading. */
struct img;
struct pv_env {
    unsigned nr_vcpus;
    const struct guest_mem *mem;
    /* npt=lazy, which cannot keep a page unmapped (pv_balloon.c). */
    bool lazy;
    /* The domain's disks by number (vdev_disk; NULL for a number no disk
     * has), their read-only flag and size in 512-byte sectors. */
    struct img *disk[VDEV_MAX];
    bool disk_ro[VDEV_MAX];
    uint64_t disk_sectors[VDEV_MAX];
    unsigned nr_disks;
    /* Saving: the guest's PV clock now, in nanoseconds (pv_clock_guest_ns).
     * Loading: hv's clock now, the same count without the domain's offset
     * (pv_clock_host_ns). */
    uint64_t clock_ns;
};
/* What the 'pv' section holds besides struct pv_domain: the balloon
 * target the host asked for (struct domain's balloon_target_kib),
 * whether a 'pv-balloon' section follows (the guest has a bitmap), and
 * the available vCPUs. */
struct pv_extra {
    uint64_t target_kib;
    bool has_map;
    /* The vCPUs the host lets the guest run (struct domain's vcpu_avail,
     * moved only for a guest with the hot-plug driver). */
    uint32_t vcpu_avail;
};
/* The 'pv' section's serialiser: the PV state *pv and *x, checked on a
 * load against e; on a load *pv must start zeroed. */
void pv_state_vms(struct vms *v, struct pv_domain *pv, struct pv_extra *x, const struct pv_env *e);
/* The 'pv-balloon' section's length for a domain of `ram` bytes: one bit
 * per page, in 64-bit words. */
uint64_t pv_balloon_words(uint64_t ram);
/* hv's clock now in nanoseconds, the PV clock's time base, and the guest's
 * PV clock now (the largest value any of its vCPUs can read). */
uint64_t pv_clock_host_ns(void);
uint64_t pv_clock_guest_ns(struct domain *d);
/* Before a loaded state's PV part is committed: map and unmap pages in the
 * second-level tables so that exactly those `map` names (NULL: none) are
 * given back.  -1 when a table page cannot be had (the domain must then
 * end: part of it was changed). */
int pv_restore_balloon(struct domain *d, const uint64_t *map);
/* After the commit, with every vCPU's state in place: the hypercall page
 * filled again with this CPU's instruction (a state saved under AMD may
 * load under Intel), each registered PV clock published again, the CPU's
 * cached translations dropped. */
void pv_restore_finish(struct domain *d);

/* ---- The clock (pv_clock.c) ---- */
/* The multiplier and shift that turn TSC ticks at tsc_hz into nanoseconds
 * (include/hvkit/pv.h "The PV clock"). */
void pv_clock_scale(uint64_t tsc_hz, uint32_t *mul, int8_t *shift);
/* Nanoseconds for `ticks` TSC ticks with that scale (the guest's sum). */
uint64_t pv_clock_apply(uint64_t ticks, uint32_t mul, int8_t shift);
/* Rewrite *c as a seqlock writer: version odd, the fields, version even. */
void pv_clock_publish(volatile struct hvkit_pvclock *c, uint64_t tsc, uint64_t ns, uint32_t mul,
                      int8_t shift);

#endif
