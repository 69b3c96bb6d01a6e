/*
 * dirty: hv's dirty-page tracking (HC_DIRTY_START/HARVEST/STOP,
 * include/hvkit/abi.h).  The guest writes a known set of pages of a buffer
 * of its own and asks hv which pages of the buffer were written: exactly
 * those, each once, however often it wrote them; after a harvest only the
 * pages written since; after stop none.  Stores hv makes for the guest
 * count too: INS into the area, a MOVS from the local APIC into it (hv
 * emulates it and stores the result), and the harvest's own bitmap when
 * the guest puts it inside the area.  Outside hv there is nobody to ask,
 * so everything is skipped there.
 */
#include "guestkit/guestkit.h"

/* The pages the test writes and asks about; guestkit identity-maps memory,
 * so their addresses are also guest-physical. */
#define PAGES 64
static uint8_t area[PAGES][4096] __attribute__((aligned(4096)));

/* Ask hv which pages of `area` were written since the last harvest. */
static long harvest(uint64_t *bits)
{
    return hypercall(HC_DIRTY_HARVEST, (uintptr_t)area, PAGES, (uintptr_t)bits);
}

/* The local APIC's version register (SDM vol 3A 11.4.8 "Local APIC Version
 * Register"), a register any MOVS may read. */
#define APIC_VERSION 0xfee00030ul
/* A port nothing answers: INS from it stores all ones. */
#define PORT_NOBODY 0x2f0

/* Stores hv makes on the guest's behalf: REP INSB of 4 bytes into page 11,
 * and a MOVSD from the APIC into page 13. */
static void hv_stores(void)
{
    void *dst = &area[11][100];
    unsigned long count = 4;
    __asm__ volatile("cld; rep insb" : "+D"(dst), "+c"(count) : "d"(PORT_NOBODY) : "memory");
    const void *src = (const void *)APIC_VERSION;
    dst = &area[13][8];
    __asm__ volatile("movsl" : "+S"(src), "+D"(dst) : : "memory");
}

/* The set written, as a bitmap of the area's pages. */
static uint64_t set_of(const int *pages, int n)
{
    uint64_t bits = 0;
    for (int i = 0; i < n; i++)
        bits |= 1ull << pages[i];
    return bits;
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    static const char *const names[] = {
        "nothing written yet", "first writes",      "harvest re-arms",
        "hv's stores",         "stop ends logging", "bad harvests",
    };
    if (!under_hvkit()) {
        for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            report_skip("%s: not under hvkit", names[i]);
        return report_summary();
    }
    /* Read every page first: in npt=lazy mode this maps them, so that what
     * follows is about writes only. */
    volatile uint8_t sink = 0;
    for (int i = 0; i < PAGES; i++)
        sink += area[i][0];
    (void)sink;
    uint64_t bits = 0;

    long rc = hypercall(HC_DIRTY_START, 0, 0, 0);
    long n = harvest(&bits);
    report(rc == HC_OK && n == 0 && bits == 0,
           "nothing written yet: start returns 0, no page of the area dirty (got %ld, %ld, %#llx)",
           rc, n, (unsigned long long)bits);

    /* Five pages, some several times and at different offsets. */
    static const int first[] = {1, 5, 17, 42, 63};
    for (int i = 0; i < 5; i++)
        area[first[i]][i * 100] = (uint8_t)(i + 1);
    area[5][4095] = 9;
    area[42][7] = 9;
    n = harvest(&bits);
    report(n == 5 && bits == set_of(first, 5),
           "first writes: pages 1 5 17 42 63 dirty (got %ld, %#llx)", n, (unsigned long long)bits);

    /* After a harvest, only what is written since. */
    static const int second[] = {5, 7};
    area[5][1] = 1;
    area[7][2] = 2;
    n = harvest(&bits);
    report(n == 2 && bits == set_of(second, 2),
           "harvest re-arms: pages 5 7 dirty after the harvest (got %ld, %#llx)", n,
           (unsigned long long)bits);

    /* hv's own stores: pages 11 and 13; the harvest's bitmap goes into
     * page 20, which the next harvest must name. */
    hv_stores();
    uint64_t *in_area = (uint64_t *)&area[20][0];
    long n1 = hypercall(HC_DIRTY_HARVEST, (uintptr_t)area, PAGES, (uintptr_t)in_area);
    uint64_t bits1 = *in_area;
    long n2 = harvest(&bits);
    report(n1 == 2 && bits1 == ((1ull << 11) | (1ull << 13)) && n2 == 1 && bits == 1ull << 20,
           "hv's stores: INS, an emulated MOVS and a harvest's bitmap dirty pages 11 13, then 20 "
           "(got %ld %#llx, %ld %#llx)",
           n1, (unsigned long long)bits1, n2, (unsigned long long)bits);

    rc = hypercall(HC_DIRTY_STOP, 0, 0, 0);
    area[9][0] = 1;
    n = harvest(&bits);
    report(rc == HC_OK && n == 0 && bits == 0,
           "stop ends logging: page 9 not recorded (got %ld, %#llx)", n, (unsigned long long)bits);

    /* Unaligned pages, too many pages, a bitmap outside RAM. */
    long e1 = hypercall(HC_DIRTY_HARVEST, (uintptr_t)area + 8, PAGES, (uintptr_t)&bits);
    long e2 =
        hypercall(HC_DIRTY_HARVEST, (uintptr_t)area, HC_DIRTY_MAX_PAGES + 1, (uintptr_t)&bits);
    long e3 = hypercall(HC_DIRTY_HARVEST, (uintptr_t)area, PAGES, 0xfff00000000ul);
    report(e1 == HC_EINVAL && e2 == HC_EINVAL && e3 == HC_EFAULT,
           "bad harvests: EINVAL, EINVAL, EFAULT (got %ld, %ld, %ld)", e1, e2, e3);
    return report_summary();
}
