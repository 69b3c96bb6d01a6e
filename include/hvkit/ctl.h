/*
 * ctl.h - hvkit's control protocol, version 1: the contract between hv, the
 * host-side manager (build/mgmt/hvmgr) and every front-end (bin/hvctl, the
 * QEMU monitor front-end, later xl and virsh).  docs/control-protocol.md
 * describes it in full; this header holds the numbers and names all of
 * them must agree on, so that no program spells a command or an error
 * class on its own.
 *
 * The shape is QMP's (QEMU's machine protocol): one JSON object per line,
 * a greeting on connect, requests {"execute", "arguments", "id"}, replies
 * {"return"} or {"error": {"class", "desc"}} carrying the request's id, and
 * events {"event", "data"} that arrive on their own.  The command names are
 * QMP's where QMP has the same command, and start with "x-" where hvkit's
 * command on one machine has no QMP twin (QMP's own convention for
 * experimental ones).  The commands on the host's domains as a whole
 * (query-domains, query-host, domain-create, domain-destroy) have no twin
 * to mirror, QEMU being one machine, and are plain hvkit names.
 *
 * Compiled into hv (freestanding) and into the host programs alike: plain
 * definitions only.
 */
#ifndef HVKIT_CTL_H
#define HVKIT_CTL_H

/* ---- Versions ------------------------------------------------------------
 * The protocol number changes only when an existing command, argument,
 * reply member or error class changes meaning or goes away; adding a
 * command, an optional argument, a reply member or an event does not
 * change it (a front-end ignores members it does not know).  The package
 * version is hvkit's own, reported by query-version and the greeting. */
#define CTL_PROTOCOL      1
#define CTL_VERSION_MAJOR 0
#define CTL_VERSION_MINOR 1
#define CTL_PACKAGE       "hvkit 0.1"

/* ---- Framing ---------------------------------------------------------------
 * One JSON object per line, ended by '\n' (a '\r' before it is ignored),
 * UTF-8, at most CTL_LINE_MAX bytes including the '\n'.  A longer line is
 * refused whole with a GenericError and nothing of it is carried out. */
#define CTL_LINE_MAX 65536
/* JSON nesting any side accepts (objects and arrays inside each other). */
#define CTL_DEPTH_MAX 16

/* ---- Limits ---------------------------------------------------------------- */
/* x-read-memory: the most bytes one request reads. */
#define CTL_READ_MAX 4096
/* x-console-write: the most bytes one request offers (a receiver holds 16
 * at most; the manager sends no more than that). */
#define CTL_CONSOLE_WRITE_MAX 256
/* The manager: front-ends connected at once. */
#define CTL_CLIENTS_MAX 16
/* hv: the most domains it holds at once (hv/core/cmdline.h HV_DOMAINS_MAX),
 * started at boot or made by domain-create; a destroyed domain's number is
 * given to the next domain-create. */
#define CTL_DOMAINS_MAX 4
/* domain-create: the longest domain name, and the most bytes of a kernel
 * image (the manager's staging disk holds one at a time; hv copies it). */
#define CTL_NAME_MAX   63
#define CTL_KERNEL_MAX (32u << 20)

/* ---- The staging disk --------------------------------------------------------
 * bin/hvrun --control attaches one sparse scratch file as the last outer
 * disk, which the manager writes and reads on the host and hv reads and
 * writes as an outer disk (docs/control-protocol.md "Loading a new domain
 * at run time", "Saving a domain to a file").  It is cut into regions at
 * fixed offsets, one per kind of payload, so that no two ever overlap:
 *   [0, 32 MiB)                 domain-create's kernel (CTL_KERNEL_MAX)
 *   [32 MiB, 544 MiB)           a removable medium (CTL_STAGE_MEDIA_*)
 *   [544 MiB, 544 MiB + 4 GiB)  a saved domain's state (CTL_STAGE_SAVE_*),
 *                               or the guest memory of a pmemsave or memsave
 *   [4640 MiB, 4640 MiB + 16 GiB)  disks attached at run time
 *                               (CTL_STAGE_DISK_*, x-blockdev-attach)
 * CTL_STAGE_BYTES is the whole file (sparse: unused regions cost nothing). */
#define CTL_STAGE_MEDIA_OFFSET (32ull << 20)
#define CTL_STAGE_MEDIA_MAX    (512ull << 20)
/* The media region holds two slots: a new medium goes into the slot the
 * CD-ROM drive is not reading (mgmt/hvmgr/stage_media.c), so that the
 * guest never reads a disc being written; a medium has at most a slot. */
