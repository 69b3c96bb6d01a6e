/*
 * pv: hvkit's paravirtual ABI (include/hvkit/pv.h) from the guest's side,
 * and what a hostile guest gets for abusing it.
 *   - the hypercall page: hv fills it with the vendor's instruction, the
 *     same call through it works on AMD and Intel, unknown calls and bad
 *     arguments are refused with the abi.h codes, bad MSR values #GP;
 *   - event channels: bind, loopback signal (the vector arrives once,
 *     pending bits collapse, a masked port raises nothing), bad ports;
 *   - grants and the PV console: a line through the ring, a revoked or
 *     read-only grant, references beyond the table, frames outside RAM,
 *     broken ring indices;
 *   - a hypercall storm of every number with junk arguments.
 * Everything is skipped outside hv (plain QEMU has no such interface).
 */
#include "guestkit/guestkit.h"
#include "guestkit/pv.h"

/* The vector event channels arrive on, and the ports the tests use. */
#define EVT_VECTOR   0x70
#define PORT_LOOP    5
#define PORT_CONSOLE 7
/* The highest call number hv has (include/hvkit/pv.h). */
#define LAST_CALL HC_VCPU_DOWN

static const char *const tests[] = {
    "hypercall page",  "calls through the page",
    "bad MSR values",  "event channels",
    "masked port",     "bad ports",
    "grants",          "PV console",
    "hostile grants",  "broken ring",
    "hypercall storm", "vCPU hot-plug",
};

/* Stubs: b8 <nr> <insn> c3, the instruction the CPU vendor has. */
static void test_hcpage(void)
{
    bool ok = pv_hcpage_init();
    uint64_t msr = 0;
    rdmsr_safe(HVKIT_MSR_HYPERCALL_PAGE, &msr);
    const uint8_t *p = pv_hcpage();
    static const uint8_t amd[3] = {0x0f, 0x01, 0xd9}, intel[3] = {0x0f, 0x01, 0xc1};
    const uint8_t *want = cpu_is_amd() ? amd : intel;
    bool stubs = true;
    for (unsigned nr = 0; nr < HVKIT_HCPAGE_SLOTS; nr++) {
        const uint8_t *s = p + nr * HVKIT_HCPAGE_SLOT;
        uint32_t imm =
            (uint32_t)s[1] | (uint32_t)s[2] << 8 | (uint32_t)s[3] << 16 | (uint32_t)s[4] << 24;
        stubs &= s[0] == 0xb8 && imm == nr && memcmp(s + 5, want, 3) == 0 && s[8] == 0xc3 &&
                 s[9] == 0xcc && s[31] == 0xcc;
    }
    report(ok && msr == ((uintptr_t)p | 1) && stubs,
           "hypercall page: WRMSR %#x accepted, reads back, 128 stubs mov eax,nr; %s; ret",
           HVKIT_MSR_HYPERCALL_PAGE, cpu_is_amd() ? "vmmcall" : "vmcall");
}

static void test_calls(void)
{
    long ver = pv_call(HC_VERSION, 0, 0, 0);
    long echo = pv_call(HC_ECHO, 0x1000, 0x20000, 0x300000000ul);
    long unknown = pv_call(100, 1, 2, 3);
    long c1 = pv_call(HC_EXIT_COUNT, 0, 0, 0), c2 = pv_call(HC_EXIT_COUNT, 0, 0, 0);
    report(ver == (long)HVKIT_ABI_VERSION && echo == 0x300021000l && unknown == HC_ENOSYS &&
               c2 == c1 + 1,
           "calls through the page: version %ld, echo %#lx, unknown 100 -> %ld, exit count "
           "%ld then %ld",
           ver, echo, unknown, c1, c2);
}

/* A refused WRMSR raises #GP(0) and changes nothing. */
static void test_bad_msr(void)
{
    bool reserved = wrmsr_safe(HVKIT_MSR_HYPERCALL_PAGE, (uintptr_t)pv_hcpage() | 0x10 | 1);
    bool outside = wrmsr_safe(HVKIT_MSR_HYPERCALL_PAGE, 0xfff00000000ul | 1);
    bool clock_odd = wrmsr_safe(HVKIT_MSR_PVCLOCK, 0x100008ul | 1);
    bool clock_outside = wrmsr_safe(HVKIT_MSR_PVCLOCK, 0xfff00000000ul | 1);
    uint64_t msr = 0;
    rdmsr_safe(HVKIT_MSR_HYPERCALL_PAGE, &msr);
    report(!reserved && !outside && !clock_odd && !clock_outside &&
               msr == ((uintptr_t)pv_hcpage() | 1),
           "bad MSR values: reserved bits, pages outside RAM, a misaligned clock raise #GP; "
           "the page stays registered");
}

static volatile unsigned loop_events;
static void on_loop(unsigned port)
{
    (void)port;
    loop_events++;
}

