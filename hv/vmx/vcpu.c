/*
 * vcpu.c - building the VMCS for the guest: controls, intercepts (I/O and
 * MSR bitmaps), EPT, the host state VM exits return to, and the Multiboot
 * entry state; and exception injection.
 *
 * SDM Vol. 3C chapter 25 "Virtual Machine Control Structures" describes the VMCS: 25.4 guest-state
 * area, 25.5 host-state area, 25.6 VM-execution controls (25.6.4 I/O bitmaps, 25.6.9 MSR
 * bitmaps, 25.6.6 CR0/CR4 guest/host masks and read shadows, 25.6.11 the EPT pointer), 25.7 VM-exit
 * and 25.8 VM-entry controls.
 *
 * Read it beside hv/svm/vcpu.c.  The job is the same: describe the guest
 * to the CPU, say what should bring control back to hv, and give the guest
 * its Multiboot starting state.  The means differ.  SVM's VMCB is a plain
 * 4-KiB structure at documented offsets: hv fills it with ordinary stores,
 * and VMRUN reads it.  The VMCS is opaque: after VMCLEAR and VMPTRLD make
 * it current, every field is written with VMWRITE by its encoding
 * (defs.h), and the CPU may cache it anywhere, so stores to the region
 * itself would be ignored or worse.  SVM also saves and loads the host's
 * state itself (in the VM_HSAVE_PA area); VT-x loads the host state from
 * the VMCS on every exit, so hv must write a host-state area too, and that
 * is write_host_state() below.
 */
#include "klib.h"

#include "core/alloc.h"
#include "core/cpu.h"
#include "core/log.h"
#include "gstate.h"
#include "internal.h"

/* Let the guest access one MSR directly: clear its read and write bits in
 * the MSR bitmap.  The 4-KiB bitmap has four 1-KiB parts: reads of MSRs
 * 0000_0000-0000_1FFF, reads of C000_0000-C000_1FFF, then writes of the same
 * two ranges, one bit per MSR; MSRs outside both ranges always exit
 * (25.6.9 "MSR-Bitmap Address").  (SVM's map has two bits per MSR and three ranges instead.) */
static void msr_bitmap_pass(uint8_t *bitmap, uint32_t msr)
{
    /* Byte offset of the read-bitmap part that covers this MSR: the low
     * range first, the high range 1 KiB further on. */
    uint32_t base;
    if (msr <= 0x1fffu)
        base = 0;
    else if (msr >= 0xc0000000u && msr <= 0xc0001fffu)
        base = 0x400;
    /* Any other MSR exits whatever the bitmap says: nothing to clear. */
    else
        return;
    /* One bit per MSR, counted from the start of its range. */
    uint32_t bit = msr & 0x1fffu;
    /* The read bit, then the write bit 2 KiB further on. */
    bitmap[base + bit / 8] &= (uint8_t) ~(1u << (bit % 8));
    bitmap[base + 0x800 + bit / 8] &= (uint8_t) ~(1u << (bit % 8));
}

/*
 * MSRs the guest may use directly.  FS/GS base and the SYSENTER MSRs live in
 * the VMCS guest-state area and are switched by every entry and exit (25.4 "Guest-State Area");
 * the syscall MSRs and KernelGSBase are not switched by VMX (SVM switches
 * them with VMLOAD/VMSAVE), but hv itself never uses them, so the guest may
 * own the real ones, which the core swaps between vCPUs (core/vcpustate.c).
 * TSC_AUX is the guest's too, swapped by the core as well (neither
 * vendor's world switch holds it).  Every other MSR exits and is emulated by the core, as
 * under SVM.
 */
static const uint32_t passthrough_msrs[] = {
    MSR_FS_BASE, MSR_GS_BASE,     MSR_KERNEL_GS_BASE, MSR_STAR,         MSR_LSTAR,   MSR_CSTAR,
    MSR_SFMASK,  MSR_SYSENTER_CS, MSR_SYSENTER_ESP,   MSR_SYSENTER_EIP, MSR_TSC_AUX,
};

/* Segment fields step by 2 from ES in VMCS order (Vol. 3D appendix B).  The
 * order ES, CS, SS, DS, FS, GS, LDTR, TR is the same as the segment-register
 * encoding of the instruction set, which is also the order of enum seg in
 * explain.h, so one index serves both.  (Bit 0 of an encoding selects the
 * high half of a 64-bit field, hence the step of 2, not 1.) */
#define SEG_FIELD(first, i) ((first) + 2u * (unsigned)(i))

/*
 * The whole VMCS as a struct vmx_state, field by field.  The entry-failure
 * explainer (explain.c) is a pure function over this copy, so that the unit
 * tests can hand it a state of their own; exit.c takes the copy just before
 * each entry, because after a failed entry the state we tried matters, not
 * whatever the CPU left.  A field this CPU lacks (e.g. no PAT controls)
 * reads as 0: VMREAD fails and the wrapper returns its initial value.
 */
