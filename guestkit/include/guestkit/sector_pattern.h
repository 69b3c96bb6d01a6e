/*
 * The disk pattern the block test guests write and the host checks in the
 * image file afterwards (vblk through virtio-blk, pvblk through PV block):
 * every 512-byte sector is 32 lines of 16 characters, "sector %08x\n"
 * with the sector's number, so `qemu-img convert -O raw` + `head` shows
 * it.  One definition, so that both guests write the same bytes.
 */
#ifndef GUESTKIT_SECTOR_PATTERN_H
#define GUESTKIT_SECTOR_PATTERN_H

#include <stdbool.h>
#include <stdint.h>

/* The bytes of one sector of the pattern. */
#define SECTOR_PATTERN_BYTES 512

/* Fill p[0..SECTOR_PATTERN_BYTES) with the pattern of sector `sector`. */
void sector_pattern_fill(uint8_t *p, uint64_t sector);
/* Fill n consecutive sectors at p with the pattern of sectors first,
 * first + 1, ... (what a guest writes at sector `first`). */
void sector_pattern_fill_n(uint8_t *p, uint64_t first, uint32_t n);
/* The index of the first of the n sectors at p that is not the pattern of
 * sector first + index, or n when all of them are. */
uint32_t sector_pattern_mismatch(const uint8_t *p, uint64_t first, uint32_t n);
/* Whether the n sectors at p, read from sector `first`, hold the pattern;
 * if not, says which sector differs (report_info) and returns false. */
bool sector_pattern_read_ok(const uint8_t *p, uint64_t first, uint32_t n);

#endif
