/*
 * pit8254.h - the Intel 8254 programmable interval timer at ports
 * 0x40-0x43 (82C54 data sheet).  Its input clock runs at 1.193182 MHz;
 * channel 0's OUT drives IRQ 0.
 *
 * Time comes from outside as a count of input clocks (`now`), so the model
 * is a pure function of the guest's accesses and the clock: hv derives the
 * clock from the TSC, the unit tests from a variable.  Modelled: the control
 * word, LSB/MSB/LSB-then-MSB access, counter latch and read-back commands,
 * the OUT pin and current count in mode 0 (interrupt on terminal count),
 * mode 2 (rate generator) and mode 3 (square wave); modes 1, 4 and 5 (which
 * need the GATE input or a strobe) behave as mode 0.  BCD counting is not
 * modelled (counts are binary).  Channels 1 and 2 count but drive nothing.
 * Compiled hosted too (tests/unit/test_hv_irq.c).
 */
#ifndef HV_DEV_PIT8254_H
#define HV_DEV_PIT8254_H

#include <stdbool.h>
#include <stdint.h>

#include "iobus.h"

#define PIT_HZ 1193182u

/* Returns the current time in PIT input clocks. */
typedef uint64_t (*pit_clock_fn)(void *ctx);

struct pit_channel {
    uint8_t mode;    /* 0..5 */
    uint8_t access;  /* 1 LSB, 2 MSB, 3 LSB then MSB */
    uint32_t reload; /* the count written (0 means 65536) */
    uint64_t start;  /* clock when counting began */
    bool counting;   /* a count has been loaded since the control word */
    bool write_msb;  /* LSB-then-MSB access: the MSB comes next */
    uint8_t lsb;     /* the LSB written, waiting for its MSB */
    bool read_msb;   /* LSB-then-MSB reads: the MSB comes next */
    bool latched;    /* a counter latch command froze `latch` */
    uint16_t latch;
    bool status_latched; /* a read-back command froze `status` */
    uint8_t status;
    uint64_t edges_seen; /* rising edges of OUT already reported */
};

struct pit8254 {
    struct pit_channel ch[3];
    pit_clock_fn clock;
    void *clock_ctx;
    struct io_device dev;
};

void pit_init_state(struct pit8254 *p, pit_clock_fn clock, void *clock_ctx);

/* Channel `c`'s OUT pin at time `now`. */
bool pit_out_at(const struct pit8254 *p, unsigned c, uint64_t now);

/* True when channel 0's OUT rose (an IRQ 0 edge) since the last call. */
bool pit_irq0_edge(struct pit8254 *p, uint64_t now);

/* Clocks from `now` until channel 0's OUT next rises; UINT64_MAX if never
 * (no count loaded, or a one-shot that already fired). */
uint64_t pit_next_edge(const struct pit8254 *p, uint64_t now);

#endif
