/*
 * One monitor: its state and the path of a command line from text to the
 * handler (QEMU 7.2's handle_hmp_command).
 */
#include "hmp.h"

#include "cmds.h"
#include "cmdtab.h"
#include "parse.h"
#include "regs.h"

void hmp_init(struct hmp *m, FILE *out, const struct hmp_backend *be, void *ctx, int dom)
{
    *m = (struct hmp){.out = out, .be = be, .ctx = ctx, .dom = dom};
    /* QEMU starts with /x and 4-byte units (monitor/hmp.c). */
    m->fmt_format = 'x';
    m->fmt_size = 4;
}

void hmp_banner(struct hmp *m)
{
    fprintf(m->out, "hvkit monitor (QEMU 7.2 HMP) - type 'help' for more information\n");
    fflush(m->out);
}

/* '$name' in an expression: the register of the monitor's current vCPU,
 * read from the machine when the expression needs it.  Without a machine
 * or vCPU QEMU answers "unknown register", and so does this. */
static int reg_lookup(void *ctx, const char *name, int64_t *val)
{
    struct hmp *m = ctx;
    struct hmp_regs r;
    struct hmp_err err;
    if (!m->be || !m->be->regs || m->be->regs(m->ctx, m->dom, m->cpu, &r, &err) < 0)
        return -1;
    return hmp_reg_value(&r, name, val);
}

void hmp_run_line(struct hmp *m, const char *line)
{
    const char *rest = line;
    const struct hmp_cmd *cmd = hmp_parse_command(m->out, line, &rest, hmp_cmds);
    if (cmd) {
        struct hmp_args args = {0};
        struct hmp_parse_ctx pc = {&m->fmt_format, &m->fmt_size, reg_lookup, m};
        if (hmp_parse_args(m->out, cmd, rest, &pc, &args) < 0) {
            hmp_try_help(m->out, line, rest);
        } else {
            cmd->run(m, &args);
            hmp_args_clear(&args);
        }
    }
    fflush(m->out);
}

void hmp_print_err(struct hmp *m, const struct hmp_err *err)
{
    fprintf(m->out, "Error: %s\n", err->desc);
}
