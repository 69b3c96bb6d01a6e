/*
 * heap.c - first-fit allocation with coalescing (see heap.h).
 *
 * Two kinds of header, both HEAP_ALIGN (16) bytes:
 *
 *   free block:   [size | next] ...free bytes...
 *                 at the start of every free block; size counts the whole
 *                 block, header included.
 *   used block:   ...gap... [start | size + tag] ...the caller's bytes...
 *                 just before the pointer handed out; start is where the
 *                 block begins (the alignment may leave a small gap before
 *                 the header), size + tag the block's size with a tag in
 *                 the high bits and bit 0 set while the block is in use.
 *
 * A block is never smaller than MIN_BLOCK, so the remains of a free block
 * that an allocation splits are either a block of their own or small
 * enough to be handed out with the allocation.
 */
#include "klib.h"

#include "heap.h"

/* The header of a free block, in the free memory itself. */
struct heap_free_block {
    size_t size;
    struct heap_free_block *next;
};

/* The header before every pointer handed out. */
struct heap_used {
    uintptr_t start;
    uint64_t size_tag;
};

_Static_assert(sizeof(struct heap_free_block) == HEAP_ALIGN, "free header is 16 bytes");
_Static_assert(sizeof(struct heap_used) == HEAP_ALIGN, "used header is 16 bytes");

/* The smallest block: a header and 16 usable bytes. */
#define MIN_BLOCK (2 * HEAP_ALIGN)

/* The used header's size_tag: bit 0 set while in use, a fixed pattern in
 * bits 63:48 (a block is far smaller than 2^48 bytes), so that a pointer
 * that is not ours, or one already freed, is almost surely recognised. */
#define USED_BIT  1ull
#define TAG       0xa11c000000000000ull
#define TAG_MASK  0xffff000000000000ull
#define SIZE_MASK (~TAG_MASK & ~(uint64_t)(HEAP_ALIGN - 1))

/* Round up to a multiple of a power of two, or 0 on overflow. */
static uintptr_t align_up(uintptr_t x, uintptr_t a)
{
    if (x > UINTPTR_MAX - (a - 1))
        return 0;
    return (x + a - 1) & ~(a - 1);
}

void heap_init(struct heap *h)
{
    memset(h, 0, sizeof(*h));
    h->lo = UINTPTR_MAX;
}

/*
 * Put the free range [start, start + size) into the list in address order,
 * merged with the free block just before and just after it when they
 * touch.  Returns -1, changing nothing, when the range overlaps a free
 * block: it was free already (a double free).
 */
static int insert_free(struct heap *h, uintptr_t start, size_t size)
{
    struct heap_free_block *prev = NULL, *next = h->free;
    /* The first free block at or after start, and the one before it. */
    while (next && (uintptr_t)next < start) {
        prev = next;
        next = next->next;
    }
    uintptr_t end = start + size;
    if ((prev && (uintptr_t)prev + prev->size > start) || (next && (uintptr_t)next < end))
        return -1;
    h->free_bytes += size;
    /* Merge with the following block: this block absorbs it. */
    struct heap_free_block *b = (struct heap_free_block *)start;
    b->size = size;
    b->next = next;
    if (next && (uintptr_t)next == end) {
        b->size += next->size;
        b->next = next->next;
    }
    /* Merge with the preceding block: it absorbs this one. */
    if (prev && (uintptr_t)prev + prev->size == start) {
        prev->size += b->size;
        prev->next = b->next;
    } else if (prev) {
        prev->next = b;
    } else {
        h->free = b;
    }
    return 0;
}

void heap_add(struct heap *h, void *mem, size_t len)
{
    uintptr_t start = align_up((uintptr_t)mem, HEAP_ALIGN);
    uintptr_t end = ((uintptr_t)mem + len) & ~(uintptr_t)(HEAP_ALIGN - 1);
    /* Too small (or wrapped by the rounding): nothing to add. */
    if (!start || end < start || end - start < MIN_BLOCK)
        return;
    if (insert_free(h, start, end - start) < 0)
        return;
    if (start < h->lo)
        h->lo = start;
    if (end > h->hi)
        h->hi = end;
}

/*
 * Where in free block b an allocation of rsize bytes at alignment align
 * would go: the pointer, and the block it takes [*bstart, *bend), which
 * includes any remains too small to stay free.  False if b cannot hold it.
 */
