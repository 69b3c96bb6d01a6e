/*
 * explain.c - the VMRUN consistency checks of AMD APM vol 2 15.5.1 "Basic Operation", re-done
 * in software so that a VMEXIT_INVALID can be explained (see explain.h).
 *
 * The APM lists these conditions as making VMRUN fail with VMEXIT_INVALID:
 *  - EFER.SVME is zero;
 *  - CR0.CD is zero and CR0.NW is set;
 *  - CR0[63:32] are not zero;
 *  - any must-be-zero bit of CR3, CR4, DR6, DR7 or EFER is set;
 *  - EFER.LME and CR0.PG are both set and CR4.PAE is zero;
 *  - EFER.LME and CR0.PG are both set and CR0.PE is zero;
 *  - EFER.LME, CR0.PG, CR4.PAE, CS.L and CS.D are all set;
 *  - the VMRUN intercept bit is clear;
 *  - the MSR or I/O permission map extends beyond the physical address
 *    width;
 *  - an illegal event injection (15.20 "Event Injection");
 *  - ASID is zero.
 * With nested paging (15.25.4) the nested CR3 and the guest PAT must also be
 * well formed.  Each rule below is one `if`, named as the APM names it.
 * Pure C over a copy of the VMCB: compiled hosted for the unit test.
 */
#include "klib.h"

#include "explain.h"

/* The few architectural bits this file needs (APM vol 2 3.1 "System-Control Registers"). */
#define X_CR0_PE    (1ull << 0)
#define X_CR0_NW    (1ull << 29)
#define X_CR0_CD    (1ull << 30)
#define X_CR0_PG    (1ull << 31)
#define X_CR4_PAE   (1ull << 5)
#define X_EFER_LME  (1ull << 8)
#define X_EFER_SVME (1ull << 12)

/*
 * Must-be-zero bits.  CR4 (APM vol 2 3.1.3 "CR4 Register"): bits 0-12 and 16-18, 20-23 are
 * defined on current AMD CPUs; 13 (VMXE) and 14 (SMXE) are Intel-only and
 * reserved here; everything from 24 up is reserved.  EFER (3.1.7 "Extended Feature Enable Register
 * (EFER)"): SCE(0), LME(8), LMA(10), NXE(11), SVME(12), LMSLE(13), FFXSR(14), TCE(15), MCOMMIT(17),
 * INTWB(18) and the bits 20-21 are defined; the rest is MBZ.
 */
#define CR4_MBZ  (~0x00f71fffull)
#define EFER_MBZ (~0x0036fd01ull)

/* Collects sentences into the caller's callback and counts them. */
struct explain_ctx {
    /* Where each sentence goes, with its context pointer. */
    svm_explain_fn report;
    void *ctx;
    /* How many checks failed so far: the function's result. */
    int count;
};

