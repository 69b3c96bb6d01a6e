/*
 * vcpuhot: a guest whose CPUs follow the host's vCPU count for as long as
 * it runs, as a Linux guest under Xen follows `xl vcpu-set` -- the guest
 * that `xl vcpu-set` and `virsh setvcpus --live` act on
 * (include/hvkit/pv.h "vCPU hot-plug").  Every CPU it runs does real work:
 * it counts, in a counter of its own, and the BSP checks that each
 * online CPU's counter moves before it prints
 *
 *   vcpuhot: 3 CPUs online (0 1 2), each counting
 *
 * at its start and each time the set changes.  It asks hv for the
 * available vCPUs (HC_VCPU_AVAIL, naming the event channel port hv
 * signals when the host changes them), starts each available CPU it does
 * not run with INIT, STARTUP, STARTUP (guestkit/smp.h), and tells each
 * CPU it runs that is no longer available to stop: that CPU leaves its
 * loop and calls HC_VCPU_DOWN, and hv stops scheduling it.  Bit i of the
 * mask is the CPU with APIC ID i.
 *
 * `vcpuhot once` (tests/guests.list) starts the CPUs the MADT lists as
 * enabled, checks each counts, prints the line and ends: the same on
 * plain QEMU (-smp N) and under hv, where it also checks that hv's mask
 * names the same CPUs.  Without `once` it never ends, and outside hv
 * (nothing to follow) it says so and ends.
 */
#include "guestkit/guestkit.h"
#include "guestkit/pic.h"
#include "guestkit/pv.h"
#include "guestkit/smp.h"

/* The event channel's port and vector (any free ones). */
#define PORT   1u
#define VECTOR 0x50

/* Each CPU's counter, and the BSP's word to it: run, or stop and go
 * down.  online[i] is set by CPU i once it runs and cleared just before
 * it calls HC_VCPU_DOWN. */
static volatile uint64_t count[SMP_MAX_CPUS];
static volatile int stop[SMP_MAX_CPUS], online[SMP_MAX_CPUS];
/* hv signalled the port: the mask may have changed. */
static volatile int changed;
/* hv's vCPU hot-plug is there (and the hypercall page set up). */
static bool hotplug;

/* What an application processor runs: count until told to stop, then go
 * offline.  HC_VCPU_DOWN returns only when hv refuses it. */
static void ap_main(void *arg)
{
    unsigned k = (unsigned)(uintptr_t)arg;
    lapic_enable();
    __atomic_store_n(&online[k], 1, __ATOMIC_SEQ_CST);
    while (!__atomic_load_n(&stop[k], __ATOMIC_SEQ_CST))
        count[k]++;
    __atomic_store_n(&online[k], 0, __ATOMIC_SEQ_CST);
    if (hotplug)
        pv_call(HC_VCPU_DOWN, 0, 0, 0);
    for (;;)
        __asm__ volatile("cli; hlt");
}

static void on_event(unsigned port)
{
    (void)port;
    changed = 1;
}

/* Start CPU k (APIC ID k); false when it did not come up. */
static bool cpu_up(unsigned k)
{
    stop[k] = 0;
    count[k] = 0;
    return smp_start_ap((uint8_t)k, k, ap_main, (void *)(uintptr_t)k);
}

/* Tell CPU k to stop and wait (up to 3 s) until it has left its loop. */
static bool cpu_down(unsigned k)
{
    __atomic_store_n(&stop[k], 1, __ATOMIC_SEQ_CST);
    for (unsigned ms = 0; ms < 3000 && online[k]; ms += 10)
        smp_delay_us(10000);
    return !online[k];
}

/* Bring the CPUs to `want` (bit i: CPU i runs); CPU 0 always runs.
 * Returns the set that runs afterwards. */
static uint32_t apply(uint32_t want)
{
    uint32_t have = 1;
    for (unsigned k = 1; k < SMP_MAX_CPUS; k++) {
        bool w = (want >> k) & 1;
        if (w && !online[k] && !cpu_up(k))
            printf("vcpuhot: CPU %u did not start\n", k);
        else if (!w && online[k] && !cpu_down(k))
            printf("vcpuhot: CPU %u did not stop\n", k);
        if (online[k])
            have |= 1u << k;
    }
    return have;
}

