/*
 * ctl_harness.c - what hv's control-protocol code needs from the rest of
 * hv when it runs hosted (tests/unit/test_hv_ctl.c, tests/fuzz/fuzz_ctl.c):
 * the run loop's host_load_vcpu() and a backend whose state is all in
 * struct vcpu already (the tests set every vCPU's `loaded` to
 * VCPU_STATE_ALL), so that the register and memory queries run for real.
 */
#include "core/hv.h"
#include "core/log.h"

/* The run loop's vcpu_load (run.c): here it only records the vCPU, which
 * the tests check. */
void host_load_vcpu(struct host *host, struct vcpu *v)
{
    host->loaded = v;
}

/* hv's log (core/nmi.c writes to it with `trace`): nothing to see here. */
void hv_log(const char *fmt, ...)
{
    (void)fmt;
}

/* The run loop's guest-time conversions (run.c) at 1 GHz: a TSC tick is a
 * nanosecond, so the tests see the ticks they set. */
uint64_t vcpu_cpu_time_ns(const struct vcpu *v)
{
    return v->run_tsc;
}

uint64_t domain_cpu_time_ns(const struct domain *d)
{
    uint64_t ns = 0;
    for (unsigned i = 0; i < d->nr_vcpus; i++)
        ns += d->vcpu[i]->run_tsc;
    return ns;
}

/* Nothing to load: the tests fill struct vcpu themselves. */
static void no_load(struct vcpu *v, unsigned what)
{
    (void)v;
    (void)what;
}

const struct backend ctl_test_backend = {.name = "test", .load_state = no_load};
