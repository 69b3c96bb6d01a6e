/*
 * memtour: the guest of lesson 02 (lessons/02-second-level-paging), a tour
 * of the memory a guest believes is physical, in the lesson's order:
 *
 *   1. the memory map the machine reports (Multiboot's copy of the BIOS's
 *      E820 map): where RAM is, and where it is not;
 *   2. a store and a load on a page of RAM, which the second-level tables
 *      map: nothing traps;
 *   3. the local APIC at 0xfee00000, the first memory-mapped device: its
 *      version register read and its task-priority register (TPR) written
 *      and read back, each an access hv must emulate (SDM vol 3A table 11-1
 *      "Local APIC Register Address Map");
 *   4. under hv, dirty-page tracking (HC_DIRTY_START/HARVEST/STOP): the
 *      guest writes pages 1, 3 and 4 of an area of 8 and asks which it
 *      wrote;
 *   5. under hv, a page made read-only (HC_MEM_PROTECT), which still reads;
 *      it stays read-only, so the tables hv prints at the end
 *      (`bin/hvrun --slat-dot`) show the 2 MiB page around it split.
 *
 * With the argument "write" the guest then writes to the read-only page,
 * and hv must end it as crashed, naming the address, the access and RIP.
 * With "tables" it leaves out step 4: the dirty log write-protects all RAM
 * and so splits every 2 MiB page into 4 KiB pages, which stay split; the
 * tables hv prints at the end of such a run are the ones it built, with
 * only the read-only page split out of its 2 MiB page (the lesson's
 * figure).
 * The guestkit runtime identity-maps the first 4 GiB, so every address
 * here is guest-virtual and guest-physical at once.  On plain QEMU steps
 * 1-3 give the same lines as under hv, and 4 and 5 are skipped.
 */
#include "guestkit/guestkit.h"

/* A page of RAM well above the image (which starts at 1 MiB), inside the
 * 2 MiB page 0x800000-0x9fffff, which hv maps as one large page. */
#define DATA_PAGE 0x800000ul
/* The area whose writes the dirty log records: 8 pages at 16 MiB. */
#define DIRTY_AREA  0x1000000ul
#define DIRTY_PAGES 8

/* The local APIC's page and two of its registers. */
#define APIC_PAGE    0xfee00000ul
#define APIC_TPR     0x080 /* task priority: bits 7:0 read back */
#define APIC_VERSION 0x030 /* version and the number of LVT entries */

/* 1. What the guest is told is there. */
static void show_map(void)
{
    printf("memtour: the memory map this machine reports (Multiboot):\n");
    for (const struct mb_mmap_entry *e = mb_mmap_next(NULL); e; e = mb_mmap_next(e))
        printf("memtour:   0x%010llx-0x%010llx %s\n", (unsigned long long)e->addr,
               (unsigned long long)(e->addr + e->len - 1), mb_mmap_type_name(e->type));
}

/* 2. RAM: the tables map it, so neither access leaves the guest. */
static void touch_ram(void)
{
    volatile uint32_t *p = (volatile uint32_t *)DATA_PAGE;
    p[0] = 0x5a5aa5a5u;
    report(p[0] == 0x5a5aa5a5u, "RAM at %#lx keeps what was written", DATA_PAGE);
}

/* 3. The local APIC: two 32-bit registers, aligned as the xAPIC requires
 * (SDM vol 3A 11.4.1 "The Local APIC Block Diagram"). */
static void touch_apic(void)
{
    volatile uint32_t *apic = (volatile uint32_t *)APIC_PAGE;
    uint32_t version = apic[APIC_VERSION / 4];
    report((version & 0xff) >= 0x10, "local APIC version register at %#lx: %#x",
           APIC_PAGE + APIC_VERSION, version);
    apic[APIC_TPR / 4] = 0x20;
    uint32_t tpr = apic[APIC_TPR / 4];
    apic[APIC_TPR / 4] = 0;
    report(tpr == 0x20, "local APIC TPR at %#lx keeps 0x20 (got %#x)", APIC_PAGE + APIC_TPR, tpr);
}

/* 4. The dirty log: write pages 1, 3 and 4 (page 3 twice), ask hv. */
static void dirty_log(void)
{
    volatile uint8_t *area = (volatile uint8_t *)DIRTY_AREA;
    uint64_t bits = 0;
    long start = hypercall(HC_DIRTY_START, 0, 0, 0);
    area[1 * 4096] = 1;
    area[3 * 4096 + 100] = 3;
    area[3 * 4096 + 200] = 3;
    area[4 * 4096 + 4095] = 4;
    long n = hypercall(HC_DIRTY_HARVEST, DIRTY_AREA, DIRTY_PAGES, (uintptr_t)&bits);
    long stop = hypercall(HC_DIRTY_STOP, 0, 0, 0);
    report(start == HC_OK && stop == HC_OK && n == 3 && bits == 0x1a,
           "dirty log: pages 1 3 4 of %d written (got %ld pages, bitmap %#llx)", DIRTY_PAGES, n,
           (unsigned long long)bits);
}

/* 5. A read-only page still reads; with "write", it is written. */
static int read_only(bool write)
{
    volatile uint32_t *p = (volatile uint32_t *)DATA_PAGE;
    long rc = hypercall(HC_MEM_PROTECT, DATA_PAGE, 4096, HC_PROT_R | HC_PROT_X);
    report(rc == HC_OK && p[0] == 0x5a5aa5a5u, "read-only page: %#lx still reads (%ld, %#x)",
           DATA_PAGE, rc, p[0]);
    if (!write)
        return 0;
    printf("memtour: writing to the read-only page at %#lx\n", DATA_PAGE);
    p[1] = 1;
    printf("FAIL: the write to the read-only page went through\n");
    return 1;
}

int main(int argc, char **argv)
{
    bool write = argc > 1 && strcmp(argv[1], "write") == 0;
    bool tables = argc > 1 && strcmp(argv[1], "tables") == 0;
    show_map();
    touch_ram();
    touch_apic();
    if (!under_hvkit()) {
        report_skip("dirty log: not under hvkit");
        report_skip("read-only page: not under hvkit");
        return report_summary();
    }
    if (tables)
        report_skip("dirty log: left out (\"tables\")");
    else
        dirty_log();
    if (read_only(write) != 0)
        return 1;
    return report_summary();
}
