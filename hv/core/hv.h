/*
 * hv.h - the state of the one running guest, shared by the core's files.
 */
#ifndef HV_CORE_HV_H
#define HV_CORE_HV_H

#include "backend.h"
#include "cmdline.h"
#include "dev/debug_exit.h"
#include "dev/iobus.h"
#include "dev/pic8259.h"
#include "dev/pit8254.h"
#include "dev/uart16550.h"
#include "stats.h"
#include "vcpu.h"

struct hv {
    struct hv_options opt;
    const struct backend *be;
    struct vcpu vcpu;
    struct iobus bus;
    struct uart16550 com1;
    struct debug_exit dbg_exit;
    struct pic8259 pic;
    struct pit8254 pit;
    /* The backend can inject interrupts (HVKIT_FEATURE_IRQ advertised). */
    bool irq;
    /* An interrupt window is being asked for (backend->irq_window). */
    bool irq_window;
    struct exit_stats stats;
    /* Set once the guest has started: statistics are printed only then. */
    bool guest_started;
};

extern struct hv hv;

/* dispatch.c: handle one exit; returns only if the guest goes on. */
void dispatch(struct hv *h, struct exit_info *e);

/* hypercall.c: the VMMCALL/VMCALL ABI of include/hvkit/abi.h. */
void hypercall(struct hv *h);

/* irq.c: the guest's interrupt controller and timer, and delivery.
 * irq_init() adds the PIC and PIT to the bus and calibrates the clock;
 * irq_before_entry() injects a pending interrupt (or asks for a window)
 * before each VM entry; irq_halt() waits, for a HLT with IF=1, until an
 * interrupt is pending or nothing can wake the guest. */
void irq_init(struct hv *h);
void irq_before_entry(struct hv *h);
void irq_halt(struct hv *h);

/* gva.c: copy between hv and the guest's linear address space, walking the
 * guest's own page tables when it has paging on.  Returns 0, or -1 when a
 * byte is not mapped or not in guest RAM. */
int guest_read_linear(const struct vcpu *v, uint64_t gva, void *buf, uint64_t len);
int guest_write_linear(const struct vcpu *v, uint64_t gva, const void *buf, uint64_t len);

#endif
