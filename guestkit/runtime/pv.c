/*
 * The guest's side of hvkit's paravirtual interface (guestkit/pv.h,
 * include/hvkit/pv.h).  Every structure hv reads or writes is a page (or
 * part of one) in the guest's own .bss; the guest identity-maps its
 * memory, so the address of a variable is its guest-physical address.
 */
#include "klib.h"
#include "guestkit/hvkit.h"
#include "guestkit/ioapic.h"
#include "guestkit/msr.h"
#include "guestkit/pv.h"
#include "guestkit/trap.h"
#include "guestkit/x86.h"

#define PAGE 4096

static uint8_t hcpage[PAGE] __attribute__((aligned(PAGE)));
static bool hcpage_ready;

bool pv_available(void)
{
    return under_hvkit() && (cpuid(HVKIT_CPUID_BASE + 1).ecx & HVKIT_FEATURE_PV);
}

bool pv_hcpage_init(void)
{
    /* hv writes the stubs during the WRMSR's exit; when it returns, the
     * page is ready to call. */
    if (!hcpage_ready)
        hcpage_ready = wrmsr_safe(HVKIT_MSR_HYPERCALL_PAGE, (uintptr_t)hcpage | HVKIT_MSR_ENABLE);
    return hcpage_ready;
}

const uint8_t *pv_hcpage(void)
{
    return hcpage;
}

long pv_call(unsigned nr, uint64_t a1, uint64_t a2, uint64_t a3)
{
    long ret;
    /* A near call to the stub; the stub changes only RAX (include/hvkit/
     * pv.h).  The runtime has no red zone (-mno-red-zone), so the return
     * address the CALL pushes overwrites nothing the compiler keeps. */
    void *stub = hcpage + (uintptr_t)nr * HVKIT_HCPAGE_SLOT;
    __asm__ volatile("call *%[stub]"
                     : "=a"(ret)
                     : [stub] "r"(stub), "b"(a1), "c"(a2), "d"(a3)
                     : "memory", "cc");
    return ret;
}

/* ---- Event channels ---- */

static volatile struct hvkit_shared shared __attribute__((aligned(PAGE)));
static void (*port_handler[HVKIT_EVTCHN_PORTS])(unsigned port);
static volatile unsigned long upcalls;

/* The one vector for all ports: take the pending bits of the unmasked
 * ports (atomically: hv sets bits only at exits, but this must not lose
 * one set between a load and a store), run their handlers, EOI. */
static void upcall(int vector)
{
    (void)vector;
    upcalls++;
    uint64_t mask = shared.evtchn_mask;
    /* Keep the masked ports' bits; the others are ours now. */
    uint64_t bits = __atomic_fetch_and(&shared.evtchn_pending, mask, __ATOMIC_SEQ_CST) & ~mask;
    for (unsigned p = 1; p < HVKIT_EVTCHN_PORTS; p++)
        if ((bits >> p) & 1 && port_handler[p])
            port_handler[p](p);
    lapic_eoi();
}

static uint8_t evtchn_vector;

long pv_evtchn_init(uint8_t vector)
{
    long rc = pv_call(HC_PV_SHARED, (uintptr_t)&shared, 0, 0);
    if (rc == HC_OK) {
        evtchn_vector = vector;
        set_vector_handler(vector, upcall);
    }
    return rc;
}

volatile struct hvkit_shared *pv_shared(void)
{
    return &shared;
}

long pv_evtchn_bind(unsigned port, void (*handler)(unsigned port))
{
    long rc = pv_call(HC_EVTCHN_BIND, port, evtchn_vector, 0);
    if (rc == HC_OK)
        port_handler[port] = handler;
    return rc;
}

long pv_evtchn_close(unsigned port)
{
    long rc = pv_call(HC_EVTCHN_CLOSE, port, 0, 0);
    if (rc == HC_OK)
        port_handler[port] = NULL;
    return rc;
}

long pv_evtchn_send(unsigned port)
{
    return pv_call(HC_EVTCHN_SEND, port, 0, 0);
}

unsigned long pv_evtchn_upcalls(void)
{
    return upcalls;
}

/* ---- Grants ---- */

static volatile struct hvkit_grant grants[PV_GRANTS] __attribute__((aligned(64)));

long pv_grant_init(void)
{
    return pv_call(HC_GRANT_SETUP, (uintptr_t)grants, PV_GRANTS, 0);
}

