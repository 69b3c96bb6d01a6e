/*
 * sector_pattern.c: the block guests' disk pattern (see sector_pattern.h).
 */
#include "guestkit/sector_pattern.h"

#include "guestkit/guestkit.h"
#include "guestkit/report.h"

/* A line of the pattern: "sector %08x\n" is 16 characters. */
#define LINE_BYTES 16

void sector_pattern_fill(uint8_t *p, uint64_t sector)
{
    /* One line is formatted (with room for ksnprintf's NUL) and repeated
     * over the sector. */
    char line[LINE_BYTES + 1];
    ksnprintf(line, sizeof(line), "sector %08llx\n", (unsigned long long)sector);
    for (unsigned i = 0; i < SECTOR_PATTERN_BYTES / LINE_BYTES; i++)
        memcpy(p + i * LINE_BYTES, line, LINE_BYTES);
}

void sector_pattern_fill_n(uint8_t *p, uint64_t first, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        sector_pattern_fill(p + i * SECTOR_PATTERN_BYTES, first + i);
}

uint32_t sector_pattern_mismatch(const uint8_t *p, uint64_t first, uint32_t n)
{
    /* Each sector is compared with a freshly made copy of its pattern, so
     * the check cannot drift from what sector_pattern_fill() writes. */
    uint8_t want[SECTOR_PATTERN_BYTES];
    for (uint32_t i = 0; i < n; i++) {
        sector_pattern_fill(want, first + i);
        if (memcmp(p + i * SECTOR_PATTERN_BYTES, want, SECTOR_PATTERN_BYTES) != 0)
            return i;
    }
    return n;
}

bool sector_pattern_read_ok(const uint8_t *p, uint64_t first, uint32_t n)
{
    uint32_t bad = sector_pattern_mismatch(p, first, n);
    if (bad < n) {
        report_info("sector %llu differs", (unsigned long long)(first + bad));
        return false;
    }
    return true;
}
