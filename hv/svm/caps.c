/*
 * caps.c - is AMD SVM here and usable, and turning it on.
 *
 * APM vol 2 15.4 "Enabling SVM": software must check CPUID
 * Fn8000_0001_ECX[SVM] (bit 2) and then VM_CR.SVMDIS (MSR C001_0114h bit 4):
 * if SVMDIS is set and VM_CR.LOCK is set, the BIOS disabled SVM and only
 * the BIOS (or a key, with SVM_LOCK) can re-enable it.  The SVM features
 * are in CPUID Fn8000_000A (15.5.1 "Basic Operation" and appendix E of vol 3).  SVM is then
 * enabled by setting EFER.SVME (15.4 "Enabling SVM"), and VMRUN needs a host state-save
 * area whose physical address is in VM_HSAVE_PA (15.30.4 "VM_HSAVE_PA MSR").
 */
#include "klib.h"

#include "core/alloc.h"
#include "core/cpu.h"
#include "core/log.h"
#include "internal.h"

/* Filled once by svm_probe() and read by vcpu.c, exit.c and the explainer:
 * the CPU cannot change its features while hv runs. */
struct svm_caps svm_caps;

/*
 * backend.probe for SVM: can this CPU run hv's SVM backend?  Returns true
 * and fills svm_caps when it can; otherwise false with the reason in `why`
 * (main.c shows it to the user).  It only reads CPUID and VM_CR, changing
 * nothing, so main.c may probe SVM and then VT-x.  The checks are in the
 * order of APM vol 2 15.4 "Enabling SVM": feature bit, firmware lock, then the features
 * hv itself needs.
 */
bool svm_probe(char *why, size_t why_len)
{
    /* Highest extended leaf: we need 0x8000000A.  Reading a leaf above the
     * maximum returns another leaf's data on Intel CPUs, so every extended
     * leaf is checked against this first. */
    uint32_t max_ext = cpuid(0x80000000u).eax;
    /* Bit 2 of 0x80000001 ECX: "SVM: secure virtual machine". */
    if (max_ext < 0x80000001u || !(cpuid(0x80000001u).ecx & CPUID_80000001_ECX_SVM)) {
        ksnprintf(why, why_len,
                  "CPUID 0x80000001 ECX bit 2 (SVM) is 0: this CPU has no AMD-V "
                  "(under QEMU use -accel tcg -cpu max)");
        return false;
    }
    /* VM_CR exists on every CPU with SVM; read it only now, since on an
     * Intel CPU the MSR does not exist and RDMSR would fault. */
    uint64_t vm_cr = rdmsr(MSR_VM_CR);
    /* With SVMDIS set, setting EFER.SVME would raise #GP (15.4 "Enabling SVM"): report it
     * here, in words, rather than fault in svm_enable(). */
    if (vm_cr & VM_CR_SVMDIS) {
        ksnprintf(why, why_len, "SVM is disabled by the firmware (VM_CR.SVMDIS = 1%s)",
                  (vm_cr & VM_CR_LOCK) ? ", locked: enable it in the BIOS setup" : "");
        return false;
    }
    /* Leaf 0x8000000A lists the optional SVM features (revision, ASIDs, NP,
     * NRIPS, ...); a CPU with SVM but without the leaf is not one we know. */
    if (max_ext < 0x8000000au) {
        ksnprintf(why, why_len, "CPUID has no leaf 0x8000000A (SVM features)");
        return false;
    }
    /* EDX of 0x8000000A: one bit per optional SVM feature. */
    uint32_t features = cpuid(0x8000000au).edx;
    /* hv maps guest memory only with nested paging (15.25 "Nested Paging"): without it a
     * hypervisor needs shadow page tables, which hv does not have. */
    if (!(features & CPUID_8000000A_EDX_NP)) {
        ksnprintf(why, why_len,
                  "the CPU has SVM but no nested paging (CPUID 0x8000000A EDX bit 0), "
                  "which hv needs");
        return false;
    }
    /* Without NRIPS (QEMU) the exit code computes the next RIP itself. */
    svm_caps.nrips = features & CPUID_8000000A_EDX_NRIPS;
    /* EBX of the leaf: how many ASIDs the TLB can tell apart (APM vol 3
     * E.4.15 "Function 8000_000Ah-SVM Revision and Feature
     * Identification"); each domain takes one (vcpu.c). */
    svm_caps.nasid = cpuid(0x8000000au).ebx;
    /* Physical address width, for the explainer's range checks.  Leaf
     * 0x80000008 EAX[7:0]; 40 bits is the value the APM's examples assume when
     * the leaf is missing, and only the explainer uses it. */
    svm_caps.phys_bits =
        max_ext >= 0x80000008u ? CPUID_80000008_EAX_PHYSBITS(cpuid(0x80000008u).eax) : 40;
    return true;
}

/*
 * backend.enable for SVM: turn SVM on for this CPU, after a successful
 * probe.  Returns 0, or -1 when there is no page left for the host save
 * area (main.c then ends hv with an error).  There is no "SVM off" step:
 * hv never leaves SVM until the outer machine ends.
 */
int svm_enable(void)
{
    /* EFER.SVME = 1 makes the SVM instructions legal (15.4 "Enabling SVM").
     * Read-modify-write: LME/LMA/NXE of our own long mode must stay.
     * EFER.NXE too, when the CPU has it (CPUID 0x80000001 EDX bit 20): the
     * nested walk uses the host's paging mode (15.25.5 "Nested Table Walk"), so the NX bit of
     * a nested page table entry means "no execute" only with the host's
     * NXE set, and is a reserved bit otherwise.  hv's own page tables set
     * no NX bit, so nothing else changes. */
    uint64_t efer = rdmsr(MSR_EFER) | EFER_SVME;
    if (cpuid(0x80000001).edx & (1u << 20))
        efer |= EFER_NXE;
    wrmsr(MSR_EFER, efer);
    /* VMRUN saves host state into this page and #VMEXIT reloads it
     * (15.5.1 "Basic Operation", 15.30.4): 4 KiB, 4 KiB aligned, never touched by us. */
    void *hsave = page_alloc(4096, 4096);
    if (!hsave)
        return -1;
    /* The MSR takes a physical address: the CPU writes there directly,
     * without going through our page tables. */
    wrmsr(MSR_VM_HSAVE_PA, virt_to_phys(hsave));
    /* One line that says what the rest of the run depends on, so a log
     * from QEMU and one from Bochs can be told apart at a glance. */
    hv_log("svm: enabled (EFER.SVME = 1, host save area at %#llx, NRIPS %s, %u-bit physical)",
           (unsigned long long)virt_to_phys(hsave), svm_caps.nrips ? "yes" : "no",
           svm_caps.phys_bits);
    /* The time-slice watchdog, and GIF = 0 from now on (preempt.c). */
    svm_preempt_init();
    return 0;
}

/* backend.slat_caps for SVM: what nested page table entries can express.
 * A present entry is always readable, so there are no execute-only pages;
 * no-execute pages need the host's EFER.NXE, which svm_enable() sets when
 * the CPU has NX. */
unsigned svm_slat_caps(void)
{
    return (rdmsr(MSR_EFER) & EFER_NXE) ? SLAT_CAP_NOEXEC : 0;
}
