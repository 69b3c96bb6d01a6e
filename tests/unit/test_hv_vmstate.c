/*
 * hvkit's vmstate (hv/core/vms.c, vms_domain.c and the device models'
 * serialisers), hosted: a domain with every model in a state of its own is
 * saved, loaded into a second domain made the same way, and saved again;
 * the two states are the same bytes.  Every cut of the state and a
 * changed byte at every place are refused, with a message naming the
 * section, and leave the target domain exactly as it was (its own state,
 * saved before and after, is the same bytes).  The checksum is zlib's.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/vms_domain.h"
#include "dev/virtio/console.h"
#include "check_main.h"

#define RAM (2u << 20)

/* The clocks the models read: fixed, so that a save, a load and a save
 * give the same relative times; moved on between them in one test. */
static uint64_t clock_now = 1000000;
static uint64_t fake_clock(void *ctx)
{
    (void)ctx;
    return clock_now;
}

/* One test domain: the models hv gives every domain, one vCPU, a virtio
 * console, and RAM. */
struct testdom {
    struct domain d;
    struct vcpu v;
    struct virtio_console con;
    struct virtio_mmio t;
    struct cpu_state cpu;
    struct vms_parts parts;
};

static uint8_t *memdup(const uint8_t *p, size_t n)
{
    uint8_t *q = malloc(n);
    memcpy(q, p, n);
    return q;
}

static int fake_disk;

static void dom_make(struct testdom *t)
{
    memset(t, 0, sizeof(*t));
    domain_init(&t->d, NULL, 0, NULL, NULL);
    ck_assert_int_eq(domain_add_vcpu(&t->d, &t->v), 0);
    t->d.mem.size = RAM;
    t->d.mem.host = calloc(1, RAM);
    pic_init_state(&t->d.pic);
    pit_init_state(&t->d.pit, fake_clock, NULL);
    ioapic_init_state(&t->d.ioapic, NULL, NULL);
    port92_init(&t->d.port92);
    struct fwcfg_machine m = {.cpus = 1, .ram_bytes = RAM};
    fwcfg_init(&t->d.fwcfg, &m);
    lapic_init_state(&t->v.lapic, 0, true, 40, fake_clock, fake_clock, NULL);
    virtio_console_init(&t->con, "virtio-console0", NULL, NULL);
    struct virtq_mem mem = {0};
    virtio_mmio_init(&t->t, &t->con.dev, &mem, 0xfeb00000, NULL, NULL, NULL, NULL);
    t->parts.cpu = &t->cpu;
    t->parts.virtio[0] = &t->t;
    t->parts.nr_virtio = 1;
    t->cpu.rflags = 2;
    /* XCR0's reset value: x87 only (build.c). */
    t->cpu.xcr0 = 1;
    /* RAM as the memory map has it, and one disk of 32768 sectors (the
     * image pointer is only compared) for a PV block ring. */
    memmap_init(&t->d.map, RAM);
    struct mem_range r = {.base = 0, .size = RAM, .kind = MEM_RAM};
    char err[100];
    ck_assert_int_eq(memmap_add(&t->d.map, &r, err, sizeof(err)), 0);
    t->parts.pv = (struct pv_env){.nr_vcpus = 1,
                                  .mem = &t->d.mem,
                                  .disk = {(struct img *)&fake_disk},
                                  .disk_sectors = {32768},
                                  .nr_disks = 1};
}

/* Put every model into a state a running guest could have given it. */
static void dom_scribble(struct testdom *t)
{
    struct domain *d = &t->d;
    d->pic.master.imr = 0xfa;
    d->pic.master.irr = 0x01;
    d->pic.master.base = 0x20;
    d->pic.slave.base = 0x28;
    d->pic.slave.isr = 0x10;
    d->pit.ch[0].mode = 2;
    d->pit.ch[0].access = 3;
    d->pit.ch[0].reload = 11932;
    d->pit.ch[0].counting = true;
    d->pit.ch[0].start = clock_now - 5000;
    d->pit.ch[0].edges_seen = 7;
    d->ioapic.redir[2] = 0x10030ull;
    d->ioapic.regsel = 0x14;
    d->com1.scr = 0x5a;
    d->com1.lcr = 0x03;
    memcpy(d->com1.line, "partial", 7);
    d->com1.len = 7;
    d->fwcfg.selector = 0x19;
    d->fwcfg.offset = 12;
    d->port92.value = 2;
    /* ACPI mode on, the power button enabled and pressed: the SCI up. */
    d->acpi.cnt = ACPI_PM1_SCI_EN;
    d->acpi.en = ACPI_PM1_PWRBTN_EN;
    d->acpi.sts = ACPI_PM1_PWRBTN_STS;
    d->acpi.sci = true;
    t->v.lapic.svr = 0x1ff;
    t->v.lapic.lvt[LVT_TIMER] = 0x20030;
    t->v.lapic.timer_initial = 100000;
    t->v.lapic.timer_start = clock_now - 1234;
    t->v.lapic.irr[1] = 0x80;
    t->t.status = 15;
    t->t.driver_features = t->con.dev.features;
    t->t.vq[0].size = 64;
    t->t.vq[0].ready = true;
    t->t.vq[0].desc = 0x10000;
    t->t.vq[0].last_avail = 3;
    t->t.vq[0].used_idx = 3;
    for (unsigned i = 0; i < 16; i++)
        ((uint64_t *)&t->cpu.regs)[i] = 0x1111111111111111ull * i;
    t->cpu.rip = 0x100123;
    t->cpu.rflags = 0x202;
    t->cpu.cr0 = 0x80000011;
    t->cpu.cr3 = 0x9000;
    t->cpu.efer = 0x500;
    t->cpu.seg[CPU_CS] = (struct cpu_segment){.selector = 8, .attrib = 0xa9b, .limit = ~0u};
    t->cpu.gdtr = (struct cpu_table){.base = 0x5000, .limit = 0x27};
    t->cpu.tsc = 123456789;
    t->cpu.fxsave[160] = 0x42;
    /* An AP that has received its STARTUP IPI (section version 2). */
    t->cpu.mp_state = VCPU_MP_RUNNING;
    t->cpu.start_pending = 1;
    t->cpu.start_vector = 0x70;
    /* AVX enabled, and YMM15's upper half holding something. */
    t->cpu.xcr0 = 7;
    t->cpu.ymm_hi[255] = 0x5a;
    /* An NMI waiting while the guest's handler of another runs, and a
     * TSC_AUX (section version 4). */
    t->cpu.nmi_pending = 1;
    t->cpu.nmi_blocked = 1;
    t->cpu.tsc_aux = 0x80000001;
    /* RAM: a few pages written, the rest zero; one page with a single
     * byte at its end (still a page to save). */
    memset(d->mem.host + 0x1000, 0xaa, 4096);
    memcpy(d->mem.host + 0x100000, "counter=41", 10);
    d->mem.host[RAM - 1] = 1;
}

