/*
 * hv.h - the state of the one running guest, shared by the core's files.
 */
#ifndef HV_CORE_HV_H
#define HV_CORE_HV_H

#include "backend.h"
#include "cmdline.h"
#include "dev/debug_exit.h"
#include "dev/fwcfg.h"
#include "dev/iobus.h"
#include "dev/pic8259.h"
#include "dev/pit8254.h"
#include "dev/port92.h"
#include "dev/uart16550.h"
#include "gva.h" /* guest memory by linear and physical address */
#include "stats.h"
#include "vcpu.h"

struct hv {
    /* hv's command-line options (mem=, trace, vendor=). */
    struct hv_options opt;
    /* The backend chosen at start-up: SVM or VT-x. */
    const struct backend *be;
    /* The guest CPU as the core sees it, and its memory. */
    struct vcpu vcpu;
    /* The guest's port space, and the devices on it. */
    struct iobus bus;
    /* COM1 at 0x3f8: the guest's console. */
    struct uart16550 com1;
    /* Port 0xf4: the guest's exit code. */
    struct debug_exit dbg_exit;
    /* QEMU's fw_cfg at 0x510/0x511 and System Control Port A at 0x92. */
    struct fwcfg fwcfg;
    struct port92 port92;
    /* The 8259A pair (IRQ 0-15) and the 8254 timer, driven by irq.c. */
    struct pic8259 pic;
    struct pit8254 pit;
    /* The backend can inject interrupts (HVKIT_FEATURE_IRQ advertised). */
    bool irq;
    /* An interrupt window is being asked for (backend->irq_window). */
    bool irq_window;
    /* Exits counted per reason, printed when the guest ends. */
    struct exit_stats stats;
    /* Set once the guest has started: statistics are printed only then. */
    bool guest_started;
};

/* Defined in main.c.  Most code takes a `struct hv *` instead, so that it
 * does not depend on there being exactly one. */
extern struct hv hv;

/* dispatch.c: handle one exit; returns only if the guest goes on. */
void dispatch(struct hv *h, struct exit_info *e);

/* hypercall.c: the VMMCALL/VMCALL ABI of include/hvkit/abi.h.  hypercall()
 * runs the call in RAX (or refuses it: HC_EPERM from a ring without the
 * call's privilege, HC_ENOSYS for an unknown number); hypercall_ends_guest()
 * says beforehand whether it will end the guest (HC_EXIT, allowed), and
 * hypercall_name() names a call number for the trace. */
void hypercall(struct hv *h);
bool hypercall_ends_guest(const struct hv *h);
const char *hypercall_name(uint64_t nr);

/* irq.c: the guest's interrupt controller and timer, and delivery.
 * irq_init() adds the PIC and PIT to the bus and calibrates the clock;
 * irq_before_entry() injects a pending interrupt (or asks for a window)
 * before each VM entry; irq_halt() waits, for a HLT with IF=1, until an
 * interrupt is pending or nothing can wake the guest. */
void irq_init(struct hv *h);
void irq_before_entry(struct hv *h);
void irq_halt(struct hv *h);

#endif
