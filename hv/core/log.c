/*
 * log.c - hv's line-oriented log on the host console (protocol in
 * include/hvkit/abi.h: hv lines start with "[hv] ", guest lines pass through
 * whole).
 */
#include "hvkit/abi.h"
#include "klib.h"

#include "log.h"

/* serial.c: one byte to the host's COM1.  Not in log.h: only this file
 * writes to the console, so that every byte goes out as part of a line. */
void serial_putc(char c);

/* Longest line hv prints; longer messages are cut (never split, so that a
 * reader never sees half a line without the prefix). */
#define LOG_LINE_MAX 512

/* kvformat() callback: append to a fixed buffer, dropping what overflows. */
struct line_buf {
    char text[LOG_LINE_MAX];
    size_t len;
};

/* Append one character of a formatted message to the line buffer. */
static void line_putc(char c, void *ctx)
{
    struct line_buf *b = ctx;
    /* A newline inside a message would start a line without the prefix:
     * show it as a space instead. */
    if (c == '\n' || c == '\r')
        c = ' ';
    /* Past the end: drop the rest of the message (the line is still
     * complete, just cut short). */
    if (b->len < sizeof(b->text))
        b->text[b->len++] = c;
}

/* Send len bytes and the end of line.  The line is built completely before
 * the first byte goes out, so a fault while formatting cannot leave half a
 * line on the console. */
static void put_line(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        serial_putc(s[i]);
    /* Plain LF: bin/hvrun and a terminal both read lines that way. */
    serial_putc('\n');
}

/* hv_log() with a va_list, for callers that format their own variadic
 * messages.  Not reentrant and not needed to be: hv has one CPU and takes
 * no interrupts. */
void hv_vlog(const char *fmt, va_list ap)
{
    /* On the stack: 512 bytes, well within hv's 64 KiB stack. */
    struct line_buf b = {.len = 0};
    /* Prefix first, then the message, so every hv line is recognisable. */
    kformat(line_putc, &b, "%s", HVKIT_LOG_PREFIX);
    kvformat(line_putc, &b, fmt, ap);
    put_line(b.text, b.len);
}

/* One "[hv] " line, printf-style (klib's format engine), for all of hv. */
void hv_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hv_vlog(fmt, ap);
    va_end(ap);
}

/* One line of guest output, as the guest wrote it (without its newline),
 * for the UART model and HC_PUTS.  No prefix: the protocol says every line
 * without "[hv] " is the guest's.  That makes a line the guest starts with
 * "[hv]" a forgery, to bin/hvrun and to a reader alike: a hostile guest could
 * print a fake "[hv] exit: guest code=0" and then hang.  Such a line, and
 * only such a line, goes out with HVKIT_GUEST_ESCAPE in front of it. */
void log_guest_line(const char *s, size_t len)
{
    /* "[hv]" without the space: a prefix check in any reader that trims
     * blanks must not be fooled either. */
    static const char hv_mark[] = "[hv]";
    if (len >= sizeof(hv_mark) - 1 && memcmp(s, hv_mark, sizeof(hv_mark) - 1) == 0)
        for (const char *e = HVKIT_GUEST_ESCAPE; *e; e++)
            serial_putc(*e);
    put_line(s, len);
}
