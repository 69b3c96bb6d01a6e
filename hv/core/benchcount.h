/*
 * benchcount.h - counters of what hv does on its exit path, for the exit
 * benchmark (bench/hv/run.sh), compiled in only with `make -C hv
 * BENCH_COUNT=1` (which defines HV_BENCH_COUNT); in the ordinary image
 * BENCH_COUNT() is nothing at all.
 *
 * Counted: VMREADs and VMWRITEs (VT-x: the guest state lives in the VMCS,
 * and each access is an instruction an emulator interprets), reads of the
 * clock (RDTSC, which the timers need), and accesses to the outer machine's
 * ports (hv's own console).  hv prints the totals as its last words
 * before the exit line; run.sh turns them into counts per exit.
 */
#ifndef HV_CORE_BENCHCOUNT_H
#define HV_CORE_BENCHCOUNT_H

#include <stdint.h>

struct bench_counts {
    uint64_t vmreads, vmwrites, clock_reads, outer_io;
};

#ifdef HV_BENCH_COUNT
extern struct bench_counts bench_counts;
#define BENCH_COUNT(field) (bench_counts.field++)
#else
#define BENCH_COUNT(field) ((void)0)
#endif

#endif
