/*
 * Sizes as libvirt's tools read and print them (see size.h).
 *
 * The rules were taken from the behaviour of Debian's virsh 9.0 (test
 * driver) and libvirt's documented "scaled integer" syntax in virsh(1): a
 * value like 1.5G is refused, since libvirt reads integers only, and a value
 * whose scaled size does not fit in 64 bits is an overflow.
 */
#include "size.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

/* The power of 1024 (or 1000) that a suffix letter stands for, or -1. */
static int suffix_power(char letter)
{
    static const char letters[] = "kmgtpe";
    for (int i = 0; letters[i]; i++) {
        if (tolower((unsigned char)letter) == letters[i])
            return i + 1;
    }
    return -1;
}

/* The multiplier a suffix stands for, or 0 when libvirt would not accept it.
 * An empty suffix means the caller's own unit. */
static uint64_t suffix_multiplier(const char *suffix, uint64_t scale)
{
    if (!*suffix)
        return scale;
    if (!strcasecmp(suffix, "b") || !strcasecmp(suffix, "byte") || !strcasecmp(suffix, "bytes"))
        return 1;
    int power = suffix_power(suffix[0]);
    if (power < 0)
        return 0;
    uint64_t base;
    if (!suffix[1] || !strcasecmp(suffix + 1, "iB")) {
        base = 1024; /* k, KiB: the binary units virsh uses by default */
    } else if (tolower((unsigned char)suffix[1]) == 'b' && !suffix[2]) {
        base = 1000; /* KB, MB: the decimal units a disk vendor would use */
    } else {
        return 0;
    }
    uint64_t mult = 1;
    for (int i = 0; i < power; i++)
        mult *= base; /* at most 1024^6 = 2^60: cannot overflow */
    return mult;
}

bool size_parse_scaled(const char *text, uint64_t scale, uint64_t *out, char *why, size_t whylen)
{
    char *end;
    *why = '\0';
    /* strtoull accepts a sign and wraps "-1" around; libvirt refuses both,
     * so the text must begin with a digit. */
    if (!isdigit((unsigned char)text[0]))
        return false;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno == ERANGE)
        return false;
    uint64_t mult = suffix_multiplier(end, scale);
    if (!mult) {
        snprintf(why, whylen, "invalid argument: unknown suffix '%s'", end);
        return false;
    }
    if (value > UINT64_MAX / mult) {
        snprintf(why, whylen, "numerical overflow: value too large: %s", text);
        return false;
    }
    *out = value * mult;
    return true;
}

void size_pretty(uint64_t bytes, char *buf, size_t len)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double value = (double)bytes;
    int unit = 0;
    /* Divide while the next unit still gives a value of at least one. */
    while (unit < 6 && value >= 1024.0) {
        value /= 1024.0;
        unit++;
    }
    snprintf(buf, len, "%.2f %s", value, units[unit]);
}
