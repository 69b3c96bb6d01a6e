/*
 * pit8254.c - the 8254 timer (see pit8254.h).  Bits from the 82C54 data
 * sheet, "Control Word Format" and "Read-Back Command".
 */
#include "klib.h"

#include "pit8254.h"

/* The period of a channel in clocks: a count of 0 means 65536.  (The counter
 * is 16 bits wide; 0 is its largest count, not "stop".) */
static uint64_t period(const struct pit_channel *c)
{
    return c->reload ? c->reload : 65536u;
}

/* Number of rising edges of OUT from loading the count until `elapsed`
 * clocks later.  Mode 0 rises once, at terminal count; modes 2 and 3 rise
 * at the start of every period after the first (mode 2 drops OUT for one
 * clock at the end of each period, mode 3 for the second half). */
static uint64_t edges(const struct pit_channel *c, uint64_t elapsed)
{
    uint64_t n = period(c);
    /* Periodic modes: one rising edge per completed period. */
    if (c->mode == 2 || c->mode == 3)
        return elapsed / n;
    /* Modes 0, 1, 4 and 5 are treated as one-shots: one edge at the end.
     * Only mode 0 (and 2, 3) matter for an interrupt timer. */
    return elapsed >= n ? 1 : 0;
}

/* The OUT pin as a function of time since the count was loaded (data
 * sheet, "Mode Definitions" and figure 15, the waveforms of each mode). */
bool pit_out_at(const struct pit8254 *p, unsigned idx, uint64_t now)
{
    const struct pit_channel *c = &p->ch[idx];
    /* Mode 0 holds OUT low after the control word until terminal count;
     * modes 2 and 3 hold it high until counting starts. */
    if (!c->counting)
        return c->mode == 2 || c->mode == 3;
    uint64_t elapsed = now - c->start, n = period(c);
    /* Mode 2 (rate generator): low for the last clock of each period. */
    if (c->mode == 2)
        return elapsed % n != n - 1;
    /* Mode 3 (square wave): high for the first half, rounded up for odd
     * counts as the data sheet's waveform shows. */
    if (c->mode == 3)
        return elapsed % n < (n + 1) / 2;
    /* Mode 0: low until the terminal count, then high for good. */
    return elapsed >= n;
}

/* IRQ 0 is OUT 0 through the PIC's edge detector: what matters is whether
 * OUT rose since the core last asked. */
bool pit_irq0_edge(struct pit8254 *p, uint64_t now)
{
    struct pit_channel *c = &p->ch[0];
    /* A channel waiting for its count produces no edge. */
    if (!c->counting)
        return false;
    /* Edges are counted from the start, not from the last look, so no
     * rounding error can build up over a long run. */
    uint64_t e = edges(c, now - c->start);
    /* Several edges since the last look still make one request: the PIC
     * latches edges, it does not count them. */
    bool rose = e > c->edges_seen;
    c->edges_seen = e;
    return rose;
}

/* When OUT 0 next rises: how long a halted guest must sleep.  Returns PIT
 * clocks from `now`, or UINT64_MAX for "never" (irq.c then lets HLT complete
 * at once instead of sleeping forever). */
uint64_t pit_next_edge(const struct pit8254 *p, uint64_t now)
{
    const struct pit_channel *c = &p->ch[0];
    if (!c->counting)
        return UINT64_MAX;
    uint64_t elapsed = now - c->start, n = period(c);
    /* Periodic: the rest of the current period (a whole one if an edge
     * came exactly now). */
    if (c->mode == 2 || c->mode == 3)
        return n - elapsed % n;
    /* One-shot: the terminal count, unless it has already passed. */
    return elapsed >= n ? UINT64_MAX : n - elapsed;
}

/* The value the counting element holds at `now`: counting down from the
 * reload value (mode 3 counts by two, twice per period; shown here as one
 * sweep, close enough for reading elapsed time). */
