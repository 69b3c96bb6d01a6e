/*
 * inflate.c - a DEFLATE decoder (see inflate.h), written from RFC 1951.
 *
 * A deflate stream is a series of blocks (3.2.3 "Details of block
 * format"), each starting with BFINAL (1 bit) and BTYPE (2 bits): stored
 * bytes (00), or symbols coded with the fixed (01) or the block's own
 * dynamic (10) Huffman codes.  A symbol is a literal byte (0-255), the end
 * of the block (256) or a length (257-285) followed by a distance code:
 * copy that many bytes from that far back in the output (3.2.5
 * "Compressed blocks (length and distance codes)").
 *
 * Huffman codes here are canonical (3.2.2 "Use of Huffman coding in the
 * 'deflate' format"): a code is fully described by each symbol's code
 * length, so a table holds only how many codes each length has and the
 * symbols in code order, and decoding walks the code one bit at a time,
 * comparing against the first code of each length.  Slow next to zlib's
 * table lookups, but short, and a compressed qcow2 cluster is 64 KiB.
 */
#include "klib.h"

#include "inflate.h"

/* The longest code (3.2.2), and the most literal/length and distance
 * symbols a block can define (3.2.5, 3.2.7). */
#define MAXBITS  15
#define MAXLCODE 286
#define MAXDCODE 30
#define FIXLCODE 288

/* The input, read LSB first (3.1.1 "Packing into bytes"). */
struct in {
    const uint8_t *p;
    size_t len, pos;
    uint32_t bitbuf;
    unsigned bitcnt;
};

struct out {
    uint8_t *p;
    size_t len, pos;
};

/* A canonical Huffman code: codes per length, symbols in code order. */
struct huffman {
    uint16_t count[MAXBITS + 1];
    uint16_t symbol[FIXLCODE];
};

/* The next n bits (n <= 16) as a number, or -1 when the input ends. */
static int bits(struct in *s, unsigned n)
{
    while (s->bitcnt < n) {
        if (s->pos == s->len)
            return -1;
        s->bitbuf |= (uint32_t)s->p[s->pos++] << s->bitcnt;
        s->bitcnt += 8;
    }
    int v = (int)(s->bitbuf & ((1u << n) - 1));
    s->bitbuf >>= n;
    s->bitcnt -= n;
    return v;
}

/* Build the code from each symbol's length (0: symbol unused).  Returns
 * -1 when the lengths ask for more codes than there are (over-subscribed),
 * otherwise 0; an incomplete code is allowed (a stream using one of its
 * missing codes fails in decode()). */
static int build(struct huffman *h, const uint8_t *length, unsigned n)
{
    uint16_t offs[MAXBITS + 1];
    memset(h->count, 0, sizeof(h->count));
    for (unsigned sym = 0; sym < n; sym++)
        h->count[length[sym]]++;
    /* Each length doubles the codes available and uses count[len]. */
    int left = 1;
    for (unsigned len = 1; len <= MAXBITS; len++) {
        left = left * 2 - h->count[len];
        if (left < 0)
            return -1;
    }
    /* Where each length's symbols start in symbol[], then the symbols
     * sorted by length, and within a length by value (3.2.2 rule 2). */
    offs[1] = 0;
    for (unsigned len = 1; len < MAXBITS; len++)
        offs[len + 1] = (uint16_t)(offs[len] + h->count[len]);
    for (unsigned sym = 0; sym < n; sym++)
        if (length[sym])
            h->symbol[offs[length[sym]]++] = (uint16_t)sym;
    return 0;
}

/* One symbol: add bits until the code read so far is one of this
 * length's codes (codes of a length are consecutive, after all shorter
 * ones, 3.2.2).  -1 at the end of input or on a code the table lacks. */
static int decode(struct in *s, const struct huffman *h)
{
    int code = 0, first = 0, index = 0;
    for (unsigned len = 1; len <= MAXBITS; len++) {
        int b = bits(s, 1);
        if (b < 0)
            return -1;
        code |= b;
        int count = h->count[len];
        if (code - count < first)
            return h->symbol[index + (code - first)];
        index += count;
        first = (first + count) << 1;
        code <<= 1;
    }
    return -1;
}

/* Lengths and distances: a base and a number of extra bits for each
 * symbol (the tables of 3.2.5). */
static const uint16_t len_base[29] = {3,  4,  5,  6,   7,   8,   9,   10,  11, 13,
                                      15, 17, 19, 23,  27,  31,  35,  43,  51, 59,
                                      67, 83, 99, 115, 131, 163, 195, 227, 258};
