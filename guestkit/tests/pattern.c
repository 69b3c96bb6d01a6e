/*
 * pattern: a guest for the monitor's memory commands.  It fills a page of
 * its own with a known pattern, prints where the page and a counter are,
 * and then counts for ever: the counter, a 64-bit word, goes up by one in a
 * tight loop.  A monitor (QEMU's on plain QEMU, hvkit's under hv) can then
 * read the pattern with `x` or `xp` and compare the two machines, and watch
 * the counter: after `stop` two reads give the same value, after `cont` it
 * moves (the "pause proof" of docs/monitor.md).
 *
 *   bin/qemu-guest -kernel build/guestkit/pattern.elf -- prints, e.g.:
 *   pattern: page at 0x10c000
 *   pattern: counter at 0x10d000
 *   pattern: counting
 *
 * The guestkit runtime maps the first 4 GiB one to one, so both addresses
 * are virtual and guest-physical at once: `x` and `xp` read the same bytes.
 *
 * The page holds byte i = i for the first 256 bytes (so that every output
 * format of `x` has known values to show, including printable characters
 * for /c), then "hvkit pattern" as a string for /s, then 0xff bytes.
 *
 * Every 65536 counts the loop executes CPUID, which always leaves the
 * guest under hv (SVM: the CPUID intercept; VT-x exits on it
 * unconditionally), so hv gets the CPU back and serves its control channel
 * even before its scheduler preempts guests; on plain QEMU CPUID is just an
 * instruction.  With "-append spin" the loop has no exit at all (for the
 * scheduler's preemption); with "-append exit" the guest fills the page,
 * prints, and exits 0 at once instead of counting.  Not in guests.list:
 * a guest that never ends is for monitor tests.
 */
#include "guestkit/guestkit.h"

/* The page: aligned so that the monitor's reads start at a page boundary. */
static uint8_t page[4096] __attribute__((aligned(4096)));

/* The counter, on a page of its own so that nothing else shares its line. */
static volatile uint64_t counter __attribute__((aligned(4096)));

/* Where the string starts inside the page (after the 256 counting bytes). */
#define STRING_AT 256

static void fill_page(void)
{
    static const char text[] = "hvkit pattern";
    for (unsigned i = 0; i < 256; i++)
        page[i] = (uint8_t)i;
    memcpy(&page[STRING_AT], text, sizeof(text));
    for (unsigned i = STRING_AT + sizeof(text); i < sizeof(page); i++)
        page[i] = 0xff;
}

int main(int argc, char **argv)
{
    fill_page();
    printf("pattern: page at %#llx\n", (unsigned long long)(uintptr_t)page);
    printf("pattern: counter at %#llx\n", (unsigned long long)(uintptr_t)&counter);
    if (argc > 1 && !strcmp(argv[1], "exit")) {
        printf("pattern: done\n");
        return 0;
    }
    bool spin = argc > 1 && !strcmp(argv[1], "spin");
    printf("pattern: counting\n");
    for (;;) {
        counter = counter + 1;
        /* CPUID leaf 0: an exit to hv now and then (see the top). */
        if (!spin && (counter & 0xffff) == 0)
            (void)cpuid(0);
    }
}
