/*
 * cmdline.c - parse hv's command line (see cmdline.h).
 *
 * The Multiboot loader hands hv one string (Multiboot 0.6.96 3.3, the
 * cmdline field): the kernel's file name, then whatever followed it on the
 * loader's command line (QEMU -append, GRUB's multiboot line).  hv's options
 * are blank-separated words.  Every mistake gets a message that names the
 * word and says what would be accepted, because the user sees nothing else:
 * hv stops before the guest runs.
 *
 * Hosted and freestanding: only klib, no allocation.
 */
#include "klib.h"

#include "cmdline.h"

/* The value of one digit in `base`, or -1 if c is not one. */
static int digit_value(char c, unsigned base)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    /* Letters only count as digits in hexadecimal. */
    if (base == 16 && c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (base == 16 && c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The shift for a size suffix letter, or -1 if it is not one: K, M, G as
 * powers of 1024 (as QEMU's -m reads them). */
static int suffix_shift(char c)
{
    /* Either case, as QEMU accepts "-m 64m" as well as "-m 64M".  No "T":
     * guest RAM is limited to 3 GiB anyway. */
    switch (c) {
    case 'k':
    case 'K':
        return 10;
    case 'm':
    case 'M':
        return 20;
    case 'g':
    case 'G':
        return 30;
    default:
        return -1;
    }
}

/*
 * Parse the size s[0..len) (not NUL-terminated: a piece of the command
 * line): decimal or 0x-hexadecimal digits and an optional K/M/G suffix.
 * Returns 0 with *out in bytes, or -1 for anything malformed or too big.
 * Used by parse_mem() and by the unit test directly.
 */
int hv_parse_size(const char *s, size_t len, uint64_t *out)
{
    /* v: the value so far; i: the next character; base: 10 or 16. */
    uint64_t v = 0;
    size_t i = 0;
    unsigned base = 10;
    /* "0x" selects hexadecimal, as kstrtoull would. */
    if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        i = 2;
    }
    /* The digits: at least one, and never more than 64 bits hold. */
    size_t first = i;
    for (; i < len; i++) {
        int d = digit_value(s[i], base);
        /* The first non-digit ends the number; it may be the suffix. */
        if (d < 0)
            break;
        /* v * base + d must not exceed UINT64_MAX: check before doing it,
         * since unsigned overflow would wrap silently. */
        if (v > (UINT64_MAX - (unsigned)d) / base)
            return -1;
        v = v * base + (unsigned)d;
    }
    /* "0x" alone, "K" alone or an empty value. */
    if (i == first)
        return -1;
    /* At most one suffix letter, and it must end the word.  No suffix: plain
     * bytes. */
    int shift = 0;
    if (i < len) {
        shift = suffix_shift(s[i]);
        if (shift < 0 || i + 1 != len)
            return -1;
    }
    /* The suffix may not push the value past 64 bits either. */
    if (v > (UINT64_MAX >> shift))
        return -1;
    *out = v << shift;
    return 0;
}

/* True when the word s[0..len) equals the NUL-terminated string w. */
static bool word_is(const char *s, size_t len, const char *w)
{
    return strlen(w) == len && memcmp(s, w, len) == 0;
}

/* True when the word starts with `prefix` and has something after it. */
static bool word_has_prefix(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len > n && memcmp(s, prefix, n) == 0;
}

/* mem=SIZE: guest RAM, checked against HV_MEM_MIN..HV_MEM_MAX and rounded
 * up to whole 2 MiB pages (the nested page size). */
static int parse_mem(const char *s, size_t len, struct hv_options *opt, char *err, size_t err_len)
{
    uint64_t v;
    /* The value after "mem=" (4 characters; parse_word() checked them). */
    if (hv_parse_size(s + 4, len - 4, &v) < 0) {
        /* The whole word in the message, as the user typed it ("%.*s":
         * the word is not NUL-terminated). */
        ksnprintf(err, err_len, "bad size in '%.*s' (want e.g. mem=64M; suffixes K, M, G)",
                  (int)len, s);
        return -1;
    }
    /* Check the range before rounding, so the rounding cannot overflow. */
    if (v < HV_MEM_MIN || v > HV_MEM_MAX) {
        ksnprintf(err, err_len, "'%.*s' out of range (guest RAM must be 2M..3G)", (int)len, s);
        return -1;
    }
    /* Round up to 2 MiB: the nested tables map whole 2 MiB pages, and a
     * partial last page would map host memory that is not the guest's. */
    opt->mem = (v + (2u << 20) - 1) & ~(uint64_t)((2u << 20) - 1);
    return 0;
}

/* vendor=svm|vmx|auto: which backend to use. */
static int parse_vendor(const char *s, size_t len, struct hv_options *opt, char *err,
                        size_t err_len)
{
    /* The value after "vendor=" (7 characters). */
    const char *v = s + 7;
    size_t vl = len - 7;
    /* Exact, lower-case words: "vendor=SVM" is refused with the list of
     * accepted values rather than guessed at. */
    if (word_is(v, vl, "svm"))
        opt->vendor = VENDOR_SVM;
    else if (word_is(v, vl, "vmx"))
        opt->vendor = VENDOR_VMX;
    else if (word_is(v, vl, "auto"))
        opt->vendor = VENDOR_AUTO;
    else {
        ksnprintf(err, err_len, "bad vendor in '%.*s' (want vendor=svm, vmx or auto)", (int)len, s);
        return -1;
    }
    return 0;
}

/* max-exits=N: a budget of VM exits, a plain decimal or 0x number (no
 * suffix: "1M exits" would read as a size).  0 means no limit. */
static int parse_max_exits(const char *s, size_t len, struct hv_options *opt, char *err,
                           size_t err_len)
{
    /* The value after "max-exits=" (10 characters). */
    const char *v = s + 10;
    size_t vl = len - 10;
    /* hv_parse_size() reads the number; a suffix letter is refused here. */
    if (suffix_shift(v[vl - 1]) >= 0 || hv_parse_size(v, vl, &opt->max_exits) < 0) {
        ksnprintf(err, err_len, "bad count in '%.*s' (want e.g. max-exits=100000)", (int)len, s);
        return -1;
    }
    return 0;
}

/* balloon=SIZE: the balloon's first target (core/pv_balloon.c), as mem=
 * reads sizes; above mem= it would ask for nothing (checked where both
 * are known, pv_balloon.c). */
static int parse_balloon(const char *s, size_t len, struct hv_options *opt, char *err,
                         size_t err_len)
{
    /* The value after "balloon=" (8 characters). */
    if (hv_parse_size(s + 8, len - 8, &opt->balloon) < 0 || opt->balloon == 0) {
        ksnprintf(err, err_len, "bad size in '%.*s' (want e.g. balloon=48M)", (int)len, s);
        return -1;
    }
    return 0;
}

/* NAME=OFF|ON, an option of two modes (`name_len` counts the '='), into
 * *on: npt=eager|lazy, how guest RAM gets into the second-level tables
 * (the option says npt for both vendors, as the lesson does), and
 * idle=halt|spin, how hv waits while every vCPU does (run.c idle()). */
static int parse_mode(const char *s, size_t len, size_t name_len, const char *off, const char *on,
                      bool *out, char *err, size_t err_len)
{
    const char *v = s + name_len;
    size_t vl = len - name_len;
    if (word_is(v, vl, off))
        *out = false;
    else if (word_is(v, vl, on))
        *out = true;
    else {
        /* The name without its '=', for "want npt=eager or npt=lazy". */
        int nl = (int)name_len - 1;
        ksnprintf(err, err_len, "bad mode in '%.*s' (want %.*s=%s or %.*s=%s)", (int)len, s, nl, s,
                  off, nl, s, on);
        return -1;
    }
    return 0;
}

/* NAME=N, a plain count in [1, max] (`name_len` counts the '='): domains=
 * (how many copies of the guest hv runs) and smp= (how many vCPUs each
 * domain has). */
static int parse_count(const char *s, size_t len, size_t name_len, unsigned max, unsigned *out,
                       char *err, size_t err_len)
{
    const char *v = s + name_len;
    size_t vl = len - name_len;
    uint64_t n;
    if (suffix_shift(v[vl - 1]) >= 0 || hv_parse_size(v, vl, &n) < 0 || n < 1 || n > max) {
        ksnprintf(err, err_len, "bad count in '%.*s' (want %.*s1 to %.*s%u)", (int)len, s,
                  (int)name_len, s, (int)name_len, s, max);
        return -1;
    }
    *out = (unsigned)n;
    return 0;
}

/* cdrom=N (an outer disk's number, 0-3, as drive= has) or cdrom=empty. */
static int parse_cdrom(const char *s, size_t len, struct hv_options *opt, char *err, size_t err_len)
{
    if (word_is(s, len, "cdrom=empty")) {
        opt->cdrom = HV_CDROM_EMPTY;
        return 0;
    }
    if (len != 7 || s[6] < '0' || s[6] > '3') {
        ksnprintf(err, err_len,
                  "'%.*s': want cdrom=N with N the outer disk's number 0-3, or "
                  "cdrom=empty",
                  (int)len, s);
        return -1;
    }
    opt->cdrom = s[6] - '0';
    return 0;
}

/* xl.cfg(5)'s action words, indexed by enum domain_action. */
static const char *const action_names[] = {
    [DOMAIN_ACTION_DESTROY] = "destroy",
    [DOMAIN_ACTION_RESTART] = "restart",
    [DOMAIN_ACTION_PRESERVE] = "preserve",
};

/* One of the words above, exactly (no prefix, no case folding: xl.cfg
 * spells them so). */
int domain_action_parse(const char *s, size_t len, enum domain_action *out)
{
    for (unsigned i = 0; i < KARRAY_SIZE(action_names); i++)
        if (strlen(action_names[i]) == len && memcmp(s, action_names[i], len) == 0) {
            *out = (enum domain_action)i;
            return 0;
        }
    return -1;
}

const char *domain_action_name(enum domain_action a)
{
    /* The cast also catches a negative value of a corrupted enum. */
    if ((unsigned)a >= KARRAY_SIZE(action_names))
        return "?";
    return action_names[a];
}

/* on_poweroff=, on_reboot=, on_crash=: `name_len` is the length of the
 * name with its '='; the action goes to *out. */
static int parse_action(const char *s, size_t len, size_t name_len, enum domain_action *out,
                        char *err, size_t err_len)
{
    if (domain_action_parse(s + name_len, len - name_len, out) < 0) {
        ksnprintf(err, err_len, "bad action in '%.*s' (want destroy, restart or preserve)",
                  (int)len, s);
        return -1;
    }
    return 0;
}

/*
 * savevm=NAME@MS, loadvm=, delvm=, save=N@MS, restore=N@MS (`name_len` is
 * the length of "savevm=" and so on): a name of letters, digits, '-', '_'
 * and '.' (for save and restore, an outer disk's number), and the
 * milliseconds of the guest's run after which to act.  Events are kept in
 * order of time; two at the same time in the order given.
 */
static int parse_vmevent(const char *s, size_t len, size_t name_len, enum hv_vmevent_kind kind,
                         struct hv_options *opt, char *err, size_t err_len)
{
    const char *v = s + name_len;
    size_t vl = len - name_len, n = 0;
    uint64_t ms = 0;
    bool number = kind == HV_SAVE || kind == HV_RESTORE;
    while (n < vl && v[n] != '@')
        n++;
    bool ok = n > 0 && n < HV_VMEVENT_NAME && n + 1 < vl && opt->nvmevents < HV_VMEVENTS_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = (v[i] >= '0' && v[i] <= '9') ||
             (!number && ((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
                          v[i] == '-' || v[i] == '_' || v[i] == '.'));
    for (size_t i = n + 1; ok && i < vl; i++) {
        ok = v[i] >= '0' && v[i] <= '9' && ms < 100000000ull;
        ms = ms * 10 + (uint64_t)(v[i] - '0');
    }
    if (!ok) {
        ksnprintf(err, err_len,
                  "'%.*s': want NAME@MS (a name of up to %u letters, digits, '-', '_', '.', an "
                  "outer disk's number for save= and restore=; at most %u such words)",
                  (int)len, s, HV_VMEVENT_NAME - 1, HV_VMEVENTS_MAX);
        return -1;
    }
    /* In order of time: later events move up to make room. */
    unsigned at = opt->nvmevents;
    while (at > 0 && opt->vmevent[at - 1].at_ms > ms) {
        opt->vmevent[at] = opt->vmevent[at - 1];
        at--;
    }
    struct hv_vmevent *e = &opt->vmevent[at];
    opt->nvmevents++;
    e->kind = kind;
    memcpy(e->name, v, n);
    e->name[n] = '\0';
    e->at_ms = ms;
    return 0;
}

/* NAME=MS with a plain decimal count of milliseconds in [1, max]
 * (`name_len` counts the '='; a size suffix is refused, as for domains=):
 * tslice= and powerdown-after=. */
static int parse_ms(const char *s, size_t len, size_t name_len, unsigned max, unsigned *out,
                    char *err, size_t err_len)
{
    const char *v = s + name_len;
    size_t vl = len - name_len;
    uint64_t n;
    if (suffix_shift(v[vl - 1]) >= 0 || hv_parse_size(v, vl, &n) < 0 || n < 1 || n > max) {
        ksnprintf(err, err_len, "bad time in '%.*s' (want %.*s1 to %u, in ms)", (int)len, s,
                  (int)name_len, s, max);
        return -1;
    }
    *out = (unsigned)n;
    return 0;
}

/* name=NAME: letters, digits and "-_.", not starting with a digit (a
 * front-end reads a number as a domain id), at most 63 bytes. */
static int parse_name(const char *s, size_t len, struct hv_options *opt, char *err, size_t err_len)
{
    bool ok = len < sizeof(opt->name) && !(s[0] >= '0' && s[0] <= '9');
    for (size_t i = 0; ok && i < len; i++) {
        char c = s[i];
        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '-' || c == '_' || c == '.';
    }
    if (!ok) {
        ksnprintf(err, err_len,
                  "bad name '%.*s' (letters, digits, '-', '_', '.', not starting with a digit, "
                  "at most %zu bytes)",
                  (int)len, s, sizeof(opt->name) - 1);
        return -1;
    }
    memcpy(opt->name, s, len);
    opt->name[len] = '\0';
    return 0;
}

/* One option word; 0, or -1 with err filled. */
static int parse_word(const char *s, size_t len, struct hv_options *opt, char *err, size_t err_len)
{
    /* `trace`: a flag, no value. */
    if (word_is(s, len, "trace")) {
        opt->trace = true;
        return 0;
    }
    /* `slat-dot`: print the second-level tables as a graph at the end. */
    if (word_is(s, len, "slat-dot")) {
        opt->slat_dot = true;
        return 0;
    }
    /* `disk-test`: exercise the outer machine's disks before the guest. */
    if (word_is(s, len, "disk-test")) {
        opt->disk_test = true;
        return 0;
    }
    /* `virtio-console`: give the guest a virtio-console (core/vdev.h). */
    if (word_is(s, len, "virtio-console")) {
        opt->virtio_console = true;
        return 0;
    }
    /* `ctl`: serve the control protocol on the outer machine's COM2
     * (core/ctl.h; bin/hvrun --control). */
    if (word_is(s, len, "ctl")) {
        opt->ctl = true;
        return 0;
    }
    /* `paused`: the boot's domains wait for a `cont` (QEMU's -S). */
    if (word_is(s, len, "paused")) {
        opt->paused = true;
        return 0;
    }
    /* The others are NAME=VALUE; the prefix test requires a value after
     * the '=' ("mem=" alone is an unknown option, not mem=0). */
    if (word_has_prefix(s, len, "mem="))
        return parse_mem(s, len, opt, err, err_len);
    if (word_has_prefix(s, len, "vendor="))
        return parse_vendor(s, len, opt, err, err_len);
    if (word_has_prefix(s, len, "balloon="))
        return parse_balloon(s, len, opt, err, err_len);
    if (word_has_prefix(s, len, "max-exits="))
        return parse_max_exits(s, len, opt, err, err_len);
    if (word_has_prefix(s, len, "npt="))
        return parse_mode(s, len, 4, "eager", "lazy", &opt->lazy, err, err_len);
    if (word_has_prefix(s, len, "domains="))
        return parse_count(s, len, 8, HV_DOMAINS_MAX, &opt->domains, err, err_len);
    if (word_has_prefix(s, len, "smp="))
        return parse_count(s, len, 4, HV_SMP_MAX, &opt->smp, err, err_len);
    if (word_has_prefix(s, len, "maxcpus="))
        return parse_count(s, len, 8, HV_SMP_MAX, &opt->maxcpus, err, err_len);
    if (word_has_prefix(s, len, "tslice="))
        return parse_ms(s, len, 7, 1000, &opt->tslice_ms, err, err_len);
    if (word_has_prefix(s, len, "idle="))
        return parse_mode(s, len, 5, "halt", "spin", &opt->idle_spin, err, err_len);
    if (word_has_prefix(s, len, "name="))
        return parse_name(s + 5, len - 5, opt, err, err_len);
    if (word_has_prefix(s, len, "powerdown-after="))
        return parse_ms(s, len, 16, 600000, &opt->powerdown_after_ms, err, err_len);
    /* The lifecycle actions, named as in xl.cfg(5). */
    if (word_has_prefix(s, len, "on_poweroff="))
        return parse_action(s, len, 12, &opt->on_poweroff, err, err_len);
    if (word_has_prefix(s, len, "on_reboot="))
        return parse_action(s, len, 10, &opt->on_reboot, err, err_len);
    if (word_has_prefix(s, len, "on_crash="))
        return parse_action(s, len, 9, &opt->on_crash, err, err_len);
    /* Snapshots of domain 0 at given times (core/vmsave.h). */
    if (word_has_prefix(s, len, "savevm="))
        return parse_vmevent(s, len, 7, HV_SAVEVM, opt, err, err_len);
    if (word_has_prefix(s, len, "loadvm="))
        return parse_vmevent(s, len, 7, HV_LOADVM, opt, err, err_len);
    if (word_has_prefix(s, len, "delvm="))
        return parse_vmevent(s, len, 6, HV_DELVM, opt, err, err_len);
    if (word_has_prefix(s, len, "save="))
        return parse_vmevent(s, len, 5, HV_SAVE, opt, err, err_len);
    if (word_has_prefix(s, len, "restore="))
        return parse_vmevent(s, len, 8, HV_RESTORE, opt, err, err_len);
    /* cdrom=N|empty: the CD-ROM drive and its medium (core/cdrom.c). */
    if (word_has_prefix(s, len, "cdrom="))
        return parse_cdrom(s, len, opt, err, err_len);
    /* drive=...: kept as it is for core/vdev.c, which knows its fields. */
    if (word_has_prefix(s, len, "drive=")) {
        if (opt->ndrives == HV_DRIVES_MAX || len > 255) {
            ksnprintf(err, err_len, "'%.*s': at most %u drive= words of 255 characters", (int)len,
                      s, HV_DRIVES_MAX);
            return -1;
        }
        opt->drive[opt->ndrives] = s;
        opt->drive_len[opt->ndrives++] = (uint8_t)len;
        return 0;
    }
    /* Anything else is a mistake worth stopping for: a misspelt "trace"
     * silently ignored would cost the user more than this message. */
    ksnprintf(err, err_len,
              "unknown option '%.*s' (hv knows mem=SIZE, trace, vendor=svm|vmx|auto, max-exits=N, "
              "balloon=SIZE, npt=eager|lazy, slat-dot, domains=N, smp=N, maxcpus=N, disk-test, "
              "virtio-console, ctl, paused, "
              "name=NAME, "
              "drive=..., cdrom=N|empty, tslice=MS, idle=halt|spin, powerdown-after=MS, "
              "on_poweroff=|on_reboot=|on_crash=destroy|"
              "restart|preserve, savevm=|loadvm=|delvm=NAME@MS, save=|restore=N@MS)",
              (int)len, s);
    return -1;
}

/*
 * Parse a whole command line into *opt, for hv_main() (with
 * skip_first_word = true, as the loader puts our file name first) and for
 * the unit test.  Returns 0, or -1 with a one-line reason in err at the
 * first bad word; later words are then not looked at.  A later option
 * overrides an earlier one ("mem=8M mem=16M" gives 16 MiB), as on most
 * command lines.
 */
int hv_parse_cmdline(const char *cmdline, bool skip_first_word, struct hv_options *opt, char *err,
                     size_t err_len)
{
    /* Defaults first, so a caller always gets a complete set. */
    opt->mem = HV_MEM_DEFAULT;
    opt->trace = false;
    opt->vendor = VENDOR_AUTO;
    opt->max_exits = 0;
    opt->balloon = 0;
    opt->lazy = false;
    opt->domains = 1;
    opt->smp = 1;
    opt->maxcpus = 0;
    opt->slat_dot = false;
    opt->disk_test = false;
    opt->virtio_console = false;
    opt->ctl = false;
    opt->paused = false;
    opt->name[0] = '\0';
    opt->cdrom = HV_CDROM_NONE;
    opt->ndrives = 0;
    opt->tslice_ms = 10;
    opt->idle_spin = false;
    opt->powerdown_after_ms = 0;
    /* As hvrun's QEMU runs with -no-reboot: every end is final. */
    opt->on_poweroff = DOMAIN_ACTION_DESTROY;
    opt->on_reboot = DOMAIN_ACTION_DESTROY;
    opt->on_crash = DOMAIN_ACTION_DESTROY;
    opt->nvmevents = 0;
    /* An empty message on success, so a caller may print err blindly. */
    if (err_len)
        err[0] = '\0';
    /* No command line at all (Multiboot info flag 2 clear) is fine. */
    if (!cmdline)
        return 0;
    /* p walks the string; each pass of the loop takes one word. */
    const char *p = cmdline;
    bool first = true;
    for (;;) {
        /* Words are separated by blanks (spaces or tabs). */
        while (*p == ' ' || *p == '\t')
            p++;
        /* The end of the string after the last word: all parsed. */
        if (!*p)
            return 0;
        /* w..p is the word: up to the next blank or the end. */
        const char *w = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        /* The loader's copy of our file name is not an option. */
        if (first && skip_first_word) {
            first = false;
            continue;
        }
        /* Only the very first word can be the file name. */
        first = false;
        if (parse_word(w, (size_t)(p - w), opt, err, err_len) < 0)
            return -1;
    }
}
