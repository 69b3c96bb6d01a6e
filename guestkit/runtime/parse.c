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
