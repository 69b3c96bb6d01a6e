/*
 * vcpu.c - building the VMCB for the guest: intercepts, permission maps,
 * nested paging and the Multiboot entry state; and exception injection.
 *
 * APM vol 2 15.5 "VMRUN Instruction" and appendix B "Layout of VMCB" describe the VMCB; 15.9
 * to 15.13 the intercepts; 15.10.1 the I/O permission map; 15.11 the MSR
 * permission map.
 */
#include "klib.h"

#include "core/alloc.h"
#include "core/cpu.h"
#include "core/log.h"
#include "internal.h"

/* Let the guest access one MSR directly: clear its read and write bits in
 * the MSR permission map.  The map has three 2 KiB parts, for MSRs
 * 0000_0000-0000_1FFF, C000_0000-C000_1FFF and C001_0000-C001_1FFF, with two
 * bits per MSR (even bit: read, odd bit: write); all others always exit
 * (15.11 "MSR Intercepts"). */
static void msrpm_pass(uint8_t *msrpm, uint32_t msr)
{
    /* Byte offset of the part of the map that covers this MSR. */
    uint32_t base;
    if (msr <= 0x1fffu)
        base = 0;
    else if (msr >= 0xc0000000u && msr <= 0xc0001fffu)
        base = 0x800;
    else if (msr >= 0xc0010000u && msr <= 0xc0011fffu)
        base = 0x1000;
    /* An MSR outside the three ranges always exits: nothing to clear. */
    else
        return;
    /* Two bits per MSR, counted from the start of its range. */
    uint32_t bit = (msr & 0x1fffu) * 2;
    /* Both bits of the pair sit in one byte (the pair starts at an even
     * bit), so one AND clears read and write interception together. */
    msrpm[base + bit / 8] &= (uint8_t) ~(3u << (bit % 8));
}

/*
 * MSRs whose guest values live in the VMCB save area and are switched by
 * VMLOAD/VMSAVE (15.5.2) or VMRUN itself: the guest may use them directly,
 * exactly as on a real CPU, and the core need not emulate them.  TSC_AUX
 * is not in the VMCB, but hv never uses it (nor RDTSCP), so the guest may
 * own the real one, which the core swaps between vCPUs (core/vcpustate.c).  Every other MSR exits
 * and is emulated by core/msr.c.
 */
static const uint32_t passthrough_msrs[] = {
    MSR_FS_BASE, MSR_GS_BASE,     MSR_KERNEL_GS_BASE, MSR_STAR,         MSR_LSTAR,   MSR_CSTAR,
    MSR_SFMASK,  MSR_SYSENTER_CS, MSR_SYSENTER_ESP,   MSR_SYSENTER_EIP, MSR_TSC_AUX,
};

/* A flat 4 GiB segment as Multiboot 3.2 wants: base 0, limit 0xFFFFFFFF,
 * granularity 4 KiB, 32-bit (D/B = 1), present, DPL 0, the given type. */
static struct vmcb_seg flat_seg(uint16_t selector, unsigned type)
{
    /* The VMCB keeps each segment's hidden part (base, limit, attributes)
     * explicitly (appendix B): VMRUN loads these as they are, without
     * reading any descriptor table, which is why the guest can start with
     * no GDT of its own.  The attribute word is the descriptor's bits
     * 55:52 and 47:40 packed into 12 bits. */
    return (struct vmcb_seg){
        .selector = selector,
        .attrib = SEG_ATTR_TYPE(type) | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_DB | SEG_ATTR_G,
        .limit = 0xffffffffu,
        .base = 0,
    };
}

