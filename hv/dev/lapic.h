/*
 * lapic.h - the local APIC of one guest CPU: an xAPIC at 0xfee00000
 * (memory-mapped registers) that the guest can also switch to x2APIC mode
 * (the same registers as MSRs 0x800-0x8ff).  SDM vol 3A chapter 11
 * "Advanced Programmable Interrupt Controller (APIC)" is the reference;
 * section numbers below are of its 2023 editions.
 *
 * Modelled:
 *   - IA32_APIC_BASE (MSR 0x1b): base relocation, global enable/disable,
 *     the BSP flag, x2APIC enable, the state transitions of 11.12.5;
 *   - ID, version, TPR, PPR, APR (reads 0), EOI, LDR, DFR, spurious
 *     vector and software enable, ISR/TMR/IRR, ESR with the error LVT;
 *   - ICR: the message an IPI is (vector, delivery mode, destination
 *     mode and shorthand, level), handed to the `ipi` hook, through which
 *     the core delivers it to the domain's CPUs (core/smp.c: fixed and
 *     lowest-priority IPIs, INIT and STARTUP); without the hook (a model
 *     on its own, as in the unit tests) fixed IPIs reach this APIC alone
 *     if it is a destination; the x2APIC SELF IPI register;
 *   - the timer: one-shot, periodic, TSC-deadline, with the divide
 *     register; LVT LINT0/LINT1 (fixed and ExtINT), error; the thermal
 *     and performance LVTs hold their values and never fire.
 * LINT1 in NMI mode is read by the core for the host's NMI button
 * (lapic_lint1_mode(), core/nmi.c), which delivers the NMI itself.
 * Not modelled: NMI and SMI delivery by IPI, lowest-priority arbitration among
 * CPUs (there is one), the EOI-broadcast suppression of the SVR (the
 * version register does not offer it, as on QEMU).
 *
 * Time comes from outside, as for the PIT: `bus` counts the APIC's input
 * clock (hv runs it at 1 GHz, as QEMU does) and `tsc` is the guest's TSC,
 * for the deadline mode.  The model never calls the core: the core asks
 * lapic_pending()/lapic_acknowledge() before each entry, and an EOI of a
 * level-triggered vector is passed to the `eoi` hook (the I/O APIC).
 * Compiled hosted too (tests/unit/test_hv_apic.c).
 */
#ifndef HV_DEV_LAPIC_H
#define HV_DEV_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

/* The architectural default base and the size of the register page. */
#define LAPIC_DEFAULT_BASE 0xfee00000ull
#define LAPIC_SIZE         0x1000u

/* IA32_APIC_BASE (SDM vol 3A 11.4.4 "Local APIC Status and Location",
 * 11.12.1 "Detecting and Enabling x2APIC Mode"). */
#define MSR_IA32_APIC_BASE    0x1bu
#define APIC_BASE_BSP         (1ull << 8)
#define APIC_BASE_EXTD        (1ull << 10)
#define APIC_BASE_EN          (1ull << 11)
#define MSR_IA32_TSC_DEADLINE 0x6e0u
/* The x2APIC registers: MSR 0x800 + (xAPIC offset >> 4). */
#define MSR_X2APIC_FIRST 0x800u
#define MSR_X2APIC_LAST  0x8ffu

/* Register offsets in the xAPIC page (SDM vol 3A table 11-1 "Local APIC
 * Register Address Map"). */
#define LAPIC_ID          0x020
#define LAPIC_VERSION     0x030
#define LAPIC_TPR         0x080
#define LAPIC_APR         0x090
#define LAPIC_PPR         0x0a0
#define LAPIC_EOI         0x0b0
#define LAPIC_RRD         0x0c0
#define LAPIC_LDR         0x0d0
#define LAPIC_DFR         0x0e0
#define LAPIC_SVR         0x0f0
#define LAPIC_ISR         0x100 /* 8 registers, 0x100-0x170 */
#define LAPIC_TMR         0x180 /* 0x180-0x1f0 */
#define LAPIC_IRR         0x200 /* 0x200-0x270 */
#define LAPIC_ESR         0x280
#define LAPIC_ICR_LO      0x300
#define LAPIC_ICR_HI      0x310
#define LAPIC_LVT_TIMER   0x320
#define LAPIC_LVT_THERMAL 0x330
#define LAPIC_LVT_PERF    0x340
#define LAPIC_LVT_LINT0   0x350
#define LAPIC_LVT_LINT1   0x360
#define LAPIC_LVT_ERROR   0x370
#define LAPIC_TIMER_ICR   0x380 /* initial count */
#define LAPIC_TIMER_CCR   0x390 /* current count */
#define LAPIC_TIMER_DCR   0x3e0 /* divide configuration */
#define LAPIC_SELF_IPI    0x3f0 /* x2APIC mode only */

/* The six LVT entries, in register order from 0x320. */
enum lapic_lvt { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR, LVT_COUNT };

/* LVT and ICR fields (SDM vol 3A figure 11-8 "Local Vector Table (LVT)",
 * figure 11-12 "Interrupt Command Register (ICR)"). */
