/*
 * Unit tests for hv/vmx/ctls.c, gstate.c and explain.c (hosted).
 *
 * The capability values are those of a VT-x CPU with EPT and unrestricted
 * guest (the shape Bochs's corei7_skylake_x reports): the tests start from
 * the state hv itself builds for a Multiboot guest, check it passes every
 * VM-entry check, then break one rule at a time and check that the explainer
 * names that rule (and its SDM section).
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "ctls.h"
#include "defs.h"
#include "explain.h"
#include "gstate.h"
#include "check_main.h"

/* Capability MSRs: low half = must-be-1 bits, high half = may-be-1 bits. */
static struct vmx_caps test_caps(void)
{
    struct vmx_caps c = {0};
    c.basic = 0x00da040000000004ull | VMX_BASIC_TRUE_CTLS; /* revision 4, WB, TRUE MSRs */
    c.pin = 0x0000007f00000016ull;
    c.proc = 0xfff9fffe04006172ull;
    c.proc2 = 0x000000ff00000000ull;
    c.exit = 0x003fffff00036dfbull;
    c.entry = 0x0000ffff000011fbull;
    c.misc = 0x00000000000401e7ull | (4ull << 16);
    c.cr0_fixed0 = 0x80000021ull; /* PG, NE, PE */
    c.cr0_fixed1 = 0xffffffffull;
    c.cr4_fixed0 = CR4_VMXE_BIT;
    c.cr4_fixed1 = 0x003767ffull;
    c.ept_vpid = EPT_CAP_WALK4 | EPT_CAP_WB | EPT_CAP_2M | (1ull << 8);
    c.phys_bits = 40;
    c.lin_bits = 48;
    return c;
}

/* The complete VMCS state hv uses for a fresh Multiboot guest. */
static struct vmx_state good_state(const struct vmx_caps *caps)
{
    struct vmx_state s;
    struct vmx_controls ctl;
    memset(&s, 0, sizeof(s));
    ck_assert_ptr_null(vmx_choose_controls(caps, &ctl));
    s.pin = ctl.pin, s.proc = ctl.proc, s.proc2 = ctl.proc2;
    s.exit_ctls = ctl.exit, s.entry_ctls = ctl.entry;
    s.io_bitmap_a = 0x10000, s.io_bitmap_b = 0x11000, s.msr_bitmap = 0x12000;
    s.eptp = 0x13000 | EPTP_MEMTYPE_WB | EPTP_WALK_LENGTH_4;
    s.host_cr0 = 0x80000033, s.host_cr3 = 0x1000, s.host_cr4 = CR4_PAE_BIT | CR4_VMXE_BIT;
    s.host_rip = 0x101000, s.host_rsp = 0x200000;
    s.host_sel[SEG_CS] = 0x08, s.host_sel[SEG_SS] = 0x10, s.host_sel[SEG_DS] = 0x10;
    s.host_sel[SEG_ES] = 0x10, s.host_sel[SEG_TR] = 0x18;
    s.host_efer = EFER_LME_BIT | EFER_LMA_BIT;
    vmx_multiboot_state(&s, caps, 0x100000, 0);
    return s;
}

/* Collects the explainer's messages. */
struct log {
    char text[4096];
    unsigned calls;
};

static void collect(void *ctx, const char *section, const char *text)
{
    struct log *l = ctx;
    size_t n = strlen(l->text);
    /* Every section a report names has its title, for hv's message. */
    ck_assert_msg(strcmp(vmx_check_title(section), "see the manual's contents") != 0,
                  "section %s has no title in explain.c's check_titles", section);
    snprintf(l->text + n, sizeof(l->text) - n, "[%s] %s\n", section, text);
    l->calls++;
}

/* Run all three check groups, return the failure count, fill *l. */
static unsigned explain_all(const struct vmx_state *s, const struct vmx_caps *caps, struct log *l)
{
    memset(l, 0, sizeof(*l));
    return vmx_check_controls(s, caps, collect, l) + vmx_check_host(s, caps, collect, l) +
           vmx_check_guest(s, caps, collect, l);
}