static uint16_t current_count(const struct pit_channel *c, uint64_t now)
{
    /* Not counting yet: the register holds what was last loaded. */
    if (!c->counting)
        return (uint16_t)c->reload;
    uint64_t elapsed = now - c->start, n = period(c);
    /* A count of 65536 shows as 0, as the 16-bit register would. */
    if (c->mode == 2 || c->mode == 3)
        return (uint16_t)(n - elapsed % n);
    /* Mode 0 wraps past zero and keeps counting down (data sheet). */
    return (uint16_t)(n - elapsed);
}

/* Read-back status byte: OUT (bit 7), null count (bit 6: a count was
 * written but not yet loaded, never the case here), then the channel's
 * control word bits 5:0 (access, mode, BCD). */
static uint8_t status_byte(const struct pit8254 *p, unsigned idx, uint64_t now)
{
    const struct pit_channel *c = &p->ch[idx];
    /* BCD counting is not modelled, so bit 0 (BCD) always reads 0. */
    return (uint8_t)((pit_out_at(p, idx, now) ? 0x80 : 0) | (c->access << 4) | (c->mode << 1));
}

/* The control word at port 0x43. */
static void control(struct pit8254 *p, uint8_t v, uint64_t now)
{
    /* Bits 7:6 SC: the channel, or 3 for the read-back command. */
    unsigned sel = v >> 6;
    if (sel == 3) {
        /* Read-back: bit 5 = 0 latch counts, bit 4 = 0 latch status, bits
         * 3:1 select channels 2..0. */
        for (unsigned i = 0; i < 3; i++) {
            /* Channel i is selected by bit i + 1. */
            if (!(v & (2u << i)))
                continue;
            struct pit_channel *c = &p->ch[i];
            /* A second latch before the first is read is ignored: the
             * data sheet keeps the first value. */
            if (!(v & 0x10) && !c->status_latched) {
                c->status = status_byte(p, i, now);
                c->status_latched = true;
            }
            /* The count latch is the same as a counter latch command's:
             * both read back in the channel's access mode. */
            if (!(v & 0x20) && !c->latched) {
                c->latch = current_count(c, now);
                c->latched = true;
            }
        }
        return;
    }
    struct pit_channel *c = &p->ch[sel];
    /* Bits 5:4 RW: 1 LSB only, 2 MSB only, 3 LSB then MSB; 0 = latch. */
    unsigned access = (v >> 4) & 3;
    if (access == 0) {
        /* Counter latch command: freeze the count until it is read.  The mode
         * and access bits are left as they are. */
        if (!c->latched) {
            c->latch = current_count(c, now);
            c->latched = true;
        }
        return;
    }
    /* A new control word: new mode and access; counting stops until a new
     * count arrives (mode 0 drives OUT low at once). */
    c->access = (uint8_t)access;
    /* Bits 3:1 M: the mode. */
    c->mode = (v >> 1) & 7;
    /* Modes 6 and 7 are aliases of 2 and 3. */
    if (c->mode > 5)
        c->mode -= 4;
    c->counting = false;
    /* The byte sequencing of reads and writes restarts with the LSB. */
    c->write_msb = false;
    c->read_msb = false;
    c->latched = false;
    c->edges_seen = 0;
}

/* A count byte for channel `idx`: loading the full count starts it. */
static void write_count(struct pit8254 *p, unsigned idx, uint8_t v, uint64_t now)
{
    struct pit_channel *c = &p->ch[idx];
    if (c->access == 3 && !c->write_msb) {
        /* LSB first; the MSB completes the count. */
        c->lsb = v;
        c->write_msb = true;
        /* Mode 0: writing the first byte stops the count (data sheet). */
        if (c->mode == 0)
            c->counting = false;
        return;
    }
    /* The count is complete: assemble it from the byte(s) written. */
    if (c->access == 3)
        c->reload = (uint32_t)c->lsb | ((uint32_t)v << 8);
    /* MSB only: the low byte is 0 (a count of 0x100 * v). */
    else if (c->access == 2)
        c->reload = (uint32_t)v << 8;
    /* LSB only: the high byte is 0. */
    else
        c->reload = v;
    c->write_msb = false;
    /* Counting starts now (a real 8254 starts on the next clock, under a
     * microsecond later).  A new count in mode 2 or 3 restarts the period
     * at once here, where the chip would finish the current one first: a
     * difference of at most one period, once, which no guest relies on. */
    c->start = now;
    c->counting = true;
    c->edges_seen = 0;
}