void vmx_read_state(struct vmx_state *s)
{
    /* Controls (25.6 - 25.8): what exits, what is loaded and saved. */
    /* The three execution-control words: pin-based (external interrupts,
     * NMIs), primary processor-based (HLT, I/O, MSR exiting), secondary
     * (EPT, unrestricted guest).  32-bit fields, read as 64 and truncated. */
    s->pin = (uint32_t)vmread(VMCS_PIN_CONTROLS);
    s->proc = (uint32_t)vmread(VMCS_PROC_CONTROLS);
    s->proc2 = (uint32_t)vmread(VMCS_PROC_CONTROLS2);
    s->exit_ctls = (uint32_t)vmread(VMCS_EXIT_CONTROLS);
    s->entry_ctls = (uint32_t)vmread(VMCS_ENTRY_CONTROLS);
    /* Which exceptions exit, and how many CR3-target values there are. */
    s->exception_bitmap = (uint32_t)vmread(VMCS_EXCEPTION_BITMAP);
    s->cr3_target_count = (uint32_t)vmread(VMCS_CR3_TARGET_COUNT);
    /* The event to inject at this entry, if any: the entry checks of 27.2.1.3
     * look at all three fields together. */
    s->entry_intr_info = (uint32_t)vmread(VMCS_ENTRY_INTR_INFO);
    s->entry_exception_error = (uint32_t)vmread(VMCS_ENTRY_EXCEPTION_ERROR);
    s->entry_insn_len = (uint32_t)vmread(VMCS_ENTRY_INSN_LEN);
    /* Physical addresses of the bitmaps and the EPT PML4: each must be
     * 4-KiB aligned and within the physical-address width (27.2.1.1 "VM-Execution Control Fields").
     */
    s->io_bitmap_a = vmread(VMCS_IO_BITMAP_A);
    s->io_bitmap_b = vmread(VMCS_IO_BITMAP_B);
    s->msr_bitmap = vmread(VMCS_MSR_BITMAP);
    s->eptp = vmread(VMCS_EPT_POINTER);
    /* hv does not enable VPID and never writes this field; the explainer
     * still checks it, since "enable VPID" with VPID 0 is a classic entry
     * failure for a student who turns VPID on. */
    s->vpid = (uint16_t)vmread(VMCS_VPID);
    /* Host state (25.5 "Host-State Area"): what a VM exit loads.  The host area has no LDTR
     * field (a VM exit leaves LDTR null), so the TR selector comes right
     * after GS in the encodings: hence the index shift below. */
    s->host_cr0 = vmread(VMCS_HOST_CR0);
    s->host_cr3 = vmread(VMCS_HOST_CR3);
    s->host_cr4 = vmread(VMCS_HOST_CR4);
    /* Where the exit continues: enter.S's label and stack. */
    s->host_rsp = vmread(VMCS_HOST_RSP);
    s->host_rip = vmread(VMCS_HOST_RIP);
    /* Host selectors only; a VM exit builds the hidden parts itself
     * (flat, 28.5.2), so the host area has no limit or access-rights fields. */
    for (int i = 0; i < SEG_COUNT; i++)
        s->host_sel[i] =
            i == SEG_LDTR ? 0
                          : (uint16_t)vmread(SEG_FIELD(VMCS_HOST_ES_SEL, i > SEG_LDTR ? i - 1 : i));
    /* The only host bases 64-bit mode uses; all must be canonical (27.2.3 "Checks on Host Segment
     * and Descriptor-Table Registers"). */
    s->host_fs_base = vmread(VMCS_HOST_FS_BASE);
    s->host_gs_base = vmread(VMCS_HOST_GS_BASE);
    s->host_tr_base = vmread(VMCS_HOST_TR_BASE);
    s->host_gdtr_base = vmread(VMCS_HOST_GDTR_BASE);
    s->host_idtr_base = vmread(VMCS_HOST_IDTR_BASE);
    /* Host MSRs a VM exit loads: SYSENTER always, EFER and PAT only with
     * the matching VM-exit controls (28.5.1 "Loading Host Control Registers, Debug Registers,
     * MSRs"). */
    s->host_sysenter_esp = vmread(VMCS_HOST_SYSENTER_ESP);
    s->host_sysenter_eip = vmread(VMCS_HOST_SYSENTER_EIP);
    s->host_efer = vmread(VMCS_HOST_EFER);
    s->host_pat = vmread(VMCS_HOST_PAT);
    /* Guest state (25.4 "Guest-State Area"): registers first, then the segment registers, each
     * as four fields (selector, base, limit, access rights). */
    /* The real CR0/CR4 the guest runs with, including the bits VMX forces
     * (the guest reads the shadows instead, see vmx_vcpu_init()). */
    s->cr0 = vmread(VMCS_GUEST_CR0);
    s->cr3 = vmread(VMCS_GUEST_CR3);
    s->cr4 = vmread(VMCS_GUEST_CR4);
    s->dr7 = vmread(VMCS_GUEST_DR7);
    /* RSP, RIP and RFLAGS are VMCS fields; the other GPRs are not in the
     * VMCS at all (enter.S switches them).  SVM's VMCB likewise holds RAX
     * too, and only those four. */
    s->rsp = vmread(VMCS_GUEST_RSP);
    s->rip = vmread(VMCS_GUEST_RIP);
    s->rflags = vmread(VMCS_GUEST_RFLAGS);
    /* Where SVM has one struct vmcb_seg per register in the save area, VT-x
     * has four separate fields per register, each read with VMREAD. */
    for (int i = 0; i < SEG_COUNT; i++) {
        s->seg[i].sel = (uint16_t)vmread(SEG_FIELD(VMCS_GUEST_ES_SEL, i));
        s->seg[i].base = vmread(SEG_FIELD(VMCS_GUEST_ES_BASE, i));
        s->seg[i].limit = (uint32_t)vmread(SEG_FIELD(VMCS_GUEST_ES_LIMIT, i));
        s->seg[i].ar = (uint32_t)vmread(SEG_FIELD(VMCS_GUEST_ES_AR, i));
    }
    /* Descriptor tables have a base and a limit only. */
    s->gdtr_base = vmread(VMCS_GUEST_GDTR_BASE);
    s->idtr_base = vmread(VMCS_GUEST_IDTR_BASE);
    s->gdtr_limit = (uint32_t)vmread(VMCS_GUEST_GDTR_LIMIT);
    s->idtr_limit = (uint32_t)vmread(VMCS_GUEST_IDTR_LIMIT);
    /* MSRs that VMX switches through the VMCS (25.4.1 "Guest Register State"). */
    s->debugctl = vmread(VMCS_GUEST_DEBUGCTL);
    s->pat = vmread(VMCS_GUEST_PAT);
    s->efer = vmread(VMCS_GUEST_EFER);
    s->sysenter_esp = vmread(VMCS_GUEST_SYSENTER_ESP);
    s->sysenter_eip = vmread(VMCS_GUEST_SYSENTER_EIP);
    /* Non-register state (25.4.2 "Guest Non-Register State"): blocking, activity, the link pointer,
     * and the PAE PDPTEs that EPT makes VM entry load from here. */
    s->interruptibility = (uint32_t)vmread(VMCS_GUEST_INTERRUPTIBILITY);
    s->activity = (uint32_t)vmread(VMCS_GUEST_ACTIVITY);
    /* All ones means "no linked VMCS"; anything else must point at a valid
     * shadow VMCS (27.3.1.5 "Checks on Guest Non-Register State"), which hv never uses. */
    s->link_pointer = vmread(VMCS_LINK_POINTER);
    /* The four PDPTE fields are 64-bit, so their encodings also step by 2. */
    for (int i = 0; i < 4; i++)
        s->pdpte[i] = vmread(VMCS_GUEST_PDPTE0 + 2u * (unsigned)i);
}

