/*
 * Unit tests for hv/svm/explain.c: a good VMCB passes every VMRUN
 * consistency check, and each deliberately broken state is named.
 */
#include <check.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "svm/explain.h"
#include "check_main.h"

/* Reports collected by the checker. */
struct reports {
    int n;
    char text[16][200];
};

static void collect(void *ctx, const char *problem)
{
    struct reports *r = ctx;
    if (r->n < 16)
        strncpy(r->text[r->n], problem, sizeof(r->text[0]) - 1);
    r->n++;
}

/* A legal VMCB as hv builds it for a Multiboot guest: 32-bit protected
 * mode, nested paging, the required intercepts. */
static struct vmcb *good_vmcb(void)
{
    struct vmcb *v = calloc(1, sizeof(*v));
    v->save.efer = 1ull << 12;
    v->save.cr0 = 0x11;
    v->save.dr6 = 0xffff0ff0;
    v->save.dr7 = 0x400;
    v->save.cs.attrib = SEG_ATTR_TYPE(0xb) | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_DB | SEG_ATTR_G;
    v->save.g_pat = 0x0007040600070406ull;
    v->control.intercept_misc2 = ICPT_VMRUN | ICPT_VMMCALL;
    v->control.guest_asid = 1;
    v->control.np_enable = NP_ENABLE;
    v->control.n_cr3 = 0x200000;
    v->control.iopm_base_pa = 0x300000;
    v->control.msrpm_base_pa = 0x304000;
    return v;
}

/* Run the checker; return the number of problems and keep the text. */
static int explain(const struct vmcb *v, struct reports *r)
{
    memset(r, 0, sizeof(*r));
    int n = svm_explain_invalid(v, 48, collect, r);
    ck_assert_int_eq(n, r->n);
    return n;
}

/* True when some report contains `needle`. */
static int mentions(const struct reports *r, const char *needle)
{
    for (int i = 0; i < r->n && i < 16; i++)
        if (strstr(r->text[i], needle))
            return 1;
    return 0;
}

/* The checker finds exactly `n` problems, and some report mentions each
 * of the words after n (a NULL ends them). */
static void __attribute__((sentinel)) expect_problems(const struct vmcb *v, int n, ...)
{
    struct reports r;
    va_list ap;
    ck_assert_int_eq(explain(v, &r), n);
    va_start(ap, n);
    for (const char *w = va_arg(ap, const char *); w; w = va_arg(ap, const char *))
        ck_assert_msg(mentions(&r, w), "no report mentions '%s'", w);
    va_end(ap);
}

START_TEST(good_state_passes)
{
    struct vmcb *v = good_vmcb();
    expect_problems(v, 0, NULL);
    /* A legal 64-bit guest passes too. */
    v->save.efer |= (1ull << 8) | (1ull << 10);
    v->save.cr0 |= 1ull << 31;
    v->save.cr4 = 1ull << 5;
    v->save.cr3 = 0x1000;
    v->save.cs.attrib = SEG_ATTR_TYPE(0xb) | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_L;
    expect_problems(v, 0, NULL);
    free(v);
}
END_TEST

START_TEST(svme_clear)
{
    struct vmcb *v = good_vmcb();
    v->save.efer = 0;
    expect_problems(v, 1, "EFER.SVME", NULL);
    free(v);
}
END_TEST

START_TEST(cr0_nw_without_cd)
{
    struct vmcb *v = good_vmcb();
    v->save.cr0 |= 1ull << 29;
    expect_problems(v, 1, "CR0.NW", NULL);
    /* NW together with CD is legal. */
    v->save.cr0 |= 1ull << 30;
    expect_problems(v, 0, NULL);
    free(v);
}
END_TEST

START_TEST(high_bits_of_cr0_dr6_dr7)
{
    struct vmcb *v = good_vmcb();
    v->save.cr0 |= 1ull << 40;
    v->save.dr6 |= 1ull << 33;
    v->save.dr7 |= 1ull << 63;
    expect_problems(v, 3, "CR0 bits 63:32", "DR6", "DR7", NULL);
    free(v);
}
END_TEST