static void test_events(void)
{
    long init = pv_evtchn_init(EVT_VECTOR);
    long bind = pv_evtchn_bind(PORT_LOOP, on_loop);
    unsigned long before = pv_evtchn_upcalls();
    /* With IF=0 the interrupt waits: two signals, one pending bit. */
    long s1 = pv_evtchn_send(PORT_LOOP), s2 = pv_evtchn_send(PORT_LOOP);
    uint64_t pend = pv_shared()->evtchn_pending;
    sti();
    __asm__ volatile("nop; nop" ::: "memory");
    cli();
    report(init == HC_OK && bind == HC_OK && s1 == HC_OK && s2 == HC_OK &&
               (pend & (1u << PORT_LOOP)) && pv_evtchn_upcalls() == before + 1 &&
               loop_events == 1 && pv_shared()->evtchn_pending == 0,
           "event channels: two loopback signals before STI are one pending bit and one "
           "interrupt on vector %#x (%lu upcalls, %u events)",
           EVT_VECTOR, pv_evtchn_upcalls() - before, loop_events);
}

static void test_masked(void)
{
    unsigned long before = pv_evtchn_upcalls();
    pv_shared()->evtchn_mask = 1u << PORT_LOOP;
    long s = pv_evtchn_send(PORT_LOOP);
    sti();
    __asm__ volatile("nop; nop" ::: "memory");
    cli();
    bool none = pv_evtchn_upcalls() == before;
    bool pending = pv_shared()->evtchn_pending & (1u << PORT_LOOP);
    /* Unmasking: the guest looks at the pending bit itself. */
    pv_shared()->evtchn_mask = 0;
    __atomic_fetch_and(&pv_shared()->evtchn_pending, ~(1ull << PORT_LOOP), __ATOMIC_SEQ_CST);
    report(s == HC_OK && none && pending,
           "masked port: the signal sets the pending bit and raises no interrupt");
}

static void test_bad_ports(void)
{
    long p0 = pv_call(HC_EVTCHN_BIND, 0, EVT_VECTOR, 0);
    long p64 = pv_call(HC_EVTCHN_BIND, HVKIT_EVTCHN_PORTS, EVT_VECTOR, 0);
    long huge = pv_call(HC_EVTCHN_BIND, ~0ul, EVT_VECTOR, 0);
    long vec = pv_call(HC_EVTCHN_BIND, 9, 14, 0);
    long vec2 = pv_call(HC_EVTCHN_BIND, 9, 256, 0);
    long twice = pv_call(HC_EVTCHN_BIND, PORT_LOOP, EVT_VECTOR, 0);
    long unbound = pv_evtchn_send(9);
    long far = pv_evtchn_send(1000000);
    long close_unbound = pv_evtchn_close(9);
    long close = pv_evtchn_close(PORT_LOOP);
    long after = pv_evtchn_send(PORT_LOOP);
    report(p0 == HC_EINVAL && p64 == HC_EINVAL && huge == HC_EINVAL && vec == HC_EINVAL &&
               vec2 == HC_EINVAL && twice == HC_EINVAL && unbound == HC_EINVAL &&
               far == HC_EINVAL && close_unbound == HC_EINVAL && close == HC_OK &&
               after == HC_EINVAL,
           "bad ports: port 0, 64, ~0, vectors 14 and 256, a second bind, sending on unbound "
           "and closed ports are HC_EINVAL");
}

/* A page of its own to grant and forge with. */
static uint8_t scratch[4096] __attribute__((aligned(4096)));

static void test_grants(void)
{
    long bad_nr = pv_call(HC_GRANT_SETUP, 0x200000, HVKIT_GRANT_MAX + 1, 0);
    long bad_gpa = pv_call(HC_GRANT_SETUP, 0xfff00000000ul, 4, 0);
    long odd = pv_call(HC_GRANT_SETUP, 0x200004, 4, 0);
    long wrap = pv_call(HC_GRANT_SETUP, ~0ul - 15, 4, 0);
    long ok = pv_grant_init();
    report(bad_nr == HC_EINVAL && bad_gpa == HC_EFAULT && odd == HC_EINVAL && wrap == HC_EFAULT &&
               ok == HC_OK,
           "grants: tables too long, outside RAM, misaligned or wrapping are refused; ours "
           "is taken");
}

static void test_console(void)
{
    long rc = pv_console_init(PORT_CONSOLE);
    const char *msg = "pv console: this line came through the ring\n";
    for (const char *c = msg; *c; c++)
        pv_console_putc(*c);
    long f = pv_console_flush();
    volatile struct hvkit_console_ring *r = pv_console_ring();
    report(rc == HC_OK && f == HC_OK && r->out_cons == r->out_prod,
           "PV console: set up on port %d, one line in one notification, ring emptied",
           PORT_CONSOLE);
}

