/*
 * explain.c - the VM-entry checks of SDM Vol. 3C 27.2 "Checks on VMX Controls and Host-State Area"
 * and 27.3.1 "Checks on the Guest State Area", re-run in software over a copy of the VMCS to say
 * which one failed (see explain.h).
 *
 * The CPU reports a failed VM entry only as "invalid control field(s)"
 * (VM-instruction error 7), "invalid host-state field(s)" (error 8) or
 * "invalid guest state" (exit reason 33 | bit 31).  A student staring at
 * that needs the rule that was broken: each check below is one rule from the
 * SDM, in the SDM's order, and reports itself in one sentence.
 *
 * Compiled twice: into hv (hv/vmx/exit.c calls it after a failed entry) and
 * hosted into tests/unit/test_hv_vmx_explain.c.  No VMREAD, no MSR: pure.
 *
 * hv/svm/explain.c does the same for VMRUN's consistency checks (APM vol 2
 * 15.5.1 "Basic Operation"), and is much shorter: AMD lists a short set of illegal state
 * combinations, all in the guest's state.  Intel's list is long because the VMCS describes more
 * (host state, five control words, event injection) and because a VM entry
 * loads segment registers from their hidden parts without the checks a
 * segment load would make, so the SDM spells those checks out instead.
 * The sections are checked in the CPU's order: controls and host state
 * first (their failures are VMfailValid with error 7 or 8, and the guest
 * has not been touched), then the guest state (its failure looks like a VM
 * exit with reason 33 and bit 31 set).
 *
 * Not every rule is here: only those a hypervisor like hv can plausibly
 * break, plus the ones a student is likely to break while experimenting.
 * When the CPU refuses a state that passes every check below, exit.c says
 * so rather than guessing.
 */
#include "explain.h"

#include <stdarg.h>

#include "klib.h"

/* What every check carries along: where to report and how many failed.
 * Every check runs even after one failed, so a single failed entry lists
 * every broken rule at once, as a compiler lists every error. */
struct checker {
    const struct vmx_state *s;
    const struct vmx_caps *caps;
    vmx_report_fn report;
    void *ctx;
    unsigned failed;
};

/* Report one failed check: format the sentence and count it.  The format
 * attribute lets the compiler check every message's arguments. */
static void __attribute__((format(printf, 3, 4)))
fail(struct checker *c, const char *section, const char *fmt, ...)
{
    /* One sentence fits: the longest messages are about 200 characters. */
    char text[256];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    c->failed++;
    /* A NULL callback only counts (the unit tests use that for "passes"). */
    if (c->report)
        c->report(c->ctx, section, text);
}

/* Names for the messages, in the VMCS order of enum seg (explain.h). */
static const char *const seg_names[SEG_COUNT] = {"ES", "CS", "SS", "DS", "FS", "GS", "LDTR", "TR"};

/* The architectural bit names (SDM Vol. 3A 2.5 "Control Registers"), so that a message can say
 * "bit 5 (NE)" instead of leaving the reader to count bits.  Bits without a
 * name are reserved and print as "?". */

static const char *const cr0_bit_names[32] = {
    [0] = "PE",  [1] = "MP",  [2] = "EM",  [3] = "TS",  [4] = "ET", [5] = "NE",
    [16] = "WP", [18] = "AM", [29] = "NW", [30] = "CD", [31] = "PG"};

static const char *const cr4_bit_names[32] = {
    [0] = "VME",         [1] = "PVI",    [2] = "TSD",      [3] = "DE",    [4] = "PSE",
    [5] = "PAE",         [6] = "MCE",    [7] = "PGE",      [8] = "PCE",   [9] = "OSFXSR",
    [10] = "OSXMMEXCPT", [11] = "UMIP",  [12] = "LA57",    [13] = "VMXE", [14] = "SMXE",
    [16] = "FSGSBASE",   [17] = "PCIDE", [18] = "OSXSAVE", [20] = "SMEP", [21] = "SMAP",
    [22] = "PKE",        [23] = "CET"};

/* Lowest set bit of a non-zero value (callers only pass a failed mask). */
static unsigned lowest_bit(uint64_t v)
{
    unsigned n = 0;
    while (!(v & 1)) {
        v >>= 1;
        n++;
    }
    return n;
}

/* Is the "IA-32e mode guest" VM-entry control set?  Many checks hinge on it:
 * it is how VT-x learns, before loading anything, which mode the guest will
 * be in (SVM works it out from the loaded EFER, CR0 and CS). */
static bool ia32e_guest(const struct vmx_state *s)
{
    return (s->entry_ctls & ENTRY_IA32E_MODE_GUEST) != 0;
}

/* Are the secondary controls active, and is one of them set?  With
 * "activate secondary controls" clear, the CPU treats the whole secondary
 * word as 0 whatever the field holds (25.6.2 "Processor-Based VM-Execution Controls"), and so must
 * the checks. */
static bool proc2_set(const struct vmx_state *s, uint32_t bit)
{
    return (s->proc & PROC_SECONDARY_CONTROLS) && (s->proc2 & bit);
}

/* Is a physical address within MAXPHYADDR? */
static bool phys_ok(const struct checker *c, uint64_t addr)
{
    /* A test may leave phys_bits 0; 36 is the architectural minimum. */
    unsigned bits = c->caps->phys_bits ? c->caps->phys_bits : 36;
    /* The shift is undefined for 64, hence the first test. */
    return bits >= 64 || (addr >> bits) == 0;
}

/* Canonical for this CPU's linear-address width. */
static bool canonical(const struct checker *c, uint64_t addr)
{
    /* 48 bits (4-level paging) unless the CPU reports 57 (LA57). */
    return vmx_canonical(addr, c->caps->lin_bits ? c->caps->lin_bits : 48);
}

/* ---- 27.2.1: VM-execution, VM-exit and VM-entry control fields ---------- */

/* One control word against its capability MSR (27.2.1.1 first bullets, 27.2.1.2, 27.2.1.3).
 * This is the check SVM has no counterpart for: SVM's intercept bits may
 * all be set or clear on any CPU with SVM, while each VMX control word is
 * constrained bit by bit by its MSR (ctls.h explains the two halves).  The
 * message names the MSR, so the reader can look its value up in the log of
 * vmx_enable() or in Bochs's configuration. */
static void check_ctl_word(struct checker *c, const char *section, const char *what,
                           const char *msr, uint64_t cap, uint32_t value)
{
    /* Required bits that are clear. */
    uint32_t need = vmx_ctl_must1(cap) & ~value;
    /* Bits set that this CPU does not allow. */
    uint32_t extra = value & ~vmx_ctl_may1(cap);
    /* Two messages, not one: a word can break both rules at once. */
    if (need)
        fail(c, section,
             "%s 0x%08x lacks bits 0x%08x (first: bit %u) that %s requires to be 1 (allowed "
             "0-settings)",
             what, value, need, lowest_bit(need), msr);
    if (extra)
        fail(c, section,
             "%s 0x%08x sets bits 0x%08x (first: bit %u) that %s does not allow (allowed "
             "1-settings)",
             what, value, extra, lowest_bit(extra), msr);
}

