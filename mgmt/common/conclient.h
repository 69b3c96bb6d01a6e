/*
 * conclient: a front-end's side of a domain's console (docs/control-
 * protocol.md "Consoles"), shared by hvctl --console, xl console and
 * virsh console.  The manager holds the consoles; a front-end attaches its
 * connection to one with x-console-attach, and from the reply on the
 * connection carries the console's bytes: what the guest prints comes in,
 * what is typed goes out.
 */
#ifndef HVKIT_MGMT_COMMON_CONCLIENT_H
#define HVKIT_MGMT_COMMON_CONCLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "ctlc.h"

/* The escape character that detaches, as both xl and virsh have it: ^]. */
#define CONCLIENT_ESCAPE 0x1d

/* Attach `c` (connected, greeted) to domain `dom`'s console, taking it
 * from another front-end when `force`.  0 when attached; 1 when another
 * front-end holds it (CTL_CONSOLE_BUSY); -1 for any other failure, the
 * manager's words in `why`. */
int conclient_attach(struct ctlc *c, unsigned dom, bool force, char *why, size_t whylen);

/* Copy the console's bytes to stdout and stdin's to the console until the
 * console ends (the domain's machine has ended: returns 1) or, when stdin
 * is a terminal, the escape character is typed (returns 0).  On a
 * terminal stdin is in raw mode meanwhile (keys go to the guest as typed,
 * ^C included) and set back before the return.  Without a terminal, the
 * end of stdin stops only the input: the output goes on to the end. */
int conclient_run(struct ctlc *c);

#endif