long pv_grant(uint64_t gpa, bool readonly)
{
    /* Reference 0 is as good as any other: hv has no reserved entries. */
    for (unsigned r = 0; r < PV_GRANTS; r++) {
        if (grants[r].flags & HVKIT_GRANT_PERMIT)
            continue;
        grants[r].gfn = gpa >> 12;
        /* The frame first, then PERMIT: hv never sees a permitted entry
         * with a stale frame (the compiler keeps the order of volatile
         * stores, and one vCPU sees its own stores in order). */
        grants[r].flags = HVKIT_GRANT_PERMIT | (readonly ? HVKIT_GRANT_READONLY : 0);
        return r;
    }
    return -1;
}

void pv_grant_revoke(unsigned ref)
{
    if (ref < PV_GRANTS)
        grants[ref].flags = 0;
}

volatile struct hvkit_grant *pv_grant_entry(unsigned ref)
{
    return &grants[ref % PV_GRANTS];
}

long pv_ring_share(volatile void *ring, unsigned port)
{
    long ref = pv_grant((uintptr_t)ring, false);
    if (ref < 0)
        return HC_ENOMEM;
    long rc = pv_evtchn_bind(port, NULL);
    return rc == HC_OK ? ref : rc;
}

/* ---- The PV console ---- */

static volatile struct hvkit_console_ring ring __attribute__((aligned(PAGE)));
static unsigned console_port;

long pv_console_init(unsigned port)
{
    long ref = pv_ring_share(&ring, port);
    if (ref < 0)
        return ref;
    long rc = pv_call(HC_CONSOLE_SETUP, (uint64_t)ref, port, 0);
    if (rc == HC_OK)
        console_port = port;
    return rc;
}

long pv_console_flush(void)
{
    return pv_evtchn_send(console_port);
}

void pv_console_putc(char c)
{
    /* Full: hv consumes everything during the notification's exit, so
     * the ring is empty when the call returns. */
    if (ring.out_prod - ring.out_cons >= HVKIT_CONSOLE_OUT_SIZE)
        pv_console_flush();
    ring.out[ring.out_prod % HVKIT_CONSOLE_OUT_SIZE] = c;
    /* The byte before the index that publishes it. */
    __atomic_store_n(&ring.out_prod, ring.out_prod + 1, __ATOMIC_RELEASE);
}

volatile struct hvkit_console_ring *pv_console_ring(void)
{
    return &ring;
}

/* ---- The PV clock ---- */

static volatile struct hvkit_pvclock clock __attribute__((aligned(32)));

bool pv_clock_init(void)
{
    return wrmsr_safe(HVKIT_MSR_PVCLOCK, (uintptr_t)&clock | HVKIT_MSR_ENABLE);
}

const volatile struct hvkit_pvclock *pv_clock(void)
{
    return &clock;
}

uint64_t pv_clock_ns(void)
{
    /* LAB 04: BEGIN pvclock-read (labs/04-paravirtual-drivers, exercise 2) */
    /* LAB 04: HINT Nanoseconds from `clock` (include/hvkit/pv.h "The PV
     * clock") without any exit, read as a seqlock:
     *   - read clock.version, then (after an acquire fence) tsc_timestamp,
     *     system_time, tsc_to_system_mul, tsc_shift and rdtsc();
     *   - after another acquire fence, read the version again: if it was
     *     odd (hv was writing) or has changed (hv wrote meanwhile), start
     *     over;
     *   - then d = rdtsc - tsc_timestamp, shifted left by tsc_shift (right
     *     by -tsc_shift when it is negative), and the result is
     *     system_time + the bits 95:32 of d * mul (an unsigned __int128
     *     product shifted right by 32). */
    /* LAB 04: STUB return 0; */
    uint32_t v;
    uint64_t tsc, stamp, ns;
    uint32_t mul;
    int8_t shift;
    do {
        v = clock.version;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        stamp = clock.tsc_timestamp;
        ns = clock.system_time;
        mul = clock.tsc_to_system_mul;
        shift = clock.tsc_shift;
        tsc = rdtsc();
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        /* Odd: hv was writing; changed: hv wrote meanwhile. */
    } while ((v & 1) || v != clock.version);
    uint64_t d = tsc - stamp;
    d = shift >= 0 ? d << shift : d >> -shift;
    /* The 96-bit product's bits 95:32 (include/hvkit/pv.h). */
    return ns + (uint64_t)(((unsigned __int128)d * mul) >> 32);
    /* LAB 04: END */
}
