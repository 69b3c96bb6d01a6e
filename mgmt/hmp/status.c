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

const char *hmp_runstate(const char *domain_state, bool *running)
{
    /* Xen's "blocked" is a domain whose vCPUs wait (HLT) for an event: to
     * QEMU that machine is running.  A crashed guest is QEMU's
     * "guest-panicked"; a domain being destroyed is shut down. */
    static const struct {
        const char *xen, *qemu;
        bool running;
    } map[] = {
        {"running", "running", true},         {"blocked", "running", true},
        {"paused", "paused", false},          {"shutdown", "shutdown", false},
        {"crashed", "guest-panicked", false}, {"dying", "shutdown", false},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (!strcmp(domain_state, map[i].xen)) {
            *running = map[i].running;
            return map[i].qemu;
        }
    *running = false;
    return domain_state;
}
