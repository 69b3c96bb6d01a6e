/*
 * msr.c - emulated MSRs (see msr.h).  EFER: AMD APM vol 2 3.1.7 and SDM vol
 * 3A 2.2.1; PAT: SDM vol 3A 12.12.
 */
#include "cpu.h"
#include "msr.h"

/* EFER bits a guest may set: SCE, LME, NXE.  LMA is set by the CPU, not by
 * software; SVME would need SVM, which the guest is told it lacks. */
#define EFER_GUEST_WRITABLE (EFER_SCE | EFER_LME | EFER_NXE)

/* PAT: each of the 8 bytes holds a memory type; 2, 3 and >= 8 are
 * reserved and writing them raises #GP (SDM vol 3A 12.12.2). */
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
        *value = v->efer;
        return true;
    case MSR_PAT:
        /* The value the backend loads as the guest PAT (G_PAT / VMCS). */
        *value = v->pat;
        return true;
    case MSR_TSC:
        /* RDTSC is not intercepted, so the guest sees the host TSC: RDMSR
         * of the TSC must agree with it. */
        *value = rdtsc();
        return true;
    default:
        return false;
    }
}

/*
 * WRMSR of `value` to `index` by the guest, for the dispatcher: true when
 * it was applied, false when a CPU would raise #GP(0) (unknown MSR,
 * reserved bit, illegal transition); then nothing is changed.  The backend
 * copies EFER and PAT into its structure before the next entry.  A write
 * to the TSC is refused: hv does not offset the guest's TSC.
 */
bool msr_write(struct vcpu *v, uint32_t index, uint64_t value)
{
    switch (index) {
    case MSR_EFER: {
        /* Reserved bits (including SVME here) raise #GP; LMA is ignored on
         * write and keeps the value the CPU gave it. */
        if (value & ~(EFER_GUEST_WRITABLE | EFER_LMA))
            return false;
        /* Changing LME while paging is enabled raises #GP (APM vol 2
         * 14.6.1, SDM vol 3A 10.8.5). */
        if ((v->cr0 & CR0_PG) && ((value ^ v->efer) & EFER_LME))
            return false;
        /* A later CR0.PG=1 with LME=1 sets LMA (dispatch.c), as the CPU
         * does (APM vol 2 14.6.2). */
        v->efer = (value & EFER_GUEST_WRITABLE) | (v->efer & EFER_LMA);
        return true;
    }
    case MSR_PAT:
        /* A reserved memory type in any entry refuses the whole write. */
        if (!pat_valid(value))
            return false;
        v->pat = value;
        return true;
    default:
        return false;
    }
}
