/*
 * xcr.c - XCR0 validity (see xcr.h).
 */
#include "xcr.h"

/* The #GP(0) conditions of XSETBV for XCR0 (SDM vol 2D "XSETBV", and vol
 * 1 13.3), checked in the manual's order. */
bool xcr0_valid(uint64_t value, uint64_t supported)
{
    /* Only components the processor supports may be enabled. */
    if (value & ~supported)
        return false;
    /* x87 state cannot be disabled: bit 0 must be 1. */
    if (!(value & XCR0_X87))
        return false;
    /* AVX needs SSE state (YMM registers extend the XMM registers). */
    if ((value & XCR0_AVX) && !(value & XCR0_SSE))
        return false;
    /* MPX's two components go together. */
    if (!(value & XCR0_BNDREGS) != !(value & XCR0_BNDCSR))
        return false;
    /* AVX-512's three components go together, and need AVX. */
    uint64_t avx512 = value & XCR0_AVX512;
    if (avx512 && (avx512 != XCR0_AVX512 || !(value & XCR0_AVX)))
        return false;
    /* AMX's tile configuration and tile data go together. */
    if (!(value & XCR0_TILECFG) != !(value & XCR0_TILEDATA))
        return false;
    return true;
}
