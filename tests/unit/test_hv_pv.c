/*
 * Unit tests for the pure parts of hv's paravirtual interface (hv/core/pv.h):
 *   - the hypercall page: its stubs run on this CPU (with NOPs where the
 *     vendor's instruction goes) and return their call number in RAX;
 *   - the grant check: references beyond the table, revoked and read-only
 *     grants, frames outside RAM or whose address wraps;
 *   - the console ring's consumer: lines as the UART makes them, indices
 *     across the 2^32 wrap, broken indices refused with the ring untouched;
 *   - the PV clock: the scale against the exact quotient, the seqlock.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "check_main.h"
#include "core/pv.h"

/* ---- The hypercall page ---- */

START_TEST(hcpage_stubs_run)
{
    /* An executable page: the stubs are run, not just compared. */
    uint8_t *page =
        mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(page, MAP_FAILED);
    static const uint8_t nops[3] = {0x90, 0x90, 0x90};
    pv_hcpage_fill(page, nops);
    for (unsigned nr = 0; nr < HVKIT_HCPAGE_SLOTS; nr++) {
        uint64_t rax = 0xdeadbeefdeadbeefull;
        void *stub = page + nr * HVKIT_HCPAGE_SLOT;
        /* RAX must come back as nr, upper half cleared by the 32-bit MOV. */
        __asm__ volatile("call *%1" : "+a"(rax) : "r"(stub) : "memory", "cc");
        ck_assert_uint_eq(rax, nr);
    }
    /* The vendor's bytes at offset 5, int3 in the padding. */
    static const uint8_t vmmcall[3] = {0x0f, 0x01, 0xd9};
    pv_hcpage_fill(page, vmmcall);
    ck_assert_mem_eq(page + 5 * 32 + 5, vmmcall, 3);
    ck_assert_uint_eq(page[5 * 32 + 8], 0xc3);
    ck_assert_uint_eq(page[5 * 32 + 9], 0xcc);
    ck_assert_uint_eq(page[4095], 0xcc);
    munmap(page, 4096);
}
END_TEST

/* ---- Grants ---- */

#define RAM (64u * 1024)
static uint8_t *ram;
static struct guest_mem mem;
static struct pv_grants grants;
static struct hvkit_grant *table;

static void grants_setup(void)
{
    ram = aligned_alloc(4096, RAM);
    memset(ram, 0, RAM);
    mem = (struct guest_mem){.host = ram, .size = RAM};
    /* Four entries at 0x1000. */
    grants = (struct pv_grants){.gpa = 0x1000, .nr = 4};
    table = (struct hvkit_grant *)(ram + 0x1000);
    table[0] = (struct hvkit_grant){.flags = HVKIT_GRANT_PERMIT, .gfn = 3};
    table[1] = (struct hvkit_grant){.flags = HVKIT_GRANT_PERMIT | HVKIT_GRANT_READONLY, .gfn = 4};
    table[2] = (struct hvkit_grant){.flags = 0, .gfn = 5};
    table[3] = (struct hvkit_grant){.flags = HVKIT_GRANT_PERMIT, .gfn = RAM / 4096};
}

static void grants_teardown(void)
{
    free(ram);
}

