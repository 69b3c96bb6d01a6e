/*
 * dispatch.c - the one exit dispatcher.  The backend has already turned its
 * vendor exit into a struct exit_info (exit.h) and copied the guest's
 * registers into the vcpu; here we emulate what the guest asked for, advance
 * its RIP past the instruction, and decide whether it goes on.
 */
#include "hvkit/abi.h"
#include "klib.h"

#include "cpu.h"
#include "cpuid.h"
#include "ending.h"
#include "hv.h"
#include "log.h"
#include "msr.h"

/* Exception vectors we inject (SDM vol 3A 6.15). */
#define VEC_UD 6
#define VEC_GP 13

/* Details for the trace line, filled while handling the exit. */
struct trace {
    char text[160];
};

/* Skip the instruction that exited: it has been emulated.  RF is cleared
 * as after any completed instruction (SDM vol 3A 18.3.1.1). */
static void advance(struct vcpu *v, const struct exit_info *e)
{
    v->rip += e->insn_len;
    v->rflags &= ~(1ull << 16);
}

/* Replace the low `size` bytes of a register: IN AL/AX keep the upper bits;
 * IN EAX zero-extends into RAX like every 32-bit write in long mode. */
static uint64_t merge(uint64_t old, uint32_t val, uint8_t size)
{
    if (size == 4)
        return val;
    uint64_t mask = size == 2 ? 0xffffull : 0xffull;
    return (old & ~mask) | (val & mask);
}

/* Address-size mask for string I/O registers. */
static uint64_t addr_mask(uint8_t addr_size)
{
    return addr_size == 8 ? ~0ull : addr_size == 4 ? 0xffffffffull : 0xffffull;
}

/* INS/OUTS, with or without REP (SDM vol 2 "INS", "OUTS"; APM vol 3):
 * data moves between the port and memory at ES:RDI (INS) or DS:RSI (OUTS),
 * the pointer steps by the size, backwards if RFLAGS.DF; REP repeats RCX
 * times.  Segments are flat in hv's guests. */
static bool string_io(struct hv *h, const struct exit_info *e)
{
    struct vcpu *v = &h->vcpu;
    struct gprs *r = &v->regs;
    uint64_t mask = addr_mask(e->io.addr_size);
    uint64_t count = e->io.rep ? (r->rcx & mask) : 1;
    int64_t step = (v->rflags & RFLAGS_DF) ? -(int64_t)e->io.size : e->io.size;
    for (; count; count--) {
        uint32_t val = 0;
        if (e->io.in) {
            val = iobus_in(&h->bus, e->io.port, e->io.size);
            if (guest_write_linear(v, r->rdi & mask, &val, e->io.size) < 0)
                return false;
            r->rdi = (r->rdi & ~mask) | ((r->rdi + (uint64_t)step) & mask);
        } else {
            if (guest_read_linear(v, r->rsi & mask, &val, e->io.size) < 0)
                return false;
            iobus_out(&h->bus, e->io.port, e->io.size, val);
            r->rsi = (r->rsi & ~mask) | ((r->rsi + (uint64_t)step) & mask);
        }
        if (e->io.rep)
            r->rcx = (r->rcx & ~mask) | ((r->rcx - 1) & mask);
        /* Stop at once when the guest asked to end. */
        if (h->dbg_exit.requested)
            break;
    }
    return true;
}

