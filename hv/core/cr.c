/*
 * cr.c - CR0 write decoding and checking (see cr.h).
 */
#include "cpu.h"
#include "cr.h"

/*
 * Decode the instruction bytes b[0..n) at the guest's RIP as one of the
 * three instructions that write CR0 (MOV to CR, CLTS, LMSW), for the
 * dispatcher when the backend could not say (SVM without decode assists).
 * Returns 0 with *out filled, or -1 for anything else.  Legacy prefixes
 * before the opcode are not accepted: hv's guests write CR0 without them,
 * and refusing is safer than guessing.  Pure: unit tested hosted.
 */
int cr_decode(const uint8_t *b, size_t n, bool long_mode, struct cr_insn *out)
{
    /* i: the index of the next byte to decode. */
    size_t i = 0;
    uint8_t rex = 0;
    /* A REX prefix (40-4F) exists only in 64-bit mode; its B bit (bit 0)
     * extends the ModRM r/m field and R (bit 2) the reg field (SDM vol 2A
     * 2.2.1 "REX Prefixes"). */
    if (long_mode && n > 0 && (b[0] & 0xf0) == 0x40)
        rex = b[i++];
    /* All three are two-byte opcodes: 0F xx. */
    if (n < i + 2 || b[i] != 0x0f)
        return -1;
    uint8_t op = b[i + 1];
    if (op == 0x06) {
        /* CLTS: no operands. */
        *out = (struct cr_insn){.kind = CR_INSN_CLTS, .len = (uint8_t)(i + 2)};
        return 0;
    }
    /* MOV and LMSW have a ModRM byte after the opcode. */
    if (n < i + 3)
        return -1;
    uint8_t modrm = b[i + 2];
    /* ModRM: mod (7:6), reg (5:3), r/m (2:0) (SDM vol 2A 2.1.5 "Addressing-Mode Encoding of ModR/M
     * and SIB Bytes"). */
    unsigned mod = modrm >> 6, reg = (modrm >> 3) & 7, rm = modrm & 7;
    if (op == 0x22) {
        /* MOV CRn, r: ModRM.reg (+ REX.R) names the control register,
         * ModRM.r/m (+ REX.B) the source; mod is ignored and treated as 3. */
        *out = (struct cr_insn){.kind = CR_INSN_MOV,
                                .cr = (uint8_t)(reg | ((rex & 4) << 1)),
                                .gpr = (uint8_t)(rm | ((rex & 1) << 3)),
                                .len = (uint8_t)(i + 3)};
        (void)mod;
        return 0;
    }
    if (op == 0x01 && reg == 6 && mod == 3) {
        /* LMSW r16: group 7, /6, register form only. */
        *out = (struct cr_insn){
            .kind = CR_INSN_LMSW, .gpr = (uint8_t)(rm | ((rex & 1) << 3)), .len = (uint8_t)(i + 3)};
        return 0;
    }
    return -1;
}

/*
 * Would a CPU accept `val` as the new CR0 (the old value being `old`)?
 * The #GP(0) conditions of MOV to CR0 (SDM vol 2B "MOV-Move to/from Control
 * Registers", APM vol 2 3.1.1 "CR0 Register"), checked here because QEMU's TCG lets some
 * through and the following VMRUN then fails with VMEXIT_INVALID, which
 * would look like hv's error rather than the guest's.
 */
bool cr0_write_ok(uint64_t old, uint64_t val, uint64_t efer, uint64_t cr4, bool cs_long)
{
    /* Bits 63:32 are reserved. */
    if (val >> 32)
        return false;
    /* Paging needs protection. */
    if ((val & CR0_PG) && !(val & CR0_PE))
        return false;
    /* "Not write-through" without "cache disable" is undefined. */
    if ((val & CR0_NW) && !(val & CR0_CD))
        return false;
    /* Entering long mode (LME set, PG turning on) needs PAE paging. */
    if ((val & CR0_PG) && !(old & CR0_PG) && (efer & EFER_LME) && !(cr4 & CR4_PAE))
        return false;
    /* Leaving paging from 64-bit code is not possible: the code doing it
     * would lose its own mapping; software must first go to compatibility
     * mode (APM vol 2 14.7 "Leaving Long Mode", SDM vol 3A 10.8.5.4 "Switching Out of IA-32e Mode
     * Operation"). */
    if (cs_long && (old & CR0_PG) && !(val & CR0_PG))
        return false;
    return true;
}

