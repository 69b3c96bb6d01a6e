/*
 * What domain.c shares with the other domain command files (snapshot.c,
 * domdisk.c).
 */
#ifndef HVKIT_VIRSH_DOMAIN_H
#define HVKIT_VIRSH_DOMAIN_H

#include "store.h"
#include "virsh.h"

/* Find the domain a command names in its "domain" option, printing
 * virsh's "failed to get domain" when there is none. */
bool dom_lookup(const struct cmd_call *call, struct dom *out);

#endif
