/*
 * RDMSR/WRMSR that return false instead of crashing when the CPU (or the
 * hypervisor) answers with #GP, built on catch_exception().
 */
#include "guestkit/msr.h"
#include "guestkit/trap.h"
#include "guestkit/x86.h"

/* The arguments travel through a struct because catch_exception() calls a
 * void (*)(void *). */
struct msr_access {
    uint32_t msr;
    uint64_t value;
};

static struct exception_info last;

static void do_rdmsr(void *p)
{
    struct msr_access *a = p;
    a->value = rdmsr(a->msr);
}

static void do_wrmsr(void *p)
{
    struct msr_access *a = p;
    wrmsr(a->msr, a->value);
}

bool rdmsr_safe(uint32_t msr, uint64_t *val)
{
    struct msr_access a = {.msr = msr, .value = 0};
    if (catch_exception(do_rdmsr, &a, &last))
        return false;
    *val = a.value;
    return true;
}

bool wrmsr_safe(uint32_t msr, uint64_t val)
{
    struct msr_access a = {.msr = msr, .value = val};
    return !catch_exception(do_wrmsr, &a, &last);
}

int msr_last_vector(void)
{
    return last.vector;
}

uint64_t msr_last_error_code(void)
{
    return last.error_code;
}
