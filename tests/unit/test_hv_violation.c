/*
 * Unit tests for hv/core/violation.c (with mmio_emu.c and the emulator): a second-level violation
 * at a device's address is emulated against the device (registers, RIP and
 * the device's registers change as the CPU and the device would have
 * changed them), the exception the CPU would raise is injected, the
 * single-step trap follows when the guest runs with RFLAGS.TF, and every
 * other violation ends the guest with the access, the address, RIP and
 * what the memory map has there named.  The guest runs in 32-bit protected
 * mode with paging off, so linear = guest-physical addresses; the backend
 * is a fake that records what the core asks of it.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "core/hv.h"
#include "svm/paging.h"
#include "check_main.h"

#define RAM  (4u << 20)
#define CODE 0x100000u

/* The fake backend: injections are recorded, nothing else is needed. */
static int injected = -1;
static bool injected_err;

static void fake_inject(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
    (void)v;
    (void)error;
    injected = vector;
    injected_err = has_error;
}

/* The page the core asked to flush from the TLB, or ~0. */
static uint64_t flushed = ~0ull;

static void fake_flush(struct vcpu *v, uint64_t gpa, uint64_t len)
{
    (void)v;
    (void)len;
    flushed = gpa;
}

/* Single-step traps the core asked for. */
static int stepped;

static void fake_step(struct vcpu *v)
{
    (void)v;
    stepped++;
}

/* The guest state as the fake hardware holds it, and the groups the core
 * asked the fake backend to load (vcpu.h "Lazy guest state"). */
static struct vcpu hw;
static unsigned asked, asks;

static void fake_load(struct vcpu *vcpu, unsigned what)
{
    asked |= what;
    asks++;
    if (what & VCPU_RSP)
        vcpu->regs.rsp = hw.regs.rsp;
    if (what & VCPU_RFLAGS)
        vcpu->rflags = hw.rflags;
    if (what & VCPU_CR)
        vcpu->cr0 = hw.cr0;
    if (what & VCPU_SEGS)
        vcpu->cs_db = hw.cs_db;
    if (what & VCPU_INT_SHADOW)
        vcpu->int_shadow = hw.int_shadow;
    vcpu->loaded |= what;
}

static const struct backend fake = {.name = "fake",
                                    .inject_exception = fake_inject,
                                    .flush_slat = fake_flush,
                                    .single_step = fake_step,
                                    .load_state = fake_load};

/* A device of 32-bit registers, like a local APIC's page. */
static uint32_t regs[1024];
static int accesses;

static uint64_t dev_read(void *ctx, uint64_t off, uint8_t size)
{
    (void)ctx;
    (void)size;
    accesses++;
    return regs[off / 4];
}

static void dev_write(void *ctx, uint64_t off, uint8_t size, uint64_t val)
{
    (void)ctx;
    (void)size;
    accesses++;
    regs[off / 4] = (uint32_t)val;
}

/* Zeroed page-aligned memory: guest RAM, and tables for the lazy test. */
static void *zalloc(size_t bytes)
{
    void *p = aligned_alloc(4096, bytes);
    if (p)
        memset(p, 0, bytes);
    return p;
}

static struct host h;
static struct domain d;
static struct vcpu v;
static struct mmio_device dev = {.name = "test device",
                                 .base = 0xfee00000,
                                 .size = 0x1000,
                                 .read = dev_read,
                                 .write = dev_write};
static char text[160], why[DOMAIN_WHY_LEN];

static void setup(void)
{
    char err[160];
    memset(&h, 0, sizeof(h));
    memset(&v, 0, sizeof(v));
    memset(regs, 0, sizeof(regs));
    /* Every group of guest state in struct vcpu, unless a test says. */
    v.loaded = VCPU_STATE_ALL;
    asked = asks = 0;
    accesses = 0;
    injected = -1;
    stepped = 0;
    flushed = ~0ull;
    h.be = &fake;
    /* The trace text is formatted only when tracing. */
    h.opt.trace = true;
    domain_init(&d, &h, 0, NULL, NULL);
    d.mem.size = RAM;
    /* Page aligned, as the tables map it page by page. */
    d.mem.host = zalloc(RAM);
    ck_assert_int_eq(memmap_pc(&d.map, RAM, false, err, sizeof(err)), 0);
    /* Eager tables are not needed here: the guest's RAM is read directly.
     * The guest memory's view of RAM and map, for the RAM step. */
    d.guestmem.ram = &d.mem;
    d.guestmem.map = &d.map;
    ck_assert_int_eq(domain_add_mmio(&d, &dev, err, sizeof(err)), 0);
    ck_assert_int_eq(domain_add_vcpu(&d, &v), 0);
    /* Protected mode, paging off, 32-bit code. */
    v.cr0 = 0x11;
    v.cs_db = 1;
    v.rip = CODE;
    v.rflags = 2;
    text[0] = why[0] = '\0';
}

