/*
 * Unit tests for hv/core/memfile.c, the work of the control protocol's
 * pmemsave and memsave: guest memory written into a file (here a buffer
 * behind struct img_io) as QEMU 7.2 writes it -- RAM as it is and what is
 * not RAM as zeros by physical address; through the page tables by
 * virtual address, refused when a page is not mapped or lies outside RAM;
 * and a write the file refuses reported as such.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "core/memfile.h"
#include "check_main.h"

#define RAM       (4u << 20)
#define FILE_SIZE (2 * RAM)

static struct guest_mem mem;
static uint8_t *file;
/* Writes the file takes before it refuses (-1: all). */
static int writes_left;

static int file_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
    (void)ctx;
    if (writes_left == 0 || off > FILE_SIZE || len > FILE_SIZE - off)
        return -1;
    if (writes_left > 0)
        writes_left--;
    memcpy(file + off, buf, len);
    return 0;
}

static const struct img_io io = {.write = file_write};

static void setup(void)
{
    mem.size = RAM;
    mem.host = malloc(RAM);
    for (uint32_t i = 0; i < RAM; i++)
        mem.host[i] = (uint8_t)(i * 7 + (i >> 12));
    file = malloc(FILE_SIZE);
    memset(file, 0xee, FILE_SIZE);
    writes_left = -1;
}

static void teardown(void)
{
    free(mem.host);
    free(file);
}

/* A whole range of RAM lands at the offset asked for, byte for byte,
 * across the chunks hv writes in. */
START_TEST(physical_ram_as_it_is)
{
    ck_assert_int_eq(memfile_phys(&mem, 0x1234, RAM - 0x1234, &io, 100), MEMFILE_OK);
    ck_assert_int_eq(memcmp(file + 100, mem.host + 0x1234, RAM - 0x1234), 0);
    /* Nothing before or after it. */
    ck_assert_uint_eq(file[99], 0xee);
    ck_assert_uint_eq(file[100 + RAM - 0x1234], 0xee);
}
END_TEST

/* What is not RAM reads as zeros, as QEMU's pmemsave reads memory
 * nothing is assigned to: a range across RAM's end, and one far beyond. */
START_TEST(physical_beyond_ram_is_zeros)
{
    ck_assert_int_eq(memfile_phys(&mem, RAM - 8, 200000, &io, 0), MEMFILE_OK);
    ck_assert_int_eq(memcmp(file, mem.host + RAM - 8, 8), 0);
    for (unsigned i = 8; i < 200000; i++)
        ck_assert_uint_eq(file[i], 0);
    ck_assert_uint_eq(file[200000], 0xee);
    ck_assert_int_eq(memfile_phys(&mem, 1ull << 40, 16, &io, 0), MEMFILE_OK);
    for (unsigned i = 0; i < 16; i++)
        ck_assert_uint_eq(file[i], 0);
    /* Nothing at all: nothing written. */
    memset(file, 0xee, 16);
    ck_assert_int_eq(memfile_phys(&mem, 0, 0, &io, 0), MEMFILE_OK);
    ck_assert_uint_eq(file[0], 0xee);
}
END_TEST

/* By virtual address with paging off (linear = physical): the bytes of
 * RAM; a range that runs past RAM's end is refused. */
START_TEST(virtual_through_the_walker)
{
    struct gva_ctx c = {.cr0 = CR0_PE, .mem = &mem};
    struct gva_walk why;
    ck_assert_int_eq(memfile_virt(&c, 0x10000, 300000, &io, 5, &why), MEMFILE_OK);
    ck_assert_int_eq(memcmp(file + 5, mem.host + 0x10000, 300000), 0);
    ck_assert_int_eq(memfile_virt(&c, RAM - 8, 16, &io, 0, &why), MEMFILE_UNMAPPED);
    ck_assert_int_eq(why.fault, GVA_OUTSIDE_RAM);
}
END_TEST

/* A write the file refuses half way is reported, not passed over. */
START_TEST(a_refused_write_is_an_error)
{
    struct gva_ctx c = {.cr0 = CR0_PE, .mem = &mem};
    struct gva_walk why;
    writes_left = 2;
    ck_assert_int_eq(memfile_phys(&mem, 0, RAM, &io, 0), MEMFILE_IO);
    writes_left = 0;
    ck_assert_int_eq(memfile_phys(&mem, RAM, 16, &io, 0), MEMFILE_IO);
    writes_left = 1;
    ck_assert_int_eq(memfile_virt(&c, 0, RAM, &io, 0, &why), MEMFILE_IO);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hv_memfile");
    TCase *tc = tcase_create("memfile");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, physical_ram_as_it_is);
    tcase_add_test(tc, physical_beyond_ram_is_zeros);
    tcase_add_test(tc, virtual_through_the_walker);
    tcase_add_test(tc, a_refused_write_is_an_error);
    suite_add_tcase(s, tc);
    return check_main(s);
}
