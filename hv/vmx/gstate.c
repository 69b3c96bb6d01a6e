/*
 * gstate.c - the guest state a Multiboot guest starts with, as VMCS field
 * values (a pure function, compiled hosted too: the unit tests check that
 * what hv builds passes every check of explain.c).
 *
 * Multiboot 0.6.96 section 3.2 "Machine state": 32-bit protected mode with
 * paging off, flat 4-GiB code and data segments, EFLAGS.IF = 0, EAX =
 * 0x2BADB002, EBX = the info structure.  Paging off is only possible inside
 * VMX with "unrestricted guest" (SDM Vol. 3C 25.6.2 "Processor-Based VM-Execution Controls", table
 * 25-7 "Definitions of Secondary Processor-Based VM-Execution Controls" bit 7), which exempts
 * CR0.PE and CR0.PG from the CR0 fixed bits; EPT then translates guest-physical addresses.  This is
 * the same starting point the SVM backend gives the guest through its VMCB.
 *
 * Compare svm/vcpu.c, which writes the same state straight into the VMCB
 * save area.  SVM needs no "unrestricted guest": VMRUN accepts any mode the
 * CPU itself could be in, paging off included.  And SVM checks far fewer of
 * these fields, so here every value is chosen to pass explain.c's
 * vmx_check_guest(), which the unit test verifies with the FIXED values a
 * typical CPU reports.
 */
#include "gstate.h"

#include "klib.h"

/* Access rights of a flat segment (SDM Vol. 3C 25.4.1 "Guest Register State", table 25-2 "Format of
 * Access Rights"): the descriptor's type in bits 3:0, S (code/data) in bit 4, P in bit 7, D/B in
 * bit 14, G in bit 15.  The same bits SVM packs into its 12-bit attribute
 * word; VT-x keeps the descriptor's own layout with the limit bits cut out. */
#define AR_CODE32     (11u | AR_S | AR_P | AR_DB | AR_G) /* execute/read, accessed */
#define AR_DATA32     (3u | AR_S | AR_P | AR_DB | AR_G)  /* read/write, accessed */
#define AR_TSS32_BUSY (11u | AR_P)                       /* busy 32-bit TSS */

void vmx_multiboot_state(struct vmx_state *s, const struct vmx_caps *caps, uint64_t rip,
                         uint64_t rflags)
{
    /* Segments: CS selector 0x08 and data 0x10 as a typical GDT would have
     * them; the guest must load its own GDT before reloading a segment. */
    /* Base 0, limit 4 GiB - 1 (G = 1, so the limit is in bytes here but
     * would be 0xFFFFF pages in a descriptor), read/write data. */
    for (int i = SEG_ES; i <= SEG_GS; i++) {
        s->seg[i].sel = 0x10;
        s->seg[i].base = 0;
        s->seg[i].limit = 0xffffffff;
        s->seg[i].ar = AR_DATA32;
    }
    /* CS alone is code: execute/read, 32-bit. */
    s->seg[SEG_CS].sel = 0x08;
    s->seg[SEG_CS].ar = AR_CODE32;
    /* No LDT: mark it unusable (bit 16), which skips its checks. */
    s->seg[SEG_LDTR] = (struct vmx_seg){0, 0, 0, AR_UNUSABLE};
    /* VM entry insists on a usable busy TSS even though the guest has none
     * yet (27.3.1.2 "Checks on Guest Segment Registers"): a minimal one at 0 that nothing will use
     * before the guest loads its own TR. */
    s->seg[SEG_TR] = (struct vmx_seg){0, 0, 0xffff, AR_TSS32_BUSY};
    /* GDTR and IDTR are undefined at Multiboot entry: empty tables. */
    s->gdtr_base = s->idtr_base = 0;
    /* 0xffff, the value a reset leaves (SDM Vol. 3A 10.1.1 "Processor State After Reset"); the
     * limit field must fit in 16 bits (27.3.1.3 "Checks on Guest Descriptor-Table Registers"), and
     * any 16-bit value passes. */
    s->gdtr_limit = s->idtr_limit = 0xffff;

    /* CR0 = PE | ET as Multiboot specifies, plus whatever FIXED0 forces
     * (NE on every VMX CPU), minus PG which the unrestricted guest may
     * leave clear.  The guest sees PE | ET through the CR0 read shadow. */
    /* (Bit 4 is ET.  PE and PG are passed as "free", so FIXED0, which on
     * most CPUs demands both, cannot force paging on.) */
    s->cr0 = vmx_fixed_apply(CR0_PE_BIT | (1ull << 4), caps->cr0_fixed0, caps->cr0_fixed1,
                             CR0_PE_BIT | CR0_PG_BIT);
    /* CR4 = 0 plus the forced VMXE; shadowed as 0. */
    s->cr4 = vmx_fixed_apply(0, caps->cr4_fixed0, caps->cr4_fixed1, 0);
    /* Paging is off, so CR3 is unused until the guest loads it. */
    s->cr3 = 0;
    /* DR7's reset value (SDM vol 3B 18.2.4 "Debug Control Register (DR7)"): bit 10 reads as 1. */
    s->dr7 = 0x400;
    /* The loader's entry point, and the core's RFLAGS (IF = 0). */
    s->rip = rip;
    s->rflags = rflags | 2; /* bit 1 is reserved and reads as 1 */
    /* Multiboot leaves ESP undefined: the guest sets up its own stack. */
    s->rsp = 0;
    /* EFER 0 (no long mode yet), the power-on PAT (SDM Vol. 3A 12.12.4 "Programming the PAT"). */
    s->efer = 0;
    s->pat = 0x0007040600070406ull;
    /* Reset values: no branch tracing, no SYSENTER target. */
    s->debugctl = 0;
    s->sysenter_esp = s->sysenter_eip = 0;
    /* Running, nothing blocked, no shadow VMCS. */
    s->activity = ACTIVITY_ACTIVE;
    s->interruptibility = 0;
    s->link_pointer = ~0ull;
    /* Paging is off: no PDPTEs (PAE paging would load them, exit.c). */
    memset(s->pdpte, 0, sizeof(s->pdpte));
}
