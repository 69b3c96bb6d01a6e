/*
 * mmiobus.c - memory-mapped device dispatch (see mmiobus.h).
 *
 * A guest-physical address is 64 bits wide, so ranges are handled with
 * care for the top of the address space: a range is kept as base and size,
 * and "inside" is tested as a difference (gpa - base < size), which cannot
 * overflow.  The devices form a list sorted by base; a guest has a handful
 * of memory-mapped devices and an MMIO access is already a slow exit, so a
 * linear walk is the simplest correct lookup.
 */
#include "klib.h"

#include "mmiobus.h"

/* Start an empty bus. */
void mmio_bus_init(struct mmio_bus *bus)
{
    bus->head = NULL;
    bus->ndev = 0;
}

/* True when [a, a + an) and [b, b + bn) share an address.  Both ranges
 * are non-empty and do not wrap (mmio_add checks), so each starts before
 * the other ends exactly when the differences below are smaller than the
 * sizes. */
static bool overlap(uint64_t a, uint64_t an, uint64_t b, uint64_t bn)
{
    return a >= b ? a - b < bn : b - a < an;
}

/* Insert in order of base, refusing overlaps and bad ranges. */
int mmio_add(struct mmio_bus *bus, struct mmio_device *dev)
{
    /* size - 1 is the offset of the last byte: base plus that must not
     * pass 2^64 - 1, or the range would wrap to address 0. */
    if (dev->size == 0 || dev->base > UINT64_MAX - (dev->size - 1))
        return -1;
    /* Two devices on one address would make the bus ambiguous. */
    for (const struct mmio_device *d = bus->head; d; d = d->next)
        if (overlap(dev->base, dev->size, d->base, d->size))
            return -1;
    /* Find the link to put it behind: the last device with a lower base. */
    struct mmio_device **link = &bus->head;
    while (*link && (*link)->base < dev->base)
        link = &(*link)->next;
    dev->next = *link;
    *link = dev;
    bus->ndev++;
    return 0;
}

/* Unlink `dev` if it is on the bus. */
void mmio_remove(struct mmio_bus *bus, struct mmio_device *dev)
{
    for (struct mmio_device **link = &bus->head; *link; link = &(*link)->next) {
        if (*link == dev) {
            *link = dev->next;
            dev->next = NULL;
            bus->ndev--;
            return;
        }
    }
}

/* The owner of one address. */
struct mmio_device *mmio_find(const struct mmio_bus *bus, uint64_t gpa)
{
    for (struct mmio_device *d = bus->head; d; d = d->next) {
        /* Sorted: once a device starts above gpa, so do all after it. */
        if (d->base > gpa)
            break;
        if (gpa - d->base < d->size)
            return d;
    }
    return NULL;
}

/* The mask for the low `size` bytes of a value. */
static uint64_t size_mask(uint8_t size)
{
    /* 1ull << 64 would be undefined behaviour, hence the special case. */
    return size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

/* Only the sizes an x86 load or store of a general register can have. */
static bool size_ok(uint8_t size)
{
    return size == 1 || size == 2 || size == 4 || size == 8;
}

/* The device that holds all of [gpa, gpa + size), or NULL.  An access
 * that wraps at the top of the address space is never whole. */
static struct mmio_device *whole(const struct mmio_bus *bus, uint64_t gpa, uint8_t size)
{
    struct mmio_device *d = mmio_find(bus, gpa);
    if (d && size - 1u < d->size - (gpa - d->base))
        return d;
    return NULL;
}

/* A load: the owner answers, or byte by byte (little endian, as x86 lays
 * out a wider value in memory) when the access straddles a device's end. */
bool mmio_read(const struct mmio_bus *bus, uint64_t gpa, uint8_t size, uint64_t *value)
{
    if (!size_ok(size))
        return false;
    struct mmio_device *d = whole(bus, gpa, size);
    if (d) {
        /* A device model may leave garbage above the access size. */
        *value = d->read(d->ctx, gpa - d->base, size) & size_mask(size);
        return true;
    }
    uint64_t v = 0;
    bool any = false;
    for (uint8_t i = 0; i < size; i++) {
        /* Wraps at 2^64 as the address arithmetic of the CPU would. */
        uint64_t a = gpa + i;
        struct mmio_device *b = mmio_find(bus, a);
        uint64_t byte = 0xff;
        if (b) {
            byte = b->read(b->ctx, a - b->base, 1) & 0xff;
            any = true;
        }
        v |= byte << (8 * i);
    }
    /* Nothing at all there: the core decides what that means. */
    if (!any)
        return false;
    *value = v;
    return true;
}

/* A store, whole or byte by byte as for a load. */
bool mmio_write(const struct mmio_bus *bus, uint64_t gpa, uint8_t size, uint64_t value)
{
    if (!size_ok(size))
        return false;
    struct mmio_device *d = whole(bus, gpa, size);
    if (d) {
        /* The device sees only the bytes the guest stored. */
        d->write(d->ctx, gpa - d->base, size, value & size_mask(size));
        return true;
    }
    bool any = false;
    for (uint8_t i = 0; i < size; i++) {
        uint64_t a = gpa + i;
        struct mmio_device *b = mmio_find(bus, a);
        /* Bytes nobody owns are lost, as on a real bus. */
        if (b) {
            b->write(b->ctx, a - b->base, 1, (value >> (8 * i)) & 0xff);
            any = true;
        }
    }
    return any;
}