/* A bitmap or table address: 4-KiB aligned and within MAXPHYADDR. */
static void check_page_addr(struct checker *c, const char *section, const char *what, uint64_t a)
{
    /* The CPU reads these pages by physical address, in 4-KiB units, so the
     * low 12 bits would be meaningless and an address above the physical
     * width could not exist. */
    if ((a & 0xfff) || !phys_ok(c, a))
        fail(c, section,
             "the %s address 0x%llx must be 4-KiB aligned and below 2^MAXPHYADDR (2^%u)", what,
             (unsigned long long)a, c->caps->phys_bits);
}

/* The EPT pointer (27.2.1.1 "VM-Execution Control Fields", 25.6.11). */
static void check_eptp(struct checker *c)
{
    uint64_t eptp = c->s->eptp, cap = c->caps->ept_vpid;
    /* Bits 2:0 the memory type of the EPT tables themselves, bits 5:3 the
     * walk length minus one; the PML4 address starts at bit 12.  NPT's
     * N_CR3 has no such fields: it is a plain CR3 value. */
    unsigned type = eptp & 7, walk = (eptp >> 3) & 7;
    /* Memory type: UC (0) if EPT_VPID_CAP bit 8, WB (6) if bit 14.  The
     * message lists what this CPU allows, so the fix is in the text. */
    if (!((type == 0 && (cap & (1ull << 8))) || (type == 6 && (cap & EPT_CAP_WB))))
        fail(c, "27.2.1.1",
             "EPT pointer 0x%llx has memory type %u in bits 2:0; this CPU allows %s%s%s",
             (unsigned long long)eptp, type, (cap & (1ull << 8)) ? "0 (UC)" : "",
             ((cap & (1ull << 8)) && (cap & EPT_CAP_WB)) ? " or " : "",
             (cap & EPT_CAP_WB) ? "6 (WB)" : "");
    /* Page-walk length minus one: 3 for 4-level EPT, 4 for 5-level EPT where
     * EPT_VPID_CAP bit 7 allows it. */
    if (!(walk == 3 && (cap & EPT_CAP_WALK4)) && !(walk == 4 && (cap & (1ull << 7))))
        fail(c, "27.2.1.1",
             "EPT pointer 0x%llx gives a page-walk length of %u (bits 5:3 hold the length minus "
             "one: 3 for 4-level EPT)",
             (unsigned long long)eptp, walk + 1);
    /* Bit 6 (accessed/dirty flags) only where supported (EPT_VPID_CAP bit
     * 21); bits 11:7 reserved; the PML4 address within MAXPHYADDR. */
    if (((eptp & (1ull << 6)) && !(cap & (1ull << 21))) || (eptp & 0xf80) || !phys_ok(c, eptp))
        fail(c, "27.2.1.1",
             "EPT pointer 0x%llx sets reserved bits (11:7, bit 6 without A/D support, or above "
             "MAXPHYADDR)",
             (unsigned long long)eptp);
}

/* VM-entry event injection (27.2.1.3 "VM-Entry Control Fields", 25.8.3). */
static void check_entry_injection(struct checker *c)
{
    const struct vmx_state *s = c->s;
    uint32_t info = s->entry_intr_info;
    /* Bits 7:0 vector, 10:8 type, 11 deliver-error-code, 31 valid: the same
     * layout as SVM's EVENTINJ low word, which makes a side-by-side read
     * easy; only the error code lives in a separate field here. */
    unsigned vector = info & INTR_INFO_VECTOR_MASK, type = (info >> INTR_INFO_TYPE_SHIFT) & 7;
    /* Nothing to inject, nothing to check. */
    if (!(info & INTR_INFO_VALID))
        return;
    /* Types (25.8.3 "VM-Entry Controls for Event Injection"): 0 external interrupt, 2 NMI, 3
     * hardware exception, 4 software interrupt, 5 privileged software exception, 6 software
     * exception, 7 other event.  Type 1 is reserved; type 7 needs the
     * monitor trap flag. */
    if (type == 1 || (type == 7 && !(s->proc & PROC_MONITOR_TRAP_FLAG)))
        fail(c, "27.2.1.3", "VM-entry interruption information 0x%08x has reserved type %u", info,
             type);
    /* NMI injection must use vector 2; hardware exceptions are vectors 0-31. */
    if (type == INTR_TYPE_NMI && vector != 2)
        fail(c, "27.2.1.3", "an injected NMI (type 2) must have vector 2, not %u", vector);
    if (type == INTR_TYPE_HW_EXCEPTION && vector > 31)
        fail(c, "27.2.1.3",
             "an injected hardware exception (type 3) must have a vector 0-31, not "
             "%u",
             vector);
    /* Deliver-error-code: exactly for #DF, #TS, #NP, #SS, #GP, #PF, #AC in protected mode.
     * The CPU would push an error code for these vectors and only these, so
     * VM entry insists that the injector agrees (SVM's EVENTINJ has the
     * same bit, EV). */
    /* Real mode pushes no error codes, and only an unrestricted guest can
     * be in real mode, so "protected mode" is PE = 1 or not unrestricted. */
    bool pe = (s->cr0 & CR0_PE_BIT) || !proc2_set(s, PROC2_UNRESTRICTED_GUEST);
    bool errvec = vector == 8 || (vector >= 10 && vector <= 14) || vector == 17;
    bool want_err = type == INTR_TYPE_HW_EXCEPTION && errvec && pe;
    if (!!(info & INTR_INFO_DELIVER_ERROR) != want_err)
        fail(c, "27.2.1.3",
             "injected vector %u type %u %s an error code, but the deliver-error-code bit (11) is "
             "%s",
             vector, type, want_err ? "needs" : "takes no",
             (info & INTR_INFO_DELIVER_ERROR) ? "1" : "0");
    /* Bits 30:12 are reserved. */
    if (info & 0x7ffff000u)
        fail(c, "27.2.1.3", "VM-entry interruption information 0x%08x sets reserved bits 30:12",
             info);
    /* Software interrupts and exceptions need an instruction length: their
     * delivery pushes the address of the next instruction, which the CPU
     * computes as RIP plus this length. */
    if ((type == INTR_TYPE_SW_INTR || type == INTR_TYPE_PRIV_SW_EXCEPTION ||
         type == INTR_TYPE_SW_EXCEPTION) &&
        (s->entry_insn_len > 15 || (s->entry_insn_len == 0 && !(c->caps->misc & (1ull << 30)))))
        fail(c, "27.2.1.3",
             "injected software event type %u has VM-entry instruction length %u (must be 1-15%s)",
             type, s->entry_insn_len, (c->caps->misc & (1ull << 30)) ? ", or 0 on this CPU" : "");
}