static void teardown(void)
{
    free(d.mem.host);
}

/* Put instruction bytes at RIP. */
static void code(const char *bytes, size_t n)
{
    memcpy(d.mem.host + CODE, bytes, n);
}

/* The exit the CPU would give for an access at gpa. */
static struct exit_info violation(uint64_t gpa, enum mem_access access)
{
    return (struct exit_info){
        .reason = EXIT_MEM_VIOLATION, .rip = v.rip, .mem = {.gpa = gpa, .access = access}};
}

START_TEST(store_reaches_the_device)
{
    /* mov [ebx+0x20], eax */
    code("\x89\x43\x20", 3);
    v.regs.rbx = 0xfee00000;
    v.regs.rax = 0x12345678;
    struct exit_info e = violation(0xfee00020, MEM_ACCESS_WRITE);
    ck_assert_int_eq(handle_mem_violation(&v, &e, text, sizeof(text), why, sizeof(why)), 0);
    ck_assert_uint_eq(regs[0x20 / 4], 0x12345678);
    ck_assert_uint_eq(v.rip, CODE + 3);
    ck_assert(strstr(text, "test device") != NULL);
    ck_assert_int_eq(injected, -1);
}
END_TEST

START_TEST(load_comes_from_the_device)
{
    /* mov ecx, [ebx+0x30]: ECX is written, the upper half of RCX cleared
     * as a 32-bit destination does. */
    code("\x8b\x4b\x30", 3);
    regs[0x30 / 4] = 0xcafe;
    v.regs.rbx = 0xfee00000;
    v.regs.rcx = 0xffffffff00000000ull;
    struct exit_info e = violation(0xfee00030, MEM_ACCESS_READ);
    ck_assert_int_eq(handle_mem_violation(&v, &e, text, sizeof(text), why, sizeof(why)), 0);
    ck_assert_uint_eq(v.regs.rcx, 0xcafe);
    ck_assert_uint_eq(v.rip, CODE + 3);
}
END_TEST

START_TEST(rep_stos_fills_device_registers)
{
    /* rep stosd: four registers from 0x40, ECX counts down to 0. */
    code("\xf3\xab", 2);
    v.regs.rax = 0x11;
    v.regs.rcx = 4;
    v.regs.rdi = 0xfee00040;
    struct exit_info e = violation(0xfee00040, MEM_ACCESS_WRITE);
    ck_assert_int_eq(handle_mem_violation(&v, &e, text, sizeof(text), why, sizeof(why)), 0);
    for (unsigned i = 0; i < 4; i++)
        ck_assert_uint_eq(regs[0x40 / 4 + i], 0x11);
    ck_assert_uint_eq(regs[0x50 / 4], 0);
    ck_assert_uint_eq(v.regs.rcx, 0);
    ck_assert_uint_eq(v.regs.rdi, 0xfee00050);
    ck_assert_uint_eq(v.rip, CODE + 2);
}
END_TEST

START_TEST(lock_mov_gets_ud)
{
    /* LOCK MOV is #UD on a CPU: injected, RIP stays, nothing accessed. */
    code("\xf0\x89\x03", 3);
    v.regs.rbx = 0xfee00000;
    struct exit_info e = violation(0xfee00000, MEM_ACCESS_WRITE);
    ck_assert_int_eq(handle_mem_violation(&v, &e, text, sizeof(text), why, sizeof(why)), 0);
    ck_assert_int_eq(injected, 6);
    ck_assert(!injected_err);
    ck_assert_uint_eq(v.rip, CODE);
    ck_assert_int_eq(accesses, 0);
}
END_TEST

