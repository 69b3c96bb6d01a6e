/*
 * sector_pattern.c: the block guests' disk pattern (see sector_pattern.h).
 */
#include "guestkit/sector_pattern.h"

#include "guestkit/guestkit.h"

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
