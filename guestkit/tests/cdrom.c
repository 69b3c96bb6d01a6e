/*
 * cdrom: read a CD through the ATAPI drive at the secondary IDE master
 * (QEMU's -cdrom, hv's ide1-cd0; guestkit/atapi.h), and with `change`
 * follow the host ejecting the medium and putting another in.
 *
 * It reads the ISO 9660 image's primary volume descriptor (sector 16: ECMA-119
 * 8.4 "Primary Volume Descriptor"), the root directory and the file
 * README.TXT, and prints what it found; then the drive's answers to a read
 * past the end and to an unknown command (their sense key and ASC).  With
 * `change` it says "ready for eject" and polls TEST UNIT READY until the
 * medium is gone (the host's `eject ide1-cd0`), says "ready for change",
 * polls until the drive reports the new medium (`change ide1-cd0 FILE`:
 * UNIT ATTENTION, MEDIUM MAY HAVE CHANGED) and reads the new disc the same
 * way.  With `lock` as well it first locks the medium in (PREVENT ALLOW
 * MEDIUM REMOVAL), so that the host's plain eject is refused and only a
 * forced one takes it.  tests/integration/cdrom.sh runs it on plain QEMU and under hv with
 * the same images and monitor commands and compares the lines.  The ASC
 * qualifier is not printed: QEMU leaves it 0, hv says whether the tray is
 * open (MMC's 3Ah/01h and 02h).
 *
 * With `describe` it also prints, byte for byte, the drive's answers to
 * what a CD driver such as Linux's sr asks before it mounts a disc: the
 * table of contents and the session (READ TOC/PMA/ATIP), READ DISC
 * INFORMATION, the capabilities and error-recovery pages (MODE SENSE
 * (10)), GET CONFIGURATION, and variants each drive refuses; with `lock`
 * as well, the capabilities page once more after the lock.
 *
 * With `stay` it does not end after its last line but waits to be
 * destroyed.  Exit code 0 when everything was as expected, 1 otherwise.
 */
#include "klib.h"
#include "guestkit/atapi.h"
#include "guestkit/guestkit.h"
#include "guestkit/parse.h"
#include "guestkit/smp.h"

static struct atapi_dev cd;
static uint8_t sector[ATAPI_SECTOR];
static int failures;

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The sense of the command that just failed, as "key/asc". */
static void print_sense(const char *what)
{
    struct atapi_sense s;
    if (atapi_request_sense(&cd, &s) != ATAPI_OK) {
        printf("cdrom: %s: REQUEST SENSE failed\n", what);
        failures++;
        return;
    }
    printf("cdrom: %s: sense %x/%02x\n", what, s.key, s.asc);
}

/* Print the file's bytes, a line at a time. */
static void print_file(const char *name, const uint8_t *b, uint32_t len)
{
    uint32_t start = 0;
    for (uint32_t i = 0; i <= len; i++) {
        if (i == len || b[i] == '\n') {
            if (i > start)
                printf("cdrom: %s: %.*s\n", name, (int)(i - start), (const char *)b + start);
            start = i + 1;
        }
    }
}

/* The root directory's record for README.TXT (ISO 9660 level 1 names end
 * in ";1"), searched in the directory's first sector. */
static bool find_readme(uint32_t dir_lba, uint32_t *lba, uint32_t *len)
{
    if (atapi_read(&cd, dir_lba, 1, sector) != ATAPI_OK)
        return false;
    for (uint32_t off = 0; off + 33 < ATAPI_SECTOR && sector[off];) {
        const uint8_t *r = sector + off;
        if (r[32] >= 10 && memcmp(r + 33, "README.TXT", 10) == 0) {
            *lba = le32(r + 2);
            *len = le32(r + 10);
            return true;
        }
        off += r[0];
    }
    return false;
}

