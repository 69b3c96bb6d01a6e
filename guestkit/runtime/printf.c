/*
 * printf and friends for guests: klib's kvformat does the formatting, the
 * serial driver carries each character out.
 */
#include <stdarg.h>

#include "klib.h"
#include "guestkit/console.h"

/* Where characters go: COM1 unless a driver took the console over
 * (console_set_output(), e.g. virtio_console_take_output()). */
static void (*console_out)(char c) = serial_putc;

void console_set_output(void (*out)(char c))
{
    console_out = out ? out : serial_putc;
}

/* kvformat's output callback: one character to the console. */
static void console_putc(char c, void *ctx)
{
    (void)ctx;
    console_out(c);
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
    console_out((char)c);
    return (unsigned char)c;
}

int puts(const char *s)
{
    int n = 0;
    while (s[n])
        console_out(s[n++]);
    console_out('\n');
    return n + 1;
}
