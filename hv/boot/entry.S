/*
 * entry.S - hv's first instructions: the Multiboot header, the 32-bit entry
 * point a Multiboot loader jumps to, and the switch to 64-bit long mode.
 *
 * Multiboot 0.6.96 section 3.2: we arrive in 32-bit protected mode with
 * paging off, EAX = 0x2BADB002 and EBX = the physical address of the
 * Multiboot information structure; the stack, GDT and IDT are undefined.
 * Long mode needs (AMD APM vol 2 14.6.1 / SDM vol 3A 10.8.5): CR4.PAE,
 * a 4-level page table in CR3, EFER.LME, then CR0.PG, then a far jump into a
 * 64-bit code segment.  We identity-map the first 4 GiB with 2 MiB pages,
 * which covers all host RAM we use and lets hv treat a pointer as a
 * physical address (core/alloc.h).
 */

/* The values of include/hvkit/multiboot.h, repeated because that header
 * holds C structures the assembler cannot read.  Multiboot 3.1.1: the magic;
 * 3.1.2: flags we ask of the loader, page-aligned modules (bit 0) and the
 * memory information (bit 1).  No a.out kludge: hv is an ELF32 file (see
 * link.ld). */
#define MB_HEADER_MAGIC 0x1BADB002
#define HV_MB_FLAGS ((1 << 0) | (1 << 1))

    .section .multiboot, "a"
    .align 4
    /* Multiboot 3.1.1: magic, flags, checksum; must be in the first 8 KiB. */
    .long MB_HEADER_MAGIC
    .long HV_MB_FLAGS
    .long -(MB_HEADER_MAGIC + HV_MB_FLAGS)

    .section .boot.text, "ax"
    .code32
    .globl _start
_start:
    /* Interrupts stay off for hv's whole life: it polls its devices. */
    cli
    /* Keep the Multiboot magic and info pointer for hv_main(). */
    movl %eax, %edi
    movl %ebx, %esi
    /* A stack of our own (the loader's is undefined, 3.2). */
    movl $boot_stack_top, %esp

    /* Build the page tables: PML4[0] -> PDPT, PDPT[0..3] -> 4 page
     * directories, each with 512 2 MiB pages (APM vol 2 5.3.4, 2-Mbyte page
     * translation; PS = bit 7 in the PDE).  Flags 0x83 = present, writable,
     * page size; 0x03 = present, writable. */
    movl $pdpt, %eax
    orl $0x3, %eax
    movl %eax, pml4
    /* Four PDPT entries, one per GiB. */
    movl $pd, %eax
    orl $0x3, %eax
    movl $pdpt, %ebx
    movl $4, %ecx
1:  movl %eax, (%ebx)
    addl $4096, %eax
    addl $8, %ebx
    loop 1b
    /* 2048 PDEs mapping 0..4 GiB: entry i maps physical i * 2 MiB.  The
     * high dword of each PDE holds bits 63:32 and stays 0 (from .bss). */
    movl $pd, %ebx
    movl $0x83, %eax
    movl $2048, %ecx
2:  movl %eax, (%ebx)
    addl $0x200000, %eax
    addl $8, %ebx
    loop 2b

    /* CR4.PAE = 1: long mode uses the PAE page-table format. */
    movl %cr4, %eax
    orl $(1 << 5), %eax
    movl %eax, %cr4
    /* CR3 = the PML4. */
    movl $pml4, %eax
    movl %eax, %cr3
    /* EFER.LME = 1 (MSR 0xC0000080 bit 8): long mode enable. */
    movl $0xc0000080, %ecx
    rdmsr
    orl $(1 << 8), %eax
    wrmsr
    /* CR0.PG = 1 (with PE already 1): the CPU activates long mode and sets
     * EFER.LMA.  We are now in compatibility mode. */
    movl %cr0, %eax
    orl $(1 << 31), %eax
    movl %eax, %cr0
    /* Load a GDT with a 64-bit code segment and jump into it. */
    lgdt gdt_ptr
    ljmp $0x08, $long_mode

    .code64
long_mode:
    /* Data segment registers: base and limit are ignored in 64-bit mode,
     * but SS must hold a valid selector or null, and VMRUN saves them. */
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    xorw %ax, %ax
    movw %ax, %fs
    movw %ax, %gs
    /* The 64-bit stack: the same memory, now addressed with RSP. */
    movabsq $boot_stack_top, %rsp
    /* hv_main(magic = EDI, info = ESI): the upper halves are already zero
     * because 32-bit moves zero-extend. */
    movl %edi, %edi
    movl %esi, %esi
    call hv_main
    /* hv_main does not return; if it does, stop here. */
3:  cli
    hlt
    jmp 3b

    .section .rodata
    .align 16
    /* GDT (SDM vol 3A 3.4.5): null, 64-bit code (L=1, P=1, DPL 0, type
     * execute/read), data (P=1, type read/write). */
gdt:
    .quad 0
    .quad 0x00209a0000000000
    .quad 0x0000920000000000
gdt_end:
gdt_ptr:
    .word gdt_end - gdt - 1
    .quad gdt

    .section .bss
    .align 4096
pml4:
    .skip 4096
pdpt:
    .skip 4096
pd:
    .skip 4 * 4096
    .align 16
boot_stack:
    .skip 64 * 1024
boot_stack_top:
    .section .note.GNU-stack, "", @progbits