/* ---- ctls.c ---- */

START_TEST(adjust_adds_required_and_reports_refused)
{
    uint32_t missing = 0xdead;
    /* must1 = 0x16, may1 = 0x7f: asking for 0x80 | 0x40 gets 0x40 | 0x16. */
    uint32_t v = vmx_ctl_adjust(0x0000007f00000016ull, 0xc0, &missing);
    ck_assert_uint_eq(v, 0x56);
    ck_assert_uint_eq(missing, 0x80);
    ck_assert(vmx_ctl_ok(0x0000007f00000016ull, v));
    ck_assert(!vmx_ctl_ok(0x0000007f00000016ull, 0x40));  /* lacks the required 0x16 */
    ck_assert(!vmx_ctl_ok(0x0000007f00000016ull, 0x196)); /* sets 0x180, not allowed */
}
END_TEST

START_TEST(fixed_bits_respect_free_bits)
{
    /* CR0 = PE|ET with fixed0 = PG|NE|PE: NE and PG are bad; with PE/PG
     * free (unrestricted guest) only NE is. */
    ck_assert_uint_eq(vmx_fixed_bad_bits(0x11, 0x80000021, 0xffffffff, 0), 0x80000020);
    ck_assert_uint_eq(vmx_fixed_bad_bits(0x11, 0x80000021, 0xffffffff, 0x80000001), 0x20);
    /* A bit clear in fixed1 must be 0. */
    ck_assert_uint_eq(vmx_fixed_bad_bits(0x100000000ull, 0, 0xffffffff, 0), 0x100000000ull);
    /* Applying keeps free bits as given and forces the others. */
    ck_assert_uint_eq(vmx_fixed_apply(0x11, 0x80000021, 0xffffffff, 0x80000001), 0x31);
    ck_assert_uint_eq(vmx_fixed_apply(0x10, 0x80000021, 0xffffffff, 0), 0x80000031);
}
END_TEST

START_TEST(canonical_addresses)
{
    ck_assert(vmx_canonical(0x00007fffffffffffull, 48));
    ck_assert(vmx_canonical(0xffff800000000000ull, 48));
    ck_assert(!vmx_canonical(0x0000800000000000ull, 48));
    ck_assert(!vmx_canonical(0xfff0000000000000ull, 48));
    ck_assert(vmx_canonical(0x0000800000000000ull, 57));
}
END_TEST

START_TEST(choose_controls_uses_capabilities)
{
    struct vmx_caps caps = test_caps();
    struct vmx_controls ctl;
    ck_assert_ptr_null(vmx_choose_controls(&caps, &ctl));
    ck_assert(ctl.proc & PROC_HLT_EXITING);
    ck_assert(ctl.proc & PROC_USE_IO_BITMAPS);
    ck_assert(ctl.proc2 & PROC2_UNRESTRICTED_GUEST);
    ck_assert(ctl.exit & EXIT_HOST_ADDR_SPACE_SIZE);
    ck_assert(!(ctl.entry & ENTRY_IA32E_MODE_GUEST));
    /* The default1 bits the TRUE MSRs still require are set. */
    ck_assert_uint_eq(ctl.pin & 0x16, 0x16);
    ck_assert_uint_eq(ctl.entry & 0x11fb & ~ENTRY_IA32E_MODE_GUEST,
                      0x11fb & ~ENTRY_IA32E_MODE_GUEST);
    /* A CPU without unrestricted guest cannot run a Multiboot guest. */
    caps.proc2 &= ~((uint64_t)PROC2_UNRESTRICTED_GUEST << 32);
    ck_assert_str_eq(vmx_choose_controls(&caps, &ctl), "unrestricted guest");
    /* Nor one without load IA32_EFER on entry. */
    caps = test_caps();
    caps.entry &= ~((uint64_t)ENTRY_LOAD_EFER << 32);
    ck_assert_str_eq(vmx_choose_controls(&caps, &ctl), "load IA32_EFER (entry)");
}
END_TEST

/* ---- explain.c: the good state ---- */

