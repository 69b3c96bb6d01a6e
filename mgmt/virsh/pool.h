/*
 * What pool.c gives vol.c: finding a started pool by name, as every vol-*
 * command does first.
 */
#ifndef HVKIT_VIRSH_POOL_H
#define HVKIT_VIRSH_POOL_H

#include "store.h"

/* Find pool `name` (a name or UUID); prints virsh's "failed to get pool"
 * lines and returns false when there is none. */
bool pool_lookup(const char *name, struct pool *out);

/* Fill a started pool's sizes from its file system (statvfs of its target),
 * as libvirt's dir backend does on a refresh. */
void pool_measure(struct pool *p);

#endif