START_TEST(grant_map_checks)
{
    uint8_t *p = NULL;
    ck_assert_int_eq(pv_grant_map(&grants, &mem, 0, true, &p), HC_OK);
    ck_assert_ptr_eq(p, ram + 0x3000);
    ck_assert_int_eq(pv_grant_map(&grants, &mem, 1, false, &p), HC_OK);
    ck_assert_ptr_eq(p, ram + 0x4000);
    /* Read-only: no write; revoked: nothing; beyond the table: nothing. */
    ck_assert_int_eq(pv_grant_map(&grants, &mem, 1, true, &p), HC_EINVAL);
    ck_assert_int_eq(pv_grant_map(&grants, &mem, 2, false, &p), HC_EINVAL);
    ck_assert_int_eq(pv_grant_map(&grants, &mem, 4, false, &p), HC_EINVAL);
    ck_assert_int_eq(pv_grant_map(&grants, &mem, UINT64_MAX, false, &p), HC_EINVAL);
    /* The first frame past RAM, and a frame whose address wraps. */
    ck_assert_int_eq(pv_grant_map(&grants, &mem, 3, false, &p), HC_EFAULT);
    table[3].gfn = UINT64_MAX;
    ck_assert_int_eq(pv_grant_map(&grants, &mem, 3, false, &p), HC_EFAULT);
    /* Revoking takes effect at the next map. */
    table[0].flags = 0;
    ck_assert_int_eq(pv_grant_map(&grants, &mem, 0, true, &p), HC_EINVAL);
    /* No table at all. */
    struct pv_grants none = {0};
    ck_assert_int_eq(pv_grant_map(&none, &mem, 0, false, &p), HC_EINVAL);
}
END_TEST

START_TEST(grant_table_checks)
{
    ck_assert_int_eq(pv_grant_check_table(&mem, 0x1000, 4), HC_OK);
    ck_assert_int_eq(pv_grant_check_table(&mem, 0x1000, 0), HC_EINVAL);
    ck_assert_int_eq(pv_grant_check_table(&mem, 0x1000, HVKIT_GRANT_MAX + 1), HC_EINVAL);
    ck_assert_int_eq(pv_grant_check_table(&mem, 0x1004, 4), HC_EINVAL);
    /* The last entry one byte past RAM, and an address near 2^64. */
    ck_assert_int_eq(pv_grant_check_table(&mem, RAM - 4 * 16 + 8, 4), HC_EFAULT);
    ck_assert_int_eq(pv_grant_check_table(&mem, RAM - 4 * 16, 4), HC_OK);
    ck_assert_int_eq(pv_grant_check_table(&mem, UINT64_MAX - 15, 4), HC_EFAULT);
}
END_TEST

/* ---- The console ring ---- */

static char got[8][UART_LINE_MAX + 1];
static size_t got_len[8];
static int lines;

static void sink(void *ctx, const char *line, size_t len)
{
    (void)ctx;
    ck_assert_int_lt(lines, 8);
    memcpy(got[lines], line, len);
    got[lines][len] = '\0';
    got_len[lines++] = len;
}

static void put(struct hvkit_console_ring *r, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        r->out[(r->out_prod++) % HVKIT_CONSOLE_OUT_SIZE] = s[i];
}

START_TEST(console_lines)
{
    static struct hvkit_console_ring r;
    struct pv_console c = {0};
    lines = 0;
    /* Indices just below the 2^32 wrap: prod - cons stays right. */
    r.out_cons = r.out_prod = 0xfffffffau;
    put(&r, "one\r\ntw", 7);
    ck_assert_int_eq(pv_console_consume(&r, &c, sink, NULL), 7);
    ck_assert_uint_eq(r.out_cons, r.out_prod);
    ck_assert_int_eq(lines, 1);
    ck_assert_str_eq(got[0], "one");
    put(&r, "o\n\n", 3);
    ck_assert_int_eq(pv_console_consume(&r, &c, sink, NULL), 3);
    ck_assert_int_eq(lines, 3);
    ck_assert_str_eq(got[1], "two");
    ck_assert_uint_eq(got_len[2], 0);
    /* A line longer than the buffer comes in pieces. */
    char longline[UART_LINE_MAX + 10];
    memset(longline, 'a', sizeof(longline));
    put(&r, longline, sizeof(longline));
    pv_console_consume(&r, &c, sink, NULL);
    ck_assert_int_eq(lines, 4);
    ck_assert_uint_eq(got_len[3], UART_LINE_MAX);
    pv_console_flush(&c, sink, NULL);
    ck_assert_uint_eq(got_len[4], 10);
    ck_assert_uint_eq(c.bytes, 10 + sizeof(longline));
}
END_TEST

