/*
 * msr.c - emulated MSRs (see msr.h).  EFER: AMD APM vol 2 3.1.7 "Extended Feature Enable Register
 * (EFER)" and SDM vol 3A 2.2.1 "Extended Feature Enable Register"; PAT: SDM vol 3A 12.12 "Page
 * Attribute Table (PAT)"; the others: SDM vol 4 chapter 2 "Model-Specific Registers (MSRs)".
 */
#include "cpu.h"
#include "hv.h"
#include "msr.h"

/* MSRs emulated here besides EFER, PAT and the TSC (SDM vol 4 table 2-2
 * "IA-32 Architectural MSRs"). */
#define MSR_TSC_ADJUST  0x3bu
#define MSR_MISC_ENABLE 0x1a0u
#define MSR_DS_AREA     0x600u

/* IA32_MISC_ENABLE bits QEMU sets at reset: fast strings (bit 0) and, when
 * CPUID offers MONITOR/MWAIT, "ENABLE MONITOR FSM" (bit 18). */
#define MISC_ENABLE_FAST_STRINGS (1ull << 0)
#define MISC_ENABLE_MWAIT        (1ull << 18)
/* CPUID.1:ECX bit 3: MONITOR/MWAIT. */
#define CPUID1_ECX_MONITOR (1u << 3)

/*
 * The performance-monitoring MSRs: hv gives the guest no counters (CPUID
 * leaf 0xA reads 0, PDCM is hidden), but guests written for QEMU program
 * them anyway -- AMD's legacy four counters exist on every AMD64 CPU
 * without a CPUID bit (APM vol 2 13.2 "Performance Monitoring Counters").
 * They behave as under QEMU's TCG: reads return 0, writes are ignored, so
 * the counters simply never count.
 */
static bool pmu_msr(uint32_t i)
{
    return (i >= 0xc1u && i <= 0xc8u) ||             /* IA32_PMC0-7 */
           (i >= 0x186u && i <= 0x18du) ||           /* IA32_PERFEVTSEL0-7 */
           (i >= 0x309u && i <= 0x30bu) ||           /* IA32_FIXED_CTR0-2 */
           i == 0x345u ||                            /* IA32_PERF_CAPABILITIES */
           (i >= 0x38du && i <= 0x390u) ||           /* FIXED_CTR_CTRL, GLOBAL_* */
           (i >= 0x4c1u && i <= 0x4c8u) ||           /* IA32_A_PMC0-7 */
           (i >= 0xc0010000u && i <= 0xc0010007u) || /* AMD PerfEvtSel0-3, PerfCtr0-3 */
           (i >= 0xc0010200u && i <= 0xc001020bu);   /* AMD PerfEvtSel/PerfCtr 0-5 */
}

/* A 64-bit linear address is canonical when bits 63:47 are all equal
 * (SDM vol 1 3.3.7.1 "Canonical Addressing"). */
