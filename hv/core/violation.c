/*
 * violation.c - the core's one answer to a second-level violation: SVM's
 * nested page fault and VT-x's EPT violation or misconfiguration, which
 * both backends turn into EXIT_MEM_VIOLATION (exit.h).
 *
 * The CPU stopped a guest access at guest-physical address gpa because the
 * second-level tables (NPT, EPT) did not allow it.  What that means depends
 * only on what lies at gpa, so it is decided here, once for both vendors,
 * in this order:
 *
 *   1. RAM the tables do not map yet (npt=lazy) or map read-only for the
 *      dirty log: guestmem.c maps the page or logs the write, the backend
 *      drops the stale translation, and the guest retries the access.
 *   2. An address a device model owns on the domain's MMIO bus: emulate the
 *      instruction against the device (mmio_emu.c), then the guest goes on
 *      after it.  Executing from a device is refused: no CPU fetches
 *      instructions from a local APIC either; so is a page-table walk that
 *      reaches a device (the guest's tables point into it).
 *   3. Anything else: the guest is ended as crashed, and the reason names
 *      the access, the address, RIP and what the memory map has there.
 *
 * Compiled hosted too (tests/unit/test_hv_violation.c).
 */
#include "klib.h"

#include "hv.h"
#include "mmio_emu.h"
#include "pv.h"

/* #GP, the one exception the emulator reports that pushes an error code
 * (it also reports #UD, which does not; SDM vol 3A 6.15 "Exception and
 * Interrupt Reference"). */
#define VEC_GP 13

/* Is hv tracing?  The text for the trace line is formatted only then:
 * turning numbers into text costs more than many an exit (dispatch.c's
 * note() does the same). */
static bool tracing(const struct vcpu *v)
{
    return v->dom->host->opt.trace;
}

/*
 * Carry out the instruction at RIP, which accessed the device at gpa: the
 * emulator (emu.h) run on the vCPU by mmio_emu.c, whose accesses go
 * through the guest's page tables to the MMIO bus or guest RAM.  Returns 0
 * when the guest goes on (the instruction was done, or the exception the
 * CPU would raise for it is injected), with a few words for the trace in
 * text; -1 when hv cannot do it, with the reason in why.
 */
static int emulate_mmio(struct vcpu *v, const struct exit_info *e, const char *dev, char *text,
                        size_t text_len, char *why, size_t why_len)
{
    struct emu_result res;
    switch (mmio_emu_run(v, &res)) {
    case EMU_OK:
        /* A completed instruction ends any STI/MOV SS shadow (SDM vol 2B
         * "STI"), as advance() does for the other emulated instructions. */
        vcpu_need(v, VCPU_INT_SHADOW);
        v->int_shadow = 0;
        vcpu_changed(v, VCPU_INT_SHADOW);
        /* With TF set the guest takes the single-step trap after it (after
         * each iteration of a REP string instruction). */
        single_step_trap(v, res.single_step);
        if (tracing(v))
            ksnprintf(text, text_len, "mmio %s %s gpa %#llx: emulated (%u bytes)", dev,
                      mem_access_name(e->mem.access), (unsigned long long)e->mem.gpa, res.len);
        return 0;
    case EMU_EXCEPTION:
        /* What the CPU itself would do with this encoding: #UD has no
         * error code, #GP(0) has one. */
        vcpu_backend(v)->inject_exception(v, res.vector, res.vector == VEC_GP, 0);
        if (tracing(v))
            ksnprintf(text, text_len, "mmio %s gpa %#llx: %s -> exception %u", dev,
                      (unsigned long long)e->mem.gpa, res.reason, res.vector);
        return 0;
    default:
        /* EMU_UNSUPPORTED names the instruction; EMU_FAULT the access the
         * guest's page tables or memory did not allow. */
        ksnprintf(why, why_len, "%s", res.reason);
        return -1;
    }
}

