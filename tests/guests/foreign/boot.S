/*
 * Multiboot v1 header and entry of the foreign guest (Multiboot spec 0.6.96,
 * 3.1 and 3.2).  We stay in the 32-bit protected mode the loader gives us:
 * no paging, no GDT or IDT of our own.
 */
        .section .multiboot, "a"
        .balign 4
        /* magic, flags (bit 1: please pass mem_* and the memory map), checksum */
        .long   0x1BADB002
        .long   0x00000002
        .long   -(0x1BADB002 + 0x00000002)

        .text
        .globl start
start:
        /* ESP is undefined on entry (spec 3.2): use our own stack. */
        movl    $stack_top, %esp
        /* foreign_main(magic, info) with the cdecl convention. */
        pushl   %ebx
        pushl   %eax
        call    foreign_main
        /* foreign_main does not return; if it did, stop. */
1:      cli
        hlt
        jmp     1b

        .bss
        .balign 16
        .skip   16384
stack_top:

        .section .note.GNU-stack, "", @progbits