#define APIC_VECTOR        0xffu
#define APIC_DM_SHIFT      8 /* delivery mode, bits 10:8 */
#define APIC_DM_FIXED      0
#define APIC_DM_LOWEST     1
#define APIC_DM_SMI        2
#define APIC_DM_NMI        4
#define APIC_DM_INIT       5
#define APIC_DM_STARTUP    6
#define APIC_DM_EXTINT     7
#define APIC_LEVEL_TRIGGER (1u << 15)
#define APIC_LVT_MASKED    (1u << 16)
#define APIC_TIMER_MODE(v) (((v) >> 17) & 3u) /* 0 one-shot, 1 periodic, 2 TSC-deadline */
#define APIC_SVR_ENABLE    (1u << 8)

/* ESR bits (SDM vol 3A figure 11-9 "Error Status Register (ESR)"). */
#define APIC_ESR_SEND_ILLEGAL_VECTOR (1u << 5)
#define APIC_ESR_RECV_ILLEGAL_VECTOR (1u << 6)
#define APIC_ESR_ILLEGAL_REGISTER    (1u << 7)

/* Returns the current time of one of the model's clocks. */
typedef uint64_t (*lapic_clock_fn)(void *ctx);
/* Called with the vector of a level-triggered interrupt the guest ended
 * with EOI (the EOI message to the I/O APICs, 11.8.5). */
typedef void (*lapic_eoi_fn)(void *ctx, uint8_t vector);

/* ICR destination shorthands, bits 19:18 (SDM vol 3A 11.6.1 "Interrupt
 * Command Register (ICR)"). */
#define APIC_SH_NONE     0 /* the destination field says who */
#define APIC_SH_SELF     1
#define APIC_SH_ALL      2          /* all including self */
#define APIC_SH_ALL_BUT  3          /* all excluding self */
#define APIC_ICR_ASSERT  (1u << 14) /* the level bit: 0 = de-assert */
#define APIC_ICR_LOGICAL (1u << 11)

/* One interrupt message on the APIC bus (from the I/O APIC or an IPI):
 * SDM vol 3A 11.6.2 "Determining IPI Destination" says who accepts it. */
struct apic_msg {
    uint32_t dest; /* APIC ID (physical) or logical destination */
    bool logical;  /* destination mode */
    uint8_t mode;  /* APIC_DM_* */
    uint8_t vector;
    bool level; /* trigger mode: level (TMR bit set on acceptance) */
    /* For an IPI: the destination shorthand (APIC_SH_*), and whether the
     * ICR's level bit was 0, which with INIT and the level trigger is the
     * "INIT level de-assert" message (11.6.1) that only older CPUs acted
     * on.  The I/O APIC's messages leave both 0. */
    uint8_t shorthand;
    bool deassert;
};

/* The core's delivery of an IPI this APIC sends (core/smp.c): `ctx` is
 * the `ipi_ctx` the core set (its vCPU). */
typedef void (*lapic_ipi_fn)(void *ctx, const struct apic_msg *m);

struct lapic {
    uint64_t base_msr; /* IA32_APIC_BASE as the guest reads it */
    uint32_t id;       /* initial APIC ID (x2APIC) or the xAPIC ID */
    uint8_t phys_bits; /* MAXPHYADDR: base bits above it are reserved */
    uint32_t tpr, ldr, dfr, svr;
    uint32_t esr;                    /* as last latched by an ESR write */
    uint32_t esr_pending;            /* errors seen since then */
    uint32_t isr[8], tmr[8], irr[8]; /* 256 bits each, vector v in word v/32 */
    uint32_t icr_lo, icr_hi;
    uint32_t lvt[LVT_COUNT];
    /* The timer (11.5.4 "APIC Timer"): counting starts at timer_start (bus
     * clocks) from timer_initial, one count every `divisor` clocks. */
    uint32_t timer_initial, timer_dcr, divisor;
    uint64_t timer_start;
    uint64_t timer_fired;  /* expiries already turned into interrupts */
    uint64_t tsc_deadline; /* 11.5.4.1 "TSC-Deadline Mode"; 0 = disarmed */
    lapic_clock_fn bus, tsc;
    void *clock_ctx;
    lapic_eoi_fn eoi;
    void *eoi_ctx;
    /* Where IPIs go (NULL: to this APIC only, see the top of the file). */
    lapic_ipi_fn ipi;
    void *ipi_ctx;
};

/* Power-on state (SDM vol 3A 11.4.7.1 "Local APIC State After Power-Up or
 * Reset"), enabled at LAPIC_DEFAULT_BASE, the BSP flag as `bsp` says. */
void lapic_init_state(struct lapic *l, uint32_t id, bool bsp, uint8_t phys_bits, lapic_clock_fn bus,
                      lapic_clock_fn tsc, void *clock_ctx);

/* The state a PC's firmware (SeaBIOS, before QEMU's -kernel guest runs)
 * leaves: software-enabled, LINT0 ExtINT (the 8259's output passes
 * through), LINT1 NMI. */