START_TEST(multiboot_state_passes_every_check)
{
    struct vmx_caps caps = test_caps();
    struct vmx_state s = good_state(&caps);
    struct log l;
    ck_assert_msg(explain_all(&s, &caps, &l) == 0, "unexpected failures:\n%s", l.text);
    /* The guest starts with paging off and NE forced on. */
    ck_assert_uint_eq(s.cr0 & CR0_PG_BIT, 0);
    ck_assert_uint_eq(s.cr0 & CR0_NE_BIT, CR0_NE_BIT);
    ck_assert_uint_eq(s.cr4 & CR4_VMXE_BIT, CR4_VMXE_BIT);
}
END_TEST

START_TEST(long_mode_state_passes)
{
    /* What the guest looks like after switching itself to long mode. */
    struct vmx_caps caps = test_caps();
    struct vmx_state s = good_state(&caps);
    struct log l;
    s.cr0 |= CR0_PG_BIT;
    s.cr4 |= CR4_PAE_BIT;
    s.efer = EFER_LME_BIT | EFER_LMA_BIT;
    s.entry_ctls |= ENTRY_IA32E_MODE_GUEST;
    s.seg[SEG_CS].ar = (s.seg[SEG_CS].ar & ~AR_DB) | AR_L;
    s.rip = 0xffff800000100000ull;
    ck_assert_msg(explain_all(&s, &caps, &l) == 0, "unexpected failures:\n%s", l.text);
}
END_TEST

/* ---- explain.c: broken states: guest (27.3.1), controls (27.2.1), host
 * (27.2.2 - 27.2.4) ---- */

/* How each case breaks the good state (guest rules first, then the
 * controls' and the host's). */
static void guest_cr0_ne_clear(struct vmx_state *s)
{
    s->cr0 &= ~CR0_NE_BIT;
}

static void guest_cr0_pg_without_pe(struct vmx_state *s)
{
    s->cr0 = (s->cr0 | CR0_PG_BIT) & ~CR0_PE_BIT;
}

static void guest_pe_off_needs_unrestricted(struct vmx_state *s)
{
    s->proc2 &= ~PROC2_UNRESTRICTED_GUEST;
    s->cr0 &= ~CR0_PE_BIT;
}

static void guest_cr4_vmxe_clear(struct vmx_state *s)
{
    s->cr4 = 0;
}

static void guest_lma_differs_from_ia32e_control(struct vmx_state *s)
{
    s->cr0 |= CR0_PG_BIT;
    s->cr4 |= CR4_PAE_BIT;
    s->efer = EFER_LME_BIT | EFER_LMA_BIT; /* long mode, but the control is 0 */
}

static void guest_ia32e_without_paging(struct vmx_state *s)
{
    s->entry_ctls |= ENTRY_IA32E_MODE_GUEST;
}

static void guest_bad_pat(struct vmx_state *s)
{
    s->pat = 0x0007040600070402ull; /* type 2 is reserved */
}

static void guest_cs_data_segment_when_restricted(struct vmx_state *s)
{
    s->proc2 &= ~PROC2_UNRESTRICTED_GUEST;
    s->cr0 |= CR0_PG_BIT;
    s->seg[SEG_CS].ar = (s->seg[SEG_CS].ar & ~AR_TYPE_MASK) | 3;
}

static void guest_tr_unusable(struct vmx_state *s)
{
    s->seg[SEG_TR].ar = AR_UNUSABLE;
}

static void guest_granularity(struct vmx_state *s)
{
    s->seg[SEG_DS].ar &= ~AR_G; /* limit 0xffffffff in bytes is impossible */
}

static void guest_segment_not_present(struct vmx_state *s)
{
    s->seg[SEG_SS].ar &= ~AR_P;
}

static void guest_ss_dpl_in_real_mode(struct vmx_state *s)
{
    s->cr0 &= ~CR0_PE_BIT;
    s->seg[SEG_SS].ar |= 3u << AR_DPL_SHIFT;
}

static void guest_idtr_limit(struct vmx_state *s)
{
    s->idtr_limit = 0x10000;
}

static void guest_rflags_bit1_clear(struct vmx_state *s)
{
    s->rflags = 0;
}