/* A state in memory, as a sink and as a source. */
struct blob {
    uint8_t *b;
    uint64_t len, cap;
    uint64_t written; /* bytes the sink was given */
};

static int blob_write(void *ctx, uint64_t pos, const void *buf, size_t len, char *err)
{
    struct blob *bl = ctx;
    (void)err;
    if (pos + len > bl->cap) {
        bl->cap = (pos + len) * 2;
        bl->b = realloc(bl->b, bl->cap);
    }
    memcpy(bl->b + pos, buf, len);
    bl->written += len;
    if (pos + len > bl->len)
        bl->len = pos + len;
    return 0;
}

static int blob_read(void *ctx, uint64_t pos, void *buf, size_t len, char *err)
{
    struct blob *bl = ctx;
    (void)err;
    ck_assert(pos + len <= bl->len);
    memcpy(buf, bl->b + pos, len);
    return 0;
}

static struct vms v;

static struct blob save(struct testdom *t)
{
    struct blob bl = {0};
    struct vms_sink sink = {.write = blob_write, .ctx = &bl};
    int64_t n = vms_save_domain(&v, &t->d, &t->parts, &sink);
    ck_assert_msg(n > 0, "%s", v.err);
    ck_assert_uint_eq((uint64_t)n, bl.len);
    return bl;
}

/* Load bl (its first len bytes) into t; 0 or -1 with v.err.  The room a
 * PV state's commit takes (vms_domain.h) is given anew when it was. */
static int load(struct testdom *t, const struct blob *bl, uint64_t len)
{
    static struct vms_scratch scratch;
    if (!scratch.balloon)
        scratch.balloon = calloc(pv_balloon_words(RAM), 8);
    if (!scratch.pv_spare)
        scratch.pv_spare = calloc(1, sizeof(struct pv_domain));
    struct blob cut = *bl;
    cut.len = len;
    struct vms_source src = {.read = blob_read, .ctx = &cut, .size = len};
    return vms_load_domain(&v, &t->d, &t->parts, &src, &scratch);
}

static struct testdom a, b, c_plain;

static void setup(void)
{
    clock_now = 1000000;
    dom_make(&a);
    dom_scribble(&a);
    dom_make(&b);
    dom_make(&c_plain);
}

/* A domain's PV state, when it has one. */
static void pv_free(struct testdom *t)
{
    if (t->d.pv)
        free(t->d.pv->ballooned);
    free(t->d.pv);
    t->d.pv = NULL;
}

static void teardown(void)
{
    pv_free(&a);
    pv_free(&b);
    free(a.d.mem.host);
    free(b.d.mem.host);
    free(c_plain.d.mem.host);
}

START_TEST(save_load_save_gives_the_same_bytes)
{
    struct blob one = save(&a);
    ck_assert_msg(load(&b, &one, one.len) == 0, "%s", v.err);
    struct blob two = save(&b);
    ck_assert_uint_eq(one.len, two.len);
    ck_assert(memcmp(one.b, two.b, one.len) == 0);
    /* And the models really hold the values. */
    ck_assert_uint_eq(b.d.pic.master.imr, 0xfa);
    ck_assert_uint_eq(b.d.pit.ch[0].reload, 11932);
    ck_assert_uint_eq(b.d.com1.len, 7);
    ck_assert_uint_eq(b.t.vq[0].last_avail, 3);
    ck_assert_uint_eq(b.cpu.rip, 0x100123);
    ck_assert_uint_eq(b.cpu.fxsave[160], 0x42);
    ck_assert(b.cpu.xcr0 == 7 && b.cpu.ymm_hi[255] == 0x5a);
    ck_assert(b.d.acpi.sci && b.d.acpi.en == ACPI_PM1_PWRBTN_EN);
    ck_assert_uint_eq(b.cpu.start_pending, 1);
    ck_assert_uint_eq(b.cpu.start_vector, 0x70);
    ck_assert(b.cpu.nmi_pending == 1 && b.cpu.nmi_blocked == 1 && b.cpu.tsc_aux == 0x80000001);
    ck_assert(memcmp(a.d.mem.host, b.d.mem.host, RAM) == 0);
    /* The models' wiring stayed the target's own. */
    ck_assert_ptr_eq(b.t.dev, &b.con.dev);
    free(one.b);
    free(two.b);
}
END_TEST