/* The guest-state part of *s into the VMCS (the reverse of the above, for
 * the entry state gstate.c computes). */
void vmx_write_guest_state(const struct vmx_state *s)
{
    /* Control registers, DR7, and where the guest starts. */
    vmwrite(VMCS_GUEST_CR0, s->cr0);
    vmwrite(VMCS_GUEST_CR3, s->cr3);
    vmwrite(VMCS_GUEST_CR4, s->cr4);
    vmwrite(VMCS_GUEST_DR7, s->dr7);
    vmwrite(VMCS_GUEST_RSP, s->rsp);
    vmwrite(VMCS_GUEST_RIP, s->rip);
    vmwrite(VMCS_GUEST_RFLAGS, s->rflags);
    /* Every segment register with its hidden part: VM entry loads the
     * descriptor caches from here, not from a GDT (27.3.2.2 "Loading Guest Segment Registers and
     * Descriptor-Table Registers"). */
    for (int i = 0; i < SEG_COUNT; i++) {
        vmwrite(SEG_FIELD(VMCS_GUEST_ES_SEL, i), s->seg[i].sel);
        vmwrite(SEG_FIELD(VMCS_GUEST_ES_BASE, i), s->seg[i].base);
        vmwrite(SEG_FIELD(VMCS_GUEST_ES_LIMIT, i), s->seg[i].limit);
        vmwrite(SEG_FIELD(VMCS_GUEST_ES_AR, i), s->seg[i].ar);
    }
    /* GDTR and IDTR: a base and a limit, nothing else (no selector). */
    vmwrite(VMCS_GUEST_GDTR_BASE, s->gdtr_base);
    vmwrite(VMCS_GUEST_IDTR_BASE, s->idtr_base);
    vmwrite(VMCS_GUEST_GDTR_LIMIT, s->gdtr_limit);
    vmwrite(VMCS_GUEST_IDTR_LIMIT, s->idtr_limit);
    /* IA32_DEBUGCTL is loaded by VM entry when "load debug controls" is on,
     * a default1 entry control most CPUs force to 1 (A.2): give it 0. */
    vmwrite(VMCS_GUEST_DEBUGCTL, s->debugctl);
    /* PAT exists only with the load/save PAT controls; a failed VMWRITE of a
     * missing field changes nothing. */
    vmwrite(VMCS_GUEST_PAT, s->pat);
    /* EFER as VM entry loads it ("load IA32_EFER"); exit.c rewrites it from
     * the core's value before every entry, as SVM's VMCB EFER is. */
    vmwrite(VMCS_GUEST_EFER, s->efer);
    /* SYSENTER_CS is not in struct vmx_state (no check reads it): 0, its
     * reset value (SDM Vol. 3A 10.1.1 "Processor State After Reset"), like the two below. */
    vmwrite(VMCS_GUEST_SYSENTER_CS, 0);
    vmwrite(VMCS_GUEST_SYSENTER_ESP, s->sysenter_esp);
    vmwrite(VMCS_GUEST_SYSENTER_EIP, s->sysenter_eip);
    /* No STI/MOV SS blocking, activity state "active" (25.4.2 "Guest Non-Register State"): the
     * guest starts executing at once, as after a Multiboot loader's jump. */
    vmwrite(VMCS_GUEST_INTERRUPTIBILITY, s->interruptibility);
    vmwrite(VMCS_GUEST_ACTIVITY, s->activity);
    /* No debug exception pending at the first entry. */
    vmwrite(VMCS_GUEST_PENDING_DBG, 0);
    vmwrite(VMCS_LINK_POINTER, s->link_pointer);
    /* Used only by a PAE guest under EPT; harmless zeros otherwise. */
    for (int i = 0; i < 4; i++)
        vmwrite(VMCS_GUEST_PDPTE0 + 2u * (unsigned)i, s->pdpte[i]);
}

