/*
 * cmdline.h - hv's own options, from its Multiboot command line
 * (Multiboot 3.3: info->cmdline, when MB_INFO_CMDLINE is set).
 *
 *   mem=SIZE             guest RAM, e.g. 64M (suffixes K, M, G; default 64M)
 *   trace                log every VM exit
 *   vendor=svm|vmx|auto  which backend (default auto: whichever the CPU has)
 *   balloon=SIZE         the size the PV balloon asks the guest to have
 *                        from the start (core/pv_balloon.c), below mem=
 *   max-exits=N          end the guest as crashed at its N+1st VM exit
 *                        (default 0: no limit), so that a guest stuck in a
 *                        loop of exits fails fast (the lab grader uses it)
 *   npt=eager|lazy       eager (default): all guest RAM is in the second-level
 *                        tables from the start; lazy: each page is mapped when
 *                        the guest first touches it (a teaching mode: the
 *                        trace and statistics show the faults)
 *   domains=N            run N copies of the guest, each in a domain of its
 *                        own with mem= of RAM (default 1, at most
 *                        HV_DOMAINS_MAX): a demonstration that hv's core
 *                        runs several guests; domain 0's end is the last line
 *   smp=N                every domain has N vCPUs (default 1, at most
 *                        HV_SMP_MAX): vCPU 0 starts the guest, the others
 *                        wait for its INIT-SIPI-SIPI (core/smp.c)
 *   maxcpus=M            with smp=N, N < M: every domain is built with M
 *                        vCPUs of which the first N are available at the
 *                        start; the host makes others available later and
 *                        the guest brings them up (QEMU's -smp N,maxcpus=M;
 *                        include/hvkit/pv.h "vCPU hot-plug")
 *   slat-dot             when the guest ends, print its second-level tables as
 *                        a Graphviz graph ("[hv] dot: " lines;
 *                        docs/slatgraph.sh draws them)
 *   disk-test            before the guest starts, exercise the driver of the
 *                        outer machine's disks on every file the launcher
 *                        attached (disk/outer.h: outer_disk_selftest)
 *   tslice=MS            the scheduler's time slice in milliseconds (1 to
 *                        1000, default 10): how long a vCPU keeps the CPU
 *                        while others wait to run (core/sched.h)
 *   idle=halt|spin       what hv does while every vCPU waits: halt (default)
 *                        stops the host CPU until a timer or about a
 *                        millisecond has passed (backend.h host_wait), so an
 *                        idle guest costs the host nearly nothing; spin
 *                        loops on PAUSE, for an outer emulator whose clock
 *                        races ahead while its CPU halts (Bochs with
 *                        "clock: sync=none", which bin/hvrun gives it)
 *   powerdown-after=MS   press domain 0's power button MS milliseconds
 *                        (1 to 600000) after the domains start: a scripted
 *                        event for demonstrations and tests of a guest's
 *                        shutdown (the ACPI power button, dev/acpi_pm.h),
 *                        the same press a control channel makes on request
 *   name=NAME            domain 0's name (QEMU's -name; default "d0"):
 *                        letters, digits, "-_.", not starting with a digit,
 *                        at most 63 bytes
 *   paused               the domains of the boot start paused, as QEMU's -S
 *                        starts its CPU stopped: a control channel's `cont`
 *                        starts them (a front-end first restores a saved
 *                        state into one, domain-restore)
 *   on_poweroff=ACTION   what becomes of a domain whose guest powered off,
 *   on_reboot=ACTION     reset its machine, or crashed: destroy (the
 *   on_crash=ACTION      default for all three: its memory goes back and,
 *                        once no domain runs, hv ends), restart (it is
 *                        built again and starts over) or preserve (it is
 *                        kept as it ended for a front-end to look at), as
 *                        xl.cfg(5) names them (domain.h)
 *   cdrom=N|empty        domain 0 gets a CD-ROM drive on the secondary IDE
 *                        channel (dev/ide_cd.h, core/cdrom.c) holding the
 *                        launcher's file number N as its medium (read-only),
 *                        or no medium (bin/hvrun -cdrom FILE, -drive
 *                        if=ide,media=cdrom[,file=FILE])
 *
 * Compiled hosted too (tests/unit/test_hv_cmdline.c).
 */
#ifndef HV_CORE_CMDLINE_H
#define HV_CORE_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum hv_vendor { VENDOR_AUTO, VENDOR_SVM, VENDOR_VMX };

/* What to do with a domain once it has ended, per kind of end, as xl.cfg(5)
 * names the values of on_poweroff, on_reboot and on_crash (its
 * rename-restart, coredump-* and soft-reset are not offered).  The run loop
 * carries it out (run.c, domain.h: domain_end_action). */
