/*
 * hmp: hvkit's QEMU monitor, the "human monitor" (HMP) of QEMU 7.2 in front
 * of a running hv.  A student types the commands they would type at QEMU's
 * `(qemu)` prompt -- `info status`, `stop`, `x /16xb 0x108000`, `cont` --
 * and gets QEMU's answers in QEMU's layout, because the monitor is one of
 * the management front-ends the LPIC-3 305 objectives ask for.
 *
 * The monitor is split in three layers so that the part that decides what
 * the user sees can be tested without a machine:
 *   - the command table, the argument parser, the expression evaluator and
 *     the formatters (cmdtab.c, parse.c, expr.c, memdump.c, regs.c,
 *     status.c, elfcore.c) are pure: text in, text out;
 *   - the command handlers (cmds_*.c) turn a parsed command into calls of a
 *     `struct hmp_backend`, the machine as the monitor sees it;
 *   - the backend that really talks to hv speaks hvkit's control protocol
 *     (docs/control-protocol.md) over the manager's Unix socket (ctlback.c).
 * docs/monitor.md lists every command and what differs from QEMU, and why.
 */
#ifndef HVKIT_MGMT_HMP_H
#define HVKIT_MGMT_HMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "img.h"

/* An error the machine reported: the protocol's class ("GenericError",
 * "CommandNotFound", "DeviceNotFound", "InvalidParameter") and its words. */
struct hmp_err {
    char cls[32];
    char desc[256];
};

/* One segment register as QEMU keeps it (target/i386 SegmentCache): the
 * selector, base and limit, and the descriptor's attribute bits in the
 * position they have in the descriptor's high doubleword (SDM vol 3A 3.4.5
 * "Segment Descriptors"): type in bits 8-11, S 12, DPL 13-14, P 15, AVL 20,
 * L 21, D/B 22, G 23.  `info registers` prints `flags & 0x00ffff00`. */
struct hmp_seg {
    uint16_t selector;
    uint64_t base;
    uint32_t limit;
    uint32_t flags;
    /* Which parts the machine reported: hv's protocol version 1 gives the
     * six segment bases only; the rest prints as dashes. */
    bool known_base;
    bool known_desc; /* selector, limit and flags */
};

/* A vCPU's state as far as `info registers`, `print $reg` and the ELF core
 * need it.  `known_*` say which optional parts the machine reported: hv's
 * control protocol carries no FPU/SSE state, for instance. */
struct hmp_regs {
    uint64_t gpr[16]; /* RAX RCX RDX RBX RSP RBP RSI RDI R8..R15 (x86 encoding order) */
    uint64_t rip, rflags;
    struct hmp_seg seg[6]; /* ES CS SS DS FS GS (x86 encoding order) */
    struct hmp_seg ldt, tr;
    uint64_t gdt_base, idt_base;
    uint32_t gdt_limit, idt_limit;
    uint64_t cr0, cr2, cr3, cr4, cr8, efer;
    uint64_t dr[8];
    bool halted;
    bool interrupt_shadow;
    int cpl; /* the current privilege level, or -1: work it out from SS */
    bool known_gdt, known_idt, known_dr;
};

/* The segment registers' order in struct hmp_regs.seg (the order of their
 * numbers in instruction encodings, SDM vol 2A 3.1.1.1 "Opcode Column in the
 * Instruction Summary Table (Instructions without VEX Prefix)": ES CS SS DS
 * FS GS), which is also QEMU's R_ES..R_GS. */
enum { HMP_ES, HMP_CS, HMP_SS, HMP_DS, HMP_FS, HMP_GS };

/* What `info status` needs: QMP's query-status shape. `status` is QEMU's
 * RunState name ("running", "paused", "shutdown", "guest-panicked", ...). */
struct hmp_status {
    bool running;
    char status[32];
};

/* One domain as `info name`, `info uuid`, `info balloon` see it. */
struct hmp_domain {
    char name[64];
    char uuid[37];
    uint64_t memory; /* bytes */
    int vcpus;
};

/* One block device as `info block` shows it. */
struct hmp_block {
    char device[32];
    char file[512];
    char format[16];
    bool ro, removable, inserted;
    /* A removable drive's (QMP's BlockInfo "locked" and "tray_open"). */
    bool locked, tray_open;
};

/* One disk's I/O counters as `info blockstats` prints them (QMP's
 * BlockDeviceStats members of the same names); `has_idle` is false until
 * the disk saw a request, when QMP leaves idle_time_ns out. */
struct hmp_blockstats {
    char device[32];
    uint64_t rd_bytes, wr_bytes, rd_operations, wr_operations, flush_operations;
    uint64_t rd_total_time_ns, wr_total_time_ns, flush_total_time_ns;
    uint64_t rd_merged, wr_merged, idle_time_ns;
    bool has_idle;
};

#define HMP_MAX_CPUS      64
#define HMP_MAX_BLOCKS    8
#define HMP_MAX_SNAPSHOTS 64

/* One vCPU as `info cpus` shows it. */
struct hmp_cpu {
    int index;
    bool halted;
    long thread_id; /* the host thread running it, or -1 where there is none */
};

