/*
 * Unit tests for hv/dev/mmiobus.c: devices on 64-bit guest-physical ranges,
 * any number of them, overlap and wrap refusals, accesses of 1/2/4/8 bytes
 * with the offset the device sees, accesses straddling a device's end split
 * into bytes, and "nothing there" reported to the caller.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "dev/mmiobus.h"
#include "check_main.h"

/* A RAM-like device: 64 bytes of storage, little endian, counting calls
 * so that a test can tell a whole access from a split one. */
struct ram {
    uint8_t b[64];
    int reads, writes;
    uint8_t last_size;
    uint64_t last_offset;
};

static uint64_t ram_read(void *ctx, uint64_t off, uint8_t size)
{
    struct ram *r = ctx;
    uint64_t v = 0;
    memcpy(&v, r->b + off, size);
    r->reads++;
    r->last_size = size;
    r->last_offset = off;
    /* Garbage above the access size: the bus must mask it off. */
    return v | (size < 8 ? 0xdead000000000000ull : 0);
}

static void ram_write(void *ctx, uint64_t off, uint8_t size, uint64_t value)
{
    struct ram *r = ctx;
    memcpy(r->b + off, &value, size);
    r->writes++;
    r->last_size = size;
    r->last_offset = off;
}

static struct mmio_bus bus;
static struct ram ra, rb;
static struct mmio_device da, db;

static struct mmio_device dev(uint64_t base, uint64_t size, struct ram *r)
{
    return (struct mmio_device){
        .name = "ram", .base = base, .size = size, .read = ram_read, .write = ram_write, .ctx = r};
}

static void setup(void)
{
    mmio_bus_init(&bus);
    memset(&ra, 0, sizeof(ra));
    memset(&rb, 0, sizeof(rb));
    /* Two 64-byte devices with a 64-byte hole between them, at an address
     * above 4 GiB so that 32-bit truncation would show. */
    da = dev(0x100000000ull, 64, &ra);
    db = dev(0x100000080ull, 64, &rb);
    ck_assert_int_eq(mmio_add(&bus, &db), 0);
    ck_assert_int_eq(mmio_add(&bus, &da), 0);
}

START_TEST(sizes_and_offsets)
{
    uint64_t v;
    ck_assert(mmio_write(&bus, 0x100000008ull, 8, 0x1122334455667788ull));
    ck_assert_uint_eq(ra.last_offset, 8);
    ck_assert_uint_eq(ra.last_size, 8);
    for (uint8_t size = 1; size <= 8; size *= 2) {
        ck_assert(mmio_read(&bus, 0x100000008ull, size, &v));
        ck_assert_uint_eq(ra.last_size, size);
        /* Little endian and masked to the access size. */
        uint64_t want =
            size == 8 ? 0x1122334455667788ull : 0x1122334455667788ull & ((1ull << (8 * size)) - 1);
        ck_assert_uint_eq(v, want);
    }
    /* A store of 2 bytes changes 2 bytes only; the device sees the value
     * cut to the size. */
    ck_assert(mmio_write(&bus, 0x10000000aull, 2, 0xffffffffffffabcdull));
    ck_assert(mmio_read(&bus, 0x100000008ull, 8, &v));
    ck_assert_uint_eq(v, 0x11223344abcd7788ull);
    /* The second device, its own offsets. */
    ck_assert(mmio_write(&bus, 0x1000000bcull, 4, 0xcafef00d));
    ck_assert_uint_eq(rb.last_offset, 0x3c);
    ck_assert(mmio_read(&bus, 0x1000000bcull, 4, &v));
    ck_assert_uint_eq(v, 0xcafef00d);
}
END_TEST

START_TEST(miss_is_reported_not_answered)
{
    uint64_t v = 0x5a5a;
    /* The hole between the devices, below and above them. */
    ck_assert(!mmio_read(&bus, 0x100000040ull, 4, &v));
    ck_assert(!mmio_read(&bus, 0xfee00000ull, 4, &v));
    ck_assert(!mmio_read(&bus, 0x100000100ull, 1, &v));
    ck_assert_uint_eq(v, 0x5a5a);
    ck_assert(!mmio_write(&bus, 0x100000040ull, 8, 1));
    ck_assert_int_eq(ra.reads + ra.writes + rb.reads + rb.writes, 0);
    ck_assert_ptr_null(mmio_find(&bus, 0x100000040ull));
    ck_assert_ptr_eq(mmio_find(&bus, 0x10000003full), &da);
    ck_assert_ptr_eq(mmio_find(&bus, 0x100000080ull), &db);
}
END_TEST

START_TEST(bad_sizes_refused)
{
    uint64_t v;
    ck_assert(!mmio_read(&bus, 0x100000000ull, 3, &v));
    ck_assert(!mmio_read(&bus, 0x100000000ull, 0, &v));
    ck_assert(!mmio_write(&bus, 0x100000000ull, 16, 0));
    ck_assert_int_eq(ra.reads + ra.writes, 0);
}
END_TEST

