/*
 * mbinfo: the Multiboot information the loader handed over (Multiboot spec
 * 0.6.96, 3.3) is present and self-consistent.  QEMU's -kernel loader is the
 * reference; hv, as a Multiboot loader for its guest, must pass the same.
 */
#include "guestkit/guestkit.h"

/* The command line with runs of spaces squeezed to one and no leading or
 * trailing space: what joining argv with single spaces must give. */
static void squeeze(const char *in, char *out, size_t size)
{
    size_t n = 0;
    bool space = true;
    for (; *in && n + 1 < size; in++) {
        bool is_sp = *in == ' ' || *in == '\t' || *in == '\n' || *in == '\r';
        if (is_sp && !space)
            out[n++] = ' ';
        else if (!is_sp)
            out[n++] = *in;
        space = is_sp;
    }
    if (n > 0 && out[n - 1] == ' ')
        n--;
    out[n] = '\0';
}

int main(int argc, char **argv)
{
    const struct mb_info *mb = mb_info();
    printf("mbinfo: flags %#x\n", mb->flags);

    /* We asked for memory information (header flag bit 1); QEMU and GRUB
     * always pass the command line. */
    report(mb->flags & MB_INFO_MEMORY, "flag 0 (mem_lower/mem_upper) is set");
    report(mb->flags & MB_INFO_CMDLINE, "flag 2 (command line) is set");
    report(mb->flags & MB_INFO_MEM_MAP, "flag 6 (memory map) is set");
    if (mb->flags & MB_INFO_BOOT_LOADER_NAME)
        printf("mbinfo: boot loader \"%s\"\n", (const char *)(uintptr_t)mb->boot_loader_name);

    /* The command line, and argv as the runtime split it. */
    const char *cmd = mb_cmdline();
    printf("mbinfo: command line \"%s\"\n", cmd);
    char joined[256] = "", squeezed[256];
    for (int i = 0; i < argc; i++) {
        printf("mbinfo: argv[%d] = \"%s\"\n", i, argv[i]);
        size_t len = strlen(joined);
        ksnprintf(joined + len, sizeof(joined) - len, "%s%s", i ? " " : "", argv[i]);
    }
    squeeze(cmd, squeezed, sizeof(squeezed));
    report(argc >= 1 && strcmp(joined, squeezed) == 0, "argv matches the command line");

    /* Conventional memory: at most 640 KiB, minus what the BIOS keeps for
     * its extended data area at the top: QEMU's SeaBIOS reports 639, Bochs's
     * BIOS 636, real machines 635 to 640.  So check the range here, and
     * below that it agrees with the memory map. */
    uint32_t lower = 0, upper = 0;
    bool have_mem = mb_mem(&lower, &upper);
    report_info("mem_lower %u KiB, mem_upper %u KiB", lower, upper);
    report(have_mem && lower >= 512 && lower <= 640, "mem_lower is between 512 and 640 KiB");

    /* Walk the map: entries must be sorted by address and must not overlap. */
    int entries = 0, available = 0;
    bool sorted = true, disjoint = true, sizes_ok = true;
    uint64_t prev_end = 0, upper_region_len = 0, lower_region_len = 0;
    const struct mb_mmap_entry *prev = NULL;
    for (const struct mb_mmap_entry *e = mb_mmap_next(NULL); e; e = mb_mmap_next(e)) {
        printf("mbinfo: map 0x%012llx-0x%012llx %s\n", (unsigned long long)e->addr,
               (unsigned long long)(e->addr + e->len - 1), mb_mmap_type_name(e->type));
        entries++;
        /* 'size' is at least the 20 bytes of addr, len and type. */
        if (e->size < 20)
            sizes_ok = false;
        if (prev && e->addr < prev->addr)
            sorted = false;
        if (prev && e->addr < prev_end)
            disjoint = false;
        if (e->type == MB_MEMORY_AVAILABLE)
            available++;
        /* mem_upper describes the available block that starts at 1 MiB. */
        if (e->type == MB_MEMORY_AVAILABLE && e->addr == 0x100000)
            upper_region_len = e->len;
        /* ... and mem_lower the available block that starts at 0. */
        if (e->type == MB_MEMORY_AVAILABLE && e->addr == 0)
            lower_region_len = e->len;
        prev_end = e->addr + e->len;
        prev = e;
    }
    report_info("%d map entries, %d available", entries, available);
    report(entries > 0 && available > 0, "memory map has available entries");
    report(sizes_ok, "every entry's size field is at least 20");
    report(sorted, "entries are sorted by address");
    report(disjoint, "entries do not overlap");
    /* Spec 3.3: mem_upper is the amount of memory from 1 MiB to the first
     * hole, in KiB: the length of that available block. */
    report_info("available block at 0: %llu KiB", (unsigned long long)(lower_region_len / 1024));
    report(have_mem && lower_region_len / 1024 == lower,
           "mem_lower equals the map's available block at 0");
    report_info("available block at 1 MiB: %llu KiB",
                (unsigned long long)(upper_region_len / 1024));
    report(have_mem && upper_region_len / 1024 == upper,
           "mem_upper equals the map's available block at 1 MiB");
    return report_summary();
}
