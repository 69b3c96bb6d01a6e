/*
 * entry.S - hv's first instructions: the Multiboot header, the 32-bit entry
 * point a Multiboot loader jumps to, and the switch to 64-bit long mode.
 *
 * Multiboot 0.6.96 section 3.2: we arrive in 32-bit protected mode with
 * paging off, EAX = 0x2BADB002 and EBX = the physical address of the
 * Multiboot information structure; the stack, GDT and IDT are undefined.
 * Long mode needs (AMD APM vol 2 14.6.1 "Activating Long Mode" / SDM vol 3A
 * 10.8.5 "Initializing IA-32e Mode"): CR4.PAE,
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

    /* The header lives in a section of its own so that link.ld can place it
     * first in the file: a loader only scans the first 8192 bytes, 32-bit
     * aligned (Multiboot 3.1.1), and would otherwise refuse to boot us. */
    .section .multiboot, "a"
    .align 4
    /* Multiboot 3.1.1: magic, flags, checksum; must be in the first 8 KiB. */
    .long MB_HEADER_MAGIC
    .long HV_MB_FLAGS
    /* The checksum makes the three fields sum to zero (mod 2^32), which is
     * how the loader tells a real header from random bytes. */
    .long -(MB_HEADER_MAGIC + HV_MB_FLAGS)

    /* The 32-bit code goes in its own section, linked at its load address:
     * until paging is on, every address the CPU uses is physical, so this
     * code must run exactly where the loader put it (link.ld). */
    .section .boot.text, "ax"
    /* The loader jumps here in 32-bit protected mode: assemble 32-bit
     * instructions until the far jump into the 64-bit code segment. */
    .code32
    /* _start is the entry point the loader reads from the ELF header: with
     * flags bit 16 clear the header's address fields are absent and the
     * loader uses the ELF file's own e_entry (Multiboot 3.1.3). */
    .globl _start
_start:
    /* Interrupts stay off for hv's whole life: it polls its devices. */
    cli
    /* Keep the Multiboot magic and info pointer for hv_main(). */
    movl %eax, %edi
    /* EBX points at the Multiboot information structure (Multiboot 3.3),
     * somewhere in low memory that hv must not overwrite before reading. */
    movl %ebx, %esi
    /* A stack of our own (the loader's is undefined, 3.2). */
    movl $boot_stack_top, %esp

    /* Build the page tables: PML4[0] -> PDPT, PDPT[0..3] -> 4 page
     * directories, each with 512 2 MiB pages (APM vol 2 5.3.4 "2-Mbyte Page
     * Translation", 2-Mbyte page
     * translation; PS = bit 7 in the PDE).  Flags 0x83 = present, writable,
     * page size; 0x03 = present, writable.  PML4 entry 0 covers 0..512 GiB:
     * point it at the one PDPT.  The tables are in .bss, which the loader
     * zero-filled (the part of an ELF segment beyond its file size is zeroed
     * on loading), so every other entry is "not present" and the high dwords
     * are already zero. */
    movl $pdpt, %eax
    orl $0x3, %eax
    movl %eax, pml4
    /* Four PDPT entries, one per GiB. */
    movl $pd, %eax
    orl $0x3, %eax
    movl $pdpt, %ebx
    movl $4, %ecx
    /* EAX walks the four page directories (4 KiB apart), EBX the PDPT
     * entries (8 bytes apart); LOOP counts ECX down to zero. */
1:  movl %eax, (%ebx)
    addl $4096, %eax
    addl $8, %ebx
    loop 1b
    /* 2048 PDEs mapping 0..4 GiB: entry i maps physical i * 2 MiB.  The
     * high dword of each PDE holds bits 63:32 and stays 0 (from .bss). */
    movl $pd, %ebx
    /* The first PDE maps physical 0 with present, writable, PS. */
    movl $0x83, %eax
    /* The four directories are contiguous, so one loop fills all 2048. */
    movl $2048, %ecx