/* What the memory map has at gpa, in words for the crash reason. */
static void describe_range(const struct domain *d, uint64_t gpa, char *buf, size_t len)
{
    const struct mem_range *r = memmap_find(&d->map, gpa);
    if (!r)
        ksnprintf(buf, len, "nothing there, outside the memory map");
    else if (pv_page_ballooned(d, gpa))
        /* Unmapped on purpose: the guest gave it back (core/pv_balloon.c). */
        ksnprintf(buf, len, "a page the guest gave back with the balloon (HC_BALLOON_RELEASE)");
    else if (r->kind == MEM_RAM)
        ksnprintf(buf, len, "a RAM page that does not allow it, in the %s range", r->name);
    else if (r->kind == MEM_MMIO && r->owner)
        /* Loads and stores there are emulated, so this was a fetch. */
        ksnprintf(buf, len, "the %s's MMIO, which holds no code", r->name);
    else if (r->kind == MEM_MMIO)
        ksnprintf(buf, len, "MMIO that no device model answers, the %s range", r->name);
    else
        ksnprintf(buf, len, "nothing there, the reserved %s range", r->name);
}

/* The crash reason: the access, the address, where the guest was, what is
 * there, and anything the exit adds (a refused instruction's name). */
static void crash_reason(const struct vcpu *v, const struct exit_info *e, const char *detail,
                         char *why, size_t why_len)
{
    static const char *const verb[] = {
        [MEM_ACCESS_READ] = "read from",
        [MEM_ACCESS_WRITE] = "wrote to",
        [MEM_ACCESS_FETCH] = "executed at",
    };
    char what[96];
    describe_range(v->dom, e->mem.gpa, what, sizeof(what));
    ksnprintf(why, why_len, "%s guest-physical %#llx at rip %#llx: %s%s%s", verb[e->mem.access],
              (unsigned long long)e->mem.gpa, (unsigned long long)e->rip, detail ? detail : what,
              /* Through the guest's own page tables, e.g. a CR3 pointing
               * outside RAM: the reader should look at those. */
              e->mem.during_walk ? " (while walking the guest's page tables)" : "",
              /* VT-x: hv wrote an EPT entry the CPU finds invalid, a bug
               * in hv rather than in the guest. */
              e->mem.misconfig ? " (EPT misconfiguration)" : "");
}

/*
 * Step 1, RAM's business (guestmem.h): a page mapped on first touch or a
 * first write logged dirty.  The tables changed, so the page's cached
 * translation goes (backend->flush_slat) and the guest retries the access
 * (RIP stays).  Returns false when the violation is not about that.
 */
static bool ram_violation(struct vcpu *v, const struct exit_info *e, char *text, size_t text_len)
{
    uint64_t page = 0;
    enum guestmem_verdict verdict = guestmem_violation(
        &v->dom->guestmem, e->mem.gpa, e->mem.access == MEM_ACCESS_WRITE, e->mem.present, &page);
    if (verdict == GM_NOT_RAM)
        return false;
    vcpu_backend(v)->flush_slat(v, page, SLAT_4K);
    if (tracing(v))
        ksnprintf(text, text_len, "gpa %#llx %s: %s page %#llx", (unsigned long long)e->mem.gpa,
                  mem_access_name(e->mem.access),
                  verdict == GM_LAZY_MAPPED ? "first touch, mapped" : "first write, logged dirty",
                  (unsigned long long)page);
    return true;
}

/*
 * The access kind, made right for fetches.  SVM reports an instruction
 * fetch in bit 4 (I/D) of the nested fault's error code only when
 * no-execute is on (APM vol 2 8.4.2 "Page-Fault Error Code": the bit is
 * defined only with EFER.NXE = 1), and hv's nested tables run without it,
 * so a fetch can arrive as a read.  A read at the address RIP translates
 * to is the fetch of the instruction; so is one at the start of the next
 * page within an instruction's 15 bytes, where an instruction that
 * straddles two pages continues (a data read exactly there would be taken
 * for a fetch too: rare enough, and with NXE the CPU says which it was).
 */