static void problem(struct explain_ctx *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Format one finding and hand it to the caller's callback.  A fixed buffer
 * is enough: every message is one short sentence with a few numbers, and
 * kvsnprintf truncates rather than overflows. */
static void problem(struct explain_ctx *e, const char *fmt, ...)
{
    char buf[200];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    /* Count even if the callback ignores the text (the unit test counts). */
    e->count++;
    e->report(e->ctx, buf);
}

/* Bits at or above the physical address width (never all 64: a width of 0
 * would mean a broken CPUID, so fall back to the architectural 52). */
static uint64_t above_phys(unsigned phys_bits)
{
    if (phys_bits == 0 || phys_bits > 52)
        phys_bits = 52;
    /* Bits phys_bits..63 set: an address with any of them is too high. */
    return ~((1ull << phys_bits) - 1);
}

/* A [base, base + size) table that must lie below the physical width.  The
 * second test catches a base so high that base + size wraps around zero, which
 * would otherwise look like a small, legal address. */
static bool table_too_high(uint64_t base, uint64_t size, unsigned phys_bits)
{
    return ((base + size - 1) & above_phys(phys_bits)) != 0 || base + size < base;
}

/* APM vol 2 15.20 "Event Injection": which EVENTINJ values are illegal. */
static void check_eventinj(struct explain_ctx *e, uint64_t ev)
{
    /* V=0: nothing is injected and the other bits are ignored. */
    if (!(ev & EVENTINJ_VALID))
        return;
    /* Bits 10:8 the type, 7:0 the vector. */
    uint64_t type = (ev & EVENTINJ_TYPE_MASK) >> 8;
    unsigned vector = (unsigned)(ev & 0xff);
    /* Types 1, 5, 6 and 7 are reserved. */
    /* (Type 1 was never defined; 5-7 are reserved for the future.) */
    if (type == 1 || type > 4)
        problem(e,
                "EVENTINJ uses the reserved event type %llu (legal: 0 INTR, 2 NMI, "
                "3 exception, 4 software interrupt)",
                (unsigned long long)type);
    /* An exception must have an exception vector, and not 2 (NMI). */
    if (type == 3 && (vector > 31 || vector == 2))
        problem(e,
                "EVENTINJ injects exception vector %u, which is not an exception "
                "(vectors 0-31 except 2)",
                vector);
}

int svm_explain_invalid(const struct vmcb *vmcb, unsigned phys_bits, svm_explain_fn report,
                        void *ctx)
{
    struct explain_ctx e = {.report = report, .ctx = ctx, .count = 0};
    const struct vmcb_save *s = &vmcb->save;
    const struct vmcb_control *c = &vmcb->control;
    /* The three bits most rules combine: long mode is active only with
     * LME and PG both set, and then needs PAE. */
    bool lme = s->efer & X_EFER_LME, pg = s->cr0 & X_CR0_PG;
    bool pae = s->cr4 & X_CR4_PAE;

    /* VMRUN requires the guest to run with EFER.SVME set. */
    if (!(s->efer & X_EFER_SVME))
        problem(&e, "guest EFER.SVME (bit 12) is 0: VMRUN requires it set in the guest EFER");
    /* "Not write-through but caching disabled" is an illegal CR0 combination. */
    if (!(s->cr0 & X_CR0_CD) && (s->cr0 & X_CR0_NW))
        problem(&e, "CR0.NW (bit 29) is set while CR0.CD (bit 30) is clear: illegal cache mode");
    /* CR0 is a 32-bit register padded to 64 bits: the upper half is MBZ. */
    if (s->cr0 >> 32)
        problem(&e, "CR0 bits 63:32 are not zero (CR0 = %#llx)", (unsigned long long)s->cr0);
    /* CR3 holds a physical address in long mode: no bits above the width. */
    if (lme && pg && (s->cr3 & above_phys(phys_bits)))
        problem(&e, "CR3 = %#llx sets bits above the %u-bit physical address width",
                (unsigned long long)s->cr3, phys_bits);
    /* Reserved CR4 bits would raise #GP on a MOV to CR4 (APM vol 2 3.1.3 "CR4 Register"):
     * VMRUN refuses them instead. */
    if (s->cr4 & CR4_MBZ)
        problem(&e, "CR4 = %#llx sets reserved bits %#llx", (unsigned long long)s->cr4,
                (unsigned long long)(s->cr4 & CR4_MBZ));
    /* DR6 and DR7 keep their status and control bits in the low 32 bits;
     * the upper halves are MBZ (APM vol 2 13.1.1 "Debug Registers"). */
    if (s->dr6 >> 32)
        problem(&e, "DR6 bits 63:32 are not zero (DR6 = %#llx)", (unsigned long long)s->dr6);
    if (s->dr7 >> 32)
        problem(&e, "DR7 bits 63:32 are not zero (DR7 = %#llx)", (unsigned long long)s->dr7);
    /* Reserved EFER bits (3.1.7 "Extended Feature Enable Register (EFER)"): WRMSR would #GP, VMRUN
     * fails. */
    if (s->efer & EFER_MBZ)
        problem(&e, "EFER = %#llx sets reserved bits %#llx", (unsigned long long)s->efer,
                (unsigned long long)(s->efer & EFER_MBZ));
    /* Long mode paging is PAE paging (APM vol 2 14.6.1 "Activating Long Mode"). */
    if (lme && pg && !pae)
        problem(&e, "EFER.LME and CR0.PG are set but CR4.PAE is 0: long mode needs PAE");
    /* Paging needs protected mode: PG=1 with PE=0 is illegal in any mode,
     * and VMRUN checks it at least for long mode. */
    if (lme && pg && !(s->cr0 & X_CR0_PE))
        problem(&e, "EFER.LME and CR0.PG are set but CR0.PE is 0: long mode needs protection");
    /* A 64-bit code segment (L=1) must have D=0 (APM vol 2 4.8.1 "Code-Segment Descriptors"). */
    if (lme && pg && pae && (s->cs.attrib & SEG_ATTR_L) && (s->cs.attrib & SEG_ATTR_DB))
        problem(&e, "in long mode CS has both L and D set (attrib %#x): L=1 requires D=0",
                s->cs.attrib);
    /* The hypervisor must intercept VMRUN itself (15.5.1 "Basic Operation"). */
    if (!(c->intercept_misc2 & ICPT_VMRUN))
        problem(&e, "the VMRUN intercept (vector 4 bit 0) is clear: it must always be set");
    /* The CPU reads the permission maps by physical address on every MSR
     * and I/O access, so all of each map must be addressable. */
    if (table_too_high(c->msrpm_base_pa, MSRPM_SIZE, phys_bits))
        problem(&e,
                "the MSR permission map at %#llx extends beyond the %u-bit physical "
                "address width",
                (unsigned long long)c->msrpm_base_pa, phys_bits);
    if (table_too_high(c->iopm_base_pa, IOPM_SIZE, phys_bits))
        problem(&e,
                "the I/O permission map at %#llx extends beyond the %u-bit physical "
                "address width",
                (unsigned long long)c->iopm_base_pa, phys_bits);
    /* The event VMRUN would inject on entry (15.20 "Event Injection"). */
    check_eventinj(&e, c->eventinj);
    /* ASID 0 belongs to the host (15.16 "TLB Control"). */
    if (c->guest_asid == 0)
        problem(&e, "the guest ASID is 0, which is reserved for the host");
    /* Nested paging (15.25.4): the nested CR3 is a physical address and the
     * guest PAT must hold only valid memory types (0, 1, 4, 5, 6, 7). */
    if (c->np_enable & NP_ENABLE) {
        /* The nested tables' root, a host-physical address. */
        if (c->n_cr3 & above_phys(phys_bits))
            problem(&e, "the nested CR3 %#llx sets bits above the %u-bit physical address width",
                    (unsigned long long)c->n_cr3, phys_bits);
        /* G_PAT has eight one-byte entries PA0..PA7, each a memory type;
         * 2 and 3 are reserved, as is anything above 7 (SDM vol 3A 12.12.2 "IA32_PAT MSR"
         * and APM vol 2 7.8.1 "PAT Register" share the encoding). */
        for (unsigned i = 0; i < 8; i++) {
            unsigned t = (unsigned)(s->g_pat >> (i * 8)) & 0xff;
            if (t == 2 || t == 3 || t > 7)
                problem(&e, "G_PAT entry PA%u holds memory type %u, which is not valid", i, t);
        }
    }
    /* 0 means none of the documented checks failed: dump_state() then
     * says so, and the cause must be something the APM does not list. */
    return e.count;
}