static bool canonical(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

uint64_t msr_misc_enable_reset(uint32_t cpuid1_ecx)
{
    return MISC_ENABLE_FAST_STRINGS | (cpuid1_ecx & CPUID1_ECX_MONITOR ? MISC_ENABLE_MWAIT : 0);
}

/* EFER bits a guest may set: SCE, LME, NXE.  LMA is set by the CPU, not by
 * software; SVME would need SVM, which the guest is told it lacks. */
#define EFER_GUEST_WRITABLE (EFER_SCE | EFER_LME | EFER_NXE)

/* PAT: each of the 8 bytes holds a memory type; 2, 3 and >= 8 are
 * reserved and writing them raises #GP (SDM vol 3A 12.12.2 "IA32_PAT MSR"). */
static bool pat_valid(uint64_t pat)
{
    /* Entries PA0..PA7, one byte each, PA0 in the lowest byte. */
    for (unsigned i = 0; i < 8; i++) {
        uint8_t t = (uint8_t)(pat >> (8 * i));
        if (t == 2 || t == 3 || t > 7)
            return false;
    }
    return true;
}

/*
 * RDMSR of `index` by the guest, for the dispatcher: true with *value set,
 * or false for "no such MSR", which the dispatcher turns into #GP(0) as a
 * CPU without that MSR would.  Only MSRs the backend intercepts come here.
 */
bool msr_read(struct vcpu *v, uint32_t index, uint64_t *value)
{
    switch (index) {
    case MSR_EFER:
        /* The guest's view: LMA as the CPU set it, never SVME. */
        vcpu_need(v, VCPU_EFER);
        *value = v->efer;
        return true;
    case MSR_PAT:
        /* The value the backend loads as the guest PAT (G_PAT / VMCS). */
        *value = v->pat;
        return true;
    case MSR_TSC:
        /* RDTSC is not intercepted: the guest sees the host TSC plus the
         * offset the backend loads, and RDMSR of the TSC must agree. */
        *value = rdtsc() + v->tsc_offset;
        return true;
    case MSR_TSC_ADJUST:
        /* What the guest has added to its TSC so far (18.17.3). */
        *value = v->tsc_offset;
        return true;
    case MSR_MISC_ENABLE:
        *value = v->misc_enable;
        return true;
    case MSR_DS_AREA:
        *value = v->ds_area;
        return true;
    default:
        /* The counters that never count read 0. */
        if (pmu_msr(index)) {
            *value = 0;
            return true;
        }
        return false;
    }
}

/*
 * WRMSR of `value` to `index` by the guest, for the dispatcher: true when
 * it was applied, false when a CPU would raise #GP(0) (unknown MSR,
 * reserved bit, illegal transition); then nothing is changed.  The backend
 * copies EFER, PAT and the TSC offset into its structure before the next
 * entry.
 */
bool msr_write(struct vcpu *v, uint32_t index, uint64_t value)
{
    switch (index) {
    case MSR_EFER: {
        /* Reserved bits (including SVME here) raise #GP; LMA is ignored on
         * write and keeps the value the CPU gave it. */
        if (value & ~(EFER_GUEST_WRITABLE | EFER_LMA))
            return false;
        vcpu_need(v, VCPU_CR | VCPU_EFER);
        /* Changing LME while paging is enabled raises #GP (APM vol 2
         * 14.6.1 "Activating Long Mode", SDM vol 3A 10.8.5 "Initializing IA-32e Mode"). */
        if ((v->cr0 & CR0_PG) && ((value ^ v->efer) & EFER_LME))
            return false;
        /* A later CR0.PG=1 with LME=1 sets LMA (dispatch.c), as the CPU
         * does (APM vol 2 14.6.2 "Consistency Checks"). */
        v->efer = (value & EFER_GUEST_WRITABLE) | (v->efer & EFER_LMA);
        vcpu_changed(v, VCPU_EFER);
        return true;
    }
    case MSR_PAT:
        /* A reserved memory type in any entry refuses the whole write. */
        if (!pat_valid(value))
            return false;
        v->pat = value;
        vcpu_changed(v, VCPU_PAT);
        return true;
    case MSR_TSC:
        /* Setting the TSC to `value` moves it by value - now, and
         * IA32_TSC_ADJUST by the same amount (SDM vol 3B 18.17.3
         * "Time-Stamp Counter Adjustment"): both are the offset. */
        v->tsc_offset = value - rdtsc();
        vcpu_changed(v, VCPU_TSC_OFFSET);
        return true;
    case MSR_TSC_ADJUST:
        /* Writing IA32_TSC_ADJUST moves the TSC by the difference: the
         * offset is the new value. */
        v->tsc_offset = value;
        vcpu_changed(v, VCPU_TSC_OFFSET);
        return true;
    case MSR_MISC_ENABLE:
        /* Kept as written, as QEMU does; no bit changes hv's behaviour
         * (fast strings are always on, MONITOR stays as CPUID says). */
        v->misc_enable = value;
        return true;
    case MSR_DS_AREA:
        /* A linear address: a non-canonical one raises #GP (SDM vol 2B
         * "WRMSR"); nothing uses it, since the guest has no BTS/PEBS. */
        if (!canonical(value))
            return false;
        v->ds_area = value;
        return true;
    default:
        /* Writes to the counters vanish, as under QEMU's TCG. */
        return pmu_msr(index);
    }
}
