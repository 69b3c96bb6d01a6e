/*
 * klib's printf engine, shared by hv, the guests and (hosted) the unit tests.
 *
 * One function, kvformat(), walks the format string and hands every output
 * character to a callback, so the same code prints to a UART, fills a buffer
 * or counts characters.  It needs no floating point and no libc.
 */
#include <klib.h>

struct spec {
    bool left;     /* '-': pad on the right */
    bool zero;     /* '0': pad numbers with zeros */
    bool plus;     /* '+': always print a sign */
    bool space;    /* ' ': a space where a plus sign would go */
    bool alt;      /* '#': 0x prefix for %x, 0 for %o */
    int width;     /* minimum field width */
    int precision; /* -1 when absent */
};

struct sink {
    kputc_fn out;
    void *ctx;
    int count;
};

static void emit(struct sink *s, char c)
{
    s->out(c, s->ctx);
    s->count++;
}

static void pad(struct sink *s, char c, int n)
{
    while (n-- > 0)
        emit(s, c);
}

/* Print a string field honouring width, precision and '-'. */
static void put_str(struct sink *s, const struct spec *sp, const char *str)
{
    if (!str)
        str = "(null)";
    int len = (int)strnlen(str, sp->precision >= 0 ? (size_t)sp->precision : (size_t)-1);
    if (!sp->left)
        pad(s, ' ', sp->width - len);
    for (int i = 0; i < len; i++)
        emit(s, str[i]);
    if (sp->left)
        pad(s, ' ', sp->width - len);
}

/* Print an integer: magnitude v, a sign flag, and the base. */
static void put_num(struct sink *s, const struct spec *sp, unsigned long long v, bool neg,
                    unsigned base, bool upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char buf[24]; /* 2^64 in octal has 22 digits */
    int n = 0;

    do {
        buf[n++] = digits[v % base];
        v /= base;
    } while (v);
    /* A precision is a minimum digit count; "%.0d" of 0 prints nothing. */
    if (sp->precision == 0 && n == 1 && buf[0] == '0')
        n = 0;
    int zeros = sp->precision > n ? sp->precision - n : 0;

    char sign = neg ? '-' : sp->plus ? '+' : sp->space ? ' ' : 0;
    const char *prefix = "";
    if (sp->alt && base == 16 && !(n == 1 && buf[0] == '0'))
        prefix = upper ? "0X" : "0x";
    else if (sp->alt && base == 8 && zeros == 0)
        prefix = "0";
    int plen = (int)strlen(prefix) + (sign ? 1 : 0);

    int total = plen + zeros + n;
    /* The '0' flag pads between the sign/prefix and the digits; it is ignored
     * with a precision or with '-', as in C. */
    if (sp->zero && !sp->left && sp->precision < 0 && sp->width > total) {
        zeros += sp->width - total;
        total = sp->width;
    }
    if (!sp->left)
        pad(s, ' ', sp->width - total);
    if (sign)
        emit(s, sign);
    for (const char *p = prefix; *p; p++)
        emit(s, *p);
    pad(s, '0', zeros);
    while (n)
        emit(s, buf[--n]);
    if (sp->left)
        pad(s, ' ', sp->width - total);
}

