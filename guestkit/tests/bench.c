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
 * every 1000 input clocks (about 838 us of the guest's time).  A shorter
 * period starves the loop where an exit is slow in the guest's time
 * (Bochs counts time in instructions, and interprets hv's): the next tick
 * is due before the handler's EOI and IRET are done, so the guest takes
 * interrupt after interrupt and never gets back to its CLI. */
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
    outb(PIT_CH0, 1000 & 0xff);
    outb(PIT_CH0, 1000 >> 8);
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
        /* One OUT before the loop, with N = 0 too: hv notes an unknown
         * port once, and that line belongs in both runs. */
        outb(UNOWNED_PORT, 0);
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
        /* guestkit's hypercall() asks for the vendor only once, so each
         * call is one exit. */
        for (i = 0; i < n; i++)
            (void)hypercall(HC_VERSION, 0, 0, 0);
    } else {
        printf("bench: unknown kind '%s'\n", kind);
        return 1;
    }
    printf("bench: %lu %s exits\n", n, kind);
    return 0;
}
