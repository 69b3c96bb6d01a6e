/*
 * caps.c - is Intel VT-x here and usable, and turning it on.
 *
 * SDM Vol. 3C 24.6 "Discovering Support for VMX": CPUID.1:ECX.VMX (bit 5).
 * 24.7 "Enabling and Entering VMX Operation": IA32_FEATURE_CONTROL must
 * allow VMXON outside SMX (bit 2) and be locked (bit 0); firmware usually
 * locks it, and if it locked it with bit 2 clear only the firmware setup can
 * change that.  Then CR4.VMXE = 1, CR0 and CR4 obeying the FIXED MSRs (24.8 "Restrictions on VMX
 * Operation"), and VMXON with a 4-KiB region that starts with the VMCS revision identifier from
 * IA32_VMX_BASIC (25.11.5 "VMXON Region").  What VMX can do is read from the capability MSRs of
 * Vol. 3D appendix A, never assumed.
 *
 * Compare hv/svm/caps.c: SVM's whole discovery is a CPUID bit, one MSR
 * (VM_CR) and a CPUID leaf of feature bits, and turning it on is one bit in
 * EFER plus a save area.  VT-x asks more of software: a dozen capability
 * MSRs say, control by control, which settings this CPU allows; CR0 and CR4
 * have bits that must be 1 (or 0) for as long as VMX is on; and VMXON takes
 * a region of memory, stamped with a revision number, that the CPU owns
 * from then on.  The extra work is the price of a design in which Intel may
 * add or retire controls without breaking old hypervisors: nothing is
 * promised unless an MSR says so.
 */
#include "klib.h"

#include "core/alloc.h"
#include "core/cpu.h"
#include "core/log.h"
#include "internal.h"

/* Filled once by vmx_probe() and read by vcpu.c, ctls.c and the explainer.
 * The MSRs are read-only and cannot change while hv runs, so reading them
 * once is enough; the same global on the SVM side is svm_caps. */
struct vmx_caps vmx_caps;

/* Read the capability MSRs into vmx_caps (appendix A).  Only vmx_probe()
 * calls this, after CPUID said VMX exists: on a CPU without VMX these MSRs
 * do not exist and RDMSR would raise #GP in hv itself. */
static void read_caps(void)
{
    struct vmx_caps *c = &vmx_caps;
    /* IA32_VMX_BASIC (A.1): the VMCS revision identifier (bits 30:0), the
     * size of the VMCS region, the memory type the CPU uses to access it
     * (bits 53:50) and whether the TRUE_* control MSRs exist (bit 55). */
    c->basic = rdmsr(MSR_VMX_BASIC);
    /* BASIC bit 55: the TRUE_* MSRs exist and say which "default1" controls
     * may be 0 (A.2); they replace the original four. */
    bool true_ctls = c->basic & VMX_BASIC_TRUE_CTLS;
    c->pin = rdmsr(true_ctls ? MSR_VMX_TRUE_PINBASED_CTLS : MSR_VMX_PINBASED_CTLS);
    c->proc = rdmsr(true_ctls ? MSR_VMX_TRUE_PROCBASED_CTLS : MSR_VMX_PROCBASED_CTLS);
    c->exit = rdmsr(true_ctls ? MSR_VMX_TRUE_EXIT_CTLS : MSR_VMX_EXIT_CTLS);
    c->entry = rdmsr(true_ctls ? MSR_VMX_TRUE_ENTRY_CTLS : MSR_VMX_ENTRY_CTLS);
    /* IA32_VMX_MISC (A.6): among other things the number of CR3-target
     * values (bits 24:16) and whether an injected software interrupt may
     * have instruction length 0 (bit 30); the explainer checks both. */
    c->misc = rdmsr(MSR_VMX_MISC);
    /* The FIXED pairs (A.7, A.8): a bit that is 1 in FIXED0 must be 1 in
     * CR0/CR4 while VMX is on, a bit that is 0 in FIXED1 must be 0.  SVM has
     * no such rule; it only forbids combinations the CPU itself rejects. */
    c->cr0_fixed0 = rdmsr(MSR_VMX_CR0_FIXED0);
    c->cr0_fixed1 = rdmsr(MSR_VMX_CR0_FIXED1);
    c->cr4_fixed0 = rdmsr(MSR_VMX_CR4_FIXED0);
    c->cr4_fixed1 = rdmsr(MSR_VMX_CR4_FIXED1);
    /* PROCBASED_CTLS2 exists only if the secondary controls may be 1 (A.3.3),
     * and EPT_VPID_CAP only if EPT or VPID may be 1 (A.10). */
    c->proc2 =
        (vmx_ctl_may1(c->proc) & PROC_SECONDARY_CONTROLS) ? rdmsr(MSR_VMX_PROCBASED_CTLS2) : 0;
    c->ept_vpid = (vmx_ctl_may1(c->proc2) & (PROC2_ENABLE_EPT | PROC2_ENABLE_VPID))
                      ? rdmsr(MSR_VMX_EPT_VPID_CAP)
                      : 0;
    /* Address widths, for the entry checks (explain.c): many VMCS fields
     * must not set bits beyond the physical-address width, and bases must
     * be canonical for the linear-address width.  CPUID 0x80000008 EAX gives
     * both (SDM Vol. 2A "CPUID"); a CPU without the leaf is assumed to have
     * 36 physical and 48 linear bits (0x3024), the smallest 64-bit values. */
    uint32_t max_ext = cpuid(0x80000000u).eax;
    uint32_t sizes = max_ext >= 0x80000008u ? cpuid(0x80000008u).eax : 0x3024;
    /* EAX bits 7:0 are the physical width, bits 15:8 the linear width. */
    c->phys_bits = sizes & 0xff;
    c->lin_bits = (sizes >> 8) & 0xff;
}