int kvformat(kputc_fn out, void *ctx, const char *fmt, va_list ap)
{
    struct sink s = {out, ctx, 0};

    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            emit(&s, *fmt);
            continue;
        }
        fmt++;
        struct spec sp = {.precision = -1};

        for (;; fmt++) {
            if (*fmt == '-')
                sp.left = true;
            else if (*fmt == '0')
                sp.zero = true;
            else if (*fmt == '+')
                sp.plus = true;
            else if (*fmt == ' ')
                sp.space = true;
            else if (*fmt == '#')
                sp.alt = true;
            else
                break;
        }
        if (*fmt == '*') {
            sp.width = va_arg(ap, int);
            if (sp.width < 0) {
                sp.left = true;
                sp.width = -sp.width;
            }
            fmt++;
        } else {
            while (*fmt >= '0' && *fmt <= '9')
                sp.width = sp.width * 10 + (*fmt++ - '0');
        }
        if (*fmt == '.') {
            fmt++;
            sp.precision = 0;
            if (*fmt == '*') {
                sp.precision = va_arg(ap, int);
                if (sp.precision < 0)
                    sp.precision = -1;
                fmt++;
            } else {
                while (*fmt >= '0' && *fmt <= '9')
                    sp.precision = sp.precision * 10 + (*fmt++ - '0');
            }
        }

        /* Length modifiers: remember how wide the argument is. */
        int len = 0; /* -2 hh, -1 h, 0 int, 1 long, 2 long long, 3 size_t/intmax/ptrdiff */
        if (*fmt == 'h') {
            len = -1;
            if (*++fmt == 'h') {
                len = -2;
                fmt++;
            }
        } else if (*fmt == 'l') {
            len = 1;
            if (*++fmt == 'l') {
                len = 2;
                fmt++;
            }
        } else if (*fmt == 'z' || *fmt == 'j' || *fmt == 't') {
            len = 3;
            fmt++;
        }

        switch (*fmt) {
        case 'd':
        case 'i': {
            long long v;
            if (len == 2 || len == 3)
                v = va_arg(ap, long long);
            else if (len == 1)
                v = va_arg(ap, long);
            else
                v = va_arg(ap, int);
            if (len == -1)
                v = (short)v;
            else if (len == -2)
                v = (signed char)v;
            bool neg = v < 0;
            put_num(&s, &sp, neg ? -(unsigned long long)v : (unsigned long long)v, neg, 10, false);
            break;
        }
        case 'u':
        case 'x':
        case 'X':
        case 'o': {
            unsigned long long v;
            if (len == 2 || len == 3)
                v = va_arg(ap, unsigned long long);
            else if (len == 1)
                v = va_arg(ap, unsigned long);
            else
                v = va_arg(ap, unsigned int);
            if (len == -1)
                v = (unsigned short)v;
            else if (len == -2)
                v = (unsigned char)v;
            unsigned base = *fmt == 'u' ? 10 : *fmt == 'o' ? 8 : 16;
            put_num(&s, &sp, v, false, base, *fmt == 'X');
            break;
        }
        case 'p': {
            sp.alt = true;
            put_num(&s, &sp, (uintptr_t)va_arg(ap, void *), false, 16, false);
            break;
        }
        case 's':
            put_str(&s, &sp, va_arg(ap, const char *));
            break;
        case 'c': {
            char c[2] = {(char)va_arg(ap, int), 0};
            sp.precision = 1;
            /* A NUL character still counts as one character of output. */
            if (!c[0]) {
                if (!sp.left)
                    pad(&s, ' ', sp.width - 1);
                emit(&s, 0);
                if (sp.left)
                    pad(&s, ' ', sp.width - 1);
            } else {
                put_str(&s, &sp, c);
            }
            break;
        }
        case '%':
            emit(&s, '%');
            break;
        case 0:
            /* A lone '%' at the end of the string: print it and stop. */
            emit(&s, '%');
            return s.count;
        default:
            /* Unknown conversion: show it as written rather than guess. */
            emit(&s, '%');
            emit(&s, *fmt);
            break;
        }
    }
    return s.count;
}

int kformat(kputc_fn out, void *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvformat(out, ctx, fmt, ap);
    va_end(ap);
    return n;
}

struct bufctx {
    char *buf;
    size_t size;
    size_t pos;
};

static void buf_putc(char c, void *ctx)
{
    struct bufctx *b = ctx;
    if (b->pos + 1 < b->size)
        b->buf[b->pos] = c;
    b->pos++;
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct bufctx b = {buf, size, 0};
    int n = kvformat(buf_putc, &b, fmt, ap);
    if (size)
        buf[b.pos < size ? b.pos : size - 1] = 0;
    return n;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

static int digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    return 99;
}

unsigned long long kstrtoull(const char *s, const char **end, int base)
{
    unsigned long long v = 0;
    if (base == 0) {
        if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && digit_value(s[2]) < 16) {
            base = 16;
            s += 2;
        } else if (s[0] == '0') {
            base = 8;
        } else {
            base = 10;
        }
    } else if (base == 16 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') &&
               digit_value(s[2]) < 16) {
        s += 2;
    }
    while (digit_value(*s) < base)
        v = v * (unsigned)base + (unsigned)digit_value(*s++);
    if (end)
        *end = s;
    return v;
}
