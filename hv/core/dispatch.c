/*
 * dispatch.c - the one exit dispatcher.
 *
 * The backend has already turned its vendor exit into a struct exit_info
 * (exit.h) and copied the guest's registers into the vcpu.  Here the core
 * emulates what the guest asked for, the way the real instruction would
 * have done it, then moves the guest's RIP past the instruction and lets it
 * go on; or it decides the guest has ended, crashed or cannot run.  The
 * same code serves AMD SVM and Intel VT-x: nothing here knows a VMCB or a
 * VMCS.
 */
#include "hvkit/abi.h"
#include "klib.h"

#include "cpu.h"
#include "cpuid.h"
#include "cr.h"
#include "emu.h"
#include "hv.h"
#include "log.h"
#include "msr.h"
#include "nmi.h"
#include "pv.h"
#include "vdev.h"
#include "smp.h"
#include "xcr.h"
#include "exitpath.h"

/* Exception vectors the core injects (SDM vol 3A 6.15 "Exception and Interrupt Reference", APM vol
 * 2 8.2 "Vectors"). */
#define VEC_UD 6
#define VEC_GP 13

/* The details part of a trace line, filled while the exit is handled (so
 * that it can show results, e.g. the value an IN returned). */
struct trace {
    /* One line's worth; ksnprintf truncates a longer detail rather than
     * overflow, and a truncated trace line is still useful. */
    char text[160];
};

/* Format the details of this exit's trace line into t (note() below).
 * Returns what kvsnprintf returns. */
static int __attribute__((format(printf, 2, 3))) note_text(struct trace *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(t->text, sizeof(t->text), fmt, ap);
    va_end(ap);
    return n;
}

/* Fill in the details of this exit's trace line, when tracing; returns
 * what kvsnprintf returns, or 0.  Without `trace` nothing is formatted:
 * turning numbers into text costs more than emulating most exits
 * (bench/hv/README.md measures it).  A macro, so that then not even the
 * arguments are worked out and passed. */
#define note(v, t, ...) ((v)->dom->host->opt.trace ? note_text((t), __VA_ARGS__) : 0)

/* Skip the instruction that exited: it has been emulated.  RF is cleared,
 * as the CPU does after any instruction that completes. */
EXIT_PATH static void advance(struct vcpu *v, const struct exit_info *e)
{
    /* What this reads and changes, for the lazy state bookkeeping (vcpu.h):
     * loaded now, and written back before the next entry: RIP always,
     * RFLAGS only when there is an RF to clear, the interrupt shadow only
     * when there is one to end (usually neither, and each group the
     * backend need not look at is a few instructions less per exit). */
    vcpu_need(v, VCPU_RFLAGS | VCPU_INT_SHADOW);
    unsigned changed = VCPU_RIP;
    if (v->rflags & RFLAGS_RF)
        changed |= VCPU_RFLAGS;
    if (v->int_shadow)
        changed |= VCPU_INT_SHADOW;
    vcpu_changed(v, changed);
    /* LAB 01: BEGIN advance-rip (labs/01-trap-and-emulate, exercise 1) */
    /* LAB 01: HINT The exit left the guest's RIP on the instruction hv has
     * just emulated; move it past (the backend measured the length into
     * e->insn_len), clear RFLAGS.RF as the CPU does after an instruction
     * completes, and end any STI/MOV SS interrupt shadow (v->int_shadow). */
    /* LAB 01: STUB (void)v; */
    /* LAB 01: STUB (void)e; */
    /* The backend measured the instruction (NRIPS, EXITINFO2 or VT-x's
     * exit instruction length), so prefixes are counted when it could. */
    v->rip += e->insn_len;
    v->rflags &= ~RFLAGS_RF;
    /* An STI/MOV SS shadow covers only the next instruction, which this
     * was (SDM vol 2B "STI"). */
    v->int_shadow = 0;
    /* LAB 01: END */
    /* TF is the guest's own: an emulated instruction never changes it. */
    single_step_trap(v, (v->rflags & RFLAGS_TF) != 0);
}

/* The guest cannot go on (an exit hv handles, but whose emulation shows
 * the guest is broken): its unfinished last console line first, then its
 * state, so the reader sees what it printed before it went wrong; then the
 * domain stops and the exit returns to the run loop. */
static void guest_crashed(struct vcpu *v, const char *why)
{
    uart_flush(&v->dom->com1);
    vcpu_backend(v)->dump_state(v);
    domain_crash(v->dom, "%s", why);
}

/* The value of an access of `size` bytes taken from a register.  OUT AL/AX/EAX
 * sends only the low 1, 2 or 4 bytes of RAX; the device models must never see
 * the bits above. */
static uint32_t low_bytes(uint64_t reg, uint8_t size)
{
    return (uint32_t)(size == 4 ? reg & 0xffffffffu : size == 2 ? reg & 0xffffu : reg & 0xffu);
}

