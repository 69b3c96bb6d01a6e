/*
 * The string and memory routines of klib (freestanding builds only; hosted
 * builds use libc's).  Plain loops, written for reading.  memcpy and memset
 * move eight bytes at a time where both ends allow it: hv calls them on
 * every VM exit (svm/exit.c copies part of the VMCB, the exit record is
 * cleared), where a byte loop cost more than the exit's own emulation.
 */
#include <klib.h>

/* True when p is a multiple of 8, so it can be accessed as a uint64_t. */
static bool aligned8(const void *p)
{
    return ((uintptr_t)p & 7) == 0;
}

void *memcpy(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    /* Whole words while both pointers are aligned; may_alias tells the
     * compiler these accesses may overlap objects of any type. */
    typedef uint64_t __attribute__((may_alias)) word;
    if (aligned8(d) && aligned8(s)) {
        for (; n >= 8; n -= 8, d += 8, s += 8)
            *(word *)d = *(const word *)s;
    }
    /* The rest (or everything, when unaligned) byte by byte. */
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d < s) {
        while (n--)
            *d++ = *s++;
    } else {
        /* Copy backwards so an overlapping source is read before it is overwritten. */
        while (n--)
            d[n] = s[n];
    }
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    /* The byte repeated in all eight bytes of a word. */
    typedef uint64_t __attribute__((may_alias)) word;
    uint64_t w = (unsigned char)c * 0x0101010101010101ull;
    if (aligned8(d)) {
        for (; n >= 8; n -= 8, d += 8)
            *(word *)d = w;
    }
    while (n--)
        *d++ = (unsigned char)c;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x - *y;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

size_t strnlen(const char *s, size_t max)
{
    size_t n = 0;
    while (n < max && s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b)
            return (unsigned char)*a - (unsigned char)*b;
        if (!*a)
            return 0;
    }
    return 0;
}

char *strchr(const char *s, int c)
{
    for (;; s++) {
        if (*s == (char)c)
            return (char *)s;
        if (!*s)
            return NULL;
    }
}
