/*
 * Unit tests for hv/loader/mbload.c: good Multiboot images (ELF32, a.out
 * kludge, ELF64 with the kludge) load where they say and get a correct
 * Multiboot information structure; crafted bad images are refused with a
 * clear message and leave guest memory untouched.  Guest RAM is laid out as
 * a PC (core/memmap.c), as in hv.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hvkit/multiboot.h"
#include "loader/elf32.h"
#include "loader/mbload.h"
#include "check_main.h"

#define RAM  (4u << 20) /* 4 MiB of guest RAM */
#define FILL 0xa5       /* guest RAM's contents before loading */

static struct guest_mem mem;
static struct memmap map;
static char err[256];
static struct mb_load_result res;

static void setup(void)
{
    mem.size = RAM;
    mem.host = malloc(RAM);
    ck_assert_int_eq(memmap_pc(&map, RAM, false, err, sizeof(err)), 0);
    memset(mem.host, FILL, RAM);
    err[0] = '\0';
    memset(&res, 0, sizeof(res));
}

static void teardown(void)
{
    free(mem.host);
}

/* True when guest RAM still holds only FILL (nothing was written). */
static int untouched(void)
{
    for (size_t i = 0; i < RAM; i++)
        if (mem.host[i] != FILL)
            return 0;
    return 1;
}

/* ---- Image builders ------------------------------------------------------ */

/* An image buffer of `size` bytes. */
struct image {
    uint8_t buf[16384];
    size_t size;
};

static void put_mb_header(struct image *im, size_t off, uint32_t flags)
{
    struct mb_header h = {0};
    h.magic = MB_HEADER_MAGIC;
    h.flags = flags;
    h.checksum = (uint32_t) - (MB_HEADER_MAGIC + flags);
    memcpy(im->buf + off, &h, sizeof(h));
}

/* An ELF32 i386 executable: one segment at 1 MiB with 0x100 bytes of code
 * (bytes 0..255) from file offset 0x1000 and 0x200 bytes of bss; the
 * Multiboot header at 0x1000 right in the code (as real kernels do). */
static struct image *elf32_image(void)
{
    struct image *im = calloc(1, sizeof(*im));
    im->size = 0x1100;
    struct elf32_ehdr eh = {0};
    memcpy(eh.ident,
           "\x7f"
           "ELF",
           4);
    eh.ident[4] = 1; /* ELFCLASS32 */
    eh.ident[5] = 1; /* little endian */
    eh.ident[6] = 1;
    eh.type = 2;
    eh.machine = 3;
    eh.version = 1;
    eh.entry = 0x100020;
    eh.phoff = sizeof(eh);
    eh.ehsize = sizeof(eh);
    eh.phentsize = sizeof(struct elf32_phdr);
    eh.phnum = 1;
    memcpy(im->buf, &eh, sizeof(eh));
    struct elf32_phdr ph = {.type = 1,
                            .offset = 0x1000,
                            .vaddr = 0x100000,
                            .paddr = 0x100000,
                            .filesz = 0x100,
                            .memsz = 0x300};
    memcpy(im->buf + sizeof(eh), &ph, sizeof(ph));
    for (int i = 0; i < 0x100; i++)
        im->buf[0x1000 + i] = (uint8_t)i;
    put_mb_header(im, 0x1000, MB_HF_PAGE_ALIGN | MB_HF_MEMORY_INFO);
    return im;
}

static struct elf32_phdr *phdr(struct image *im)
{
    return (struct elf32_phdr *)(im->buf + sizeof(struct elf32_ehdr));
}

/* A raw image with the a.out kludge: the header at file offset 0x40,
 * loaded at 0x200000 (file offset 0), 0x800 bytes of file, bss to
 * 0x201000, entry 0x200100. */
