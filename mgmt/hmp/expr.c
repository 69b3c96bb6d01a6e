/*
 * The monitor's expression evaluator (expr.h): a recursive-descent parser
 * over the grammar in expr.h.  QEMU's jumps out of the recursion with
 * siglongjmp on the first error; here an error flag in the parser's state
 * makes every level return at once, which reads more plainly in C.
 */
#include "expr.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>

/* The parser's state: where it is, where errors go, how registers are
 * read, and whether an error has been reported. */
struct expr {
    const char *p;
    FILE *out;
    hmp_reg_fn reg;
    void *ctx;
    bool failed;
};

/* Report the first error (later ones are consequences of it). */
static int64_t fail(struct expr *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int64_t fail(struct expr *e, const char *fmt, ...)
{
    if (!e->failed) {
        va_list ap;
        va_start(ap, fmt);
        vfprintf(e->out, fmt, ap);
        va_end(ap);
        fputc('\n', e->out);
    }
    e->failed = true;
    return 0;
}

static void skip_spaces(struct expr *e)
{
    while (isspace((unsigned char)*e->p))
        e->p++;
}

/* Step over the operator or bracket under the cursor and the spaces after
 * it (QEMU's next(): nothing moves at the end of the line). */
static void next(struct expr *e)
{
    if (*e->p != '\0') {
        e->p++;
        skip_spaces(e);
    }
}

static int64_t sum(struct expr *e);

/* '$NAME': a register of the current vCPU.  Names are letters, digits, '_'
 * and '.' (for "cs.base"), as QEMU reads them. */
static int64_t reg(struct expr *e)
{
    char name[128];
    size_t n = 0;
    e->p++;
    while (isalnum((unsigned char)*e->p) || *e->p == '_' || *e->p == '.') {
        if (n < sizeof(name) - 1)
            name[n++] = *e->p;
        e->p++;
    }
    name[n] = '\0';
    skip_spaces(e);
    int64_t v = 0;
    if (!e->reg || e->reg(e->ctx, name, &v) < 0)
        return fail(e, "unknown register");
    return v;
}

/* A number in C notation, read with strtoull as QEMU does (so 0x, 0 and
 * decimal, and values up to 2^64 - 1 that then read as negative). */
static int64_t number(struct expr *e)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(e->p, &end, 0);
    if (errno == ERANGE)
        return fail(e, "number too large");
    if (end == e->p)
        return fail(e, "invalid char '%c' in expression", *end);
    e->p = end;
    skip_spaces(e);
    return (int64_t)n;
}

/* 'C': a character's code. */
static int64_t character(struct expr *e)
{
    e->p++;
    if (*e->p == '\0')
        return fail(e, "character constant expected");
    int64_t n = (unsigned char)*e->p;
    e->p++;
    if (*e->p != '\'')
        return fail(e, "missing terminating ' character");
    next(e);
    return n;
}

static int64_t unary(struct expr *e)
{
    int64_t n;
    if (e->failed)
        return 0;
    switch (*e->p) {
    case '+':
        next(e);
        return unary(e);
    case '-':
        next(e);
        /* Negation through unsigned arithmetic: -INT64_MIN wraps as in
         * QEMU instead of being undefined behaviour. */
        return (int64_t)(0 - (uint64_t)unary(e));
    case '~':
        next(e);
        return ~unary(e);
    case '(':
        next(e);
        n = sum(e);
        if (e->failed)
            return 0;
        if (*e->p != ')')
            return fail(e, "')' expected");
        next(e);
        return n;
    case '\'':
        return character(e);
    case '$':
        return reg(e);
    case '\0':
        return fail(e, "unexpected end of expression");
    default:
        return number(e);
    }
}

/* Products: * / %; a zero divisor is an error, and INT64_MIN / -1 (which
 * traps on x86) gives INT64_MIN as a wrapping division would. */
static int64_t prod(struct expr *e)
{
    int64_t val = unary(e);
    while (!e->failed && (*e->p == '*' || *e->p == '/' || *e->p == '%')) {
        char op = *e->p;
        next(e);
        int64_t v2 = unary(e);
        if (e->failed)
            return 0;
        if (op == '*') {
            val = (int64_t)((uint64_t)val * (uint64_t)v2);
        } else if (v2 == 0) {
            return fail(e, "division by zero");
        } else if (v2 == -1) {
            val = op == '/' ? (int64_t)(0 - (uint64_t)val) : 0;
        } else {
            val = op == '/' ? val / v2 : val % v2;
        }
    }
    return val;
}

/* Bitwise & | ^, one level above products. */
static int64_t logic(struct expr *e)
{
    int64_t val = prod(e);
    while (!e->failed && (*e->p == '&' || *e->p == '|' || *e->p == '^')) {
        char op = *e->p;
        next(e);
        int64_t v2 = prod(e);
        val = op == '&' ? (val & v2) : op == '|' ? (val | v2) : (val ^ v2);
    }
    return val;
}

/* Sums, the loosest level; wrapping as 64-bit two's complement. */
static int64_t sum(struct expr *e)
{
    int64_t val = logic(e);
    while (!e->failed && (*e->p == '+' || *e->p == '-')) {
        char op = *e->p;
        next(e);
        uint64_t v2 = (uint64_t)logic(e);
        val = (int64_t)(op == '+' ? (uint64_t)val + v2 : (uint64_t)val - v2);
    }
    return val;
}

int hmp_expr(FILE *out, const char **pp, hmp_reg_fn regfn, void *ctx, int64_t *val)
{
    struct expr e = {.p = *pp, .out = out, .reg = regfn, .ctx = ctx};
    skip_spaces(&e);
    int64_t v = sum(&e);
    *pp = e.p;
    if (e.failed)
        return -1;
    *val = v;
    return 0;
}