/* The part of RSI/RDI/RCX a string instruction uses: its address size. */
static uint64_t addr_mask(uint8_t addr_size)
{
    return addr_size == 8 ? ~0ull : addr_size == 4 ? 0xffffffffull : 0xffffull;
}

/* Step a string register by `step` within its address size, leaving the bits
 * above it alone (as the CPU does with a 16- or 32-bit address).  Example:
 * with a 16-bit address, SI = 0xFFFF plus 1 wraps to 0 and the upper bits of
 * RSI are untouched. */
static uint64_t step_reg(uint64_t reg, int64_t step, uint64_t mask)
{
    return (reg & ~mask) | ((reg + (uint64_t)step) & mask);
}

/*
 * INS/OUTS, with or without REP (SDM vol 2 "INS", "OUTS", "REP"; APM vol 3):
 * data moves between the port and guest memory at ES:RDI (INS) or DS:RSI
 * (OUTS); the pointer steps by the access size, backwards when RFLAGS.DF is
 * set; REP repeats RCX times, counting RCX down.  Segments are flat in hv's
 * guests, so the register value is the linear address.  Returns false when
 * the memory is not mapped, outside guest RAM or (INS) a page the guest
 * may not write, with that item's linear address in *bad.
 */
static bool string_io(struct vcpu *v, const struct exit_info *e, uint64_t *bad)
{
    struct domain *d = v->dom;
    struct gprs *r = &v->regs;
    /* RSI, RDI and RCX are used at the instruction's address size. */
    uint64_t mask = addr_mask(e->io.addr_size);
    /* RFLAGS.DF below. */
    vcpu_need(v, VCPU_RFLAGS);
    /* Without REP the instruction moves one item. */
    uint64_t count = e->io.rep ? (r->rcx & mask) : 1;
    /* DF=1 walks the buffer downwards (STD), DF=0 upwards (CLD). */
    int64_t step = (v->rflags & RFLAGS_DF) ? -(int64_t)e->io.size : e->io.size;
    /* hv does the whole REP at once, in one exit: the guest cannot tell,
     * since no interrupt of ours can arrive in the middle.  Registers are
     * updated item by item, so a fault halfway leaves them as the CPU
     * would (RCX = items left, RSI/RDI at the faulting item). */
    for (; count; count--) {
        /* The unused upper bytes of a 1- or 2-byte item stay 0. */
        uint32_t val = 0;
        if (e->io.in) {
            /* Port to memory at RDI.  The device is read before the memory
             * check, as the CPU does (INS performs the input, then the store
             * faults). */
            val = iobus_in(&d->io, e->io.port, e->io.size);
            *bad = r->rdi & mask;
            if (guest_write_linear(v, *bad, &val, e->io.size) < 0)
                return false;
            r->rdi = step_reg(r->rdi, step, mask);
        } else {
            /* Memory at RSI to the port. */
            *bad = r->rsi & mask;
            if (guest_read_linear(v, *bad, &val, e->io.size) < 0)
                return false;
            iobus_out(&d->io, e->io.port, e->io.size, val);
            r->rsi = step_reg(r->rsi, step, mask);
        }
        /* RCX counts down at the address size too (REP uses CX/ECX/RCX). */
        if (e->io.rep)
            r->rcx = step_reg(r->rcx, -1, mask);
        /* The guest asked to end (port 0xf4): stop right there. */
        if (d->dbg_exit.requested)
            break;
    }
    return true;
}

/* IN, OUT, INS, OUTS: through the port bus to the device models.  The port I/O
 * exit is the one a teaching guest causes most: every byte it prints is an OUT
 * to the UART, and every poll of the line status an IN. */
EXIT_PATH static void handle_io(struct vcpu *v, const struct exit_info *e, struct trace *t)
{
    struct domain *d = v->dom;
    const char *dir = e->io.in ? "in" : "out";
    if (e->io.string) {
        /* The trace line is written first here: it shows the count the
         * guest asked for, which string_io() then counts down to zero. */
        note(v, t, "port %#x %s size %u string%s count %llu", e->io.port, dir, e->io.size,
             e->io.rep ? " rep" : "",
             (unsigned long long)(e->io.rep ? v->regs.rcx & addr_mask(e->io.addr_size) : 1));
        uint64_t bad = 0;
        if (!string_io(v, e, &bad)) {
            /* A real CPU would raise #PF or #GP; a guest that does string I/O
             * on unmapped memory is broken, so say so plainly, naming the
             * item's linear address and the instruction. */
            char why[128];
            ksnprintf(why, sizeof(why),
                      "string I/O (%s) at linear %#llx, rip %#llx: not mapped guest RAM%s",
                      e->io.in ? "INS" : "OUTS", (unsigned long long)bad,
                      (unsigned long long)e->rip, e->io.in ? " the guest may write" : "");
            guest_crashed(v, why);
            return;
        }
    } else if (e->io.in) {
        /* IN: the device's value into AL/AX/EAX. */
        uint32_t val = iobus_in(&d->io, e->io.port, e->io.size);
        v->regs.rax = gpr_in_merge(v->regs.rax, val, e->io.size);
        note(v, t, "port %#x in size %u value %#x", e->io.port, e->io.size, val);
    } else {
        /* OUT: AL/AX/EAX to the device. */
        uint32_t val = low_bytes(v->regs.rax, e->io.size);
        note(v, t, "port %#x out size %u value %#x", e->io.port, e->io.size, val);
        iobus_out(&d->io, e->io.port, e->io.size, val);
    }
    /* Port I/O never faults in hv's model (no I/O permission checks for
     * a ring-0 guest), so the instruction always completes. */
    advance(v, e);
}