static struct image *kludge_image(void)
{
    struct image *im = calloc(1, sizeof(*im));
    im->size = 0x800;
    for (size_t i = 0; i < im->size; i++)
        im->buf[i] = (uint8_t)(i * 7);
    uint32_t flags = MB_HF_MEMORY_INFO | MB_HF_AOUT_KLUDGE;
    struct mb_header h = {0};
    h.magic = MB_HEADER_MAGIC;
    h.flags = flags;
    h.checksum = (uint32_t) - (MB_HEADER_MAGIC + flags);
    h.header_addr = 0x200040;
    h.load_addr = 0x200000;
    h.load_end_addr = 0x200800;
    h.bss_end_addr = 0x201000;
    h.entry_addr = 0x200100;
    memcpy(im->buf + 0x40, &h, 32);
    return im;
}

static struct mb_header *kludge_header(struct image *im)
{
    return (struct mb_header *)(im->buf + 0x40);
}

static int load(struct image *im, const char *cmdline)
{
    return mb_load(&mem, &map, im->buf, im->size, cmdline, &res, err, sizeof(err));
}

/* ---- Good images --------------------------------------------------------- */

START_TEST(elf32_loads_segments_and_bss)
{
    struct image *im = elf32_image();
    ck_assert_int_eq(load(im, "guest.elf a b"), 0);
    ck_assert_uint_eq(res.entry, 0x100020);
    ck_assert_uint_eq(res.load_lo, 0x100000);
    ck_assert_uint_eq(res.load_hi, 0x100300);
    /* The file bytes (the Multiboot header, then bytes 12..255). */
    ck_assert_int_eq(memcmp(mem.host + 0x100000, im->buf + 0x1000, 0x100), 0);
    ck_assert_uint_eq(mem.host[0x1000ff], 0xff);
    /* The bss is zeroed, and the byte after it untouched. */
    for (int i = 0x100; i < 0x300; i++)
        ck_assert_uint_eq(mem.host[0x100000 + i], 0);
    ck_assert_uint_eq(mem.host[0x100300], FILL);
    free(im);
}
END_TEST

START_TEST(info_structure_is_complete)
{
    struct image *im = elf32_image();
    ck_assert_int_eq(load(im, "guest.elf one two"), 0);
    ck_assert_uint_eq(res.info_addr, MB_INFO_AREA);
    struct mb_info info;
    memcpy(&info, mem.host + res.info_addr, sizeof(info));
    ck_assert_uint_eq(info.flags & (MB_INFO_MEMORY | MB_INFO_CMDLINE | MB_INFO_MEM_MAP),
                      MB_INFO_MEMORY | MB_INFO_CMDLINE | MB_INFO_MEM_MAP);
    ck_assert_uint_eq(info.mem_lower, 639);
    ck_assert_uint_eq(info.mem_upper, (RAM - 0x100000 - 0x20000) / 1024);
    ck_assert_str_eq((char *)mem.host + info.cmdline, "guest.elf one two");
    ck_assert(info.flags & MB_INFO_BOOT_LOADER_NAME);
    ck_assert_str_eq((char *)mem.host + info.boot_loader_name, "hvkit hv");
    /* The memory map: the guest's map as a PC's firmware reports it
     * (memmap.c; the unit test there compares it with QEMU's). */
    struct memmap_report_entry want[8];
    unsigned n = memmap_report(&map, want, 8);
    ck_assert_uint_eq(n, 6);
    ck_assert_uint_eq(info.mmap_length, n * sizeof(struct mb_mmap_entry));
    struct mb_mmap_entry m[6];
    memcpy(m, mem.host + info.mmap_addr, sizeof(m));
    for (unsigned i = 0; i < n; i++) {
        ck_assert_uint_eq(m[i].size, 20);
        ck_assert_uint_eq(m[i].addr, want[i].addr);
        ck_assert_uint_eq(m[i].len, want[i].len);
        ck_assert_uint_eq(m[i].type, want[i].type);
    }
    /* mem_lower and mem_upper are the available blocks at 0 and 1 MiB. */
    ck_assert_uint_eq(m[0].addr, 0);
    ck_assert_uint_eq(m[0].len, 639 * 1024);
    ck_assert_uint_eq(m[0].type, MB_MEMORY_AVAILABLE);
    ck_assert_uint_eq(m[3].addr, 0x100000);
    ck_assert_uint_eq(m[3].len, info.mem_upper * 1024ull);
    free(im);
}
END_TEST