START_TEST(straddling_access_split_into_bytes)
{
    uint64_t v;
    memset(ra.b, 0x11, sizeof(ra.b));
    /* 4 bytes at the last 2 of device a: 2 bytes from it, 2 floating
     * bytes (0xff) from the hole. */
    ck_assert(mmio_read(&bus, 0x10000003eull, 4, &v));
    ck_assert_uint_eq(v, 0xffff1111);
    ck_assert_int_eq(ra.reads, 2);
    ck_assert_uint_eq(ra.last_size, 1);
    /* A store there reaches the device's 2 bytes, the rest is lost. */
    ck_assert(mmio_write(&bus, 0x10000003eull, 4, 0xaabbccdd));
    ck_assert_uint_eq(ra.b[62], 0xdd);
    ck_assert_uint_eq(ra.b[63], 0xcc);
    /* From the hole into device b: the last byte lands at b's offset 0. */
    ck_assert(mmio_write(&bus, 0x10000007full, 2, 0x4455));
    ck_assert_uint_eq(rb.b[0], 0x44);
}
END_TEST

START_TEST(overlaps_and_wraps_refused)
{
    struct ram r;
    /* Overlapping a's last byte, b's first, containing both, inside a. */
    struct mmio_device o1 = dev(0x10000003full, 2, &r), o2 = dev(0x10000007full, 2, &r),
                       o3 = dev(0xffffffffull, 0x1000, &r), o4 = dev(0x100000010ull, 4, &r);
    ck_assert_int_eq(mmio_add(&bus, &o1), -1);
    ck_assert_int_eq(mmio_add(&bus, &o2), -1);
    ck_assert_int_eq(mmio_add(&bus, &o3), -1);
    ck_assert_int_eq(mmio_add(&bus, &o4), -1);
    /* Empty, and wrapping past 2^64. */
    struct mmio_device e = dev(0x200000000ull, 0, &r), w = dev(0xfffffffffffff000ull, 0x2000, &r);
    ck_assert_int_eq(mmio_add(&bus, &e), -1);
    ck_assert_int_eq(mmio_add(&bus, &w), -1);
    ck_assert_uint_eq(bus.ndev, 2);
    /* The exact hole fits. */
    struct mmio_device h = dev(0x100000040ull, 0x40, &r);
    ck_assert_int_eq(mmio_add(&bus, &h), 0);
    ck_assert_uint_eq(bus.ndev, 3);
}
END_TEST

START_TEST(top_of_address_space)
{
    /* The last page of the 64-bit space is a valid range. */
    struct ram r;
    memset(&r, 0, sizeof(r));
    struct mmio_device top = dev(0xffffffffffffffc0ull, 64, &r);
    ck_assert_int_eq(mmio_add(&bus, &top), 0);
    uint64_t v;
    ck_assert(mmio_write(&bus, 0xfffffffffffffff8ull, 8, 0x0102030405060708ull));
    ck_assert(mmio_read(&bus, 0xfffffffffffffff8ull, 8, &v));
    ck_assert_uint_eq(v, 0x0102030405060708ull);
    /* An access wrapping past the top is split: its last bytes are at
     * address 0, where nothing is. */
    ck_assert(mmio_read(&bus, 0xfffffffffffffffeull, 4, &v));
    ck_assert_uint_eq(v, 0xffff0102);
}
END_TEST

START_TEST(many_devices_and_remove)
{
    /* 200 devices of 16 bytes, added in a scrambled order. */
    static struct ram r[200];
    static struct mmio_device d[200];
    for (unsigned k = 0; k < 200; k++) {
        unsigned i = (k * 77) % 200;
        memset(&r[i], 0, sizeof(r[i]));
        d[i] = dev(0x40000000ull + 16 * i, 16, &r[i]);
        ck_assert_int_eq(mmio_add(&bus, &d[i]), 0);
    }
    ck_assert_uint_eq(bus.ndev, 202);
    for (unsigned i = 0; i < 200; i++) {
        ck_assert(mmio_write(&bus, 0x40000000ull + 16 * i + 4, 4, i));
        ck_assert_int_eq(r[i].writes, 1);
        ck_assert_ptr_eq(mmio_find(&bus, 0x40000000ull + 16 * i + 15), &d[i]);
    }
    /* The list is sorted by base. */
    uint64_t last = 0;
    for (const struct mmio_device *p = bus.head; p; p = p->next) {
        ck_assert(p->base >= last);
        last = p->base;
    }
    /* Removed devices no longer answer; the others still do. */
    mmio_remove(&bus, &d[7]);
    mmio_remove(&bus, &d[7]);
    uint64_t v;
    ck_assert(!mmio_read(&bus, 0x40000000ull + 16 * 7, 4, &v));
    ck_assert(mmio_read(&bus, 0x40000000ull + 16 * 8 + 4, 4, &v));
    ck_assert_uint_eq(v, 8);
    ck_assert_uint_eq(bus.ndev, 201);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hv_mmio");
    TCase *tc = tcase_create("mmiobus");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, sizes_and_offsets);
    tcase_add_test(tc, miss_is_reported_not_answered);
    tcase_add_test(tc, bad_sizes_refused);
    tcase_add_test(tc, straddling_access_split_into_bytes);
    tcase_add_test(tc, overlaps_and_wraps_refused);
    tcase_add_test(tc, top_of_address_space);
    tcase_add_test(tc, many_devices_and_remove);
    suite_add_tcase(s, tc);
    return check_main(s);
}