/* Capacity, volume descriptor, README.TXT. */
static void read_disc(void)
{
    uint32_t blocks, blen;
    if (atapi_read_capacity(&cd, &blocks, &blen) != ATAPI_OK) {
        print_sense("READ CAPACITY");
        failures++;
        return;
    }
    printf("cdrom: capacity %u sectors of %u bytes\n", blocks, blen);
    if (atapi_read(&cd, 16, 1, sector) != ATAPI_OK) {
        print_sense("reading sector 16");
        failures++;
        return;
    }
    if (sector[0] != 1 || memcmp(sector + 1, "CD001", 5) != 0) {
        printf("cdrom: sector 16 is not an ISO 9660 primary volume descriptor\n");
        failures++;
        return;
    }
    /* Volume identifier: bytes 40-71, padded with blanks; volume space
     * size: bytes 80-83 (little-endian half of the both-endian field). */
    int n = 32;
    while (n && sector[40 + n - 1] == ' ')
        n--;
    printf("cdrom: volume %.*s, %u sectors\n", n, (const char *)sector + 40, le32(sector + 80));
    uint32_t root = le32(sector + 156 + 2), lba, len;
    if (!find_readme(root, &lba, &len) || len > ATAPI_SECTOR) {
        printf("cdrom: no README.TXT of one sector in the root directory\n");
        failures++;
        return;
    }
    if (atapi_read(&cd, lba, 1, sector) != ATAPI_OK) {
        print_sense("reading README.TXT");
        failures++;
        return;
    }
    print_file("README.TXT", sector, len);
}

/* The reply's bytes as hex, 16 to a line, each line "cdrom: WHAT +OFF: ..". */
static void print_hex(const char *what, const uint8_t *b, uint32_t n)
{
    for (uint32_t off = 0; off < n; off += 16) {
        char line[16 * 3 + 1];
        uint32_t k = 0;
        for (uint32_t i = off; i < n && i < off + 16; i++)
            k += (uint32_t)ksnprintf(line + k, sizeof(line) - k, " %02x", b[i]);
        printf("cdrom: %s +%02x:%s\n", what, off, line);
    }
}

/* One command whose whole reply is printed (or its sense when it fails):
 * what a CD driver such as Linux's sr asks a drive before it mounts a
 * disc -- the table of contents and sessions (READ TOC/PMA/ATIP, formats 0
 * and 1), the drive's capabilities page (MODE SENSE (10), page 2Ah), the
 * profile of the medium (GET CONFIGURATION). */
static void print_reply(const char *what, const uint8_t cdb[12], uint32_t alloc)
{
    uint32_t got = 0;
    memset(sector, 0, sizeof(sector));
    if (atapi_packet(&cd, cdb, sector, alloc, &got) != ATAPI_OK) {
        print_sense(what);
        return;
    }
    printf("cdrom: %s: %u bytes\n", what, got);
    print_hex(what, sector, got);
}

