/*
 * klib: the small freestanding C library shared by hv and the guests.
 *
 * Neither the hypervisor nor a guest has a libc, so this file declares the
 * few routines they need.  The string routines keep their standard names
 * because the compiler may emit calls to memcpy/memset on its own.  The
 * formatter is also compiled hosted (into unit tests and tools), so its names
 * are prefixed with k to stay out of libc's way.
 */
#ifndef KLIB_H
#define KLIB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef HVKIT_FREESTANDING
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
#else
#include <string.h>
#endif

/* Parse an unsigned number in base 10, 16 (0x prefix) or 8 (0 prefix) when
 * base is 0.  *end is set past the last digit used, like strtoul. */
unsigned long long kstrtoull(const char *s, const char **end, int base);

/* Where formatted output goes: called once per character. */
typedef void (*kputc_fn)(char c, void *ctx);

/* printf-style formatting.  Supports %d %i %u %x %X %o %p %s %c %% with the
 * flags '-', '0', ' ', '+', a width, a precision and the length modifiers
 * hh h l ll z j t.  Returns the number of characters produced. */
int kvformat(kputc_fn out, void *ctx, const char *fmt, va_list ap);
int kformat(kputc_fn out, void *ctx, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* snprintf equivalents: always NUL-terminate when size > 0, return the length
 * the full output would have had. */
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define KARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
