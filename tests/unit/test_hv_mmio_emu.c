/*
 * Unit tests for hv/core/mmio_emu.c: the MMIO emulator on a vCPU of a
 * domain.  The instruction is fetched from guest RAM through the guest's
 * mode and page tables (paging off, 16-bit protected mode with a segment
 * base, 4-level paging mapping a device at another linear address), its
 * memory operands reach a device on the domain's MMIO bus or guest RAM
 * (REP MOVS both ways), accesses across a page go to each page (odd sizes
 * byte by byte), and failures name the guest-physical address or the
 * failed walk, leaving the vCPU where it was.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "core/domain.h"
#include "core/mmio_emu.h"
#include "check_main.h"

#define RAM      (4u << 20)
#define DEV_BASE 0xfee00000ull
#define DEV_SIZE 0x2000u

static struct domain d;
static struct vcpu v;

/* The device: storage, and a log of its accesses. */
static uint8_t dev_mem[DEV_SIZE];
static struct {
    uint64_t off;
    uint8_t size;
    int write;
} dlog[32];
static unsigned ndlog;

static uint64_t dev_read(void *ctx, uint64_t off, uint8_t size)
{
    (void)ctx;
    uint64_t val = 0;
    memcpy(&val, dev_mem + off, size);
    if (ndlog < 32)
        dlog[ndlog++] = (typeof(dlog[0])){off, size, 0};
    return val;
}

static void dev_write(void *ctx, uint64_t off, uint8_t size, uint64_t val)
{
    (void)ctx;
    memcpy(dev_mem + off, &val, size);
    if (ndlog < 32)
        dlog[ndlog++] = (typeof(dlog[0])){off, size, 1};
}

static struct mmio_device dev = {.name = "test device",
                                 .base = DEV_BASE,
                                 .size = DEV_SIZE,
                                 .read = dev_read,
                                 .write = dev_write};

static void add_range(uint64_t base, uint64_t size, enum mem_kind kind, const char *name)
{
    char err[128];
    struct mem_range r = {.base = base, .size = size, .kind = kind, .name = name};
    ck_assert_msg(memmap_add(&d.map, &r, err, sizeof(err)) == 0, "%s", err);
}

static void setup(void)
{
    memset(&d, 0, sizeof(d));
    memset(&v, 0, sizeof(v));
    /* Every group of guest state in struct vcpu (no backend to ask). */
    v.loaded = VCPU_STATE_ALL;
    d.mem.size = RAM;
    d.mem.host = calloc(1, RAM);
    memmap_init(&d.map, RAM);
    add_range(0, RAM, MEM_RAM, "RAM");
    add_range(DEV_BASE, DEV_SIZE, MEM_MMIO, "test device");
    add_range(0xfec00000, 0x1000, MEM_RESERVED, "reserved");
    mmio_bus_init(&d.mmio);
    ck_assert_int_eq(mmio_add(&d.mmio, &dev), 0);
    v.dom = &d;
    /* Flat 32-bit protected mode, paging off. */
    v.cr0 = CR0_PE;
    v.cs_db = 1;
    v.rflags = 2;
    memset(dev_mem, 0, sizeof(dev_mem));
    ndlog = 0;
}

static void teardown(void)
{
    free(d.mem.host);
}

static void put(uint64_t gpa, const void *bytes, size_t n)
{
    memcpy(d.mem.host + gpa, bytes, n);
}

static void put64(uint64_t gpa, uint64_t val)
{
    put(gpa, &val, 8);
}

START_TEST(store_to_device_flat_32bit)
{
    put(0x1000, (const uint8_t[]){0x89, 0x03}, 2); /* mov [ebx], eax */
    v.rip = 0x1000;
    v.regs.rbx = DEV_BASE + 0x10;
    v.regs.rax = 0x11223344;
    struct emu_result res;
    ck_assert_int_eq(mmio_emu_run(&v, &res), EMU_OK);
    ck_assert_uint_eq(v.rip, 0x1002);
    ck_assert_uint_eq(ndlog, 1);
    ck_assert_uint_eq(dlog[0].off, 0x10);
    ck_assert_uint_eq(dlog[0].size, 4);
    ck_assert_int_eq(dlog[0].write, 1);
    uint32_t got;
    memcpy(&got, dev_mem + 0x10, 4);
    ck_assert_uint_eq(got, 0x11223344);
}
END_TEST

