/*
 * hv/svm/cpustate.c, hosted: backend.set_state puts a struct cpu_state
 * into a VMCB and backend.get_state gives back the same fields; the
 * VMCB gets what VMRUN needs besides (EFER.SVME, the CPL from SS.DPL, a
 * TLB flush, the event to inject).
 */
#include <check.h>
#include <string.h>

#include "core/cpu.h"
#include "svm/internal.h"
#include "check_main.h"

/* nmi.c names exits for the core; not asked here. */
const char *svm_exit_name(uint64_t code)
{
    (void)code;
    return "?";
}

static struct vmcb vmcb;
static struct svm_vcpu sv = {.vmcb = &vmcb};
static struct vcpu vcpu = {.arch = &sv};

/* A state with every backend-held field set to something distinct. */
static void fill(struct cpu_state *c)
{
    memset(c, 0, sizeof(*c));
    c->regs.rsp = 0x7000;
    c->rip = 0x100000;
    c->rflags = 0x202;
    c->cr0 = 0x80050033;
    c->cr2 = 0xdead000;
    c->cr3 = 0x9000;
    c->cr4 = 0x6a0;
    c->efer = 0xd01;
    for (unsigned i = 0; i < CPU_NSEGS; i++)
        c->seg[i] = (struct cpu_segment){(uint16_t)(8 * i), (uint16_t)(0xc93 + i), 0xfffff - i,
                                         0x1000ull * i};
    c->seg[CPU_SS].attrib = 0xcf3; /* DPL 3 */
    c->gdtr = (struct cpu_table){0x5000, 0x3f};
    c->idtr = (struct cpu_table){0x6000, 0xfff};
    c->dr6 = 0xffff0ff0;
    c->dr7 = 0x400;
    c->sysenter_cs = 0x10;
    c->sysenter_esp = 0x8000;
    c->sysenter_eip = 0x8100;
    c->star = 0x0023001000000000ull;
    c->lstar = 0xffffffff81000000ull;
    c->cstar = 0xffffffff81000100ull;
    c->sfmask = 0x47700;
    c->kernel_gs_base = 0xffff888000000000ull;
    c->pat = 0x0007040600070406ull;
    c->int_shadow = 1;
    c->pending_event = EVENTINJ_VALID | EVENTINJ_TYPE_EXCEPTION | EVENTINJ_EV |
                       EVENTINJ_VECTOR(13) | EVENTINJ_ERROR(0x18);
}

START_TEST(set_then_get_gives_the_state_back)
{
    struct cpu_state in, out;
    fill(&in);
    svm_set_state(&vcpu, &in);
    memset(&out, 0, sizeof(out));
    svm_get_state(&vcpu, &out);
    ck_assert(memcmp(&in, &out, sizeof(in)) == 0);
    /* What VMRUN needs beyond the guest's view. */
    ck_assert(vmcb.save.efer & EFER_SVME);
    ck_assert_uint_eq(vmcb.save.cpl, 3);
    ck_assert_uint_eq(vmcb.control.tlb_control, TLB_CONTROL_FLUSH_ALL);
    ck_assert(sv.vmcb_edited);
    ck_assert_uint_eq(vcpu.event_pending, 1);
    /* No event, no shadow: both cleared in the control area. */
    in.pending_event = 0;
    in.int_shadow = 0;
    svm_set_state(&vcpu, &in);
    svm_get_state(&vcpu, &out);
    ck_assert_uint_eq(out.pending_event, 0);
    ck_assert_uint_eq(out.int_shadow, 0);
    ck_assert_uint_eq(vcpu.event_pending, 0);
}
END_TEST

/* The NMI blocking, which the VMCB does not hold: a loaded blocking is
 * hv's record with the IRET intercepted (nmi.c), and loading none ends
 * whatever the vCPU was doing with its own, the step of its IRET too. */
START_TEST(nmi_blocking_is_set_by_set_state)
{
    struct cpu_state in;
    fill(&in);
    in.nmi_blocked = 1;
    svm_set_state(&vcpu, &in);
    ck_assert(svm_nmi_blocked(&vcpu));
    ck_assert(vmcb.control.intercept_misc1 & ICPT_IRET);
    /* Half way through the IRET's step: #DB intercepted, no IRET one. */
    sv.nmi = SVM_NMI_STEP;
    vmcb.control.intercept_misc1 &= ~ICPT_IRET;
    vmcb.control.intercept_exceptions |= 1u << VEC_DB;
    in.nmi_blocked = 0;
    svm_set_state(&vcpu, &in);
    ck_assert(!svm_nmi_blocked(&vcpu));
    ck_assert(!(vmcb.control.intercept_misc1 & ICPT_IRET));
    ck_assert(!(vmcb.control.intercept_exceptions & (1u << VEC_DB)));
    /* And blocked again from the step: back to the intercepted IRET. */
    sv.nmi = SVM_NMI_STEP;
    vmcb.control.intercept_exceptions |= 1u << VEC_DB;
    in.nmi_blocked = 1;
    svm_set_state(&vcpu, &in);
    ck_assert_uint_eq(sv.nmi, SVM_NMI_BLOCKED);
    ck_assert(vmcb.control.intercept_misc1 & ICPT_IRET);
    ck_assert(!(vmcb.control.intercept_exceptions & (1u << VEC_DB)));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hv_svm_cpustate");
    TCase *t = tcase_create("cpustate");
    tcase_add_test(t, set_then_get_gives_the_state_back);
    tcase_add_test(t, nmi_blocking_is_set_by_set_state);
    suite_add_tcase(s, t);
    return check_main(s);
}