START_TEST(unsupported_instruction_ends_guest_by_name)
{
    /* clflush [ebx]: valid, but not an MMIO access hv emulates. */
    code("\x0f\xae\x3b", 3);
    v.regs.rbx = 0xfee00000;
    struct exit_info e = violation(0xfee00000, MEM_ACCESS_READ);
    ck_assert_int_eq(handle_mem_violation(&v, &e, text, sizeof(text), why, sizeof(why)), -1);
    ck_assert_str_eq(why, "read from guest-physical 0xfee00000 at rip 0x100000: MMIO access by an "
                          "instruction hv does not emulate: 0f ae /7 (clflush), in the test "
                          "device's range");
    ck_assert_uint_eq(v.rip, CODE);
}
END_TEST

START_TEST(fetch_from_device_ends_guest)
{
    struct exit_info e = violation(0xfee00000, MEM_ACCESS_FETCH);
    ck_assert_int_eq(handle_mem_violation(&v, &e, text, sizeof(text), why, sizeof(why)), -1);
    ck_assert_str_eq(why, "executed at guest-physical 0xfee00000 at rip 0x100000: the test "
                          "device's MMIO, which holds no code");
    ck_assert_int_eq(accesses, 0);
}
END_TEST

/* The guest's page tables point at the device: the walk's access is not
 * the instruction's, and nothing is emulated. */
START_TEST(walk_into_device_ends_guest)
{
    struct exit_info e = violation(0xfee00000, MEM_ACCESS_WRITE);
    e.mem.during_walk = true;
    ck_assert_int_eq(handle_mem_violation(&v, &e, text, sizeof(text), why, sizeof(why)), -1);
    ck_assert_str_eq(why, "wrote to guest-physical 0xfee00000 at rip 0x100000: the guest's page "
                          "tables point into the test device's MMIO (while walking the guest's "
                          "page tables)");
    ck_assert_int_eq(accesses, 0);
}
END_TEST

/* An exit in the middle of delivering an event (the backend queued it
 * again): the access was the delivery's, and the instruction at RIP is
 * not run a second time. */
START_TEST(delivery_into_device_ends_guest)
{
    code("\x89\x03", 2); /* mov [ebx], eax: would be emulated otherwise */
    v.event_pending = 1;
    struct exit_info e = violation(0xfee007f8, MEM_ACCESS_WRITE);
    ck_assert_int_eq(handle_mem_violation(&v, &e, text, sizeof(text), why, sizeof(why)), -1);
    ck_assert_str_eq(why, "wrote to guest-physical 0xfee007f8 at rip 0x100000: the test device's "
                          "MMIO, while delivering an interrupt or exception (the guest's stack, "
                          "IDT, GDT or TSS is there)");
    ck_assert_int_eq(accesses, 0);
    ck_assert_uint_eq(v.rip, CODE);
}
END_TEST

START_TEST(outside_everything_names_the_place)
{
    struct exit_info e = violation(0xd0000000, MEM_ACCESS_READ);
    ck_assert_int_eq(handle_mem_violation(&v, &e, text, sizeof(text), why, sizeof(why)), -1);
    ck_assert_str_eq(why, "read from guest-physical 0xd0000000 at rip 0x100000: nothing there, "
                          "outside the memory map");
    /* A hole the map names, found while walking the guest's tables. */
    e = violation(0xfffc0000, MEM_ACCESS_WRITE);
    e.mem.during_walk = true;
    ck_assert_int_eq(handle_mem_violation(&v, &e, text, sizeof(text), why, sizeof(why)), -1);
    ck_assert_str_eq(why, "wrote to guest-physical 0xfffc0000 at rip 0x100000: nothing there, the "
                          "reserved firmware flash range (while walking the guest's page tables)");
    /* RAM that forbids the access, on VT-x a misconfiguration. */
    e = violation(0x200000, MEM_ACCESS_WRITE);
    e.mem.present = true;
    e.mem.misconfig = true;
    ck_assert_int_eq(handle_mem_violation(&v, &e, text, sizeof(text), why, sizeof(why)), -1);
    ck_assert_str_eq(why, "wrote to guest-physical 0x200000 at rip 0x100000: a RAM page that does "
                          "not allow it, in the RAM range (EPT misconfiguration)");
}
END_TEST