/* CPUID: the real CPU's answer, filtered by hv's policy (cpuid.h). */
static void handle_cpuid(struct vcpu *v, const struct exit_info *e, struct trace *t)
{
    struct gprs *r = &v->regs;
    /* The leaf is EAX, the subleaf ECX (SDM vol 2A "CPUID"). */
    uint32_t leaf = (uint32_t)r->rax, sub = (uint32_t)r->rcx;
    /* Ask the real CPU, then edit the answer: the guest sees the host's
     * model and features minus what hv cannot give it, plus hv's own
     * leaves (HVKIT_FEATURE_IRQ only when interrupts are delivered). */
    struct cpuid_regs c = cpuid_count(leaf, sub);
    cpuid_policy(leaf, sub, hv_features(v->dom->host), &c);
    /* Then the bits that follow the guest's own state: OSXSAVE its CR4,
     * the APIC bit its local APIC.  The APIC ID CPUID reports is the
     * initial one, which the vCPU got at reset (core/irq.c: its number),
     * not the xAPIC ID register, which software may rewrite (SDM vol 3A
     * 11.4.6 "Local APIC ID"); QEMU answers the same.  Only leaf 1 shows
     * CR4, so only leaf 1 asks the backend for it (a VMREAD on VT-x). */
    if (leaf == 1)
        vcpu_need(v, VCPU_CR);
    struct cpuid_state st = {
        .osxsave = leaf == 1 && (v->cr4 & CR4_OSXSAVE),
        .apic = v->lapic.base_msr & APIC_BASE_EN,
        .apic_id = v->id,
    };
    cpuid_guest_state(leaf, &st, &c);
    /* Kept for the next time, if it will not change (fastpath.c). */
    cpuid_table_keep(&v->dom->cpuid, leaf, sub, &c);
    /* CPUID writes the 32-bit registers, which zero-extends in long mode. */
    r->rax = c.eax;
    r->rbx = c.ebx;
    r->rcx = c.ecx;
    r->rdx = c.edx;
    note(v, t, "leaf %#x sub %#x -> %08x %08x %08x %08x", leaf, sub, c.eax, c.ebx, c.ecx, c.edx);
    advance(v, e);
}

/* RDMSR / WRMSR of an MSR the backend does not let through (msr.h). */
static void handle_msr(struct vcpu *v, const struct exit_info *e, struct trace *t)
{
    /* The index is ECX; the value EDX:EAX (SDM vol 2B "RDMSR", "WRMSR"). */
    uint32_t index = (uint32_t)v->regs.rcx;
    bool read = e->reason == EXIT_MSR_READ;
    /* 0 for the trace of a failed read; the guest's RAX/RDX stay as they
     * were, since a faulting RDMSR writes nothing. */
    uint64_t val = 0;
    bool ok;
    if (read) {
        /* The local APIC's MSRs belong to its model (dev/lapic.h). */
        /* hv's own MSRs belong to the PV interface (core/pv.h). */
        if (pv_msr_owned(index))
            ok = pv_msr_read(v, index, &val);
        else
            ok = lapic_msr_owned(index) ? lapic_msr_read(&v->lapic, index, &val)
                                        : msr_read(v, index, &val);
        if (ok) {
            /* EDX:EAX, each zero-extended into its 64-bit register. */
            v->regs.rax = (uint32_t)val;
            v->regs.rdx = val >> 32;
        }
    } else {
        /* WRMSR ignores the upper halves of RDX and RAX. */
        val = ((v->regs.rdx & 0xffffffffu) << 32) | (v->regs.rax & 0xffffffffu);
        if (pv_msr_owned(index))
            ok = pv_msr_write(v, index, val);
        else
            ok = lapic_msr_owned(index) ? lapic_msr_write(&v->lapic, index, val)
                                        : msr_write(v, index, val);
        /* A new guest TSC: a registered PV clock counts from it. */
        if (ok && (index == MSR_TSC || index == 0x3bu /* IA32_TSC_ADJUST */))
            pv_tsc_changed(v);
        /* A new APIC base moves the register page (SDM vol 3A 11.4.5
         * "Relocating the Local APIC Registers"). */
        if (ok && index == MSR_IA32_APIC_BASE)
            irq_apic_base_changed(v);
    }
    note(v, t, "msr %#x %s %#llx%s", index, read ? "read" : "write", (unsigned long long)val,
         ok ? "" : " -> #GP(0)");
    if (ok)
        advance(v, e);
    else
        /* As a real CPU does for an MSR it lacks or a bad value: #GP(0),
         * with RIP still on the faulting instruction. */
        vcpu_backend(v)->inject_exception(v, VEC_GP, true, 0);
}

