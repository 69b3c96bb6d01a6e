/*
 * printf and friends for guests: klib's kvformat does the formatting, the
 * serial driver carries each character out.
 */
#include <stdarg.h>

#include "klib.h"
#include "guestkit/console.h"

/* kvformat's output callback: one character to COM1. */
static void console_putc(char c, void *ctx)
{
    (void)ctx;
    serial_putc(c);
}

int vprintf(const char *fmt, va_list ap)
{
    return kvformat(console_putc, NULL, fmt, ap);
}

int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}

int putchar(int c)
{
    serial_putc((char)c);
    return (unsigned char)c;
}

int puts(const char *s)
{
    int n = 0;
    while (s[n])
        serial_putc(s[n++]);
    serial_putc('\n');
    return n + 1;
}