START_TEST(fetch_reported_as_read_is_a_fetch)
{
    /* SVM without NXE reports a fetch as a read: at RIP's own address it
     * can only be the fetch. */
    v.rip = 0xd0000000;
    struct exit_info e = violation(0xd0000000, MEM_ACCESS_READ);
    ck_assert_int_eq(handle_mem_violation(&v, &e, text, sizeof(text), why, sizeof(why)), -1);
    ck_assert_str_eq(why, "executed at guest-physical 0xd0000000 at rip 0xd0000000: nothing "
                          "there, outside the memory map");
    /* An instruction straddling into the next page faults there. */
    v.rip = 0x3ffffe;
    e = violation(0x400000, MEM_ACCESS_READ);
    ck_assert_int_eq(handle_mem_violation(&v, &e, text, sizeof(text), why, sizeof(why)), -1);
    ck_assert(strncmp(why, "executed at guest-physical 0x400000 at rip 0x3ffffe", 51) == 0);
    /* A read elsewhere stays a read. */
    v.rip = CODE;
    e = violation(0xd0000000, MEM_ACCESS_READ);
    ck_assert_int_eq(handle_mem_violation(&v, &e, text, sizeof(text), why, sizeof(why)), -1);
    ck_assert(strncmp(why, "read from ", 10) == 0);
}
END_TEST

START_TEST(lazy_ram_is_mapped_and_retried)
{
    /* npt=lazy: nothing mapped; the first touch of a RAM page maps it,
     * asks for its flush and leaves RIP for the retry. */
    char err[160];
    ck_assert_int_eq(guestmem_init(&d.guestmem, &d.mem, &d.map, true, &svm_npt_format, 0, zalloc,
                                   NULL, err, sizeof(err)),
                     0);
    struct exit_info e = violation(0x201234, MEM_ACCESS_WRITE);
    ck_assert_int_eq(handle_mem_violation(&v, &e, text, sizeof(text), why, sizeof(why)), 0);
    ck_assert_uint_eq(flushed, 0x201000);
    ck_assert_uint_eq(v.rip, CODE);
    ck_assert_str_eq(text, "gpa 0x201234 write: first touch, mapped page 0x201000");
    /* A hole is still no RAM: the guest ends. */
    e = violation(0xd0000000, MEM_ACCESS_READ);
    ck_assert_int_eq(handle_mem_violation(&v, &e, text, sizeof(text), why, sizeof(why)), -1);
}
END_TEST

/* RFLAGS.TF: the single-step trap after the emulated instruction, and
 * after each iteration of a REP string instruction (RIP stays on it until
 * the count runs out); none without TF. */
START_TEST(single_step_after_mmio)
{
    code("\x89\x03", 2); /* mov [ebx], eax */
    v.regs.rbx = 0xfee00010;
    struct exit_info e = violation(0xfee00010, MEM_ACCESS_WRITE);
    ck_assert_int_eq(handle_mem_violation(&v, &e, text, sizeof(text), why, sizeof(why)), 0);
    ck_assert_int_eq(stepped, 0);
    v.rip = CODE;
    v.rflags = 2 | RFLAGS_TF;
    ck_assert_int_eq(handle_mem_violation(&v, &e, text, sizeof(text), why, sizeof(why)), 0);
    ck_assert_int_eq(stepped, 1);
    ck_assert_uint_eq(v.rip, CODE + 2);
    /* rep stosd, ECX = 2: one dword per exit while TF is set. */
    code("\xf3\xab", 2);
    v.rip = CODE;
    v.regs.rcx = 2;
    v.regs.rdi = 0xfee00040;
    e = violation(0xfee00040, MEM_ACCESS_WRITE);
    ck_assert_int_eq(handle_mem_violation(&v, &e, text, sizeof(text), why, sizeof(why)), 0);
    ck_assert_int_eq(stepped, 2);
    ck_assert_uint_eq(v.rip, CODE);
    ck_assert_uint_eq(v.regs.rcx, 1);
    ck_assert_int_eq(handle_mem_violation(&v, &e, text, sizeof(text), why, sizeof(why)), 0);
    ck_assert_int_eq(stepped, 3);
    ck_assert_uint_eq(v.rip, CODE + 2);
    ck_assert_uint_eq(v.regs.rcx, 0);
}
END_TEST