static enum mem_access access_of(struct vcpu *v, const struct exit_info *e)
{
    if (e->mem.access != MEM_ACCESS_READ || e->mem.during_walk)
        return e->mem.access;
    struct gva_ctx c = gva_ctx_of(v);
    struct gva_walk w;
    if (gva_translate(&c, e->rip, &w) != GVA_OK)
        return MEM_ACCESS_READ;
    uint64_t next_page = (e->rip | 0xfff) + 1;
    if (w.gpa == e->mem.gpa)
        return MEM_ACCESS_FETCH;
    /* The straddling case: the next page's first byte is within 15 bytes
     * of RIP, and the fault is at that page's translation. */
    if (next_page - e->rip < 15 && gva_translate(&c, next_page, &w) == GVA_OK &&
        w.gpa == e->mem.gpa)
        return MEM_ACCESS_FETCH;
    return MEM_ACCESS_READ;
}

/*
 * Handle EXIT_MEM_VIOLATION for `v`.  Returns 0 when the guest goes on, with
 * a few words for the trace in `text` (only when tracing); -1 when it must end, with the reason
 * in `why` (dispatch.c ends it as crashed).
 */
int handle_mem_violation(struct vcpu *v, const struct exit_info *exit, char *text, size_t text_len,
                         char *why, size_t why_len)
{
    struct domain *d = v->dom;
    /* The exit with the access kind made right (access_of). */
    struct exit_info fixed = *exit;
    fixed.mem.access = access_of(v, exit);
    const struct exit_info *e = &fixed;
    /* RAM faulted in or logged dirty: the guest retries. */
    if (ram_violation(v, e, text, text_len))
        return 0;
    /* The exit came in the middle of delivering an interrupt or exception
     * (the backend queued it again: EXITINTINFO, IDT-vectoring
     * information): the access was the delivery's own, a push onto the
     * guest's stack or a read of its IDT, GDT or TSS, not the instruction
     * at RIP's.  Emulating that instruction would run it a second time;
     * nothing but RAM can take the delivery, so the guest ends. */
    if (v->event_pending) {
        char what[96], detail[192];
        const struct mmio_device *on = mmio_find(&d->mmio, e->mem.gpa);
        if (on)
            ksnprintf(what, sizeof(what), "the %s's MMIO", on->name);
        else
            describe_range(d, e->mem.gpa, what, sizeof(what));
        ksnprintf(detail, sizeof(detail),
                  "%s, while delivering an interrupt or exception (the guest's stack, IDT, GDT "
                  "or TSS is there)",
                  what);
        crash_reason(v, e, detail, why, why_len);
        return -1;
    }
    /* A device's range: emulate the load or store against it.  Not when
     * the CPU was walking the guest's own page tables there: the guest put
     * a table on a device (a CPU would read register values as entries),
     * and the instruction's own access has not even been made yet. */
    const struct mmio_device *dev = mmio_find(&d->mmio, e->mem.gpa);
    if (dev && e->mem.during_walk) {
        char detail[96];
        ksnprintf(detail, sizeof(detail), "the guest's page tables point into the %s's MMIO",
                  dev->name);
        crash_reason(v, e, detail, why, why_len);
        return -1;
    }
    if (e->mem.access != MEM_ACCESS_FETCH && dev) {
        char refused[128];
        if (emulate_mmio(v, e, dev->name, text, text_len, refused, sizeof(refused)) == 0)
            return 0;
        /* The device is there, but hv cannot do what the guest asked:
         * name the instruction, and the device. */
        char detail[192];
        ksnprintf(detail, sizeof(detail), "%s, in the %s's range", refused, dev->name);
        crash_reason(v, e, detail, why, why_len);
        return -1;
    }
    crash_reason(v, e, NULL, why, why_len);
    return -1;
}
