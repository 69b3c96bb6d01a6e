/*
 * exitpath.h - EXIT_PATH, the mark on the functions every common exit runs
 * through (the run loop, the dispatcher, CPUID and port I/O, the backend's
 * run() and state copies, the world switch).
 *
 * The marked functions go into one section, .text.exitpath, which
 * boot/link.ld places at the start of hv's code, so that they lie on a few
 * consecutive pages.  Why it matters: an emulator playing the CPU (QEMU's
 * TCG, Bochs) keeps its own TLB of the pages the code uses and empties it
 * at every world switch, as VMRUN and #VMEXIT (or VM entry and exit) load
 * a new CR3.  Each page hv then touches costs a walk of its page tables in
 * the emulator, more than the few instructions hv runs on that page; the
 * exit path spread over a dozen pages, in the order the linker happened to
 * put the files, cost more than its code.  The mark changes where the code
 * is, never what it does.
 *
 * Plain definitions, compiled hosted too (there the section is just a
 * name).
 */
#ifndef HV_CORE_EXITPATH_H
#define HV_CORE_EXITPATH_H

#define EXIT_PATH __attribute__((section(".text.exitpath")))

/*
 * FAST_PATH, the mark on the functions the exit fast path calls outside
 * its loop (the backend's run() and the write-back before an entry, the
 * preemption timer's value).  Their section, .text.fastpath, comes right
 * after .text.fastloop below.
 */
#define FAST_PATH __attribute__((section(".text.fastpath")))

/*
 * FAST_LOOP, the mark on the code of one fast round trip (fastpath.h): the
 * backends' world switches (enter.S), their fast loops (fastloop.c) and,
 * to compare like with like, the reference host's loops (floor.c).  Their
 * section, .text.fastloop, comes first, from the start of a page, and fits
 * in one: a fast exit touches one page of code, as the reference host's
 * round trip does.  On Bochs each page a round trip touches costs it about
 * as much as twenty-five instructions (bench/hv/README.md).
 */
#define FAST_LOOP __attribute__((section(".text.fastloop")))

#endif