/* After an exit struct vcpu holds only RIP and the general registers: the
 * emulation asks the backend for what it reads, once, and marks what it
 * changed for the write-back. */
START_TEST(lazy_state_loaded_once_and_marked)
{
    code("\x89\x03", 2); /* mov [ebx], eax */
    v.regs.rbx = 0xfee00010;
    /* RIP and the core's own groups only: everything else is asked for. */
    v.loaded = VCPU_STATE_CORE | VCPU_RIP;
    v.cr0 = 0;
    v.cs_db = 0;
    hw.cr0 = 0x11;
    hw.cs_db = 1;
    hw.rflags = 2;
    hw.int_shadow = 1;
    struct exit_info e = violation(0xfee00010, MEM_ACCESS_WRITE);
    ck_assert_int_eq(handle_mem_violation(&v, &e, text, sizeof(text), why, sizeof(why)), 0);
    /* The 32-bit mode came from the "hardware": a 4-byte store. */
    ck_assert_uint_eq(v.rip, CODE + 2);
    ck_assert_uint_eq(v.int_shadow, 0);
    ck_assert_uint_eq(
        asked & (VCPU_RSP | VCPU_RFLAGS | VCPU_CR | VCPU_EFER | VCPU_SEGS | VCPU_INT_SHADOW),
        VCPU_RSP | VCPU_RFLAGS | VCPU_CR | VCPU_EFER | VCPU_SEGS | VCPU_INT_SHADOW);
    ck_assert_uint_eq(asked & (VCPU_IDTR | VCPU_RIP), 0);
    ck_assert_uint_eq(v.dirty & (VCPU_RIP | VCPU_RFLAGS | VCPU_INT_SHADOW),
                      VCPU_RIP | VCPU_RFLAGS | VCPU_INT_SHADOW);
    /* Loaded groups are not asked for again before the next exit. */
    unsigned before = asks;
    v.rip = CODE;
    ck_assert_int_eq(handle_mem_violation(&v, &e, text, sizeof(text), why, sizeof(why)), 0);
    ck_assert_uint_eq(asks, before);
}
END_TEST

/* Without `trace` no text is formatted for the trace line: the handling
 * is the same, the text stays empty. */
START_TEST(no_trace_text_without_trace)
{
    code("\x89\x03", 2); /* mov [ebx], eax */
    v.regs.rbx = 0xfee00010;
    h.opt.trace = false;
    struct exit_info e = violation(0xfee00010, MEM_ACCESS_WRITE);
    ck_assert_int_eq(handle_mem_violation(&v, &e, text, sizeof(text), why, sizeof(why)), 0);
    ck_assert_uint_eq(v.rip, CODE + 2);
    ck_assert_int_eq(accesses, 1);
    ck_assert_str_eq(text, "");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hv_violation");
    TCase *tc = tcase_create("violation");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, store_reaches_the_device);
    tcase_add_test(tc, load_comes_from_the_device);
    tcase_add_test(tc, rep_stos_fills_device_registers);
    tcase_add_test(tc, lock_mov_gets_ud);
    tcase_add_test(tc, unsupported_instruction_ends_guest_by_name);
    tcase_add_test(tc, fetch_from_device_ends_guest);
    tcase_add_test(tc, walk_into_device_ends_guest);
    tcase_add_test(tc, delivery_into_device_ends_guest);
    tcase_add_test(tc, outside_everything_names_the_place);
    tcase_add_test(tc, fetch_reported_as_read_is_a_fetch);
    tcase_add_test(tc, lazy_ram_is_mapped_and_retried);
    tcase_add_test(tc, single_step_after_mmio);
    tcase_add_test(tc, lazy_state_loaded_once_and_marked);
    tcase_add_test(tc, no_trace_text_without_trace);
    suite_add_tcase(s, tc);
    return check_main(s);
}