/*
 * XSETBV (VT-x only: SVM lets the CPU run it).  The checks of SDM vol 2D
 * "XSETBV", in its order: #UD without CR4.OSXSAVE; #GP(0) outside ring 0,
 * for an XCR other than XCR0 (ECX = 0), or for an XCR0 the CPU refuses
 * (xcr.h).  A valid value is loaded into the real XCR0, which VT-x does
 * not switch between hv and the guest: hv itself never uses XSAVE state.
 */
static void handle_xsetbv(struct vcpu *v, const struct exit_info *e, struct trace *t)
{
    uint32_t index = (uint32_t)v->regs.rcx;
    /* EDX:EAX, the upper halves of RDX and RAX ignored. */
    uint64_t val = ((v->regs.rdx & 0xffffffffu) << 32) | (v->regs.rax & 0xffffffffu);
    /* The components this CPU supports: CPUID.(EAX=0DH,ECX=0):EDX:EAX. */
    struct cpuid_regs d = cpuid_count(0xd, 0);
    uint64_t supported = ((uint64_t)d.edx << 32) | d.eax;
    const char *verdict = "";
    /* CR4.OSXSAVE and the CPL. */
    vcpu_need(v, VCPU_CR | VCPU_SEGS);
    if (!(v->cr4 & CR4_OSXSAVE)) {
        verdict = " -> #UD";
        vcpu_backend(v)->inject_exception(v, VEC_UD, false, 0);
    } else if (v->cpl != 0 || index != 0 || !xcr0_valid(val, supported)) {
        verdict = " -> #GP(0)";
        vcpu_backend(v)->inject_exception(v, VEC_GP, true, 0);
    } else {
        xsetbv(0, val);
        v->xcr0 = val;
        advance(v, e);
    }
    note(v, t, "xcr%u %#llx (supported %#llx)%s", index, (unsigned long long)val,
         (unsigned long long)supported, verdict);
}

/* The CR0 value a decoded instruction would write. */
static uint64_t cr0_from_insn(struct vcpu *v, const struct cr_insn *in)
{
    /* The source may be any register, RSP included. */
    vcpu_need(v, VCPU_RSP);
    /* The source register (MOV) or the operand register (LMSW r16); for
     * CLTS it is unused.  The decoder yields 0-15 (REX.R adds 8). */
    uint64_t src = *gpr_by_number(&v->regs, in->gpr);
    switch (in->kind) {
    case CR_INSN_CLTS:
        /* CLTS clears TS and nothing else. */
        return v->cr0 & ~CR0_TS;
    case CR_INSN_LMSW:
        /* LMSW loads PE, MP, EM and TS, but cannot clear PE. */
        return (v->cr0 & ~0xeull) | (src & 0xe) | ((v->cr0 | src) & CR0_PE);
    default:
        /* MOV to CR0: the whole register in 64-bit mode, its low 32 bits
         * otherwise. */
        return v->cs_long ? src : (uint32_t)src;
    }
}

/* The CR4 bits the guest may set: those its own CPUID offers (after hv's
 * policy, so VMXE and PKS stay reserved). */
static uint64_t guest_cr4_valid(const struct vcpu *v)
{
    uint32_t features = hv_features(v->dom->host);
    struct cpuid_regs l1 = cpuid_count(1, 0), l7 = {0, 0, 0, 0};
    cpuid_policy(1, 0, features, &l1);
    if (cpuid(0).eax >= 7) {
        l7 = cpuid_count(7, 0);
        cpuid_policy(7, 0, features, &l7);
    }
    return cr4_valid_bits(l1.ecx, l7.ebx, l7.ecx, l7.edx);
}

/* A write to CR4 (SVM only: VT-x's CR4 writes stay in its backend), value
 * decoded: check it as the CPU would, then apply it or raise #GP(0). */
