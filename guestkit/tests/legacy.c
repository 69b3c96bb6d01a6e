/*
 * legacy: the PC's legacy window below 1 MiB as a PC guest uses it.
 *
 *   VGA memory, 0xa0000-0xbffff: a text-mode writer stores characters and
 *   attributes into the text buffer at 0xb8000.  On plain QEMU's PC (no VGA
 *   card with -nodefaults) the range behaves as RAM: stores read back.
 *   Under hv it must too, and above all the guest must not be ended for
 *   it (hv/core/memmap.c says why hv backs it with RAM).
 *
 *   Option ROMs and the BIOS, 0xc0000-0xfffff: a guest looking for the ACPI
 *   RSDP reads 0xe0000-0xfffff in 16-byte steps, one looking for option
 *   ROMs reads their signatures at 0xc0000 and up.  The reads must complete;
 *   what they find differs (QEMU has SeaBIOS and its tables, hv has no
 *   firmware), so that goes into a note, not into the verdict.
 *
 * The guestkit runtime maps the first 4 GiB one to one, so the addresses
 * are guest-physical.  Every store is undone, so whatever the firmware
 * keeps there (SeaBIOS's SMM area at 0xa0000 on QEMU) stays as it was.
 */
#include "guestkit/guestkit.h"

#define VGA_BASE 0xa0000u
#define VGA_END  0xc0000u
#define TEXT_BUF 0xb8000u
#define ROM_BASE 0xc0000u
#define ONE_MIB  0x100000u

/* Store a value of each size at the text buffer and read it back, as a
 * character-and-attribute writer does with 2-byte cells. */
static bool text_buffer_sizes(void)
{
    volatile uint8_t *b = (volatile uint8_t *)(uintptr_t)TEXT_BUF;
    volatile uint16_t *w = (volatile uint16_t *)(uintptr_t)(TEXT_BUF + 2);
    volatile uint32_t *d = (volatile uint32_t *)(uintptr_t)(TEXT_BUF + 4);
    volatile uint64_t *q = (volatile uint64_t *)(uintptr_t)(TEXT_BUF + 8);
    *b = 'h';
    /* 'v' in light grey on black, the attribute a BIOS clears the screen with. */
    *w = 0x0700 | 'v';
    *d = 0x07690768;
    *q = 0x0774076b07740769ull;
    return *b == 'h' && *w == (0x0700 | 'v') && *d == 0x07690768 && *q == 0x0774076b07740769ull;
}

/* A store to the first and last word of every 4 KiB page of the VGA window
 * reads back; each word is put back as it was. */
static bool vga_window_pages(unsigned *bad)
{
    for (uint32_t page = VGA_BASE; page < VGA_END; page += 0x1000) {
        volatile uint32_t *first = (volatile uint32_t *)(uintptr_t)page;
        volatile uint32_t *last = (volatile uint32_t *)(uintptr_t)(page + 0xffc);
        uint32_t a = *first, z = *last;
        *first = page ^ 0x5a5a5a5a;
        *last = page ^ 0xa5a5a5a5;
        bool ok = *first == (page ^ 0x5a5a5a5a) && *last == (page ^ 0xa5a5a5a5);
        *first = a;
        *last = z;
        if (!ok) {
            *bad = page;
            return false;
        }
    }
    return true;
}

/* Read 0xc0000-0xfffff in 16-byte steps, as RSDP and ROM scans do; count
 * option ROM signatures (0x55 0xaa at a 2 KiB boundary) and find "RSD PTR "
 * in 0xe0000-0xfffff.  Returns the RSDP's address or 0. */
static uint32_t rom_scan(unsigned *roms)
{
    uint32_t rsdp = 0;
    *roms = 0;
    for (uint32_t a = ROM_BASE; a < ONE_MIB; a += 16) {
        volatile const uint8_t *p = (volatile const uint8_t *)(uintptr_t)a;
        if (a % 0x800 == 0 && p[0] == 0x55 && p[1] == 0xaa)
            (*roms)++;
        if (a >= 0xe0000 && !rsdp && memcmp((const void *)(uintptr_t)a, "RSD PTR ", 8) == 0)
            rsdp = a;
    }
    return rsdp;
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    report(text_buffer_sizes(), "text buffer: 1-, 2-, 4- and 8-byte stores at %#x read back",
           TEXT_BUF);
    unsigned bad = 0;
    report(vga_window_pages(&bad), "VGA window: every 4 KiB page of %#x-%#x takes stores%s",
           VGA_BASE, VGA_END - 1, bad ? " (not all)" : "");
    if (bad)
        report_info("the page at %#x did not read back", bad);
    unsigned roms;
    uint32_t rsdp = rom_scan(&roms);
    report(true, "ROM scan: %#x-%#x reads in 16-byte steps", ROM_BASE, ONE_MIB - 1);
    if (rsdp)
        report_info("%u option ROM signature(s); ACPI RSDP at %#x", roms, rsdp);
    else
        report_info("%u option ROM signature(s); no ACPI RSDP", roms);
    return report_summary();
}
