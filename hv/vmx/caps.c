/*
 * caps.c - is Intel VT-x here and usable, and turning it on.
 *
 * SDM Vol. 3C 24.6 "Discovering Support for VMX": CPUID.1:ECX.VMX (bit 5).
 * 24.7 "Enabling and Entering VMX Operation": IA32_FEATURE_CONTROL must
 * allow VMXON outside SMX (bit 2) and be locked (bit 0); firmware usually
 * locks it, and if it locked it with bit 2 clear only the firmware setup can
 * change that.  Then CR4.VMXE = 1, CR0 and CR4 obeying the FIXED MSRs (24.8),
 * and VMXON with a 4-KiB region that starts with the VMCS revision
 * identifier from IA32_VMX_BASIC (25.11.5).  What VMX can do is read from
 * the capability MSRs of Vol. 3D appendix A, never assumed.
 */
#include "klib.h"

#include "core/alloc.h"
#include "core/cpu.h"
#include "core/log.h"
#include "internal.h"

struct vmx_caps vmx_caps;

/* Read the capability MSRs into vmx_caps (appendix A). */
static void read_caps(void)
{
    struct vmx_caps *c = &vmx_caps;
    c->basic = rdmsr(MSR_VMX_BASIC);
    /* BASIC bit 55: the TRUE_* MSRs exist and say which "default1" controls
     * may be 0 (A.2); they replace the original four. */
    bool true_ctls = c->basic & VMX_BASIC_TRUE_CTLS;
    c->pin = rdmsr(true_ctls ? MSR_VMX_TRUE_PINBASED_CTLS : MSR_VMX_PINBASED_CTLS);
    c->proc = rdmsr(true_ctls ? MSR_VMX_TRUE_PROCBASED_CTLS : MSR_VMX_PROCBASED_CTLS);
    c->exit = rdmsr(true_ctls ? MSR_VMX_TRUE_EXIT_CTLS : MSR_VMX_EXIT_CTLS);
    c->entry = rdmsr(true_ctls ? MSR_VMX_TRUE_ENTRY_CTLS : MSR_VMX_ENTRY_CTLS);
    c->misc = rdmsr(MSR_VMX_MISC);
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
    /* Address widths, for the entry checks (explain.c). */
    uint32_t max_ext = cpuid(0x80000000u, 0).eax;
    uint32_t sizes = max_ext >= 0x80000008u ? cpuid(0x80000008u, 0).eax : 0x3024;
    c->phys_bits = sizes & 0xff;
    c->lin_bits = (sizes >> 8) & 0xff;
}

bool vmx_probe(char *why, size_t why_len)
{
    /* CPUID.1:ECX bit 5: "VMX: virtual machine extensions". */
    if (!(cpuid(1, 0).ecx & CPUID_1_ECX_VMX)) {
        ksnprintf(why, why_len,
                  "CPUID 1 ECX bit 5 (VMX) is 0: this CPU has no Intel VT-x "
                  "(QEMU's TCG emulates none: use Bochs, bin/hvrun --emulator bochs)");
        return false;
    }
    /* Locked with VMXON-outside-SMX clear: the firmware forbids VMX. */
    uint64_t fc = rdmsr(MSR_FEATURE_CONTROL);
    if ((fc & FEATURE_CONTROL_LOCK) && !(fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX)) {
        ksnprintf(why, why_len,
                  "VMX is disabled by the firmware (IA32_FEATURE_CONTROL = %#llx: locked, "
                  "bit 2 clear): enable it in the BIOS setup",
                  (unsigned long long)fc);
        return false;
    }
    read_caps();
    /* The VMCS must be write-back memory, which hv's identity map is. */
    if (VMX_BASIC_MEMTYPE(vmx_caps.basic) != 6) {
        ksnprintf(why, why_len, "IA32_VMX_BASIC asks for VMCS memory type %u; hv supports 6 (WB)",
                  (unsigned)VMX_BASIC_MEMTYPE(vmx_caps.basic));
        return false;
    }
    /* Every control hv needs must be allowed (ctls.c). */
    struct vmx_controls ctl;
    const char *missing = vmx_choose_controls(&vmx_caps, &ctl);
    if (missing) {
        ksnprintf(why, why_len,
                  "this CPU's VMX lacks the control \"%s\" (capability MSRs), which hv needs",
                  missing);
        return false;
    }
    /* EPT the way paging.c builds it: 4 levels, write-back, 2-MiB pages. */
    uint64_t ept = vmx_caps.ept_vpid;
    if (!(ept & EPT_CAP_WALK4) || !(ept & EPT_CAP_WB) || !(ept & EPT_CAP_2M)) {
        ksnprintf(why, why_len,
                  "EPT lacks 4-level walks, write-back tables or 2-MiB pages "
                  "(IA32_VMX_EPT_VPID_CAP = %#llx)",
                  (unsigned long long)ept);
        return false;
    }
    return true;
}