enum domain_action {
    /* Tear it down: its memory goes back to hv's heap. */
    DOMAIN_ACTION_DESTROY,
    /* Build it again from its image and run it from the start. */
    DOMAIN_ACTION_RESTART,
    /* Keep it as it ended, memory and all, for a front-end to inspect,
     * until it is destroyed or reset. */
    DOMAIN_ACTION_PRESERVE,
};

/* Parse and name an action: "destroy", "restart", "preserve".  Parse
 * returns 0, or -1 for any other text (of length len). */
int domain_action_parse(const char *s, size_t len, enum domain_action *out);
const char *domain_action_name(enum domain_action a);

/* The most drive= words (one per disk of the outer machine hv can use). */
#define HV_DRIVES_MAX 4

/* savevm=NAME@MS, loadvm=NAME@MS, delvm=NAME@MS, save=N@MS, restore=N@MS
 * (core/vmsave.h): what to do to domain 0's snapshots, or with outer disk
 * N as a save file, once it has run MS milliseconds; kept in order of MS. */
#define HV_VMEVENTS_MAX 4
#define HV_VMEVENT_NAME 32
enum hv_vmevent_kind { HV_SAVEVM, HV_LOADVM, HV_DELVM, HV_SAVE, HV_RESTORE };
struct hv_vmevent {
    enum hv_vmevent_kind kind;
    char name[HV_VMEVENT_NAME];
    uint64_t at_ms;
};

struct hv_options {
    uint64_t mem;     /* bytes of guest RAM */
    uint64_t balloon; /* balloon=SIZE: the balloon's first target in bytes, 0 = none */
    bool trace;
    enum hv_vendor vendor;
    uint64_t max_exits;  /* 0: no limit */
    bool lazy;           /* npt=lazy */
    bool slat_dot;       /* print the tables as a graph at the end */
    unsigned domains;    /* domains=N: copies of the guest, 1 by default */
    unsigned smp;        /* smp=N: vCPUs per domain, 1 by default */
    unsigned maxcpus;    /* maxcpus=M: vCPUs built, 0 = smp */
    bool disk_test;      /* disk-test: exercise the outer disks first */
    bool virtio_console; /* a virtio-console device (core/vdev.h) */
    bool ctl;            /* ctl: the control channel on COM2 (core/ctl.h) */
    bool paused;         /* paused: the boot's domains start paused */
    char name[64];       /* name=: domain 0's name ("" = "d0") */
    /* cdrom=: domain 0's CD-ROM drive (HV_CDROM_NONE: none), its medium the
     * outer disk of this number, or HV_CDROM_EMPTY. */
    int cdrom;
    /* drive=...: virtio-blk disks (core/vdev.h parses each), the words as
     * they stand in the command line (not NUL-terminated). */
    const char *drive[HV_DRIVES_MAX];
    uint8_t drive_len[HV_DRIVES_MAX];
    unsigned ndrives;
    /* tslice=: the scheduler's time slice, in milliseconds. */
    unsigned tslice_ms;
    /* idle=spin: spin, not halt, while every vCPU waits (run.c idle()). */
    bool idle_spin;
    /* powerdown-after=: when to press domain 0's power button (ms after
     * the start; 0: never). */
    unsigned powerdown_after_ms;
    /* on_poweroff=, on_reboot=, on_crash=: every domain's actions. */
    enum domain_action on_poweroff, on_reboot, on_crash;
    /* savevm=, loadvm=, delvm=, save=, restore=, in order of time. */
    struct hv_vmevent vmevent[HV_VMEVENTS_MAX];
    unsigned nvmevents;
};

/* hv_options.cdrom without a number of an outer disk. */
#define HV_CDROM_NONE  (-1)
#define HV_CDROM_EMPTY (-2)

/* The most domains domains=N accepts. */
#define HV_DOMAINS_MAX 4
/* The most vCPUs smp=N accepts (domain.h DOMAIN_MAX_VCPUS). */
#define HV_SMP_MAX 8

#define HV_MEM_DEFAULT (64ull << 20)
/* Guest RAM must hold the 1 MiB of low memory plus something above it. */
#define HV_MEM_MIN (2ull << 20)
/* hv maps only the first 4 GiB of host memory, and guest RAM must fit in
 * it next to hv: 3 GiB is the most we ever accept. */
#define HV_MEM_MAX (3ull << 30)

/*
 * Parse `cmdline` into *opt (defaults first).  Multiboot loaders (QEMU,
 * GRUB) put the kernel's file name first: skip_first_word says to ignore
 * it.  Returns 0, or -1 with a one-line message in err.  Sizes are rounded
 * up to a multiple of 2 MiB (the nested-paging page size hv uses).
 */
int hv_parse_cmdline(const char *cmdline, bool skip_first_word, struct hv_options *opt, char *err,
                     size_t err_len);

/* Parse "64M"-style sizes: a decimal or 0x number, optional K/M/G suffix
 * (either case).  Returns 0 or -1 on syntax error or overflow. */
int hv_parse_size(const char *s, size_t len, uint64_t *out);

#endif