/*
 * backend.probe for VT-x: can this CPU run hv's VMX backend?  Returns true
 * and fills vmx_caps when it can; otherwise false with the reason in `why`,
 * which main.c shows to the user.  Like svm_probe() it changes nothing (it
 * only reads CPUID and MSRs), so main.c may try one vendor and then the
 * other.  The order follows the SDM: the feature bit (24.6 "Discovering Support for VMX"), the
 * firmware lock (24.7 "Enabling and Entering VMX Operation"), then every capability hv depends on,
 * so that a missing feature is named here in words instead of failing later as an obscure VM-entry
 * error.
 */
bool vmx_probe(char *why, size_t why_len)
{
    /* CPUID.1:ECX bit 5: "VMX: virtual machine extensions". */
    if (!(cpuid(1).ecx & CPUID_1_ECX_VMX)) {
        ksnprintf(why, why_len,
                  "CPUID 1 ECX bit 5 (VMX) is 0: this CPU has no Intel VT-x "
                  "(QEMU's TCG emulates none: use Bochs, bin/hvrun --emulator bochs)");
        return false;
    }
    /* Locked with VMXON-outside-SMX clear: the firmware forbids VMX.  The
     * MSR cannot be written once bit 0 (lock) is set, until the next reset,
     * so there is nothing hv can do but say where to change it.  SVM's
     * equivalent is VM_CR.SVMDIS with VM_CR.LOCK. */
    uint64_t fc = rdmsr(MSR_FEATURE_CONTROL);
    if ((fc & FEATURE_CONTROL_LOCK) && !(fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX)) {
        ksnprintf(why, why_len,
                  "VMX is disabled by the firmware (IA32_FEATURE_CONTROL = %#llx: locked, "
                  "bit 2 clear): enable it in the BIOS setup",
                  (unsigned long long)fc);
        return false;
    }
    /* Safe now: CPUID says VMX exists, so the capability MSRs do too. */
    read_caps();
    /* The VMCS must be write-back memory, which hv's identity map is.  Every
     * processor so far reports 6 (WB) in IA32_VMX_BASIC bits 53:50 (A.1);
     * checking keeps hv honest should one ever report uncacheable. */
    if (VMX_BASIC_MEMTYPE(vmx_caps.basic) != 6) {
        ksnprintf(why, why_len, "IA32_VMX_BASIC asks for VMCS memory type %u; hv supports 6 (WB)",
                  (unsigned)VMX_BASIC_MEMTYPE(vmx_caps.basic));
        return false;
    }
    /* Every control hv needs must be allowed (ctls.c).  The same function
     * picks the controls again in vcpu.c, so what is checked here is exactly
     * what will be written; the result is thrown away now. */
    struct vmx_controls ctl;
    const char *missing = vmx_choose_controls(&vmx_caps, &ctl);
    if (missing) {
        ksnprintf(why, why_len,
                  "this CPU's VMX lacks the control \"%s\" (capability MSRs), which hv needs",
                  missing);
        return false;
    }
    /* EPT the way the core builds it: 4 levels, write-back, 2-MiB pages,
     * and INVEPT of all contexts to flush it after a change (vcpu.c).
     * IA32_VMX_EPT_VPID_CAP (A.10) lists the page-walk lengths, memory types
     * and page sizes the CPU supports for EPT; SVM's nested paging instead
     * reuses the ordinary page-table format, so it has no such list. */
    uint64_t ept = vmx_caps.ept_vpid;
    if (!(ept & EPT_CAP_WALK4) || !(ept & EPT_CAP_WB) || !(ept & EPT_CAP_2M) ||
        !(ept & EPT_CAP_INVEPT) || !(ept & EPT_CAP_INVEPT_ALL)) {
        ksnprintf(why, why_len,
                  "EPT lacks 4-level walks, write-back tables, 2-MiB pages or all-context "
                  "INVEPT (IA32_VMX_EPT_VPID_CAP = %#llx)",
                  (unsigned long long)ept);
        return false;
    }
    return true;
}