static void guest_rip_high_bits_in_32bit_code(struct vmx_state *s)
{
    s->rip = 0x100000000ull;
}

static void guest_sti_blocking_with_if_clear(struct vmx_state *s)
{
    s->interruptibility = INTERRUPTIBILITY_STI;
}

static void guest_link_pointer_zero(struct vmx_state *s)
{
    s->link_pointer = 0;
}

static void guest_pae_pdpte_reserved(struct vmx_state *s)
{
    s->cr0 |= CR0_PG_BIT;
    s->cr4 |= CR4_PAE_BIT;
    s->pdpte[2] = 0x5000 | 1 | (1u << 7); /* PS is reserved in a PDPTE */
}

static void controls_missing_required_bit(struct vmx_state *s)
{
    s->pin = 0; /* the TRUE MSR still requires 0x16 */
}

static void controls_unrestricted_without_ept(struct vmx_state *s)
{
    s->proc2 &= ~PROC2_ENABLE_EPT;
}

static void controls_bad_eptp(struct vmx_state *s)
{
    s->eptp = 0x13000 | EPTP_MEMTYPE_WB; /* walk length 1 */
}

static void controls_misaligned_bitmap(struct vmx_state *s)
{
    s->msr_bitmap = 0x12010;
}

static void controls_bad_injection(struct vmx_state *s)
{
    /* #GP injected without the deliver-error-code bit. */
    s->entry_intr_info = INTR_INFO_VALID | (INTR_TYPE_HW_EXCEPTION << 8) | 13;
}

static void host_tr_null(struct vmx_state *s)
{
    s->host_sel[SEG_TR] = 0;
}

static void host_32bit_exit(struct vmx_state *s)
{
    s->exit_ctls &= ~EXIT_HOST_ADDR_SPACE_SIZE;
}

static void host_cr4_vmxe_clear(struct vmx_state *s)
{
    s->host_cr4 &= ~CR4_VMXE_BIT;
}

/* Each case: the section and the words its report must have. */
struct broken_rule {
    const char *name;
    void (*breaks)(struct vmx_state *s);
    const char *section, *words;
};
/* A row; failure messages name the case by its function. */
#define RULE(fn, sec, text)                                                                        \
    {                                                                                              \
        .name = #fn, .breaks = fn, .section = sec, .words = text                                   \
    }
static const struct broken_rule broken[] = {
    RULE(guest_cr0_ne_clear, "27.3.1.1", "guest CR0 0x11 has bit 5 (NE) clear"),
    RULE(guest_cr0_pg_without_pe, "27.3.1.1", "PG set but PE clear"),
    RULE(guest_pe_off_needs_unrestricted, "27.3.1.1", "bit 0 (PE) clear"),
    RULE(guest_pe_off_needs_unrestricted, "27.3.1.1", "unrestricted guest"),
    RULE(guest_cr4_vmxe_clear, "27.3.1.1", "bit 13 (VMXE) clear"),
    RULE(guest_lma_differs_from_ia32e_control, "27.3.1.1",
         "IA32_EFER.LMA is 1 but the VM-entry control \"IA-32e"),
    RULE(guest_ia32e_without_paging, "27.3.1.1", "CR0.PG and CR4.PAE must be 1"),
    RULE(guest_bad_pat, "27.3.1.1", "IA32_PAT"),
    RULE(guest_cs_data_segment_when_restricted, "27.3.1.2",
         "guest CS type 3 is not an accessed code segment"),
    RULE(guest_tr_unusable, "27.3.1.2", "guest TR type 0 must be 11"),
    RULE(guest_granularity, "27.3.1.2", "guest DS limit 0xffffffff has a bit of 31:20 set"),
    RULE(guest_segment_not_present, "27.3.1.2", "guest SS access rights 0xc013 have P = 0"),
    RULE(guest_ss_dpl_in_real_mode, "27.3.1.2", "SS.DPL must be 0 in real mode"),
    RULE(guest_idtr_limit, "27.3.1.3", "limits must fit in 16 bits"),
    RULE(guest_rflags_bit1_clear, "27.3.1.4", "bit 1 must be 1"),
    RULE(guest_rip_high_bits_in_32bit_code, "27.3.1.4", "bits 63:32 set outside 64-bit code"),
    RULE(guest_sti_blocking_with_if_clear, "27.3.1.5", "blocks by STI but RFLAGS.IF is 0"),
    RULE(guest_link_pointer_zero, "27.3.1.5", "VMCS link pointer is 0x0"),
    RULE(guest_pae_pdpte_reserved, "27.3.1.6", "PDPTE2"),
    RULE(controls_missing_required_bit, "27.2.1.1", "IA32_VMX_TRUE_PINBASED_CTLS requires"),
    RULE(controls_unrestricted_without_ept, "27.2.1.1",
         "\"unrestricted guest\" is 1 but \"enable EPT\" is 0"),
    RULE(controls_bad_eptp, "27.2.1.1", "page-walk length of 1"),
    RULE(controls_misaligned_bitmap, "27.2.1.1", "MSR bitmap address 0x12010"),
    RULE(controls_bad_injection, "27.2.1.3", "injected vector 13 type 3 needs an error code"),
    RULE(host_tr_null, "27.2.3", "host TR selector must not be 0"),
    RULE(host_32bit_exit, "27.2.4", "\"host address-space size\" (bit 9) must be 1"),
    RULE(host_cr4_vmxe_clear, "27.2.2",
         "host CR4 0x20 breaks IA32_VMX_CR4_FIXED0/1 at bit 13 (VMXE)"),
};

