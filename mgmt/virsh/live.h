/*
 * Running domains as virsh sees them.
 *
 * A running domain is one `bin/hvrun --control` machine in the registry the
 * front-ends share (mgmt/common/rundom.h): a domain started by `xl create`
 * is in `virsh list` and one started by `virsh start` in `xl list`, as both
 * tools see the one hypervisor of a real host.  Its state comes from its
 * manager (the control protocol's query-status); what libvirt adds to it,
 * the *reason* for the state ("running (booted)", "paused (user)", "shut
 * off (destroyed)"), virsh keeps itself, in domains/reason/NAME, since the
 * hypervisor does not know why a domain was started or stopped.
 *
 * The definition of a running domain is its persistent one
 * (domains/NAME.xml), or for a transient domain (`virsh create`) the one it
 * was created from, kept in domains/transient/NAME.xml while it runs.
 */
#ifndef HVKIT_VIRSH_LIVE_H
#define HVKIT_VIRSH_LIVE_H

#include "../common/ctlc.h"
#include "../common/rundom.h"
#include "../common/savefile.h"
#include "store.h"
#include "virsh.h"

/* libvirt's domain states (virDomainState), the numbers domstats prints. */
enum vstate {
    VSTATE_NOSTATE = 0,
    VSTATE_RUNNING = 1,
    VSTATE_BLOCKED = 2,
    VSTATE_PAUSED = 3,
    VSTATE_SHUTDOWN = 4,
    VSTATE_SHUTOFF = 5,
    VSTATE_CRASHED = 6,
};

/* A domain virsh can name: defined, running, or both. */
struct vdom {
    struct dom dom;    /* its definition (a transient one has no file) */
    bool persistent;   /* defined in domains/NAME.xml */
    bool active;       /* its machine runs */
    struct rundom run; /* the registry's record, when active */
    enum vstate state;
    char reason[24]; /* libvirt's word for why it is in that state */
};

/* Open the shared registry (after store_open()); false after a message. */
bool live_open(void);

/* Find the domain `key` names: a running domain's id, a UUID or a name, in
 * the order virsh tries them.  False when there is none (nothing printed). */
bool live_find(const char *key, struct vdom *out);

/* The same for a command's "domain" option, with virsh's "failed to get
 * domain" message when there is none. */
bool live_lookup(const struct cmd_call *call, struct vdom *out);

/* Every domain: the running ones by id, then the defined ones that do not
 * run, by name, as `virsh list --all` orders them.  Caller frees. */
struct vdom *live_list(int *count);

/* libvirt's name of a state ("running", "paused", "shut off", ...). */
const char *live_state_name(enum vstate s);

/* Remember why a domain is in its state ("booted", "user", "destroyed"). */
void live_set_reason(const char *name, const char *reason);

/* Connect to a running domain's manager; false after virsh's error. */
bool live_connect(const struct vdom *v, struct ctlc *c);

/* Run one control-protocol command on domain 0 of a running domain's
 * machine: `args` are the members after "domain" (JSON text, "" for none).
 * 0 with the reply's "return" token in *ret (c stays open for the caller
 * to read it and close), or -1 after printing "error: FAILED" and
 * "error: internal error: WHY". */
int live_call(const struct vdom *v, struct ctlc *c, const char *execute, const char *args, int ms,
              int *ret, const char *failed);

/* End a running domain's machine (quit, then signals if it lingers), forget
 * it in the registry and record `reason` ("destroyed", "saved"). */
bool live_end(const struct vdom *v, const char *reason);

/* The memory the domain has now, in KiB: what its manager reports for a
 * running domain, <currentMemory> for one that is not. */
uint64_t live_memory_kib(const struct vdom *v);

/* The most memory the domain may have, in KiB: for a running domain the
 * RAM its machine was built with (its live <memory>, which `setmaxmem
 * --config` leaves as it is until the next start), <memory> for one that
 * is not. */
uint64_t live_max_memory_kib(const struct vdom *v);

