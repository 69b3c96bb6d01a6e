/*
 * Unit tests for hv/core/teardown.c: a domain set up as main.c sets one up
 * (RAM, second-level tables in both formats, a split 2 MiB page, the dirty
 * log's bitmaps, a vCPU's backend structure, a device model's memory), all
 * from one heap (hv/core/heap.c), gives every byte back when it is torn
 * down, and the heap is one block again.  A running domain keeps its
 * memory, and a second teardown changes nothing.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "core/heap.h"
#include "core/hv.h"
#include "svm/paging.h"
#include "vmx/paging.h"

#define MB    (1ull << 20)
#define ARENA (64 * MB)

static struct heap heap;
static uint8_t *arena;
static struct host host;
static struct domain dom;
static struct vcpu vcpu;
/* What the fake backend and device saw. */
static int destroyed, released;

static void *heap_zalloc(size_t bytes)
{
    void *p = heap_alloc(&heap, bytes, 4096);
    if (p)
        memset(p, 0, bytes);
    return p;
}

static void heap_release(void *p)
{
    ck_assert_int_eq(heap_free(&heap, p), 0);
}

/* The backend's per-vCPU structure, as vcpu_init would leave it. */
static void fake_destroy(struct vcpu *v)
{
    destroyed++;
    heap_release(v->arch);
    v->arch = NULL;
}

static const struct backend fake = {.name = "fake", .vcpu_destroy = fake_destroy};

/* A device model that allocated a buffer. */
static void dev_release(void *ctx)
{
    released++;
    heap_release(ctx);
}

static uint64_t dev_read(void *ctx, uint64_t offset, uint8_t size)
{
    (void)ctx, (void)offset, (void)size;
    return 0;
}

static void dev_write(void *ctx, uint64_t offset, uint8_t size, uint64_t value)
{
    (void)ctx, (void)offset, (void)size, (void)value;
}

static struct mmio_device dev = {.name = "test device",
                                 .base = 0xfeb00000,
                                 .size = 0x1000,
                                 .read = dev_read,
                                 .write = dev_write,
                                 .release = dev_release};

static size_t free_bytes(void)
{
    struct heap_stats s;
    heap_stats(&heap, &s);
    return s.free_bytes;
}

static void setup(void)
{
    arena = aligned_alloc(2 * MB, ARENA);
    heap_init(&heap);
    heap_add(&heap, arena, ARENA);
    destroyed = released = 0;
}

static void teardown(void)
{
    free(arena);
}

/* A domain of 16 MiB as main.c's make_domain builds one, in format i. */
static void make_domain(int i)
{
    char err[160];
    memset(&host, 0, sizeof(host));
    memset(&vcpu, 0, sizeof(vcpu));
    host.be = &fake;
    domain_init(&dom, &host, 0, NULL, NULL);
    ck_assert_int_eq(domain_add_vcpu(&dom, &vcpu), 0);
    vcpu.arch = heap_zalloc(3 * 4096);
    ck_assert_ptr_nonnull(vcpu.arch);
    dom.mem.size = 16 * MB;
    dom.mem.host = heap_alloc(&heap, dom.mem.size, 2 * MB);
    ck_assert_ptr_nonnull(dom.mem.host);
    ck_assert_int_eq(guestmem_layout(&dom.map, dom.mem.size, err, sizeof(err)), 0);
    const struct slat_format *f = i ? &vmx_ept_format : &svm_npt_format;
    ck_assert_int_eq(guestmem_init(&dom.guestmem, &dom.mem, &dom.map, false, f, SLAT_CAP_NOEXEC,
                                   heap_zalloc, heap_release, err, sizeof(err)),
                     0);
    /* A 2 MiB page split by a read-only 4 KiB one, and the dirty log's
     * bitmaps: more tables and two more allocations. */
    ck_assert_int_eq(guestmem_protect(&dom.guestmem, 4 * MB, 0x1000, SLAT_R | SLAT_X), 0);
    ck_assert_int_eq(guestmem_dirty_start(&dom.guestmem), 0);
    dev.ctx = heap_zalloc(4096);
    ck_assert_int_eq(domain_add_mmio(&dom, &dev, err, sizeof(err)), 0);
}

START_TEST(stopped_domain_gives_everything_back)
{
    size_t before = free_bytes();
    make_domain(_i);
    ck_assert_uint_gt(dom.guestmem.slat.tables, 3);
    ck_assert_uint_lt(free_bytes(), before - 16 * MB);
    /* Running: nothing goes. */
    dom.state = DOMAIN_RUNNING;
    domain_teardown(&dom);
    ck_assert(!dom.torn_down);
    ck_assert_int_eq(destroyed, 0);
    /* Stopped: every byte back, and the heap is one block again. */
    domain_crash(&dom, "test");
    domain_teardown(&dom);
    ck_assert(dom.torn_down);
    ck_assert_int_eq(destroyed, 1);
    ck_assert_int_eq(released, 1);
    ck_assert_uint_eq(dom.guestmem.slat.tables, 0);
    ck_assert_ptr_null(dom.mem.host);
    ck_assert_uint_eq(free_bytes(), before);
    struct heap_stats s;
    heap_stats(&heap, &s);
    ck_assert_uint_eq(s.largest_free, s.free_bytes);
    /* Twice: nothing more happens (heap_release would fail a double free). */
    domain_teardown(&dom);
    ck_assert_int_eq(destroyed, 1);
    /* The report's counters and the end stay. */
    ck_assert_int_eq(dom.state, DOMAIN_CRASHED);
    ck_assert_str_eq(dom.why, "test");
}
END_TEST

/* The vCPU the CPU has loaded stops being loaded. */
START_TEST(loaded_vcpu_is_unloaded)
{
    make_domain(0);
    host.loaded = &vcpu;
    domain_shutdown(&dom, 3);
    domain_teardown(&dom);
    ck_assert_ptr_null(host.loaded);
    ck_assert_uint_eq(dom.exit_code, 3);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hv_teardown");
    TCase *tc = tcase_create("teardown");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, stopped_domain_gives_everything_back, 0, 2);
    tcase_add_test(tc, loaded_vcpu_is_unloaded);
    suite_add_tcase(s, tc);
    return check_main(s);
}
