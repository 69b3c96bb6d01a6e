/*
 * apic: the local APIC as an OS uses it, with the 8259 masked (SDM vol 3A
 * chapter 11 "Advanced Programmable Interrupt Controller (APIC)"):
 * IA32_APIC_BASE, software enable, self IPIs through the ICR, IRR/ISR/PPR
 * while an interrupt is held and in service, the TPR, nesting by priority
 * class, EOI, and the timer in periodic and one-shot mode with the divide
 * register (and the TSC-deadline mode where CPUID offers it).
 *
 * The argument picks the register interface, and the same tests run on
 * either: "xapic" reads and writes the page at 0xfee00000 (11.4.1), and
 * "x2apic" switches to x2APIC mode and uses MSRs 0x800-0x8ff (11.12),
 * skipping where CPUID does not offer x2APIC (QEMU 7.2's TCG does not).
 * With "xapic" the guest also routes the PIT through the I/O APIC at
 * 0xfec00000 (pin 2, where a PC's ISA IRQ 0 arrives; 82093AA data sheet
 * 3.2.4 "IOREDTBL[23:0]--I/O Redirection Table Registers").
 */
#include "guestkit/guestkit.h"
#include "guestkit/pic.h"

#define APIC_PAGE 0xfee00000ull

/* Register offsets (SDM vol 3A table 11-1 "Local APIC Register Address
 * Map"). */
#define REG_ID      0x020
#define REG_VERSION 0x030
#define REG_TPR     0x080
#define REG_PPR     0x0a0
#define REG_EOI     0x0b0
#define REG_SVR     0x0f0
#define REG_ISR     0x100
#define REG_IRR     0x200
#define REG_ICR     0x300
#define REG_ICR_HI  0x310
#define REG_LVT_TMR 0x320
#define REG_TMR_ICR 0x380
#define REG_TMR_CCR 0x390
#define REG_TMR_DCR 0x3e0

#define APIC_BASE_BSP  (1ull << 8)
#define APIC_BASE_EXTD (1ull << 10)
#define APIC_BASE_EN   (1ull << 11)
#define TIMER_PERIODIC (1u << 17)
#define TIMER_DEADLINE (2u << 17)
#define LVT_MASKED     (1u << 16)
#define ICR_SELF       (1u << 18) /* destination shorthand 01: self */

#define CPUID1_ECX_X2APIC       (1u << 21)
#define CPUID1_ECX_TSC_DEADLINE (1u << 24)
#define MSR_TSC_DEADLINE        0x6e0u

/* The vectors: three priority classes (vector bits 7:4). */
#define VEC_TIMER 0x50
#define VEC_LOW   0x41 /* class 4 */
#define VEC_LOW2  0x42 /* class 4 */
#define VEC_HIGH  0x81 /* class 8 */
#define VEC_PIT   0x60
#define VEC_UART  0x61

/* COM1's interrupt enable, interrupt identification and modem control
 * registers (16550 data sheet). */
#define COM1_IER 0x3f9
#define COM1_IIR 0x3fa
#define COM1_MCR 0x3fc

/* The I/O APIC: IOREGSEL at 0x00, IOWIN at 0x10; registers 1 (version) and
 * 0x10 + 2n / 0x11 + 2n (entry n, low and high halves). */
#define IOAPIC_PAGE 0xfec00000ull

static bool x2apic;

static uint32_t rd(uint32_t reg)
{
    if (x2apic)
        return (uint32_t)rdmsr(0x800 + (reg >> 4));
    return *(volatile uint32_t *)(APIC_PAGE + reg);
}

static void wr(uint32_t reg, uint32_t v)
{
    if (x2apic)
        wrmsr(0x800 + (reg >> 4), v);
    else
        *(volatile uint32_t *)(APIC_PAGE + reg) = v;
}

/* A fixed, edge-triggered IPI to this CPU (11.6.1): the ICR's "self"
 * shorthand; x2APIC's ICR is one 64-bit MSR (11.12.9). */
static void self_ipi(uint8_t vector)
{
    if (x2apic) {
        wrmsr(0x830, ICR_SELF | vector);
    } else {
        wr(REG_ICR_HI, 0);
        wr(REG_ICR, ICR_SELF | vector);
    }
}

/* Is `vector` set in the 256-bit register at `base` (ISR or IRR)? */
static bool bit_in(uint32_t base, unsigned vector)
{
    return rd(base + 0x10 * (vector / 32)) & (1u << (vector % 32));
}

static void eoi(void)
{
    wr(REG_EOI, 0);
}

/* Let a pending interrupt in: it arrives after the instruction that
 * follows STI (SDM vol 2B "STI"). */
static void window(void)
{
    __asm__ volatile("sti; nop; nop; cli" ::: "memory");
}