/* The state fails at least one check, every failure is reported, and the
 * report has b's section and words. */
static void expect_report(const struct vmx_state *s, const struct vmx_caps *caps,
                          const struct broken_rule *b)
{
    struct log l;
    char section[32];
    unsigned n = explain_all(s, caps, &l);
    ck_assert_msg(n >= 1, "%s: no failed check reported", b->name);
    ck_assert_uint_eq(n, l.calls);
    snprintf(section, sizeof(section), "[%s]", b->section);
    ck_assert_msg(strstr(l.text, section), "%s: no section %s in:\n%s", b->name, b->section,
                  l.text);
    ck_assert_msg(strstr(l.text, b->words), "%s: no '%s' in:\n%s", b->name, b->words, l.text);
}

/* The good state with one rule broken fails, and the report names that
 * rule: its SDM section and its words. */
START_TEST(each_broken_rule_is_reported)
{
    const struct broken_rule *b = &broken[_i];
    struct vmx_caps caps = test_caps();
    struct vmx_state s = good_state(&caps);
    b->breaks(&s);
    expect_report(&s, &caps, b);
}
END_TEST

START_TEST(insn_error_names)
{
    ck_assert_str_eq(vmx_insn_error_name(7), "VM entry with invalid control field(s)");
    ck_assert_str_eq(vmx_insn_error_name(8), "VM entry with invalid host-state field(s)");
    ck_assert_str_eq(vmx_insn_error_name(5), "VMRESUME with non-launched VMCS");
    ck_assert_str_eq(vmx_insn_error_name(14), "unknown VM-instruction error");
    ck_assert_str_eq(vmx_insn_error_name(1000), "unknown VM-instruction error");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("hv_vmx_explain");
    TCase *t = tcase_create("ctls");
    tcase_add_test(t, adjust_adds_required_and_reports_refused);
    tcase_add_test(t, fixed_bits_respect_free_bits);
    tcase_add_test(t, canonical_addresses);
    tcase_add_test(t, choose_controls_uses_capabilities);
    suite_add_tcase(s, t);
    t = tcase_create("guest");
    tcase_add_test(t, multiboot_state_passes_every_check);
    tcase_add_test(t, long_mode_state_passes);
    suite_add_tcase(s, t);
    t = tcase_create("broken");
    tcase_add_loop_test(t, each_broken_rule_is_reported, 0,
                        (int)(sizeof(broken) / sizeof(broken[0])));
    suite_add_tcase(s, t);
    t = tcase_create("insn_errors");
    tcase_add_test(t, insn_error_names);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return check_main(suite());
}
