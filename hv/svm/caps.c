/*
 * caps.c - is AMD SVM here and usable, and turning it on.
 *
 * APM vol 2 15.4 "Enabling SVM": software must check CPUID
 * Fn8000_0001_ECX[SVM] (bit 2) and then VM_CR.SVMDIS (MSR C001_0114h bit 4):
 * if SVMDIS is set and VM_CR.LOCK is set, the BIOS disabled SVM and only
 * the BIOS (or a key, with SVM_LOCK) can re-enable it.  The SVM features
 * are in CPUID Fn8000_000A (15.5.1 and appendix E of vol 3).  SVM is then
 * enabled by setting EFER.SVME (15.4), and VMRUN needs a host state-save
 * area whose physical address is in VM_HSAVE_PA (15.30.4).
 */
#include "klib.h"

#include "core/alloc.h"
#include "core/cpu.h"
#include "core/log.h"
#include "internal.h"

struct svm_caps svm_caps;

bool svm_probe(char *why, size_t why_len)
{
    /* Highest extended leaf: we need 0x8000000A. */
    uint32_t max_ext = cpuid(0x80000000u, 0).eax;
    /* Bit 2 of 0x80000001 ECX: "SVM: secure virtual machine". */
    if (max_ext < 0x80000001u || !(cpuid(0x80000001u, 0).ecx & CPUID_80000001_ECX_SVM)) {
        ksnprintf(why, why_len,
                  "CPUID 0x80000001 ECX bit 2 (SVM) is 0: this CPU has no AMD-V "
                  "(under QEMU use -accel tcg -cpu max)");
        return false;
    }
    /* VM_CR exists on every CPU with SVM; read it only now, since on an
     * Intel CPU the MSR does not exist and RDMSR would fault. */
    uint64_t vm_cr = rdmsr(MSR_VM_CR);
    if (vm_cr & VM_CR_SVMDIS) {
        ksnprintf(why, why_len, "SVM is disabled by the firmware (VM_CR.SVMDIS = 1%s)",
                  (vm_cr & VM_CR_LOCK) ? ", locked: enable it in the BIOS setup" : "");
        return false;
    }
    if (max_ext < 0x8000000au) {
        ksnprintf(why, why_len, "CPUID has no leaf 0x8000000A (SVM features)");
        return false;
    }
    uint32_t features = cpuid(0x8000000au, 0).edx;
    /* hv maps guest memory only with nested paging (15.25). */
    if (!(features & CPUID_8000000A_EDX_NP)) {
        ksnprintf(why, why_len,
                  "the CPU has SVM but no nested paging (CPUID 0x8000000A EDX bit 0), "
                  "which hv needs");
        return false;
    }
    /* Without NRIPS (QEMU) the exit code computes the next RIP itself. */
    svm_caps.nrips = features & CPUID_8000000A_EDX_NRIPS;
    /* Physical address width, for the explainer's range checks. */
    svm_caps.phys_bits =
        max_ext >= 0x80000008u ? CPUID_80000008_EAX_PHYSBITS(cpuid(0x80000008u, 0).eax) : 40;
    return true;
}

int svm_enable(void)
{
    /* EFER.SVME = 1 makes the SVM instructions legal (15.4). */
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
    /* VMRUN saves host state into this page and #VMEXIT reloads it
     * (15.5.1, 15.30.4): 4 KiB, 4 KiB aligned, never touched by us. */
    void *hsave = page_alloc(4096, 4096);
    if (!hsave)
        return -1;
    wrmsr(MSR_VM_HSAVE_PA, virt_to_phys(hsave));
    hv_log("svm: enabled (EFER.SVME = 1, host save area at %#llx, NRIPS %s, %u-bit physical)",
           (unsigned long long)virt_to_phys(hsave), svm_caps.nrips ? "yes" : "no",
           svm_caps.phys_bits);
    return 0;
}
