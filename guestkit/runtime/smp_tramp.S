/*
 * The application processor's way from real mode into 64-bit mode
 * (runtime/smp.c copies it to SMP_TRAMP_BASE and fills its parameters).
 *
 * A STARTUP IPI with vector 0x70 starts the AP at CS = 0x7000, IP = 0, in
 * real mode (SDM vol 3A 9.4.4.2 "Typical AP Initialization Sequence").
 * From there the steps of SDM vol 3A 10.9.1 "Switching to Protected Mode"
 * (a GDT, CR0.PE, a far jump) and 10.8.5 "Initializing IA-32e Mode"
 * (CR4.PAE, CR3, EFER.LME, CR0.PG, a far jump to a 64-bit code segment),
 * with the trampoline's own GDT, whose selectors match the runtime's
 * (0x08 64-bit code, 0x10 data; entry.S), plus 0x18 for 32-bit code.
 * Every address is the copy's: SMP_TRAMP_BASE plus the offset in here.
 */
#include "guestkit/smp.h"
#include "longmode.inc"

/* The address of label x in the copy. */
#define AT(x) (SMP_TRAMP_BASE + ((x) - smp_tramp_start))

        .section .rodata.smp_tramp, "a"
        .code16
        .globl smp_tramp_start
smp_tramp_start:
        cli
        cld
        /* DS = CS, so that the GDT descriptor's offset below addresses
         * the copy. */
        movw    %cs, %ax
        movw    %ax, %ds
        lgdtl   tramp_gdt_desc - smp_tramp_start
        /* CR0.PE, then a far jump to load CS from the GDT. */
        movl    %cr0, %eax
        orl     $1, %eax
        movl    %eax, %cr0
        ljmpl   $0x18, $AT(tramp_pm32)

        .code32
tramp_pm32:
        movw    $0x10, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %ss
        /* Long mode on the BSP's page tables (longmode.h). */
        LONG_MODE_ON(AT(tramp_cr3))
        ljmp    $0x08, $AT(tramp_lm64)

        .code64
tramp_lm64:
        movw    $0x10, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %ss
        movw    %ax, %fs
        movw    %ax, %gs
        /* The AP's stack and its C entry (smp.c), from the parameters. */
        movq    AT(tramp_stack), %rsp
        movq    AT(tramp_entry), %rax
        xorl    %ebp, %ebp
        call    *%rax
1:      cli
        hlt
        jmp     1b

        .balign 8
tramp_gdt:
        .quad   0
        .quad   0x00af9a000000ffff      /* 0x08: 64-bit code */
        .quad   0x00cf92000000ffff      /* 0x10: flat data */
        .quad   0x00cf9a000000ffff      /* 0x18: 32-bit code */
tramp_gdt_desc:
        .word   tramp_gdt_desc - tramp_gdt - 1
        .long   AT(tramp_gdt)

/* Filled by smp.c in the copy: struct smp_tramp_params. */
        .balign 8
        .globl smp_tramp_params
smp_tramp_params:
tramp_cr3:
        .long   0, 0
tramp_stack:
        .quad   0
tramp_entry:
        .quad   0
        .globl smp_tramp_end
smp_tramp_end:

        .section .note.GNU-stack, "", @progbits