/* Zero pages are left out: three pages of RAM were written, so the state
 * holds three pages and less than 4 KiB of CPU and device state. */
START_TEST(zero_pages_are_skipped)
{
    struct blob one = save(&a);
    ck_assert_uint_gt(one.len, 3 * 4104);
    ck_assert_uint_lt(one.len, 3 * 4104 + 4096);
    /* A page the target had dirty and the state has as zero is zeroed. */
    memset(b.d.mem.host + 0x3000, 0x77, 100);
    ck_assert_int_eq(load(&b, &one, one.len), 0);
    ck_assert_uint_eq(b.d.mem.host[0x3000], 0);
    free(one.b);
}
END_TEST

/* Times are kept relative: a timer 5000 clocks into its period is 5000
 * clocks in after a load at any later time. */
START_TEST(timers_continue_from_the_saved_point)
{
    struct blob one = save(&a);
    clock_now += 777777;
    ck_assert_int_eq(load(&b, &one, one.len), 0);
    ck_assert_uint_eq(clock_now - b.d.pit.ch[0].start, 5000);
    ck_assert_uint_eq(clock_now - b.v.lapic.timer_start, 1234);
    free(one.b);
}
END_TEST

/* t saves exactly as it did into `before`: the refused loads changed
 * nothing.  Frees `before`. */
static void assert_saves_as(struct testdom *t, struct blob *before)
{
    struct blob after = save(t);
    ck_assert(before->len == after.len && memcmp(before->b, after.b, before->len) == 0);
    free(before->b);
    free(after.b);
}

/* Every cut of the state is refused and changes nothing in the target. */
START_TEST(truncated_state_is_refused_and_changes_nothing)
{
    struct blob one = save(&a);
    dom_scribble(&b);
    b.d.com1.scr = 0x33;
    b.d.mem.host[0x2000] = 9;
    struct blob before = save(&b);
    uint8_t *ram = memdup(b.d.mem.host, RAM);
    for (uint64_t len = 0; len < one.len; len += len < 2000 ? 1 : 509) {
        ck_assert_msg(load(&b, &one, len) < 0, "a cut at %llu was loaded", (unsigned long long)len);
        ck_assert_msg(strstr(v.err, "truncated") != NULL, "cut at %llu: %s",
                      (unsigned long long)len, v.err);
    }
    assert_saves_as(&b, &before);
    ck_assert(memcmp(ram, b.d.mem.host, RAM) == 0);
    free(one.b);
    free(ram);
}
END_TEST

/* A changed byte anywhere is refused (mostly by a checksum, in the
 * headers by the check of that field) and changes nothing. */
START_TEST(corrupted_state_is_refused_and_changes_nothing)
{
    struct blob one = save(&a);
    struct blob before = save(&b);
    for (uint64_t at = 0; at < one.len; at += at < 1500 ? 1 : 97) {
        one.b[at] ^= 0x10;
        ck_assert_msg(load(&b, &one, one.len) < 0, "a change at byte %llu was loaded",
                      (unsigned long long)at);
        ck_assert(strncmp(v.err, "vmstate: ", 9) == 0);
        one.b[at] ^= 0x10;
    }
    assert_saves_as(&b, &before);
    free(one.b);
}
END_TEST

/* The offset of the first section with id `id` in a state. */
static uint64_t find_section(const struct blob *bl, uint32_t id)
{
    uint64_t at = VMS_HEADER_LEN;
    while (at < bl->len) {
        uint32_t sid;
        uint64_t len;
        memcpy(&sid, bl->b + at, 4);
        memcpy(&len, bl->b + at + 16, 8);
        if (sid == id)
            return at;
        at += VMS_SECTION_HEADER_LEN + len + VMS_SECTION_TRAILER_LEN;
    }
    ck_abort_msg("no section %u", id);
    return 0;
}

/* Rewrite a section's checksum after a deliberate change, as a crafted
 * state would. */
static void reseal(struct blob *bl, uint64_t at)
{
    uint64_t len;
    memcpy(&len, bl->b + at + 16, 8);
    uint32_t crc = vms_crc32(0, bl->b + at, VMS_SECTION_HEADER_LEN + len);
    memcpy(bl->b + at + VMS_SECTION_HEADER_LEN + len, &crc, 4);
}

