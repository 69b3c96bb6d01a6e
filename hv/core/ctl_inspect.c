/*
 * ctl_inspect.c - the control protocol's inspection commands: a vCPU's
 * registers (x-query-registers) and guest memory by physical or virtual
 * address (x-read-memory), what the QEMU monitor's `info registers`, `x`
 * and `xp` are made of.
 *
 * Registers come from struct vcpu after vcpu_need() has asked the backend
 * for every group (hv.h), and what only the VMCB or VMCS holds (segments'
 * selectors, limits and attributes, GDTR, debug and system-call registers)
 * from the backend's get_state (backend.h): the core's view, never a VMCB
 * or VMCS itself, so the command is the same on both vendors.  Memory is read as the guest would
 * see it: guest-physical addresses must be RAM, guest-virtual ones go
 * through the vCPU's own page tables (gva.c) page by page; any byte that
 * cannot be read refuses the whole request, with the address and why.
 */
#include "klib.h"

#include "cpustate.h"
#include "ctl.h"
#include "hv.h"

/* One register as a member: "name": value. */
static void reg(struct json_out *o, const char *name, uint64_t v)
{
    json_key(o, name);
    json_put_u64(o, v);
}

/* A descriptor table register: {"base", "limit"}. */
static void table(struct json_out *o, const char *name, uint64_t base, uint16_t limit)
{
    json_key(o, name);
    json_obj_begin(o);
    reg(o, "base", base);
    reg(o, "limit", limit);
    json_obj_end(o);
}

/* The segments: all eight whole from the backend's state `c`, or (c NULL,
 * a backend without get_state) the six bases the core keeps itself. */
static void segments(struct json_out *o, const struct vcpu *v, const struct cpu_state *c)
{
    static const char *const names[CPU_NSEGS] = {"es", "cs", "ss", "ds", "fs", "gs", "ldt", "tr"};
    for (unsigned i = 0; i < (c ? CPU_NSEGS : 6u); i++) {
        json_key(o, names[i]);
        json_obj_begin(o);
        if (c) {
            reg(o, "selector", c->seg[i].selector);
            reg(o, "base", c->seg[i].base);
            reg(o, "limit", c->seg[i].limit);
            reg(o, "attrib", c->seg[i].attrib);
        } else {
            reg(o, "base", v->seg_base[i]);
        }
        json_obj_end(o);
    }
}

/* What only the backend holds: descriptor tables, debug registers, the
 * system-call MSRs. */
static void backend_regs(struct json_out *o, const struct cpu_state *c)
{
    table(o, "gdt", c->gdtr.base, c->gdtr.limit);
    reg(o, "dr6", c->dr6);
    reg(o, "dr7", c->dr7);
    reg(o, "sysenter_cs", c->sysenter_cs);
    reg(o, "sysenter_esp", c->sysenter_esp);
    reg(o, "sysenter_eip", c->sysenter_eip);
    reg(o, "star", c->star);
    reg(o, "lstar", c->lstar);
    reg(o, "cstar", c->cstar);
    reg(o, "sfmask", c->sfmask);
    reg(o, "kernel_gs_base", c->kernel_gs_base);
}

