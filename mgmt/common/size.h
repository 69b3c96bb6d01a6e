/*
 * Sizes as libvirt's tools read and print them.
 */
#ifndef HVKIT_MGMT_SIZE_H
#define HVKIT_MGMT_SIZE_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * Parse a "scaled integer" the way virsh does for sizes (`vol-create-as ...
 * 10G`, `setmem 512M`): digits, then an optional suffix.  No suffix means the
 * value is in units of `scale` (1 for bytes, 1024 for virsh's KiB options).
 * "b", "byte", "bytes" mean bytes; k, m, g, t, p, e alone or followed by "iB"
 * are powers of 1024, followed by "B" powers of 1000; letters are matched
 * without regard to case.  On failure returns false and puts libvirt's reason
 * in `why` (e.g. "invalid argument: unknown suffix 'Q'"), or an empty string
 * when virsh gives none (a value that is not a number at all).
 */
bool size_parse_scaled(const char *text, uint64_t scale, uint64_t *out, char *why, size_t whylen);

/*
 * Format a byte count as virsh prints capacities: "%.2f" and the largest
 * binary unit that keeps the number at or above 1 (B, KiB, MiB, GiB, TiB,
 * PiB, EiB), e.g. "100.00 GiB", "1000.00 B".
 */
void size_pretty(uint64_t bytes, char *buf, size_t len);

#endif