START_TEST(refusals_name_the_section)
{
    struct blob one = save(&a);
    /* A newer version of the PIT's layout. */
    uint64_t pit = find_section(&one, VMS_SEC_PIT);
    one.b[pit + 8] = 2;
    reseal(&one, pit);
    ck_assert_int_lt(load(&b, &one, one.len), 0);
    ck_assert_str_eq(v.err,
                     "vmstate: section 'pit' (instance 0): version 2, this hv reads version 1");
    one.b[pit + 8] = 1;
    /* A value no 8254 can hold, with a valid checksum: channel 0's mode
     * is the payload's first byte. */
    one.b[pit + VMS_SECTION_HEADER_LEN] = 7;
    reseal(&one, pit);
    ck_assert_int_lt(load(&b, &one, one.len), 0);
    ck_assert_str_eq(v.err,
                     "vmstate: section 'pit' (instance 0): a channel's mode is out of range");
    one.b[pit + VMS_SECTION_HEADER_LEN] = 2;
    reseal(&one, pit);
    ck_assert_int_eq(load(&b, &one, one.len), 0);
    /* A changed payload byte without a new checksum. */
    uint64_t uart = find_section(&one, VMS_SEC_UART);
    one.b[uart + VMS_SECTION_HEADER_LEN + 3] ^= 1;
    ck_assert_int_lt(load(&b, &one, one.len), 0);
    ck_assert_str_eq(v.err, "vmstate: section 'uart' (instance 0): checksum mismatch: the state is "
                            "corrupted");
    one.b[uart + VMS_SECTION_HEADER_LEN + 3] ^= 1;
    /* An SCI the PM1a registers do not raise (PM1a_EN cleared; the
     * payload is STS, EN, CNT, each 16 bits). */
    uint64_t acpi = find_section(&one, VMS_SEC_ACPI_PM);
    one.b[acpi + VMS_SECTION_HEADER_LEN + 3] = 0;
    reseal(&one, acpi);
    ck_assert_int_lt(load(&b, &one, one.len), 0);
    ck_assert_str_eq(v.err,
                     "vmstate: section 'acpi-pm' (instance 0): the SCI's level is out of range");
    /* XCR0 with PKRU (bit 9), a component a state does not hold: XCR0
     * follows the 128 bytes of general registers, RIP, RFLAGS, CR0, CR2,
     * CR3, CR4 and EFER in the cpu section's payload. */
    one.b[acpi + VMS_SECTION_HEADER_LEN + 3] = 1;
    reseal(&one, acpi);
    ck_assert_int_eq(load(&b, &one, one.len), 0);
    uint64_t cpu = find_section(&one, VMS_SEC_CPU) + VMS_SECTION_HEADER_LEN;
    ck_assert_uint_eq(one.b[cpu + 184], 7);
    one.b[cpu + 185] = 2;
    reseal(&one, cpu - VMS_SECTION_HEADER_LEN);
    ck_assert_int_lt(load(&b, &one, one.len), 0);
    ck_assert_str_eq(v.err, "vmstate: section 'cpu' (instance 0): XCR0 is out of range");
    one.b[cpu + 185] = 0;
    reseal(&one, cpu - VMS_SECTION_HEADER_LEN);
    ck_assert_int_eq(load(&b, &one, one.len), 0);
    /* The cpu section's payload ends with the NMI latch, the NMI blocking
     * and TSC_AUX (version 4): TSC_AUX with a reserved bit, a latch of 2,
     * and a state of version 3, before them, each refused by name. */
    uint64_t cpu_len;
    memcpy(&cpu_len, one.b + cpu - VMS_SECTION_HEADER_LEN + 16, 8);
    uint8_t *end = one.b + cpu + cpu_len;
    ck_assert_uint_eq(end[-8], 0x01);
    end[-1] = 0x01;
    reseal(&one, cpu - VMS_SECTION_HEADER_LEN);
    ck_assert_int_lt(load(&b, &one, one.len), 0);
    ck_assert_str_eq(v.err, "vmstate: section 'cpu' (instance 0): TSC_AUX is out of range");
    end[-1] = 0;
    end[-10] = 2;
    reseal(&one, cpu - VMS_SECTION_HEADER_LEN);
    ck_assert_int_lt(load(&b, &one, one.len), 0);
    ck_assert_str_eq(v.err, "vmstate: section 'cpu' (instance 0): the NMI state is out of range");
    end[-10] = 1;
    one.b[cpu - VMS_SECTION_HEADER_LEN + 8] = 3;
    reseal(&one, cpu - VMS_SECTION_HEADER_LEN);
    ck_assert_int_lt(load(&b, &one, one.len), 0);
    ck_assert_str_eq(v.err,
                     "vmstate: section 'cpu' (instance 0): version 3, this hv reads version 4");
    one.b[cpu - VMS_SECTION_HEADER_LEN + 8] = 4;
    reseal(&one, cpu - VMS_SECTION_HEADER_LEN);
    ck_assert_int_eq(load(&b, &one, one.len), 0);
    /* A state of the format before the ACPI section. */
    one.b[8] = 1;
    ck_assert_int_lt(load(&b, &one, one.len), 0);
    ck_assert_str_eq(v.err, "vmstate: format version 1, this hv reads version 2");
    one.b[0] = 'X';
    ck_assert_int_lt(load(&b, &one, one.len), 0);
    ck_assert_str_eq(v.err, "vmstate: not an hvkit state (no HVKITVMS magic)");
    free(one.b);
}
END_TEST

