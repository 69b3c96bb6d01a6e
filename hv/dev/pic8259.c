/*
 * pic8259.c - the 8259A pair (see pic8259.h).  Register and command bits
 * from the Intel 8259A data sheet, "Programming the 8259A".
 */
#include "klib.h"

#include "pic8259.h"

/* The master's input that the slave's output drives (ICW3 on a PC). */
#define CASCADE_IRQ 2

/* Requests of one chip, plus the slave's output on the master's IR2. */
static uint8_t requests(const struct pic8259 *p, const struct pic_chip *c);

/* The highest-priority IR (lowest number) of a chip that may interrupt:
 * requested, unmasked, and of higher priority than everything in service
 * (fixed priority, data sheet "Fully Nested Mode").  -1 if none. */
static int chip_pending(const struct pic8259 *p, const struct pic_chip *c)
{
    /* OCW1's mask hides a request from the priority logic but leaves it
     * latched in IRR: unmasking later delivers it. */
    uint8_t req = requests(p, c) & (uint8_t)~c->imr;
    /* IR0 has the highest priority, IR7 the lowest (no rotation).  Fully
     * nested mode: an IR may interrupt only if it outranks every IR in
     * service, so scan from the top priority down. */
    for (int ir = 0; ir < 8; ir++) {
        /* An in-service IR of equal or higher priority blocks the rest. */
        if (c->isr & (1u << ir))
            return -1;
        if (req & (1u << ir))
            return ir;
    }
    return -1;
}

/* The two functions call each other only one level deep: the slave's
 * requests never include a cascade input, so the recursion ends. */
static uint8_t requests(const struct pic8259 *p, const struct pic_chip *c)
{
    uint8_t req = c->irr;
    /* The slave's INT output is a level on the master's IR2. */
    if (c == &p->master && chip_pending(p, &p->slave) >= 0)
        req |= 1u << CASCADE_IRQ;
    return req;
}

/* A device drives its IRQ line; the chip that owns it latches rising
 * edges into IRR (data sheet, "Edge Triggered Mode"). */
void pic_set_irq(struct pic8259 *p, unsigned irq, bool high)
{
    /* Only 16 lines exist. */
    if (irq > 15)
        return;
    /* The master's IR2 is driven by the slave's INT output and nothing
     * else: on the PC/AT the ISA bus's IRQ 2 line was rewired to the
     * slave's IR1, so a device on IRQ 2 arrives as IRQ 9.  Latching it on
     * the master's IR2 would make the master ask the slave for a vector
     * it does not have. */
    if (irq == CASCADE_IRQ)
        irq = 9;
    /* IRQ 0-7 are the master's inputs, 8-15 the slave's. */
    struct pic_chip *c = irq < 8 ? &p->master : &p->slave;
    uint8_t bit = (uint8_t)(1u << (irq & 7));
    if (c->elcr & bit) {
        /* Level triggered: the request is the line itself, and goes
         * away with it (data sheet, "Edge and Level Triggered Modes"). */
        c->irr = high ? c->irr | bit : c->irr & (uint8_t)~bit;
    } else if (high && !(c->level & bit)) {
        /* Edge triggered: only a rising edge latches a request in IRR. */
        c->irr |= bit;
    }
    /* Remember the line's level, to see the next edge. */
    if (high)
        c->level |= bit;
    else
        c->level &= (uint8_t)~bit;
}

/* What the PICs' INT output says: the vector the CPU would receive if it
 * acknowledged now (the core asks this before every guest entry). */
int pic_pending(const struct pic8259 *p)
{
    /* Everything goes through the master: its priority logic decides,
     * with the slave's output as one of its inputs. */
    int ir = chip_pending(p, &p->master);
    if (ir < 0)
        return -1;
    if (ir == CASCADE_IRQ) {
        /* The slave supplies the vector (data sheet, "Cascading").  Its
         * request is what made IR2 pending, so sir is a valid IR here as
         * long as nothing raises the master's IRQ 2 line directly (hv
         * never does: on a PC that line is the cascade). */
        int sir = chip_pending(p, &p->slave);
        return p->slave.base + sir;
    }
    /* ICW2 gave the upper five bits, the IR number is the lower three. */
    return p->master.base + ir;
}