#define CTL_STAGE_MEDIA_SLOT  (CTL_STAGE_MEDIA_MAX / 2)
#define CTL_STAGE_SAVE_OFFSET (CTL_STAGE_MEDIA_OFFSET + CTL_STAGE_MEDIA_MAX)
#define CTL_STAGE_SAVE_MAX    (4ull << 30)
/* Disks attached to running domains (docs/control-protocol.md "Disks
 * attached at run time"): CTL_STAGE_DISK_SLOTS slots of CTL_STAGE_DISK_SLOT
 * bytes, one image file each, copied in by the manager (sparsely) with a
 * trailer in the slot's last sector (hv/disk/diskio.h) that hv keeps
 * current as the image grows, and copied back over the user's file when
 * the disk is detached or its domain ends.  An image and what it may grow
 * by must fit a slot less its trailer sector. */
#define CTL_STAGE_DISK_OFFSET (CTL_STAGE_SAVE_OFFSET + CTL_STAGE_SAVE_MAX)
#define CTL_STAGE_DISK_SLOTS  4u
#define CTL_STAGE_DISK_SLOT   (4ull << 30)
#define CTL_STAGE_BYTES       (CTL_STAGE_DISK_OFFSET + CTL_STAGE_DISK_SLOTS * CTL_STAGE_DISK_SLOT)

/* ---- The hv <-> manager channel -------------------------------------------
 * The outer machine's second serial port, COM2, a 16550 at I/O port
 * 0x2f8, which hv drives polled (hv/core/com2.c); COM1 stays the consoles'
 * channel.  The speed only matters to a real UART: emulators pass bytes on
 * as fast as both ends take them. */
#define CTL_COM2_PORT 0x2f8
#define CTL_COM2_BAUD 115200

/* ---- Members of the messages ---------------------------------------------- */
#define CTL_KEY_GREETING  "hvkit"
#define CTL_KEY_EXECUTE   "execute"
#define CTL_KEY_ARGUMENTS "arguments"
#define CTL_KEY_ID        "id"
#define CTL_KEY_RETURN    "return"
#define CTL_KEY_ERROR     "error"
#define CTL_KEY_CLASS     "class"
#define CTL_KEY_DESC      "desc"
#define CTL_KEY_EVENT     "event"
#define CTL_KEY_DATA      "data"
#define CTL_KEY_TIMESTAMP "timestamp"

/* ---- Error classes (the "class" of an error reply) -------------------------
 * GenericError, CommandNotFound and DeviceNotFound are QMP's classes with
 * QMP's meaning; InvalidParameter is hvkit's (QMP says GenericError for a
 * bad argument, which a front-end cannot tell from a failed command). */
/* Anything else: bad JSON, a line too long, not an object, the command
 * failed (memory not mapped, the domain cannot do that in its state), hv
 * not connected. */
#define CTL_ERR_GENERIC "GenericError"
/* "execute" names no command this hv knows. */
#define CTL_ERR_COMMAND_NOT_FOUND "CommandNotFound"
/* The domain or vCPU named does not exist. */
#define CTL_ERR_DEVICE_NOT_FOUND "DeviceNotFound"
/* An argument is missing, of the wrong JSON type, out of range, or not one
 * the command takes. */
#define CTL_ERR_INVALID_PARAMETER "InvalidParameter"
/* The manager's: hv did not answer within the manager's time limit (the
 * request may still be carried out), or an earlier request it did not
 * answer held this one back (it was never sent). */
#define CTL_ERR_TIMEOUT "Timeout"

/* ---- Commands (the "execute" names) --------------------------------------- */
#define CTL_CMD_QUERY_VERSION    "query-version"
#define CTL_CMD_QUERY_DOMAINS    "query-domains"
#define CTL_CMD_QUERY_STATUS     "query-status"
#define CTL_CMD_STOP             "stop"
#define CTL_CMD_CONT             "cont"
#define CTL_CMD_SYSTEM_RESET     "system_reset"
#define CTL_CMD_SYSTEM_POWERDOWN "system_powerdown"
#define CTL_CMD_QUIT             "quit"
#define CTL_CMD_QUERY_CPUS_FAST  "query-cpus-fast"
#define CTL_CMD_QUERY_REGISTERS  "x-query-registers"
#define CTL_CMD_READ_MEMORY      "x-read-memory"
#define CTL_CMD_QUERY_BLOCK      "query-block"
/* The NMI button: an NMI to every vCPU of the domain, as QMP's inject-nmi
 * (docs/control-protocol.md "inject-nmi"). */
