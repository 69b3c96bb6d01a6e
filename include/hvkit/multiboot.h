/*
 * Multiboot specification version 0.6.96 ("Multiboot 1"): the structures a
 * boot loader and an OS image exchange.  Used by hv (which is booted by a
 * Multiboot loader and is itself one for its guest) and by guestkit.
 * Plain definitions only; see the spec, sections 3.1 (header) and 3.3 (info).
 */
#ifndef HVKIT_MULTIBOOT_H
#define HVKIT_MULTIBOOT_H

#include <stdint.h>

/* 3.1.1: the header must be in the first 8192 bytes, 4-byte aligned. */
#define MB_HEADER_MAGIC      0x1BADB002u
#define MB_HEADER_SEARCH_LEN 8192u

/* 3.1.2: header flags. */
#define MB_HF_PAGE_ALIGN  (1u << 0) /* modules page aligned */
#define MB_HF_MEMORY_INFO (1u << 1) /* mem_* and mmap_* wanted */
#define MB_HF_VIDEO_MODE  (1u << 2)
#define MB_HF_AOUT_KLUDGE (1u << 16) /* the address fields below are valid */

/* 3.2: EAX holds this on entry to the OS image. */
#define MB_BOOTLOADER_MAGIC 0x2BADB002u

struct mb_header {
    uint32_t magic;
    uint32_t flags;
    uint32_t checksum; /* magic + flags + checksum == 0 (mod 2^32) */
    /* Valid when MB_HF_AOUT_KLUDGE is set. */
    uint32_t header_addr;
    uint32_t load_addr;
    uint32_t load_end_addr;
    uint32_t bss_end_addr;
    uint32_t entry_addr;
    /* Valid when MB_HF_VIDEO_MODE is set. */
    uint32_t mode_type;
    uint32_t width;
    uint32_t height;
    uint32_t depth;
} __attribute__((packed));

/* 3.3: info flags. */
#define MB_INFO_MEMORY           (1u << 0) /* mem_lower, mem_upper */
#define MB_INFO_BOOTDEV          (1u << 1)
#define MB_INFO_CMDLINE          (1u << 2)
#define MB_INFO_MODS             (1u << 3)
#define MB_INFO_AOUT_SYMS        (1u << 4)
#define MB_INFO_ELF_SHDR         (1u << 5)
#define MB_INFO_MEM_MAP          (1u << 6)
#define MB_INFO_DRIVE_INFO       (1u << 7)
#define MB_INFO_CONFIG_TABLE     (1u << 8)
#define MB_INFO_BOOT_LOADER_NAME (1u << 9)

struct mb_info {
    uint32_t flags;
    uint32_t mem_lower; /* KiB of memory from 0, at most 640 */
    uint32_t mem_upper; /* KiB of memory from 1 MiB up to the first hole */
    uint32_t boot_device;
    uint32_t cmdline; /* physical address of a NUL-terminated string */
    uint32_t mods_count;
    uint32_t mods_addr; /* physical address of mods_count struct mb_module */
    uint32_t syms[4];
    uint32_t mmap_length; /* bytes of the memory map */
    uint32_t mmap_addr;
    uint32_t drives_length;
    uint32_t drives_addr;
    uint32_t config_table;
    uint32_t boot_loader_name;
    uint32_t apm_table;
    uint32_t vbe_control_info;
    uint32_t vbe_mode_info;
    uint16_t vbe_mode;
    uint16_t vbe_interface_seg;
    uint16_t vbe_interface_off;
    uint16_t vbe_interface_len;
} __attribute__((packed));

struct mb_module {
    uint32_t mod_start;
    uint32_t mod_end; /* one past the last byte */
    uint32_t string;  /* the module's command line */
    uint32_t reserved;
} __attribute__((packed));

/* A memory map entry; 'size' does not count itself, so the next entry is at
 * (char *)entry + entry->size + 4. */
struct mb_mmap_entry {
    uint32_t size;
    uint64_t addr;
    uint64_t len;
    uint32_t type;
} __attribute__((packed));

#define MB_MEMORY_AVAILABLE        1
#define MB_MEMORY_RESERVED         2
#define MB_MEMORY_ACPI_RECLAIMABLE 3
#define MB_MEMORY_NVS              4
#define MB_MEMORY_BADRAM           5

#endif
