/*
 * What the runtime hands a guest's main(): its arguments, the Multiboot
 * information, and a way out.  A guest is a normal C program:
 *     int main(int argc, char **argv) { ...; return report_summary(); }
 * and main's return value becomes the exit code.
 */
#ifndef GUESTKIT_RUNTIME_H
#define GUESTKIT_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvkit/multiboot.h"

/* Exit codes the runtime itself uses (a guest's own codes should stay below
 * these; bin/hvrun passes 0..123 through). */
#define GK_EXIT_OK                0
#define GK_EXIT_TESTS_FAILED      1 /* report_summary() saw a FAIL */
#define GK_EXIT_BAD_BOOT          2 /* not entered by a Multiboot loader, or no long mode */
#define GK_EXIT_EXCEPTION         4 /* an exception no test expected */
#define GK_EXIT_MAIN_RETURNED_BAD 5 /* main returned a value outside 0..123 */

/* The guest's entry point, provided by each test. */
int main(int argc, char **argv);

/* End the guest: write code to the isa-debug-exit port 0xf4 (QEMU then exits
 * with status (code << 1) | 1; hv reports "guest code=N").  If nothing is
 * listening there, halt forever with interrupts off. */
__attribute__((noreturn)) void exit(int code);

/* ---- Multiboot information (Multiboot spec 0.6.96, section 3.3) ---------- */
/* The structure the loader passed in EBX (identity-mapped, so usable as is). */
const struct mb_info *mb_info(void);
/* The raw command line, or "" if the loader gave none. */
const char *mb_cmdline(void);
/* KiB of conventional memory and of memory above 1 MiB; false if the
 * loader did not set MB_INFO_MEMORY. */
bool mb_mem(uint32_t *lower_kib, uint32_t *upper_kib);
/* Iterate over the memory map: pass NULL to get the first entry; returns
 * NULL after the last one or when the loader gave no map. */
const struct mb_mmap_entry *mb_mmap_next(const struct mb_mmap_entry *prev);
/* A memory map entry's type in words: "available", "reserved", ... */
const char *mb_mmap_type_name(uint32_t type);

/* Physical range [start, end) occupied by this guest's image (code, data,
 * bss, boot stack and page tables), from the linker script. */
void image_range(uint64_t *start, uint64_t *end);

#endif