static void handle_io(struct hv *h, const struct exit_info *e, struct trace *t)
{
    struct vcpu *v = &h->vcpu;
    const char *dir = e->io.in ? "in" : "out";
    if (e->io.string) {
        ksnprintf(t->text, sizeof(t->text),
                  "port %#x %s size %u string%s count %llu address size %u (raw %#llx)", e->io.port,
                  dir, e->io.size, e->io.rep ? " rep" : "",
                  (unsigned long long)(e->io.rep ? v->regs.rcx & addr_mask(e->io.addr_size) : 1),
                  e->io.addr_size, (unsigned long long)e->raw_info1);
        if (!string_io(h, e)) {
            h->be->dump_state(v);
            end_guest_crashed("string I/O (INS/OUTS) from an address outside guest RAM");
        }
    } else if (e->io.in) {
        uint32_t val = iobus_in(&h->bus, e->io.port, e->io.size);
        v->regs.rax = merge(v->regs.rax, val, e->io.size);
        ksnprintf(t->text, sizeof(t->text), "port %#x in size %u value %#x", e->io.port, e->io.size,
                  val);
    } else {
        uint32_t val = (uint32_t)(v->regs.rax & (e->io.size == 4   ? 0xffffffffu
                                                 : e->io.size == 2 ? 0xffffu
                                                                   : 0xffu));
        ksnprintf(t->text, sizeof(t->text), "port %#x out size %u value %#x", e->io.port,
                  e->io.size, val);
        iobus_out(&h->bus, e->io.port, e->io.size, val);
    }
    advance(v, e);
}

static void handle_cpuid(struct hv *h, const struct exit_info *e, struct trace *t)
{
    struct gprs *r = &h->vcpu.regs;
    uint32_t leaf = (uint32_t)r->rax, sub = (uint32_t)r->rcx;
    /* Ask the real CPU, then apply hv's policy (cpuid.h). */
    struct cpuid_regs c = cpuid(leaf, sub);
    cpuid_policy(leaf, sub, &c);
    /* CPUID writes the 32-bit registers, which zero-extends in long mode. */
    r->rax = c.eax;
    r->rbx = c.ebx;
    r->rcx = c.ecx;
    r->rdx = c.edx;
    ksnprintf(t->text, sizeof(t->text), "leaf %#x sub %#x -> %08x %08x %08x %08x", leaf, sub, c.eax,
              c.ebx, c.ecx, c.edx);
    advance(&h->vcpu, e);
}

static void handle_msr(struct hv *h, const struct exit_info *e, struct trace *t)
{
    struct vcpu *v = &h->vcpu;
    uint32_t index = (uint32_t)v->regs.rcx;
    bool ok;
    uint64_t val = 0;
    if (e->reason == EXIT_MSR_READ) {
        ok = msr_read(v, index, &val);
        if (ok) {
            /* RDMSR: EDX:EAX, each zero-extended. */
            v->regs.rax = (uint32_t)val;
            v->regs.rdx = val >> 32;
        }
    } else {
        val = ((v->regs.rdx & 0xffffffffu) << 32) | (v->regs.rax & 0xffffffffu);
        ok = msr_write(v, index, val);
    }
    ksnprintf(t->text, sizeof(t->text), "msr %#x %s %#llx%s", index,
              e->reason == EXIT_MSR_READ ? "read" : "write", (unsigned long long)val,
              ok ? "" : " -> #GP(0)");
    if (ok) {
        advance(v, e);
    } else {
        /* As a real CPU: #GP(0), RIP stays on the faulting instruction. */
        h->be->inject_exception(v, VEC_GP, true, 0);
    }
}

/* Log one trace line (the `trace` option). */
static void trace_exit(const struct hv *h, const struct exit_info *e, const struct trace *t)
{
    hv_log("exit %llu: %s %s %#llx rip %#llx %s", (unsigned long long)h->vcpu.exit_count,
           exit_reason_name(e->reason), e->raw_name ? e->raw_name : "?",
           (unsigned long long)e->raw_code, (unsigned long long)e->rip, t->text);
}

/* The guest cannot go on: log why (and its state), end as crashed. */
static __attribute__((noreturn)) void crash(struct hv *h, const char *why)
{
    uart_flush(&h->com1);
    h->be->dump_state(&h->vcpu);
    end_guest_crashed(why);
}