/* Acknowledge IR `ir` on one chip: IRR -> ISR (unless automatic EOI). */
static void ack_chip(struct pic_chip *c, int ir)
{
    /* An edge request is consumed: a new edge is needed for another one.
     * A level request stays while the line is high, so after the EOI a
     * device that still asserts it interrupts again. */
    if (!(c->elcr & (1u << ir)))
        c->irr &= (uint8_t) ~(1u << ir);
    /* In service until the guest's EOI; with AEOI the chip ends it by
     * itself at the end of the acknowledge cycle. */
    if (!c->auto_eoi)
        c->isr |= (uint8_t)(1u << ir);
}

/* The CPU's interrupt-acknowledge cycle (two INTA pulses on a PC), done by
 * the core when it injects: returns the vector and moves the request into
 * service, or -1 when nothing is pending.  Must agree with pic_pending(). */
int pic_acknowledge(struct pic8259 *p)
{
    int ir = chip_pending(p, &p->master);
    if (ir < 0)
        return -1;
    if (ir == CASCADE_IRQ) {
        /* The same choice pic_pending() made. */
        int sir = chip_pending(p, &p->slave);
        /* Both chips take part: the master puts IR2 in service, the slave
         * its own IR. */
        ack_chip(&p->slave, sir);
        ack_chip(&p->master, CASCADE_IRQ);
        return p->slave.base + sir;
    }
    ack_chip(&p->master, ir);
    return p->master.base + ir;
}

/* OCW2 (command port, bits 4:3 = 00): end of interrupt. */
static void ocw2(struct pic_chip *c, uint8_t v)
{
    /* Bits 7:5 are R, SL and EOI (data sheet, "Operation Command Words"). */
    unsigned op = v >> 5;
    if (op == 1 || op == 5) {
        /* Non-specific EOI (with or without rotation): the highest-priority
         * IR in service is done. */
        for (int ir = 0; ir < 8; ir++) {
            if (c->isr & (1u << ir)) {
                /* With fixed priority that is the lowest set ISR bit.  A
                 * guest's handler for a slave IRQ sends this to both chips:
                 * the slave's IR and the master's IR2. */
                c->isr &= (uint8_t) ~(1u << ir);
                break;
            }
        }
    } else if (op == 3 || op == 7) {
        /* Specific EOI: bits 2:0 name the IR. */
        c->isr &= (uint8_t) ~(1u << (v & 7));
    }
    /* Other codes set priorities or rotation modes: not modelled. */
}

/* Port writes of one chip: the command port (offset 0) takes ICW1, OCW2
 * and OCW3, told apart by bits 4 and 3; the data port (offset 1) takes
 * ICW2-4 during initialization and OCW1 (the mask) after it. */
static void chip_write(void *ctx, uint16_t off, uint8_t size, uint32_t value)
{
    struct pic_chip *c = ctx;
    uint8_t v = (uint8_t)value;
    /* A narrow device: always one byte. */
    (void)size;
    if (off == 0) {
        /* Bit 4 set marks ICW1, whatever else the byte holds. */
        if (v & 0x10) {
            /* ICW1: start initialization.  The mask and requests are
             * cleared; a line already high must go low and high again to
             * be seen (data sheet, "Initialization Command Words"). */
            c->isr = c->imr = 0;
            /* Level-triggered lines that are high still request. */
            c->irr = c->level & c->elcr;
            c->read_isr = false;
            c->auto_eoi = false;
            /* Bit 1 SNGL: no cascade, so no ICW3.  Bit 0 IC4: ICW4 follows
             * (a PC's BIOS and every OS send it, for 8086 mode). */
            c->need_icw3 = !(v & 0x02);
            c->need_icw4 = v & 0x01;
            /* The next data-port write is ICW2. */
            c->init_step = 2;
        } else if (v & 0x08) {
            /* OCW3: bits 1:0 = 10 read IRR, 11 read ISR next. */
            if (v & 0x02)
                c->read_isr = v & 0x01;
        } else {
            /* Bits 4:3 = 00: OCW2, the EOI commands. */
            ocw2(c, v);
        }
        return;
    }
    /* The data port: the next ICW during initialization, else OCW1. */
    switch (c->init_step) {
    case 2:
        /* ICW2: the vector base (in 8086 mode the low 3 bits are the IR). */
        c->base = v & 0xf8;
        /* Which ICW comes next depends on what ICW1 announced; 0 means
         * initialization is complete and the data port is OCW1 again. */
        c->init_step = c->need_icw3 ? 3 : c->need_icw4 ? 4 : 0;
        return;
    case 3:
        /* ICW3: the cascade wiring, fixed on a PC: nothing to keep. */
        c->init_step = c->need_icw4 ? 4 : 0;
        return;
    case 4:
        /* ICW4: bit 1 = automatic EOI. */
        c->auto_eoi = v & 0x02;
        /* Bit 0 (8086 mode) is assumed; the 8080 mode's CALL vectors make
         * no sense on an x86 CPU.  Buffered and special fully nested modes
         * (bits 2-4) change nothing visible here. */
        c->init_step = 0;
        return;
    default:
        /* OCW1: the interrupt mask. */
        c->imr = v;
        return;
    }
}

