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
 * FAST_PATH, the mark on the functions of the exit fast path alone
 * (fastpath.h: the backend's run() and world switch, the core's two steps,
 * advance(), the write-back before the entry), and on the reference
 * host's loop (floor.c).  Their section, .text.fastpath, comes first, on a
 * page of its own, so that a fast exit touches one or two pages of code:
 * on Bochs each page a round trip touches costs it about as much as
 * twenty-five instructions (bench/hv/README.md).
 */
#define FAST_PATH __attribute__((section(".text.fastpath")))

#endif
