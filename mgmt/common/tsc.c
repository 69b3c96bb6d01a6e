/*
 * tsc.c: the host's TSC rate (tsc.h).
 */
#include "tsc.h"

#include <time.h>
#include <x86intrin.h>

double tsc_host_hz(void)
{
    static double hz;
    if (hz > 0)
        return hz;
    /* The ticks counted across a 20 ms sleep, against the monotonic
     * clock: close enough for times shown to a tenth of a second. */
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    uint64_t t0 = __rdtsc();
    nanosleep(&(struct timespec){0, 20000000}, NULL);
    uint64_t t1 = __rdtsc();
    clock_gettime(CLOCK_MONOTONIC, &b);
    double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    hz = (double)(t1 - t0) / s;
    return hz;
}