/* CR4 bits and the CPUID bit that makes each one exist (SDM vol 3A 2.5
 * "Control Registers", and the CPUID tables of vol 2A "CPUID"): bits 0-10
 * exist on every CPU hv runs on; the others only where the guest's CPUID
 * says so. */
struct cr4_feature {
    uint8_t bit;   /* the CR4 bit */
    uint8_t leaf;  /* 1 or 7 (subleaf 0) */
    uint8_t reg;   /* 'b', 'c' or 'd': EBX, ECX, EDX */
    uint8_t cpuid; /* the bit in that register */
};

static const struct cr4_feature cr4_features[] = {
    {11, 7, 'c', 2},  /* UMIP */
    {12, 7, 'c', 16}, /* LA57 */
    {13, 1, 'c', 5},  /* VMXE: VMX */
    {14, 1, 'c', 6},  /* SMXE: SMX */
    {16, 7, 'b', 0},  /* FSGSBASE */
    {17, 1, 'c', 17}, /* PCIDE: PCID */
    {18, 1, 'c', 26}, /* OSXSAVE: XSAVE */
    {19, 7, 'c', 23}, /* KL: Key Locker */
    {20, 7, 'b', 7},  /* SMEP */
    {21, 7, 'b', 20}, /* SMAP */
    {22, 7, 'c', 3},  /* PKE: PKU */
    {23, 7, 'c', 7},  /* CET: CET_SS */
    {24, 7, 'c', 31}, /* PKS */
    {25, 7, 'd', 5},  /* UINTR */
};

/* The CR4 bits a guest with this CPUID (leaf 1 ECX, leaf 7 subleaf 0
 * EBX/ECX/EDX, as the guest sees them) may set. */
uint64_t cr4_valid_bits(uint32_t l1_ecx, uint32_t l7_ebx, uint32_t l7_ecx, uint32_t l7_edx)
{
    /* VME, PVI, TSD, DE, PSE, PAE, MCE, PGE, PCE, OSFXSR, OSXMMEXCPT. */
    uint64_t valid = 0x7ff;
    for (unsigned i = 0; i < sizeof(cr4_features) / sizeof(cr4_features[0]); i++) {
        const struct cr4_feature *f = &cr4_features[i];
        uint32_t r = f->leaf == 1    ? l1_ecx
                     : f->reg == 'b' ? l7_ebx
                     : f->reg == 'c' ? l7_ecx
                                     : l7_edx;
        if (r & (1u << f->cpuid))
            valid |= 1ull << f->bit;
    }
    return valid;
}

/*
 * Would a CPU accept `val` as the new CR4?  The #GP(0) conditions of MOV to
 * CR4 (SDM vol 2B "MOV-Move to/from Control Registers"): a reserved bit
 * (one the guest's CPUID does not offer), clearing PAE in IA-32e mode,
 * setting PCIDE outside IA-32e mode or with CR3[11:0] not 0, changing LA57
 * in IA-32e mode, setting CET while CR0.WP is 0.
 */
bool cr4_write_ok(uint64_t old, uint64_t val, uint64_t valid, uint64_t efer, uint64_t cr0,
                  uint64_t cr3)
{
    const uint64_t pcide = 1ull << 17, la57 = 1ull << 12, cet = 1ull << 23;
    bool ia32e = efer & EFER_LMA;
    if (val & ~valid)
        return false;
    if (ia32e && !(val & CR4_PAE))
        return false;
    if ((val & pcide) && !(old & pcide) && (!ia32e || (cr3 & 0xfff)))
        return false;
    if (ia32e && ((val ^ old) & la57))
        return false;
    if ((val & cet) && !(cr0 & CR0_WP))
        return false;
    return true;
}
