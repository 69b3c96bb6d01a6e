/*
 * x, xp and print's output (memdump.h).  The widths follow QEMU: a value
 * of N bits takes N/4 hex digits, ceil(N/3) octal digits and
 * ceil(N*10/33) decimal digits (enough for 2^N - 1), right-aligned.
 */
#include "memdump.h"

#include <inttypes.h>

void hmp_printc(FILE *out, int c)
{
    fputc('\'', out);
    if (c == '\'')
        fputs("\\'", out);
    else if (c == '\\')
        fputs("\\\\", out);
    else if (c == '\n')
        fputs("\\n", out);
    else if (c == '\r')
        fputs("\\r", out);
    else if (c >= 32 && c <= 126)
        fputc(c, out);
    else
        fprintf(out, "\\x%02x", c);
    fputc('\'', out);
}

/* A unit of `size` bytes from `p`, little-endian as the guest stores it. */
static uint64_t load(const uint8_t *p, int size)
{
    uint64_t v = 0;
    for (int i = size - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* How many digits a value of `size` bytes takes in `format`. */
static int digits(int format, int size)
{
    int bits = size * 8;
    if (format == 'o')
        return (bits + 2) / 3;
    if (format == 'u' || format == 'd')
        return (bits * 10 + 32) / 33;
    return bits / 4;
}

/* One unit, with the space before it. */
static void unit(FILE *out, int format, int width, uint64_t v)
{
    fputc(' ', out);
    switch (format) {
    case 'o':
        fprintf(out, "%#*" PRIo64, width, v);
        break;
    case 'u':
        fprintf(out, "%*" PRIu64, width, v);
        break;
    case 'd':
        /* Only 8-byte units can print negative: smaller ones were loaded
         * zero-extended, as in QEMU. */
        fprintf(out, "%*" PRId64, width, (int64_t)v);
        break;
    case 'c':
        hmp_printc(out, (int)v);
        break;
    default:
        fprintf(out, "0x%0*" PRIx64, width, v);
        break;
    }
}

void hmp_memory_dump(FILE *out, long count, int format, int size, uint64_t addr, hmp_read_fn read,
                     void *ctx)
{
    if (format == 'i') {
        fprintf(out, "hvkit's monitor has no disassembler: use /x, or gdb on a "
                     "dump-guest-memory core\n");
        return;
    }
    /* LAB 05: BEGIN memory-dump (labs/05-domains-and-the-monitor, exercise 3) */
    /* LAB 05: HINT Print `count` units of `size` bytes (1, 2, 4 or 8) from
     * `addr` in `format` ('x', 'o', 'u', 'd' or 'c') as QEMU 7.2 does:
     * lines of 8 bytes for byte units and of 16 bytes otherwise, each led
     * by its address in 16 hex digits and a colon; every unit after a
     * space, right-aligned to the digits a unit of its size can need
     * (digits()), as unit() prints it from its little-endian bytes
     * (load()).  Read each line's bytes through read(ctx, ...); when that
     * fails, the line says " Cannot access memory" and the dump ends.
     * QEMU reckons the length and the line from the size asked for and
     * only then prints /c one byte at a time: `x /4cw` shows 16
     * characters.  The skeleton prints nothing. */
    /* LAB 05: STUB (void)count; */
    /* LAB 05: STUB (void)size; */
    /* LAB 05: STUB (void)addr; */
    /* LAB 05: STUB (void)read; */
    /* LAB 05: STUB (void)ctx; */
    /* LAB 05: STUB (void)digits; */
    /* LAB 05: STUB (void)unit; */
    /* LAB 05: STUB (void)load; */
    /* QEMU computes the length and the line size from the size asked for,
     * and only then makes /c read single bytes: `x /4cw` prints 16
     * characters on one line. */
    long len = (long)size * count;
    int line = size == 1 ? 8 : 16;
    int width = digits(format, size);
    if (format == 'c')
        size = 1;
    while (len > 0) {
        uint8_t buf[16];
        int n = len > line ? line : (int)len;
        fprintf(out, "%016" PRIx64 ":", addr);
        if (read(ctx, addr, buf, (size_t)n) < 0) {
            fprintf(out, " Cannot access memory\n");
            return;
        }
        for (int i = 0; i < n; i += size)
            unit(out, format, width, load(buf + i, size));
        fputc('\n', out);
        addr += (uint64_t)n;
        len -= n;
    }
    /* LAB 05: END */
}

void hmp_print_value(FILE *out, int format, uint64_t val)
{
    switch (format) {
    case 'o':
        fprintf(out, "%#" PRIo64, val);
        break;
    case 'x':
        fprintf(out, "%#" PRIx64, val);
        break;
    case 'u':
        fprintf(out, "%" PRIu64, val);
        break;
    case 'c':
        hmp_printc(out, (int)val);
        break;
    default:
        fprintf(out, "%" PRId64, (int64_t)val);
        break;
    }
    fputc('\n', out);
}
