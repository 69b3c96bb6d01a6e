/*
 * The commands that change the machine's run state, and `cpu`: each maps
 * onto one control-protocol command of the same name.
 */
#include "cmds.h"

#include <string.h>

#include "hvkit/ctl.h"

/* Send `command` (no arguments, no result); errors as "Error: ...", a
 * machine without the command as QEMU's "not currently supported". */
static int simple(struct hmp *m, const char *command)
{
    struct hmp_err err;
    if (!m->be || !m->be->simple) {
        fprintf(m->out, "Error: %s\n", HMP_UNSUPPORTED);
        return -1;
    }
    if (m->be->simple(m->ctx, m->dom, command, &err) < 0) {
        hmp_print_err(m, &err);
        return -1;
    }
    return 0;
}

HMP_HANDLER(hmp_do_stop)
{
    (void)a;
    simple(m, "stop");
}

HMP_HANDLER(hmp_do_cont)
{
    (void)a;
    simple(m, "cont");
}

HMP_HANDLER(hmp_do_system_reset)
{
    (void)a;
    simple(m, "system_reset");
}

HMP_HANDLER(hmp_do_system_powerdown)
{
    (void)a;
    simple(m, "system_powerdown");
}

/* `nmi`: QEMU 7.2's HMP nmi is QMP's inject-nmi, which on x86 reaches
 * every CPU of the machine (through its LINT1); success prints nothing. */
HMP_HANDLER(hmp_do_nmi)
{
    (void)a;
    simple(m, CTL_CMD_INJECT_NMI);
}

/* `quit` ends hv and every domain, as QEMU's ends the emulator; the
 * monitor ends with it even if the machine was already gone. */
HMP_HANDLER(hmp_do_quit)
{
    (void)a;
    struct hmp_err err;
    if (m->be && m->be->simple)
        m->be->simple(m->ctx, m->dom, "quit", &err);
    m->quit = true;
}

/* `cpu N`: later x, print $reg and info registers use vCPU N.  QEMU
 * accepts only a vCPU that exists. */
HMP_HANDLER(hmp_do_cpu)
{
    int index = (int)hmp_args_num(a, "index", 0);
    struct hmp_cpu cpus[HMP_MAX_CPUS];
    struct hmp_err err;
    int n = m->be && m->be->cpus ? m->be->cpus(m->ctx, m->dom, cpus, HMP_MAX_CPUS, &err) : -1;
    for (int i = 0; i < n; i++)
        if (cpus[i].index == index) {
            m->cpu = index;
            return;
        }
    fprintf(m->out, "invalid CPU index\n");
}
