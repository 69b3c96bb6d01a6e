/*
 * mmio_emu.c - the MMIO emulator on a vCPU (see mmio_emu.h).
 *
 * The emulator asks for instruction bytes and for data by linear address.
 * Here each linear address is translated through the guest's page tables
 * (gva.c), and the guest-physical address found goes where the guest's own
 * access would have gone: to the device owning it on the domain's MMIO bus,
 * or to guest RAM (a MOVS from RAM to a device reads RAM here), or nowhere,
 * in which case the access fails and the guest is told why.
 */
#include "klib.h"

#include "cpu.h"
#include "domain.h"
#include "hv.h"
#include "mmio_emu.h"
#include "gva.h"

/* What the callbacks need: the vCPU, its paging state, and the first
 * failed access described in guest-physical terms (better than the
 * emulator's linear address alone). */
struct env {
    struct vcpu *v;
    struct gva_ctx paging;
    char why[96];
};

void emu_cpu_of(struct vcpu *v, struct emu_cpu *c)
{
    /* The whole register file, the flags, the mode and the segment bases. */
    vcpu_need(v, VCPU_RSP | VCPU_RFLAGS | VCPU_EFER | VCPU_SEGS);
    *c = (struct emu_cpu){0};
    /* 64-bit code is CS.L in long mode (EFER.LMA); otherwise CS.D picks
     * 32- or 16-bit (SDM vol 3A 3.4.5 "Segment Descriptors"; real mode
     * has D = 0). */
    if (v->cs_long && (v->efer & EFER_LMA))
        c->mode = 64;
    else
        c->mode = v->cs_db ? 32 : 16;
    /* A copy: gpr_by_number() hands out writable slots. */
    struct gprs r = v->regs;
    for (unsigned i = 0; i < EMU_NREGS; i++)
        c->gpr[i] = *gpr_by_number(&r, i);
    c->rip = v->rip;
    c->rflags = v->rflags;
    for (unsigned s = 0; s < EMU_NSEGS; s++)
        c->seg_base[s] = v->seg_base[s];
}

/* Back into the vCPU: the registers, RIP and RFLAGS the emulator left. */
static void write_back(struct vcpu *v, const struct emu_cpu *c)
{
    for (unsigned i = 0; i < EMU_NREGS; i++)
        *gpr_by_number(&v->regs, i) = c->gpr[i];
    v->rip = c->rip;
    v->rflags = c->rflags;
    vcpu_changed(v, VCPU_RSP | VCPU_RIP | VCPU_RFLAGS);
}

static int fetch(void *ctx, uint64_t la, uint8_t *buf, unsigned len)
{
    struct env *e = ctx;
    /* The bytes the guest was executing: through its page tables, from
     * RAM (hv does not execute from devices). */
    return guest_read_virt(&e->paging, la, buf, len, NULL);
}

/* A device access of a size the bus does not take (3, 5, 6 or 7 bytes: a
 * piece of an access that crossed a page) goes byte by byte. */
static bool bus_access(struct mmio_bus *bus, uint64_t gpa, unsigned size, bool write, uint64_t *val)
{
    if (size == 1 || size == 2 || size == 4 || size == 8)
        return write ? mmio_write(bus, gpa, (uint8_t)size, *val)
                     : mmio_read(bus, gpa, (uint8_t)size, val);
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        uint64_t b = (*val >> (8 * i)) & 0xff;
        if (!(write ? mmio_write(bus, gpa + i, 1, b) : mmio_read(bus, gpa + i, 1, &b)))
            return false;
        v |= (b & 0xff) << (8 * i);
    }
    if (!write)
        *val = v;
    return true;
}

/* One data access: translate, then device, RAM or refusal. */
static int data_access(struct env *e, uint64_t la, unsigned size, bool write, uint64_t *val)
{
    struct domain *d = e->v->dom;
    struct gva_walk w;
    if (gva_translate(&e->paging, la, &w) != GVA_OK) {
        char walk[80];
        gva_explain(&w, walk, sizeof(walk));
        ksnprintf(e->why, sizeof(e->why), "linear %#llx: %s", (unsigned long long)la, walk);
        return -1;
    }
    if (mmio_find(&d->mmio, w.gpa))
        return bus_access(&d->mmio, w.gpa, size, write, val) ? 0 : -1;
    const struct mem_range *r = memmap_find(&d->map, w.gpa);
    bool ram = r && r->kind == MEM_RAM;
    /* A store asks gmem_write_ptr: a page the guest made read-only stays
     * so (its own store would fault there), and the dirty log sees it. */
    uint8_t *p = !ram    ? NULL
                 : write ? gmem_write_ptr(&d->mem, w.gpa, size)
                         : gmem_ptr(&d->mem, w.gpa, size);
    if (!p) {
        ksnprintf(e->why, sizeof(e->why), "guest-physical %#llx (%s)", (unsigned long long)w.gpa,
                  !r                                           ? "nothing there"
                  : ram && gmem_range_ok(&d->mem, w.gpa, size) ? "write-protected"
                                                               : r->name);
        return -1;
    }
    if (write)
        memcpy(p, val, size);
    else {
        *val = 0;
        memcpy(val, p, size);
    }
    return 0;
}

static int data_read(void *ctx, uint64_t la, unsigned size, uint64_t *val)
{
    return data_access(ctx, la, size, false, val);
}

static int data_write(void *ctx, uint64_t la, unsigned size, uint64_t val)
{
    return data_access(ctx, la, size, true, &val);
}

static const struct emu_ops vcpu_ops = {fetch, data_read, data_write};

enum emu_status mmio_emu_run(struct vcpu *v, struct emu_result *res)
{
    struct env e = {.v = v, .paging = gva_ctx_of(v)};
    struct emu_cpu c;
    emu_cpu_of(v, &c);
    emu_run(&c, &vcpu_ops, &e, res);
    /* A REP instruction that faulted part way has moved its registers:
     * those are the guest's too, as after a fault on the CPU. */
    if (res->status == EMU_OK || res->status == EMU_FAULT)
        write_back(v, &c);
    if (res->status == EMU_FAULT && e.why[0])
        ksnprintf(res->reason, sizeof(res->reason), "cannot %s %s: %s",
                  res->fault_write ? "write" : "read", res->fault_fetch ? "code" : "data", e.why);
    return res->status;
}