/* A state of a domain of another shape is refused by its DOMAIN section. */
START_TEST(another_domain_shape_is_refused)
{
    struct blob one = save(&a);
    b.d.mem.size = RAM / 2;
    ck_assert_int_lt(load(&b, &one, one.len), 0);
    ck_assert_str_eq(v.err, "vmstate: section 'domain' (instance 0): the state is of a domain "
                            "with 1 vCPUs, 2048 KiB of RAM and 1 virtio devices; this one has 1, "
                            "1024 KiB and 1");
    b.d.mem.size = RAM;
    free(one.b);
}
END_TEST

/* The page an incremental save must write again; every other one is clean. */
static uint64_t changed_page;
static bool all_but_changed(void *ctx, uint64_t gpa)
{
    (void)ctx;
    return gpa != changed_page;
}

/* An incremental save over the previous state writes the one changed page
 * and the small sections, and gives the same bytes as a full save. */
START_TEST(incremental_save_writes_only_changed_pages)
{
    struct blob one = save(&a);
    a.d.mem.host[0x1000 + 7] = 0x55;
    struct blob full = save(&a);
    changed_page = 0x1000;
    a.parts.page_clean = all_but_changed;
    struct blob inc = one;
    inc.b = memdup(one.b, one.len);
    inc.written = 0;
    struct vms_sink sink = {.write = blob_write, .ctx = &inc};
    ck_assert_int_eq(vms_save_domain(&v, &a.d, &a.parts, &sink), (int64_t)full.len);
    a.parts.page_clean = NULL;
    ck_assert(inc.len == full.len && memcmp(inc.b, full.b, full.len) == 0);
    ck_assert_uint_eq(inc.written, full.len - 2 * 4104);
    free(one.b);
    free(full.b);
    free(inc.b);
}
END_TEST

/* ---- The paravirtual interface's sections (hv/core/pv_state.c) ---- */

#define PV_CLOCK_AT_SAVE 5000000000ull

/* Give t's guest a PV state of every kind: the hypercall page and a PV
 * clock registered, the shared page, a loopback port, the console and the
 * block ring on ports of their own, a grant table, a console line begun,
 * and 3 pages given back to the balloon; counters that a load must keep. */
static void pv_scribble(struct testdom *t)
{
    struct pv_domain *pv = calloc(1, sizeof(*pv));
    t->d.pv = pv;
    pv->hcpage_msr = 0x7000 | HVKIT_MSR_ENABLE;
    pv->pvclock_msr[0] = 0x8020 | HVKIT_MSR_ENABLE;
    pv->shared_gpa = 0x9000;
    pv->shared_set = true;
    pv->ports[1] = (struct pv_port){.bound = true, .vector = 0x70};
    pv->ports[3] = (struct pv_port){.bound = true, .vector = 0x71, .owner = PV_OWNER_CONSOLE};
    pv->ports[4] = (struct pv_port){.bound = true, .vector = 0x72, .owner = PV_OWNER_BLK};
    pv->grants = (struct pv_grants){.gpa = 0xa000, .nr = 512};
    pv->con = (struct pv_console){.active = true, .gref = 2, .port = 3, .len = 5};
    memcpy(pv->con.line, "count", 5);
    pv->blk = (struct pv_blk){.active = true,
                              .gref = 3,
                              .port = 4,
                              .img = (struct img *)&fake_disk,
                              .sectors = 32768,
                              .req_cons = 77,
                              .rsp_prod = 77};
    pv->ballooned = calloc(pv_balloon_words(RAM), 8);
    pv->ballooned[2] = 0x1ull | 0x4ull | 0x8000000000000000ull;
    pv->balloon_pages = 3;
    pv->balloon_port = 1;
    pv->balloon_driver = true;
    pv->events = 1000;
    t->d.balloon_target_kib = 1024;
    pv->vcpu_driver = true;
    pv->vcpu_port = 9;
    t->parts.pv.clock_ns = PV_CLOCK_AT_SAVE;
}

/* Saved, loaded into a domain that never used the interface, saved again:
 * the same bytes, and the loaded domain holds every value; its counters
 * are its own and its clock goes on from the saved reading. */
START_TEST(pv_state_round_trips)
{
    pv_scribble(&a);
    struct blob one = save(&a);
    b.parts.pv.clock_ns = 42; /* hv's clock at the load */
    ck_assert_msg(load(&b, &one, one.len) == 0, "%s", v.err);
    struct pv_domain *pv = b.d.pv;
    ck_assert_ptr_nonnull(pv);
    ck_assert_uint_eq(pv->hcpage_msr, 0x7001);
    ck_assert_uint_eq(pv->pvclock_msr[0], 0x8021);
    ck_assert_uint_eq(pv->clock_offset + 42, PV_CLOCK_AT_SAVE);
    ck_assert(pv->shared_set && pv->shared_gpa == 0x9000);
    ck_assert(pv->ports[4].bound && pv->ports[4].owner == PV_OWNER_BLK);
    ck_assert(pv->con.active && pv->con.len == 5 && !memcmp(pv->con.line, "count", 5));
    ck_assert_ptr_eq(pv->blk.img, &fake_disk);
    ck_assert_uint_eq(pv->blk.req_cons, 77);
    ck_assert(pv->ballooned && pv->ballooned[2] == a.d.pv->ballooned[2]);
    ck_assert_uint_eq(b.d.balloon_kib, 12);
    ck_assert_uint_eq(b.d.balloon_target_kib, 1024);
    ck_assert_uint_eq(pv->events, 0);
    ck_assert(pv->vcpu_driver && pv->vcpu_port == 9 && b.d.vcpu_avail == 1);
    /* Saved again at the same guest time: the same bytes. */
    b.parts.pv.clock_ns = PV_CLOCK_AT_SAVE;
    struct blob two = save(&b);
    ck_assert(one.len == two.len && memcmp(one.b, two.b, one.len) == 0);
    /* A state of a guest that never used it, loaded over this one: nothing
     * bound or given back any more, the counters kept. */
    pv->events = 5;
    struct blob plain = save(&c_plain);
    ck_assert_msg(load(&b, &plain, plain.len) == 0, "%s", v.err);
    ck_assert(b.d.pv == pv && !pv->hcpage_msr && !pv->ports[4].bound && !pv->balloon_pages);
    ck_assert(pv->ballooned && !pv->ballooned[2] && b.d.balloon_kib == 0 && pv->events == 5);
    free(one.b);
    free(two.b);
    free(plain.b);
}
END_TEST