/* The checks behind VM-instruction error 7 (explain.h). */
unsigned vmx_check_controls(const struct vmx_state *s, const struct vmx_caps *caps,
                            vmx_report_fn report, void *ctx)
{
    struct checker c = {s, caps, report, ctx, 0};
    /* Each word is checked against the TRUE_* MSR when BASIC bit 55 says
     * those exist, since that is what the CPU itself checks against; the
     * message names whichever MSR applied. */
    /* 27.2.1.1: each control word within its allowed settings.  This is the
     * rule a hypervisor ported from one CPU to another breaks first. */
    check_ctl_word(&c, "27.2.1.1", "the pin-based VM-execution controls",
                   (caps->basic & VMX_BASIC_TRUE_CTLS) ? "IA32_VMX_TRUE_PINBASED_CTLS"
                                                       : "IA32_VMX_PINBASED_CTLS",
                   caps->pin, s->pin);
    check_ctl_word(&c, "27.2.1.1", "the primary processor-based VM-execution controls",
                   (caps->basic & VMX_BASIC_TRUE_CTLS) ? "IA32_VMX_TRUE_PROCBASED_CTLS"
                                                       : "IA32_VMX_PROCBASED_CTLS",
                   caps->proc, s->proc);
    /* The secondary controls count only when "activate secondary controls" is 1. */
    if (s->proc & PROC_SECONDARY_CONTROLS)
        check_ctl_word(&c, "27.2.1.1", "the secondary processor-based VM-execution controls",
                       "IA32_VMX_PROCBASED_CTLS2", caps->proc2, s->proc2);
    /* The CR3-target count may not exceed what IA32_VMX_MISC bits 24:16 allow
     * (typically 4 values, which is why the field exists at all: a VMM can
     * let a guest switch between a few known CR3s without exits). */
    if (s->cr3_target_count > ((caps->misc >> 16) & 0x1ff))
        fail(&c, "27.2.1.1", "the CR3-target count %u exceeds the %u this CPU supports",
             s->cr3_target_count, (unsigned)((caps->misc >> 16) & 0x1ff));
    /* Bitmap addresses, checked only when the bitmaps are in use: an
     * unused field may hold anything. */
    if (s->proc & PROC_USE_IO_BITMAPS) {
        check_page_addr(&c, "27.2.1.1", "I/O bitmap A", s->io_bitmap_a);
        check_page_addr(&c, "27.2.1.1", "I/O bitmap B", s->io_bitmap_b);
    }
    if (s->proc & PROC_USE_MSR_BITMAPS)
        check_page_addr(&c, "27.2.1.1", "MSR bitmap", s->msr_bitmap);
    /* Virtual NMIs need NMI exiting: virtual NMI blocking only makes sense
     * when real NMIs go to the hypervisor. */
    if ((s->pin & PIN_VIRTUAL_NMIS) && !(s->pin & PIN_NMI_EXITING))
        fail(&c, "27.2.1.1", "\"virtual NMIs\" is 1 but \"NMI exiting\" is 0");
    /* VPID 0 is the host's own tag: a guest may not use it, or its TLB
     * entries would be mistaken for the host's.  (SVM's ASID 0 has the same
     * rule, which svm/explain.c checks.) */
    if (proc2_set(s, PROC2_ENABLE_VPID) && s->vpid == 0)
        fail(&c, "27.2.1.1", "\"enable VPID\" is 1 but the VPID is 0 (reserved for the host)");
    if (proc2_set(s, PROC2_ENABLE_EPT))
        check_eptp(&c);
    /* A guest with paging or protection off must be translated by EPT:
     * without guest paging, EPT is the only translation left to protect hv.
     * This is the rule HV_VMX_BREAK=2 breaks on purpose (vcpu.c). */
    if (proc2_set(s, PROC2_UNRESTRICTED_GUEST) && !proc2_set(s, PROC2_ENABLE_EPT))
        fail(&c, "27.2.1.1", "\"unrestricted guest\" is 1 but \"enable EPT\" is 0");

    /* 27.2.1.2: VM-exit controls, against the exit-controls MSR. */
    check_ctl_word(&c, "27.2.1.2", "the VM-exit controls",
                   (caps->basic & VMX_BASIC_TRUE_CTLS) ? "IA32_VMX_TRUE_EXIT_CTLS"
                                                       : "IA32_VMX_EXIT_CTLS",
                   caps->exit, s->exit_ctls);
    /* "Save preemption timer" needs the timer itself, or there would be no
     * value to save. */
    if ((s->exit_ctls & EXIT_SAVE_PREEMPTION_TIMER) && !(s->pin & PIN_PREEMPTION_TIMER))
        fail(&c, "27.2.1.2",
             "\"save VMX-preemption timer value\" is 1 but \"activate VMX-preemption timer\" is 0");

    /* 27.2.1.3: VM-entry controls and event injection.  A word that is
     * wrong only in "IA-32e mode guest" is not caught here: that bit is
     * allowed either way, and its agreement with EFER.LMA is a guest-state
     * check (27.3.1.1 "Checks on Guest Control Registers, Debug Registers, and MSRs"). */
    check_ctl_word(&c, "27.2.1.3", "the VM-entry controls",
                   (caps->basic & VMX_BASIC_TRUE_CTLS) ? "IA32_VMX_TRUE_ENTRY_CTLS"
                                                       : "IA32_VMX_ENTRY_CTLS",
                   caps->entry, s->entry_ctls);
    check_entry_injection(&c);
    return c.failed;
}

/* ---- 27.2.2 - 27.2.4: host-state area ------------------------------------ */

/* The checks behind VM-instruction error 8 (explain.h).  The host state is
 * what hv itself runs with after each exit, so these failures are hv's
 * bugs, never the guest's; SVM has no such checks, because VMRUN saves the
 * host state as it is instead of loading it from a description. */