START_TEST(null_cmdline_is_empty_string)
{
    struct image *im = elf32_image();
    ck_assert_int_eq(mb_load(&mem, &map, im->buf, im->size, NULL, &res, err, sizeof(err)), 0);
    struct mb_info info;
    memcpy(&info, mem.host + res.info_addr, sizeof(info));
    ck_assert_str_eq((char *)mem.host + info.cmdline, "");
    free(im);
}
END_TEST

START_TEST(aout_kludge_loads_by_header_addresses)
{
    struct image *im = kludge_image();
    ck_assert_int_eq(load(im, "k"), 0);
    ck_assert_uint_eq(res.entry, 0x200100);
    ck_assert_uint_eq(res.load_lo, 0x200000);
    ck_assert_uint_eq(res.load_hi, 0x201000);
    ck_assert_int_eq(memcmp(mem.host + 0x200000, im->buf, 0x800), 0);
    for (int i = 0x800; i < 0x1000; i++)
        ck_assert_uint_eq(mem.host[0x200000 + i], 0);
    ck_assert_uint_eq(mem.host[0x201000], FILL);
    free(im);
}
END_TEST

START_TEST(aout_kludge_load_end_zero_means_whole_file)
{
    struct image *im = kludge_image();
    struct mb_header *h = kludge_header(im);
    h->load_end_addr = 0;
    h->bss_end_addr = 0;
    ck_assert_int_eq(load(im, "k"), 0);
    ck_assert_uint_eq(res.load_hi, 0x200800);
    ck_assert_uint_eq(mem.host[0x200800], FILL);
    free(im);
}
END_TEST

START_TEST(elf64_with_kludge_loads)
{
    /* An ELF64 file whose Multiboot header carries the kludge: loaded by
     * the header's addresses, as QEMU does. */
    struct image *im = kludge_image();
    memcpy(im->buf,
           "\x7f"
           "ELF\x02\x01\x01",
           7);
    ck_assert_int_eq(load(im, "k"), 0);
    ck_assert_uint_eq(res.entry, 0x200100);
    ck_assert_int_eq(memcmp(mem.host + 0x200000, im->buf, 0x800), 0);
    free(im);
}
END_TEST

/* ---- Bad images ---------------------------------------------------------- */

START_TEST(stray_magic_before_header_is_skipped)
{
    /* The magic stored as data (bad checksum) before the real header: QEMU
     * and GRUB search on past it, and so must hv. */
    struct image *im = elf32_image();
    uint32_t stray[3] = {MB_HEADER_MAGIC, 0x12345678, 0};
    memcpy(im->buf + 0x800, stray, sizeof stray);
    ck_assert_int_eq(load(im, "guest.elf"), 0);
    ck_assert_uint_eq(res.entry, 0x100020);
    free(im);
}
END_TEST

START_TEST(info_area_moves_away_from_segments)
{
    /* A guest loaded where the information usually goes (0x8000): the
     * information moves to just above its last byte, 4 KiB aligned. */
    struct image *im = elf32_image();
    phdr(im)->paddr = MB_INFO_AREA - 0x10;
    ((struct elf32_ehdr *)im->buf)->entry = MB_INFO_AREA - 0x10;
    ck_assert_int_eq(load(im, "low one"), 0);
    ck_assert_uint_eq(res.info_addr, 0x9000);
    struct mb_info info;
    memcpy(&info, mem.host + res.info_addr, sizeof(info));
    ck_assert_str_eq((char *)mem.host + info.cmdline, "low one");
    /* The image is intact: its code, then its zeroed bss up to 0x82f0. */
    ck_assert_int_eq(memcmp(mem.host + MB_INFO_AREA - 0x10, im->buf + 0x1000, 0x100), 0);
    ck_assert_uint_eq(mem.host[0x82ef], 0);
    ck_assert_uint_eq(mem.host[0x82f0], FILL);
    free(im);
}
END_TEST