/* ---- handlers ---- */

static volatile unsigned hits[256];
static volatile uint32_t ppr_seen, isr_seen;
static char order[8];
static volatile unsigned norder;

static void note(char c)
{
    if (norder < sizeof(order) - 1)
        order[norder++] = c;
}

/* Records what the APIC showed while the vector was in service. */
static void on_plain(int v)
{
    hits[v]++;
    ppr_seen = rd(REG_PPR);
    isr_seen = bit_in(REG_ISR, (unsigned)v);
    note(v == VEC_LOW2 ? 'C' : v == VEC_HIGH ? 'B' : '?');
    eoi();
}

/* The class-4 handler of the nesting test: it raises a class-8 and a
 * class-4 vector and opens a window while still in service. */
static void on_low(int v)
{
    hits[v]++;
    note('A');
    self_ipi(VEC_HIGH);
    self_ipi(VEC_LOW2);
    window();
    note('a');
    eoi();
}

static void on_timer(int v)
{
    hits[v]++;
    eoi();
}

/* ---- tests ---- */

static bool enable_interface(void)
{
    uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
    report_info("IA32_APIC_BASE = %#llx", (unsigned long long)base);
    report((base & ~0xfffull) == APIC_PAGE && (base & APIC_BASE_EN) && (base & APIC_BASE_BSP),
           "IA32_APIC_BASE: enabled at 0xfee00000 with the BSP flag");
    if (!x2apic)
        return true;
    if (!(cpuid(1).ecx & CPUID1_ECX_X2APIC))
        return false;
    wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_EXTD);
    uint32_t id = (uint32_t)rdmsr(0x802), ldr = (uint32_t)rdmsr(0x80d);
    report(id == cpuid(1).ebx >> 24, "x2APIC: the ID is the initial APIC ID");
    report(ldr == (((id >> 4) << 16) | (1u << (id & 15))),
           "x2APIC: the logical ID derives from it");
    return true;
}

static void registers(void)
{
    uint32_t ver = rd(REG_VERSION);
    report_info("version %#x, ID %#x", ver, rd(REG_ID));
    report((ver & 0xf0) == 0x10 && ((ver >> 16) & 0xff) >= 5,
           "version: an integrated APIC with 6 or more LVT entries");
    wr(REG_SVR, 0x1ff);
    report(rd(REG_SVR) == 0x1ff, "SVR: software enabled, spurious vector 0xff");
    wr(REG_TPR, 0);
    /* The xAPIC ID register may be rewritten (QEMU's is writable), but
     * CPUID goes on reporting the initial APIC ID (SDM vol 3A 11.4.6
     * "Local APIC ID").  x2APIC's ID is read-only, so only in xAPIC mode.
     * The old ID is put back before any interrupt is sent by ID. */
    if (!x2apic) {
        uint32_t id = rd(REG_ID);
        wr(REG_ID, id ^ (1u << 24));
        bool initial = cpuid(1).ebx >> 24 == id >> 24;
        wr(REG_ID, id);
        report(initial && rd(REG_ID) == id, "ID: CPUID reports the initial APIC ID");
    } else {
        report_skip("ID: CPUID reports the initial APIC ID: the x2APIC ID is read-only");
    }
}

static void self_ipis(void)
{
    self_ipi(VEC_LOW);
    report(bit_in(REG_IRR, VEC_LOW) && !hits[VEC_LOW], "self IPI: held in IRR while IF=0");
    set_vector_handler(VEC_LOW, on_plain);
    window();
    report(hits[VEC_LOW] == 1, "self IPI: delivered after STI, once");
    report(isr_seen, "ISR: the vector is in service in its handler");
    report_info("PPR in the handler: %#x", ppr_seen);
    report((ppr_seen & 0xf0) == (VEC_LOW & 0xf0), "PPR: the in-service vector's class");
    report(!bit_in(REG_ISR, VEC_LOW) && (rd(REG_PPR) & 0xf0) == 0, "EOI: nothing left in service");
}

static void task_priority(void)
{
    hits[VEC_LOW] = 0;
    wr(REG_TPR, 0x60);
    self_ipi(VEC_LOW);
    window();
    report(!hits[VEC_LOW] && bit_in(REG_IRR, VEC_LOW), "TPR: a higher class holds the vector back");
    wr(REG_TPR, 0x40);
    window();
    report(!hits[VEC_LOW], "TPR: the same class holds it back");
    wr(REG_TPR, 0x30);
    window();
    report(hits[VEC_LOW] == 1, "TPR: a lower class lets it in");
    wr(REG_TPR, 0);
}