void dispatch(struct hv *h, struct exit_info *e)
{
    struct vcpu *v = &h->vcpu;
    struct trace t = {.text = ""};
    char why[160];

    stats_record(&h->stats, e->reason);
    switch (e->reason) {
    case EXIT_CPUID:
        handle_cpuid(h, e, &t);
        break;
    case EXIT_IO:
        handle_io(h, e, &t);
        break;
    case EXIT_MSR_READ:
    case EXIT_MSR_WRITE:
        handle_msr(h, e, &t);
        break;
    case EXIT_HYPERCALL: {
        int n = ksnprintf(t.text, sizeof(t.text), "nr %llu args %#llx %#llx %#llx",
                          (unsigned long long)v->regs.rax, (unsigned long long)v->regs.rbx,
                          (unsigned long long)v->regs.rcx, (unsigned long long)v->regs.rdx);
        /* HC_EXIT does not return: trace it first. */
        if (h->opt.trace && v->regs.rax == HC_EXIT)
            trace_exit(h, e, &t);
        /* Advance first, so the guest resumes after VMMCALL/VMCALL. */
        advance(v, e);
        hypercall(h);
        if (n > 0 && (size_t)n < sizeof(t.text))
            ksnprintf(t.text + n, sizeof(t.text) - (size_t)n, " -> %lld", (long long)v->regs.rax);
        break;
    }
    case EXIT_HLT:
        /* No interrupt source exists yet: with IF=0 nothing can ever wake
         * the guest; with IF=1 we let HLT complete at once, as if an
         * interrupt had arrived (hv/README.md, "Decisions"). */
        if (!(v->rflags & RFLAGS_IF)) {
            if (h->opt.trace)
                trace_exit(h, e, &t);
            crash(h, "guest halted with interrupts disabled (HLT with IF=0): nothing can wake "
                     "it");
        }
        ksnprintf(t.text, sizeof(t.text), "IF=1: treated as a no-op");
        advance(v, e);
        break;
    case EXIT_VIRT_INSN:
        /* The guest was told it has no SVM/VMX: #UD, as such a CPU gives. */
        ksnprintf(t.text, sizeof(t.text), "-> #UD");
        h->be->inject_exception(v, VEC_UD, false, 0);
        break;
    case EXIT_INTERRUPT:
        /* A host interrupt: nothing to emulate, just run the guest again. */
        break;
    case EXIT_SHUTDOWN:
        if (h->opt.trace)
            trace_exit(h, e, &t);
        crash(h, "triple fault: the guest shut down");
    case EXIT_NESTED_PAGE_FAULT:
        if (h->opt.trace)
            trace_exit(h, e, &t);
        ksnprintf(why, sizeof(why),
                  "%s guest-physical %#llx, outside its %llu MiB of RAM (nested page fault)",
                  e->npf.fetch   ? "executed at"
                  : e->npf.write ? "wrote to"
                                 : "read from",
                  (unsigned long long)e->npf.gpa, (unsigned long long)(v->mem.size >> 20));
        crash(h, why);
    case EXIT_EXCEPTION:
        if (h->opt.trace)
            trace_exit(h, e, &t);
        ksnprintf(why, sizeof(why), "unexpected intercepted exception %u", e->exc.vector);
        crash(h, why);
    case EXIT_ENTRY_FAILED:
        if (h->opt.trace)
            trace_exit(h, e, &t);
        uart_flush(&h->com1);
        h->be->dump_state(v);
        end_error("%s", e->why ? e->why : "guest entry failed");
    case EXIT_UNHANDLED:
    default:
        if (h->opt.trace)
            trace_exit(h, e, &t);
        ksnprintf(why, sizeof(why), "unhandled exit %s %#llx: %s", e->raw_name ? e->raw_name : "?",
                  (unsigned long long)e->raw_code, e->why ? e->why : "hv does not emulate it");
        crash(h, why);
    }
    if (h->opt.trace)
        trace_exit(h, e, &t);
    /* The guest wrote its exit code to port 0xf4. */
    if (h->dbg_exit.requested) {
        uart_flush(&h->com1);
        end_guest_exit(h->dbg_exit.code);
    }
}