unsigned vmx_check_host(const struct vmx_state *s, const struct vmx_caps *caps,
                        vmx_report_fn report, void *ctx)
{
    struct checker c = {s, caps, report, ctx, 0};
    /* Reused for each fixed-bits test: the bits that break the rule. */
    uint64_t bad;
    /* 27.2.2: host CR0 and CR4 obey the fixed bits (no exemptions here: the
     * host is never "unrestricted").  hv's own CR0/CR4 were made to obey
     * them in vmx_enable() before VMXON, which checks the same. */
    bad = vmx_fixed_bad_bits(s->host_cr0, caps->cr0_fixed0, caps->cr0_fixed1, 0);
    if (bad)
        fail(&c, "27.2.2", "host CR0 0x%llx breaks IA32_VMX_CR0_FIXED0/1 at bit %u (%s)",
             (unsigned long long)s->host_cr0, lowest_bit(bad),
             lowest_bit(bad) < 32 && cr0_bit_names[lowest_bit(bad)] ? cr0_bit_names[lowest_bit(bad)]
                                                                    : "?");
    bad = vmx_fixed_bad_bits(s->host_cr4, caps->cr4_fixed0, caps->cr4_fixed1, 0);
    if (bad)
        fail(&c, "27.2.2", "host CR4 0x%llx breaks IA32_VMX_CR4_FIXED0/1 at bit %u (%s)",
             (unsigned long long)s->host_cr4, lowest_bit(bad),
             lowest_bit(bad) < 32 && cr4_bit_names[lowest_bit(bad)] ? cr4_bit_names[lowest_bit(bad)]
                                                                    : "?");
    /* CR3 holds the physical address of hv's PML4. */
    if (!phys_ok(&c, s->host_cr3))
        fail(&c, "27.2.2", "host CR3 0x%llx sets bits above MAXPHYADDR",
             (unsigned long long)s->host_cr3);
    /* Loaded on every exit (28.5.1 "Loading Host Control Registers, Debug Registers, MSRs"), so
     * they must be loadable. */
    if (!canonical(&c, s->host_sysenter_esp) || !canonical(&c, s->host_sysenter_eip))
        fail(&c, "27.2.2", "host IA32_SYSENTER_ESP/EIP must be canonical");
    /* A 64-bit host must come back in 64-bit mode: "host address-space size".
     * The SDM puts this among the address-space-size checks (27.2.4 "Checks Related to
     * Address-Space Size"). */
    if (!(s->exit_ctls & EXIT_HOST_ADDR_SPACE_SIZE))
        fail(&c, "27.2.4",
             "hv runs in 64-bit mode, so the VM-exit control \"host address-space "
             "size\" (bit 9) must be 1");
    else if (!(s->host_cr4 & CR4_PAE_BIT) || !canonical(&c, s->host_rip))
        fail(&c, "27.2.4",
             "with a 64-bit host, host CR4.PAE must be 1 and host RIP 0x%llx "
             "canonical",
             (unsigned long long)s->host_rip);
    /* 27.2.3: selectors with RPL 0 and TI 0; CS and TR not null.  The exit
     * loads the selectors without reading the GDT, so they must be the
     * kind of selector the host could have loaded itself in ring 0. */
    for (int i = 0; i < SEG_COUNT; i++) {
        /* The host area has no LDTR (a VM exit leaves LDTR null). */
        if (i == SEG_LDTR)
            continue;
        if (s->host_sel[i] & 7)
            fail(&c, "27.2.3", "host %s selector 0x%04x must have RPL 0 and TI 0 (bits 2:0 clear)",
                 seg_names[i], s->host_sel[i]);
    }
    if (s->host_sel[SEG_CS] == 0)
        fail(&c, "27.2.3", "the host CS selector must not be 0");
    /* The reason caps.c gives hv a TSS; HV_VMX_BREAK=3 breaks it. */
    if (s->host_sel[SEG_TR] == 0)
        fail(&c, "27.2.3", "the host TR selector must not be 0");
    /* Bases that hold linear addresses must be canonical: the CPU would
     * fault on the first use of a non-canonical one, in the middle of hv. */
    if (!canonical(&c, s->host_fs_base) || !canonical(&c, s->host_gs_base) ||
        !canonical(&c, s->host_tr_base) || !canonical(&c, s->host_gdtr_base) ||
        !canonical(&c, s->host_idtr_base))
        fail(&c, "27.2.3", "host FS, GS, TR, GDTR and IDTR bases must be canonical");
    /* Loaded PAT and EFER must be valid values.  For EFER with a 64-bit host
     * that means long mode on, LME and LMA both 1 (27.2.2 "Checks on Host Control Registers, MSRs,
     * and SSP").  hv's own PAT is the one the CPU holds, which WRMSR already validated: not
     * checked. */
    if (s->exit_ctls & EXIT_LOAD_EFER) {
        bool lma = (s->host_efer & EFER_LMA_BIT) != 0, lme = (s->host_efer & EFER_LME_BIT) != 0;
        if (!lma || !lme)
            fail(&c, "27.2.2", "host IA32_EFER 0x%llx: LMA and LME must be 1 for a 64-bit host",
                 (unsigned long long)s->host_efer);
    }
    return c.failed;
}

/* ---- 27.3.1: guest-state area -------------------------------------------- */

/* A PAT value: eight memory types, each 0, 1, 4, 5, 6 or 7.  Types 2 and 3
 * are reserved, as is anything above 7 (SDM Vol. 3A 12.12.2 "IA32_PAT MSR"); a WRMSR of
 * such a value raises #GP, and a VM entry refuses to load one. */
static bool pat_ok(uint64_t pat)
{
    /* One byte per PAT entry, PA0 in the lowest byte. */
    for (int i = 0; i < 8; i++) {
        unsigned t = (pat >> (8 * i)) & 0xff;
        if (t == 2 || t == 3 || t > 7)
            return false;
    }
    return true;
}

