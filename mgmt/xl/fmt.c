/*
 * fmt.c: xl's sizes, CPU ranges, uptimes and state letters (fmt.h).
 */
#include "fmt.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

long long xl_mem_kb(const char *s)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    /* One unit letter at most after the digits, as xl's parse_mem_size_kb. */
    if (end == s || errno || v < 0 || strlen(end) > 1)
        return -1;
    switch (tolower((unsigned char)*end)) {
    case 't':
        return v << 30;
    case 'g':
        return v << 20;
    case '\0':
    case 'm':
        return v << 10;
    case 'k':
        return v;
    case 'b':
        return v >> 10;
    default:
        return -1;
    }
}

/* "N" or "N-M" with N <= M; false otherwise. */
static bool range(const char *s, unsigned long *a, unsigned long *b)
{
    char *end;
    if (!isdigit((unsigned char)*s))
        return false;
    *a = *b = strtoul(s, &end, 10);
    if (*end == '-') {
        const char *n = end + 1;
        if (!isdigit((unsigned char)*n))
            return false;
        *b = strtoul(n, &end, 10);
        if (*b < *a)
            return false;
    }
    return *end == '\0';
}

/* One comma-separated piece into `map`. */
static int piece(const char *s, int ncpus, uint64_t *map, FILE *err)
{
    bool not = *s == '^';
    s += not ;
    if (!strcmp(s, "all")) {
        if (not ) {
            fprintf(err, "Can't combine \"^\" and \"all\".\n");
            return -1;
        }
        *map |= ncpus >= 64 ? ~0ull : (1ull << ncpus) - 1;
        return 0;
    }
    unsigned long a, b;
    if (!range(s, &a, &b) || b >= 64) {
        fprintf(err, "Invalid pcpu range: %s.\n", s);
        return -1;
    }
    for (; a <= b; a++)
        *map = not ? *map & ~(1ull << a) : *map | 1ull << a;
    return 0;
}

int xl_cpumap_parse(const char *s, int ncpus, uint64_t *map, FILE *err)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", s);
    *map = 0;
    char *save = NULL;
    for (char *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save))
        if (piece(p, ncpus, map, err) < 0)
            return -1;
    return 0;
}

void xl_cpumap_print(uint64_t map, int ncpus, char *out, size_t len)
{
    uint64_t all = ncpus >= 64 ? ~0ull : (1ull << ncpus) - 1;
    map &= all;
    if (map == all) {
        snprintf(out, len, "all");
        return;
    }
    if (!map) {
        snprintf(out, len, "none");
        return;
    }
    size_t n = 0;
    out[0] = 0;
    for (int i = 0; i < ncpus && n < len; i++) {
        if (!(map >> i & 1))
            continue;
        int j = i;
        while (j + 1 < ncpus && (map >> (j + 1) & 1))
            j++;
        n += (size_t)snprintf(out + n, len - n, j > i ? "%s%d-%d" : "%s%d", n ? "," : "", i, j);
        i = j;
    }
}

void xl_uptime_str(unsigned long secs, bool short_mode, char *out, size_t len)
{
    unsigned long day = secs / 86400, hour = secs / 3600 % 24, min = secs / 60 % 60,
                  sec = secs % 60;
    /* "1 day, " and "N days, " before the clock, as xl's uptime_to_string. */
    char days[32] = "";
    if (day)
        snprintf(days, sizeof(days), "%lu day%s, ", day, day > 1 ? "s" : "");
    if (short_mode)
        snprintf(out, len, "%s%2lu:%02lu", days, hour, min);
    else
        snprintf(out, len, "%s%2lu:%02lu:%02lu", days, hour, min, sec);
}

static const struct {
    const char *state, *list, *xentop;
} states[] = {
    {"running", "r-----", "-----r"}, {"blocked", "-b----", "--b---"},
    {"paused", "--p---", "----p-"},  {"shutdown", "---s--", "-s----"},
    {"crashed", "---sc-", "-s-c--"}, {"dying", "-----d", "d-----"},
};

const char *xl_state_letters(const char *state)
{
    for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
        if (!strcmp(state, states[i].state))
            return states[i].list;
    return "------";
}

const char *xl_xentop_letters(const char *state)
{
    for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
        if (!strcmp(state, states[i].state))
            return states[i].xentop;
    return "------";
}

/* Xen's device number for a vdev name (libxl's
 * libxl__device_disk_dev_number): xvdX (202, 16 minors a disk), hdX (3 and
 * 22, 64 minors), sdX (8, 16 minors); -1 for other names. */
int xl_vdev_number(const char *vdev)
{
    int major, shift, disk;
    const char *p;
    if (!strncmp(vdev, "xvd", 3))
        major = 202, shift = 4, p = vdev + 3;
    else if (!strncmp(vdev, "hd", 2))
        major = 3, shift = 6, p = vdev + 2;
    else if (!strncmp(vdev, "sd", 2))
        major = 8, shift = 4, p = vdev + 2;
    else
        return -1;
    if (!islower((unsigned char)p[0]) || p[1])
        return -1;
    disk = p[0] - 'a';
    /* hda and hdb are on major 3, hdc and hdd (the second IDE channel) on
     * major 22; there is no hde. */
    if (major == 3 && disk >= 4)
        return -1;
    if (major == 3 && disk >= 2)
        major = 22, disk -= 2;
    return major << 8 | disk << shift;
}
