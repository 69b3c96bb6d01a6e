/*
 * iobus.h - the guest's port-I/O bus.  Every IN/OUT of the guest exits (the
 * backend's I/O bitmap intercepts all ports) and arrives here; the bus finds
 * the device model that owns the port.  Ports nobody owns behave like an
 * empty ISA bus: reads return all ones for the access size, writes vanish;
 * each such port is reported once.  Compiled hosted too
 * (tests/unit/test_hv_dev.c).
 */
#ifndef HV_DEV_IOBUS_H
#define HV_DEV_IOBUS_H

#include <stdbool.h>
#include <stdint.h>

/* A device model on the bus.  Accesses arrive already split into single
 * bytes unless `wide` is set (then size is 1, 2 or 4 and the whole access
 * lies inside the device's ports).  The device is linked into the bus
 * through `next`, so a bus holds any number of devices without
 * allocating; it must outlive the bus (in hv both live in the domain). */
struct io_device {
    const char *name;
    uint16_t base;  /* first port */
    uint16_t count; /* number of ports */
    bool wide;
    uint32_t (*read)(void *ctx, uint16_t offset, uint8_t size);
    void (*write)(void *ctx, uint16_t offset, uint8_t size, uint32_t value);
    void *ctx;
    /* The bus's link; set by iobus_add(). */
    struct io_device *next;
};

/* Receives the bus's messages (one line each, no prefix). */
typedef void (*iobus_note_fn)(void *ctx, const char *line);

struct iobus {
    /* The devices, most recently added first. */
    struct io_device *head;
    unsigned ndev;
    /* Two bits per port, for eight ports a byte each: some device owns it
     * (set by iobus_add()), so that an access to a port nobody owns is told
     * apart without a search; and already reported as unknown.  Side by
     * side, so that the exit fast path's look at both (iobus_void())
     * touches one page of memory, not two. */
    struct {
        uint8_t owned, reported;
    } bits[65536 / 8];
    iobus_note_fn note;
    void *note_ctx;
    /* Accesses that reached a device model, counted: the core tells by it
     * whether a port I/O exit could have changed a device's state (an
     * interrupt request, core/irq.c) or went to a port nobody owns. */
    uint64_t device_accesses;
};

void iobus_init(struct iobus *bus, iobus_note_fn note, void *note_ctx);
/* Add a device; returns -1 if its range is empty, runs past port 0xFFFF or
 * overlaps another device's. */
int iobus_add(struct iobus *bus, struct io_device *dev);

/* True when no device owns any of the `size` ports from `port` on: an
 * IN there reads all ones, an OUT is lost, and neither reaches a device
 * model.  One bit per port, looked up for each byte of the access: a wide
 * access that only partly hits a device is not "unknown", the device's
 * bytes are served and the rest float high.  Inline: the exit fast path (core/fastpath.h) asks it
 * in the backend's loop, which keeps its code on one page. */
static inline bool iobus_unowned(const struct iobus *bus, uint16_t port, uint8_t size)
{
    for (uint8_t i = 0; i < size; i++) {
        /* The uint16_t cast wraps at 0xFFFF as the 16-bit port space does. */
        uint16_t p = (uint16_t)(port + i);
        if (bus->bits[p / 8].owned & (1u << (p % 8)))
            return false;
    }
    return true;
}

/* True when an IN or OUT there would do nothing but read all ones or drop
 * the value: no device owns the ports, and the first was reported already
 * (report_unknown() in iobus.c marks the access's first port), so there is
 * no log line to write either. */
static inline bool iobus_void(const struct iobus *bus, uint16_t port, uint8_t size)
{
    return (bus->bits[port / 8].reported & (1u << (port % 8))) && iobus_unowned(bus, port, size);
}

/* What an IN of `size` bytes reads where nobody drives the bus: it floats
 * high, all ones for the size (1u << 32 would be undefined behaviour,
 * hence the special case). */
static inline uint32_t iobus_float(uint8_t size)
{
    return size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

/* One guest IN (returns the value, zero-extended) or OUT of `size` bytes
 * (1, 2 or 4) at `port`. */
uint32_t iobus_in(struct iobus *bus, uint16_t port, uint8_t size);
void iobus_out(struct iobus *bus, uint16_t port, uint8_t size, uint32_t value);

#endif
