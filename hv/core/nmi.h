/*
 * nmi.h - non-maskable interrupts for the guest: the host's NMI button
 * (QEMU's inject-nmi, `xl trigger DOMAIN nmi`, `virsh inject-nmi`), each
 * vCPU's NMI latch, and its delivery through the backend.
 */
#ifndef HV_CORE_NMI_H
#define HV_CORE_NMI_H

#include <stdbool.h>

struct domain;
struct vcpu;

/* Can hv deliver NMIs with this backend (backend.h inject_nmi)? */
bool nmi_supported(const struct domain *d);

/* The host presses the domain's NMI button: every vCPU gets it through its
 * local APIC's LINT1 entry, as QEMU's inject-nmi does on x86.  Returns the
 * number of vCPUs that got an NMI latched (an entry programmed for a fixed
 * vector raises that vector instead, a masked one ignores the pulse). */
unsigned nmi_domain_button(struct domain *d);

/* An NMI arrives at `v`: latched (a second one while one waits is lost,
 * as on hardware), and a vCPU halted in HLT wakes to take it. */
void nmi_raise(struct vcpu *v);

/* HLT with IF=0 on a domain's last running vCPU: while a control channel
 * can send it an NMI, the vCPU stops until one comes (true), as a real CPU
 * waits; without one nothing could ever wake it (false: the caller ends
 * the domain, as before hv had NMIs). */
bool nmi_park(struct vcpu *v);

/* Before an entry with an NMI latched (irq.c, which calls it only then):
 * inject it if the guest can take it now, else ask for the exit that says
 * when it can.  Returns true when that exit is the interrupt window (the
 * NMI waits out an STI shadow, irq.c then keeps the window open). */
bool nmi_before_entry(struct vcpu *v);

#endif
