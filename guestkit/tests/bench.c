/*
 * bench: the guest of the exit benchmark (bench/hv/run.sh).  It causes N VM
 * exits of one kind in a tight loop and exits with code 0; run with N = 0 it
 * does everything else the same way, so the difference between the two runs'
 * emulator CPU time is the cost of N exits.
 *
 *   bench KIND N     KIND: cpuid, io, lsr, msr, hlt or hypercall
 *
 * Every kind is one instruction that hv intercepts:
 *   cpuid      CPUID leaf 0 (exits unconditionally on VT-x, by intercept on SVM)
 *   io         OUT to port 0x2f0, which no device model owns (hv drops it)
 *   lsr        IN from the UART's line status register (0x3fd), the read a
 *              guest's serial driver makes before every byte it sends
 *   msr        RDMSR of IA32_PAT, which hv emulates
 *   hlt        STI; HLT, woken by the PIT's IRQ 0, whose handler's EOI is a
 *              second exit (so one "hlt" is a wake-up: HLT, injection, EOI)
 *   hypercall  HC_VERSION (VMMCALL on AMD, VMCALL on Intel, chosen once)
 *
 * It prints nothing in the loop: a printed byte is two exits of its own.
 * Under hv only (on plain QEMU nothing exits, and the hypercall is #UD).
 */
#include "guestkit/guestkit.h"
#include "guestkit/pic.h"

/* An unused port of the PC (guestkit's portio guest reads it as all ones). */
#define UNOWNED_PORT 0x2f0
/* COM1's line status register (16550: base + 5). */
#define COM1_LSR 0x3fd
/* The PIT's channel 0 and control ports (runtime/pic.c keeps its own). */
#define PIT_CH0 0x40
#define PIT_CMD 0x43

/* Wake-ups counted by the timer handler (the runtime sends the EOI). */
static volatile unsigned long ticks;

static void on_tick(int irq)
{
    (void)irq;
    ticks++;
}

/* HLT N times, each ended by IRQ 0 from the PIT in rate-generator mode
 * every 100 input clocks (about 84 us), so hv never waits long. */
static void hlt_loop(unsigned long n)
{
    if (n == 0)
        return;
    set_irq_handler(0, on_tick);
    pit_stop();
    pic_init();
    pic_unmask(0);
    /* Channel 0, low then high byte, mode 2 (rate generator), binary. */
    outb(PIT_CMD, 0x34);
    outb(PIT_CH0, 100);
    outb(PIT_CH0, 0);
    for (unsigned long i = 0; i < n; i++) {
        safe_halt();
        cli();
    }
    pit_stop();
    pic_mask(0);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        printf("usage: bench cpuid|io|lsr|msr|hlt|hypercall N\n");
        return 1;
    }
    const char *kind = argv[1];
    unsigned long n = (unsigned long)kstrtoull(argv[2], NULL, 0);
    unsigned long i;
    if (!strcmp(kind, "cpuid")) {
        for (i = 0; i < n; i++)
            (void)cpuid(0);
    } else if (!strcmp(kind, "io")) {
        for (i = 0; i < n; i++)
            outb(UNOWNED_PORT, 0);
    } else if (!strcmp(kind, "lsr")) {
        for (i = 0; i < n; i++)
            (void)inb(COM1_LSR);
    } else if (!strcmp(kind, "msr")) {
        uint64_t pat;
        for (i = 0; i < n; i++)
            (void)rdmsr_safe(MSR_IA32_PAT, &pat);
    } else if (!strcmp(kind, "hlt")) {
        hlt_loop(n);
    } else if (!strcmp(kind, "hypercall")) {
        /* Not hypercall(): it asks CPUID for the vendor on every call,
         * which is a second exit.  The vendor is asked once here. */
        bool amd = cpu_is_amd();
        long ret;
        for (i = 0; i < n; i++) {
            if (amd)
                __asm__ volatile("vmmcall" : "=a"(ret) : "a"(HC_VERSION) : "memory");
            else
                __asm__ volatile("vmcall" : "=a"(ret) : "a"(HC_VERSION) : "memory");
        }
    } else {
        printf("bench: unknown kind '%s'\n", kind);
        return 1;
    }
    printf("bench: %lu %s exits\n", n, kind);
    return 0;
}