/* 27.3.1.1: control registers, debug registers and MSRs. */
static void check_guest_regs(struct checker *c)
{
    const struct vmx_state *s = c->s;
    const struct vmx_caps *caps = c->caps;
    /* An unrestricted guest may run with CR0.PE or CR0.PG clear (25.6.2 "Processor-Based
     * VM-Execution Controls"). */
    uint64_t free = proc2_set(s, PROC2_UNRESTRICTED_GUEST) ? (CR0_PE_BIT | CR0_PG_BIT) : 0;
    /* CR0 must obey IA32_VMX_CR0_FIXED0/1 (24.8 "Restrictions on VMX Operation"), minus those free
     * bits. Only the first bad bit is named: fixing it usually reveals the rest. */
    uint64_t bad = vmx_fixed_bad_bits(s->cr0, caps->cr0_fixed0, caps->cr0_fixed1, free);
    if (bad) {
        unsigned b = lowest_bit(bad);
        fail(c, "27.3.1.1",
             "guest CR0 0x%llx has bit %u (%s) %s, but IA32_VMX_CR0_FIXED%u "
             "requires it %s%s",
             (unsigned long long)s->cr0, b, b < 32 && cr0_bit_names[b] ? cr0_bit_names[b] : "?",
             (s->cr0 >> b) & 1 ? "set" : "clear", (s->cr0 >> b) & 1 ? 1 : 0,
             (s->cr0 >> b) & 1 ? "clear" : "set",
             (b == 0 || b == 31) ? " (it is free only with \"unrestricted guest\")" : "");
    }
    /* Even an unrestricted guest cannot page without protection: the same
     * combination makes MOV to CR0 raise #GP outside VMX. */
    if ((s->cr0 & CR0_PG_BIT) && !(s->cr0 & CR0_PE_BIT))
        fail(c, "27.3.1.1", "guest CR0 0x%llx has PG set but PE clear: paging needs protected mode",
             (unsigned long long)s->cr0);
    /* CR4 must obey IA32_VMX_CR4_FIXED0/1 with no exemption (VMXE stays 1).
     * That is why hv hides VMXE with the CR4 read shadow (vcpu.c). */
    bad = vmx_fixed_bad_bits(s->cr4, caps->cr4_fixed0, caps->cr4_fixed1, 0);
    if (bad) {
        unsigned b = lowest_bit(bad);
        fail(c, "27.3.1.1",
             "guest CR4 0x%llx has bit %u (%s) %s, but IA32_VMX_CR4_FIXED%u "
             "requires it %s",
             (unsigned long long)s->cr4, b, b < 32 && cr4_bit_names[b] ? cr4_bit_names[b] : "?",
             (s->cr4 >> b) & 1 ? "set" : "clear", (s->cr4 >> b) & 1 ? 1 : 0,
             (s->cr4 >> b) & 1 ? "clear" : "set");
    }
    /* A 64-bit guest needs paging with PAE, since long mode is defined only
     * with 4- or 5-level paging; a 32-bit one may not use PCIDs. */
    if (ia32e_guest(s) && (!(s->cr0 & CR0_PG_BIT) || !(s->cr4 & CR4_PAE_BIT)))
        fail(c, "27.3.1.1",
             "the VM-entry control \"IA-32e mode guest\" is 1, so guest CR0.PG and "
             "CR4.PAE must be 1 (CR0 0x%llx, CR4 0x%llx)",
             (unsigned long long)s->cr0, (unsigned long long)s->cr4);
    /* CR4 bit 17 is PCIDE, usable only in IA-32e mode. */
    if (!ia32e_guest(s) && (s->cr4 & (1ull << 17)))
        fail(c, "27.3.1.1", "guest CR4.PCIDE is 1 but \"IA-32e mode guest\" is 0");
    /* CR3 is a physical address: nothing above MAXPHYADDR. */
    if (!phys_ok(c, s->cr3))
        fail(c, "27.3.1.1", "guest CR3 0x%llx sets bits above MAXPHYADDR",
             (unsigned long long)s->cr3);
    /* Loaded DR7 must fit in 32 bits: its upper half is reserved. */
    if ((s->entry_ctls & ENTRY_LOAD_DEBUG_CONTROLS) && (s->dr7 >> 32))
        fail(c, "27.3.1.1", "guest DR7 0x%llx sets bits 63:32", (unsigned long long)s->dr7);
    /* The SYSENTER targets are linear addresses, loaded on every entry (no
     * control turns that off, unlike EFER and PAT). */
    if (!canonical(c, s->sysenter_esp) || !canonical(c, s->sysenter_eip))
        fail(c, "27.3.1.1", "guest IA32_SYSENTER_ESP/EIP must be canonical");
    /* A loaded PAT holds eight valid memory types (SDM Vol. 3A 12.12.2 "IA32_PAT MSR"). */
    if ((s->entry_ctls & ENTRY_LOAD_PAT) && !pat_ok(s->pat))
        fail(c, "27.3.1.1", "guest IA32_PAT 0x%016llx holds a memory type other than 0, 1, 4-7",
             (unsigned long long)s->pat);
    /* EFER is checked only if VM entry loads it; otherwise the guest keeps
     * the host's EFER, which is hv's problem, not the guest's. */
    if (s->entry_ctls & ENTRY_LOAD_EFER) {
        /* Intel defines only SCE, LME, LMA and NXE. */
        uint64_t reserved = ~(EFER_SCE_BIT | EFER_LME_BIT | EFER_LMA_BIT | EFER_NXE_BIT);
        bool lma = (s->efer & EFER_LMA_BIT) != 0, lme = (s->efer & EFER_LME_BIT) != 0;
        /* Reserved EFER bits (SVME included: that is AMD's).  The core keeps
         * the guest's EFER free of them (core/msr.c), so this fires only on
         * a bug. */
        if (s->efer & reserved)
            fail(c, "27.3.1.1", "guest IA32_EFER 0x%llx sets reserved bits 0x%llx",
                 (unsigned long long)s->efer, (unsigned long long)(s->efer & reserved));
        /* The control and the register must tell the same story: the rule
         * state.c's store_efer() exists for. */
        if (lma != ia32e_guest(s))
            fail(c, "27.3.1.1",
                 "guest IA32_EFER.LMA is %d but the VM-entry control \"IA-32e mode guest\" is %d: "
                 "they must be equal",
                 lma, ia32e_guest(s));
        /* With paging on, long mode is active exactly when enabled. */
        if ((s->cr0 & CR0_PG_BIT) && lma != lme)
            fail(c, "27.3.1.1", "guest CR0.PG is 1, so IA32_EFER.LMA (%d) must equal LME (%d)", lma,
                 lme);
    }
}

/* The granularity rule for one segment limit (27.3.1.2 "Checks on Guest Segment Registers", last
 * access-rights bullet). */
static void check_granularity(struct checker *c, int i)
{
    /* The VMCS holds the limit in bytes, already scaled; G says whether the
     * descriptor it came from counted in 4-KiB units.  The two must agree:
     * with G = 1 the low 12 bits are all ones, with G = 0 the limit fits
     * in 20 bits. */
    const struct vmx_seg *g = &c->s->seg[i];
    /* A limit not ending in 0xfff cannot be in 4-KiB units. */
    if ((g->limit & 0xfff) != 0xfff && (g->ar & AR_G))
        fail(c, "27.3.1.2",
             "guest %s limit 0x%x has a bit of 11:0 clear, so its G bit must be 0 (access rights "
             "0x%x)",
             seg_names[i], g->limit, g->ar);
    /* A limit above 1 MiB must be in 4-KiB units. */
    if ((g->limit >> 20) && !(g->ar & AR_G))
        fail(c, "27.3.1.2",
             "guest %s limit 0x%x has a bit of 31:20 set, so its G bit must be 1 (access rights "
             "0x%x)",
             seg_names[i], g->limit, g->ar);
}

/* Virtual-8086 guests: every segment is a real-mode one (27.3.1.2 "Checks on Guest Segment
 * Registers"). */
static void check_v86_segments(struct checker *c)
{
    /* Virtual-8086 mode computes every address as selector * 16 + offset
     * within 64 KiB, ring 3; the hidden parts must say exactly that, since
     * VM entry loads them as given (0xf3: present, DPL 3, accessed
     * read/write data). */
    for (int i = SEG_ES; i <= SEG_GS; i++) {
        const struct vmx_seg *g = &c->s->seg[i];
        if (g->base != (uint64_t)g->sel << 4 || g->limit != 0xffff || g->ar != 0xf3)
            fail(c, "27.3.1.2",
                 "in virtual-8086 mode guest %s must have base = selector << 4, limit 0xffff and "
                 "access rights 0xf3 (it has selector 0x%x base 0x%llx limit 0x%x ar 0x%x)",
                 seg_names[i], g->sel, (unsigned long long)g->base, g->limit, g->ar);
    }
}

