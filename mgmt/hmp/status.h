/*
 * `info status` wording (QEMU 7.2 hmp_info_status).  hv itself names each
 * domain's state as QEMU's run state in query-status (the map from Xen's
 * states is hv's, docs/control-protocol.md).
 */
#ifndef HVKIT_MGMT_HMP_STATUS_H
#define HVKIT_MGMT_HMP_STATUS_H

#include "hmp.h"

/* "VM status: running", "VM status: paused", or for a stopped machine
 * that is not simply paused "VM status: paused (shutdown)" and the like. */
void hmp_print_status(FILE *out, const struct hmp_status *st);

#endif