/*
 * VM exits load the host's TR from the VMCS, and VM entry refuses a null TR
 * selector (SDM Vol. 3C 27.2.3 "Checks on Host Segment and Descriptor-Table Registers").  hv's boot
 * GDT (hv/boot/entry.S) has no TSS, so the VMX backend gives the host one: a copy of the boot GDT
 * with a 64-bit TSS descriptor added (SDM Vol. 3A 8.2.3 "TSS Descriptor in 64-bit mode"), loaded
 * with LTR.  SVM does not need this: VMRUN saves and restores TR as it finds it.
 */
/* Null, code, data, then the 16-byte TSS descriptor in slots 3 and 4. */
static uint64_t host_gdt[5] __attribute__((aligned(16)));
/* The TSS's address, which vcpu.c writes to the HOST_TR_BASE field: the
 * VMCS keeps the base itself, not a descriptor the CPU would look up. */
uint64_t vmx_host_tr_base;
/* A 64-bit TSS is 104 bytes (SDM Vol. 3A 8.7 "Task Management in 64-bit Mode").  hv never switches
 * stacks through it (no IST, no ring 3), so it stays all zeros. */
static uint8_t host_tss[104] __attribute__((aligned(16)));

/* Build host_gdt, switch to it and load TR (see the comment above). */
static void load_host_tss(void)
{
    /* The pseudo-descriptor SGDT stores and LGDT loads: a 16-bit limit
     * followed by a 64-bit base, with no padding (SDM Vol. 3A 3.5.1 "Segment Descriptor Tables").
     */
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } gdtr;
    /* The boot GDT's null, code and data descriptors stay at 0x00/0x08/0x10. */
    __asm__ volatile("sgdt %0" : "=m"(gdtr));
    memcpy(host_gdt, (void *)(uintptr_t)gdtr.base, 3 * sizeof(uint64_t));
    /* A 16-byte system descriptor: type 9 (available 64-bit TSS), P = 1,
     * limit 103, base split over the two quadwords. */
    uint64_t base = (uint64_t)(uintptr_t)host_tss;
    /* Low quadword: limit 15:0 in bits 15:0, base 23:0 in bits 39:16, the
     * type in bits 43:40, P in bit 47, base 31:24 in bits 63:56. */
    host_gdt[3] = (sizeof(host_tss) - 1) | ((base & 0xffffff) << 16) | (9ull << 40) | (1ull << 47) |
                  ((base >> 24) & 0xff) << 56;
    /* High quadword: base 63:32; the rest must be zero. */
    host_gdt[4] = base >> 32;
    vmx_host_tr_base = base;
    /* Switch to the copy.  The segment registers keep their selectors and
     * cached descriptors, which are the same in both tables. */
    gdtr.limit = sizeof(host_gdt) - 1;
    gdtr.base = (uint64_t)(uintptr_t)host_gdt;
    __asm__ volatile("lgdt %0" : : "m"(gdtr) : "memory");
    /* LTR marks the descriptor busy, as VM entry expects of the host TR. */
    __asm__ volatile("ltr %w0" : : "r"((uint16_t)VMX_HOST_TSS_SEL) : "memory");
}