static void test_hostile_grants(void)
{
    /* Console set-up with references beyond the table, revoked, read-only. */
    long beyond = pv_call(HC_CONSOLE_SETUP, PV_GRANTS, 9, 0);
    long huge = pv_call(HC_CONSOLE_SETUP, ~0ul, 9, 0);
    pv_call(HC_EVTCHN_BIND, 9, EVT_VECTOR, 0);
    long ro_ref = pv_grant((uintptr_t)scratch, true);
    long ro = pv_call(HC_CONSOLE_SETUP, (uint64_t)ro_ref, 9, 0);
    pv_grant_revoke((unsigned)ro_ref);
    long revoked = pv_call(HC_CONSOLE_SETUP, (uint64_t)ro_ref, 9, 0);
    /* A forged grant of a frame outside RAM, and one whose address wraps. */
    long f_ref = pv_grant((uintptr_t)scratch, false);
    pv_grant_entry((unsigned)f_ref)->gfn = 0xfff00000ul;
    long outside = pv_call(HC_CONSOLE_SETUP, (uint64_t)f_ref, 9, 0);
    pv_grant_entry((unsigned)f_ref)->gfn = ~0ul;
    long wrapping = pv_call(HC_CONSOLE_SETUP, (uint64_t)f_ref, 9, 0);
    pv_grant_revoke((unsigned)f_ref);
    /* The running console's own grant revoked: the back-end stops using
     * the ring at once, and takes it again when the grant returns. */
    volatile struct hvkit_grant *g = pv_grant_entry(0);
    uint32_t flags = g->flags;
    g->flags = 0;
    pv_console_putc('x');
    long stopped = pv_console_flush();
    g->flags = flags;
    pv_console_putc('\n');
    long again = pv_console_flush();
    report(beyond == HC_EINVAL && huge == HC_EINVAL && ro == HC_EINVAL && revoked == HC_EINVAL &&
               outside == HC_EFAULT && wrapping == HC_EFAULT && stopped == HC_EINVAL &&
               again == HC_OK,
           "hostile grants: refs beyond the table, read-only for a writable ring, revoked, "
           "frames outside RAM; a revoked ring stops the console (%ld %ld %ld %ld %ld %ld %ld "
           "%ld)",
           beyond, huge, ro, revoked, outside, wrapping, stopped, again);
}

/* Last for the console: after this hv ignores the ring. */
static void test_broken_ring(void)
{
    volatile struct hvkit_console_ring *r = pv_console_ring();
    r->out_prod = r->out_cons + HVKIT_CONSOLE_OUT_SIZE + 1;
    long a = pv_console_flush();
    r->out_prod = r->out_cons;
    long b = pv_console_flush();
    report(a == HC_EINVAL && b == HC_EINVAL,
           "broken ring: producer %u bytes ahead is refused, and the ring stays refused",
           HVKIT_CONSOLE_OUT_SIZE + 1);
}

/* Every number through the page and past it, with junk arguments: hv
 * answers each, and the known harmless ones still work afterwards.  The
 * calls that would end or change the guest (exit, dirty log, protect,
 * setup) get arguments they refuse. */
static void test_storm(void)
{
    unsigned long bad = 0, calls = 0;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (unsigned round = 0; round < 20; round++) {
        for (unsigned nr = 0; nr < HVKIT_HCPAGE_SLOTS; nr++) {
            if (nr == HC_EXIT || nr == HC_DIRTY_START || nr == HC_PV_SHARED ||
                nr == HC_GRANT_SETUP || nr == HC_CONSOLE_SETUP || nr == HC_EVTCHN_BIND ||
                nr == HC_EVTCHN_CLOSE || nr == HC_MEM_PROTECT)
                continue;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            long rc = pv_call(nr, x | 0xfff00000000ul, x >> 3, x >> 5);
            calls++;
            /* Unknown numbers must say so. */
            if (nr > LAST_CALL && rc != HC_ENOSYS)
                bad++;
        }
    }
    report(bad == 0 && pv_call(HC_ECHO, 1, 2, 3) == 6,
           "hypercall storm: %lu calls with junk arguments answered, unknown numbers "
           "HC_ENOSYS, hv still answers",
           calls);
}

/* vCPU hot-plug's calls (include/hvkit/pv.h): the one vCPU this guest
 * runs is available and has the feature bit; a port out of range or not
 * bound, and vCPU 0 going down, are refused. */
static void test_vcpu_hotplug(void)
{
    bool bit = cpuid(HVKIT_CPUID_BASE + 1).ecx & HVKIT_FEATURE_VCPU_HOTPLUG;
    long avail = pv_call(HC_VCPU_AVAIL, 0, 0, 0);
    long far = pv_call(HC_VCPU_AVAIL, HVKIT_EVTCHN_PORTS, 0, 0);
    long unbound = pv_call(HC_VCPU_AVAIL, 63, 0, 0);
    long down = pv_call(HC_VCPU_DOWN, 0, 0, 0);
    report(bit && avail == 1 && far == HC_EINVAL && unbound == HC_EINVAL && down == HC_EINVAL,
           "vCPU hot-plug: feature bit, vCPU 0 available (%#lx), bad ports (%ld, %ld) and vCPU "
           "0 going down (%ld) refused",
           avail, far, unbound, down);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (!pv_available()) {
        report_skip_all(tests, sizeof(tests) / sizeof(tests[0]),
                        "not under hvkit with HVKIT_FEATURE_PV");
        return report_summary();
    }
    test_hcpage();
    test_calls();
    test_bad_msr();
    test_events();
    test_masked();
    test_bad_ports();
    test_grants();
    test_console();
    test_hostile_grants();
    test_broken_ring();
    test_storm();
    test_vcpu_hotplug();
    return report_summary();
}