/* Do the CPUs of `set` all count?  The BSP counts for itself meanwhile;
 * each AP's counter must move within about 3 s (the APs share one host
 * CPU with the BSP under hv, in time slices). */
static bool all_counting(uint32_t set)
{
    uint64_t before[SMP_MAX_CPUS];
    for (unsigned k = 0; k < SMP_MAX_CPUS; k++)
        before[k] = count[k];
    uint32_t moved = 1;
    for (unsigned ms = 0; ms < 3000 && (moved & set) != set; ms += 10) {
        for (unsigned i = 0; i < 100000; i++)
            count[0]++;
        smp_delay_us(10000);
        for (unsigned k = 1; k < SMP_MAX_CPUS; k++)
            if (count[k] != before[k])
                moved |= 1u << k;
    }
    return (moved & set) == set;
}

/* Print the set and whether each of its CPUs counts; returns the latter. */
static bool show(uint32_t set)
{
    unsigned n = 0;
    for (unsigned k = 0; k < SMP_MAX_CPUS; k++)
        n += (set >> k) & 1;
    printf("vcpuhot: %u CPU%s online (", n, n == 1 ? "" : "s");
    for (unsigned k = 0, first = 1; k < SMP_MAX_CPUS; k++)
        if ((set >> k) & 1) {
            printf(first ? "%u" : " %u", k);
            first = 0;
        }
    bool ok = all_counting(set);
    printf("), %s\n", ok ? "each counting" : "NOT all counting");
    return ok;
}

/* The MADT's enabled CPUs as a mask of APIC IDs. */
static uint32_t madt_set(void)
{
    uint8_t ids[SMP_MAX_CPUS];
    int n = acpi_cpus(ids, SMP_MAX_CPUS);
    uint32_t set = 1;
    for (int i = 0; i < n; i++)
        if (ids[i] < SMP_MAX_CPUS)
            set |= 1u << ids[i];
    return set;
}

static bool hotplug_available(void)
{
    hotplug = pv_available() && (cpuid(HVKIT_CPUID_BASE + 1).ecx & HVKIT_FEATURE_VCPU_HOTPLUG) &&
              pv_hcpage_init();
    return hotplug;
}

/* `once`: the CPUs the MADT enables, each counting; under hv the same set
 * as hv's mask. */
static int once(void)
{
    uint32_t set = madt_set();
    if (hotplug_available()) {
        long mask = pv_call(HC_VCPU_AVAIL, 0, 0, 0);
        report_info("HC_VCPU_AVAIL: %#lx, the MADT: %#x", mask, set);
        report(mask == (long)set, "HC_VCPU_AVAIL names the MADT's enabled CPUs");
    } else {
        report_skip("HC_VCPU_AVAIL names the MADT's enabled CPUs: not under hvkit");
    }
    uint32_t have = apply(set);
    report(have == set && show(have), "every CPU the MADT enables started and counts");
    return report_summary();
}

int main(int argc, char **argv)
{
    /* The PIT serves the start sequence's waits; its IRQ 0 must reach
     * nobody (as in the smp guest). */
    pit_stop();
    pic_init();
    lapic_enable();
    if (argc > 1 && strcmp(argv[1], "once") == 0)
        return once();
    if (!hotplug_available() || pv_evtchn_init(VECTOR) != HC_OK ||
        pv_evtchn_bind(PORT, on_event) != HC_OK) {
        printf("vcpuhot: not under hvkit with HVKIT_FEATURE_VCPU_HOTPLUG\n");
        return 0;
    }
    sti();
    uint32_t shown = 0;
    for (;;) {
        changed = 0;
        uint32_t set = apply((uint32_t)pv_call(HC_VCPU_AVAIL, PORT, 0, 0));
        if (set != shown) {
            show(set);
            shown = set;
        }
        /* Until hv signals a change (an event after the call above sets
         * `changed` again), and once a second all the same. */
        for (unsigned ms = 0; ms < 1000 && !changed; ms += 10)
            smp_delay_us(10000);
    }
}
