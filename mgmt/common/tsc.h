/*
 * The host's time-stamp counter, for the times hv reports in TSC ticks
 * (the control protocol's "cpu-tsc": a domain's or one vCPU's time in
 * guest mode).  Under QEMU's TCG the outer machine's TSC ticks at the
 * host's rate, so the host's rate turns those ticks into seconds; xl and
 * virsh both use it, so their times of one vCPU agree.
 */
#ifndef HVKIT_MGMT_TSC_H
#define HVKIT_MGMT_TSC_H

#include <stdint.h>

/* The host's TSC ticks per second (measured once, over 20 ms). */
double tsc_host_hz(void);

/* `ticks` of the host's TSC in seconds (0 when the rate is unknown). */
double tsc_secs(uint64_t ticks);

#endif