#define CTL_CMD_INJECT_NMI "inject-nmi"
/* Domains made and destroyed at run time, and the host's memory
 * (docs/control-protocol.md "Loading a new domain at run time"). */
#define CTL_CMD_QUERY_HOST     "query-host"
#define CTL_CMD_DOMAIN_CREATE  "domain-create"
#define CTL_CMD_DOMAIN_DESTROY "domain-destroy"
/* A domain's state into a host file and a new domain from one (xl save,
 * xl restore; docs/control-protocol.md "Saving a domain to a file"). */
#define CTL_CMD_DOMAIN_SAVE    "domain-save"
#define CTL_CMD_DOMAIN_RESTORE "domain-restore"
/* Guest memory into a host file, QMP's commands of the same names
 * (docs/control-protocol.md "Guest memory into a file"). */
#define CTL_CMD_PMEMSAVE "pmemsave"
#define CTL_CMD_MEMSAVE  "memsave"
/* Reserved for the snapshot commands (docs/control-protocol.md). */
#define CTL_CMD_QUERY_SNAPSHOTS "query-snapshots"
#define CTL_CMD_SAVEVM          "x-savevm"
#define CTL_CMD_LOADVM          "x-loadvm"
#define CTL_CMD_DELVM           "x-delvm"
/* The balloon (QMP's balloon and query-balloon, sizes in bytes) and the
 * monitor's commit of a disk's changes into its backing file. */
#define CTL_CMD_BALLOON       "balloon"
#define CTL_CMD_QUERY_BALLOON "query-balloon"
#define CTL_CMD_COMMIT        "x-commit"
/* vCPU hot-plug: how many of a domain's vCPUs its guest may run, "vcpus"
 * (docs/control-protocol.md "vCPU hot-plug"; include/hvkit/pv.h). */
#define CTL_CMD_VCPU_SET "x-vcpu-set"
/* A domain's virtio disks' I/O counters (QMP's query-blockstats). */
#define CTL_CMD_QUERY_BLOCKSTATS "query-blockstats"
/* Bytes typed at a domain's console, for its COM1's receiver
 * (docs/control-protocol.md "Consoles"). */
#define CTL_CMD_CONSOLE_WRITE "x-console-write"
/* The manager's own commands, which it answers without hv: attach this
 * connection to a domain's console (it then carries the console's bytes
 * both ways, no more JSON). */
#define CTL_CMD_CONSOLE_ATTACH "x-console-attach"
/* The manager's own too: whether hv answers, and the domains as hv last
 * described them (docs/control-protocol.md "When hv does not answer"). */
#define CTL_CMD_HV_STATUS "x-hv-status"
/* x-console-attach's refusal (GenericError) when another front-end is
 * attached to that console and "force" was not given; front-ends tell it
 * by these words and say it their tool's way. */
#define CTL_CONSOLE_BUSY "the console is attached to another front-end"
/* A removable medium (QMP's eject and blockdev-change-medium, QEMU 7.2):
 * the CD-ROM drive "ide1-cd0" (hv/core/cdrom.c). */
#define CTL_CMD_EJECT         "eject"
#define CTL_CMD_CHANGE_MEDIUM "blockdev-change-medium"
/* A virtio disk plugged into / pulled out of a running domain (QMP's
 * blockdev-add plus device_add, and device_del, in one command each:
 * hvkit's, hence x-): the image's host path (the manager's form; it
 * copies the file into a disk slot of the staging disk and adds disk and
 * offset, hv's form), "device" the target name front-ends give it. */
#define CTL_CMD_BLOCKDEV_ATTACH "x-blockdev-attach"
#define CTL_CMD_BLOCKDEV_DETACH "x-blockdev-detach"

/* ---- Common arguments ------------------------------------------------------
 * Every command that acts on a domain takes "domain" (default 0), every
 * command that acts on a vCPU also "cpu" (default 0). */
