/*
 * ioapic.c - the I/O APIC (see ioapic.h).  Register layout from the 82093AA
 * data sheet, section 3 "Register Description".
 */
#include "klib.h"

#include "ioapic.h"

/* Version 0x20 (an I/O xAPIC with the EOI register, as QEMU's default),
 * highest redirection entry 23 in bits 23:16 (3.2.2 "IOAPICVER"). */
#define IOAPIC_VERSION_VALUE (0x20u | ((IOAPIC_PINS - 1u) << 16))

/* The bits of an entry software can write: vector, delivery mode,
 * destination mode, polarity, trigger mode, mask (bits 16:0 without the
 * two read-only ones) and the destination (63:56). */
#define IOAPIC_WRITABLE ((0x1ffffull & ~(IOAPIC_DELIVS | IOAPIC_REMOTE_IRR)) | (0xffull << 56))

/* The message an entry sends (3.2.4): vector in bits 7:0, delivery mode
 * in 10:8, destination mode in 11, trigger mode in 15, destination in
 * 63:56. */
static struct apic_msg message(uint64_t e)
{
    return (struct apic_msg){
        .dest = (uint32_t)(e >> 56),
        .logical = e & (1ull << 11),
        .mode = (uint8_t)((e >> 8) & 7),
        .vector = (uint8_t)e,
        .level = e & IOAPIC_LEVEL,
    };
}

/* Send what is waiting: an edge request once, a level request unless the
 * previous one is still being serviced (Remote IRR set).  A masked entry
 * keeps a level request waiting until it is unmasked. */
static void service(struct ioapic *io)
{
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
        uint32_t bit = 1u << pin;
        uint64_t *e = &io->redir[pin];
        if (!(io->irr & bit) || (*e & IOAPIC_MASKED))
            continue;
        if (*e & IOAPIC_LEVEL) {
            /* Remote IRR: the local APIC has the interrupt and has not yet
             * sent its EOI; one message per assertion until then. */
            if (*e & IOAPIC_REMOTE_IRR)
                continue;
            *e |= IOAPIC_REMOTE_IRR;
        } else {
            /* An edge is consumed by sending it. */
            io->irr &= ~bit;
        }
        struct apic_msg m = message(*e);
        if (io->send)
            io->send(io->send_ctx, &m);
    }
}

void ioapic_set_irq(struct ioapic *io, unsigned pin, bool asserted)
{
    if (pin >= IOAPIC_PINS)
        return;
    uint32_t bit = 1u << pin;
    bool rising = asserted && !(io->asserted & bit);
    io->asserted = asserted ? io->asserted | bit : io->asserted & ~bit;
    if (io->redir[pin] & IOAPIC_LEVEL) {
        /* Level: the request is the line itself. */
        io->irr = asserted ? io->irr | bit : io->irr & ~bit;
    } else if (rising && !(io->redir[pin] & IOAPIC_MASKED)) {
        /* Edge: an edge on a masked pin is lost (as on QEMU, which
         * follows the 82093AA: "edge-sensitive interrupts signaled on a
         * masked interrupt pin are ignored"). */
        io->irr |= bit;
    }
    service(io);
}

void ioapic_eoi(void *ctx, uint8_t vector)
{
    struct ioapic *io = ctx;
    /* Every level entry with this vector that waits for an EOI is done;
     * if its pin is still asserted, the interrupt is sent again. */
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
        uint64_t *e = &io->redir[pin];
        if ((uint8_t)*e == vector && (*e & IOAPIC_LEVEL) && (*e & IOAPIC_REMOTE_IRR)) {
            *e &= ~IOAPIC_REMOTE_IRR;
            if (io->asserted & (1u << pin))
                io->irr |= 1u << pin;
        }
    }
    service(io);
}

/* Register `index` through IOWIN. */
static uint32_t reg_read(const struct ioapic *io, uint32_t index)
{
    switch (index) {
    case IOAPIC_REG_ID:
        return (uint32_t)io->id << 24;
    case IOAPIC_REG_VER:
        return IOAPIC_VERSION_VALUE;
    case IOAPIC_REG_ARB:
        /* Loaded with the ID when the ID is written (3.2.3). */
        return (uint32_t)io->id << 24;
    default:
        break;
    }
    unsigned n = (index - IOAPIC_REG_REDTBL) / 2;
    if (index < IOAPIC_REG_REDTBL || n >= IOAPIC_PINS)
        return 0;
    /* Odd indexes are the high halves. */
    return (uint32_t)(index & 1 ? io->redir[n] >> 32 : io->redir[n]);
}

static void reg_write(struct ioapic *io, uint32_t index, uint32_t v)
{
    if (index == IOAPIC_REG_ID) {
        /* A 4-bit ID in bits 27:24 (3.2.1). */
        io->id = (v >> 24) & 0xf;
        return;
    }
    unsigned n = (index - IOAPIC_REG_REDTBL) / 2;
    if (index < IOAPIC_REG_REDTBL || n >= IOAPIC_PINS)
        return;
    uint64_t *e = &io->redir[n];
    uint64_t nv =
        index & 1 ? (*e & 0xffffffffull) | ((uint64_t)v << 32) : (*e & ~0xffffffffull) | v;
    /* The read-only bits keep their value. */
    nv = (nv & IOAPIC_WRITABLE) | (*e & (IOAPIC_DELIVS | IOAPIC_REMOTE_IRR));
    /* An edge entry has no Remote IRR: switching to edge clears it (the
     * way Linux ends a stuck level interrupt on an I/O APIC without the
     * EOI register, and QEMU honours). */
    if (!(nv & IOAPIC_LEVEL))
        nv &= ~IOAPIC_REMOTE_IRR;
    *e = nv;
    /* A level pin still asserted becomes a request again under the new
     * entry; an unmasked entry may now send what was held. */
    if ((nv & IOAPIC_LEVEL) && (io->asserted & (1u << n)))
        io->irr |= 1u << n;
    service(io);
}

uint64_t ioapic_mmio_read(void *ctx, uint64_t offset, uint8_t size)
{
    struct ioapic *io = ctx;
    /* The page repeats every 256 bytes on QEMU; only the first 0x40
     * bytes hold registers. */
    switch (offset & 0xff) {
    case IOAPIC_IOREGSEL:
        return io->regsel;
    case IOAPIC_IOWIN:
        /* The window is a 32-bit register (3.1.2). */
        return size == 4 ? reg_read(io, io->regsel) : 0;
    default:
        return 0;
    }
}

void ioapic_mmio_write(void *ctx, uint64_t offset, uint8_t size, uint64_t value)
{
    struct ioapic *io = ctx;
    switch (offset & 0xff) {
    case IOAPIC_IOREGSEL:
        /* Bits 7:0 select the register (3.1.1). */
        io->regsel = (uint32_t)value & 0xff;
        return;
    case IOAPIC_IOWIN:
        if (size == 4)
            reg_write(io, io->regsel, (uint32_t)value);
        return;
    case IOAPIC_EOI:
        /* The EOI register: like the local APIC's EOI message, by
         * vector (bits 7:0). */
        if (size == 4)
            ioapic_eoi(io, (uint8_t)value);
        return;
    default:
        return;
    }
}

void ioapic_init_state(struct ioapic *io, ioapic_send_fn send, void *send_ctx)
{
    memset(io, 0, sizeof(*io));
    io->send = send;
    io->send_ctx = send_ctx;
    /* Reset: every entry masked (3.2.4: the mask bit resets to 1). */
    for (unsigned i = 0; i < IOAPIC_PINS; i++)
        io->redir[i] = IOAPIC_MASKED;
}