2:  movl %eax, (%ebx)
    /* The next 2 MiB page: the flags in the low bits stay as they are. */
    addl $0x200000, %eax
    addl $8, %ebx
    loop 2b

    /* CR4.PAE = 1: long mode uses the PAE page-table format.
     * Read-modify-write keeps whatever else the loader left in CR4. */
    movl %cr4, %eax
    orl $(1 << 5), %eax
    movl %eax, %cr4
    /* CR3 = the PML4.  With paging still off this only records where the
     * tables are; the CPU reads them once CR0.PG is set below. */
    movl $pml4, %eax
    movl %eax, %cr3
    /* EFER.LME = 1 (MSR 0xC0000080 bit 8): long mode enable.  RDMSR/WRMSR take
     * the MSR number in ECX and the value in EDX:EAX; we only change bit 8 of
     * the low half and write EDX back unchanged. */
    movl $0xc0000080, %ecx
    rdmsr
    orl $(1 << 8), %eax
    wrmsr
    /* CR0.PG = 1 (with PE already 1): the CPU activates long mode and sets
     * EFER.LMA.  We are now in compatibility mode.  The instruction after this
     * MOV is fetched through the new page tables: the identity map makes its
     * address mean the same thing. */
    movl %cr0, %eax
    orl $(1 << 31), %eax
    movl %eax, %cr0
    /* Load a GDT with a 64-bit code segment and jump into it.  The
     * loader's GDT is undefined (Multiboot 3.2), and only a far jump to a
     * descriptor with L=1 leaves compatibility mode for 64-bit mode (APM
     * vol 2 14.6.1 "Activating Long Mode").  In compatibility mode LGDT reads a 32-bit base; the
     * .quad below is zero above bit 31, so either reading is the same. */
    lgdt gdt_ptr
    /* Selector 0x08 = GDT entry 1, the 64-bit code segment, RPL 0. */
    ljmp $0x08, $long_mode

    .code64
long_mode:
    /* Data segment registers: base and limit are ignored in 64-bit mode, but
     * SS must hold a valid selector or null, and VMRUN saves them.  Selector
     * 0x10 = GDT entry 2, the flat data segment. */
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    /* FS and GS are unused by hv: a null selector is the honest value
     * (their bases come from MSRs in 64-bit mode anyway). */
    xorw %ax, %ax
    movw %ax, %fs
    movw %ax, %gs
    /* The 64-bit stack: the same memory, now addressed with RSP. */
    movabsq $boot_stack_top, %rsp
    /* hv_main(magic = EDI, info = ESI): the upper halves are already zero
     * because 32-bit moves zero-extend. */
    movl %edi, %edi
    movl %esi, %esi
    /* System V AMD64 ABI: the first two integer arguments are RDI, RSI;
     * RSP is 16-byte aligned here (boot_stack_top is .align 16), as the
     * ABI requires before a CALL. */
    call hv_main
    /* hv_main does not return; if it does, stop here.  HLT would resume after
     * an NMI or SMI: loop so we stay stopped. */
3:  cli
    hlt
    jmp 3b

    .section .rodata
    .align 16
    /* GDT (SDM vol 3A 3.4.5 "Segment Descriptors"): null, 64-bit code (L=1, P=1, DPL 0, type
     * execute/read), data (P=1, type read/write). */
gdt:
    /* Entry 0 is the null descriptor the CPU never uses. */
    .quad 0
    /* 0x08: bits 47 P, 44 S, 43-40 type 0xA (code, execute/read), 53 L. */
    .quad 0x00209a0000000000
    /* 0x10: bits 47 P, 44 S, 43-40 type 0x2 (data, read/write). */
    .quad 0x0000920000000000
gdt_end:
    /* The pseudo-descriptor LGDT reads: limit (size - 1), then base. */
gdt_ptr:
    .word gdt_end - gdt - 1
    .quad gdt

    /* Page tables must be 4 KiB aligned: an entry holds only bits 51:12
     * of the next table's address (APM vol 2 5.3 "Long-Mode Page Translation"). */
    .section .bss
    .align 4096
pml4:
    .skip 4096
pdpt:
    .skip 4096
pd:
    .skip 4 * 4096
    /* hv's only stack, used for its whole life (it has no threads and
     * takes no interrupts); 64 KiB leaves room for the formatted log
     * buffers and the exit handlers' locals.  Stacks grow down, so the
     * label after the space is the initial stack pointer. */
    .align 16
boot_stack:
    .skip 64 * 1024
boot_stack_top:
    /* An empty .note.GNU-stack tells the linker this file needs no
     * executable stack (otherwise ld warns and marks the stack RWX). */
    .section .note.GNU-stack, "", @progbits
