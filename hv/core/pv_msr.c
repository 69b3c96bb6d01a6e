/*
 * pv_msr.c - hv's two MSRs (include/hvkit/pv.h "MSRs"): where the guest
 * wants its hypercall page and its PV clock.
 *
 * Registration is an MSR write, as Xen's, KVM's and Hyper-V's are, rather
 * than a hypercall: the hypercall page must exist before the guest can
 * make a call through it, and WRMSR is the same instruction on both
 * vendors.  Both MSRs exit on both backends without any setup: they lie
 * outside the ranges the MSR permission map and the MSR bitmaps cover,
 * and MSRs outside those ranges always exit (APM vol 2 15.11 "MSR
 * Intercepts"; SDM vol 3C 25.6.9 "MSR-Bitmap Address").
 */
#include "klib.h"

#include "cpu.h"
#include "hv.h"
#include "log.h"
#include "pv.h"

/* Reserved bits below each address: the page is 4 KiB aligned, the clock
 * 32 bytes (its size, so that it never crosses a page). */
#define HCPAGE_ADDR_MASK  (~0xfffull)
#define PVCLOCK_ADDR_MASK (~0x1full)

bool pv_msr_owned(uint32_t index)
{
    return index == HVKIT_MSR_HYPERCALL_PAGE || index == HVKIT_MSR_PVCLOCK;
}

bool pv_msr_read(struct vcpu *v, uint32_t index, uint64_t *value)
{
    struct pv_domain *pv = v->dom->pv;
    /* Never written: 0, disabled, without making the PV state. */
    if (!pv)
        *value = 0;
    else if (index == HVKIT_MSR_HYPERCALL_PAGE)
        *value = pv->hcpage_msr;
    else
        *value = pv->pvclock_msr[v->id];
    return true;
}

/* Nanoseconds from the clocks' start (host TSC `zero`) to host TSC `now`:
 * exactly, not through mul/shift, whole seconds and the rest, as the
 * APIC's clock computes it (irq.c apic_bus_clock). */
static uint64_t ns_since(uint64_t now, uint64_t hz, uint64_t zero)
{
    uint64_t d = now - zero;
    return d / hz * 1000000000ull + d % hz * 1000000000ull / hz;
}

uint64_t pv_clock_host_ns(void)
{
    uint64_t hz, zero;
    irq_clock_base(&hz, &zero);
    return ns_since(rdtsc(), hz, zero);
}

/* Write the vCPU's clock structure from hv's clock (irq.c): now as the
 * guest's TSC, and the nanoseconds since the guests' clocks started, the
 * same count the local APIC timer runs on, so the two agree -- moved by
 * the domain's offset when its state was loaded (pv_state.c). */
static void clock_update(struct vcpu *v, struct pv_domain *pv)
{
    uint64_t msr = pv->pvclock_msr[v->id];
    if (!(msr & HVKIT_MSR_ENABLE))
        return;
    volatile struct hvkit_pvclock *c =
        gmem_write_ptr(&v->dom->mem, msr & PVCLOCK_ADDR_MASK, sizeof(struct hvkit_pvclock));
    /* Checked at registration; the guest may have made the page
     * read-only since, and then keeps the old values. */
    if (!c)
        return;
    uint64_t hz, zero;
    irq_clock_base(&hz, &zero);
    uint32_t mul;
    int8_t shift;
    pv_clock_scale(hz, &mul, &shift);
    /* The TSC read once, for both halves of the pair: the guest's value
     * and the nanoseconds must describe the same instant. */
    uint64_t now = rdtsc();
    pv_clock_publish(c, now + v->tsc_offset, ns_since(now, hz, zero) + pv->clock_offset, mul,
                     shift);
}

void pv_tsc_changed(struct vcpu *v)
{
    if (v->dom->pv)
        clock_update(v, v->dom->pv);
}

/* The hypercall page: check the address, fill it with the backend's
 * instruction.  False (#GP) for reserved bits or a page outside RAM. */
static bool hcpage_write(struct vcpu *v, struct pv_domain *pv, uint64_t value)
{
    if (value & ~HCPAGE_ADDR_MASK & ~(uint64_t)HVKIT_MSR_ENABLE)
        return false;
    if (value & HVKIT_MSR_ENABLE) {
        uint64_t gpa = value & HCPAGE_ADDR_MASK;
        uint8_t *page = gmem_write_ptr(&v->dom->mem, gpa, 4096);
        if (!page)
            return false;
        const uint8_t *insn = vcpu_backend(v)->hypercall_insn;
        pv_hcpage_fill(page, insn);
        hv_log("pv: hypercall page at %#llx (%02x %02x %02x, %s)", (unsigned long long)gpa, insn[0],
               insn[1], insn[2], vcpu_backend(v)->name);
    }
    /* Disabling leaves the page as it is: it is the guest's memory. */
    pv->hcpage_msr = value;
    return true;
}

/* The clock: 32 bytes of RAM, 32-byte aligned. */
static bool pvclock_write(struct vcpu *v, struct pv_domain *pv, uint64_t value)
{
    if (value & ~PVCLOCK_ADDR_MASK & ~(uint64_t)HVKIT_MSR_ENABLE)
        return false;
    if ((value & HVKIT_MSR_ENABLE) &&
        !gmem_write_ptr(&v->dom->mem, value & PVCLOCK_ADDR_MASK, sizeof(struct hvkit_pvclock)))
        return false;
    pv->pvclock_msr[v->id] = value;
    clock_update(v, pv);
    return true;
}

bool pv_msr_write(struct vcpu *v, uint32_t index, uint64_t value)
{
    struct pv_domain *pv = pv_get(v->dom);
    /* No memory for the PV state: refused like a bad value. */
    if (!pv)
        return false;
    if (index == HVKIT_MSR_HYPERCALL_PAGE)
        return hcpage_write(v, pv, value);
    return pvclock_write(v, pv, value);
}