/* Port reads of one chip. */
static uint32_t chip_read(void *ctx, uint16_t off, uint8_t size)
{
    /* Reads change nothing (the poll command of OCW3 is not modelled). */
    const struct pic_chip *c = ctx;
    (void)size;
    /* Data port: the mask.  Command port: IRR or ISR, as OCW3 chose. */
    if (off == 1)
        return c->imr;
    return c->read_isr ? c->isr : c->irr;
}

/* The ELCRs: port 0x4d0 for IRQ 0-7, 0x4d1 for IRQ 8-15.  The bits of the
 * timer, keyboard, cascade, RTC and FPU lines (IRQ 0, 1, 2, 8, 13) are
 * fixed at 0, edge (PIIX4 data sheet, ELCR1 and ELCR2). */
static struct pic_chip *elcr_chip(struct pic8259 *p, uint16_t off)
{
    return off == 0 ? &p->master : &p->slave;
}

static void elcr_write(void *ctx, uint16_t off, uint8_t size, uint32_t value)
{
    struct pic_chip *c = elcr_chip(ctx, off);
    (void)size;
    c->elcr = (uint8_t)value & c->elcr_mask;
    /* A line switched to level mode requests at once if it is high; one
     * switched to edge keeps only what it already latched. */
    c->irr |= c->level & c->elcr;
}

static uint32_t elcr_read(void *ctx, uint16_t off, uint8_t size)
{
    (void)size;
    return elcr_chip(ctx, off)->elcr;
}

/* One chip at its two ports. */
static void chip_init(struct pic_chip *c, uint16_t port)
{
    /* No requests, nothing in service, IRR selected for reads. */
    memset(c, 0, sizeof(*c));
    /* Until the guest programs it, nothing gets through. */
    c->imr = 0xff;
    /* Two ports per chip: command (even) and data (odd). */
    c->dev = (struct io_device){
        .name = "pic8259",
        .base = port,
        .count = 2,
        .wide = false,
        .read = chip_read,
        .write = chip_write,
        .ctx = c,
    };
}

/* Both chips in their power-on state, for irq_init(); the caller puts
 * p->master.dev and p->slave.dev on the bus. */
void pic_init_state(struct pic8259 *p)
{
    /* The PC/AT's ports: master 0x20/0x21, slave 0xa0/0xa1. */
    chip_init(&p->master, 0x20);
    chip_init(&p->slave, 0xa0);
    /* The BIOS's vectors on a PC (8 and 0x70), in case a guest unmasks
     * without initializing. */
    p->master.base = 0x08;
    p->slave.base = 0x70;
    /* Every line edge-triggered at reset; which may be level. */
    p->master.elcr_mask = 0xf8;
    p->slave.elcr_mask = 0xde;
    p->elcr_dev = (struct io_device){
        .name = "elcr",
        .base = 0x4d0,
        .count = 2,
        .wide = false,
        .read = elcr_read,
        .write = elcr_write,
        .ctx = p,
    };
}