static void handle_cr4_write(struct vcpu *v, struct exit_info *e, uint64_t val, struct trace *t)
{
    bool ok = cr4_write_ok(v->cr4, val, guest_cr4_valid(v), v->efer, v->cr0, v->cr3);
    note(v, t, "cr4 %#llx -> %#llx%s", (unsigned long long)v->cr4, (unsigned long long)val,
         ok ? "" : " -> #GP(0)");
    if (!ok) {
        vcpu_backend(v)->inject_exception(v, VEC_GP, true, 0);
        return;
    }
    /* The backend loads it at the next entry (and flushes the TLB). */
    v->cr4 = val;
    vcpu_changed(v, VCPU_CR);
    advance(v, e);
}

/*
 * A write to CR0 (EXIT_CR_WRITE, cr.h): decode it if the backend could not,
 * check it as the CPU would, and either apply it or raise #GP(0).  Applying
 * includes what the CPU does on its own: CR0.ET reads as 1, and turning
 * paging on with EFER.LME set activates long mode (EFER.LMA, SDM vol 3A
 * 10.8.5 "Initializing IA-32e Mode", APM vol 2 14.6.1 "Activating Long Mode").
 */
static void handle_cr_write(struct vcpu *v, struct exit_info *e, struct trace *t)
{
    /* The control registers, EFER and the code segment's mode, which the
     * checks below read. */
    vcpu_need(v, VCPU_CR | VCPU_EFER | VCPU_SEGS);
    /* VT-x's exit qualification names the register, so its backend gives
     * the value; SVM without decode assists (QEMU) gives nothing. */
    uint64_t val = e->cr.value;
    if (!e->cr.has_value) {
        /* Fetch the instruction (at most 15 bytes, fewer at the end of a
         * mapping) and decode it. */
        uint8_t bytes[15];
        size_t n = 0;
        /* Byte by byte through the guest's paging: the instruction may
         * cross into an unmapped page, and the decoder only needs the
         * bytes it can get. */
        /* The instruction's linear address is CS's base plus RIP outside
         * 64-bit mode (SDM vol 3A 3.4 "Logical and Linear Addresses"): an
         * AP starting in real mode runs at CS = VV00H (core/smp.c). */
        uint64_t at = v->rip + (v->cs_long ? 0 : v->seg_base[EMU_CS]);
        while (n < sizeof(bytes) && guest_read_linear(v, at + n, &bytes[n], 1) == 0)
            n++;
        struct cr_insn in;
        /* Only CR0 and CR4 writes are intercepted, so anything else decoded
         * here means the bytes are not what exited (e.g. self-modifying
         * code). */
        if (cr_decode(bytes, n, v->cs_long, &in) < 0 || in.cr != e->cr.cr ||
            (in.cr == 4 && in.kind != CR_INSN_MOV)) {
            guest_crashed(v, "a CR0 or CR4 write by an instruction hv cannot decode");
            return;
        }
        val = cr0_from_insn(v, &in);
        /* Our decoder's length: SVM without NRIPS gives none for CR0.  It
         * goes into the exit's record, so that advance() below skips the
         * instruction like every other one that completes. */
        e->insn_len = in.len;
    }
    if (e->cr.cr == 4) {
        handle_cr4_write(v, e, val, t);
        return;
    }
    /* The #GP(0) conditions of MOV to CR0 (SDM vol 2B "MOV-Move to/from
     * Control Registers"), which QEMU's TCG does not all enforce. */
    bool ok = cr0_write_ok(v->cr0, val, v->efer, v->cr4, v->cs_long);
    note(v, t, "cr0 %#llx -> %#llx%s", (unsigned long long)v->cr0, (unsigned long long)val,
         ok ? "" : " -> #GP(0)");
    if (!ok) {
        /* A fault: RIP stays on the instruction, CR0 unchanged. */
        vcpu_backend(v)->inject_exception(v, VEC_GP, true, 0);
        return;
    }
    /* The backend loads this into the guest's CR0 at the next entry. */
    v->cr0 = val | CR0_ET;
    /* EFER.LMA follows CR0.PG while EFER.LME is set. */
    if ((val & CR0_PG) && (v->efer & EFER_LME))
        v->efer |= EFER_LMA;
    else if (!(val & CR0_PG))
        v->efer &= ~EFER_LMA;
    vcpu_changed(v, VCPU_CR | VCPU_EFER);
    /* The MOV completed: skip it. */
    advance(v, e);
}

/* Vectors of the exceptions the core reasons about. */
#define VEC_DF 8