/* 27.3.1.2: segment registers. */
static void check_guest_segments(struct checker *c)
{
    /* The longest section of the SDM's checks, because a VM entry loads all
     * eight registers' hidden parts straight from the VMCS: the checks a
     * MOV to a segment register or a far jump would make must be made here
     * instead, or the guest could run with a descriptor no CPU could load. */
    const struct vmx_state *s = c->s;
    const struct vmx_seg *cs = &s->seg[SEG_CS], *ss = &s->seg[SEG_SS];
    const struct vmx_seg *tr = &s->seg[SEG_TR], *ldtr = &s->seg[SEG_LDTR];
    bool unrestricted = proc2_set(s, PROC2_UNRESTRICTED_GUEST);
    /* RFLAGS bit 17 is VM: the guest will run in virtual-8086 mode. */
    bool v86 = (s->rflags & (1ull << 17)) != 0;
    /* Access-rights bits 3:0: the descriptor type (SDM Vol. 3A 3.4.5.1 "Code- and Data-Segment
     * Descriptor Types"). */
    unsigned cs_type = cs->ar & AR_TYPE_MASK, ss_type = ss->ar & AR_TYPE_MASK;

    /* Selectors: TR and a usable LDTR come from the GDT (TI = 0), since an
     * LDT cannot describe a TSS or another LDT. */
    if (tr->sel & 4)
        fail(c, "27.3.1.2", "guest TR selector 0x%x has TI set: TR must come from the GDT",
             tr->sel);
    if (!(ldtr->ar & AR_UNUSABLE) && (ldtr->sel & 4))
        fail(c, "27.3.1.2", "guest LDTR selector 0x%x has TI set: the LDT must be in the GDT",
             ldtr->sel);
    if (!v86 && !unrestricted && (ss->sel & 3) != (cs->sel & 3))
        fail(c, "27.3.1.2",
             "guest SS.RPL (%u) must equal CS.RPL (%u) without \"unrestricted "
             "guest\"",
             ss->sel & 3, cs->sel & 3);

    /* Bases.  FS, GS, TR and LDTR may hold 64-bit bases (their descriptors
     * or MSRs can), so they need only be canonical; CS, SS, DS and ES
     * bases come from 32-bit descriptor fields, so their upper halves must
     * be zero. */
    if (!canonical(c, tr->base) || !canonical(c, s->seg[SEG_FS].base) ||
        !canonical(c, s->seg[SEG_GS].base))
        fail(c, "27.3.1.2", "guest TR, FS and GS bases must be canonical");
    if (!(ldtr->ar & AR_UNUSABLE) && !canonical(c, ldtr->base))
        fail(c, "27.3.1.2", "guest LDTR base must be canonical");
    if (cs->base >> 32)
        fail(c, "27.3.1.2", "guest CS base 0x%llx must have bits 63:32 clear",
             (unsigned long long)cs->base);
    for (int i = SEG_ES; i <= SEG_DS; i++)
        if (i != SEG_CS && !(s->seg[i].ar & AR_UNUSABLE) && (s->seg[i].base >> 32))
            fail(c, "27.3.1.2", "guest %s base 0x%llx must have bits 63:32 clear", seg_names[i],
                 (unsigned long long)s->seg[i].base);

    /* Either every segment follows the virtual-8086 rule, or the normal
     * rules apply; hv's guests never start in virtual-8086 mode. */
    if (v86) {
        check_v86_segments(c);
    } else {
        /* CS: an accessed code segment; an accessed read/write data segment is
         * allowed only for an unrestricted guest (real mode after reset).
         * Types 9/11 are non-conforming, 13/15 conforming code. */
        if (!(cs_type == 9 || cs_type == 11 || cs_type == 13 || cs_type == 15 ||
              (unrestricted && cs_type == 3)))
            fail(c, "27.3.1.2",
                 "guest CS type %u is not an accessed code segment (9, 11, 13 or 15%s); access "
                 "rights 0x%x",
                 cs_type, unrestricted ? ", or 3" : "", cs->ar);
        /* SS: a read/write data segment when usable (a stack must be
         * writable; 7 is the expand-down variant). */
        if (!(ss->ar & AR_UNUSABLE) && ss_type != 3 && ss_type != 7)
            fail(c, "27.3.1.2",
                 "guest SS type %u must be 3 or 7 (read/write data); access rights "
                 "0x%x",
                 ss_type, ss->ar);
        /* DS, ES, FS, GS: accessed, and readable if code. */
        for (int i = SEG_ES; i <= SEG_GS; i++) {
            const struct vmx_seg *g = &s->seg[i];
            unsigned t = g->ar & AR_TYPE_MASK;
            if (i == SEG_CS || i == SEG_SS || (g->ar & AR_UNUSABLE))
                continue;
            if (!(t & AR_TYPE_ACCESSED) || ((t & AR_TYPE_CODE) && !(t & AR_TYPE_RW)))
                fail(c, "27.3.1.2",
                     "guest %s type %u must be accessed (bit 0) and, if code, "
                     "readable; access rights 0x%x",
                     seg_names[i], t, g->ar);
        }
        /* S = 1 (code/data), P = 1, reserved bits clear, granularity: for CS
         * and every usable data segment.  CS is checked even if marked
         * unusable: the guest fetches its first instruction through it. */
        for (int i = SEG_ES; i <= SEG_GS; i++) {
            const struct vmx_seg *g = &s->seg[i];
            if (i != SEG_CS && (g->ar & AR_UNUSABLE))
                continue;
            if (!(g->ar & AR_S))
                fail(c, "27.3.1.2",
                     "guest %s access rights 0x%x have S = 0: must be a code or "
                     "data segment",
                     seg_names[i], g->ar);
            if (!(g->ar & AR_P))
                fail(c, "27.3.1.2", "guest %s access rights 0x%x have P = 0: segment not present",
                     seg_names[i], g->ar);
            if (g->ar & AR_RESERVED_MASK & ~AR_UNUSABLE)
                fail(c, "27.3.1.2", "guest %s access rights 0x%x set reserved bits (11:8, 31:17)",
                     seg_names[i], g->ar);
            check_granularity(c, i);
        }
        /* DPL rules: CS.DPL is the privilege level the guest will run at,
         * and SS.DPL must agree with it, as after any far transfer. */
        if (cs_type == 3 && AR_DPL(cs->ar) != 0)
            fail(c, "27.3.1.2", "guest CS type 3 (real-mode style) needs DPL 0, not %u",
                 AR_DPL(cs->ar));
        if ((cs_type == 9 || cs_type == 11) && AR_DPL(cs->ar) != AR_DPL(ss->ar))
            fail(c, "27.3.1.2",
                 "guest CS is non-conforming code, so CS.DPL (%u) must equal SS.DPL "
                 "(%u)",
                 AR_DPL(cs->ar), AR_DPL(ss->ar));
        if ((cs_type == 13 || cs_type == 15) && AR_DPL(cs->ar) > AR_DPL(ss->ar))
            fail(c, "27.3.1.2",
                 "guest CS is conforming code, so CS.DPL (%u) may not exceed SS.DPL "
                 "(%u)",
                 AR_DPL(cs->ar), AR_DPL(ss->ar));
        if (!unrestricted && AR_DPL(ss->ar) != (ss->sel & 3u))
            fail(c, "27.3.1.2", "guest SS.DPL (%u) must equal SS.RPL (%u)", AR_DPL(ss->ar),
                 ss->sel & 3u);
        if ((cs_type == 3 || !(s->cr0 & CR0_PE_BIT)) && AR_DPL(ss->ar) != 0)
            fail(c, "27.3.1.2",
                 "guest SS.DPL must be 0 in real mode (CS type 3 or CR0.PE = 0), "
                 "not %u",
                 AR_DPL(ss->ar));
        /* Data segments and non-conforming code (types up to 11) must not be
         * more privileged than the selector that names them. */
        for (int i = SEG_ES; i <= SEG_GS; i++) {
            const struct vmx_seg *g = &s->seg[i];
            if (i == SEG_CS || i == SEG_SS || unrestricted || (g->ar & AR_UNUSABLE) ||
                (g->ar & AR_TYPE_MASK) > 11)
                continue;
            if (AR_DPL(g->ar) < (g->sel & 3u))
                fail(c, "27.3.1.2", "guest %s.DPL (%u) must not be below its RPL (%u)",
                     seg_names[i], AR_DPL(g->ar), g->sel & 3u);
        }
        /* 64-bit code cannot also be 32-bit: with L = 1 the D bit must be
         * clear (SDM Vol. 3A 3.4.5 "Segment Descriptors"). */
        if (ia32e_guest(s) && (cs->ar & AR_L) && (cs->ar & AR_DB))
            fail(c, "27.3.1.2", "guest CS has both L and D/B set (access rights 0x%x)", cs->ar);
    }

    /* TR: a busy TSS, always usable.  Even a guest that never switches tasks
     * needs one; gstate.c gives the Multiboot guest a dummy. */
    unsigned tr_type = tr->ar & AR_TYPE_MASK;
    if (!(tr_type == 11 || (tr_type == 3 && !ia32e_guest(s))))
        fail(c, "27.3.1.2",
             "guest TR type %u must be 11 (busy 32/64-bit TSS)%s; access rights "
             "0x%x",
             tr_type, ia32e_guest(s) ? "" : " or 3 (busy 16-bit TSS)", tr->ar);
    if ((tr->ar & AR_S) || !(tr->ar & AR_P) || (tr->ar & AR_UNUSABLE) ||
        (tr->ar & AR_RESERVED_MASK & ~AR_UNUSABLE))
        fail(c, "27.3.1.2",
             "guest TR access rights 0x%x must have S = 0, P = 1, be usable and set no reserved "
             "bits",
             tr->ar);
    check_granularity(c, SEG_TR);
    /* LDTR, when usable: an LDT descriptor (type 2), a system segment (S =
     * 0), present.  Marking it unusable is how a VMM says "no LDT". */
    if (!(ldtr->ar & AR_UNUSABLE)) {
        if ((ldtr->ar & AR_TYPE_MASK) != 2 || (ldtr->ar & AR_S) || !(ldtr->ar & AR_P) ||
            (ldtr->ar & AR_RESERVED_MASK))
            fail(c, "27.3.1.2",
                 "guest LDTR access rights 0x%x must be type 2, S = 0, P = 1 (or "
                 "mark LDTR unusable, bit 16)",
                 ldtr->ar);
        check_granularity(c, SEG_LDTR);
    }
}