START_TEST(reserved_cr4_and_efer)
{
    struct vmcb *v = good_vmcb();
    v->save.cr4 = 1ull << 13; /* VMXE: reserved on AMD */
    v->save.efer |= 1ull << 1;
    expect_problems(v, 2, "CR4", "EFER =", NULL);
    free(v);
}
END_TEST

START_TEST(long_mode_combinations)
{
    struct vmcb *v = good_vmcb();
    /* LME + PG without PAE. */
    v->save.efer |= 1ull << 8;
    v->save.cr0 |= 1ull << 31;
    expect_problems(v, 1, "CR4.PAE", NULL);
    /* LME + PG + PAE with CS.L and CS.D both set. */
    v->save.cr4 = 1ull << 5;
    v->save.cs.attrib |= SEG_ATTR_L;
    expect_problems(v, 1, "L and D", NULL);
    /* LME + PG without PE. */
    v->save.cs.attrib &= (uint16_t)~SEG_ATTR_DB;
    v->save.cr0 &= ~1ull;
    expect_problems(v, 1, "CR0.PE", NULL);
    /* CR3 above the physical width in long mode. */
    v->save.cr0 |= 1;
    v->save.cr3 = 1ull << 50;
    expect_problems(v, 1, "CR3", NULL);
    free(v);
}
END_TEST

START_TEST(control_area_rules)
{
    struct vmcb *v = good_vmcb();
    v->control.intercept_misc2 &= ~ICPT_VMRUN;
    v->control.guest_asid = 0;
    expect_problems(v, 2, "VMRUN intercept", "ASID", NULL);
    free(v);
}
END_TEST

START_TEST(permission_maps_beyond_width)
{
    struct vmcb *v = good_vmcb();
    /* The last byte of each map crosses 2^48. */
    v->control.iopm_base_pa = (1ull << 48) - 4096;
    v->control.msrpm_base_pa = (1ull << 48) - 4096;
    expect_problems(v, 2, "I/O permission map", "MSR permission map", NULL);
    free(v);
}
END_TEST

START_TEST(illegal_event_injection)
{
    struct vmcb *v = good_vmcb();
    /* An exception with vector 2 (NMI) is illegal. */
    v->control.eventinj = EVENTINJ_VALID | EVENTINJ_TYPE_EXCEPTION | 2;
    expect_problems(v, 1, "vector 2", NULL);
    /* A reserved type. */
    v->control.eventinj = EVENTINJ_VALID | (5ull << 8) | 32;
    expect_problems(v, 1, "reserved event type 5", NULL);
    /* A legal #GP(0) passes; an invalid (V=0) field is ignored. */
    v->control.eventinj = EVENTINJ_VALID | EVENTINJ_TYPE_EXCEPTION | EVENTINJ_EV | 13;
    expect_problems(v, 0, NULL);
    v->control.eventinj = (7ull << 8) | 2;
    expect_problems(v, 0, NULL);
    free(v);
}
END_TEST

START_TEST(nested_paging_rules)
{
    struct vmcb *v = good_vmcb();
    v->control.n_cr3 = 1ull << 55;
    v->save.g_pat = 0x0007040600070402ull; /* PA0 = type 2, reserved */
    expect_problems(v, 2, "nested CR3", "PA0", NULL);
    /* Without nested paging neither field is checked. */
    v->control.np_enable = 0;
    expect_problems(v, 0, NULL);
    free(v);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hv_svm_explain");
    TCase *tc = tcase_create("vmrun_checks");
    tcase_add_test(tc, good_state_passes);
    tcase_add_test(tc, svme_clear);
    tcase_add_test(tc, cr0_nw_without_cd);
    tcase_add_test(tc, high_bits_of_cr0_dr6_dr7);
    tcase_add_test(tc, reserved_cr4_and_efer);
    tcase_add_test(tc, long_mode_combinations);
    tcase_add_test(tc, control_area_rules);
    tcase_add_test(tc, permission_maps_beyond_width);
    tcase_add_test(tc, illegal_event_injection);
    tcase_add_test(tc, nested_paging_rules);
    suite_add_tcase(s, tc);
    return check_main(s);
}
