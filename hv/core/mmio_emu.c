/*
 * mmio_emu.c - the MMIO emulator on a vCPU (see mmio_emu.h).
 *
 * The emulator asks for instruction bytes and for data by linear address.
 * Here each linear address is translated through the guest's page tables
 * (gva.c), and the guest-physical address found goes where the guest's own
 * access would have gone: to the device owning it on the domain's MMIO bus,
 * or to guest RAM (a MOVS from RAM to a device reads RAM here), or nowhere,
 * in which case the access fails and the guest is told why.
 *
 * The split keeps the emulator itself (emu_*.c) free of any vCPU, bus or
 * memory map: it sees only a register file and three callbacks, so the
 * hosted unit tests run it against a fake memory, and this file is the
 * only place that knows how a linear address becomes a device access.
 * Nothing here depends on the vendor: the exit that brought us here (an
 * NPF or EPT violation on a device page, APM vol 2 15.25.6 "Nested
 * versus Guest Page Faults, Fault Ordering", SDM vol 3C 29.3.3 "EPT-
 * Induced VM Exits") was already turned into the core's exit record.
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
    /* vcpu_need reads only what the backend has not already copied out
     * of the VMCB or VMCS for this exit, so asking is cheap when the state
     * is at hand. */
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
    /* The bases only: limits and access rights are not checked, which is
     * exact in 64-bit mode (only FS and GS have a base there, SDM vol 3A
     * 3.2.4 "Segmentation in IA-32e Mode") and a simplification in the
     * flat 32-bit setups hv's guests use. */
    for (unsigned s = 0; s < EMU_NSEGS; s++)
        c->seg_base[s] = v->seg_base[s];
}

/* Back into the vCPU: the registers, RIP and RFLAGS the emulator left. */
static void write_back(struct vcpu *v, const struct emu_cpu *c)
{
    /* Every register goes back, not just the one the instruction named:
     * string instructions move RSI, RDI and RCX, and a copy of an
     * unchanged register costs nothing.  vcpu_changed then tells the
     * backend that RSP, RIP and RFLAGS, which it keeps in the VMCB or
     * VMCS, must be written back before the next entry. */
    for (unsigned i = 0; i < EMU_NREGS; i++)
        *gpr_by_number(&v->regs, i) = c->gpr[i];
    v->rip = c->rip;
    v->rflags = c->rflags;
    vcpu_changed(v, VCPU_RSP | VCPU_RIP | VCPU_RFLAGS);
}

static int fetch(void *ctx, uint64_t la, uint8_t *buf, unsigned len)
{
    struct env *e = ctx;
    /* VMX never reports the instruction's bytes, and SVM only with decode
     * assists, which hv does not rely on: reading them here works on
     * every machine hv runs on. */
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
    /* The pieces go out lowest address first, little-endian, as the CPU
     * itself would split an unaligned access; the first refusal stops the
     * rest, so a partial write is at most the bytes before it. */
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
    /* The guest's own page tables, walked in software as the CPU would
     * (gva.c): the exit gave only the guest-physical address of the one
     * access that faulted, and a MOVS or an unaligned access has others. */
    if (gva_translate(&e->paging, la, &w) != GVA_OK) {
        char walk[80];
        gva_explain(&w, walk, sizeof(walk));
        ksnprintf(e->why, sizeof(e->why), "linear %#llx: %s", (unsigned long long)la, walk);
        return -1;
    }
    /* A device first: the MMIO bus decides by guest-physical address,
     * exactly the address the device would see on a real bus.  A device's
     * refusal fails the instruction. */
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
    /* RAM: a plain copy through hv's mapping of the RAM block.  val is
     * little-endian like the guest's memory, so the low `size` bytes are
     * the operand on both sides; a read clears the rest first. */
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

/* The core's MMIO path (violation.c) calls this once per exit: one guest
 * instruction, or one REP string instruction with all its iterations. */
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
    /* An unsupported instruction or an exception leaves the guest's state
     * untouched: the instruction has not happened.  For a failed access,
     * the reason names the guest-physical address, which a reader can
     * look up in the guest's memory map. */
    if (res->status == EMU_FAULT && e.why[0])
        ksnprintf(res->reason, sizeof(res->reason), "cannot %s %s: %s",
                  res->fault_write ? "write" : "read", res->fault_fetch ? "code" : "data", e.why);
    return res->status;
}
