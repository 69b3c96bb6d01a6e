/*
 * xcr.h - the rules for XCR0, the extended control register XSETBV writes
 * (SDM vol 1 13.3 "Enabling the XSAVE Feature Set and XSAVE-Enabled
 * Features", vol 2D "XSETBV--Set Extended Control Register").  VT-x makes
 * every XSETBV exit (SDM vol 3C 26.1.2 "Instructions That Cause VM Exits
 * Unconditionally"), so the core checks the value as the CPU would before
 * it executes XSETBV for the guest.  Pure: compiled hosted too
 * (tests/unit/test_hv_core.c).
 */
#ifndef HV_CORE_XCR_H
#define HV_CORE_XCR_H

#include <stdbool.h>
#include <stdint.h>

/* XCR0 state-component bits (SDM vol 1 13.1 "XSAVE-Supported Features and
 * State-Component Bitmaps"). */
#define XCR0_X87      (1ull << 0)
#define XCR0_SSE      (1ull << 1)
#define XCR0_AVX      (1ull << 2)
#define XCR0_BNDREGS  (1ull << 3)
#define XCR0_BNDCSR   (1ull << 4)
#define XCR0_AVX512   (7ull << 5) /* opmask, ZMM_Hi256, Hi16_ZMM */
#define XCR0_TILECFG  (1ull << 17)
#define XCR0_TILEDATA (1ull << 18)

/* May XSETBV load `value` into XCR0 on a CPU that supports the components
 * in `supported` (CPUID.(EAX=0DH,ECX=0):EDX:EAX)?  False means #GP(0). */
bool xcr0_valid(uint64_t value, uint64_t supported);

#endif
