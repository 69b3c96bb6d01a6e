/*
 * emu_fetch.c - the instruction's bytes, fetched through the caller's
 * callback a page at a time.
 *
 * The bytes at RIP are in guest memory the guest has mapped (it was
 * executing them), but an instruction may start near the end of one page
 * and end on the next, which may be mapped elsewhere or not at all.  So the
 * first fetch takes the rest of the first page (at most 15 bytes), and the
 * next page is asked for only when the decoder needs a byte from it: an
 * instruction that ends on its first page never touches the second.
 */
#include "klib.h"

#include "emu_insn.h"

/* Fetch the next piece of the instruction into f->buf: from f->have up to
 * the end of that byte's page or the 15-byte limit.  0, or -1 with the
 * fault recorded. */
static int fetch_more(struct emu_fetcher *f)
{
    /* Linear addresses wrap at 4 GiB outside 64-bit mode. */
    uint64_t la = (f->la + f->have) & f->la_mask;
    /* Bytes left on this 4 KiB page, and room left in the buffer. */
    unsigned page_left = 4096 - (unsigned)(la & 0xfff);
    unsigned n = (unsigned)sizeof(f->buf) - f->have;
    if (n > page_left)
        n = page_left;
    if (f->ops->fetch(f->ctx, la, f->buf + f->have, n) != 0) {
        f->res->status = EMU_FAULT;
        f->res->fault_la = la;
        f->res->fault_fetch = true;
        ksnprintf(f->res->reason, sizeof(f->res->reason),
                  "cannot read the instruction's bytes at linear address %#llx",
                  (unsigned long long)la);
        return -1;
    }
    f->have += n;
    return 0;
}

int emu_fetch_byte(struct emu_fetcher *f, unsigned i, uint8_t *b)
{
    /* No instruction is longer than 15 bytes: a CPU that would need a
     * 16th raises #GP(0) (SDM vol 2A 2.3.11 "AVX Instruction Length"). */
    if (i >= sizeof(f->buf)) {
        emu_exception(f->res, 13, "instruction longer than 15 bytes");
        return -1;
    }
    /* One fetch per page: the loop runs at most twice. */
    while (i >= f->have)
        if (fetch_more(f) != 0)
            return -1;
    *b = f->buf[i];
    return 0;
}

int emu_fetch_signed(struct emu_fetcher *f, unsigned *pos, unsigned n, int64_t *v)
{
    /* Immediates and displacements are little-endian (SDM vol 1 1.3.1
     * "Bit and Byte Order"). */
    uint64_t x = 0;
    for (unsigned i = 0; i < n; i++) {
        uint8_t b;
        if (emu_fetch_byte(f, *pos + i, &b) != 0)
            return -1;
        x |= (uint64_t)b << (8 * i);
    }
    *pos += n;
    *v = (int64_t)emu_sext(x, n);
    return 0;
}