/* The guest's state on entry (Multiboot 0.6.96 section 3.2, backend.h). */
static void set_entry_state(struct vmcb_save *s)
{
    /* CS: execute/read code, accessed (type 0xB); the others read/write
     * data, accessed (type 0x3).  Selectors 0x08 / 0x10 as a typical GDT
     * would have them; the guest loads its own GDT before reloading them. */
    s->cs = flat_seg(0x08, 0xb);
    s->ds = s->es = s->fs = s->gs = s->ss = flat_seg(0x10, 0x3);
    /* GDTR and IDTR are undefined for Multiboot: an empty-looking IDT at 0
     * with the real-mode limit, and a GDT limit that covers nothing useful. */
    s->gdtr = (struct vmcb_seg){.limit = 0xffff};
    s->idtr = (struct vmcb_seg){.limit = 0x3ff};
    /* LDTR and TR must hold something loadable: an LDT (type 2) and a busy
     * 32-bit TSS (type 0xB), both present, as after a CPU reset (APM vol 2
     * 14.1.3 "Processor Initialization State"). */
    s->ldtr = (struct vmcb_seg){.attrib = SEG_ATTR_TYPE(2) | SEG_ATTR_P, .limit = 0xffff};
    s->tr = (struct vmcb_seg){.attrib = SEG_ATTR_TYPE(0xb) | SEG_ATTR_P, .limit = 0xffff};
    /* Ring 0; SS.DPL must agree with CPL. */
    s->cpl = 0;
    /* Protected mode without paging: with nested paging the guest's own
     * CR0/CR3/CR4 are used as they are for its own translation, then the
     * result goes through our nested tables (15.25 "Nested Paging").  CR0: protection on,
     * paging off; ET is always 1 on modern CPUs. */
    s->cr0 = CR0_PE | CR0_ET;
    /* No guest page tables yet, no PAE/PSE: the guest enables its own. */
    s->cr3 = 0;
    s->cr4 = 0;
    /* Debug registers at their reset values (APM vol 2 13.1.1 "Debug Registers"). */
    s->dr6 = 0xffff0ff0u;
    s->dr7 = 0x400u;
    /* The guest PAT at its power-on value: WB, WT, UC-, UC, twice (7.8.1 "PAT Register"). */
    s->g_pat = 0x0007040600070406ull;
}

/*
 * backend.vcpu_init for SVM: allocate and fill everything the guest's
 * VMRUN needs, for the core (main.c) once before the first entry.  The
 * core has already loaded the image and set RAX/RBX/RIP/RFLAGS/EFER in
 * `vcpu`; exit.c copies those in before every VMRUN, so only the state the
 * core does not own is set here.  Returns 0, or -1 when host memory runs
 * out (main.c reports it).
 */
