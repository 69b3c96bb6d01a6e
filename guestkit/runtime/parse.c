/*
 * Hardware-free parsing used by the runtime; also built hosted for the unit
 * tests, so it includes nothing but its own header.
 */
#include "guestkit/parse.h"

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int gk_split_args(char *buf, char **argv, int max_args, bool *dropped)
{
    int argc = 0;

    if (dropped)
        *dropped = false;
    /* Multiboot does not define quoting, and neither QEMU nor GRUB
     * interprets any, so words are simply runs of non-space characters. */
    for (char *p = buf; *p;) {
        /* Skip (and cut off) the spaces before a word. */
        while (is_space(*p))
            *p++ = '\0';
        if (!*p)
            break;
        if (argc == max_args) {
            if (dropped)
                *dropped = true;
            break;
        }
        argv[argc++] = p;
        while (*p && !is_space(*p))
            p++;
    }
    argv[argc] = NULL;
    return argc;
}

const struct mb_mmap_entry *gk_mmap_walk(uintptr_t map, uint32_t length,
                                         const struct mb_mmap_entry *prev)
{
    uintptr_t end = map + length;
    /* Entries vary in size: 'size' does not count itself, so the next one
     * starts size + 4 bytes further on (spec 3.3, "mmap_*"). */
    uintptr_t next = prev ? (uintptr_t)prev + prev->size + 4 : map;
    /* Stop at the end, and at an entry that would not fit whole: a broken
     * map must not make us read beyond it. */
    if (next < map || next + sizeof(struct mb_mmap_entry) > end)
        return NULL;
    return (const struct mb_mmap_entry *)next;
}

/* A number as C writes it: 0x-prefixed hexadecimal or decimal.  Returns
 * the character after it, or NULL if there was no digit or it overflowed. */
static const char *parse_number(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    unsigned base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    const char *start = s;
    for (;; s++) {
        unsigned digit;
        if (*s >= '0' && *s <= '9')
            digit = (unsigned)(*s - '0');
        else if (base == 16 && *s >= 'a' && *s <= 'f')
            digit = (unsigned)(*s - 'a' + 10);
        else if (base == 16 && *s >= 'A' && *s <= 'F')
            digit = (unsigned)(*s - 'A' + 10);
        else
            break;
        if (v > (UINT64_MAX - digit) / base)
            return NULL;
        v = v * base + digit;
    }
    if (s == start)
        return NULL;
    *out = v;
    return s;
}

bool gk_parse_virtio_mmio(const char *value, struct gk_virtio_mmio_spec *out)
{
    uint64_t size, base, irq, id;
    /* <size>, with Linux's memparse suffixes K, M, G (binary units). */
    const char *p = parse_number(value, &size);
    if (!p)
        return false;
    unsigned shift = *p == 'K' || *p == 'k'   ? 10
                     : *p == 'M' || *p == 'm' ? 20
                     : *p == 'G' || *p == 'g' ? 30
                                              : 0;
    if (shift) {
        if (size > (UINT64_MAX >> shift))
            return false;
        size <<= shift;
        p++;
    }
    /* "@<base>:<irq>" */
    if (*p++ != '@' || !(p = parse_number(p, &base)) || *p++ != ':' || !(p = parse_number(p, &irq)))
        return false;
    /* The optional ":<id>". */
    if (*p == ':' && !(p = parse_number(p + 1, &id)))
        return false;
    /* The word must end here, and the window must not wrap around. */
    if ((*p && !is_space(*p)) || size == 0 || base + size < base || irq > UINT32_MAX)
        return false;
    out->base = base;
    out->size = size;
    out->irq = (uint32_t)irq;
    return true;
}

int gk_find_virtio_mmio(const char *cmdline, struct gk_virtio_mmio_spec *out, int max)
{
    static const char key[] = "virtio_mmio.device=";
    int found = 0;
    for (const char *p = cmdline; *p;) {
        while (is_space(*p))
            p++;
        /* Compare the word's start with the key. */
        unsigned k = 0;
        while (key[k] && p[k] == key[k])
            k++;
        struct gk_virtio_mmio_spec spec;
        if (!key[k] && gk_parse_virtio_mmio(p + k, &spec)) {
            if (found < max)
                out[found] = spec;
            found++;
        }
        while (*p && !is_space(*p))
            p++;
    }
    return found;
}

const char *gk_arg_value(int argc, char **argv, const char *key)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        unsigned k = 0;
        while (key[k] && a[k] == key[k])
            k++;
        if (key[k])
            continue;
        if (a[k] == '=')
            return a + k + 1;
        if (a[k] == '\0')
            return a + k;
    }
    return NULL;
}