/*
 * An intercepted double fault.  The CPU raises #DF when delivering one
 * exception causes another (SDM vol 3A 6.15 "Exception and Interrupt Reference", interrupt 8); if
 * delivering the #DF fails too, the CPU shuts down: a triple fault.  hv intercepts #DF to look at
 * the guest's IDT first: if gate 8 is beyond the IDT limit, or not present, or cannot be read,
 * delivery would fail, so hv reports the triple fault itself; otherwise it delivers the #DF (error
 * code 0) as the CPU would have.  Gates are 16 bytes in long mode, 8 bytes otherwise; the present
 * bit is bit 7 of byte 5 in both (SDM vol 3A 6.11 "IDT Descriptors", 6.14.1 "64-Bit Mode IDT").
 */
static bool double_fault_deliverable(struct vcpu *v)
{
    /* The gate format follows the mode the CPU is in (EFER.LMA), not the
     * code segment: a compatibility-mode guest still has a 64-bit IDT. */
    vcpu_need(v, VCPU_EFER | VCPU_IDTR);
    unsigned gate_size = (v->efer & EFER_LMA) ? 16 : 8;
    uint64_t offset = (uint64_t)VEC_DF * gate_size;
    uint8_t gate[16];
    /* The whole gate must lie within the limit (the last byte's offset). */
    if (offset + gate_size - 1 > v->idtr_limit)
        return false;
    /* IDTR.base is a linear address: read through the guest's paging. */
    if (guest_read_linear(v, v->idtr_base + offset, gate, gate_size) < 0)
        return false;
    /* Other gate errors (a bad selector or type) would fault the delivery
     * too; hv leaves those to the CPU, which then shuts down with an exit. */
    return (gate[5] & 0x80) != 0;
}

/* VMMCALL/VMCALL: hvkit's hypercalls (hypercall.c, include/hvkit/abi.h). */
static void handle_hypercall(struct vcpu *v, const struct exit_info *e, struct trace *t)
{
    /* The CPL, which decides which calls the guest may make. */
    vcpu_need(v, VCPU_SEGS);
    /* Arguments first, before hypercall() overwrites RAX with the result;
     * n is where " -> result" goes afterwards. */
    int n =
        note(v, t, "nr %llu (%s) cpl %u args %#llx %#llx %#llx", (unsigned long long)v->regs.rax,
             hypercall_name(v->regs.rax), v->cpl, (unsigned long long)v->regs.rbx,
             (unsigned long long)v->regs.rcx, (unsigned long long)v->regs.rdx);
    /* An HC_EXIT that is allowed stops the domain, and dispatch() writes
     * no trace line for an exit that stopped its domain: trace it now, in
     * the same format as trace_exit(), with the arguments only. */
    if (v->dom->host->opt.trace && hypercall_ends_guest(v))
        hv_log("exit %llu: %s %s %#llx rip %#llx %s", (unsigned long long)v->exit_count,
               exit_reason_name(e->reason), e->raw_name, (unsigned long long)e->raw_code,
               (unsigned long long)e->rip, t->text);
    /* The guest resumes after the instruction, with the result in RAX. */
    advance(v, e);
    hypercall(v);
    /* Append the result only if the arguments fitted. */
    if (n > 0 && (size_t)n < sizeof(t->text))
        ksnprintf(t->text + n, sizeof(t->text) - (size_t)n, " -> %lld", (long long)v->regs.rax);
}

/* Log one trace line (the `trace` option): the core reason, the vendor's name
 * and code, the guest RIP and the decoded details.  The format is documented
 * in hv/README.md and matched by the integration tests: change both together. */
static void trace_exit(const struct vcpu *v, const struct exit_info *e, const struct trace *t)
{
    hv_log("exit %llu: %s %s %#llx rip %#llx %s", (unsigned long long)v->exit_count,
           exit_reason_name(e->reason), e->raw_name ? e->raw_name : "?",
           (unsigned long long)e->raw_code, (unsigned long long)e->rip, t->text);
}

/*
 * Exits after which the guest cannot go on.  The guest's last console line
 * goes out first, then its state (registers, control registers: the
 * backend's dump_state), then the domain stops with the reason that ends
 * up in the final protocol line.  Entry failures are hv's failure ("exit:
 * error"), the rest the guest's crash.  `why` is the reason a handler has
 * already worked out (a memory violation's), else NULL.
 */
