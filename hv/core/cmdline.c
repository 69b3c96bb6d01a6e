/*
 * cmdline.c - parse hv's command line (see cmdline.h).  Hosted and
 * freestanding: only klib.
 */
#include "klib.h"

#include "cmdline.h"

int hv_parse_size(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;
    unsigned base = 10;
    /* "0x" selects hexadecimal, as kstrtoull would. */
    if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        i = 2;
    }
    size_t digits = 0;
    for (; i < len; i++, digits++) {
        char c = s[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (base == 16 && c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            break;
        /* Refuse values that would wrap around 64 bits. */
        if (v > (UINT64_MAX - d) / base)
            return -1;
        v = v * base + d;
    }
    if (digits == 0)
        return -1;
    /* At most one suffix letter, and nothing after it. */
    unsigned shift = 0;
    if (i < len) {
        switch (s[i]) {
        case 'k':
        case 'K':
            shift = 10;
            break;
        case 'm':
        case 'M':
            shift = 20;
            break;
        case 'g':
        case 'G':
            shift = 30;
            break;
        default:
            return -1;
        }
        if (++i != len)
            return -1;
    }
    if (shift && v > (UINT64_MAX >> shift))
        return -1;
    *out = v << shift;
    return 0;
}

/* True when the word s[0..len) equals the NUL-terminated string w. */
static bool word_is(const char *s, size_t len, const char *w)
{
    return strlen(w) == len && memcmp(s, w, len) == 0;
}

/* Parse one option word; 0 or -1 with err filled. */
static int parse_word(const char *s, size_t len, struct hv_options *opt, char *err, size_t err_len)
{
    if (word_is(s, len, "trace")) {
        opt->trace = true;
        return 0;
    }
    if (len > 4 && memcmp(s, "mem=", 4) == 0) {
        uint64_t v;
        if (hv_parse_size(s + 4, len - 4, &v) < 0) {
            ksnprintf(err, err_len, "bad size in '%.*s' (want e.g. mem=64M; suffixes K, M, G)",
                      (int)len, s);
            return -1;
        }
        /* Round up to whole 2 MiB pages, checking the range first so the
         * rounding cannot overflow. */
        if (v < HV_MEM_MIN || v > HV_MEM_MAX) {
            ksnprintf(err, err_len, "'%.*s' out of range (guest RAM must be 2M..3G)", (int)len, s);
            return -1;
        }
        opt->mem = (v + (2u << 20) - 1) & ~(uint64_t)((2u << 20) - 1);
        return 0;
    }
    if (len > 7 && memcmp(s, "vendor=", 7) == 0) {
        const char *v = s + 7;
        size_t vl = len - 7;
        if (word_is(v, vl, "svm"))
            opt->vendor = VENDOR_SVM;
        else if (word_is(v, vl, "vmx"))
            opt->vendor = VENDOR_VMX;
        else if (word_is(v, vl, "auto"))
            opt->vendor = VENDOR_AUTO;
        else {
            ksnprintf(err, err_len, "bad vendor in '%.*s' (want vendor=svm, vmx or auto)", (int)len,
                      s);
            return -1;
        }
        return 0;
    }
    ksnprintf(err, err_len, "unknown option '%.*s' (hv knows mem=SIZE, trace, vendor=svm|vmx|auto)",
              (int)len, s);
    return -1;
}

int hv_parse_cmdline(const char *cmdline, bool skip_first_word, struct hv_options *opt, char *err,
                     size_t err_len)
{
    opt->mem = HV_MEM_DEFAULT;
    opt->trace = false;
    opt->vendor = VENDOR_AUTO;
    if (err_len)
        err[0] = '\0';
    if (!cmdline)
        return 0;
    const char *p = cmdline;
    bool first = true;
    for (;;) {
        /* Words are separated by blanks (spaces or tabs). */
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            return 0;
        const char *w = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        if (first && skip_first_word) {
            first = false;
            continue;
        }
        first = false;
        if (parse_word(w, (size_t)(p - w), opt, err, err_len) < 0)
            return -1;
    }
}
