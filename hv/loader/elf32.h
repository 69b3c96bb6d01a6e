/*
 * elf32.h - the parts of a 32-bit ELF file hv's Multiboot loader reads
 * (mbload.c); the loader's unit test builds its images with them.
 */
#ifndef HV_LOADER_ELF32_H
#define HV_LOADER_ELF32_H

#include <stdint.h>

/* The ELF structures we read (System V gABI, chapter 4 "Object Files").  Only
 * the fields the loader reads are named for what they are used for: ident
 * (magic, class, byte order), machine, entry, phoff/phentsize/phnum (where the
 * program header table is).  `packed` makes the layout exactly the file's,
 * with no padding the compiler might add. */
struct elf32_ehdr {
    /* "\x7fELF", class, byte order, version, OS ABI, padding. */
    uint8_t ident[16];
    /* File type (executable, object, ...) and target architecture. */
    uint16_t type, machine;
    /* Entry point and the file offsets of the two header tables. */
    uint32_t version, entry, phoff, shoff, flags;
    /* Sizes and counts of the table entries; sections are not used. */
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
} __attribute__((packed));

/* One program header: a segment to load (PT_LOAD) from `offset` in the
 * file, `filesz` bytes, into `memsz` bytes of memory at paddr. */
struct elf32_phdr {
    uint32_t type, offset, vaddr, paddr, filesz, memsz, flags, align;
} __attribute__((packed));

/* e_ident[4] (class), e_ident[5] (byte order), e_machine, p_type values. */
#define ELFCLASS32  1
#define ELFCLASS64  2
#define ELFDATA2LSB 1
#define EM_386      3
#define PT_LOAD     1

#endif