int ctl_query_registers(struct ctl_req *r)
{
    struct vcpu *v;
    struct json_out *o = r->out;
    if (ctl_arg_vcpu(r, &v) < 0)
        return -1;
    /* The backend reads state only from the vCPU the CPU has loaded
     * (VT-x's current VMCS): make it that one, then ask for everything. */
    host_load_vcpu(r->host, v);
    vcpu_need(v, VCPU_STATE_ALL);
    /* The backend's part, when it can give it (one at a time: static). */
    static struct cpu_state cs;
    const struct backend *be = vcpu_backend(v);
    const struct cpu_state *c = NULL;
    if (be->get_state) {
        memset(&cs, 0, sizeof(cs));
        be->get_state(v, &cs);
        c = &cs;
    }
    const struct gprs *g = &v->regs;
    json_obj_begin(o);
    reg(o, "rax", g->rax);
    reg(o, "rbx", g->rbx);
    reg(o, "rcx", g->rcx);
    reg(o, "rdx", g->rdx);
    reg(o, "rsi", g->rsi);
    reg(o, "rdi", g->rdi);
    reg(o, "rbp", g->rbp);
    reg(o, "rsp", g->rsp);
    reg(o, "r8", g->r8);
    reg(o, "r9", g->r9);
    reg(o, "r10", g->r10);
    reg(o, "r11", g->r11);
    reg(o, "r12", g->r12);
    reg(o, "r13", g->r13);
    reg(o, "r14", g->r14);
    reg(o, "r15", g->r15);
    reg(o, "rip", v->rip);
    reg(o, "rflags", v->rflags);
    reg(o, "cr0", v->cr0);
    reg(o, "cr2", v->cr2);
    reg(o, "cr3", v->cr3);
    reg(o, "cr4", v->cr4);
    reg(o, "cr8", v->tpr >> 4);
    reg(o, "efer", v->efer);
    reg(o, "pat", v->pat);
    reg(o, "cpl", v->cpl);
    segments(o, v, c);
    table(o, "idt", v->idtr_base, v->idtr_limit);
    if (c)
        backend_regs(o, c);
    json_obj_end(o);
    return 0;
}

/* Read [addr, addr + size) by guest-physical address. */
static int read_phys(struct ctl_req *r, struct vcpu *v, uint64_t addr, uint64_t size, uint8_t *buf)
{
    const struct guest_mem *m = &v->dom->mem;
    if (guest_read_phys(m, addr, buf, size) == 0)
        return 0;
    /* Name the first byte that is not RAM. */
    uint64_t bad = addr < m->size ? m->size : addr;
    return ctl_error(r, CTL_ERR_GENERIC,
                     "guest-physical 0x%llx is outside guest RAM (RAM is 0x0-0x%llx)",
                     (unsigned long long)bad, (unsigned long long)(m->size - 1));
}

/* Read [addr, addr + size) by guest-virtual address, through the vCPU's
 * page tables as they are now. */
static int read_virt(struct ctl_req *r, struct vcpu *v, uint64_t addr, uint64_t size, uint8_t *buf)
{
    struct gva_walk why;
    char text[160];
    host_load_vcpu(r->host, v);
    struct gva_ctx c = gva_ctx_of(v);
    if (guest_read_virt(&c, addr, buf, size, &why) == 0)
        return 0;
    gva_explain(&why, text, sizeof(text));
    return ctl_error(r, CTL_ERR_GENERIC, "guest-virtual memory at 0x%llx cannot be read: %s",
                     (unsigned long long)addr, text);
}

int ctl_read_memory(struct ctl_req *r)
{
    static uint8_t buf[CTL_READ_MAX];
    struct vcpu *v;
    uint64_t addr, size;
    bool physical;
    if (ctl_arg_vcpu(r, &v) < 0 || ctl_arg_u64(r, CTL_ARG_ADDR, true, 0, &addr) < 0 ||
        ctl_arg_u64(r, CTL_ARG_SIZE, true, 0, &size) < 0 ||
        ctl_arg_bool(r, CTL_ARG_PHYSICAL, false, &physical) < 0)
        return -1;
    if (size == 0 || size > CTL_READ_MAX)
        return ctl_error(r, CTL_ERR_INVALID_PARAMETER, "argument 'size' must be from 1 to %u bytes",
                         CTL_READ_MAX);
    if (addr + size - 1 < addr)
        return ctl_error(r, CTL_ERR_INVALID_PARAMETER,
                         "0x%llx + %llu bytes wraps around the address space",
                         (unsigned long long)addr, (unsigned long long)size);
    int rc = physical ? read_phys(r, v, addr, size, buf) : read_virt(r, v, addr, size, buf);
    if (rc < 0)
        return -1;
    json_obj_begin(r->out);
    json_key(r->out, "data");
    json_put_hex(r->out, buf, size);
    json_obj_end(r->out);
    return 0;
}