/* A PV state is checked whole like any other: every cut and every changed
 * byte refused, the target unchanged. */
START_TEST(pv_state_cut_or_changed_is_refused)
{
    pv_scribble(&a);
    struct blob one = save(&a);
    struct blob before = save(&b);
    uint64_t from = find_section(&one, VMS_SEC_PV);
    uint64_t to = find_section(&one, VMS_SEC_RAM);
    for (uint64_t len = from; len < to + 30; len++) {
        ck_assert_msg(load(&b, &one, len) < 0, "a cut at %llu was loaded", (unsigned long long)len);
        ck_assert_ptr_null(b.d.pv);
    }
    for (uint64_t at = from; at < to; at++) {
        one.b[at] ^= 0x04;
        ck_assert_msg(load(&b, &one, one.len) < 0, "a change at byte %llu was loaded",
                      (unsigned long long)at);
        ck_assert_ptr_null(b.d.pv);
        one.b[at] ^= 0x04;
    }
    assert_saves_as(&b, &before);
    free(one.b);
}
END_TEST

/* Values a guest could not have made, crafted with a valid checksum, and
 * a domain the PV guest's state does not fit: refused by name. */
START_TEST(pv_state_refusals)
{
    pv_scribble(&a);
    struct blob one = save(&a);
    /* No disk for the block ring: a "non-PV set-up" for this guest. */
    b.parts.pv.nr_disks = 0;
    ck_assert_int_lt(load(&b, &one, one.len), 0);
    ck_assert_str_eq(v.err, "vmstate: section 'pv' (instance 0): the guest's PV block ring is on "
                            "disk 0, which this domain does not have");
    ck_assert_ptr_null(b.d.pv);
    b.parts.pv.nr_disks = 1;
    b.parts.pv.disk_sectors[0] = 2048;
    ck_assert_int_lt(load(&b, &one, one.len), 0);
    ck_assert_msg(strstr(v.err, "on a writable disk 0 of 32768 sectors; this domain's disk 0 is "
                                "writable with 2048"),
                  "%s", v.err);
    b.parts.pv.disk_sectors[0] = 32768;
    /* npt=lazy cannot keep pages unmapped. */
    b.parts.pv.lazy = true;
    ck_assert_int_lt(load(&b, &one, one.len), 0);
    ck_assert_msg(strstr(v.err, "npt=lazy"), "%s", v.err);
    b.parts.pv.lazy = false;
    /* Port 1's vector below 32 (port 1 starts 4 + 8 + 8 + 8 + 1 + 8 + 3
     * bytes into the payload: vCPUs, two MSRs, the clock, the shared page,
     * port 0; its vector is its second byte). */
    uint64_t pv = find_section(&one, VMS_SEC_PV), vec = pv + VMS_SECTION_HEADER_LEN + 40 + 1;
    ck_assert_uint_eq(one.b[vec], 0x70);
    one.b[vec] = 0x10;
    reseal(&one, pv);
    ck_assert_int_lt(load(&b, &one, one.len), 0);
    ck_assert_str_eq(v.err, "vmstate: section 'pv' (instance 0): an event channel port is out of "
                            "range");
    one.b[vec] = 0x70;
    reseal(&one, pv);
    /* One more page in the bitmap than the count says. */
    uint64_t bal = find_section(&one, VMS_SEC_PV_BALLOON);
    one.b[bal + VMS_SECTION_HEADER_LEN] |= 2;
    reseal(&one, bal);
    ck_assert_int_lt(load(&b, &one, one.len), 0);
    ck_assert_str_eq(v.err, "vmstate: section 'pv' (instance 0): 3 pages given back, and the "
                            "'pv-balloon' section names 4");
    ck_assert_ptr_null(b.d.pv);
    free(one.b);
}
END_TEST

/* ---- The CD-ROM drive (hv/dev/cd_state.c) ---- */

/* Media in memory: 10 sectors, and 4 (another disc). */
static uint8_t disc10[10 * IDE_CD_SECTOR], disc4[4 * IDE_CD_SECTOR];
static int disc_read(void *ctx, uint64_t off, void *buf, uint32_t len)
{
    memcpy(buf, (uint8_t *)ctx + off, len);
    return 0;
}
static struct ide_cd cd_a, cd_b;

