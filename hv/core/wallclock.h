/*
 * wallclock.h: the outer machine's date and time (wallclock.c).
 */
#ifndef HV_CORE_WALLCLOCK_H
#define HV_CORE_WALLCLOCK_H

#include <stdint.h>

/* Seconds since 1970-01-01 00:00 UTC, from the CMOS clock; 0 when the
 * clock reads as nonsense. */
uint64_t wallclock_unix_seconds(void);

#endif