/*
 * The machine as the monitor sees it.  Every call returns 0 on success and
 * -1 with `err` filled on failure; `dom` is the domain the monitor is
 * attached to and `cpu` the vCPU chosen with the `cpu` command.  A backend
 * that cannot do something at all leaves the pointer NULL: the command then
 * prints what QEMU prints when the feature is missing.
 */
struct hmp_backend {
    int (*status)(void *ctx, int dom, struct hmp_status *st, struct hmp_err *err);
    /* A command without arguments or result: "stop", "cont",
     * "system_reset", "system_powerdown", "quit", "inject-nmi". */
    int (*simple)(void *ctx, int dom, const char *command, struct hmp_err *err);
    /* The same on a connection of its own, opened and closed for it: for
     * the guard of a monitor that died mid-request (bulk.h), when the
     * monitor's connection may still owe that request's answer.  NULL:
     * nothing can be sent once the monitor is gone. */
    int (*simple_apart)(void *ctx, int dom, const char *command, struct hmp_err *err);
    int (*regs)(void *ctx, int dom, int cpu, struct hmp_regs *regs, struct hmp_err *err);
    /* Read `len` bytes (at most 4096) at `addr`: guest-physical when
     * `physical`, else virtual through the vCPU's page tables. */
    int (*read_mem)(void *ctx, int dom, int cpu, uint64_t addr, void *buf, size_t len,
                    bool physical, struct hmp_err *err);
    /* Save `len` bytes at `addr` (guest-physical when `physical`, else
     * virtual through vCPU `cpu`'s page tables) into the host file `path`
     * (absolute), in one go: the bulk path of memsave, pmemsave and
     * dump-guest-memory (bulk.h).  Guest-physical memory that is not RAM
     * saves as zeros, as QEMU's pmemsave; an unmapped virtual page fails
     * with QEMU's "Invalid addr ..." words.  NULL: those commands read
     * with read_mem instead. */
    int (*save_mem)(void *ctx, int dom, int cpu, uint64_t addr, uint64_t len, bool physical,
                    const char *path, struct hmp_err *err);
    /* The vCPUs: returns their number (at most `max`), or -1. */
    int (*cpus)(void *ctx, int dom, struct hmp_cpu *cpus, int max, struct hmp_err *err);
    int (*domain)(void *ctx, int dom, struct hmp_domain *d, struct hmp_err *err);
    /* hv's version: major, minor, micro and a package string. */
    int (*version)(void *ctx, int v[3], char *package, size_t len, struct hmp_err *err);
    /* The block devices: returns their number (at most `max`), or -1. */
    int (*block)(void *ctx, int dom, struct hmp_block *b, int max, struct hmp_err *err);
    /* The disks' I/O counters (query-blockstats): returns their number
     * (at most `max`), or -1. */
    int (*blockstats)(void *ctx, int dom, struct hmp_blockstats *s, int max, struct hmp_err *err);
    /* Snapshots: "x-savevm", "x-loadvm", "x-delvm" with a tag. */
    int (*snapshot)(void *ctx, int dom, const char *command, const char *tag, struct hmp_err *err);
    /* `info snapshots`: the snapshots of the disk that holds them (QMP's
     * SnapshotInfo, in imgtool's struct): returns their number (at most
     * `max`), or -1. */
    int (*snapshots)(void *ctx, int dom, struct img_snapshot_info *sn, int max,
                     struct hmp_err *err);
    /* The balloon: ask the guest to have `bytes`; read what it has. */
    int (*balloon)(void *ctx, int dom, uint64_t bytes, struct hmp_err *err);
    int (*balloon_info)(void *ctx, int dom, uint64_t *actual, struct hmp_err *err);
    /* Write disk `device`'s changes into its backing file (QEMU's
     * bdrv_commit); a missing device is class "DeviceNotFound". */
    int (*commit)(void *ctx, int dom, const char *device, struct hmp_err *err);
    /* A removable drive's medium (QMP's eject and blockdev-change-medium):
     * out, or `file` (an absolute host path) in, in `format` (NULL: raw). */
    int (*eject)(void *ctx, int dom, const char *device, bool force, struct hmp_err *err);
    int (*change)(void *ctx, int dom, const char *device, const char *file, const char *format,
                  bool force, struct hmp_err *err);
};

/* The monitor: where it prints, the machine behind it, and the state QEMU's
 * monitor keeps between commands. */
struct hmp {
    FILE *out;
    const struct hmp_backend *be;
    void *ctx;
    int dom; /* the domain this monitor controls */
    int cpu; /* the vCPU `cpu N` chose (QEMU's mon_get_cpu) */
    /* QEMU remembers the last /fmt's format and size for the next x, xp
     * and print without one (monitor/hmp.c default_fmt_format, _size). */
    int fmt_format;
    int fmt_size;
    bool quit; /* `quit` was given: the front-end ends */
};

/* A monitor in its initial state (format 'x', size 4, CPU 0). */
void hmp_init(struct hmp *m, FILE *out, const struct hmp_backend *be, void *ctx, int dom);

/* Run one command line as QEMU's handle_hmp_command() does: find the
 * command, parse its arguments, run it, print everything on m->out. */
void hmp_run_line(struct hmp *m, const char *line);

/* The banner QEMU prints when a monitor opens, with hvkit's name. */
void hmp_banner(struct hmp *m);

#endif
