/*
 * rundom: the running domains, one registry the front-ends share (xl and
 * virsh), as both real tools see the one hypervisor of their host.
 *
 * Each running domain is one `bin/hvrun --control SOCKET` machine in the
 * background, in a process group of its own.  Its files live in the
 * `running` folder of the state directory (statedir.h):
 *
 *   running/NAME        its record (below), written whole and renamed
 *   running/NAME.sock   its manager's control-protocol socket
 *   running/NAME.log    its console and hv's lines
 *   running/next-domid  the next domain id to give (Xen counts up from 1)
 *   running/lock        held by a front-end from its start to its end
 *
 * A record is a few KEY=VALUE lines:
 *
 *   name=web1
 *   domid=3
 *   pid=12345
 *   start=1767000000
 *   uuid=4f1c...            (may be empty)
 *   tool=xl                 (the front-end that started it: xl or virsh)
 *   config=/home/student/web1.cfg   (the file it was started from)
 *   maxmem=65536            (KiB, when a front-end set one)
 *   affinity0=0-1           (vCPU 0's hard pinning, when set)
 *   dmesg=1234              (bytes of the log `xl dmesg -c` cleared)
 *
 * A record whose machine has ended is removed by the next listing, as Xen
 * and libvirt forget a domain that is gone.
 */
#ifndef HVKIT_MGMT_COMMON_RUNDOM_H
#define HVKIT_MGMT_COMMON_RUNDOM_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "ctlc.h"

/* Room for every record in one listing. */
#define RUNDOM_MAX 256
/* vCPUs whose pinning a record keeps. */
#define RUNDOM_VCPUS 8

/* One running domain. */
struct rundom {
    char name[64];
    int domid;
    pid_t pid;  /* bin/hvrun, leader of its own process group */
    long start; /* when it was created (seconds since the epoch) */
    char uuid[40];
    char tool[8];
    char config[PATH_MAX];
    /* Kept for the front-ends' commands that change them; 0 or "" when
     * never set: */
    long maxmem_kib;                 /* xl mem-max, virsh setmaxmem */
    char affinity[RUNDOM_VCPUS][32]; /* vCPU pinning, "" = all CPUs */
    long dmesg_off;                  /* xl dmesg -c: the log read so far */
};

/* What a machine is started with (bin/hvrun's options). */
struct rundom_disk {
    const char *file, *format; /* format: raw or qcow2 */
    bool readonly;
    /* The machine's CD-ROM drive (ide1-cd0, bin/hvrun -drive media=cdrom),
     * `file` its medium ("" or NULL: an empty drive). */
    bool cdrom;
};
struct rundom_spec {
    const char *kernel, *cmdline; /* cmdline may be "" */
    long memory_mib;
    /* More than memory_mib: the domain is built with this much RAM and its
     * balloon's first target is memory_mib (bin/hvrun -m MAXMEM --balloon
     * MEMORY), so a guest's balloon driver gives the rest back at its
     * start, as a Xen guest started with memory < maxmem does; the host
     * may later raise the target up to it.  0: memory_mib. */
    long maxmem_mib;
    int vcpus; /* 0 or 1: one (bin/hvrun -smp N above that) */
    /* More than vcpus: the domain is built with this many vCPUs of which
     * `vcpus` are available at its start (bin/hvrun -smp N,maxcpus=M;
     * include/hvkit/pv.h "vCPU hot-plug").  0: vcpus. */
    int maxvcpus;
    /* destroy, restart or preserve; NULL leaves hvrun's default (destroy). */
    const char *on_poweroff, *on_reboot, *on_crash;
    bool start_paused; /* -S: a saved state is restored into it (savefile.h) */
    int ndisks;
    struct rundom_disk disk[3];
};

/* Open the registry (creating the folder) and take its lock, which is held
 * until the process ends or rundom_unlock().  `prog` starts the messages
 * printed on failure ("xl", "error").  False after a message. */
bool rundom_open(const char *prog);
void rundom_unlock(void);

/* A domain's file: `suffix` "" (the record), ".sock" or ".log"; left
 * empty when the path does not fit. */
void rundom_path(char *out, size_t len, const char *name, const char *suffix);

/* The live domains, sorted by domain id (records of ended ones removed). */
int rundom_list(struct rundom *out, int max);
/* The domain `arg` names: its name, or its domain id in decimal. */
bool rundom_find(const char *arg, struct rundom *out);

/* The files a domain has beside its record, removed and renamed with it:
 * ".sock", ".log", and ".cfg" (the configuration text a front-end keeps,
 * xl's with its KEY=VALUE lines). */
extern const char *const rundom_suffixes[];
/* Write or remove a record (remove takes the files above too);
 * save prints a message and returns false on failure. */
bool rundom_save(const struct rundom *r);
void rundom_forget(const struct rundom *r);
/* Move a domain's record and files to `name` (no machine is touched). */
bool rundom_rename(struct rundom *r, const char *name);

/* Take the next free domain id. */
int rundom_next_domid(void);

/* Start the machine `s` for the record `r` (name, domid, uuid, tool and
 * config filled in by the caller): spawn bin/hvrun ($HVKIT_TOP/bin/hvrun),
 * save the record, wait for the manager's greeting.  0 when it runs; -1
 * when it could not be started (errno); -2 when it ended or never greeted
 * (its log has been copied to stderr and nothing is left behind). */
int rundom_start(const struct rundom_spec *s, struct rundom *r);

/* Connect to the domain's manager, waiting at most `ms`; -1 with the reason
 * in `why`. */
int rundom_connect(const struct rundom *r, struct ctlc *c, int ms, char *why, size_t whylen);

/* The medium in the machine's CD-ROM drive as hv has it (query-block's
 * ide1-cd0): 1 with the file it was put in from (its name in hv) in
 * `file`, 0 for an empty drive, -1 when the machine has no drive or does
 * not say. */
int rundom_cd_medium(const struct rundom *r, char *file, size_t len);

/* Whether the machine's process is gone; wait up to `ms` for it. */
bool rundom_wait_gone(const struct rundom *r, int ms);

/* End the machine (quit, then signals if it lingers) and forget its
 * record. */
void rundom_end(const struct rundom *r);

#endif