/* The host state every VM exit loads (25.5 "Host-State Area", 28.5 "Loading Host State").
 * SVM has no counterpart: VMRUN stores the host's state in the VM_HSAVE_PA
 * area by itself and #VMEXIT reloads it, so the host is wherever it was.
 * A VM exit instead puts the CPU into the state described here, and hv
 * must describe itself accurately: a wrong CR3 or GDTR base here does not
 * fail at entry but crashes hv at the first exit. */
static void write_host_state(const struct vmx_controls *ctl)
{
    /* The SGDT/SIDT pseudo-descriptors (SDM Vol. 3A 3.5.1 "Segment Descriptor Tables"). */
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } gdtr, idtr;
    /* Where hv's descriptor tables are: a VM exit reloads only their bases
     * (their limits become 0xFFFF, 28.5.2), so the tables must stay put. */
    __asm__ volatile("sgdt %0; sidt %1" : "=m"(gdtr), "=m"(idtr));
    /* hv's control registers as they are now (VMXE and NE already set). */
    vmwrite(VMCS_HOST_CR0, read_cr0());
    vmwrite(VMCS_HOST_CR3, read_cr3());
    vmwrite(VMCS_HOST_CR4, read_cr4());
    /* hv's selectors (hv/boot/entry.S, and the TSS from caps.c); FS and GS
     * are null in hv. */
    vmwrite(VMCS_HOST_CS_SEL, 0x08);
    vmwrite(VMCS_HOST_SS_SEL, 0x10);
    vmwrite(VMCS_HOST_DS_SEL, 0x10);
    vmwrite(VMCS_HOST_ES_SEL, 0x10);
    vmwrite(VMCS_HOST_FS_SEL, 0);
    vmwrite(VMCS_HOST_GS_SEL, 0);
    vmwrite(VMCS_HOST_TR_SEL, VMX_HOST_TSS_SEL);
    /* Segment bases that matter in 64-bit mode: FS, GS (hv uses neither,
     * but the guest may change the real MSRs) and TR. */
    vmwrite(VMCS_HOST_FS_BASE, rdmsr(MSR_FS_BASE));
    vmwrite(VMCS_HOST_GS_BASE, rdmsr(MSR_GS_BASE));
    /* TR's base comes from caps.c, not from the GDT: a VM exit does not
     * read the descriptor, it takes the base from here. */
    vmwrite(VMCS_HOST_TR_BASE, vmx_host_tr_base);
    vmwrite(VMCS_HOST_GDTR_BASE, gdtr.base);
    vmwrite(VMCS_HOST_IDTR_BASE, idtr.base);
    /* The SYSENTER MSRs are switched on every exit whether hv uses them or
     * not (28.5.1 "Loading Host Control Registers, Debug Registers, MSRs"): give the host its own
     * values back. */
    vmwrite(VMCS_HOST_SYSENTER_CS, rdmsr(MSR_SYSENTER_CS));
    vmwrite(VMCS_HOST_SYSENTER_ESP, rdmsr(MSR_SYSENTER_ESP));
    vmwrite(VMCS_HOST_SYSENTER_EIP, rdmsr(MSR_SYSENTER_EIP));
    /* With "load IA32_EFER/PAT" on exit, hv's own EFER (LME, LMA, NXE) and
     * PAT come back from here; the guest may have changed the real ones. */
    if (ctl->exit & EXIT_LOAD_EFER)
        vmwrite(VMCS_HOST_EFER, rdmsr(MSR_EFER));
    if (ctl->exit & EXIT_LOAD_PAT)
        vmwrite(VMCS_HOST_PAT, rdmsr(MSR_PAT));
    /* Exits continue in enter.S; HOST_RSP is written there before each
     * entry, because it is the stack pointer of that moment. */
    vmwrite(VMCS_HOST_RIP, (uint64_t)(uintptr_t)vmx_exit_entry);
}