/* 27.3.1.3: GDTR and IDTR. */
static void check_guest_dtrs(struct checker *c)
{
    /* LGDT and LIDT take a 16-bit limit; the VMCS fields are 32 bits. */
    const struct vmx_state *s = c->s;
    /* Their bases are linear addresses. */
    if (!canonical(c, s->gdtr_base) || !canonical(c, s->idtr_base))
        fail(c, "27.3.1.3", "guest GDTR and IDTR bases must be canonical");
    if ((s->gdtr_limit >> 16) || (s->idtr_limit >> 16))
        fail(c, "27.3.1.3", "guest GDTR and IDTR limits must fit in 16 bits (0x%x, 0x%x)",
             s->gdtr_limit, s->idtr_limit);
}

/* 27.3.1.4: RIP and RFLAGS. */
static void check_guest_rip_rflags(struct checker *c)
{
    const struct vmx_state *s = c->s;
    /* 64-bit code: IA-32e mode and CS.L = 1.  Compatibility-mode code (L = 0)
     * runs with 32-bit RIP like protected mode. */
    bool long_cs = ia32e_guest(s) && (s->seg[SEG_CS].ar & AR_L);
    /* Outside 64-bit code the CPU has only EIP. */
    if (!long_cs && (s->rip >> 32))
        fail(c, "27.3.1.4", "guest RIP 0x%llx has bits 63:32 set outside 64-bit code",
             (unsigned long long)s->rip);
    if (long_cs && !canonical(c, s->rip))
        fail(c, "27.3.1.4", "guest RIP 0x%llx is not canonical", (unsigned long long)s->rip);
    /* Reserved: 63:22, 15, 5, 3 must be 0; bit 1 must be 1. */
    uint64_t reserved = ~((1ull << 22) - 1) | (1ull << 15) | (1ull << 5) | (1ull << 3);
    if ((s->rflags & reserved) || !(s->rflags & 2))
        fail(c, "27.3.1.4",
             "guest RFLAGS 0x%llx: bit 1 must be 1 and bits 63:22, 15, 5, 3 must be 0",
             (unsigned long long)s->rflags);
    /* Virtual-8086 mode exists only in protected mode outside IA-32e mode. */
    if ((s->rflags & (1ull << 17)) && (ia32e_guest(s) || !(s->cr0 & CR0_PE_BIT)))
        fail(c, "27.3.1.4", "guest RFLAGS.VM is 1 in IA-32e mode or with CR0.PE = 0");
    /* The rule that makes VMX different from SVM for interrupt injection:
     * an external interrupt may only be injected when the guest could take
     * it (vcpu.c's vmx_inject_interrupt() explains how hv respects it). */
    uint32_t info = s->entry_intr_info;
    if ((info & INTR_INFO_VALID) && ((info >> INTR_INFO_TYPE_SHIFT) & 7) == INTR_TYPE_EXT_INTR &&
        !(s->rflags & (1ull << 9)))
        fail(c, "27.3.1.4", "an external interrupt is injected but guest RFLAGS.IF is 0");
}

