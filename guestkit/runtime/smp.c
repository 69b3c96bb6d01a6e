/*
 * Starting the application processors (guestkit/smp.h): the local APIC's
 * interrupt command register, the INIT-SIPI-SIPI sequence of SDM vol 3A
 * 9.4.4.1 "Typical BSP Initialization Sequence", and the AP's first C
 * code, which takes the BSP's GDT and IDT before it calls the guest's
 * function.
 */
#include "klib.h"
#include "guestkit/pic.h"
#include "guestkit/smp.h"
#include "guestkit/x86.h"

/* The local APIC's registers, at the default base, which neither QEMU's
 * firmware nor hv moves (SDM vol 3A table 11-1 "Local APIC Register
 * Address Map"). */
#define LAPIC_BASE       0xfee00000ull
#define LAPIC_ID         0x020
#define LAPIC_SVR        0x0f0
#define LAPIC_ESR        0x280
#define LAPIC_ICR_LO     0x300
#define LAPIC_ICR_HI     0x310
#define ICR_SEND_PENDING (1u << 12)

static volatile uint32_t *reg(uint32_t offset)
{
    return (volatile uint32_t *)(uintptr_t)(LAPIC_BASE + offset);
}

uint32_t lapic_id(void)
{
    return *reg(LAPIC_ID) >> 24;
}

void lapic_enable(void)
{
    /* SVR bit 8, APIC software enable, with the spurious vector 0xff
     * (11.9 "Spurious Interrupt"). */
    *reg(LAPIC_SVR) = (1u << 8) | 0xff;
}

uint32_t lapic_esr(void)
{
    /* A write latches the errors seen since the last one (11.5.3). */
    *reg(LAPIC_ESR) = 0;
    return *reg(LAPIC_ESR);
}

void lapic_send_ipi(uint32_t apic_id, uint32_t icr_lo)
{
    /* The high half first: the write to the low half sends (11.6.1). */
    *reg(LAPIC_ICR_HI) = apic_id << 24;
    *reg(LAPIC_ICR_LO) = icr_lo;
    /* Delivery status: 1 while the APIC has not sent it yet. */
    while (*reg(LAPIC_ICR_LO) & ICR_SEND_PENDING)
        __asm__ volatile("pause");
}

void smp_delay_us(unsigned us)
{
    /* The PIT counts at 1.193182 MHz; one one-shot holds at most 65535
     * counts (about 55 ms), so longer waits are several. */
    while (us) {
        unsigned step = us > 50000 ? 50000 : us;
        uint32_t count = (uint32_t)((uint64_t)step * 1193182u / 1000000u);
        pit_oneshot((uint16_t)(count ? count : 1));
        while (!pit_out())
            __asm__ volatile("pause");
        us -= step;
    }
}

/* The trampoline (smp_tramp.S) and its parameters, in the copy. */
extern const char smp_tramp_start[], smp_tramp_params[], smp_tramp_end[];
struct tramp_params {
    uint32_t cr3, pad;
    uint64_t stack;
    uint64_t entry;
};

/* A descriptor-table register as SGDT/SIDT store it in 64-bit mode. */
struct table_reg {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

/* What the AP being started picks up: the BSP's GDT and IDT, its
 * function, and the flag it sets once it runs. */
static struct table_reg bsp_gdt, bsp_idt;
static void (*ap_fn)(void *);
static void *ap_arg;
static volatile int ap_running;

static uint8_t ap_stacks[SMP_MAX_CPUS][SMP_STACK_SIZE] __attribute__((aligned(16)));

/* The AP's first C code, called by the trampoline in 64-bit mode. */
static void ap_entry(void)
{
    __asm__ volatile("lgdt %0" : : "m"(bsp_gdt));
    __asm__ volatile("lidt %0" : : "m"(bsp_idt));
    void (*fn)(void *) = ap_fn;
    void *arg = ap_arg;
    /* After this store the BSP may start the next AP. */
    __atomic_store_n(&ap_running, 1, __ATOMIC_SEQ_CST);
    fn(arg);
    for (;;)
        __asm__ volatile("cli; hlt");
}

bool smp_start_ap(uint8_t apic_id, unsigned slot, void (*fn)(void *), void *arg)
{
    if (slot == 0 || slot >= SMP_MAX_CPUS)
        return false;
    /* The trampoline below 1 MiB, where a STARTUP vector can point. */
    size_t len = (size_t)(smp_tramp_end - smp_tramp_start);
    uint8_t *copy = (uint8_t *)(uintptr_t)SMP_TRAMP_BASE;
    __asm__("" : "+r"(copy));
    memcpy(copy, smp_tramp_start, len);
    struct tramp_params *p = (struct tramp_params *)(copy + (smp_tramp_params - smp_tramp_start));
    p->cr3 = (uint32_t)read_cr3();
    p->stack = (uint64_t)(uintptr_t)&ap_stacks[slot][SMP_STACK_SIZE];
    p->entry = (uint64_t)(uintptr_t)ap_entry;
    __asm__ volatile("sgdt %0" : "=m"(bsp_gdt));
    __asm__ volatile("sidt %0" : "=m"(bsp_idt));
    ap_fn = fn;
    ap_arg = arg;
    __atomic_store_n(&ap_running, 0, __ATOMIC_SEQ_CST);
    /* INIT, 10 ms, STARTUP, 200 us, STARTUP (9.4.4.1).  The second
     * STARTUP finds the AP running and is ignored. */
    lapic_send_ipi(apic_id, ICR_INIT);
    smp_delay_us(10000);
    lapic_send_ipi(apic_id, ICR_STARTUP(SMP_TRAMP_BASE >> 12));
    smp_delay_us(200);
    lapic_send_ipi(apic_id, ICR_STARTUP(SMP_TRAMP_BASE >> 12));
    for (unsigned ms = 0; ms < 3000; ms += 10) {
        if (__atomic_load_n(&ap_running, __ATOMIC_SEQ_CST))
            return true;
        smp_delay_us(10000);
    }
    return __atomic_load_n(&ap_running, __ATOMIC_SEQ_CST) != 0;
}
