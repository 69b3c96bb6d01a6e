/*
 * memory: every page of RAM the memory map reports between 1 MiB and 4 GiB
 * (the runtime's identity map) holds what was written to it, and no two
 * addresses share storage.  Under hv this checks the nested page tables
 * (AMD APM vol. 2, 15.25 "Nested Paging"; SDM vol. 3C, 29.3 "EPT"): a wrong or missing
 * mapping shows up as a fault, a mismatch or aliasing.
 *
 * Pages in use are left alone: this image (code, stack, page tables) and
 * everything the Multiboot information points to.
 */
#include "guestkit/guestkit.h"

#define PAGE     4096ull
#define FOUR_GIB 0x100000000ull

struct range {
    uint64_t start, end;
};
/* Room for the image, the info, its strings and map, and a few modules. */
static struct range busy[32];
static int nbusy;

static void add_busy(uint64_t start, uint64_t len)
{
    if (!len)
        return;
    /* More in-use ranges than we can track: refuse to test rather than
     * risk overwriting one of them. */
    if (nbusy == (int)KARRAY_SIZE(busy)) {
        report(false, "in-use ranges: more than %d, not testing", (int)KARRAY_SIZE(busy));
        exit(report_summary());
    }
    busy[nbusy++] = (struct range){start, start + len};
}

static bool page_busy(uint64_t page)
{
    for (int i = 0; i < nbusy; i++)
        if (page < busy[i].end && busy[i].start < page + PAGE)
            return true;
    return false;
}

/* The value stored at addr in a pass: unique per address, different in
 * every bit between the two passes. */
static inline uint64_t pattern(uint64_t addr, int pass)
{
    uint64_t v = addr * 0x9e3779b97f4a7c15ull ^ 0x5555aaaa5555aaaaull;
    return pass ? ~v : v;
}

/* Apply fn to every free page of available RAM in [1 MiB, 4 GiB). */
static uint64_t for_each_page(bool (*fn)(uint64_t page, int pass), int pass, uint64_t *bad)
{
    uint64_t pages = 0;
    for (const struct mb_mmap_entry *e = mb_mmap_next(NULL); e; e = mb_mmap_next(e)) {
        if (e->type != MB_MEMORY_AVAILABLE)
            continue;
        /* Whole pages inside the entry, clipped to [1 MiB, 4 GiB). */
        uint64_t start = (e->addr + PAGE - 1) & ~(PAGE - 1);
        uint64_t end = (e->addr + e->len) & ~(PAGE - 1);
        if (start < 0x100000)
            start = 0x100000;
        if (end > FOUR_GIB)
            end = FOUR_GIB;
        for (uint64_t p = start; p < end; p += PAGE) {
            if (page_busy(p))
                continue;
            pages++;
            if (!fn(p, pass) && !*bad)
                *bad = p;
        }
    }
    return pages;
}

static bool fill_page(uint64_t page, int pass)
{
    volatile uint64_t *q = (volatile uint64_t *)(uintptr_t)page;
    for (unsigned i = 0; i < PAGE / 8; i++)
        q[i] = pattern(page + i * 8, pass);
    return true;
}

static bool check_page(uint64_t page, int pass)
{
    volatile uint64_t *q = (volatile uint64_t *)(uintptr_t)page;
    for (unsigned i = 0; i < PAGE / 8; i++)
        if (q[i] != pattern(page + i * 8, pass))
            return false;
    return true;
}

/* Multiboot spec 3.3: mem_upper is the KiB from 1 MiB to the first hole,
 * so the map must have an available block starting at 1 MiB that long. */
static bool upper_matches_map(uint32_t upper_kib)
{
    for (const struct mb_mmap_entry *e = mb_mmap_next(NULL); e; e = mb_mmap_next(e))
        if (e->type == MB_MEMORY_AVAILABLE && e->addr == 0x100000)
            return e->len / 1024 == upper_kib;
    return false;
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const struct mb_info *mb = mb_info();

    /* What must not be overwritten. */
    uint64_t img_start, img_end;
    image_range(&img_start, &img_end);
    add_busy(img_start, img_end - img_start);
    add_busy((uintptr_t)mb, sizeof(*mb));
    add_busy(mb->cmdline, strlen(mb_cmdline()) + 1);
    if (mb->flags & MB_INFO_MEM_MAP)
        add_busy(mb->mmap_addr, mb->mmap_length);
    if (mb->flags & MB_INFO_MODS) {
        /* The module list, each module's contents and its command line. */
        add_busy(mb->mods_addr, mb->mods_count * sizeof(struct mb_module));
        const struct mb_module *m = (const struct mb_module *)(uintptr_t)mb->mods_addr;
        for (uint32_t i = 0; i < mb->mods_count; i++) {
            add_busy(m[i].mod_start, m[i].mod_end - m[i].mod_start);
            if (m[i].string)
                add_busy(m[i].string, strlen((const char *)(uintptr_t)m[i].string) + 1);
        }
    }
    if (mb->flags & MB_INFO_BOOT_LOADER_NAME)
        add_busy(mb->boot_loader_name, strlen((const char *)(uintptr_t)mb->boot_loader_name) + 1);

    /* The top of RAM below 4 GiB and whether there is RAM above. */
    uint64_t top = 0;
    bool above = false;
    for (const struct mb_mmap_entry *e = mb_mmap_next(NULL); e; e = mb_mmap_next(e)) {
        if (e->type != MB_MEMORY_AVAILABLE)
            continue;
        uint64_t end = e->addr + e->len;
        if (end > FOUR_GIB) {
            above = true;
            end = FOUR_GIB;
        }
        if (end > top && e->addr < FOUR_GIB)
            top = end;
    }
    report_info("top of RAM below 4 GiB: %#llx", (unsigned long long)top);
    if (!report(top > 0x200000, "memory map reports RAM above 1 MiB"))
        return report_summary();

    uint32_t lower, upper;
    if (mb_mem(&lower, &upper))
        report(upper_matches_map(upper), "mem_upper matches the map's block at 1 MiB");

    /* Two passes with complementary patterns: all pages written, then all
     * read back, so a page aliased onto another would show the other's
     * values. */
    for (int pass = 0; pass < 2; pass++) {
        uint64_t bad = 0;
        uint64_t pages = for_each_page(fill_page, pass, &bad);
        pages = for_each_page(check_page, pass, &bad);
        if (bad)
            report_info("first page that did not read back: %#llx", (unsigned long long)bad);
        report_info("pass %d: %llu pages (%llu MiB)", pass + 1, (unsigned long long)pages,
                    (unsigned long long)(pages * PAGE >> 20));
        report(bad == 0 && pages > 0, "pass %d: every free page reads back what was written",
               pass + 1);
    }

    /* The very last page below the top must have been part of it. */
    uint64_t last = (top & ~(PAGE - 1)) - PAGE;
    report_info("last page %#llx", (unsigned long long)last);
    report(!page_busy(last) && check_page(last, 1), "the last page below the top was tested");

    if (above)
        report_skip("RAM above 4 GiB: outside guestkit's identity map, not tested");
    return report_summary();
}
