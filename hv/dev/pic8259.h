/*
 * pic8259.h - the two cascaded Intel 8259A programmable interrupt
 * controllers of the PC (8259A data sheet; the slave's INT output drives
 * the master's IR2).  Enough of the chip for a guest to route IRQs to
 * vectors, mask them and acknowledge them with EOI:
 *   - initialization: ICW1 (edge triggered, cascade, ICW4 follows), ICW2
 *     (vector base), ICW3, ICW4 (8086 mode, normal or automatic EOI);
 *   - OCW1 (the interrupt mask), OCW2 (non-specific and specific EOI),
 *     OCW3 (read IRR or ISR at the command port);
 *   - fixed priority, IR0 highest;
 *   - edge or level triggering per IRQ, chosen by the PC's edge/level
 *     control registers (ELCR) at ports 0x4d0 (IRQ 0-7) and 0x4d1 (IRQ
 *     8-15), so that devices can share a line (Intel 82371AB PIIX4 data
 *     sheet, "ELCR1/ELCR2--Edge/Level Control Registers").
 * Not modelled: ICW1's LTIM bit (on a PC the ELCR decides; QEMU ignores
 * LTIM too), rotation, special mask and poll modes, buffered mode
 * (commands for them are accepted and ignored).
 * Compiled hosted too (tests/unit/test_hv_irq.c).
 */
#ifndef HV_DEV_PIC8259_H
#define HV_DEV_PIC8259_H

#include <stdbool.h>
#include <stdint.h>

#include "iobus.h"

/* One 8259A. */
struct pic_chip {
    uint8_t irr;       /* interrupt request register: latched edges */
    uint8_t isr;       /* in-service register: acknowledged, not yet EOI'd */
    uint8_t imr;       /* interrupt mask register (OCW1) */
    uint8_t base;      /* vector of IR0 (ICW2, low 3 bits zero) */
    uint8_t level;     /* the IR input lines as last seen, for edges */
    uint8_t init_step; /* 0: ready; 2, 3, 4: expecting ICW2/3/4 */
    bool need_icw3;    /* ICW1 SNGL = 0: cascade mode, ICW3 follows */
    bool need_icw4;    /* ICW1 IC4 = 1 */
    bool auto_eoi;     /* ICW4 AEOI */
    bool read_isr;     /* OCW3: the command port reads ISR, else IRR */
    uint8_t elcr;      /* ELCR: 1 = level-triggered IR */
    uint8_t elcr_mask; /* the IRs that can be level-triggered */
    struct io_device dev;
};

struct pic8259 {
    struct pic_chip master, slave;
    /* The two ELCRs at 0x4d0/0x4d1. */
    struct io_device elcr_dev;
};

/* Power-on state at ports 0x20/0x21 and 0xa0/0xa1 (ELCRs at 0x4d0/0x4d1,
 * every line edge-triggered): everything masked until the guest
 * initializes the chips.  The caller puts master.dev, slave.dev and
 * elcr_dev on the bus. */
void pic_init_state(struct pic8259 *p);

/* Drive IRQ line `irq` (0..15) to `high`.  Edge-triggered lines latch a
 * request on a low-to-high transition; level-triggered ones request while
 * high and stop when the line goes low.  IRQ 2 is the PC/AT's IRQ 9 (the
 * master's IR2 is the cascade); numbers above 15 are ignored. */
void pic_set_irq(struct pic8259 *p, unsigned irq, bool high);

/* The vector the PICs would deliver now, or -1 when no unmasked request
 * beats the ones in service. */
int pic_pending(const struct pic8259 *p);

/* The CPU's interrupt acknowledge: move the request into service and
 * return its vector (-1 when nothing is pending). */
int pic_acknowledge(struct pic8259 *p);

#endif
