/*
 * log.c - hv's line-oriented log on the host console (protocol in
 * include/hvkit/abi.h: hv lines start with "[hv] ", guest lines pass through
 * whole).
 */
#include "hvkit/abi.h"
#include "klib.h"

#include "log.h"

void serial_putc(char c);

/* Longest line hv prints; longer messages are cut (never split, so that a
 * reader never sees half a line without the prefix). */
#define LOG_LINE_MAX 512

/* kvformat() callback: append to a fixed buffer, dropping what overflows. */
struct line_buf {
    char text[LOG_LINE_MAX];
    size_t len;
};

static void line_putc(char c, void *ctx)
{
    struct line_buf *b = ctx;
    /* A newline inside a message would start a line without the prefix:
     * show it as a space instead. */
    if (c == '\n' || c == '\r')
        c = ' ';
    if (b->len < sizeof(b->text))
        b->text[b->len++] = c;
}

static void put_line(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        serial_putc(s[i]);
    /* Plain LF: bin/hvrun and a terminal both read lines that way. */
    serial_putc('\n');
}

void hv_vlog(const char *fmt, va_list ap)
{
    struct line_buf b = {.len = 0};
    /* Prefix first, then the message, so every hv line is recognisable. */
    kformat(line_putc, &b, "%s", HVKIT_LOG_PREFIX);
    kvformat(line_putc, &b, fmt, ap);
    put_line(b.text, b.len);
}

void hv_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hv_vlog(fmt, ap);
    va_end(ap);
}

void log_guest_line(const char *s, size_t len)
{
    put_line(s, len);
}