/*
 * VM exits load the host's TR from the VMCS, and VM entry refuses a null TR
 * selector (SDM Vol. 3C 27.2.3).  hv's boot GDT (hv/boot/entry.S) has no TSS,
 * so the VMX backend gives the host one: a copy of the boot GDT with a
 * 64-bit TSS descriptor added (SDM Vol. 3A 8.2.3), loaded with LTR.  SVM
 * does not need this: VMRUN saves and restores TR as it finds it.
 */
static uint64_t host_gdt[5] __attribute__((aligned(16)));
uint64_t vmx_host_tr_base;
static uint8_t host_tss[104] __attribute__((aligned(16)));

static void load_host_tss(void)
{
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
    host_gdt[3] = (sizeof(host_tss) - 1) | ((base & 0xffffff) << 16) | (9ull << 40) | (1ull << 47) |
                  ((base >> 24) & 0xff) << 56;
    host_gdt[4] = base >> 32;
    vmx_host_tr_base = base;
    gdtr.limit = sizeof(host_gdt) - 1;
    gdtr.base = (uint64_t)(uintptr_t)host_gdt;
    __asm__ volatile("lgdt %0" : : "m"(gdtr) : "memory");
    /* LTR marks the descriptor busy, as VM entry expects of the host TR. */
    __asm__ volatile("ltr %w0" : : "r"((uint16_t)VMX_HOST_TSS_SEL) : "memory");
}

int vmx_enable(void)
{
    /* Unlocked (a bare emulator, no firmware setup): allow VMXON outside SMX
     * and lock the MSR, as firmware would (24.7). */
    uint64_t fc = rdmsr(MSR_FEATURE_CONTROL);
    if (!(fc & FEATURE_CONTROL_LOCK))
        wrmsr(MSR_FEATURE_CONTROL, fc | FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX);
    /* CR0 and CR4 must obey the FIXED MSRs in VMX operation (24.8): this sets
     * CR0.NE, which hv's boot code leaves clear, and CR4.VMXE. */
    write_cr0(vmx_fixed_apply(read_cr0(), vmx_caps.cr0_fixed0, vmx_caps.cr0_fixed1, 0));
    write_cr4(vmx_fixed_apply(read_cr4() | CR4_VMXE, vmx_caps.cr4_fixed0, vmx_caps.cr4_fixed1, 0));
    /* The VMXON region: 4 KiB aligned, revision identifier in its first 31
     * bits, the rest the CPU's own (25.11.5). */
    uint32_t *vmxon_region = page_alloc(4096, 4096);
    if (!vmxon_region)
        return -1;
    vmxon_region[0] = (uint32_t)(vmx_caps.basic & VMX_BASIC_REVISION_MASK);
    if (!vmxon(virt_to_phys(vmxon_region))) {
        hv_log("vmx: VMXON failed (CR0 %#llx, CR4 %#llx, IA32_FEATURE_CONTROL %#llx)",
               (unsigned long long)read_cr0(), (unsigned long long)read_cr4(),
               (unsigned long long)rdmsr(MSR_FEATURE_CONTROL));
        return -1;
    }
    /* From here on VM exits need a host TR. */
    load_host_tss();
    hv_log("vmx: enabled (VMXON region at %#llx, VMCS revision %#x, %s capability MSRs, "
           "%u-bit physical)",
           (unsigned long long)virt_to_phys(vmxon_region), vmxon_region[0],
           (vmx_caps.basic & VMX_BASIC_TRUE_CTLS) ? "TRUE_*" : "original", vmx_caps.phys_bits);
    return 0;
}
