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
    for (unsigned i = 0; i < 8; i++) {
        uint8_t t = (uint8_t)(pat >> (8 * i));
        if (t == 2 || t == 3 || t > 7)
            return false;
    }
    return true;
}

bool msr_read(struct vcpu *v, uint32_t index, uint64_t *value)
{
    switch (index) {
    case MSR_EFER:
        *value = v->efer;
        return true;
    case MSR_PAT:
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
        v->efer = (value & EFER_GUEST_WRITABLE) | (v->efer & EFER_LMA);
        return true;
    }
    case MSR_PAT:
        if (!pat_valid(value))
            return false;
        v->pat = value;
        return true;
    default:
        return false;
    }
}