static void fatal_exit(struct vcpu *v, const struct exit_info *e, const char *why)
{
    struct domain *d = v->dom;
    /* The fatal exit gets its trace line too, so a trace ends with it. */
    if (d->host->opt.trace)
        trace_exit(v, e, &(struct trace){.text = "(fatal)"});
    uart_flush(&d->com1);
    vcpu_backend(v)->dump_state(v);
    switch (e->reason) {
    case EXIT_SHUTDOWN:
        /* A fault while delivering #DF: the CPU shuts down (SDM vol 3A
         * 6.15 "Exception and Interrupt Reference", interrupt 8). */
        domain_crash(d, "triple fault: the guest shut down");
        break;
    case EXIT_HLT:
        /* Nothing can ever wake a CPU halted with IF=0 without a control
         * channel to send it an NMI (nmi.c nmi_park()). */
        domain_crash(d, "guest halted with interrupts disabled (HLT with IF=0): nothing can "
                        "wake it");
        break;
    case EXIT_MEM_VIOLATION:
        /* handle_mem_violation() said what was wrong (violation.c). */
        domain_crash(d, "%s", why);
        break;
    case EXIT_EXCEPTION:
        /* Reached for #DF only when double_fault_deliverable() said no. */
        if (e->exc.vector == VEC_DF)
            domain_crash(d, "triple fault: the guest shut down (a double fault with no usable "
                            "IDT gate 8)");
        else
            domain_crash(d, "unexpected intercepted exception %u", e->exc.vector);
        break;
    case EXIT_ENTRY_FAILED:
        /* hv built a state the CPU refused: hv's fault, not the guest's
         * (dump_state above has explained which check failed). */
        domain_fail(d, "%s", e->why ? e->why : "guest entry failed");
        break;
    default:
        /* An exit hv does not know: name the vendor code so that the
         * reader can look it up in the manual's exit-code table. */
        domain_crash(d, "unhandled exit %s %#llx: %s", e->raw_name ? e->raw_name : "?",
                     (unsigned long long)e->raw_code, e->why ? e->why : "hv does not emulate it");
        break;
    }
}

/* The guest used up its max-exits budget: end it as crashed, naming the
 * exit and where the guest was, which is where a loop shows itself. */
static void exit_budget_spent(struct vcpu *v, const struct exit_info *e)
{
    struct domain *d = v->dom;
    uart_flush(&d->com1);
    domain_crash(d,
                 "exit budget spent: %llu VM exits (max-exits=%llu), the last a %s at rip %#llx; "
                 "is the guest stuck in a loop?",
                 (unsigned long long)v->exit_count, (unsigned long long)d->host->opt.max_exits,
                 exit_reason_name(e->reason), (unsigned long long)e->rip);
}

/*
 * Handle one exit of vCPU `v`.  This is "trap and emulate" in one switch:
 * each case does what the real instruction or device would have done, with
 * the guest's registers in v, and either moves RIP past the instruction (it
 * completed), leaves RIP alone and injects an exception (it faulted, as on
 * a real CPU), or ends the guest by changing its domain's run state
 * (domain.h).  Either way it returns to the run loop.  The trace line, if
 * asked for, is written after the handling so it can show results; an exit
 * that stopped the domain wrote its own, before the guest's last words.
 */