int svm_vcpu_init(struct vcpu *vcpu)
{
    /* page_alloc() returns zeroed memory, so every VMCB field not set
     * below is 0: no intercept, no event, no optional feature. */
    struct svm_vcpu *sv = page_alloc(sizeof(*sv), 4096);
    if (!sv)
        return -1;
    /* The VMCB and the host's VMSAVE area: one 4 KiB-aligned page each. */
    sv->vmcb = page_alloc(sizeof(struct vmcb), 4096);
    sv->host_save = page_alloc(sizeof(struct vmcb), 4096);
    /* The pre-VMRUN copy the failure explainer reads (internal.h). */
    sv->before = page_alloc(sizeof(struct vmcb), 4096);
    /* The permission maps must be physically contiguous and 4 KiB aligned
     * (15.10.1 "I/O Permissions Map", 15.11). */
    sv->iopm = page_alloc(IOPM_SIZE, 4096);
    sv->msrpm = page_alloc(MSRPM_SIZE, 4096);
    /* Nothing is freed on failure: hv ends right after (alloc.h). */
    if (!sv->vmcb || !sv->host_save || !sv->before || !sv->iopm || !sv->msrpm)
        return -1;
    /* Intercept every port: all devices the guest sees are hv's models.  A set
     * bit means "intercept"; the map has one bit per port, plus spare bits so
     * that a multi-byte access at port 0xFFFF is checked. */
    memset(sv->iopm, 0xff, IOPM_SIZE);
    /* Intercept every MSR except those the hardware switches for us. */
    memset(sv->msrpm, 0xff, MSRPM_SIZE);
    for (size_t i = 0; i < KARRAY_SIZE(passthrough_msrs); i++)
        msrpm_pass(sv->msrpm, passthrough_msrs[i]);

    struct vmcb_control *c = &sv->vmcb->control;
    /* Writes to CR0 and CR4 exit (15.9 "Instruction Intercepts", bits 0 and 4 of the CR write
     * intercepts): QEMU accepts some values a real CPU refuses with #GP
     * (reserved CR4 bits among them), which would then fail VMRUN; the
     * core checks them (core/cr.h). */
    c->intercept_cr_write = (1u << 0) | (1u << 4);
    /* #DF exits (15.12 "Exception Intercepts"): a double fault the guest cannot deliver becomes a
     * triple fault, which Bochs's SVM turns into stopping the whole machine
     * instead of the shutdown exit; looking first lets hv report it the
     * same way everywhere.  Other exceptions stay the guest's business. */
    c->intercept_exceptions = 1u << 8;
    /* Instructions that exit (15.9-15.13): CPUID (the core filters what the
     * guest learns), HLT, port I/O and MSRs through the maps, shutdown
     * (triple fault: otherwise the outer machine would reset, 15.12). */
    c->intercept_misc1 = ICPT_CPUID | ICPT_HLT | ICPT_IOIO_PROT | ICPT_MSR_PROT | ICPT_SHUTDOWN;
    /* A physical NMI while the guest runs exits (15.13.2 "NMI
     * Intercept"): the time-slice watchdog's (preempt.c), which must end
     * a guest that would never exit, whatever its IF.  No INTR intercept:
     * hv runs guests with the host's IF = 0 (enter.S), so no maskable
     * interrupt of the outer machine is ever taken while they run. */
    c->intercept_misc1 |= ICPT_NMI;
    /* VMRUN must be intercepted or VMRUN fails (15.5.1 "Basic Operation").  VMMCALL is the
     * hypercall.  The other SVM instructions exit so that the core can
     * give the guest #UD: it must not use SVM, which CPUID hides. */
    c->intercept_misc2 =
        ICPT_VMRUN | ICPT_VMMCALL | ICPT_VMLOAD | ICPT_VMSAVE | ICPT_STGI | ICPT_CLGI | ICPT_SKINIT;
    /* The maps only take effect with IOIO_PROT / MSR_PROT set above; the
     * CPU reads them by physical address, bypassing our page tables. */
    c->iopm_base_pa = virt_to_phys(sv->iopm);
    c->msrpm_base_pa = virt_to_phys(sv->msrpm);
    /* ASID 0 is the host's (15.16 "TLB Control"); each domain gets its
     * own, 1 + its number, so that no other domain's TLB entries can be
     * used for its vCPUs (which flush on a switch among themselves:
     * svm_vcpu_load).  Flush its TLB entries before the first run. */
    uint32_t asid = vcpu->dom->id + 1;
    if (asid >= svm_caps.nasid) {
        hv_log("svm: domain %u needs ASID %u, the CPU has %u", vcpu->dom->id, asid, svm_caps.nasid);
        return -1;
    }
    c->guest_asid = asid;
    c->tlb_control = TLB_CONTROL_FLUSH_ALL;
    /* V_INTR_MASKING: the guest's RFLAGS.IF masks only virtual interrupts,
     * physical ones stay under the host's control (15.21.1). */
    c->v_intr = V_INTR_MASKING;
    /* Nested paging on, rooted at our table (15.25.3). */
    c->np_enable = NP_ENABLE;
    c->n_cr3 = vcpu->slat_root;

    set_entry_state(&sv->vmcb->save);
    /* The core owns the guest-visible PAT and CR0 (core/msr.c, core/cr.c);
     * give it the values the guest starts with, which exit.c copies back
     * into the VMCB before each entry. */
    vcpu->pat = sv->vmcb->save.g_pat;
    vcpu->cr0 = sv->vmcb->save.cr0;
    /* The core never looks inside: it only hands this back to us. */
    /* The first VMRUN checks everything: keep its copy. */
    sv->vmcb_edited = true;
    vcpu->arch = sv;
    /* It is the loaded vCPU now (backend.h): its CR2 into the CPU, as
     * svm_vcpu_load puts it there. */
    write_cr2(sv->vmcb->save.cr2);
    hv_log("svm: VMCB at %#llx, nested CR3 %#llx, %llu MiB of guest RAM at host %#llx",
           (unsigned long long)virt_to_phys(sv->vmcb), (unsigned long long)c->n_cr3,
           (unsigned long long)(vcpu->dom->mem.size >> 20),
           (unsigned long long)virt_to_phys(vcpu->dom->mem.host));
    return 0;
}