#define CTL_ARG_DOMAIN   "domain"
#define CTL_ARG_CPU      "cpu"
#define CTL_ARG_ADDR     "addr"
#define CTL_ARG_SIZE     "size"
#define CTL_ARG_PHYSICAL "physical"
#define CTL_ARG_NAME     "name"
#define CTL_ARG_VALUE    "value"
#define CTL_ARG_DEVICE   "device"
/* domain-create's: the kernel as a host path (the manager's form) and its
 * bytes on an outer disk (hv's form, which the manager writes), the
 * guest's arguments, RAM in MiB, the policies, start paused, its vCPUs. */
#define CTL_ARG_KERNEL      "kernel"
#define CTL_ARG_DISK        "disk"
#define CTL_ARG_OFFSET      "offset"
#define CTL_ARG_LENGTH      "length"
#define CTL_ARG_CMDLINE     "cmdline"
#define CTL_ARG_MEMORY      "memory"
#define CTL_ARG_ON_POWEROFF "on_poweroff"
#define CTL_ARG_ON_REBOOT   "on_reboot"
#define CTL_ARG_ON_CRASH    "on_crash"
#define CTL_ARG_PAUSED      "paused"
#define CTL_ARG_VCPUS       "vcpus"
#define CTL_ARG_MAXVCPUS    "maxvcpus"
/* domain-save's and domain-restore's: the host file (the manager's form;
 * hv gets "disk", "offset" and, to restore, "length" instead), what
 * becomes of the saved domain ("destroy", "continue", "pause"). */
#define CTL_ARG_FILE  "file"
#define CTL_ARG_AFTER "after"
/* x-console-write's bytes (hex, as x-read-memory's reply), x-console-attach's
 * taking over from an attached front-end. */
#define CTL_ARG_DATA  "data"
#define CTL_ARG_FORCE "force"
/* eject's and blockdev-change-medium's (QMP's names; "force" above also
 * breaks the guest's lock): the new medium's host path (the manager's
 * form; it adds disk, offset and length, hv's form) and its format ("raw"
 * only). */
#define CTL_ARG_FILENAME "filename"
#define CTL_ARG_FORMAT   "format"
#define CTL_ARG_RO_MODE  "read-only-mode"
/* x-blockdev-attach's: the disk is read-only for the guest (QMP's
 * blockdev-add name). */
#define CTL_ARG_READ_ONLY "read-only"
/* pmemsave's and memsave's, QMP's names: the start address and the vCPU
 * whose page tables memsave reads ("filename" above is their host file,
 * the manager's form; hv gets "disk" and "offset"). */
#define CTL_ARG_VAL       "val"
#define CTL_ARG_CPU_INDEX "cpu-index"
/* x-commit's second half, the manager's alone: the bytes of the backing
 * file's copy it wrote back over the user's file, 0 for none
 * (docs/control-protocol.md "Devices: the balloon, commit"). */
#define CTL_ARG_WRITTEN "written"

/* ---- Events (the "event" names) ------------------------------------------
 * hv sends one when a domain's state changes, whoever changed it (a
 * command, the guest, a crash); "data" always has "domain". */
#define CTL_EV_STOP      "STOP"
#define CTL_EV_RESUME    "RESUME"
#define CTL_EV_SHUTDOWN  "SHUTDOWN"
#define CTL_EV_RESET     "RESET"
#define CTL_EV_POWERDOWN "POWERDOWN"
#define CTL_EV_CRASHED   "CRASHED"
/* A domain was made at run time (domain-create); data: domain, name. */
#define CTL_EV_CREATED "CREATED"

/* ---- Domain states ----------------------------------------------------------
 * query-status's "status" is QMP's RunState name (QEMU's qapi/run-state.json),
 * so that a QMP-minded front-end reads it as it would QEMU's; query-status
 * and query-domains also give "state", Xen's name (xl list). */
#define CTL_RUNSTATE_PRELAUNCH      "prelaunch"
#define CTL_RUNSTATE_RUNNING        "running"
#define CTL_RUNSTATE_PAUSED         "paused"
#define CTL_RUNSTATE_SHUTDOWN       "shutdown"
#define CTL_RUNSTATE_GUEST_PANICKED "guest-panicked"
#define CTL_RUNSTATE_INTERNAL_ERROR "internal-error"
#define CTL_STATE_RUNNING           "running"
#define CTL_STATE_BLOCKED           "blocked"
#define CTL_STATE_PAUSED            "paused"
#define CTL_STATE_SHUTDOWN          "shutdown"
#define CTL_STATE_CRASHED           "crashed"
#define CTL_STATE_DYING             "dying"

#endif