/*
 * backend.vcpu_init for VT-x: build and load the VMCS for the guest that
 * core/main.c has loaded into vcpu->dom->mem, with vcpu->rip and vcpu->rflags
 * its Multiboot entry point.  Returns 0, or -1 after logging why.  On
 * return the VMCS is current (VMPTRLD), which the rest of the backend
 * relies on: hv has one guest and never loads another VMCS.
 */
int vmx_vcpu_init(struct vcpu *vcpu)
{
    /* Our per-vCPU data; page_alloc() zero-fills, so launched = false. */
    struct vmx_vcpu *vx = page_alloc(sizeof(*vx), 4096);
    if (!vx)
        return -1;
    /* The VMCS region: 4 KiB aligned, starting with the revision identifier
     * (25.2 "Format of the VMCS Region"); the CPU owns the rest of it. */
    vx->vmcs = page_alloc(4096, 4096);
    /* I/O bitmaps A (ports 0-7FFF) and B (8000-FFFF), one bit per port
     * (25.6.4 "I/O-Bitmap Addresses"), and the MSR bitmap (25.6.9 "MSR-Bitmap Address"): 4 KiB
     * aligned each. */
    vx->io_bitmaps = page_alloc(8192, 4096);
    vx->msr_bitmap = page_alloc(4096, 4096);
    if (!vx->vmcs || !vx->io_bitmaps || !vx->msr_bitmap)
        return -1;
    /* The revision identifier must match IA32_VMX_BASIC or VMPTRLD fails
     * (VM-instruction error 11); bit 31 clear: not a shadow VMCS. */
    *(uint32_t *)vx->vmcs = (uint32_t)(vmx_caps.basic & VMX_BASIC_REVISION_MASK);
    /* VMCLEAR initialises the region's launch state to "clear"; VMPTRLD
     * makes it the current VMCS that VMREAD/VMWRITE/VMLAUNCH act on (25.11.3 "Initializing a
     * VMCS"). */
    if (!vmclear(virt_to_phys(vx->vmcs)) || !vmptrld(virt_to_phys(vx->vmcs))) {
        hv_log("vmx: VMCLEAR/VMPTRLD of the VMCS at %#llx failed",
               (unsigned long long)virt_to_phys(vx->vmcs));
        return -1;
    }
    /* Intercept every port: all devices the guest sees are hv's models. */
    memset(vx->io_bitmaps, 0xff, 8192);
    /* Intercept every MSR except those listed above. */
    memset(vx->msr_bitmap, 0xff, 4096);
    for (size_t i = 0; i < KARRAY_SIZE(passthrough_msrs); i++)
        msr_bitmap_pass(vx->msr_bitmap, passthrough_msrs[i]);

    /* The controls (ctls.c chose them from the capability MSRs in probe()):
     * HLT exits; port I/O and MSRs exit through the bitmaps; CPUID, VMCALL,
     * the other VMX instructions and triple faults always exit on VMX
     * (26.1.2 "Instructions That Cause VM Exits Unconditionally"), so they need no control bit,
     * unlike SVM's intercepts. */
    struct vmx_controls ctl;
    /* Cannot fail here: probe() ran the same function on the same MSRs. */
    if (vmx_choose_controls(&vmx_caps, &ctl))
        return -1;
    /* Write the five control words; the entry controls are rewritten before
     * every entry with "IA-32e mode guest" set as EFER.LMA says (exit.c). */
    vmwrite(VMCS_PIN_CONTROLS, ctl.pin);
    vmwrite(VMCS_PROC_CONTROLS, ctl.proc);
    vmwrite(VMCS_PROC_CONTROLS2, ctl.proc2);
    vmwrite(VMCS_EXIT_CONTROLS, ctl.exit);
    vmwrite(VMCS_ENTRY_CONTROLS, ctl.entry);
    /* Kept for exit.c, which ORs "IA-32e mode guest" in when needed. */
    vx->entry_ctls = ctl.entry;
    /* The time-slice timer, if the CPU has it (preempt.c); no deadline
     * until the core sets one. */
    vx->preempt = (ctl.pin & PIN_PREEMPTION_TIMER) != 0;
    /* NMI windows, where the CPU has them (vmx_nmi_window()). */
    vx->nmi_window_ok = ctl.nmi_window;
    vx->deadline = UINT64_MAX;
    /* No exceptions intercepted, no CR3-target values, nothing injected.
     * (SVM hv intercepts #DF to spot a coming triple fault; VT-x needs no
     * such trick, because a guest triple fault is itself a VM exit,
     * reason 2.)  CR3-target values matter only with "CR3-load exiting",
     * which hv does not ask for: with EPT, guest CR3 is harmless to hv. */
    vmwrite(VMCS_EXCEPTION_BITMAP, 0);
    vmwrite(VMCS_CR3_TARGET_COUNT, 0);
    vmwrite(VMCS_ENTRY_INTR_INFO, 0);
    /* The VMCS holds physical addresses: the CPU reads the bitmaps without
     * going through hv's page tables.  SVM's VMCB has one IOPM address for
     * a 12-KiB map; VT-x has two independent 4-KiB bitmaps. */
    vmwrite(VMCS_IO_BITMAP_A, virt_to_phys(vx->io_bitmaps));
    vmwrite(VMCS_IO_BITMAP_B, virt_to_phys(vx->io_bitmaps) + 4096);
    vmwrite(VMCS_MSR_BITMAP, virt_to_phys(vx->msr_bitmap));
    /* With the TPR shadow: the virtual-APIC page, of which the CPU uses
     * only VTPR at offset 0x80 here (SDM vol 3C 30.1.1 "Virtualized APIC
     * Registers"), and a TPR threshold of 0, so that no MOV to CR8 exits
     * (30.1.2 "TPR Virtualization"): an interrupt its lowering lets
     * through is delivered at the next exit. */
    if (ctl.proc & PROC_TPR_SHADOW) {
        vx->vapic = page_alloc(4096, 4096);
        if (!vx->vapic)
            return -1;
        vmwrite(VMCS_VIRTUAL_APIC_ADDR, virt_to_phys(vx->vapic));
        vmwrite(VMCS_TPR_THRESHOLD, 0);
    }
    /* The EPT pointer: PML4 address, write-back tables, 4-level walk (25.6.11 "Extended-Page-Table
     * Pointer (EPTP)"). */
    vmwrite(VMCS_EPT_POINTER, vcpu->slat_root | EPTP_MEMTYPE_WB | EPTP_WALK_LENGTH_4);

    /* The CR0/CR4 guest/host masks and read shadows (25.6.6 "Guest/Host Masks and Read Shadows for
     * CR0 and CR4"): for a bit set in the mask the guest reads the shadow's value, and a write that
     * would change it exits.  hv owns all of CR0, so that every CR0 write
     * exits and the core checks it (core/cr.h), as under SVM; and the CR4
     * bits VMX forces (VMXE), so the guest keeps seeing CR4 as it left it. */
    vx->cr0_mask = ~0ull;
    /* CR4: the bits that must be 1 (FIXED0) and those that must be 0 (not
     * in FIXED1).  The guest may change every other bit without an exit. */
    vx->cr4_mask = vmx_caps.cr4_fixed0 | ~vmx_caps.cr4_fixed1;
    vmwrite(VMCS_CR0_MASK, vx->cr0_mask);
    vmwrite(VMCS_CR4_MASK, vx->cr4_mask);
    /* Now hv's own state, for the exits to come. */
    write_host_state(&ctl);

    /* The Multiboot entry state (gstate.c): the same starting point as the
     * SVM backend's VMCB. */
    struct vmx_state s;
    memset(&s, 0, sizeof(s));
    /* A pure function computes the state (gstate.c), so the unit test can
     * run the entry checks over exactly what hv writes here. */
    vmx_multiboot_state(&s, &vmx_caps, vcpu->rip, vcpu->rflags);
    vmx_write_guest_state(&s);
    /* The guest believes CR0 = PE | ET and CR4 = 0 (backend.h). */
    vx->cr0_shadow = CR0_PE | CR0_ET;
    vx->cr4_shadow = 0;
    vmwrite(VMCS_CR0_SHADOW, vx->cr0_shadow);
    vmwrite(VMCS_CR4_SHADOW, vx->cr4_shadow);
#ifdef HV_VMX_BREAK
    /* Test builds only (tests/integration/bochs-explain.sh): break one rule
     * of SDM Vol. 3C 27.2 "Checks on VMX Controls and Host-State Area"/27.3.1 "Checks on the Guest
     * State Area" on purpose, to see the explainer name it. */
    switch (HV_VMX_BREAK) {
    case 1: /* guest state: TR unusable (27.3.1.2 "Checks on Guest Segment Registers"), exit reason
               33 */
        vmwrite(VMCS_GUEST_ES_AR + 2u * SEG_TR, AR_UNUSABLE);
        break;
    case 2: /* controls: unrestricted guest without EPT (27.2.1.1 "VM-Execution Control Fields"),
               error 7 */
        vmwrite(VMCS_PROC_CONTROLS2, ctl.proc2 & ~PROC2_ENABLE_EPT);
        break;
    case 3: /* host state: null TR selector (27.2.3 "Checks on Host Segment and Descriptor-Table
               Registers"), error 8 */
        vmwrite(VMCS_HOST_TR_SEL, 0);
        break;
    }
    hv_log("vmx: test build: VMCS deliberately broken (HV_VMX_BREAK=%d)", HV_VMX_BREAK);
#endif
    /* Tell the core what the guest starts with: the PAT gstate.c chose
     * and the CR0 the guest sees (the shadow, not the forced real value). */
    vcpu->pat = s.pat;
    vcpu->cr0 = vx->cr0_shadow;
    vcpu->arch = vx;
    /* The addresses help when reading a Bochs log or a crash dump. */
    hv_log("vmx: VMCS at %#llx, EPT PML4 %#llx, %llu MiB of guest RAM at host %#llx",
           (unsigned long long)virt_to_phys(vx->vmcs), (unsigned long long)vcpu->slat_root,
           (unsigned long long)(vcpu->dom->mem.size >> 20),
           (unsigned long long)virt_to_phys(vcpu->dom->mem.host));
    return 0;
}

