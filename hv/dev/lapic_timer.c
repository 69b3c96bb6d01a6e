/*
 * lapic_timer.c - the local APIC timer (SDM vol 3A 11.5.4 "APIC Timer"):
 * a 32-bit down-counter clocked by the APIC's input clock divided by the
 * divide configuration register, in one-shot or periodic mode, or the
 * TSC-deadline mode of 11.5.4.1 "TSC-Deadline Mode", which fires when the
 * TSC reaches IA32_TSC_DEADLINE.
 *
 * As with the PIT, nothing ticks: the count is computed from the time it
 * was loaded, and expiries become interrupts when the core (or a register
 * access) calls lapic_update_timer().
 */
#include "lapic_internal.h"
#include "core/exitpath.h"

/* The divide configuration register (figure 11-10 "Divide Configuration
 * Register"): bits 0, 1 and 3 form a 3-bit value v; v = 7 divides by 1,
 * otherwise the divisor is 2^(v + 1). */
static uint32_t divisor_of(uint32_t dcr)
{
    uint32_t v = (dcr & 3) | ((dcr >> 1) & 4);
    return 1u << ((v + 1) & 7);
}

static uint64_t bus_now(const struct lapic *l)
{
    /* Without a clock (a model under construction) time stands still. */
    return l->bus ? l->bus(l->clock_ctx) : 0;
}

static bool deadline_mode(const struct lapic *l)
{
    return APIC_TIMER_MODE(l->lvt[LVT_TIMER]) == 2;
}

static bool periodic_mode(const struct lapic *l)
{
    return APIC_TIMER_MODE(l->lvt[LVT_TIMER]) == 1;
}

/* Counts (divided clocks) since the initial count was loaded. */
static uint64_t counts_since_load(const struct lapic *l)
{
    return (bus_now(l) - l->timer_start) / l->divisor;
}

/* The current-count register (figure 11-11): counts down from the
 * initial count; a one-shot stays at 0 once it gets there, a periodic
 * timer reloads the initial count.  The deadline mode reads 0. */
uint32_t lapic_timer_current(const struct lapic *l)
{
    if (deadline_mode(l) || l->timer_initial == 0)
        return 0;
    uint64_t c = counts_since_load(l);
    if (periodic_mode(l))
        return (uint32_t)(l->timer_initial - c % l->timer_initial);
    return c >= l->timer_initial ? 0 : (uint32_t)(l->timer_initial - c);
}

/* A write to the initial-count register (re)starts the count at once; a
 * write of 0 stops the timer.  The deadline mode ignores it. */
void lapic_timer_set_initial(struct lapic *l, uint32_t count)
{
    if (deadline_mode(l))
        return;
    l->timer_initial = count;
    l->timer_start = bus_now(l);
    l->timer_fired = 0;
}

/* A new divisor changes the rate from now on; the counts already made
 * stay made (the count does not jump, as on real hardware). */
void lapic_timer_set_dcr(struct lapic *l, uint32_t dcr)
{
    uint32_t div = divisor_of(dcr);
    if (l->timer_initial && l->divisor) {
        uint64_t c = counts_since_load(l);
        /* Move the load time so that the same number of counts has
         * passed at the new rate. */
        l->timer_start = bus_now(l) - c * div;
    }
    l->timer_dcr = dcr;
    l->divisor = div;
}

/* The timer LVT: a change into or out of the TSC-deadline mode disarms
 * the timer (11.5.4.1: "A write to the LVT Timer Register that changes the
 * timer mode disarms the local APIC timer"); between one-shot and periodic
 * the count goes on, as KVM does. */
void lapic_timer_set_lvt(struct lapic *l, uint32_t lvt)
{
    bool was_deadline = deadline_mode(l);
    l->lvt[LVT_TIMER] = lvt;
    if (was_deadline != deadline_mode(l)) {
        l->timer_initial = 0;
        l->tsc_deadline = 0;
        l->timer_fired = 0;
    }
}

bool lapic_update_timer(struct lapic *l)
{
    if (deadline_mode(l)) {
        /* Fires once when the TSC reaches the deadline, which then reads
         * 0 (disarmed) until written again. */
        if (l->tsc_deadline && l->tsc && l->tsc(l->clock_ctx) >= l->tsc_deadline) {
            l->tsc_deadline = 0;
            lapic_local_deliver(l, LVT_TIMER);
            return true;
        }
        return false;
    }
    if (l->timer_initial == 0)
        return false;
    /* Expiries since the load: one for a one-shot, one per period for a
     * periodic timer.  Several missed ones make one interrupt (the IRR
     * holds one request per vector). */
    uint64_t c = counts_since_load(l);
    uint64_t n = periodic_mode(l) ? c / l->timer_initial : (c >= l->timer_initial ? 1 : 0);
    if (n > l->timer_fired) {
        l->timer_fired = n;
        /* A masked timer counts on but interrupts nobody (11.5.4). */
        lapic_local_deliver(l, LVT_TIMER);
        return true;
    }
    return false;
}

EXIT_PATH bool lapic_timer_armed(const struct lapic *l)
{
    /* Masked or disabled: it will never interrupt. */
    if ((l->lvt[LVT_TIMER] & APIC_LVT_MASKED) || !(l->base_msr & APIC_BASE_EN))
        return false;
    if (deadline_mode(l))
        return l->tsc_deadline != 0;
    return l->timer_initial != 0 && (periodic_mode(l) || l->timer_fired == 0);
}

/* Bus clocks from now until the one-shot or periodic timer next expires,
 * for a scheduler that must give the guest its interrupt on time;
 * UINT64_MAX when it will not fire (lapic_timer_armed() false) or counts
 * in the TSC-deadline mode, whose deadline is l->tsc_deadline itself. */
uint64_t lapic_timer_bus_left(const struct lapic *l)
{
    if (!lapic_timer_armed(l) || deadline_mode(l))
        return UINT64_MAX;
    /* Expiries since the load; one more than lapic_update_timer() has
     * turned into interrupts is due now (a one-shot has at most one). */
    uint64_t n = counts_since_load(l) / l->timer_initial;
    if (n > l->timer_fired)
        return 0;
    /* Otherwise the next one is at the next multiple of the initial
     * count (a one-shot's first: n is 0 while it is armed). */
    uint64_t next = (n + 1) * l->timer_initial;
    /* Back from counts to bus clocks, from the clock's present. */
    uint64_t at = l->timer_start + next * l->divisor;
    uint64_t now = bus_now(l);
    return at > now ? at - now : 0;
}