/* The descriptive commands above, with allocation lengths a driver uses. */
static void describe_disc(void)
{
    /* READ TOC's format is in byte 2 (MMC-3) and, for older drives, in
     * bits 7:6 of byte 9 (SFF-8020i); the session request sets both. */
    static const struct {
        const char *what;
        uint8_t cdb[12];
        uint32_t alloc;
    } probes[] = {
        {"READ TOC", {0x43, 0, 0, 0, 0, 0, 0, 0, 252}, 252},
        {"READ TOC (MSF)", {0x43, 2, 0, 0, 0, 0, 0, 0, 252}, 252},
        {"READ TOC from track 2", {0x43, 0, 0, 0, 0, 0, 2, 0, 252}, 252},
        {"READ TOC from the lead-out", {0x43, 0, 0, 0, 0, 0, 0xaa, 0, 252}, 252},
        {"READ TOC (session)", {0x43, 0, 1, 0, 0, 0, 0, 0, 12, 0x40}, 12},
        {"READ DISC INFORMATION", {0x51, 0, 0, 0, 0, 0, 0, 0, 34}, 34},
        {"READ DISC INFORMATION (track resources)", {0x51, 1, 0, 0, 0, 0, 0, 0, 34}, 34},
        {"MODE SENSE page 2a", {0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 128}, 128},
        {"MODE SENSE page 01", {0x5a, 0, 0x01, 0, 0, 0, 0, 0, 128}, 128},
        {"MODE SENSE all pages", {0x5a, 0, 0x3f, 0, 0, 0, 0, 0, 252}, 252},
        {"MODE SENSE changeable", {0x5a, 0, 0x6a, 0, 0, 0, 0, 0, 128}, 128},
        {"MODE SENSE default", {0x5a, 0, 0xaa, 0, 0, 0, 0, 0, 128}, 128},
        {"MODE SENSE saved", {0x5a, 0, 0xea, 0, 0, 0, 0, 0, 128}, 128},
        {"GET CONFIGURATION", {0x46, 0, 0, 0, 0, 0, 0, 0, 252}, 252},
        {"GET CONFIGURATION from feature 1", {0x46, 2, 0, 1, 0, 0, 0, 0, 252}, 252},
    };
    for (unsigned i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
        print_reply(probes[i].what, probes[i].cdb, probes[i].alloc);
}

/* Errors the drive must answer with sense data. */
static void bad_requests(void)
{
    uint32_t blocks, blen;
    atapi_read_capacity(&cd, &blocks, &blen);
    if (atapi_read(&cd, blocks, 1, sector) != ATAPI_CHECK)
        failures++;
    print_sense("read past the end");
    const uint8_t unknown[12] = {0xff};
    if (atapi_packet(&cd, unknown, NULL, 0, NULL) != ATAPI_CHECK)
        failures++;
    print_sense("unknown command");
}

/* Poll TEST UNIT READY every 20 ms until it fails with a sense other than
 * `skip_key/skip_asc` (0/0: until it fails at all), at most two minutes;
 * the sense then, as key << 8 | asc, or -1. */
static int wait_for_sense(uint8_t skip_key, uint8_t skip_asc)
{
    for (int i = 0; i < 6000; i++) {
        if (atapi_test_unit_ready(&cd) == ATAPI_CHECK) {
            struct atapi_sense s;
            atapi_request_sense(&cd, &s);
            if (s.key != skip_key || s.asc != skip_asc)
                return s.key << 8 | s.asc;
        }
        smp_delay_us(20000);
    }
    return -1;
}

static void change(void)
{
    printf("cdrom: ready for eject\n");
    int s = wait_for_sense(0, 0);
    printf("cdrom: no medium: sense %x/%02x\n", s >> 8, s & 0xff);
    if (s != (2 << 8 | 0x3a))
        failures++;
    printf("cdrom: ready for change\n");
    /* While the drive is empty TEST UNIT READY says NOT READY / MEDIUM NOT
     * PRESENT; the new medium comes as a UNIT ATTENTION. */
    s = wait_for_sense(2, 0x3a);
    printf("cdrom: medium changed: sense %x/%02x\n", s >> 8, s & 0xff);
    if (s != (6 << 8 | 0x28))
        failures++;
    if (atapi_test_unit_ready(&cd) != ATAPI_OK) {
        print_sense("TEST UNIT READY after the change");
        failures++;
    }
    read_disc();
}

int main(int argc, char **argv)
{
    if (!atapi_probe(&cd, ATAPI_SECONDARY_IO, ATAPI_SECONDARY_CTL, 0)) {
        printf("cdrom: no ATAPI drive at the secondary IDE master\n");
        return 1;
    }
    printf("cdrom: ATAPI drive at %#x master: command set %u, %s\n", cd.io, cd.type,
           cd.removable ? "removable" : "fixed");
    read_disc();
    if (gk_arg_value(argc, argv, "describe"))
        describe_disc();
    bad_requests();
    if (gk_arg_value(argc, argv, "lock")) {
        const uint8_t prevent[12] = {0x1e, 0, 0, 0, 1};
        if (atapi_packet(&cd, prevent, NULL, 0, NULL) != ATAPI_OK)
            failures++;
        printf("cdrom: medium locked\n");
        /* The capabilities page's lock state follows the lock. */
        if (gk_arg_value(argc, argv, "describe")) {
            const uint8_t caps[12] = {0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 128};
            print_reply("MODE SENSE page 2a", caps, 128);
        }
    }
    if (gk_arg_value(argc, argv, "change"))
        change();
    printf("cdrom: %s\n", failures ? "FAILED" : "done");
    /* `stay`: keep the machine up (a front-end's test reads the console
     * of a domain that still runs, then destroys it). */
    while (gk_arg_value(argc, argv, "stay"))
        smp_delay_us(50000);
    return failures ? 1 : 0;
}