/* backend.inject_exception for VT-x: the counterpart of writing SVM's
 * EVENTINJ field.  The event stays in the VMCS until the next entry
 * consumes it; exit.c reads IDT-vectoring information after each exit in
 * case delivery itself was interrupted by an exit. */
void vmx_inject_exception(struct vcpu *vcpu, uint8_t vector, bool has_error, uint32_t error)
{
    /* VM-entry interruption information (25.8.3 "VM-Entry Controls for Event Injection"): vector,
     * type 3 = hardware exception, deliver-error-code, valid.  The next VM entry delivers it
     * through the guest's IDT before the guest's first instruction (27.6 "Event Injection"). */
    uint32_t info = INTR_INFO_VALID | (INTR_TYPE_HW_EXCEPTION << INTR_INFO_TYPE_SHIFT) | vector;
    /* The error code has a field of its own (SVM packs it into the upper
     * half of EVENTINJ).  Entry fails if deliver-error-code disagrees with
     * the vector, so the core passes has_error as the SDM lists it. */
    if (has_error) {
        info |= INTR_INFO_DELIVER_ERROR;
        vmwrite(VMCS_ENTRY_EXCEPTION_ERROR, error);
    }
    vmwrite(VMCS_ENTRY_INTR_INFO, info);
    /* The core must not inject a second event before this one is taken. */
    vcpu->event_pending = 1;
}

