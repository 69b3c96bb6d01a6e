/*
 * The guest's side of hvkit's paravirtual interface (include/hvkit/pv.h):
 * the hypercall page, event channels, grants, the PV console and the PV
 * clock.  Everything is set up on demand and only under hv with
 * HVKIT_FEATURE_PV; on other machines pv_available() is false and the
 * rest must not be called.
 */
#ifndef GUESTKIT_PV_H
#define GUESTKIT_PV_H

#include <stdbool.h>
#include <stdint.h>

#include "hvkit/pv.h"

/* Under hv, with the PV interface (CPUID 0x40000001 ECX bit 1). */
bool pv_available(void);

/* ---- The hypercall page ---- */
/* Register the runtime's page with HVKIT_MSR_HYPERCALL_PAGE (once; later
 * calls do nothing).  False if the WRMSR raised #GP. */
bool pv_hcpage_init(void);
/* The page itself (4 KiB, for tests that look at the stubs). */
const uint8_t *pv_hcpage(void);
/* Call `nr` through the page: call page + 32 * nr, arguments in RBX, RCX,
 * RDX, result in RAX.  The same code on AMD and Intel. */
long pv_call(unsigned nr, uint64_t a1, uint64_t a2, uint64_t a3);

/* ---- Event channels ---- */
/* Register the shared page and one vector for all ports (the handler
 * reads the pending word and calls each port's handler, then EOIs the
 * local APIC).  Returns an HC_* code. */
long pv_evtchn_init(uint8_t vector);
/* The shared page (pending and mask words). */
volatile struct hvkit_shared *pv_shared(void);
/* Bind `port` to the vector with handler(port) (may be NULL: the pending
 * bit stays for the caller to see).  HC_* code. */
long pv_evtchn_bind(unsigned port, void (*handler)(unsigned port));
long pv_evtchn_close(unsigned port);
long pv_evtchn_send(unsigned port);
/* Times the vector arrived. */
unsigned long pv_evtchn_upcalls(void);

/* ---- Grants ---- */
/* The runtime's grant table (HVKIT_GRANT_MAX entries is more than tests
 * need: it has PV_GRANTS) registered with HC_GRANT_SETUP.  HC_* code. */
#define PV_GRANTS 512u
long pv_grant_init(void);
/* Grant the page at guest-physical `gpa`: the reference, or -1 when the
 * table is full. */
long pv_grant(uint64_t gpa, bool readonly);
void pv_grant_revoke(unsigned ref);
/* The entry itself, for tests that forge one. */
volatile struct hvkit_grant *pv_grant_entry(unsigned ref);

/* Share a ring page with hv: grant the page at `ring` (writable) and bind
 * `port` with no handler.  The grant's reference, or a negative HC_* code
 * (HC_ENOMEM for a full grant table). */
long pv_ring_share(volatile void *ring, unsigned port);

/* ---- The PV console ---- */
/* Grant a ring page, bind `port`, HC_CONSOLE_SETUP.  HC_* code. */
long pv_console_init(unsigned port);
/* Put one byte into the ring; a full ring is handed to hv first (one
 * notification per ring-full, not per byte). */
void pv_console_putc(char c);
/* Hand hv what the ring holds: one HC_EVTCHN_SEND.  Returns its result. */
long pv_console_flush(void);
/* The ring (for tests that break it on purpose). */
volatile struct hvkit_console_ring *pv_console_ring(void);

/* ---- PV block ---- */
/* Grant a ring page, bind `port`, HC_BLK_SETUP on disk `disk` (0 = the
 * first -drive).  Returns the disk's size in sectors, or an HC_* error. */
long pv_blk_init(unsigned disk, unsigned port);
/* Read or write `count` sectors at `sector` from/to buf (512-byte aligned):
 * cut into requests of at most HVKIT_BLK_MAX_SEGS page pieces, each page
 * granted for the request and revoked after its response, every request
 * of the call queued before one notification (as many as the ring has
 * slots).  Returns HVKIT_BLK_OK or the first bad status; -3 when buf is
 * misaligned or the ring call failed. */
int pv_blk_rw(unsigned op, uint64_t sector, void *buf, uint32_t count);
/* HVKIT_BLK_OP_FLUSH: what was written is on the host's file. */
int pv_blk_flush(void);
/* One raw request as given (for hostile tests): put it in the ring,
 * notify, and return the response's status; *send gets the notification's
 * HC_* result. */
int pv_blk_raw(const struct hvkit_blk_req *req, long *send);
/* The ring (for tests that break it on purpose). */
volatile struct hvkit_blk_ring *pv_blk_ring(void);
/* Requests sent and notifications made. */
unsigned long pv_blk_requests(void);
unsigned long pv_blk_notifies(void);

/* ---- The PV clock ---- */
/* Register the runtime's struct hvkit_pvclock (HVKIT_MSR_PVCLOCK).  False
 * if the WRMSR raised #GP. */
bool pv_clock_init(void);
/* Nanoseconds from the PV clock: RDTSC and arithmetic, no exit.  Retries
 * while hv is rewriting the structure (the version seqlock). */
uint64_t pv_clock_ns(void);
const volatile struct hvkit_pvclock *pv_clock(void);

#endif