/*
 * backend.inject_exception for SVM: make the next VMRUN deliver exception
 * `vector` to the guest, for the core's emulation (#GP for a bad MSR or
 * CR0 value, #UD for SVM instructions, a re-delivered #DF).  The guest's
 * RIP must still point at the faulting instruction, as for a real fault.
 */
void svm_inject_exception(struct vcpu *vcpu, uint8_t vector, bool has_error, uint32_t error)
{
    struct svm_vcpu *sv = vcpu->arch;
    /* EVENTINJ (15.20 "Event Injection"): vector, type 3 = exception, EV when the exception
     * pushes an error code, V = valid.  VMRUN delivers it through the
     * guest's IDT before the guest's first instruction. */
    uint64_t ev = EVENTINJ_VALID | EVENTINJ_TYPE_EXCEPTION | EVENTINJ_VECTOR(vector);
    if (has_error)
        ev |= EVENTINJ_EV | EVENTINJ_ERROR(error);
    sv->vmcb->control.eventinj = ev;
    sv->vmcb_edited = true;
    /* Tell the core's interrupt logic that the injection slot is taken:
     * only one event can be injected per VMRUN. */
    vcpu->event_pending = 1;
}

/*
 * backend.vcpu_destroy for SVM: the VMCB, its copy, the host save area and
 * the two permission maps go back to hv's heap.  Nothing to tell the CPU:
 * it holds no VMCB state between VMRUNs (APM vol 2 15.5.1 "Basic
 * Operation": #VMEXIT writes the guest's state back to the VMCB).
 */
void svm_vcpu_destroy(struct vcpu *vcpu)
{
    struct svm_vcpu *sv = vcpu->arch;
    if (!sv)
        return;
    page_free(sv->vmcb);
    page_free(sv->host_save);
    page_free(sv->before);
    page_free(sv->iopm);
    page_free(sv->msrpm);
    page_free(sv);
    vcpu->arch = NULL;
}

/*
 * backend.single_step for SVM: the trap the guest would have taken after an
 * instruction hv emulated with RFLAGS.TF = 1.  The guest's DR6 is in the
 * VMCB (VMRUN loads it, APM vol 2 15.5.1 "Basic Operation"): BS goes
 * there, as the CPU sets it, and #DB, a trap, is injected with RIP
 * already on the next instruction.
 */
void svm_single_step(struct vcpu *vcpu)
{
    struct svm_vcpu *sv = vcpu->arch;
    sv->vmcb->save.dr6 |= DR6_BS;
    svm_inject_exception(vcpu, VEC_DB, false, 0);
}

/*
 * backend.inject_interrupt for SVM: deliver external interrupt `vector`
 * (from the emulated PIC) at the next VMRUN, for core/irq.c, which has
 * already checked that the guest has IF=1 and no interrupt shadow.
 */
void svm_inject_interrupt(struct vcpu *vcpu, uint8_t vector)
{
    struct svm_vcpu *sv = vcpu->arch;
    /* EVENTINJ type 0 = external interrupt (15.20 "Event Injection").  The CPU delivers it
     * whatever the guest's IF says (QEMU does too, docs/emulators.md): the core
     * calls this only when the guest can take it. */
    sv->vmcb->control.eventinj = EVENTINJ_VALID | EVENTINJ_TYPE_INTR | EVENTINJ_VECTOR(vector);
    sv->vmcb_edited = true;
    /* As above: the slot is taken until the CPU has delivered it. */
    vcpu->event_pending = 1;
}

