/*
 * `info status` wording (QEMU 7.2 hmp_info_status) and the map from hv's
 * domain states, which are Xen's, to QEMU's run states.
 */
#ifndef HVKIT_MGMT_HMP_STATUS_H
#define HVKIT_MGMT_HMP_STATUS_H

#include "hmp.h"

/* "VM status: running", "VM status: paused", or for a stopped machine
 * that is not simply paused "VM status: paused (shutdown)" and the like. */
void hmp_print_status(FILE *out, const struct hmp_status *st);

/* QEMU's run state for a domain state as hv and Xen name it ("running",
 * "blocked", "paused", "shutdown", "crashed", "dying"), and whether QEMU
 * would call the machine running; an unknown name maps to itself, paused. */
const char *hmp_runstate(const char *domain_state, bool *running);

#endif