/* Give t a drive holding `disc` (NULL: none). */
static void give_cd(struct testdom *t, struct ide_cd *cd, uint8_t *disc, size_t len)
{
    struct ide_cd_medium m = {disc, disc_read, len, "disc"};
    ide_cd_init(cd, disc ? &m : NULL, NULL, NULL);
    t->d.cd = cd;
}

/* A READ (10) of 5 sectors from sector 2, the guest 300 bytes into the
 * second: the drive mid-transfer, locked, with sense data left over. */
static void cd_scribble(struct ide_cd *cd)
{
    cd->phase = IDE_CD_DATA_IN;
    cd->status = IDE_ST_DRDY | IDE_ST_DRQ;
    cd->nsector = IDE_IR_IO;
    cd->byte_limit = 0xfffe;
    cd->cdb[0] = SCSI_READ_10;
    cd->cdb[5] = 2;
    cd->cdb[8] = 5;
    memset(cd->buf, 0x3c, sizeof(cd->buf));
    cd->len = IDE_CD_SECTOR;
    cd->pos = 300;
    cd->block_end = IDE_CD_SECTOR;
    cd->lba = 4;
    cd->sectors = 3;
    cd->locked = true;
    cd->sense_key = SENSE_UNIT_ATTENTION;
    cd->asc = ASC_MEDIUM_CHANGED;
    cd->intrq = true;
}

/* Saved mid-READ, loaded into a drive holding the same disc: the transfer
 * goes on from the same byte; saved again, the same bytes. */
START_TEST(cd_state_round_trips_mid_read)
{
    give_cd(&a, &cd_a, disc10, sizeof(disc10));
    cd_scribble(&cd_a);
    give_cd(&b, &cd_b, disc10, sizeof(disc10));
    struct blob one = save(&a);
    ck_assert_msg(load(&b, &one, one.len) == 0, "%s", v.err);
    ck_assert(cd_b.phase == IDE_CD_DATA_IN && cd_b.pos == 300 && cd_b.lba == 4 &&
              cd_b.sectors == 3 && cd_b.locked && cd_b.buf[2047] == 0x3c);
    ck_assert_ptr_eq(cd_b.medium.ctx, disc10);
    struct blob two = save(&b);
    ck_assert(one.len == two.len && memcmp(one.b, two.b, one.len) == 0);
    free(one.b);
    free(two.b);
}
END_TEST

/* Another medium (or none), a machine without a drive, a drive the state
 * did not have, values no drive holds: refused, the drive unchanged. */
START_TEST(cd_state_refusals)
{
    give_cd(&a, &cd_a, disc10, sizeof(disc10));
    cd_scribble(&cd_a);
    give_cd(&b, &cd_b, disc4, sizeof(disc4));
    struct ide_cd before = cd_b;
    struct blob one = save(&a);
    ck_assert_int_lt(load(&b, &one, one.len), 0);
    ck_assert_str_eq(v.err,
                     "vmstate: section 'cdrom' (instance 0): the state's CD-ROM drive held a "
                     "medium of 10 sectors, this one holds a medium of 4 sectors: put the "
                     "same medium in first");
    ck_assert(memcmp(&before, &cd_b, sizeof(before)) == 0);
    give_cd(&b, &cd_b, NULL, 0);
    ck_assert_int_lt(load(&b, &one, one.len), 0);
    ck_assert_msg(strstr(v.err, "this one holds no medium"), "%s", v.err);
    b.d.cd = NULL;
    ck_assert_int_lt(load(&b, &one, one.len), 0);
    ck_assert_str_eq(v.err, "vmstate: section 'cdrom' (instance 0): the state is of a machine with "
                            "a CD-ROM drive; this domain has none");
    struct blob plain = save(&c_plain);
    give_cd(&b, &cd_b, disc10, sizeof(disc10));
    ck_assert_int_lt(load(&b, &plain, plain.len), 0);
    ck_assert_str_eq(v.err, "vmstate: the state is of a machine without a CD-ROM drive; this "
                            "domain has one");
    /* A READ running past the disc's end, with a valid checksum. */
    uint64_t at = find_section(&one, VMS_SEC_CDROM), len;
    memcpy(&len, one.b + at + 16, 8);
    /* The payload ends with lba, sectors (u32 each), then nine bytes of
     * the drive's state. */
    uint8_t *sectors = one.b + at + VMS_SECTION_HEADER_LEN + len - 9 - 4;
    ck_assert_uint_eq(sectors[0], 3);
    sectors[0] = 7;
    reseal(&one, at);
    ck_assert_int_lt(load(&b, &one, one.len), 0);
    ck_assert_str_eq(v.err,
                     "vmstate: section 'cdrom' (instance 0): the sectors a READ has to go is "
                     "out of range");
    free(one.b);
    free(plain.b);
}
END_TEST

/* The checksum is the common CRC-32: zlib's crc32() agrees. */
/* A save file's CONFIG section (vms_domain.h). */
static const uint8_t image[] = "\x02\xb0\xad\x1b a kernel's bytes";
static struct vms_config config = {.name = "web",
                                   .cmdline = "counter.elf 100",
                                   .on_reboot = DOMAIN_ACTION_RESTART,
                                   .on_crash = DOMAIN_ACTION_PRESERVE,
                                   .paused = true,
                                   .image = image,
                                   .image_len = sizeof(image)};

static void *test_alloc(uint64_t len)
{
    return malloc(len);
}

