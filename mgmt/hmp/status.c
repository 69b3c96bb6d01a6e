/*
 * `info status` (status.h).
 */
#include "status.h"

#include <string.h>

void hmp_print_status(FILE *out, const struct hmp_status *st)
{
    fprintf(out, "VM status: %s", st->running ? "running" : "paused");
    /* QEMU adds the run state in brackets when the machine is stopped for
     * another reason than a `stop` (qapi RunState names). */
    if (!st->running && strcmp(st->status, "paused"))
        fprintf(out, " (%s)", st->status);
    fputc('\n', out);
}