static bool fit(const struct heap_free_block *b, size_t rsize, size_t align, uintptr_t *ptr,
                uintptr_t *bstart, uintptr_t *bend)
{
    uintptr_t bs = (uintptr_t)b, be = bs + b->size;
    uintptr_t p = align_up(bs + sizeof(struct heap_used), align);
    if (!p || p > be || rsize > be - p)
        return false;
    uintptr_t end = p + rsize;
    uintptr_t lead = p - sizeof(struct heap_used) - bs;
    /* Remains smaller than a block go with the allocation. */
    *bstart = lead >= MIN_BLOCK ? p - sizeof(struct heap_used) : bs;
    *bend = be - end >= MIN_BLOCK ? end : be;
    *ptr = p;
    return true;
}

void *heap_alloc(struct heap *h, size_t size, size_t align)
{
    if (align < HEAP_ALIGN)
        align = HEAP_ALIGN;
    /* A power of two has exactly one bit set. */
    if (size == 0 || (align & (align - 1)))
        return NULL;
    size_t rsize = align_up(size, HEAP_ALIGN);
    if (!rsize)
        return NULL;
    struct heap_free_block **link = &h->free;
    for (struct heap_free_block *b = *link; b; link = &b->next, b = b->next) {
        uintptr_t p, bstart, bend;
        if (!fit(b, rsize, align, &p, &bstart, &bend))
            continue;
        uintptr_t bs = (uintptr_t)b, be = bs + b->size;
        struct heap_free_block *after = b->next;
        /* Unlink b, then give back the remains on either side, each big
         * enough to be a block: first the tail, then the lead, so that the
         * list stays in address order. */
        *link = after;
        h->free_bytes -= be - bs;
        if (bend < be) {
            struct heap_free_block *t = (struct heap_free_block *)bend;
            t->size = be - bend;
            t->next = after;
            *link = t;
            h->free_bytes += t->size;
        }
        if (bstart > bs) {
            struct heap_free_block *l = (struct heap_free_block *)bs;
            l->size = bstart - bs;
            l->next = *link;
            *link = l;
            h->free_bytes += l->size;
        }
        struct heap_used *u = (struct heap_used *)(p - sizeof(*u));
        u->start = bstart;
        u->size_tag = (uint64_t)(bend - bstart) | TAG | USED_BIT;
        h->used_bytes += bend - bstart;
        return (void *)p;
    }
    return NULL;
}

/* The used header of p, or NULL when p cannot be a live allocation. */
static struct heap_used *used_header(const struct heap *h, const void *p)
{
    uintptr_t a = (uintptr_t)p;
    /* Inside the heap, aligned, with room for a header before it. */
    if (a % HEAP_ALIGN || a < h->lo + sizeof(struct heap_used) || a > h->hi)
        return NULL;
    struct heap_used *u = (struct heap_used *)(a - sizeof(*u));
    uint64_t size = u->size_tag & SIZE_MASK;
    if ((u->size_tag & TAG_MASK) != TAG || !(u->size_tag & USED_BIT))
        return NULL;
    /* The block must hold the header and lie inside the heap. */
    if (u->start < h->lo || u->start > (uintptr_t)u || size > h->hi - u->start ||
        u->start + size < a)
        return NULL;
    return u;
}

int heap_free(struct heap *h, void *p)
{
    if (!p)
        return 0;
    struct heap_used *u = used_header(h, p);
    if (!u)
        return -1;
    uintptr_t start = u->start;
    size_t size = u->size_tag & SIZE_MASK;
    /* Not in use any more, whether or not the free header lands on it. */
    u->size_tag &= ~USED_BIT;
    if (insert_free(h, start, size) < 0) {
        /* Overlaps free memory: the header was stale.  Put it back as it
         * was and refuse. */
        u->size_tag |= USED_BIT;
        return -1;
    }
    h->used_bytes -= size;
    return 0;
}

size_t heap_size_of(const struct heap *h, const void *p)
{
    const struct heap_used *u = used_header(h, p);
    if (!u)
        return 0;
    return u->start + (u->size_tag & SIZE_MASK) - (uintptr_t)p;
}

void heap_stats(const struct heap *h, struct heap_stats *s)
{
    memset(s, 0, sizeof(*s));
    s->free_bytes = h->free_bytes;
    s->used_bytes = h->used_bytes;
    for (const struct heap_free_block *b = h->free; b; b = b->next) {
        s->free_blocks++;
        if (b->size > s->largest_free)
            s->largest_free = b->size;
    }
}
