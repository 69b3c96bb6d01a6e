/*
 * pv_console.c - the consumer half of the PV console ring
 * (include/hvkit/pv.h "The PV console ring").
 *
 * Why it exists: a guest printing through the 16550 exits at every byte
 * (its OUT to the data register) and usually once more per byte to poll
 * the line status; through the ring it copies bytes into its own memory
 * and exits once per batch, for HC_EVTCHN_SEND.  This file takes a batch
 * out of the ring and turns it into hv's console lines, by the same rules
 * as the UART model (dev/uart16550.c): CR dropped, LF ends a line, a line
 * longer than the buffer passed on in pieces.
 *
 * The ring is the guest's memory, so every index is suspect: the consumer
 * reads each index once, checks that producer minus consumer fits the
 * array (free-running 32-bit indices, so the subtraction is right across
 * the wrap), and reads the bytes only through `index % size`, so a hostile
 * guest can make hv print garbage but never read outside the page.
 *
 * Pure: compiled hosted too (tests/unit/test_hv_pv.c).
 */
#include "klib.h"

#include "pv.h"

/* One byte into the line being collected. */
static void put(struct pv_console *c, char ch, pv_line_fn out, void *ctx)
{
    /* As the UART: a terminal's "\r\n" and a bare "\n" give the same line. */
    if (ch == '\r')
        return;
    /* An empty line is a line too. */
    if (ch == '\n') {
        out(ctx, c->line, c->len);
        c->len = 0;
        return;
    }
    c->line[c->len++] = ch;
    /* Full: passed on as a line of its own, so memory use stays fixed. */
    if (c->len == sizeof(c->line)) {
        out(ctx, c->line, c->len);
        c->len = 0;
    }
}

long pv_console_consume(struct hvkit_console_ring *ring, struct pv_console *c, pv_line_fn out,
                        void *ctx)
{
    /* LAB 04: BEGIN console-ring (labs/04-paravirtual-drivers, exercise 1) */
    /* LAB 04: HINT The guest wrote bytes at out[out_prod % size] and then
     * moved out_prod; everything from out_cons up to out_prod is waiting
     * (include/hvkit/pv.h "The PV console ring"):
     *   - read each index exactly once (__atomic_load_n, acquire): the
     *     guest's memory may change under a second look;
     *   - the indices run freely, so prod - cons (unsigned, 32 bits) is
     *     the number of bytes waiting, also across the wrap; more than
     *     HVKIT_CONSOLE_OUT_SIZE is a broken ring: return HC_EINVAL and
     *     change nothing;
     *   - hand each byte, out[(cons + i) % HVKIT_CONSOLE_OUT_SIZE], to
     *     put(c, byte, out, ctx), in order;
     *   - only then give the space back: out_cons = prod (release store);
     *   - add the count to c->bytes and return it. */
    /* LAB 04: STUB (void)ring; */
    /* LAB 04: STUB (void)c; */
    /* LAB 04: STUB (void)out; */
    /* LAB 04: STUB (void)ctx; */
    /* LAB 04: STUB (void)put; */
    /* LAB 04: STUB return HC_ENOSYS; */
    /* Each index read once: the guest cannot change them under the check.
     * The acquire makes the bytes the producer wrote before its out_prod
     * store visible before they are read (with one vCPU stopped during
     * the exit this is order the compiler must keep, not the CPU). */
    uint32_t cons = __atomic_load_n(&ring->out_cons, __ATOMIC_ACQUIRE);
    uint32_t prod = __atomic_load_n(&ring->out_prod, __ATOMIC_ACQUIRE);
    uint32_t n = prod - cons;
    if (n > HVKIT_CONSOLE_OUT_SIZE)
        return HC_EINVAL;
    for (uint32_t i = 0; i < n; i++)
        put(c, ring->out[(cons + i) % HVKIT_CONSOLE_OUT_SIZE], out, ctx);
    /* The space is the producer's again only after the bytes were read. */
    __atomic_store_n(&ring->out_cons, prod, __ATOMIC_RELEASE);
    c->bytes += n;
    return (long)n;
    /* LAB 04: END */
}

void pv_console_flush(struct pv_console *c, pv_line_fn out, void *ctx)
{
    /* Unlike a '\n', an empty remainder is no line at all. */
    if (c->len)
        out(ctx, c->line, c->len);
    c->len = 0;
}