START_TEST(segment_base_in_16bit_code)
{
    /* 16-bit protected mode (CS.D = 0): mov [bx], ax with DS based at the
     * device, CS based at 0x20000. */
    v.cs_db = 0;
    v.seg_base[EMU_CS] = 0x20000;
    v.seg_base[EMU_DS] = DEV_BASE;
    put(0x20100, (const uint8_t[]){0x89, 0x07}, 2);
    v.rip = 0x100;
    v.regs.rbx = 0xffff0030; /* only BX counts */
    v.regs.rax = 0xbeef;
    struct emu_result res;
    ck_assert_int_eq(mmio_emu_run(&v, &res), EMU_OK);
    ck_assert_uint_eq(v.rip, 0x102);
    ck_assert_uint_eq(dlog[0].off, 0x30);
    ck_assert_uint_eq(dlog[0].size, 2);
}
END_TEST

/* Long mode with 4-level paging: identity 2 MiB pages for the low RAM,
 * and linear 0x40000000 mapped to the device's guest-physical page. */
static void long_mode(void)
{
    put64(0x10000, 0x11000 | 3);         /* PML4[0] -> PDPT */
    put64(0x11000 + 0 * 8, 0x12000 | 3); /* PDPT[0] -> PD (0-1 GiB) */
    put64(0x11000 + 1 * 8, 0x13000 | 3); /* PDPT[1] -> PD (1-2 GiB) */
    put64(0x12000, 0x000000 | 0x83);     /* 2 MiB page at 0 */
    put64(0x12000 + 8, 0x200000 | 0x83); /* 2 MiB page at 2 MiB */
    put64(0x13000, DEV_BASE | 0x83);     /* 0x40000000 -> the device */
    v.cr0 = CR0_PE | CR0_PG;
    v.cr3 = 0x10000;
    v.cr4 = CR4_PAE;
    v.efer = EFER_LME | EFER_LMA;
    v.cs_long = 1;
    v.cs_db = 0;
}

START_TEST(load_through_guest_page_tables)
{
    long_mode();
    dev_mem[0x20] = 0x5a;
    dev_mem[0x27] = 0xa5;
    put(0x3000, (const uint8_t[]){0x4c, 0x8b, 0x23}, 3); /* mov r12, [rbx] */
    v.rip = 0x3000;
    v.regs.rbx = 0x40000020;
    v.regs.r12 = 1;
    struct emu_result res;
    ck_assert_int_eq(mmio_emu_run(&v, &res), EMU_OK);
    ck_assert_uint_eq(v.regs.r12, 0xa50000000000005aull);
    ck_assert_uint_eq(dlog[0].off, 0x20);
    ck_assert_uint_eq(dlog[0].size, 8);
    ck_assert_uint_eq(v.rip, 0x3003);
    /* Every other register is as it was. */
    ck_assert_uint_eq(v.regs.rbx, 0x40000020);
}
END_TEST

START_TEST(rep_movs_between_ram_and_device)
{
    long_mode();
    /* memcpy_toio: rep movsd, 4 dwords from RAM 0x5000 to the device. */
    for (int i = 0; i < 16; i++)
        d.mem.host[0x5000 + i] = (uint8_t)(0x10 + i);
    put(0x3000, (const uint8_t[]){0xf3, 0xa5}, 2);
    v.rip = 0x3000;
    v.regs.rsi = 0x5000;
    v.regs.rdi = 0x40000100;
    v.regs.rcx = 4;
    struct emu_result res;
    ck_assert_int_eq(mmio_emu_run(&v, &res), EMU_OK);
    ck_assert_mem_eq(dev_mem + 0x100, d.mem.host + 0x5000, 16);
    ck_assert_uint_eq(ndlog, 4);
    ck_assert_uint_eq(v.regs.rcx, 0);
    ck_assert_uint_eq(v.regs.rsi, 0x5010);
    ck_assert_uint_eq(v.regs.rdi, 0x40000110);
    /* memcpy_fromio: rep movsb back into RAM at 0x6000. */
    put(0x3002, (const uint8_t[]){0xf3, 0xa4}, 2);
    v.regs.rsi = 0x40000100;
    v.regs.rdi = 0x6000;
    v.regs.rcx = 16;
    ck_assert_int_eq(mmio_emu_run(&v, &res), EMU_OK);
    ck_assert_mem_eq(d.mem.host + 0x6000, d.mem.host + 0x5000, 16);
    ck_assert_uint_eq(v.rip, 0x3004);
}
END_TEST

