/*
 * iobus.c - port dispatch (see iobus.h).
 *
 * The x86 I/O address space has 65536 byte-wide ports (SDM vol 1 chapter
 * 19 "Input/Output").  A 16- or 32-bit IN/OUT touches 2 or 4 consecutive ports; on the PC's
 * ISA bus such an access is split into byte cycles, which is what this bus
 * does unless the device takes wide accesses itself.  A port nobody drives
 * reads as all ones, because the bus lines are pulled up: that is what a
 * driver probing for absent hardware expects to see.
 */
#include "klib.h"

#include "iobus.h"
#include "core/exitpath.h"

/* Start an empty bus.  `note` receives hv's one-line remarks about unknown
 * ports (main.c logs them; a unit test may collect them or pass NULL). */
void iobus_init(struct iobus *bus, iobus_note_fn note, void *note_ctx)
{
    /* No devices and no port reported yet. */
    memset(bus, 0, sizeof(*bus));
    bus->note = note;
    bus->note_ctx = note_ctx;
}

/* Register a device.  A handful of devices makes a linear search the
 * simplest correct lookup; the bus is consulted once per exit. */
int iobus_add(struct iobus *bus, struct io_device *dev)
{
    /* Refuse an empty range, or a range past port 0xFFFF: find() relies
     * on every range being inside the port space. */
    if (dev->count == 0 || (uint32_t)dev->base + dev->count > 0x10000u)
        return -1;
    /* Two devices on one port would make the bus ambiguous. */
    for (const struct io_device *d = bus->head; d; d = d->next) {
        /* Two half-open ranges overlap iff each starts before the other
         * ends. */
        if (dev->base < d->base + d->count && d->base < dev->base + dev->count)
            return -1;
    }
    /* The bus links the device in: it must outlive the bus (in hv both
     * live in the domain for the whole run). */
    dev->next = bus->head;
    bus->head = dev;
    bus->ndev++;
    /* Its ports are owned from now on; one reported as unknown before is
     * known again, and would be reported should it ever be free again. */
    for (uint32_t p = dev->base; p < (uint32_t)dev->base + dev->count; p++) {
        bus->bits[p / 8].owned |= (uint8_t)(1u << (p % 8));
        bus->bits[p / 8].reported &= (uint8_t) ~(1u << (p % 8));
    }
    return 0;
}

/* The device owning `port`, or NULL. */
EXIT_PATH static const struct io_device *find(const struct iobus *bus, uint16_t port)
{
    for (const struct io_device *d = bus->head; d; d = d->next) {
        /* Written as a difference so that base + count cannot overflow. */
        if (port >= d->base && port - d->base < d->count)
            return d;
    }
    return NULL;
}

/* Report an access to an unknown port, the first time only. */
EXIT_PATH static void report_unknown(struct iobus *bus, uint16_t port, bool in, uint8_t size,
                                     uint32_t value)
{
    /* One bit per port (8 KiB for all 65536): a guest probing a port in a
     * loop would otherwise flood the log, one line per exit. */
    if (bus->bits[port / 8].reported & (1u << (port % 8)))
        return;
    bus->bits[port / 8].reported |= (uint8_t)(1u << (port % 8));
    /* Hosted tests may run without a message sink. */
    if (!bus->note)
        return;
    /* The message says what the guest will see, so the reader of the log
     * can tell whether the guest's driver was merely probing. */
    char line[128];
    if (in)
        ksnprintf(line, sizeof(line),
                  "io: guest read unknown port %#x (size %u): returns all ones "
                  "(reported once per port)",
                  port, size);
    else
        ksnprintf(line, sizeof(line),
                  "io: guest wrote %#x to unknown port %#x (size %u): ignored "
                  "(reported once per port)",
                  value, port, size);
    bus->note(bus->note_ctx, line);
}

/* True when a wide device takes the whole access itself.  A "wide" device
 * decodes 16- and 32-bit accesses itself (e.g. the debug-exit port, whose
 * 32-bit OUT carries one value); a narrow one is an 8-bit ISA device that only
 * ever sees byte cycles. */
static bool wide_fit(const struct io_device *d, uint16_t port, uint8_t size)
{
    return d && d->wide && (uint32_t)(port - d->base) + size <= d->count;
}

/* IN of `size` bytes at `port`. */
EXIT_PATH uint32_t iobus_in(struct iobus *bus, uint16_t port, uint8_t size)
{
    /* Nobody drives the bus: it floats high, all ones for the size. */
    if (iobus_unowned(bus, port, size)) {
        report_unknown(bus, port, true, size, 0);
        return iobus_float(size);
    }
    /* A wide device that covers the whole access answers it at once. */
    const struct io_device *d = find(bus, port);
    if (wide_fit(d, port, size)) {
        bus->device_accesses++;
        return d->read(d->ctx, (uint16_t)(port - d->base), size);
    }
    /* Otherwise byte by byte, as an 8-bit ISA bus splits a wider access
     * into consecutive ports (little endian); bytes nobody owns read 0xff. */
    uint32_t v = 0;
    for (uint8_t i = 0; i < size; i++) {
        /* The uint16_t cast wraps at 0xFFFF as the 16-bit port space does. */
        uint16_t p = (uint16_t)(port + i);
        const struct io_device *b = find(bus, p);
        /* Each device is asked for one byte at its own offset. */
        uint32_t byte = 0xff;
        if (b) {
            bus->device_accesses++;
            byte = b->read(b->ctx, (uint16_t)(p - b->base), 1) & 0xff;
        }
        v |= byte << (8 * i);
    }
    return v;
}

/* OUT of `size` bytes of `value` at `port`. */
EXIT_PATH void iobus_out(struct iobus *bus, uint16_t port, uint8_t size, uint32_t value)
{
    /* Nobody listens: the write is lost, as on a real bus. */
    if (iobus_unowned(bus, port, size)) {
        report_unknown(bus, port, false, size, value);
        return;
    }
    /* A wide device that covers the whole access takes it at once. */
    const struct io_device *d = find(bus, port);
    /* The device gets the value and size as the guest wrote them. */
    if (wide_fit(d, port, size)) {
        bus->device_accesses++;
        d->write(d->ctx, (uint16_t)(port - d->base), size, value);
        return;
    }
    /* Byte cycles to whichever device owns each port. */
    for (uint8_t i = 0; i < size; i++) {
        uint16_t p = (uint16_t)(port + i);
        const struct io_device *b = find(bus, p);
        /* Bytes for ports nobody owns are dropped, without a report: part
         * of the access did reach a device, so it was not a stray probe. */
        if (b) {
            bus->device_accesses++;
            b->write(b->ctx, (uint16_t)(p - b->base), 1, (value >> (8 * i)) & 0xff);
        }
    }
}