/* backend.single_step for VT-x: as svm_single_step().  The VMCS has no
 * DR6: VM entries and exits leave the register alone (SDM vol 3C 27.3.2.1
 * "Loading Guest Control Registers, Debug Registers, and MSRs" loads only
 * DR7), so the guest's DR6 is the processor's own while hv runs, and hv,
 * which uses no debug registers, sets BS in it directly. */
void vmx_single_step(struct vcpu *vcpu)
{
    write_dr6(read_dr6() | DR6_BS);
    vmx_inject_exception(vcpu, VEC_DB, false, 0);
}

/* backend.inject_interrupt for VT-x: deliver an external interrupt (the
 * PIC's vector) at the next entry. */
void vmx_inject_interrupt(struct vcpu *vcpu, uint8_t vector)
{
    /* Type 0 = external interrupt (25.8.3 "VM-Entry Controls for Event Injection").  Unlike SVM's
     * EVENTINJ, VM entry checks that the guest can take it: RFLAGS.IF = 1 and no blocking by STI or
     * MOV SS (27.3.1.4 "Checks on Guest RIP, RSP, RFLAGS, and SSP", 27.3.1.5), else the entry
     * fails; the core calls this only in that case (Bochs does the same, docs/emulators.md). */
    vmwrite(VMCS_ENTRY_INTR_INFO,
            INTR_INFO_VALID | (INTR_TYPE_EXT_INTR << INTR_INFO_TYPE_SHIFT) | vector);
    /* As above: one event at a time. */
    vcpu->event_pending = 1;
}

