/*
 * The host's time-stamp counter rate, which xl shows as the host's CPU
 * frequency (xl info's cpu_mhz, xentop's header).
 */
#ifndef HVKIT_MGMT_TSC_H
#define HVKIT_MGMT_TSC_H

#include <stdint.h>

/* The host's TSC ticks per second (measured once, over 20 ms). */
double tsc_host_hz(void);

#endif
