/*
 * pv_clock.c - the PV clock's arithmetic (include/hvkit/pv.h "The PV
 * clock"), in the layout KVM's pvclock uses.
 *
 * Why: reading a timer the hypervisor emulates (the PIT's counter, the
 * APIC's current count) is a VM exit each time; the TSC is read without
 * one but a guest does not know its rate.  hv measured that rate at
 * start-up (irq.c) and publishes it as a 32-bit multiplier and a shift,
 * with one (TSC, nanoseconds) pair to count from: the guest then turns
 * RDTSC into nanoseconds with a shift and one multiplication, no exit.
 *
 * Pure: compiled hosted too (tests/unit/test_hv_pv.c), where the scale is
 * compared with the exact quotient.
 */
#include "klib.h"

#include "pv.h"

#define NS_PER_S 1000000000ull

/*
 * ns/tick = 1e9 / tsc_hz = 2^shift * mul / 2^32.  Pick shift so that the
 * fraction f = 1e9 / (tsc_hz * 2^shift) lies in [1/2, 1): then mul = f *
 * 2^32 fits in 32 bits with its top bit set, the most precision 32 bits
 * give (a relative error below 2^-31).  The fraction is kept as num/den
 * and doubled or halved by shifting one of them, never by dividing.
 */
void pv_clock_scale(uint64_t tsc_hz, uint32_t *mul, int8_t *shift)
{
    uint64_t num = NS_PER_S, den = tsc_hz ? tsc_hz : 1;
    int s = 0;
    /* f >= 1 (a TSC slower than 1 GHz): halve f, one more left shift. */
    while (num >= den) {
        den <<= 1;
        s++;
    }
    /* f < 1/2 (a fast TSC): double f, one more right shift. */
    while (num * 2 < den) {
        num <<= 1;
        s--;
    }
    /* mul = floor(num * 2^32 / den), by long division one bit at a time:
     * num * 2^32 does not fit 64 bits, and hv has no 128-bit division. */
    uint64_t q = 0, rem = num;
    for (int i = 0; i < 32; i++) {
        rem <<= 1;
        q <<= 1;
        if (rem >= den) {
            rem -= den;
            q |= 1;
        }
    }
    *mul = (uint32_t)q;
    *shift = (int8_t)s;
}

uint64_t pv_clock_apply(uint64_t ticks, uint32_t mul, int8_t shift)
{
    uint64_t d = shift >= 0 ? ticks << shift : ticks >> -shift;
    /* The 96-bit product's bits 95:32, from two 64-bit halves: d =
     * hi * 2^32 + lo, so d * mul >> 32 = hi * mul + (lo * mul >> 32). */
    uint64_t hi = d >> 32, lo = d & 0xffffffffu;
    return hi * mul + ((lo * mul) >> 32);
}

void pv_clock_publish(volatile struct hvkit_pvclock *c, uint64_t tsc, uint64_t ns, uint32_t mul,
                      int8_t shift)
{
    /* Odd while the fields change: a reader that saw it odd, or saw it
     * change across its read, reads again (a seqlock). */
    uint32_t v = c->version;
    c->version = (v | 1) + (v & 1 ? 2 : 0);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    c->tsc_timestamp = tsc;
    c->system_time = ns;
    c->tsc_to_system_mul = mul;
    c->tsc_shift = shift;
    /* One TSC for all vCPUs: hv gives every vCPU of a domain the same
     * offset unless the guest writes it, so readings on two vCPUs agree. */
    c->flags = HVKIT_PVCLOCK_TSC_STABLE;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    c->version = c->version + 1;
}