/* 27.3.1.5: non-register state. */
static void check_guest_nonreg(struct checker *c)
{
    const struct vmx_state *s = c->s;
    uint32_t intr = s->interruptibility;
    /* Activity states: 0 active, 1 HLT, 2 shutdown, 3 wait-for-SIPI.  hv
     * always enters with 0 and handles HLT itself (HLT exiting). */
    if (s->activity > ACTIVITY_WAIT_SIPI)
        fail(c, "27.3.1.5", "guest activity state %u is not 0-3", s->activity);
    /* HLT is a ring-0 instruction, so a halted guest is at CPL 0. */
    if (s->activity == ACTIVITY_HLT && AR_DPL(s->seg[SEG_SS].ar) != 0)
        fail(c, "27.3.1.5", "guest activity state HLT needs SS.DPL 0");
    /* Bits 4:0: blocking by STI, MOV SS, SMI, NMI, and enclave interruption. */
    if (intr & ~0x1fu)
        fail(c, "27.3.1.5", "guest interruptibility state 0x%x sets reserved bits 31:5", intr);
    /* STI and MOV SS shadows cannot both be active: one instruction cannot
     * be both. */
    if ((intr & INTERRUPTIBILITY_STI) && (intr & INTERRUPTIBILITY_MOV_SS))
        fail(c, "27.3.1.5", "guest interruptibility state blocks by both STI and MOV SS");
    /* An STI shadow follows an STI that set IF, so IF must be 1. */
    if ((intr & INTERRUPTIBILITY_STI) && !(s->rflags & (1ull << 9)))
        fail(c, "27.3.1.5", "guest interruptibility state blocks by STI but RFLAGS.IF is 0");
    /* hv uses no shadow VMCS: the link pointer must be all ones. */
    if (s->link_pointer != ~0ull)
        fail(c, "27.3.1.5",
             "the VMCS link pointer is 0x%llx, not FFFFFFFF_FFFFFFFF: then it must point at a "
             "VMCS with this CPU's revision identifier (hv uses none)",
             (unsigned long long)s->link_pointer);
}

/* 27.3.1.6: PAE page-directory-pointer entries, loaded from the VMCS with EPT. */
static void check_guest_pdptes(struct checker *c)
{
    const struct vmx_state *s = c->s;
    /* Only PAE paging outside IA-32e mode has PDPTE registers, and only
     * with EPT does VM entry take them from the VMCS (without EPT it reads
     * them from guest memory through CR3, and checks them there). */
    if (!(s->cr0 & CR0_PG_BIT) || !(s->cr4 & CR4_PAE_BIT) || ia32e_guest(s) ||
        !proc2_set(s, PROC2_ENABLE_EPT))
        return;
    for (int i = 0; i < 4; i++) {
        uint64_t e = s->pdpte[i];
        /* Bits 2:1 and 8:5 are reserved in a present PDPTE, as are those
         * above MAXPHYADDR (SDM Vol. 3A 4.4.1 "PDPTE Registers"). */
        if ((e & 1) && ((e & 0x1e6) || !phys_ok(c, e & ~0xfffull & ~(1ull << 63))))
            fail(c, "27.3.1.6", "guest PDPTE%d 0x%llx sets reserved bits", i,
                 (unsigned long long)e);
    }
}

/* The checks behind exit reason 33 (explain.h), in the order of 27.3.1's
 * subsections. */
unsigned vmx_check_guest(const struct vmx_state *s, const struct vmx_caps *caps,
                         vmx_report_fn report, void *ctx)
{
    struct checker c = {s, caps, report, ctx, 0};
    check_guest_regs(&c);
    check_guest_segments(&c);
    check_guest_dtrs(&c);
    check_guest_rip_rflags(&c);
    check_guest_nonreg(&c);
    check_guest_pdptes(&c);
    return c.failed;
}

/* ---- 31.4: VM-instruction error numbers ---------------------------------- */

/* The SDM's table of VM-instruction error numbers, in its words, so that a
 * log line can be matched with the table.  Numbers without an entry (14,
 * 21, 27) are not assigned.  Most of these cannot happen to hv (it never
 * runs VMCALL in root operation, nor uses SMM); the full list is kept
 * because the name is printed for whatever number the CPU reports. */
static const char *const insn_errors[VMXERR_MAX + 1] = {
    [1] = "VMCALL executed in VMX root operation",
    [2] = "VMCLEAR with invalid physical address",
    [3] = "VMCLEAR with VMXON pointer",
    [4] = "VMLAUNCH with non-clear VMCS",
    [5] = "VMRESUME with non-launched VMCS",
    [6] = "VMRESUME after VMXOFF",
    [7] = "VM entry with invalid control field(s)",
    [8] = "VM entry with invalid host-state field(s)",
    [9] = "VMPTRLD with invalid physical address",
    [10] = "VMPTRLD with VMXON pointer",
    [11] = "VMPTRLD with incorrect VMCS revision identifier",
    [12] = "VMREAD/VMWRITE from/to unsupported VMCS component",
    [13] = "VMWRITE to read-only VMCS component",
    [15] = "VMXON executed in VMX root operation",
    [16] = "VM entry with invalid executive-VMCS pointer",
    [17] = "VM entry with non-launched executive VMCS",
    [18] = "VM entry with executive-VMCS pointer not VMXON pointer",
    [19] = "VMCALL with non-clear VMCS",
    [20] = "VMCALL with invalid VM-exit control fields",
    [22] = "VMCALL with incorrect MSEG revision identifier",
    [23] = "VMXOFF under dual-monitor treatment of SMIs and SMM",
    [24] = "VMCALL with invalid SMM-monitor features",
    [25] = "VM entry with invalid VM-execution control fields in executive VMCS",
    [26] = "VM entry with events blocked by MOV SS",
    [28] = "invalid operand to INVEPT/INVVPID",
};

/* The SDM's words for VM-instruction error `err`. */
const char *vmx_insn_error_name(uint32_t err)
{
    if (err <= VMXERR_MAX && insn_errors[err])
        return insn_errors[err];
    return "unknown VM-instruction error";
}

/* The sections the checks above cite, in the 2023 numbering (hv/README.md),
 * with their titles. */
static const struct {
    const char *section;
    const char *title;
} check_titles[] = {
    {"27.2.1.1", "VM-Execution Control Fields"},
    {"27.2.1.2", "VM-Exit Control Fields"},
    {"27.2.1.3", "VM-Entry Control Fields"},
    {"27.2.2", "Checks on Host Control Registers, MSRs, and SSP"},
    {"27.2.3", "Checks on Host Segment and Descriptor-Table Registers"},
    {"27.2.4", "Checks Related to Address-Space Size"},
    {"27.3.1.1", "Checks on Guest Control Registers, Debug Registers, and MSRs"},
    {"27.3.1.2", "Checks on Guest Segment Registers"},
    {"27.3.1.3", "Checks on Guest Descriptor-Table Registers"},
    {"27.3.1.4", "Checks on Guest RIP, RSP, RFLAGS, and SSP"},
    {"27.3.1.5", "Checks on Guest Non-Register State"},
    {"27.3.1.6", "Checks on Guest Page-Directory-Pointer-Table Entries"},
};

const char *vmx_check_title(const char *section)
{
    for (size_t i = 0; i < sizeof(check_titles) / sizeof(check_titles[0]); i++)
        if (strcmp(check_titles[i].section, section) == 0)
            return check_titles[i].title;
    /* A section added above without its title: still a usable message. */
    return "see the manual's contents";
}