/* Call `fn` for each process of a running domain's machine (its process
 * group: hvrun, the emulator, the manager) with its pid and its
 * /proc/PID/stat fields after the command name; the number of processes. */
int live_each_process(const struct vdom *v, void (*fn)(pid_t pid, const char *stat, void *arg),
                      void *arg);

/* The machine's CPU time in clock ticks (proc(5) utime, stime) and its
 * resident pages. */
struct live_times {
    unsigned long long user, sys, rss_pages;
};
void live_times(const struct vdom *v, struct live_times *t);

/* The host CPU time a running domain's machine has used (every process of
 * its process group: hvrun, the emulator, the manager), in nanoseconds,
 * as libvirt's qemu driver reports the QEMU process's. */
uint64_t live_cpu_ns(const struct vdom *v);

/* The vCPUs a running domain was built with, its live maximum
 * (query-cpus-fast), or 0 when its manager does not answer; *online gets
 * the mask of those online now (vCPU hot-plug, include/hvkit/pv.h: bit i
 * for vCPU i), may be NULL. */
unsigned live_vcpus(const struct vdom *v, uint32_t *online);
/* The same, and each vCPU's own time in guest mode in nanoseconds
 * (query-cpus-fast's cpu-time-ns) into ns[0..max-1]. */
unsigned live_vcpu_info(const struct vdom *v, uint32_t *online, uint64_t *ns, unsigned max);
/* The number of vCPUs online in a running domain (0: no answer). */
unsigned live_vcpus_online(const struct vdom *v);

/* save.c: save, restore, managedsave, managedsave-remove,
 * save-image-dumpxml, save-image-define (rows of
 * lifecycle.c's table). */
bool virsh_save(const struct cmd_call *call);
bool virsh_restore(const struct cmd_call *call);
bool virsh_managedsave(const struct cmd_call *call);
bool virsh_managedsave_remove(const struct cmd_call *call);
bool virsh_save_image_dumpxml(const struct cmd_call *call);
bool virsh_save_image_define(const struct cmd_call *call);

/* Start a machine for record r from the save image FILE, read into sf,
 * with the disks of the domain XML it holds (into *def; `fallback` for a
 * bare state): savefile_restore().  False with why. */
bool live_restore(const char *file, const struct savefile *sf, const struct domain_def *fallback,
                  struct rundom *r, int paused, struct domain_def *def, char *why, size_t whylen);

/* Read the domain XML of file `path` (define, create, --xml) into d;
 * false after virsh's words, `failed` before a parse error's (save.c). */
bool live_read_xml(const char *path, struct domain_def *d, const char *failed);

/* The disks of a definition in bin/hvrun's terms, d->ndisks of them
 * (lifecycle.c). */
void machine_disks(const struct domain_def *d, struct rundom_disk *out);

/* Has `virsh managedsave` left a state for this domain? */
bool has_managed_save(const char *name);

/* The "Requested operation is not valid: domain is not running" refusal,
 * after `failed` (when not NULL). */
bool live_not_running(const char *failed);

/* Which of a domain's configurations a change affects (domain.c):
 * libvirt's --live/--config/--current, where --current (the default)
 * means the running domain when it runs, its definition otherwise; false
 * after virsh's message for a bad mix or --live on a domain that is not
 * running. */
bool live_affects(const struct cmd_call *call, const struct vdom *v, bool *live, bool *config);

/* livedisk.c: the disks attached to a running domain while it ran (the
 * live configuration beyond the definition), at most max into out; how
 * many.  Attach disk k to it (a virtio disk), detach the one called
 * `target`; false after virsh's messages. */
int live_disks(const struct vdom *v, struct disk_def *out, int max);
/* The live XML's CD-ROM medium: a running domain's drive holds what hv
 * says, which change-media --live or the monitor may have changed since
 * the definition was written; put it into d (a copy of v's definition).
 * A domain that is not running, or whose hv does not say, keeps d's. */
void live_cd_media(const struct vdom *v, struct domain_def *d);
bool live_disk_attach(const struct vdom *v, const struct disk_def *k);
bool live_disk_detach(const struct vdom *v, const char *target);

#endif
