/*
 * Sizes as qemu-img reads and prints them.
 *
 * parse_size() follows QEMU's qemu_strtosz() (util/cutils.c, do_strtosz):
 * the integral part is decimal; "0x" switches to hexadecimal, which takes
 * neither a fraction nor a suffix; a decimal fraction needs a suffix other
 * than 'B' and may not carry an exponent; the suffix letters are binary
 * powers of 1024; the exact product is rounded half up and must fit in 64
 * bits.  Sizes are printed by img_size_to_str() (lib/hosted/qemu_text.c).
 */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Multiplier of one suffix letter, 0 for anything else. */
static uint64_t suffix_mul(char c)
{
    switch (toupper((unsigned char)c)) {
    case 'B':
        return 1;
    case 'K':
        return 1ULL << 10;
    case 'M':
        return 1ULL << 20;
    case 'G':
        return 1ULL << 30;
    case 'T':
        return 1ULL << 40;
    case 'P':
        return 1ULL << 50;
    case 'E':
        return 1ULL << 60;
    }
    return 0;
}

int parse_size(const char *s, uint64_t *out)
{
    const char *p = s;
    char *end;
    uint64_t val, valf = 0;

    /* qemu_strtou64() skips leading blanks and rejects a minus sign
     * (do_strtosz checks for '-' in the parsed span). */
    while (isspace((unsigned char)*p)) {
        p++;
    }
    if (*p == '-' || !isdigit((unsigned char)*p)) {
        /* strtoull would accept "+5"; QEMU's qemu_strtou64 does too, but
         * a leading non-digit is rare enough; only '+' is let through. */
        if (*p != '+') {
            return -EINVAL;
        }
    }
    errno = 0;
    val = strtoull(p, &end, 10);
    if (end == p) {
        return -EINVAL;
    }
    if (errno == ERANGE) {
        return -ERANGE;
    }
    bool hex = false;
    if (val == 0 && (*end == 'x' || *end == 'X')) {
        /* Hexadecimal: reparse, and insist on no fraction.  QEMU 7.2 still
         * accepts a suffix after it, with a deprecation warning. */
        errno = 0;
        val = strtoull(p, &end, 16);
        if (errno == ERANGE) {
            return -ERANGE;
        }
        if (*end == '.') {
            return -EINVAL;
        }
        hex = true;
    } else if (*end == '.') {
        /* A fraction: parsed as a double, without exponent, and kept as a
         * 64-bit fixed-point number so the product below is exact. */
        char *fend;
        double fraction = strtod(end, &fend);
        if (fend == end) {
            /* "1." or "1.k": a lone dot counts as a zero fraction. */
            fend = end + 1;
            fraction = 0;
        }
        for (const char *q = end; q < fend; q++) {
            if (*q == 'e' || *q == 'E') {
                return -EINVAL;
            }
        }
        valf = (uint64_t)(fraction * 0x1p64);
        end = fend;
    }
    uint64_t mul = suffix_mul(*end);
    if (mul) {
        if (hex) {
            error_report("warning: Using a multiplier suffix on hex numbers is deprecated: %s", s);
        }
        end++;
    } else {
        mul = 1; /* the default suffix is 'B' */
    }
    if (*end) {
        return -EINVAL;
    }
    if (mul == 1) {
        /* A fraction needs a scale. */
        if (valf) {
            return -EINVAL;
        }
        *out = val;
        return 0;
    }
    /* 64.64 fixed point times the multiplier, into 128 bits. */
    unsigned __int128 whole = (unsigned __int128)val * mul;
    unsigned __int128 frac = (unsigned __int128)valf * mul;
    whole += frac >> 64;
    /* Round 0.5 upward. */
    whole += ((uint64_t)frac) >> 63;
    if (whole >> 64) {
        return -ERANGE;
    }
    *out = (uint64_t)whole;
    return 0;
}

int64_t cvtnum_full(const char *name, const char *value, int64_t min, int64_t max)
{
    uint64_t res = 0;
    int err = parse_size(value, &res);
    if (err < 0 && err != -ERANGE) {
        error_report("Invalid %s specified. You may use k, M, G, T, P or E suffixes for", name);
        error_report("kilobytes, megabytes, gigabytes, terabytes, petabytes and exabytes.");
        return err;
    }
    if (err == -ERANGE || res > (uint64_t)max || (int64_t)res < min) {
        error_report("Invalid %s specified. Must be between %lld and %lld.", name, (long long)min,
                     (long long)max);
        return -ERANGE;
    }
    return (int64_t)res;
}

int64_t cvtnum(const char *name, const char *value)
{
    return cvtnum_full(name, value, 0, INT64_MAX);
}