static const uint8_t len_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                      2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static const uint16_t dist_base[30] = {
    1,   2,   3,   4,   5,   7,    9,    13,   17,   25,   33,   49,   65,    97,    129,
    193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
static const uint8_t dist_extra[30] = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                       6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

/* The symbols of one compressed block, until its end code (0) or until
 * the output is full (1); -1 on a bad stream. */
static int codes(struct in *s, struct out *o, const struct huffman *lit, const struct huffman *dist)
{
    for (;;) {
        int sym = decode(s, lit);
        if (sym < 0)
            return -1;
        if (sym < 256) {
            o->p[o->pos++] = (uint8_t)sym;
            if (o->pos == o->len)
                return 1;
            continue;
        }
        if (sym == 256)
            return 0;
        /* A length, then its distance. */
        sym -= 257;
        if (sym >= 29)
            return -1;
        int extra = bits(s, len_extra[sym]);
        int dsym = extra < 0 ? -1 : decode(s, dist);
        if (dsym < 0 || dsym >= 30)
            return -1;
        int dextra = bits(s, dist_extra[dsym]);
        if (dextra < 0)
            return -1;
        size_t len = (size_t)len_base[sym] + (size_t)extra;
        size_t d = (size_t)dist_base[dsym] + (size_t)dextra;
        /* A reference to before the start of the output is corrupt. */
        if (d > o->pos)
            return -1;
        /* Byte by byte: the copy may overlap what it produces (a run). */
        for (; len; len--) {
            o->p[o->pos] = o->p[o->pos - d];
            if (++o->pos == o->len)
                return 1;
        }
    }
}

/* A stored block (3.2.4 "Non-compressed blocks (BTYPE=00)"): from the
 * next byte boundary, LEN and its complement NLEN, then LEN bytes. */
static int stored(struct in *s, struct out *o)
{
    s->bitbuf = 0;
    s->bitcnt = 0;
    if (s->len - s->pos < 4)
        return -1;
    unsigned len = s->p[s->pos] | s->p[s->pos + 1] << 8;
    unsigned nlen = s->p[s->pos + 2] | s->p[s->pos + 3] << 8;
    s->pos += 4;
    if (len != (~nlen & 0xffff) || s->len - s->pos < len)
        return -1;
    size_t n = len < o->len - o->pos ? len : o->len - o->pos;
    memcpy(o->p + o->pos, s->p + s->pos, n);
    s->pos += len;
    o->pos += n;
    return o->pos == o->len;
}

/* A block with the fixed codes (3.2.6 "Compression with fixed Huffman
 * codes (BTYPE=01)"). */
static int fixed(struct in *s, struct out *o)
{
    static struct huffman lit, dist;
    static bool built;
    if (!built) {
        uint8_t length[FIXLCODE];
        for (unsigned i = 0; i < FIXLCODE; i++)
            length[i] = i < 144 ? 8 : i < 256 ? 9 : i < 280 ? 7 : 8;
        build(&lit, length, FIXLCODE);
        for (unsigned i = 0; i < MAXDCODE; i++)
            length[i] = 5;
        build(&dist, length, MAXDCODE);
        built = true;
    }
    return codes(s, o, &lit, &dist);
}

/* The order the code length code's lengths are sent in (3.2.7). */
static const uint8_t clen_order[19] = {16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
                                       11, 4,  12, 3, 13, 2, 14, 1, 15};

/* Read a dynamic block's two codes (3.2.7 "Compression with dynamic
 * Huffman codes (BTYPE=10)"); -1 when they are malformed. */
static int read_dynamic_codes(struct in *s, struct huffman *lit, struct huffman *dist)
{
    uint8_t length[MAXLCODE + MAXDCODE];
    int nlen = bits(s, 5), ndist = bits(s, 5), ncode = bits(s, 4);
    if (nlen < 0 || ndist < 0 || ncode < 0)
        return -1;
    nlen += 257;
    ndist += 1;
    ncode += 4;
    if (nlen > MAXLCODE || ndist > MAXDCODE)
        return -1;
    /* The code that codes the code lengths; it must be complete. */
    struct huffman clen;
    memset(length, 0, 19);
    for (int i = 0; i < ncode; i++) {
        int v = bits(s, 3);
        if (v < 0)
            return -1;
        length[clen_order[i]] = (uint8_t)v;
    }
    if (build(&clen, length, 19) < 0)
        return -1;
    /* The literal/length and distance lengths, as one sequence with
     * repeats (16: the previous length 3-6 times, 17 and 18: zeros). */
    int index = 0;
    while (index < nlen + ndist) {
        int sym = decode(s, &clen);
        if (sym < 0)
            return -1;
        if (sym < 16) {
            length[index++] = (uint8_t)sym;
            continue;
        }
        int rep, val = 0;
        if (sym == 16) {
            if (index == 0)
                return -1;
            val = length[index - 1];
            rep = bits(s, 2);
            rep = rep < 0 ? -1 : 3 + rep;
        } else if (sym == 17) {
            rep = bits(s, 3);
            rep = rep < 0 ? -1 : 3 + rep;
        } else {
            rep = bits(s, 7);
            rep = rep < 0 ? -1 : 11 + rep;
        }
        if (rep < 0 || index + rep > nlen + ndist)
            return -1;
        while (rep--)
            length[index++] = (uint8_t)val;
    }
    /* A block without an end-of-block code could never end. */
    if (length[256] == 0)
        return -1;
    if (build(lit, length, (unsigned)nlen) < 0 || build(dist, length + nlen, (unsigned)ndist) < 0)
        return -1;
    return 0;
}

static int dynamic(struct in *s, struct out *o)
{
    struct huffman lit, dist;
    if (read_dynamic_codes(s, &lit, &dist) < 0)
        return -1;
    return codes(s, o, &lit, &dist);
}

int inflate_raw(uint8_t *dst, size_t dst_len, const uint8_t *src, size_t src_len)
{
    struct in s = {.p = src, .len = src_len};
    struct out o = {.p = dst, .len = dst_len};
    if (dst_len == 0)
        return 0;
    /* Block after block until the last, or until the output is full. */
    for (;;) {
        int last = bits(&s, 1), type = bits(&s, 2), r;
        if (last < 0 || type < 0)
            return -1;
        if (type == 0)
            r = stored(&s, &o);
        else if (type == 1)
            r = fixed(&s, &o);
        else if (type == 2)
            r = dynamic(&s, &o);
        else
            return -1;
        if (r < 0)
            return -1;
        if (r == 1 || o.pos == o.len)
            return 0;
        if (last)
            return -1;
    }
}