/*
 * backend.enable for VT-x: enter VMX root operation.  Called once, after a
 * successful vmx_probe().  Returns 0, or -1 after logging why (main.c then
 * ends with "exit: error").  The SVM counterpart sets EFER.SVME and
 * VM_HSAVE_PA; here the steps are those of SDM Vol. 3C 24.7 "Enabling and Entering VMX Operation":
 * feature control, the fixed CR0/CR4 bits, CR4.VMXE, then VMXON.
 */
int vmx_enable(void)
{
    /* Unlocked (a bare emulator, no firmware setup): allow VMXON outside SMX
     * and lock the MSR, as firmware would (24.7 "Enabling and Entering VMX Operation"). */
    uint64_t fc = rdmsr(MSR_FEATURE_CONTROL);
    if (!(fc & FEATURE_CONTROL_LOCK))
        wrmsr(MSR_FEATURE_CONTROL, fc | FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX);
    /* CR0 and CR4 must obey the FIXED MSRs in VMX operation (24.8 "Restrictions on VMX Operation"):
     * this sets CR0.NE, which hv's boot code leaves clear, and CR4.VMXE. */
    write_cr0(vmx_fixed_apply(read_cr0(), vmx_caps.cr0_fixed0, vmx_caps.cr0_fixed1, 0));
    write_cr4(vmx_fixed_apply(read_cr4() | CR4_VMXE, vmx_caps.cr4_fixed0, vmx_caps.cr4_fixed1, 0));
    /* The VMXON region: 4 KiB aligned, revision identifier in its first 31
     * bits, the rest the CPU's own (25.11.5 "VMXON Region"). */
    uint32_t *vmxon_region = page_alloc(4096, 4096);
    if (!vmxon_region)
        return -1;
    /* Bit 31 must be 0 here: it is the "shadow VMCS" indicator, meaningful
     * only for VMCS regions. */
    vmxon_region[0] = (uint32_t)(vmx_caps.basic & VMX_BASIC_REVISION_MASK);
    /* VMXON takes the region's physical address; hv's identity map makes it
     * equal to the virtual one.  It fails (CF = 1, VMfailInvalid) on a wrong
     * revision identifier or a misaligned or too-wide address; CR0/CR4
     * outside the fixed bits or an unlocked IA32_FEATURE_CONTROL would
     * instead raise #GP (SDM Vol. 3C 31.3 "VMXON").  All of that is taken
     * care of above, so a failure here means an emulator or CPU that
     * disagrees with its own MSRs. */
    if (!vmxon(virt_to_phys(vmxon_region))) {
        hv_log("vmx: VMXON failed (CR0 %#llx, CR4 %#llx, IA32_FEATURE_CONTROL %#llx)",
               (unsigned long long)read_cr0(), (unsigned long long)read_cr4(),
               (unsigned long long)rdmsr(MSR_FEATURE_CONTROL));
        return -1;
    }
    /* From here on VM exits need a host TR.  Loading it after VMXON is
     * fine: nothing reads it until vcpu.c copies it into the VMCS. */
    load_host_tss();
    /* One line for the log: enough to tell from a bug report which CPU
     * model (revision) and which control MSRs hv worked from. */
    hv_log("vmx: enabled (VMXON region at %#llx, VMCS revision %#x, %s capability MSRs, "
           "%u-bit physical)",
           (unsigned long long)virt_to_phys(vmxon_region), vmxon_region[0],
           (vmx_caps.basic & VMX_BASIC_TRUE_CTLS) ? "TRUE_*" : "original", vmx_caps.phys_bits);
    return 0;
}

/* backend.slat_caps for VT-x: EPT can always forbid execution (bit 2 of an
 * entry); execute-only pages need IA32_VMX_EPT_VPID_CAP bit 0 (SDM vol 3D
 * A.10 "VPID and EPT Capabilities"). */
unsigned vmx_slat_caps(void)
{
    return SLAT_CAP_NOEXEC | ((vmx_caps.ept_vpid & EPT_CAP_XONLY) ? SLAT_CAP_XONLY : 0);
}
