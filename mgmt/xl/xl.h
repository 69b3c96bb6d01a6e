/*
 * xl: Xen's toolstack command (xl(1), Xen 4.17) over hvkit.  Each domain
 * xl creates is one `bin/hvrun --control SOCKET` machine running in the
 * background, recorded in the running domains' registry virsh shares
 * (mgmt/common/rundom.h: $HVKIT_STATE_DIR/running/NAME holds its domain id,
 * the hvrun process, the config file), and xl talks to its manager with
 * the control protocol.  Domain-0 is
 * the host itself (see list.c).
 */
#ifndef HVKIT_XL_H
#define HVKIT_XL_H

#include <limits.h>
#include <stdbool.h>
#include <getopt.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/ctlc.h"
#include "../common/rundom.h"

/* The domain `arg` names (a name or a domain id) in the running domains'
 * registry (rundom.h); prints xl's message and returns false when there is
 * none. */
bool xl_find(const char *arg, struct rundom *out);
/* The registry, opened with xl's messages. */
bool xl_state_open(void);
/* Connect to a domain's manager; false after a message. */
bool xl_connect(const struct rundom *r, struct ctlc *c, int ms);
/* Run one command with no arguments on domain 0 of the machine; false
 * after a message. */
bool xl_simple(const struct rundom *r, const char *execute);

/* Run `execute` with `args` (JSON object text or NULL) on the domain's
 * manager, without printing: ctlc_call_hv's result (0 done, 1 refused, -1
 * no reply from the manager, -2 hv does not answer), the reason in
 * `why`. */
int xl_call(const struct rundom *r, const char *execute, const char *args, char *why,
            size_t whylen);

/* What xl shows of a running domain (query-domains, query-balloon). */
struct xlinfo {
    bool ok;         /* its manager answered */
    char state[16];  /* running blocked paused shutdown crashed dying */
    uint64_t ram;    /* bytes of RAM the domain was built with */
    uint64_t memory; /* bytes the guest has now (less with the balloon) */
    uint64_t target; /* bytes the balloon was asked for (xl mem-set), may be above ram */
    bool ballooned;  /* the guest's balloon driver runs */
    uint64_t vcpus;
    uint64_t cpu_ns; /* its vCPUs' time in guest mode (query-domains cpu-time-ns) */
    /* vCPU hot-plug: vcpus is how many it was built with (maxvcpus); how
     * many the host lets it run (xl vcpu-set) and how many run now. */
    uint64_t available, online;
    /* When not ok: why (hv does not answer, or its manager does not), and
     * whether the fields above are the last known ones (the manager's
     * x-hv-status: hv's last query-domains reply). */
    char why[200];
    bool stale;
};
/* Ask the domain's manager; false when hv does not answer: then the last
 * known state if the manager has one (stale), else state "dying" and
 * zeros. */
bool xl_query(const struct rundom *r, struct xlinfo *i);
/* The same, a failure said in libxl's words ("libxl: error: domain N:
 * WHY") on stderr. */
bool xl_query_or_say(const struct rundom *r, struct xlinfo *i);
/* How many virtio disks its machine has from its start (query-block); 0
 * when its manager does not answer, -1 after libxl's error line when hv
 * does not (the same for the two below). */
int xl_disk_count(const struct rundom *r);
/* The names (vdevs) of the disks attached to it at run time (xl
 * block-attach), at most max; how many. */
int xl_hot_disks(const struct rundom *r, char names[][32], int max);
/* The same disks with what query-block says of each; how many. */
struct xlhotdisk {
    char vdev[32];
    char file[PATH_MAX];
    char format[8];
    bool readonly;
};
int xl_hot_disk_info(const struct rundom *r, struct xlhotdisk *out, int max);
/* Its disks' I/O as xentop's VBD columns count it, summed over its
 * virtio disks (query-blockstats): read and write requests, sectors of
 * 512 bytes read and written.  `ok` is false when the manager did not
 * give them (an hv without query-blockstats, or no answer). */
struct xlvbd {
    bool ok;
    int disks;
    uint64_t rd, wr, rsect, wsect;
};
bool xl_vbd_stats(const struct rundom *r, struct xlvbd *v);
/* The time its vCPUs ran in guest mode, in seconds. */
double xl_cpu_secs(const struct xlinfo *i);

/* Domain-0: the host that runs xl and the machines. */
struct xlhost {
    unsigned long total_kb, free_kb; /* MemTotal, MemAvailable */
    int cpus;                        /* online CPUs */
    double cpu_secs;                 /* CPU time of all its processes */
};
void xl_host(struct xlhost *h);

/* xl's option handling (its SWITCH_FOREACH_OPT): -h prints the command's
 * help and exits 0; an unknown option prints "option `X' not supported."
 * and exits 2; fewer than `reqargs` arguments after the options prints
 * "'xl CMD' requires at least N argument(s)." and the help, exit 2.
 * Returns the next option, or -1 when they are done. */
int xl_getopt(int argc, char **argv, const char *optstring, const struct option *longopts,
              const char *cmd, int reqargs);

/* The configuration xl keeps for a domain (running/NAME.cfg, kept.c).
 * Keep `file` and the KEY=VALUE lines `over` as it. */
void xl_keep_config(const struct rundom *r, const char *file, char **over, int nover);
/* The same from the configuration's text (xl restore: the save file's);
 * false after a warning when it cannot be written. */
bool xl_keep_config_text(const struct rundom *r, const char *text, size_t len, char **over,
                         int nover);
/* Read it into d (quietly: it was checked when kept); false when there is
 * none. */
struct xldom;
bool xl_kept_config(const struct rundom *r, struct xldom *d);
/* Record that its CD-ROM drive `vdev` holds `file` ("": nothing), after hv
 * made the change (cd-insert, cd-eject); false when it could not be
 * written (after a warning) or names no such drive. */
bool xl_keep_cd_medium(const struct rundom *r, const char *vdev, const char *file);
/* Bring its CD-ROM drive's medium in line with the one hv says the drive
 * holds, which the monitor may have changed behind xl's back (xl save
 * records what it keeps); false when that could not be written. */
bool xl_sync_cd_medium(const struct rundom *r);
/* The disks of configuration d in bin/hvrun's terms, d->ndisks of them
 * (create.c; xl create and xl restore). */
void xl_disks(const struct xldom *d, struct rundom_disk *out);
/* xl list -l: the domains' configurations as JSON (listlong.c). */
int xl_list_long(const struct rundom *doms, int n);

int cmd_create(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_console(int argc, char **argv);
int cmd_ops(int argc, char **argv); /* pause unpause shutdown reboot destroy domid domname */
int cmd_info(int argc, char **argv);
int cmd_uptime(int argc, char **argv);
int cmd_dmesg(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_vcpu_list(int argc, char **argv);
int cmd_vcpu_set(int argc, char **argv);
int cmd_vcpu_pin(int argc, char **argv);
int cmd_mem(int argc, char **argv); /* mem-set mem-max */
int cmd_rename(int argc, char **argv);
int cmd_trigger(int argc, char **argv);
int cmd_dump_core(int argc, char **argv);
int cmd_config_update(int argc, char **argv);
int cmd_block_list(int argc, char **argv);
int cmd_block_change(int argc, char **argv); /* block-attach block-detach cd-insert cd-eject */
int cmd_save(int argc, char **argv);
int cmd_restore(int argc, char **argv);

/* Print a command's usage (xl help's text for it) to stderr. */
void xl_usage(const char *cmd);

#endif
