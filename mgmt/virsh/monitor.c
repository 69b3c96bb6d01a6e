/*
 * qemu-monitor-command DOMAIN --hmp 'COMMAND': run one command of QEMU's
 * human monitor on a running domain, as libvirt passes it to QEMU's
 * monitor.  The monitor is hvkit's own (mgmt/hmp, docs/monitor.md), linked
 * in as a library: its command table, parser and handlers, on a connection
 * to the domain's manager -- the same code bin/hvrun -monitor runs.
 *
 * Also dump DOMAIN FILE [--memory-only]: libvirt's qemu driver asks QEMU's
 * monitor for dump-guest-memory with --memory-only, and so does this, with
 * the monitor's ELF core writer (mgmt/hmp/elfcore.c).  Without it QEMU
 * would write its migration stream; hvkit writes the same ELF core, which
 * gdb and crash read.
 */
#include "live.h"

#include "../common/saveguard.h"
#include "../hmp/ctlback.h"
#include "../hmp/hmp.h"

#include <stdlib.h>
#include <string.h>

/* Run one HMP line on the domain; its output in *text (malloc'd). */
static bool hmp_line(const struct vdom *v, const char *line, char **text)
{
    static struct ctlc conn;
    size_t len = 0;
    if (!live_connect(v, &conn))
        return false;
    FILE *out = open_memstream(text, &len);
    struct hmp m;
    hmp_init(&m, out, &hmp_ctl_backend, &conn, 0);
    hmp_run_line(&m, line);
    fclose(out);
    ctlc_close(&conn);
    return true;
}

/* One monitor command whose output is not needed. */
static bool monitor_do(const struct vdom *v, const char *line)
{
    char *text = NULL;
    bool ok = hmp_line(v, line, &text);
    free(text);
    return ok;
}

static bool monitor_command(const struct cmd_call *call)
{
    struct vdom v;
    char *text = NULL;
    if (!live_lookup(call, &v))
        return false;
    if (!opt_bool(call, "hmp")) {
        verror("unsupported configuration: hvkit's monitor speaks HMP: use --hmp");
        return false;
    }
    if (!v.active)
        return live_not_running(NULL);
    if (!hmp_line(&v, opt_str(call, "cmd"), &text))
        return false;
    /* virsh prints the monitor's reply and ends it with a newline. */
    size_t n = strlen(text);
    while (n && (text[n - 1] == '\n' || text[n - 1] == '\r'))
        text[--n] = 0;
    printf("%s\n", text);
    free(text);
    return true;
}

static bool dump(const struct cmd_call *call)
{
    struct vdom v;
    char *text = NULL, line[PATH_MAX + 64], failed[PATH_MAX + 400];
    const char *file = opt_str(call, "file");
    if (!live_lookup(call, &v))
        return false;
    snprintf(failed, sizeof(failed), "Failed to core dump domain '%s' to %s", v.dom.def.name, file);
    if (!v.active)
        return live_not_running(failed);
    if (opt_str(call, "format") && strcmp(opt_str(call, "format"), "elf")) {
        verror("%s", failed);
        verror("unsupported configuration: unsupported dumpformat '%s'", opt_str(call, "format"));
        return false;
    }
    /* Without --live the domain stands still while it is dumped, and runs
     * on afterwards, as libvirt does it; a guard lets it run again if
     * virsh dies meanwhile (killed, or a ^C). */
    bool pause = !opt_bool(call, "live") && v.state == VSTATE_RUNNING;
    struct guard resume = {.fd = -1};
    if (pause)
        saveguard_pause(&resume, &v.run);
    if (pause && !monitor_do(&v, "stop")) {
        guard_end(&resume);
        return false;
    }
    snprintf(line, sizeof(line), "dump-guest-memory %s", file);
    /* The monitor prints nothing when the dump worked, its error if not;
     * a domain it could not reach runs on as well (live_connect said why). */
    bool reached = hmp_line(&v, line, &text);
    bool ok = reached && !text[0];
    if (ok && opt_bool(call, "crash"))
        live_end(&v, "crashed");
    else if (ok && opt_bool(call, "reset"))
        monitor_do(&v, "system_reset");
    if (pause && !(ok && opt_bool(call, "crash")))
        monitor_do(&v, "cont");
    guard_end(&resume);
    if (!reached)
        return false;
    if (!ok) {
        verror("%s", failed);
        text[strcspn(text, "\r\n")] = 0;
        verror("internal error: %s", text);
    } else {
        vinfo("\nDomain '%s' dumped to %s", v.dom.def.name, file);
    }
    free(text);
    return ok;
}

const struct cmd_def mon_cmds[] = {
    {"dump",
     dump,
     "dump the core of a domain to a file for analysis",
     {{"domain", OPT_STRING, true, "domain name, id or uuid"},
      {"file", OPT_STRING, true, "where to dump the core"},
      {"live", OPT_BOOL, false, "perform a live core dump if supported"},
      {"crash", OPT_BOOL, false, "crash the domain after core dump"},
      {"bypass-cache", OPT_BOOL, false, "avoid file system cache when dumping"},
      {"reset", OPT_BOOL, false, "reset the domain after core dump"},
      {"verbose", OPT_BOOL, false, "display the progress of dump"},
      {"memory-only", OPT_BOOL, false, "dump domain's memory only"},
      {"format", OPT_STRING, false, "specify the format of memory-only dump"}},
     "Core dump a domain."},
    {"qemu-monitor-command",
     monitor_command,
     "QEMU Monitor Command",
     {{"domain", OPT_STRING, true, "domain name, id or uuid"},
      {"hmp", OPT_BOOL, false, "command is in human monitor protocol"},
      {"pretty", OPT_BOOL, false, "pretty-print any qemu monitor protocol output"},
      {"return-value", OPT_BOOL, false,
       "extract the value of the 'return' key from the returned string"},
      {"cmd", OPT_ARGV, true, "command"}},
     "QEMU Monitor Command"},
    {NULL, NULL, NULL, {{0}}, NULL},
};