START_TEST(command_line_too_long)
{
    struct image *im = elf32_image();
    char *cmd = malloc(MB_INFO_AREA_SIZE + 1);
    memset(cmd, 'x', MB_INFO_AREA_SIZE);
    cmd[MB_INFO_AREA_SIZE] = '\0';
    ck_assert_int_eq(load(im, cmd), -1);
    ck_assert(strstr(err, "command line too long") != NULL);
    ck_assert(untouched());
    free(cmd);
    free(im);
}
END_TEST

/* How each bad image is made from a good one (elf32_image() or
 * kludge_image()), then a table of what mb_load() must say about it. */
static void no_header(struct image *im)
{
    memset(im->buf + 0x1000, 0, 12);
}

/* A valid header at 8 KiB is out of the search area (3.1.1). */
static void header_beyond_8k(struct image *im)
{
    memset(im->buf + 0x1000, 0, 12);
    im->size = 0x2100;
    put_mb_header(im, 0x2000, MB_HF_MEMORY_INFO);
}

static void bad_checksum(struct image *im)
{
    im->buf[0x1008] ^= 1;
}

static void video_mode_required(struct image *im)
{
    put_mb_header(im, 0x1000, MB_HF_MEMORY_INFO | MB_HF_VIDEO_MODE);
}

static void elf64_without_kludge(struct image *im)
{
    im->buf[4] = 2;
}

static void not_elf_without_kludge(struct image *im)
{
    im->buf[1] = 'X';
}

static void wrong_machine(struct image *im)
{
    ((struct elf32_ehdr *)im->buf)->machine = 40; /* ARM */
}

static void segment_outside_ram(struct image *im)
{
    phdr(im)->paddr = RAM - 0x100;
}

static void segment_in_reserved_top(struct image *im)
{
    phdr(im)->paddr = RAM - 0x1000;
    phdr(im)->memsz = 0x800;
    phdr(im)->filesz = 0x100;
    ((struct elf32_ehdr *)im->buf)->entry = RAM - 0x1000;
}

static void huge_memsz(struct image *im)
{
    phdr(im)->memsz = 0xffffffffu;
}

/* Two segments covering low memory from 4 KiB and all RAM above 1
 * MiB: neither 0x8000 nor the space above a segment is free. */
static void no_room_for_the_info_area(struct image *im)
{
    struct elf32_ehdr *eh = (struct elf32_ehdr *)im->buf;
    eh->phnum = 2;
    eh->entry = 0x100000;
    phdr(im)[1] = *phdr(im);
    phdr(im)->paddr = 0x1000;
    phdr(im)->memsz = 0x9e000;
    phdr(im)[1].filesz = 0;
    phdr(im)[1].memsz = RAM - 0x100000 - 0x20000;
}

static void segment_in_hole(struct image *im)
{
    phdr(im)->paddr = 0xb8000;
    ((struct elf32_ehdr *)im->buf)->entry = 0xb8000;
}

static void truncated_segment(struct image *im)
{
    im->size = 0x1080; /* the segment's 0x100 file bytes are cut short */
}

static void truncated_program_headers(struct image *im)
{
    ((struct elf32_ehdr *)im->buf)->phoff = 0x10f0;
}

static void filesz_above_memsz(struct image *im)
{
    phdr(im)->memsz = 0x80;
}

static void entry_outside_segments(struct image *im)
{
    ((struct elf32_ehdr *)im->buf)->entry = 0x300000;
}

static void kludge_load_before_file(struct image *im)
{
    kludge_header(im)->load_addr = 0x1ff000; /* 0x1040 bytes before offset 0x40 */
}

static void kludge_load_end_beyond_file(struct image *im)
{
    kludge_header(im)->load_end_addr = 0x210000;
    kludge_header(im)->bss_end_addr = 0;
}

static void kludge_bss_below_data(struct image *im)
{
    kludge_header(im)->bss_end_addr = 0x200400;
}

/* Empty and 3-byte files: no header, no crash. */
static void empty_image(struct image *im)
{
    im->size = 0;
}

static void three_byte_image(struct image *im)
{
    im->size = 3;
}