/*
 * backend.irq_window for SVM: with on=true, exit as soon as the guest can
 * take an interrupt; with on=false, stop asking.  For core/irq.c, when the
 * PIC has an interrupt but the guest has IF=0 or is in an interrupt
 * shadow.  SVM has no "interrupt window" control as VT-x does: the usual
 * trick is a dummy virtual interrupt plus the VINTR intercept.
 */
void svm_irq_window(struct vcpu *vcpu, bool on)
{
    struct svm_vcpu *sv = vcpu->arch;
    struct vmcb_control *c = &sv->vmcb->control;
    sv->vmcb_edited = true;
    if (on) {
        /* A virtual interrupt request the guest takes as soon as RFLAGS.IF
         * allows, outside an interrupt shadow (15.21.4); the VINTR
         * intercept turns "takes it" into an exit instead, so the core can
         * inject the real vector then.  Highest priority, TPR ignored. */
        c->v_intr |= V_IRQ | V_INTR_PRIO(0xf) | V_IGN_TPR;
        c->intercept_misc1 |= ICPT_VINTR;
    } else {
        /* Withdraw the dummy request too, or the guest would take it
         * through vector 0 of its IDT (V_INTR_VECTOR is 0). */
        c->v_intr &= ~(V_IRQ | V_INTR_PRIO(0xf) | V_IGN_TPR);
        c->intercept_misc1 &= ~ICPT_VINTR;
    }
}

/*
 * backend.vcpu_load for SVM: nothing has to be made current (VMRUN names
 * its VMCB), but the vCPUs of one domain share its ASID (vcpu_init), and
 * the TLB tells translations apart by ASID alone (APM vol 2 15.16 "TLB
 * Control"): what another vCPU of the domain left there, made through its
 * own CR3, would be taken for this one's.  So in a domain with several
 * vCPUs the one switched to flushes the TLB at its next VMRUN (TLB_CONTROL
 * 1, as flush_slat below: QEMU has no flush-by-ASID).
 *
 * And CR2 goes into the CPU from the VMCB.  VMRUN loads the guest's CR2
 * from the VMCB's state save area (APM vol 2 15.5.1 "Basic Operation"),
 * so on a real CPU this changes nothing; Bochs 2.7's VMRUN reads the field
 * but never loads it, and there a guest would find the CR2 of whichever
 * vCPU ran before it (docs/emulators.md).  #VMEXIT stores it in both.
 */
void svm_vcpu_load(struct vcpu *vcpu)
{
    struct svm_vcpu *sv = vcpu->arch;
    if (!sv)
        return;
    write_cr2(sv->vmcb->save.cr2);
    if (vcpu->dom->nr_vcpus < 2)
        return;
    sv->vmcb->control.tlb_control = TLB_CONTROL_FLUSH_ALL;
    sv->vmcb_edited = true;
}

/* backend.flush_slat for SVM: the core changed the nested page tables.  The
 * next VMRUN flushes the TLB (TLB_CONTROL 1, APM vol 2 15.16.1 "TLB Flush"),
 * and exit.c sets it back to "do nothing" after it.  Flushing the guest's
 * ASID only (TLB_CONTROL 3) would do, but QEMU does not implement
 * flush-by-ASID, and one guest has the TLB to itself anyway; the range is
 * not needed for a full flush. */
void svm_flush_slat(struct vcpu *vcpu, uint64_t gpa, uint64_t len)
{
    (void)gpa;
    (void)len;
    struct svm_vcpu *sv = vcpu->arch;
    sv->vmcb->control.tlb_control = TLB_CONTROL_FLUSH_ALL;
    sv->vmcb_edited = true;
}