static void nesting(void)
{
    set_vector_handler(VEC_LOW, on_low);
    set_vector_handler(VEC_LOW2, on_plain);
    set_vector_handler(VEC_HIGH, on_plain);
    norder = 0;
    self_ipi(VEC_LOW);
    window();
    /* VEC_LOW2 waits for on_low's EOI; this window lets it in. */
    window();
    order[norder] = '\0';
    report_info("order %s (A: class 4 starts, B: class 8, a: class 4 ends, C: class 4 again)",
                order);
    report(strcmp(order, "ABaC") == 0,
           "nesting: a higher class interrupts a handler, the same class waits for its EOI");
}

/* Sleep with HLT until `n` timer interrupts have come, at most `max` HLTs. */
static unsigned wait_ticks(unsigned n, unsigned max)
{
    for (unsigned i = 0; i < max && hits[VEC_TIMER] < n; i++)
        __asm__ volatile("sti; hlt; cli" ::: "memory");
    return hits[VEC_TIMER];
}

static void timer(void)
{
    set_vector_handler(VEC_TIMER, on_timer);
    /* Divide by 128 (DCR 1010b, figure 11-10); 156250 counts: 20 ms at the
     * 1 GHz QEMU gives the APIC, long enough that a handler under a nested
     * hypervisor in an emulator finishes well within one period (a shorter
     * period would starve the guest, as on real hardware). */
    wr(REG_TMR_DCR, 0xa);
    wr(REG_LVT_TMR, TIMER_PERIODIC | VEC_TIMER);
    wr(REG_TMR_ICR, 156250);
    uint32_t ccr = rd(REG_TMR_CCR);
    report_info("current count right after the start: %u", ccr);
    report(ccr > 0 && ccr <= 156250, "timer periodic: the current count runs down from 156250");
    unsigned got = wait_ticks(3, 1000);
    wr(REG_TMR_ICR, 0);
    report(got >= 3, "timer periodic: interrupts keep coming (%s)", got >= 3 ? "3" : "fewer");
    report(rd(REG_TMR_CCR) == 0, "timer: an initial count of 0 stops it");

    hits[VEC_TIMER] = 0;
    wr(REG_LVT_TMR, VEC_TIMER);
    wr(REG_TMR_ICR, 20000);
    got = wait_ticks(1, 1000);
    /* Three more periods' worth of waiting: a one-shot stays quiet. */
    uint32_t spins = 0;
    while (rd(REG_TMR_CCR) != 0 && spins < 1000000)
        spins++;
    window();
    report(got == 1 && hits[VEC_TIMER] == 1 && rd(REG_TMR_CCR) == 0,
           "timer one-shot: one interrupt, then the count stays at 0");

    hits[VEC_TIMER] = 0;
    wr(REG_LVT_TMR, LVT_MASKED | VEC_TIMER);
    wr(REG_TMR_ICR, 1000);
    spins = 0;
    while (rd(REG_TMR_CCR) != 0 && spins < 1000000)
        spins++;
    window();
    report(hits[VEC_TIMER] == 0 && !bit_in(REG_IRR, VEC_TIMER), "timer masked: no interrupt");
}

static void tsc_deadline(void)
{
    if (!(cpuid(1).ecx & CPUID1_ECX_TSC_DEADLINE)) {
        report_skip("timer TSC-deadline: CPUID.1:ECX bit 24 is clear");
        return;
    }
    hits[VEC_TIMER] = 0;
    wr(REG_LVT_TMR, TIMER_DEADLINE | VEC_TIMER);
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    wrmsr(MSR_TSC_DEADLINE, (((uint64_t)hi << 32) | lo) + 2000000);
    unsigned got = wait_ticks(1, 1000);
    report(got == 1 && rdmsr(MSR_TSC_DEADLINE) == 0,
           "timer TSC-deadline: fires once and the deadline reads 0");
}

static uint32_t io_rd(uint32_t reg)
{
    *(volatile uint32_t *)IOAPIC_PAGE = reg;
    return *(volatile uint32_t *)(IOAPIC_PAGE + 0x10);
}

static void io_wr(uint32_t reg, uint32_t v)
{
    *(volatile uint32_t *)IOAPIC_PAGE = reg;
    *(volatile uint32_t *)(IOAPIC_PAGE + 0x10) = v;
}

static void on_pit(int v)
{
    hits[v]++;
    eoi();
}