/* backend.irq_window for VT-x: ask for (on) or stop asking for (off) an
 * exit as soon as the guest can take an interrupt. */
void vmx_irq_window(struct vcpu *vcpu, bool on)
{
    /* The core loaded vcpu's VMCS before asking (backend->vcpu_load), so
     * the current VMCS is the one to change. */
    (void)vcpu;
    /* "Interrupt-window exiting" (primary control bit 2, 25.6.2): exit with
     * reason 7 at the first instruction boundary where RFLAGS.IF = 1 and
     * nothing blocks interrupts (27.7.5 "Interrupt-Window Exiting and Virtual-Interrupt Delivery",
     * "Interrupt-Window Exiting and Virtual-Interrupt Delivery").  SVM reaches the same with a
     * virtual interrupt request and the VINTR intercept.  probe() checked
     * that this CPU allows the bit. */
    /* Read-modify-write: the other primary controls stay as vcpu_init()
     * chose them.  The change takes effect at the next VM entry. */
    uint32_t proc = (uint32_t)vmread(VMCS_PROC_CONTROLS);
    proc = on ? proc | PROC_INTR_WINDOW_EXITING : proc & ~PROC_INTR_WINDOW_EXITING;
    vmwrite(VMCS_PROC_CONTROLS, proc);
}

/*
 * backend.vcpu_load for VT-x: make vcpu's VMCS the current one, which
 * VMREAD, VMWRITE and VMLAUNCH/VMRESUME act on (SDM vol 3C 25.11.1
 * "Software Use of Virtual-Machine Control Structures").  The core calls it
 * when it switches to another vCPU; with one vCPU, once.
 */
void vmx_vcpu_load(struct vcpu *vcpu)
{
    struct vmx_vcpu *vx = vcpu->arch;
    if (!vmptrld(virt_to_phys(vx->vmcs)))
        hv_log("vmx: VMPTRLD of the VMCS at %#llx failed",
               (unsigned long long)virt_to_phys(vx->vmcs));
}

/*
 * backend.vcpu_put for VT-x: vcpu stops being current.  VMCLEAR writes the
 * CPU's cached copy of the VMCS back to memory and puts it in the "clear"
 * launch state (SDM vol 3C 25.11.3 "Initializing a VMCS"), so the next
 * entry on it is a VMLAUNCH again; a VMCS must be clear before it may be
 * loaded on another CPU or its memory given back.
 */
void vmx_vcpu_put(struct vcpu *vcpu)
{
    struct vmx_vcpu *vx = vcpu->arch;
    if (vmclear(virt_to_phys(vx->vmcs)))
        vx->launched = false;
    else
        hv_log("vmx: VMCLEAR of the VMCS at %#llx failed",
               (unsigned long long)virt_to_phys(vx->vmcs));
}

/*
 * backend.vcpu_destroy for VT-x: the VMCS, the I/O and MSR bitmaps and our
 * per-vCPU data go back to hv's heap.  VMCLEAR first, whether or not the
 * VMCS is current: the CPU may keep VMCS data cached anywhere until
 * VMCLEAR writes it back, and memory it may still write must not be
 * handed out again (SDM vol 3C 25.11.1 "Software Use of Virtual-Machine
 * Control Structures").
 */
void vmx_vcpu_destroy(struct vcpu *vcpu)
{
    struct vmx_vcpu *vx = vcpu->arch;
    if (!vx)
        return;
    if (vx->vmcs && !vmclear(virt_to_phys(vx->vmcs)))
        hv_log("vmx: VMCLEAR of the VMCS at %#llx failed",
               (unsigned long long)virt_to_phys(vx->vmcs));
    page_free(vx->vmcs);
    page_free(vx->io_bitmaps);
    page_free(vx->msr_bitmap);
    page_free(vx->vapic);
    page_free(vx);
    vcpu->arch = NULL;
}

/* backend.flush_slat for VT-x: the core changed the EPT tables.  INVEPT
 * drops the translations the CPU derived from them (SDM vol 3C 29.4.3.1
 * "Operations that Invalidate Cached Mappings"); there is no per-address
 * form, so the range is not used, and the all-context type (probe()
 * checked the CPU has it) also covers the one EPTP hv uses. */
void vmx_flush_slat(struct vcpu *vcpu, uint64_t gpa, uint64_t len)
{
    (void)vcpu;
    (void)gpa;
    (void)len;
    invept_all();
}
