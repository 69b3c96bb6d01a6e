/*
 * From the boot code to main(): check how we were started, set up the
 * console and the IDT, split the command line into argv, run main and exit
 * with its result.
 */
#include "klib.h"
#include "guestkit/console.h"
#include "guestkit/parse.h"
#include "guestkit/runtime.h"
#include "guestkit/trap.h"
#include "guestkit/x86.h"
#include "hvkit/abi.h"

/* The Multiboot information, set once the magic checked out (mbinfo.c reads it). */
const struct mb_info *gk_mb_info;

/* argv storage: a private copy of the command line, cut into words. */
#define MAX_CMDLINE 1024
#define MAX_ARGS    32
static char cmdline_copy[MAX_CMDLINE];
static char *argv_store[MAX_ARGS + 1];

/* Copy the Multiboot command line (which the guest may overwrite later)
 * and cut it into words.  The first word is the kernel's file name, as QEMU
 * and GRUB give it. */
static int parse_args(const char *cmdline)
{
    size_t len = strnlen(cmdline, MAX_CMDLINE - 1);
    bool dropped;

    if (cmdline[len] != '\0')
        printf("guestkit: command line longer than %d bytes, truncated\n", MAX_CMDLINE - 1);
    memcpy(cmdline_copy, cmdline, len);
    cmdline_copy[len] = '\0';
    int argc = gk_split_args(cmdline_copy, argv_store, MAX_ARGS, &dropped);
    if (dropped)
        printf("guestkit: more than %d arguments, ignoring the rest\n", MAX_ARGS);
    return argc;
}

/* Called from runtime/entry.S in 64-bit mode with the loader's EAX and EBX. */
__attribute__((noreturn)) void gk_start(uint32_t magic, uint32_t info)
{
    serial_init();
    idt_init();
    /* Multiboot spec 3.2: EAX must hold 0x2BADB002 when a Multiboot loader
     * starts us.  Anything else means EBX is not an info pointer either, so
     * refuse before touching it. */
    if (magic != MB_BOOTLOADER_MAGIC) {
        printf("guestkit: not started by a Multiboot loader: EAX was 0x%08x, expected 0x%08x\n",
               magic, MB_BOOTLOADER_MAGIC);
        printf("guestkit: boot this image with qemu-system-x86_64 -kernel, GRUB's multiboot "
               "command or hv\n");
        exit(GK_EXIT_BAD_BOOT);
    }
    gk_mb_info = (const struct mb_info *)(uintptr_t)info;
    int argc = parse_args(mb_cmdline());
    int code = main(argc, argv_store);
    /* bin/hvrun reserves 124..127 for itself; keep a guest inside 0..123. */
    if (code < 0 || code > 123) {
        printf("guestkit: main returned %d, outside 0..123; exiting with %d\n", code,
               GK_EXIT_MAIN_RETURNED_BAD);
        code = GK_EXIT_MAIN_RETURNED_BAD;
    }
    exit(code);
}

void exit(int code)
{
    /* Let the last line leave the UART before the machine goes away. */
    serial_flush();
    /* QEMU's isa-debug-exit ends the emulator with status (code << 1) | 1;
     * hv intercepts the same port and reports "[hv] exit: guest code=N". */
    outl(HVKIT_PORT_DEBUG_EXIT, (uint32_t)code);
    /* Nothing listened (no such device): stop for good.  With IF = 0 only an
     * NMI or SMI could wake the CPU, hence the loop. */
    for (;;)
        __asm__ volatile("cli; hlt");
}