static void io_apic(void)
{
    if (x2apic) {
        report_skip("I/O APIC: tested with the xapic argument");
        return;
    }
    uint32_t ver = io_rd(1);
    report_info("I/O APIC version register %#x", ver);
    report(((ver >> 16) & 0xff) == 23, "I/O APIC: 24 redirection entries");
    bool masked = true;
    for (unsigned pin = 0; pin < 24; pin++)
        masked = masked && (io_rd(0x10 + 2 * pin) & LVT_MASKED);
    report(masked, "I/O APIC: every entry masked at start");
    /* Pin 2: edge, active high, fixed, physical destination = our APIC ID. */
    set_vector_handler(VEC_PIT, on_pit);
    io_wr(0x11 + 2 * 2, rd(REG_ID) & 0xff000000u);
    io_wr(0x10 + 2 * 2, VEC_PIT);
    report(io_rd(0x10 + 2 * 2) == VEC_PIT, "I/O APIC: entry 2 reads back as written");
    /* The PIT at about 100 Hz (guestkit/pic.h). */
    pit_periodic(PIT_HZ / 100);
    for (unsigned i = 0; i < 1000 && hits[VEC_PIT] < 3; i++)
        __asm__ volatile("sti; hlt; cli" ::: "memory");
    report(hits[VEC_PIT] >= 3, "PIT through I/O APIC pin 2: periodic interrupts on its vector");
    /* Masking the entry stops them (a masked edge is lost).  An edge the
     * local APIC accepted before the mask is still delivered: let it in
     * first, then count. */
    io_wr(0x10 + 2 * 2, LVT_MASKED | VEC_PIT);
    window();
    unsigned before = hits[VEC_PIT];
    /* Several PIT periods with interrupts open: 20000 port reads take a few
     * tens of milliseconds on QEMU and longer under a hypervisor (each is
     * an exit).  No HLT: with the entry masked nothing would wake it. */
    for (unsigned i = 0; i < 20000; i++) {
        (void)inb(0x21);
        window();
    }
    report(hits[VEC_PIT] == before, "I/O APIC: a masked entry delivers nothing");
    pit_stop();
}

static volatile uint8_t iir_seen;

/* The UART's handler: IIR names the cause (and reading it ends a THRE
 * interrupt); IER off so that the next printf raises nothing. */
static void on_uart(int v)
{
    hits[v]++;
    iir_seen = inb(COM1_IIR);
    outb(COM1_IER, 0);
    eoi();
}

/* COM1's interrupt, ISA IRQ 4, on I/O APIC pin 4: enabling the
 * transmitter-empty interrupt with the transmitter empty raises it at
 * once. */
static void uart_interrupt(void)
{
    if (x2apic) {
        report_skip("UART through I/O APIC pin 4: tested with the xapic argument");
        return;
    }
    set_vector_handler(VEC_UART, on_uart);
    io_wr(0x11 + 2 * 4, rd(REG_ID) & 0xff000000u);
    io_wr(0x10 + 2 * 4, VEC_UART);
    uint8_t mcr = inb(COM1_MCR);
    /* OUT2 connects the UART's interrupt to the bus on a PC. */
    outb(COM1_MCR, mcr | 0x08);
    outb(COM1_IER, 0x02);
    window();
    outb(COM1_IER, 0);
    outb(COM1_MCR, mcr);
    io_wr(0x10 + 2 * 4, LVT_MASKED | VEC_UART);
    report_info("UART interrupts %u, IIR in the handler %#x", hits[VEC_UART], iir_seen);
    report(hits[VEC_UART] == 1 && (iir_seen & 0x0f) == 0x02,
           "UART through I/O APIC pin 4: the THR-empty interrupt, once");
}

static void skip_all(const char *why)
{
    const char *names[] = {"x2APIC: the ID is the initial APIC ID",
                           "x2APIC: the logical ID derives from it",
                           "version",
                           "SVR",
                           "ID: CPUID reports the initial APIC ID",
                           "self IPI",
                           "ISR",
                           "PPR",
                           "EOI",
                           "TPR",
                           "nesting",
                           "timer periodic",
                           "timer",
                           "timer one-shot",
                           "timer masked",
                           "timer TSC-deadline",
                           "I/O APIC",
                           "UART through I/O APIC pin 4"};
    for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        report_skip("%s: %s", names[i], why);
}

int main(int argc, char **argv)
{
    x2apic = argc > 1 && strcmp(argv[1], "x2apic") == 0;
    if (under_hvkit() && !(cpuid(HVKIT_CPUID_BASE + 1).ecx & HVKIT_FEATURE_IRQ)) {
        skip_all("this hv does not inject interrupts");
        return report_summary();
    }
    /* The 8259 stays out of the way: initialized (vectors 32-47) and
     * fully masked, as an OS that uses the APICs leaves it. */
    pic_init();
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
    if (!enable_interface()) {
        skip_all("no x2APIC (CPUID.1:ECX bit 21)");
        return report_summary();
    }
    registers();
    self_ipis();
    task_priority();
    nesting();
    timer();
    tsc_deadline();
    io_apic();
    uart_interrupt();
    return report_summary();
}
