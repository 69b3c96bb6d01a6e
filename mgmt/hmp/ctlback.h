/*
 * The monitor's machine: a struct hmp_backend whose every call is one
 * request of hvkit's control protocol (docs/control-protocol.md) over a
 * connection to the manager.
 */
#ifndef HVKIT_MGMT_HMP_CTLBACK_H
#define HVKIT_MGMT_HMP_CTLBACK_H

#include "ctlconn.h"
#include "hmp.h"

/* The backend; its ctx is a struct ctlc. */
extern const struct hmp_backend hmp_ctl_backend;

#endif