START_TEST(odd_pieces_across_a_page)
{
    /* An 8-byte store at device offset 0xffd: 3 bytes on the first page,
     * 5 on the second; both go byte by byte (the bus takes 1/2/4/8). */
    long_mode();
    put(0x1000, (const uint8_t[]){0x48, 0x89, 0x03}, 3); /* mov [rbx], rax */
    v.rip = 0x1000;
    v.regs.rbx = 0x40000ffd;
    v.regs.rax = 0x0807060504030201ull;
    struct emu_result res;
    ck_assert_int_eq(mmio_emu_run(&v, &res), EMU_OK);
    ck_assert_uint_eq(ndlog, 8);
    for (unsigned i = 0; i < 8; i++) {
        ck_assert_uint_eq(dlog[i].off, 0xffd + i);
        ck_assert_uint_eq(dlog[i].size, 1);
    }
    for (int i = 0; i < 8; i++)
        ck_assert_uint_eq(dev_mem[0xffd + i], i + 1);
}
END_TEST

START_TEST(failures_name_the_place)
{
    struct emu_result res;
    /* A hole in the memory map. */
    put(0x1000, (const uint8_t[]){0x8b, 0x03}, 2); /* mov eax, [ebx] */
    v.rip = 0x1000;
    v.regs.rbx = 0xfec00004;
    struct vcpu before = v;
    ck_assert_int_eq(mmio_emu_run(&v, &res), EMU_FAULT);
    ck_assert_str_eq(res.reason, "cannot read data: guest-physical 0xfec00004 (reserved)");
    /* The registers are written back after a fault too (a REP may have
     * moved them), so they are marked for the backend; nothing else
     * differs. */
    ck_assert_uint_eq(v.dirty, VCPU_RSP | VCPU_RIP | VCPU_RFLAGS);
    v.dirty = before.dirty;
    ck_assert(memcmp(&v, &before, sizeof(v)) == 0);
    /* Nothing at all there. */
    v.regs.rbx = 0xd0000000;
    ck_assert_int_eq(mmio_emu_run(&v, &res), EMU_FAULT);
    ck_assert_str_eq(res.reason, "cannot read data: guest-physical 0xd0000000 (nothing there)");
    /* A linear address the guest's tables do not map. */
    long_mode();
    put(0x3000, (const uint8_t[]){0x89, 0x03}, 2);
    v.rip = 0x3000;
    v.regs.rbx = 0x80000000;
    ck_assert_int_eq(mmio_emu_run(&v, &res), EMU_FAULT);
    ck_assert_msg(strstr(res.reason, "cannot write data: linear 0x80000000: not present") != NULL,
                  "%s", res.reason);
    ck_assert_uint_eq(v.rip, 0x3000);
    /* A refusal by name. */
    put(0x3000, (const uint8_t[]){0x0f, 0xae, 0x3b}, 3);
    ck_assert_int_eq(mmio_emu_run(&v, &res), EMU_UNSUPPORTED);
    ck_assert_str_eq(res.reason,
                     "MMIO access by an instruction hv does not emulate: 0f ae /7 (clflush)");
    ck_assert_uint_eq(ndlog, 0);
}
END_TEST

START_TEST(mode_and_registers)
{
    struct emu_cpu c;
    v.regs = (struct gprs){1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    v.cs_long = 1; /* CS.L without EFER.LMA is not 64-bit code */
    emu_cpu_of(&v, &c);
    ck_assert_uint_eq(c.mode, 32);
    v.efer = EFER_LMA;
    emu_cpu_of(&v, &c);
    ck_assert_uint_eq(c.mode, 64);
    /* struct gprs is rax rbx rcx rdx rsi rdi rbp rsp r8..: encoding order
     * is rax rcx rdx rbx rsp rbp rsi rdi r8.. */
    static const uint64_t want[16] = {1, 3, 4, 2, 8, 7, 5, 6, 9, 10, 11, 12, 13, 14, 15, 16};
    for (int i = 0; i < 16; i++)
        ck_assert_uint_eq(c.gpr[i], want[i]);
    v.cs_long = 0;
    v.cs_db = 0;
    emu_cpu_of(&v, &c);
    ck_assert_uint_eq(c.mode, 16);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hv_mmio_emu");
    TCase *tc = tcase_create("mmio_emu");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, store_to_device_flat_32bit);
    tcase_add_test(tc, segment_base_in_16bit_code);
    tcase_add_test(tc, load_through_guest_page_tables);
    tcase_add_test(tc, rep_movs_between_ram_and_device);
    tcase_add_test(tc, odd_pieces_across_a_page);
    tcase_add_test(tc, failures_name_the_place);
    tcase_add_test(tc, mode_and_registers);
    suite_add_tcase(s, tc);
    return check_main(s);
}