static void segment_in_ebda(struct image *im)
{
    phdr(im)->paddr = 0x9fb00;
    ((struct elf32_ehdr *)im->buf)->entry = 0x9fb00;
}

struct bad_image {
    const char *name;
    struct image *(*good)(void);
    void (*breaks)(struct image *im);
    const char *words;
};
/* A row; failure messages name the case by its function. */
#define BAD(image, fn, text)                                                                       \
    {                                                                                              \
        .name = #fn, .good = image, .breaks = fn, .words = text                                    \
    }
static const struct bad_image bad_images[] = {
    BAD(elf32_image, no_header, "no Multiboot header"),
    BAD(elf32_image, header_beyond_8k, "no Multiboot header"),
    BAD(elf32_image, bad_checksum, "bad checksum"),
    BAD(elf32_image, video_mode_required, "video mode"),
    BAD(elf32_image, elf64_without_kludge, "64-bit ELF without the Multiboot a.out kludge"),
    BAD(elf32_image, not_elf_without_kludge, "not an ELF file"),
    BAD(elf32_image, wrong_machine, "not for i386"),
    BAD(elf32_image, segment_outside_ram, "outside guest RAM"),
    BAD(elf32_image, segment_in_reserved_top,
        "overlaps the firmware tables 0x3e0000..0x400000, which is not available RAM"),
    BAD(elf32_image, huge_memsz, "outside guest RAM"),
    BAD(elf32_image, no_room_for_the_info_area,
        "no room for the Multiboot information (8192 bytes)"),
    BAD(elf32_image, segment_in_hole,
        "overlaps the legacy VGA/ROM window 0xa0000..0xf0000, which is not available RAM"),
    BAD(elf32_image, truncated_segment, "truncated image"),
    BAD(elf32_image, truncated_program_headers, "program headers end past the file"),
    BAD(elf32_image, filesz_above_memsz, "larger than its memory size"),
    BAD(elf32_image, entry_outside_segments, "entry point 0x300000 is outside"),
    BAD(kludge_image, kludge_load_before_file, "before the file begins"),
    BAD(kludge_image, kludge_load_end_beyond_file, "truncated image"),
    BAD(kludge_image, kludge_bss_below_data, "bss_end_addr"),
    BAD(elf32_image, empty_image, "no Multiboot header"),
    BAD(elf32_image, three_byte_image, "no Multiboot header"),
    BAD(elf32_image, segment_in_ebda, "overlaps the EBDA 0x9fc00..0xa0000"),
};

/* Each bad image is refused with a message that has its words, and guest
 * memory is untouched. */
START_TEST(each_bad_image_is_refused)
{
    const struct bad_image *b = &bad_images[_i];
    struct image *im = b->good();
    b->breaks(im);
    ck_assert_int_eq(load(im, "guest.elf"), -1);
    ck_assert_msg(strstr(err, b->words) != NULL, "%s: message '%s' lacks '%s'", b->name, err,
                  b->words);
    ck_assert(untouched());
    free(im);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hv_loader");
    TCase *good = tcase_create("good");
    tcase_add_checked_fixture(good, setup, teardown);
    tcase_add_test(good, elf32_loads_segments_and_bss);
    tcase_add_test(good, info_structure_is_complete);
    tcase_add_test(good, null_cmdline_is_empty_string);
    tcase_add_test(good, aout_kludge_loads_by_header_addresses);
    tcase_add_test(good, aout_kludge_load_end_zero_means_whole_file);
    tcase_add_test(good, elf64_with_kludge_loads);
    tcase_add_test(good, info_area_moves_away_from_segments);
    suite_add_tcase(s, good);
    TCase *bad = tcase_create("bad");
    tcase_add_checked_fixture(bad, setup, teardown);
    tcase_add_test(good, stray_magic_before_header_is_skipped);
    tcase_add_test(bad, command_line_too_long);
    tcase_add_loop_test(bad, each_bad_image_is_refused, 0,
                        (int)(sizeof(bad_images) / sizeof(bad_images[0])));
    suite_add_tcase(s, bad);
    return check_main(s);
}
