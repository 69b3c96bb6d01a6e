/*
 * guestkit's boot code: from the Multiboot loader's 32-bit protected mode
 * into 64-bit long mode, then into C (gk_start in start.c).
 *
 * The image is linked as ELF64 (the C code is x86-64) and converted with
 * `objcopy -O elf32-i386`, because QEMU's -kernel Multiboot loader refuses
 * 64-bit ELF files.  The conversion only rewrites the container: the
 * program headers keep the same physical addresses, so the loader places the
 * 64-bit code exactly where the linker put it (runtime/link.ld: 1 MiB).
 * We do not use the a.out kludge (header flag bit 16).
 */

/* Multiboot spec 3.1.1: the header is 4-byte aligned in the first 8 KiB.
 * Flags: bit 0 = page-align modules, bit 1 = we want mem_* and the memory map. */
#include "longmode.inc"

#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003

        .section .multiboot, "a"
        .balign 4
mb_header:
        .long MB_MAGIC
        .long MB_FLAGS
        /* magic + flags + checksum must be 0 modulo 2^32. */
        .long -(MB_MAGIC + MB_FLAGS)

        .section .text.entry, "ax"
        .code32
        .globl gk_entry
        .type gk_entry, @function
/*
 * Multiboot spec 3.2 "Machine state": EAX = 0x2BADB002, EBX = physical address
 * of the Multiboot information, CS/DS/ES/SS flat 4 GiB segments, CR0.PE = 1,
 * CR0.PG = 0, EFLAGS.IF = 0.  ESP, the GDTR and the IDTR are undefined, so we
 * set up our own before using any of them.  EAX is checked in C (start.c), so
 * a wrong value still gets a readable message instead of a silent hang.
 */
gk_entry:
        /* Keep interrupts off and string instructions counting upwards. */
        cli
        cld
        /* Keep the loader's EAX (magic) and EBX (info) out of the way of the
         * string instruction below: ESI and EBP survive until the C call. */
        movl    %eax, %esi
        movl    %ebx, %ebp

        /* Zero .bss ourselves: the page tables and stack live there, and a
         * loader that forgot to clear it must not give us stale entries. */
        movl    $__bss_start, %edi
        movl    $__bss_end, %ecx
        subl    %edi, %ecx
        shrl    $2, %ecx
        xorl    %eax, %eax
        rep stosl

        /* A stack: ESP is undefined on entry (Multiboot spec 3.2). */
        movl    $boot_stack_top, %esp

        /* Long mode needs CPUID.80000001h:EDX bit 29 (SDM vol 3A 10.8.5
         * "Initializing IA-32e Mode").
         * First make sure the extended leaf exists at all. */
        movl    $0x80000000, %eax
        cpuid
        cmpl    $0x80000001, %eax
        jb      no_long_mode
        movl    $0x80000001, %eax
        cpuid
        btl     $29, %edx
        jnc     no_long_mode

        /* Identity map the first 4 GiB with 2 MiB pages (SDM vol. 3A, 4.5
         * "4-Level Paging and 5-Level Paging"):
         * PML4[0] -> PDPT, PDPT[0..3] -> four page directories, each with 512
         * entries of 2 MiB.  Bits: 0 = present, 1 = writable, 7 = page size. */
        movl    $pdpt, %eax
        orl     $0x3, %eax
        movl    %eax, pml4
        /* PDPT[i] = address of page directory i, present and writable. */
        movl    $page_dirs, %eax
        orl     $0x3, %eax
        xorl    %ecx, %ecx
1:      movl    %eax, pdpt(,%ecx,8)
        addl    $4096, %eax
        incl    %ecx
        cmpl    $4, %ecx
        jb      1b
        /* Page directory entry j (of 2048) maps physical j * 2 MiB; the high
         * halves of the entries stay zero from the .bss clear above. */
        xorl    %ecx, %ecx
2:      movl    %ecx, %eax
        shll    $21, %eax
        orl     $0x83, %eax
        movl    %eax, page_dirs(,%ecx,8)
        incl    %ecx
        cmpl    $2048, %ecx
        jb      2b

        /* The switch itself, in the order SDM vol 3A 10.8.5 "Initializing IA-32e Mode" prescribes:
         * CR4.PAE, CR3, EFER.LME, then CR0.PG, which activates long mode
         * (compatibility mode until we load a 64-bit CS). */
        LONG_MODE_ON($pml4)

        /* Load our GDT and jump through its 64-bit code segment: this far
         * jump is what moves the CPU from compatibility into 64-bit mode. */
        lgdt    gdt_desc
        ljmp    $0x08, $long_mode_entry

/* No long mode: say so on COM1 (no UART setup, just the data port, which
 * QEMU and hv accept as is), ask isa-debug-exit to end the run with
 * GK_EXIT_BAD_BOOT (2), and halt if nobody listens. */
no_long_mode:
        movl    $no_lm_msg, %esi
3:      lodsb
        testb   %al, %al
        jz      4f
        movw    $0x3f8, %dx
        outb    %al, %dx
        jmp     3b
4:      movw    $0xf4, %dx
        movl    $2, %eax
        outl    %eax, %dx
5:      cli
        hlt
        jmp     5b

        .code64
long_mode_entry:
        /* Data segment registers: the flat data descriptor (selector 0x10).
         * In 64-bit mode their bases are ignored, but SS must be valid for
         * IRETQ from an exception handler to accept it. */
        movw    $0x10, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %ss
        movw    %ax, %fs
        movw    %ax, %gs
        /* The upper half of RSP is undefined after the mode switch. */
        movq    $boot_stack_top, %rsp
        /* gk_start(magic, info): System V passes them in EDI and ESI; the
         * 32-bit moves zero the upper halves. */
        movl    %esi, %edi
        movl    %ebp, %esi
        /* A zero frame pointer ends backtraces here. */
        xorl    %ebp, %ebp
        call    gk_start
        /* gk_start never returns; if it did, stop here quietly. */
6:      cli
        hlt
        jmp     6b
        .size gk_entry, . - gk_entry

        .section .rodata
no_lm_msg:
        .asciz  "guestkit: this CPU has no long mode (CPUID.80000001h:EDX bit 29); cannot run a 64-bit guest\n"

/* The GDT (SDM vol. 3A, 3.4.5 "Segment Descriptors"): null, 64-bit code (L=1, D=0, present, DPL 0,
 * execute/read), flat data (present, DPL 0, read/write, 4 GiB). */
        .balign 16
gdt:
        .quad   0
        .quad   0x00af9a000000ffff
        .quad   0x00cf92000000ffff
gdt_end:
/* The LGDT operand: a 16-bit limit and the base, which LGDT reads as 32 bits
 * in protected mode and as 64 bits in long mode. */
        .balign 8
        .globl gdt_desc
gdt_desc:
        .word   gdt_end - gdt - 1
        .quad   gdt


/* Page tables and the boot stack.  .bss is cleared by gk_entry above. */
        .section .bss, "aw", @nobits
        .balign 4096
pml4:
        .skip   4096
pdpt:
        .skip   4096
page_dirs:
        .skip   4 * 4096
        /* 32 KiB of stack, 16-byte aligned as the System V ABI expects at
         * a call. */
        .balign 16
        .globl boot_stack_top
boot_stack:
        .skip   32768
boot_stack_top:

/* No executable stack wanted (silences ld's warning). */
        .section .note.GNU-stack, "", @progbits
