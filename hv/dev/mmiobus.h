/*
 * mmiobus.h - the guest's memory-mapped I/O bus, beside the port bus
 * (iobus.h).  A device model owns a range of guest-physical addresses (the
 * local APIC's page at 0xfee00000, an I/O APIC, a virtio-mmio window); a
 * guest load or store there is not backed by RAM, so the CPU takes a
 * second-level violation exit, the core decodes the instruction and comes
 * here with the address, the size and, for a store, the value.
 *
 * Unlike the port bus, an access that hits nothing is not answered here:
 * mmio_read()/mmio_write() say so, and the core decides (it ends the guest
 * as crashed, naming the address; see core/violation.c).  Compiled hosted
 * too (tests/unit/test_hv_mmio.c).
 */
#ifndef HV_DEV_MMIOBUS_H
#define HV_DEV_MMIOBUS_H

#include <stdbool.h>
#include <stdint.h>

/*
 * A device model on the bus.  It owns [base, base + size).  Accesses of 1,
 * 2, 4 or 8 bytes that lie wholly inside the range arrive as they are, with
 * the offset from base; read returns the value in the low `size` bytes
 * (the bus masks off anything above them).  An access that runs past the
 * end of a device is split into bytes (see mmiobus.c).  The device is linked
 * into the bus through `next`, so the bus holds any number of devices
 * without allocating; the device must outlive its bus (in hv both live in
 * the domain) or be removed first.
 */
struct mmio_device {
    const char *name;
    uint64_t base;
    uint64_t size;
    uint64_t (*read)(void *ctx, uint64_t offset, uint8_t size);
    void (*write)(void *ctx, uint64_t offset, uint8_t size, uint64_t value);
    void *ctx;
    /* Optional (NULL: nothing to do): give back what the model allocated,
     * when its domain is torn down (hv/core/teardown.c).  No access comes
     * after it. */
    void (*release)(void *ctx);
    /* The bus's link, kept sorted by base; set by mmio_add(). */
    struct mmio_device *next;
};

struct mmio_bus {
    /* The devices in order of their base address. */
    struct mmio_device *head;
    unsigned ndev;
};

/* An empty bus. */
void mmio_bus_init(struct mmio_bus *bus);
/* Add a device.  Returns 0, or -1 when its range is empty, wraps past the
 * top of the 64-bit address space, or overlaps another device's. */
int mmio_add(struct mmio_bus *bus, struct mmio_device *dev);
/* Take a device off the bus (nothing happens if it is not on it). */
void mmio_remove(struct mmio_bus *bus, struct mmio_device *dev);

/* The device owning guest-physical `gpa`, or NULL. */
struct mmio_device *mmio_find(const struct mmio_bus *bus, uint64_t gpa);

/*
 * One guest load of `size` bytes (1, 2, 4 or 8) at `gpa`: true with the
 * value zero-extended in *value when at least one byte of the access
 * belongs to a device (bytes nobody owns read as 0xff, as on a PC's bus
 * with nothing driving the lines); false, with *value untouched, when none
 * does or the size is not 1, 2, 4 or 8.
 */
bool mmio_read(const struct mmio_bus *bus, uint64_t gpa, uint8_t size, uint64_t *value);
/* One guest store: true when at least one byte reached a device (bytes
 * nobody owns are dropped); false when none did or the size is bad. */
bool mmio_write(const struct mmio_bus *bus, uint64_t gpa, uint8_t size, uint64_t value);

#endif