START_TEST(console_broken_indices)
{
    static struct hvkit_console_ring r;
    struct pv_console c = {0};
    lines = 0;
    r.out_cons = 100;
    r.out_prod = 100 + HVKIT_CONSOLE_OUT_SIZE + 1;
    ck_assert_int_eq(pv_console_consume(&r, &c, sink, NULL), HC_EINVAL);
    /* A consumer ahead of the producer is a huge distance too. */
    r.out_prod = 99;
    ck_assert_int_eq(pv_console_consume(&r, &c, sink, NULL), HC_EINVAL);
    ck_assert_uint_eq(r.out_cons, 100);
    ck_assert_int_eq(lines, 0);
    /* Exactly full is fine. */
    r.out_prod = 100 + HVKIT_CONSOLE_OUT_SIZE;
    memset(r.out, 'z', sizeof(r.out));
    ck_assert_int_eq(pv_console_consume(&r, &c, sink, NULL), HVKIT_CONSOLE_OUT_SIZE);
}
END_TEST

/* ---- The clock ---- */

START_TEST(clock_scale_exact)
{
    static const uint64_t rates[] = {1000000ull,    100000000ull,  999999999ull,  1000000000ull,
                                     1000000001ull, 2613368000ull, 5000000000ull, 10000000000ull};
    for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
        uint64_t hz = rates[i];
        uint32_t mul;
        int8_t shift;
        pv_clock_scale(hz, &mul, &shift);
        /* The most precision 32 bits give: the top bit set. */
        ck_assert_uint_ge(mul, 0x80000000u);
        /* Against the exact quotient, for spans from one tick to an hour:
         * the relative error below 2^-30, plus the truncations. */
        static const uint64_t secs_x1000[] = {0, 1, 1000, 3600000};
        for (size_t j = 0; j < 4; j++) {
            uint64_t ticks = secs_x1000[j] ? hz / 1000 * secs_x1000[j] : 1;
            unsigned __int128 exact = (unsigned __int128)ticks * 1000000000ull / hz;
            uint64_t got_ns = pv_clock_apply(ticks, mul, shift);
            uint64_t diff = got_ns > exact ? got_ns - (uint64_t)exact : (uint64_t)exact - got_ns;
            ck_assert_uint_le(diff, (uint64_t)(exact >> 30) + 2);
        }
    }
}
END_TEST

START_TEST(clock_seqlock)
{
    struct hvkit_pvclock c = {0};
    pv_clock_publish(&c, 1000, 2000, 0x80000000u, 1);
    ck_assert_uint_eq(c.version, 2);
    ck_assert_uint_eq(c.tsc_timestamp, 1000);
    ck_assert_uint_eq(c.system_time, 2000);
    ck_assert_int_eq(c.tsc_shift, 1);
    ck_assert_uint_eq(c.flags, HVKIT_PVCLOCK_TSC_STABLE);
    /* A guest that left an odd version: still even and larger after. */
    c.version = 7;
    pv_clock_publish(&c, 1, 2, 3, 0);
    ck_assert_uint_eq(c.version, 10);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hv_pv");
    TCase *tc = tcase_create("hypercall page");
    tcase_add_test(tc, hcpage_stubs_run);
    suite_add_tcase(s, tc);
    tc = tcase_create("grants");
    tcase_add_checked_fixture(tc, grants_setup, grants_teardown);
    tcase_add_test(tc, grant_map_checks);
    tcase_add_test(tc, grant_table_checks);
    suite_add_tcase(s, tc);
    tc = tcase_create("console ring");
    tcase_add_test(tc, console_lines);
    tcase_add_test(tc, console_broken_indices);
    suite_add_tcase(s, tc);
    tc = tcase_create("clock");
    tcase_add_test(tc, clock_scale_exact);
    tcase_add_test(tc, clock_seqlock);
    suite_add_tcase(s, tc);
    return check_main(s);
}
