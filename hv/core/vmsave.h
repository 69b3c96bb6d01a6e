/*
 * vmsave.h: savevm, loadvm and delvm of a domain, as QEMU's monitor has
 * them (vmsave.c): an internal snapshot, with the domain's whole state, of
 * its first writable qcow2 virtio disk.  Each pauses the domain around its
 * work and resumes it unless it was paused before.  Each returns 0, or -1
 * with a message in err (QEMU's wording where it has one); a refused
 * savevm leaves the image as it was, a refused loadvm the domain.
 */
#ifndef HV_CORE_VMSAVE_H
#define HV_CORE_VMSAVE_H

#include <stddef.h>

#include "domain.h"

int domain_savevm(struct domain *d, const char *name, char *err, size_t err_len);
int domain_loadvm(struct domain *d, const char *name, char *err, size_t err_len);
int domain_delvm(struct domain *d, const char *name, char *err, size_t err_len);

struct host;
/*
 * The savevm=, loadvm= and delvm= options (cmdline.h: NAME@MS, carried out
 * on domain 0 once it has run MS milliseconds, in the order given): a
 * stand-in for the control channel's x-savevm, x-loadvm and x-delvm until
 * a front-end sends them, installed as the host's poll hook (hv.h).
 */
void vmsave_poll(struct host *h);

#endif