/* Read bl's first len bytes as a save file's start: 0 or -1 with v.err. */
static int read_config(const struct blob *bl, uint64_t len, struct vms_shape *shape,
                       struct vms_config *c)
{
    struct blob cut = *bl;
    cut.len = len;
    struct vms_source src = {.read = blob_read, .ctx = &cut, .size = len};
    int r = vms_read_config(&v, &src, shape, c, test_alloc);
    if (r < 0) {
        free((void *)c->image);
        c->image = NULL;
    }
    return r;
}

/* Saved with a CONFIG, read back by the restore's first step; a load into
 * an existing domain reads it through and gives the same state. */
START_TEST(config_is_read_back_and_skipped_by_a_load)
{
    static struct vms_config back;
    struct vms_shape shape;
    a.parts.config = &config;
    struct blob one = save(&a);
    a.parts.config = NULL;
    ck_assert_msg(read_config(&one, one.len, &shape, &back) == 0, "%s", v.err);
    ck_assert(shape.vcpus == 1 && shape.ram == RAM && shape.virtio == 1);
    ck_assert_str_eq(back.name, "web");
    ck_assert_str_eq(back.cmdline, "counter.elf 100");
    ck_assert(back.on_poweroff == DOMAIN_ACTION_DESTROY &&
              back.on_reboot == DOMAIN_ACTION_RESTART && back.on_crash == DOMAIN_ACTION_PRESERVE &&
              back.paused);
    ck_assert_uint_eq(back.image_len, sizeof(image));
    ck_assert(memcmp(back.image, image, sizeof(image)) == 0);
    free((void *)back.image);
    ck_assert_msg(load(&b, &one, one.len) == 0, "%s", v.err);
    struct blob two = save(&b);
    struct blob plain = save(&a);
    ck_assert_uint_eq(two.len, plain.len);
    ck_assert(memcmp(two.b, plain.b, two.len) == 0);
    /* Every cut inside the first two sections is refused by the reader. */
    uint64_t end = find_section(&one, VMS_SEC_CPU);
    for (uint64_t len = 0; len < end; len++)
        ck_assert_msg(read_config(&one, len, &shape, &back) < 0, "a cut at %llu was read",
                      (unsigned long long)len);
    free(one.b);
    free(two.b);
    free(plain.b);
}
END_TEST

/* A state without a CONFIG (a savevm's) cannot make a new domain. */
START_TEST(a_state_without_config_is_refused_by_the_reader)
{
    static struct vms_config back;
    struct vms_shape shape;
    struct blob one = save(&a);
    ck_assert(read_config(&one, one.len, &shape, &back) < 0);
    ck_assert_msg(strstr(v.err, "no 'config' section after the 'domain' section"), "%s", v.err);
    free(one.b);
}
END_TEST

/* A CONFIG whose values no writer gives is refused by name. */
START_TEST(a_bad_config_is_refused)
{
    static struct vms_config back, bad;
    struct vms_shape shape;
    bad = config;
    bad.on_crash = 3;
    a.parts.config = &bad;
    struct blob one = save(&a);
    a.parts.config = NULL;
    ck_assert(read_config(&one, one.len, &shape, &back) < 0);
    ck_assert_msg(strstr(v.err, "section 'config' (instance 0): an on_poweroff, on_reboot or "
                                "on_crash action is out of range"),
                  "%s", v.err);
    /* And a load into a domain refuses it as well, changing nothing. */
    ck_assert(load(&b, &one, one.len) < 0);
    ck_assert_msg(strstr(v.err, "section 'config'"), "%s", v.err);
    free(one.b);
}
END_TEST

START_TEST(checksum_is_zlib_crc32)
{
    uint8_t buf[1000];
    for (unsigned i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 7 + 3);
    ck_assert_uint_eq(vms_crc32(0, buf, sizeof(buf)), crc32(0, buf, sizeof(buf)));
    ck_assert_uint_eq(vms_crc32(vms_crc32(0, buf, 10), buf + 10, 990), crc32(0, buf, sizeof(buf)));
    ck_assert_uint_eq(vms_crc32(0, "123456789", 9), 0xcbf43926);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hv_vmstate");
    TCase *t = tcase_create("vmstate");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, save_load_save_gives_the_same_bytes);
    tcase_add_test(t, zero_pages_are_skipped);
    tcase_add_test(t, timers_continue_from_the_saved_point);
    tcase_add_test(t, truncated_state_is_refused_and_changes_nothing);
    tcase_add_test(t, corrupted_state_is_refused_and_changes_nothing);
    tcase_add_test(t, refusals_name_the_section);
    tcase_add_test(t, another_domain_shape_is_refused);
    tcase_add_test(t, checksum_is_zlib_crc32);
    tcase_add_test(t, incremental_save_writes_only_changed_pages);
    tcase_add_test(t, config_is_read_back_and_skipped_by_a_load);
    tcase_add_test(t, a_state_without_config_is_refused_by_the_reader);
    tcase_add_test(t, a_bad_config_is_refused);
    tcase_add_test(t, pv_state_round_trips);
    tcase_add_test(t, pv_state_cut_or_changed_is_refused);
    tcase_add_test(t, pv_state_refusals);
    tcase_add_test(t, cd_state_round_trips_mid_read);
    tcase_add_test(t, cd_state_refusals);
    suite_add_tcase(s, t);
    return check_main(s);
}
