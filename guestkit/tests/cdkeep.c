/*
 * cdkeep: a guest that reads its CD all the time, for the snapshot tests
 * (tests/integration/vmstate-hv.sh): a savevm taken while it runs falls,
 * nearly always, in the middle of a READ, between two of the Data
 * register's words, and a loadvm must put the drive back there.
 *
 * It locks the medium in (PREVENT ALLOW MEDIUM REMOVAL), reads sectors 16
 * and 17 (the ISO 9660 volume descriptors: ECMA-119 8.4 "Primary Volume
 * Descriptor") once for their checksum, then, count N by count N, reads
 * them again and compares the checksum before it prints "count N".  At
 * the end the drive must refuse to open its tray (the lock is still on:
 * ILLEGAL REQUEST, MEDIUM REMOVAL PREVENTED), then the usual report.  A
 * failed read or check prints "cdkeep: FAIL ...".  Argument: the limit
 * (60 by default).  Run with -cdrom and an ISO image; without a drive it
 * reports the set-up as failed.
 */
#include "klib.h"
#include "guestkit/atapi.h"
#include "guestkit/guestkit.h"

#define FIRST   16u /* the first sector read */
#define SECTORS 2u

static struct atapi_dev cd;
static uint8_t buf[SECTORS * ATAPI_SECTOR];
/* In RAM, so a snapshot brings them back. */
static volatile unsigned long count, fails;
static uint32_t sum0;

/* FNV-1a over the sectors read: one bit changed anywhere changes it. */
static uint32_t checksum(void)
{
    uint32_t h = 2166136261u;
    for (unsigned i = 0; i < sizeof(buf); i++)
        h = (h ^ buf[i]) * 16777619u;
    return h;
}

/* PREVENT ALLOW MEDIUM REMOVAL (SPC-3 "PREVENT ALLOW MEDIUM REMOVAL
 * command"), prevent = 1, or START STOP UNIT with LoEj (MMC-3 clause 6,
 * "START STOP UNIT Command"): the tray open. */
static int lock(void)
{
    const uint8_t cdb[12] = {0x1e, 0, 0, 0, 1};
    return atapi_packet(&cd, cdb, NULL, 0, NULL);
}

static int eject(void)
{
    const uint8_t cdb[12] = {0x1b, 0, 0, 0, 2};
    return atapi_packet(&cd, cdb, NULL, 0, NULL);
}

int main(int argc, char **argv)
{
    unsigned long limit = argc > 1 ? kstrtoull(argv[1], NULL, 10) : 60;
    bool found = atapi_probe(&cd, ATAPI_SECONDARY_IO, ATAPI_SECONDARY_CTL, 0);
    /* The first TEST UNIT READY reports the medium's arrival (UNIT
     * ATTENTION); the second is ready. */
    if (found && atapi_test_unit_ready(&cd) != ATAPI_OK)
        atapi_test_unit_ready(&cd);
    bool ok = found && lock() == ATAPI_OK && atapi_read(&cd, FIRST, SECTORS, buf) == ATAPI_OK;
    sum0 = checksum();
    if (!report(ok && buf[1] == 'C' && buf[5] == '1',
                "set up: drive found, medium locked in, sectors %u-%u read (CD001)", FIRST,
                FIRST + SECTORS - 1))
        return report_summary();
    for (count = 1; count <= limit; count++) {
        memset(buf, 0, sizeof(buf));
        if (atapi_read(&cd, FIRST, SECTORS, buf) != ATAPI_OK || checksum() != sum0) {
            fails++;
            printf("cdkeep: FAIL at count %lu: the read failed or its data differ\n", count);
        }
        printf("count %lu\n", count);
    }
    report(fails == 0, "%lu reads of sectors %u-%u: %lu failures", limit, FIRST,
           FIRST + SECTORS - 1, fails);
    struct atapi_sense s = {0};
    int r = eject();
    if (r == ATAPI_CHECK)
        atapi_request_sense(&cd, &s);
    report(r == ATAPI_CHECK && s.key == 5 && s.asc == 0x53,
           "the tray stays shut: the medium is still locked in (sense %x/%02x)", s.key, s.asc);
    return report_summary();
}