/* A read at a channel's port: latched status first, then a latched or the
 * live count, byte by byte as the access mode says. */
static uint8_t read_count(struct pit8254 *p, unsigned idx, uint64_t now)
{
    struct pit_channel *c = &p->ch[idx];
    /* A latched status is read once, before any count byte. */
    if (c->status_latched) {
        c->status_latched = false;
        return c->status;
    }
    /* A latched count stays frozen until fully read, so that a two-byte
     * read gets both halves of the same value. */
    uint16_t count = c->latched ? c->latch : current_count(c, now);
    uint8_t v;
    /* One-byte access modes release the latch after that byte; the
     * LSB-then-MSB mode after the second. */
    if (c->access == 1) {
        /* LSB only. */
        v = (uint8_t)count;
        c->latched = false;
    } else if (c->access == 2) {
        /* MSB only. */
        v = (uint8_t)(count >> 8);
        c->latched = false;
    } else if (!c->read_msb) {
        /* LSB then MSB: the first read gives the low byte... */
        v = (uint8_t)count;
        c->read_msb = true;
    } else {
        /* ...the second the high byte, and only then is the latch free. */
        v = (uint8_t)(count >> 8);
        c->read_msb = false;
        c->latched = false;
    }
    return v;
}

/* Port writes: 0x43 is the control word, 0x40-0x42 the channels' counts.
 * Each access reads the clock once, so one instruction sees one instant. */
static void pit_write(void *ctx, uint16_t off, uint8_t size, uint32_t value)
{
    struct pit8254 *p = ctx;
    /* A narrow device: the bus gives it bytes only. */
    (void)size;
    uint64_t now = p->clock(p->clock_ctx);
    /* Offsets 0-2 are channels 0-2, 3 the control word. */
    if (off == 3)
        control(p, (uint8_t)value, now);
    else
        write_count(p, off, (uint8_t)value, now);
}

/* Port reads: a channel's status or count. */
static uint32_t pit_read(void *ctx, uint16_t off, uint8_t size)
{
    struct pit8254 *p = ctx;
    (void)size;
    /* The control register cannot be read (the 8254 floats the bus). */
    if (off == 3)
        return 0xff;
    return read_count(p, off, p->clock(p->clock_ctx));
}

/* Power-on state.  A PC BIOS would have started channel 0 at 18.2 Hz;
 * hv's guests start without a BIOS, so the timer is idle until the guest
 * programs it and no interrupt arrives unasked. */
void pit_init_state(struct pit8254 *p, pit_clock_fn clock, void *clock_ctx)
{
    memset(p, 0, sizeof(*p));
    /* The time source: irq.c's TSC-based clock in hv, a fake clock that
     * the test advances by hand in the unit test. */
    p->clock = clock;
    p->clock_ctx = clock_ctx;
    /* Before programming: mode 0, LSB-then-MSB, no count: OUT low.
     * LSB-then-MSB is what every PC driver programs, and a sane default for a
     * read before any control word. */
    for (unsigned i = 0; i < 3; i++)
        p->ch[i].access = 3;
    /* Ports 0x40-0x42 the channels, 0x43 the control word. */
    p->dev = (struct io_device){
        .name = "pit8254",
        .base = 0x40,
        .count = 4,
        .wide = false,
        .read = pit_read,
        .write = pit_write,
        .ctx = p,
    };
}