EXIT_PATH void dispatch(struct vcpu *v, struct exit_info *e)
{
    struct domain *d = v->dom;
    /* Empty unless a handler fills in details (only its first byte is
     * set: zeroing all 160 would be work on every exit). */
    struct trace t;
    t.text[0] = '\0';

    /* Every exit counts, including the last one. */
    stats_record(&d->stats, e->reason);
    /* A budget of exits (max-exits=N) turns a guest that loops through
     * exits forever, e.g. one whose RIP is never moved past an emulated
     * instruction, into a crash report at once instead of a timeout. */
    if (d->host->opt.max_exits && v->exit_count > d->host->opt.max_exits) {
        exit_budget_spent(v, e);
        return;
    }
    /* To tell whether a port I/O exit reached a device. */
    uint64_t device_accesses = d->io.device_accesses;
    /* The common exits first, in roughly the order a guest causes them;
     * the order does not matter to the compiler's jump table. */
    switch (e->reason) {
    case EXIT_CPUID:
        handle_cpuid(v, e, &t);
        break;
    case EXIT_IO:
        handle_io(v, e, &t);
        break;
    case EXIT_MSR_READ:
    case EXIT_MSR_WRITE:
        handle_msr(v, e, &t);
        break;
    case EXIT_HYPERCALL:
        handle_hypercall(v, e, &t);
        break;
    case EXIT_HLT:
        /* With IF=0 only an NMI (or another vCPU's INIT) can wake the
         * guest.  With IF=1 the CPU sleeps until an interrupt: the vCPU
         * blocks until its next timer tick if one is programmed; with no
         * source at all HLT completes at once, as if an interrupt had come
         * (hv/README.md, "Decisions"). */
        vcpu_need(v, VCPU_RFLAGS);
        if (!(v->rflags & RFLAGS_IF)) {
            /* With other vCPUs running, this one stops until an INIT
             * (core/smp.c) or an NMI; so does the last one while a control
             * channel can send it an NMI (nmi.c), else it can never be
             * woken. */
            if (smp_park(v) || nmi_park(v))
                advance(v, e);
            else
                fatal_exit(v, e, NULL);
            break;
        }
        /* Input for its virtio-console may be what it waits for: it
         * raises the device's interrupt, which irq_halt() then sees. */
        vdev_console_poll(v->dom);
        /* The vCPU blocks until a timer fires (the scheduler runs the
         * other vCPUs meanwhile, run.c), unless an interrupt is pending
         * already or none could ever come. */
        if (irq_halt(v)) {
            v->blocked = true;
            note(v, &t, "IF=1: blocked until a timer fires");
        } else {
            note(v, &t, "IF=1: resumes (interrupt %s)",
                 irq_pending(v) >= 0 ? "pending" : "none, treated as a no-op");
        }
        /* HLT completes: the guest resumes after it, which is also where
         * the injected interrupt's IRET returns to. */
        advance(v, e);
        break;
    case EXIT_XSETBV:
        handle_xsetbv(v, e, &t);
        break;
    case EXIT_CR_WRITE:
        handle_cr_write(v, e, &t);
        break;
    case EXIT_EXCEPTION:
        /* Only #DF is intercepted; a double fault the guest can take is
         * delivered, one it cannot is its triple fault. */
        if (e->exc.vector != VEC_DF || !double_fault_deliverable(v)) {
            fatal_exit(v, e, NULL);
            break;
        }
        note(v, &t, "#DF: delivered to the guest");
        /* #DF always pushes an error code of 0 (SDM vol 3A 6.15 "Exception and Interrupt
         * Reference"). */
        vcpu_backend(v)->inject_exception(v, VEC_DF, true, 0);
        break;
    case EXIT_IRQ_WINDOW:
        /* The guest can take an interrupt now: irq_before_entry() injects
         * it before the next entry. */
        note(v, &t, "guest interruptible");
        break;
    case EXIT_NMI_WINDOW:
        /* The last NMI's handler has executed IRET: a waiting NMI goes in
         * before the next entry (nmi.c). */
        note(v, &t, "NMIs unblocked%s", v->nmi_pending ? ", one pending" : "");
        break;
    case EXIT_VIRT_INSN:
        /* The guest was told it has no SVM/VMX: #UD, as such a CPU gives
         * (the instruction is not skipped: #UD is a fault). */
        note(v, &t, "-> #UD");
        vcpu_backend(v)->inject_exception(v, VEC_UD, false, 0);
        break;
    case EXIT_MEM_VIOLATION: {
        /* RAM faulted in or logged dirty, MMIO emulated, or the guest's
         * end: violation.c decides, for both vendors. */
        char why[DOMAIN_WHY_LEN];
        if (handle_mem_violation(v, e, t.text, sizeof(t.text), why, sizeof(why)) < 0)
            fatal_exit(v, e, why);
        break;
    }
    case EXIT_INTERRUPT:
        /* The backend's deadline came (backend.h set_deadline: SVM's
         * watchdog NMI, VT-x's preemption timer): nothing to emulate; the
         * run loop looks at the clock and the scheduler. */
        break;
    default:
        /* Shutdown, nested page fault, failed entry, anything unexpected. */
        fatal_exit(v, e, NULL);
        break;
    }
    /* Anything but a CPUID exit or port I/O nobody answered may have
     * changed what an interrupt controller says (a device raised or
     * dropped a line, the guest unmasked, sent an EOI, moved its TPR, or
     * time passed in HLT): irq.c must look again before the next entry. */
    if (e->reason != EXIT_CPUID &&
        !(e->reason == EXIT_IO && d->io.device_accesses == device_accesses))
        d->irq_epoch++;
    /* The exit ended the domain: its trace line and last words are out. */
    if (domain_stopped(d))
        return;
    /* After the handler, so the line can show the result. */
    if (d->host->opt.trace)
        trace_exit(v, e, &t);
    /* The guest reset the machine through port 0x92.  With on_reboot=
     * destroy (hv's default) this ends it, as QEMU run with -no-reboot
     * powers off (bin/qemu-guest and bin/hvrun both report 127 then);
     * otherwise it is a reboot, and the run loop carries out the action
     * (run.c). */
    if (d->port92.reset_requested) {
        if (d->on_reboot == DOMAIN_ACTION_DESTROY)
            guest_crashed(v, "the guest reset the machine (port 0x92 fast reset); hv does not "
                             "restart guests (on_reboot=destroy)");
        else
            domain_guest_reboot(d);
        return;
    }
    /* The guest put the machine into ACPI S5 (SLP_EN with SLP_TYP 0,
     * dev/acpi_pm.h): it powered off, as on QEMU, with code 0. */
    if (d->acpi.poweroff) {
        uart_flush(&d->com1);
        domain_shutdown(d, 0);
        return;
    }
    /* The guest wrote its exit code to port 0xf4: pass it on. */
    if (d->dbg_exit.requested) {
        /* A last line without its newline is still shown. */
        uart_flush(&d->com1);
        domain_shutdown(d, d->dbg_exit.code);
    }
}
