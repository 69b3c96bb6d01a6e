/*
 * pv_hcpage.c - the layout of the hypercall page (include/hvkit/pv.h).
 *
 * Why a page of code at all: VMMCALL (AMD) and VMCALL (Intel) are two
 * different instructions, and each raises #UD on the other vendor's CPUs
 * (APM vol 3 "VMMCALL"; SDM vol 3C 31.3 "VMX Instructions", VMCALL).  A
 * guest that issued one of them itself would have to ask CPUID for the
 * vendor first and carry both.  With the page, as Xen's and Hyper-V's
 * guests do, the hypervisor, which knows which instruction its CPU has,
 * writes the stubs, and the same guest binary runs on both backends.
 *
 * The layout is the core's, once for both vendors; only the three bytes of
 * the instruction come from the backend (struct backend.hypercall_insn in
 * svm/backend.c and vmx/backend.c).  Pure: compiled hosted too
 * (tests/unit/test_hv_pv.c).
 */
#include "klib.h"

#include "pv.h"

/* The opcodes around the vendor's instruction (SDM vol 2B "MOV", "RET";
 * vol 2A "INT n/INTO/INT3/INT1"). */
#define OP_MOV_EAX_IMM32 0xb8 /* mov eax, imm32: B8+rd id */
#define OP_RET           0xc3 /* near return */
#define OP_INT3          0xcc /* breakpoint: a jump into a stub's padding traps */

void pv_hcpage_fill(uint8_t *page, const uint8_t insn[3])
{
    _Static_assert(HVKIT_HCPAGE_SLOT * HVKIT_HCPAGE_SLOTS == 4096, "one stub per slot, one page");
    /* Padding first: a call into the middle of a slot (a guest bug) hits
     * int3 and the guest sees #BP at the address, rather than running the
     * tail of some other instruction. */
    memset(page, OP_INT3, 4096);
    for (uint32_t nr = 0; nr < HVKIT_HCPAGE_SLOTS; nr++) {
        uint8_t *s = page + nr * HVKIT_HCPAGE_SLOT;
        /* mov eax, nr: the call number, little-endian; in 64-bit mode a
         * 32-bit MOV clears RAX's upper half (SDM vol 1 3.4.1.1
         * "General-Purpose Registers in 64-Bit Mode"), so RAX = nr. */
        s[0] = OP_MOV_EAX_IMM32;
        s[1] = (uint8_t)nr;
        s[2] = (uint8_t)(nr >> 8);
        s[3] = (uint8_t)(nr >> 16);
        s[4] = (uint8_t)(nr >> 24);
        /* The exit itself; hv moves RIP past its 3 bytes and puts the
         * result in RAX. */
        memcpy(s + 5, insn, 3);
        /* Back to the caller, which reached the stub with CALL. */
        s[8] = OP_RET;
    }
}
