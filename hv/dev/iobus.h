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
     * side, so that the exit fast path's look at both (iobus_out_void())
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
 * model (the exit fast path, core/fastpath.c, takes such accesses). */
bool iobus_unowned(const struct iobus *bus, uint16_t port, uint8_t size);
/* True when an OUT there would do nothing at all: no device owns the
 * ports, and the first was reported already (iobus_out() would only drop
 * the value). */
bool iobus_out_void(const struct iobus *bus, uint16_t port, uint8_t size);

/* One guest IN (returns the value, zero-extended) or OUT of `size` bytes
 * (1, 2 or 4) at `port`. */
uint32_t iobus_in(struct iobus *bus, uint16_t port, uint8_t size);
void iobus_out(struct iobus *bus, uint16_t port, uint8_t size, uint32_t value);

#endif