void lapic_firmware_setup(struct lapic *l);

/* Where the register page is now, and whether the guest can reach it
 * there (globally enabled and not in x2APIC mode). */
uint64_t lapic_base(const struct lapic *l);
bool lapic_mmio_enabled(const struct lapic *l);
bool lapic_x2apic(const struct lapic *l);

/* The memory-mapped registers: an access of `size` bytes at `offset` in
 * the page.  Only aligned 32-bit accesses reach a register, as on QEMU;
 * other reads return 0 and other writes are ignored. */
uint64_t lapic_mmio_read(void *ctx, uint64_t offset, uint8_t size);
void lapic_mmio_write(void *ctx, uint64_t offset, uint8_t size, uint64_t value);

/* RDMSR/WRMSR of IA32_APIC_BASE, IA32_TSC_DEADLINE and the x2APIC range.
 * Return false where the CPU raises #GP(0).  lapic_msr_owned() tells
 * whether an index is one of these at all. */
bool lapic_msr_read(struct lapic *l, uint32_t index, uint64_t *value);
bool lapic_msr_write(struct lapic *l, uint32_t index, uint64_t value);
bool lapic_msr_owned(uint32_t index);

/* An interrupt message reaches this APIC (from the I/O APIC); it accepts
 * it if it is addressed to it. */
void lapic_bus_deliver(struct lapic *l, const struct apic_msg *m);

/* Is this APIC one of the destinations of a message with destination
 * field `dest` in physical or logical mode (11.6.2; a globally disabled
 * APIC is nobody's destination)? */
bool lapic_is_destination(const struct lapic *l, uint32_t dest, bool logical);

/* The receivers of IPI `m` sent by apics[self], among the n APICs of a
 * domain's CPUs (apic_ipi.c): bit i set for apics[i].  Lowest-priority
 * delivery picks one of the destinations; an empty set means nobody is
 * addressed (a destination no CPU has, or a disabled APIC). */
uint32_t apic_ipi_targets(struct lapic *const *apics, unsigned n, unsigned self,
                          const struct apic_msg *m);

/* A fixed interrupt arrives (an IPI the core routed here): into the IRR,
 * a reserved vector 0-15 refused with a receive error (11.5.2). */
void lapic_accept_fixed(struct lapic *l, uint8_t vector, bool level);

/* The INIT reset of a CPU that receives INIT (SDM vol 3A 11.4.7.3 "Local
 * APIC State After an INIT Reset (Wait-for-SIPI State)"): every register
 * as at power-up, but IA32_APIC_BASE and the APIC ID stay. */
void lapic_init_reset(struct lapic *l);

/* The LINT0/LINT1 pins (0 or 1).  A rising edge or a high level of a pin
 * programmed for fixed delivery raises its vector; ExtINT is asked for
 * with lapic_extint_open(). */
void lapic_set_lint(struct lapic *l, unsigned pin, bool level);

/* What a pulse on LINT1 does, for the host's NMI button (QEMU's
 * inject-nmi delivers through each CPU's LINT1 entry): APIC_DM_NMI when
 * the entry says NMI or the APIC is globally disabled (the pin is then
 * the CPU's NMI input, SDM vol 3A 11.4.3 "Enabling or Disabling the Local
 * APIC"), -1 when the entry is masked; any other delivery mode as it is
 * (fixed: lapic_set_lint() raises the vector). */
int lapic_lint1_mode(const struct lapic *l);

/* Does the 8259's INTR output reach the CPU?  Yes when the APIC is
 * globally disabled (a CPU without an APIC) or LINT0 is unmasked in
 * ExtINT mode (virtual-wire mode, as the firmware leaves it). */
bool lapic_extint_open(const struct lapic *l);

/* Let time pass: expire the timer (one-shot, periodic or deadline) up to
 * the clocks' `now`, raising the timer vector.  True when it expired (even
 * if masked), so that a halted CPU can stop waiting. */
bool lapic_update_timer(struct lapic *l);
/* True when the timer will fire again without guest action (for HLT). */
bool lapic_timer_armed(const struct lapic *l);
/* Bus clocks until the one-shot or periodic timer's next expiry (0: one
 * is due now), UINT64_MAX if none comes or in the TSC-deadline mode. */
uint64_t lapic_timer_bus_left(const struct lapic *l);

/* The vector the APIC would hand the CPU now (the highest IRR whose
 * priority class beats the PPR's, 11.8.3.1 "Task and Processor
 * Priorities"), or -1.  lapic_acknowledge() moves it from IRR to ISR. */
int lapic_pending(const struct lapic *l);
int lapic_acknowledge(struct lapic *l);
/* True when any interrupt waits in the IRR, deliverable now or held back
 * by the PPR (the TPR or an interrupt in service) or a disabled APIC. */
bool lapic_requested(const struct lapic *l);
/* The PPR (11.8.3.1). */
uint32_t lapic_ppr(const struct lapic *l);

#endif
