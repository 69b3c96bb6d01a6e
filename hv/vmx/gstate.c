/*
 * gstate.c - the guest state a Multiboot guest starts with, as VMCS field
 * values (a pure function, compiled hosted too: the unit tests check that
 * what hv builds passes every check of explain.c).
 *
 * Multiboot 0.6.96 section 3.2 "Machine state": 32-bit protected mode with
 * paging off, flat 4-GiB code and data segments, EFLAGS.IF = 0, EAX =
 * 0x2BADB002, EBX = the info structure.  Paging off is only possible inside
 * VMX with "unrestricted guest" (SDM Vol. 3C 25.6.2, table 25-7 bit 7),
 * which exempts CR0.PE and CR0.PG from the CR0 fixed bits; EPT then
 * translates guest-physical addresses.  This is the same starting point the
 * SVM backend gives the guest through its VMCB.
 */
#include "gstate.h"

#include "klib.h"

/* Access rights of a flat segment (SDM Vol. 3C 25.4.1, table 25-2). */
#define AR_CODE32     (11u | AR_S | AR_P | AR_DB | AR_G) /* execute/read, accessed */
#define AR_DATA32     (3u | AR_S | AR_P | AR_DB | AR_G)  /* read/write, accessed */
#define AR_TSS32_BUSY (11u | AR_P)                       /* busy 32-bit TSS */

void vmx_multiboot_state(struct vmx_state *s, const struct vmx_caps *caps, uint64_t rip,
                         uint64_t rflags)
{
    /* Segments: CS selector 0x08 and data 0x10 as a typical GDT would have
     * them; the guest must load its own GDT before reloading a segment. */
    for (int i = SEG_ES; i <= SEG_GS; i++) {
        s->seg[i].sel = 0x10;
        s->seg[i].base = 0;
        s->seg[i].limit = 0xffffffff;
        s->seg[i].ar = AR_DATA32;
    }
    s->seg[SEG_CS].sel = 0x08;
    s->seg[SEG_CS].ar = AR_CODE32;
    /* No LDT: mark it unusable (bit 16), which skips its checks. */
    s->seg[SEG_LDTR] = (struct vmx_seg){0, 0, 0, AR_UNUSABLE};
    /* VM entry insists on a usable busy TSS even though the guest has none
     * yet (27.3.1.2): a minimal one at 0 that nothing will use before the
     * guest loads its own TR. */
    s->seg[SEG_TR] = (struct vmx_seg){0, 0, 0xffff, AR_TSS32_BUSY};
    /* GDTR and IDTR are undefined at Multiboot entry: empty tables. */
    s->gdtr_base = s->idtr_base = 0;
    s->gdtr_limit = s->idtr_limit = 0xffff;

    /* CR0 = PE | ET as Multiboot specifies, plus whatever FIXED0 forces
     * (NE on every VMX CPU), minus PG which the unrestricted guest may
     * leave clear.  The guest sees PE | ET through the CR0 read shadow. */
    s->cr0 = vmx_fixed_apply(CR0_PE_BIT | (1ull << 4), caps->cr0_fixed0, caps->cr0_fixed1,
                             CR0_PE_BIT | CR0_PG_BIT);
    /* CR4 = 0 plus the forced VMXE; shadowed as 0. */
    s->cr4 = vmx_fixed_apply(0, caps->cr4_fixed0, caps->cr4_fixed1, 0);
    s->cr3 = 0;
    /* DR7's reset value (SDM Vol. 3A 17.2.4). */
    s->dr7 = 0x400;
    s->rip = rip;
    s->rflags = rflags | 2; /* bit 1 is reserved and reads as 1 */
    s->rsp = 0;
    /* EFER 0 (no long mode yet), the power-on PAT (SDM Vol. 3A 11.12.4). */
    s->efer = 0;
    s->pat = 0x0007040600070406ull;
    s->debugctl = 0;
    s->sysenter_esp = s->sysenter_eip = 0;
    /* Running, nothing blocked, no shadow VMCS. */
    s->activity = ACTIVITY_ACTIVE;
    s->interruptibility = 0;
    s->link_pointer = ~0ull;
    memset(s->pdpte, 0, sizeof(s->pdpte));
}
