/*
 * domain.h - one guest: its memory, its buses and devices, its vCPUs, its
 * exit statistics and its run state.
 *
 * hv's state has three layers, as in Xen and KVM:
 *   host    (hv.h, struct host)  what hv has once: the options, the backend,
 *                                the list of domains, the vCPU the CPU has
 *                                loaded;
 *   domain  (this file)          one guest machine: everything its vCPUs
 *                                share;
 *   vCPU    (vcpu.h)             one virtual processor of a domain; it points
 *                                at its domain (vcpu->dom).
 * Exit handlers receive the vCPU and the exit and reach everything else
 * through vcpu->dom (and vcpu->dom->host), never through a global, so
 * nothing in the core assumes there is one guest.
 *
 * A guest's end is a change of its run state, not a function that never
 * returns: a handler calls domain_shutdown() or domain_crash(), returns,
 * and the run loop (run.c) stops running that domain.  Only when every
 * domain has stopped does hv print the statistics and its final "exit:"
 * line (ending.c).
 *
 * Plain definitions plus the state changes of domain.c, compiled hosted
 * too (tests/unit/test_hv_domain.c).
 */
#ifndef HV_CORE_DOMAIN_H
#define HV_CORE_DOMAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/acpi_pm.h"
#include "dev/blkacct.h"
#include "dev/debug_exit.h"
#include "dev/fwcfg.h"
#include "dev/ioapic.h"
#include "dev/iobus.h"
#include "dev/mmiobus.h"
#include "dev/pic8259.h"
#include "dev/pit8254.h"
#include "dev/port92.h"
#include "dev/uart16550.h"
#include "cmdline.h"
#include "cpuid.h"
#include "gmem.h"
#include "guestmem.h"
#include "memmap.h"
#include "stats.h"
#include "vcpu.h"

struct host;
struct vdev_plan;
struct pv_domain;
struct vdev;
struct ide_cd;

/*
 * The life of a domain, in Xen's words (xl(1) "list": r running, b
 * blocked, p paused, s shutdown, c crashed, d dying).  A domain is created
 * (CREATED), runs (RUNNING; "blocked" is not a state of its own but
 * RUNNING with every vCPU waiting for an interrupt, domain_xen_state()),
 * may be paused and unpaused by the host (PAUSED), and ends in the state
 * that ended it: the first end wins, later ones are ignored (domain.c).
 * What happens to it then is its on_poweroff / on_reboot / on_crash action
 * (enum domain_action below), carried out by the run loop (run.c).
 * The order matters: every state from DOMAIN_SHUTDOWN on is an end
 * (domain_stopped()).
 */
enum domain_state {
    /* Set up, not entered yet: statistics are printed only after this.
     * (QMP calls it "prelaunch".) */
    DOMAIN_CREATED,
    /* The run loop enters its vCPUs (Xen: running, or blocked while every
     * vCPU waits in HLT). */
    DOMAIN_RUNNING,
    /* The host paused it (domain_pause): the run loop skips its vCPUs and
     * its clocks keep going, as Xen's and QEMU's do; domain_unpause()
     * resumes it where it stopped. */
    DOMAIN_PAUSED,
    /* The guest ended itself: powered off with an exit code (port 0xf4 or
     * HC_EXIT: domain->exit_code), or asked for a reboot
     * (domain->shutdown_reason). */
    DOMAIN_SHUTDOWN,
    /* The guest cannot go on (triple fault, HLT with IF=0, an access
     * outside its memory, an exit hv does not handle): domain->why. */
    DOMAIN_CRASHED,
    /* hv could not run it (the CPU refused hv's guest state on entry):
     * domain->why.  hv's failure, not the guest's. */
    DOMAIN_FAILED,
    /* Destroyed by the host (domain_destroy): its memory is being or has
     * been given back, and it never runs again. */
    DOMAIN_DYING,
};

/* Why a domain in DOMAIN_SHUTDOWN shut down: Xen's shutdown codes
 * (SHUTDOWN_poweroff, SHUTDOWN_reboot in Xen's public sched.h), which
 * choose the action that follows. */
enum domain_shutdown_reason {
    /* Powered off, with domain->exit_code. */
    DOMAIN_POWEROFF,
    /* Asked to be restarted (a guest reset, or domain_reboot()). */
    DOMAIN_REBOOT,
};

/* Work the host asked for that the run loop does between exits (the bits
 * of domain->requests): the operations below only record it, so they are
 * safe to call from anywhere between two exits, even from an exit of the
 * domain itself. */
enum domain_request {
    /* domain_reset(): build it again and start over. */
    DOMAIN_REQ_RESET = 1u << 0,
    /* domain_destroy(): tear it down. */
    DOMAIN_REQ_DESTROY = 1u << 1,
};

/* The most vCPUs a domain can have (smp=N, bin/hvrun -smp N). */
#define DOMAIN_MAX_VCPUS HV_SMP_MAX

/* The most virtio disks a domain has counters for (every virtio device
 * of core/vdev.h could be one). */
#define DOMAIN_MAX_DISKS 8

/* Room for the reason of a crash or failure ("exit: guest crashed (...)"). */
#define DOMAIN_WHY_LEN 256

struct domain {
    /* 0 for the first domain; the SVM backend derives the domain's ASID
     * from it, and multi-domain log lines name it. */
    unsigned id;
    /* What hv has once: the options and the backend's operations. */
    struct host *host;
    /* The next domain in the host's list (NULL at the end). */
    struct domain *next;

    /* What it is made from, kept for a reset or a restart (build.c): the
     * guest's Multiboot image (a boot module, which hv never overwrites),
     * its command line, and the virtio devices it has (NULL: none). */
    const void *image;
    size_t image_len;
    const char *cmdline;
    const struct vdev_plan *vdevs;
    /* Its RAM in bytes (0: hv's mem= option), and its name for front-ends
     * (NULL: "dN"); a domain made at run time has both of its own
     * (core/domcreate.c). */
    uint64_t ram_bytes;
    const char *name;
    /* Which domain this is among all hv has made (0 for those of the
     * boot; domcreate.c numbers the later ones), so that the control
     * channel tells a new domain from the one whose number it took. */
    unsigned serial;
    /* Gives back what the domain's maker allocated for building it (a
     * run-time domain's copy of its image and command line), called by
     * domain_destroy(), after which nothing builds the domain again; NULL:
     * nothing to give back. */
    void (*release)(struct domain *d);

    /* Where the domain is in its life, and how it ended. */
    enum domain_state state;
    /* DOMAIN_SHUTDOWN: why, and for a power-off the guest's exit code. */
    enum domain_shutdown_reason shutdown_reason;
    uint32_t exit_code;
    /* DOMAIN_CRASHED / DOMAIN_FAILED: why, in plain words. */
    char why[DOMAIN_WHY_LEN];
    /* The run loop has logged the end (only done with several domains). */
    bool end_logged;
    /* domain_teardown() has given its memory back. */
    bool torn_down;
    /* What becomes of it after a power-off, a reboot, a crash (xl.cfg's
     * on_poweroff, on_reboot, on_crash); from hv's options, per domain. */
    enum domain_action on_poweroff, on_reboot, on_crash;
    /* Pending DOMAIN_REQ_* bits for the run loop. */
    unsigned requests;
    /* A monitor commit of one of its disks is half done (core/ctl_dev.c):
     * the backing file holds the disk's changes, the manager is writing it
     * back over the user's file, and the disk is emptied only after that.
     * Until then its vCPUs do not run (sched_runnable()), so that no guest
     * write can land in the disk between the two halves and be lost when
     * it is emptied.  Not a run state: query-status still says running. */
    bool held;
    /* The host pressed the power button (domain_request_powerdown): an
     * event for the guest, which a guest that honours it answers by
     * powering off.  Cleared when the guest has seen it. */
    bool powerdown_pending;
    /* How often it was built again (reset, or a restart action). */
    unsigned restarts;
    /* Its end was met with the preserve action: kept as it is, not torn
     * down, until the host destroys or resets it. */
    bool preserved;

    /* Guest-physical memory: one RAM block (gmem.h), and the map of what
     * lies at each guest-physical address (RAM, MMIO, reserved: memmap.h),
     * from which the second-level tables and the guest's Multiboot memory
     * map come. */
    struct guest_mem mem;
    struct memmap map;
    /* The second-level tables built from the map over that RAM, with
     * demand paging, run-time permissions and the dirty log (guestmem.h). */
    struct guestmem guestmem;

    /* The guest's port space and the devices on it. */
    struct iobus io;
    /* Its memory-mapped devices (local APIC, I/O APIC, virtio-mmio...):
     * guest-physical ranges that are not RAM and belong to a device model;
     * a violation exit there is emulated against the device (violation.c). */
    struct mmio_bus mmio;
    /* COM1 at 0x3f8: the guest's console. */
    struct uart16550 com1;
    /* Its virtio-console, if it has one (core/vdev.c): where the outer
     * machine's COM1 input goes.  NULL otherwise and after teardown. */
    struct vdev *console;
    /* Port 0xf4: the guest's exit code. */
    struct debug_exit dbg_exit;
    /* QEMU's fw_cfg at 0x510/0x511 and System Control Port A at 0x92. */
    struct fwcfg fwcfg;
    struct port92 port92;
    /* Its CD-ROM drive on the secondary IDE channel (core/cdrom.c), the
     * boot's domain 0 only, with hv's cdrom= option; NULL otherwise. */
    struct ide_cd *cd;
    /* The 8259A pair (IRQ 0-15) and the 8254 timer, driven by irq.c.  Their
     * output goes to vcpu[0], as a PC wires the 8259's INTR to the
     * bootstrap processor. */
    struct pic8259 pic;
    struct pit8254 pit;
    /* The I/O APIC at 0xfec00000 (the PIT on pin 2), whose messages go to
     * the vCPUs' local APICs; both on the MMIO bus (irq.c). */
    struct ioapic ioapic;
    struct mmio_device ioapic_mmio;
    /* COM1's interrupt line as irq.c last drove IRQ 4 / I/O APIC pin 4. */
    bool com1_irq;
    /* The ACPI fixed hardware (PM1a registers, PM timer, SMI command port)
     * behind the FADT hv puts in guest memory (build.c), with the power
     * button; its SCI as irq.c last drove IRQ 9 / I/O APIC pin 9. */
    struct acpi_pm acpi;
    bool sci_irq;
    /* Counts the exits of its vCPUs that may have changed what an
     * interrupt controller says (every exit but CPUID and port I/O that
     * reached no device, dispatch.c): a vCPU that saw nothing pending at
     * the same count, with no timer running, has nothing to look at
     * (irq.c). */
    uint64_t irq_epoch;
    /* The local APIC's page at vCPU 0's IA32_APIC_BASE: each vCPU that
     * accesses it reaches its own APIC there (irq.c). */
    struct mmio_device lapic_mmio;

    /* Exits of all its vCPUs, counted per reason, printed at the end. */
    struct exit_stats stats;
    /* The I/O counters of its virtio disks, by disk number (virtio0 is
     * 0): kept here rather than in the device models so that, as QEMU's,
     * they outlive a reset and a loadvm (dev/blkacct.h; core/vdev.c). */
    struct blkacct disk_stats[DOMAIN_MAX_DISKS];
    /* Its CPUID answers kept for the exit fast path (cpuid.h). */
    struct cpuid_table cpuid;

    /* The paravirtual interface's state (core/pv.h: hypercall page, event
     * channels, grants, PV devices), made when the guest first uses it;
     * NULL until then. */
    struct pv_domain *pv;
    /* The balloon (core/pv_balloon.c), for the host side (the control
     * protocol; xl mem-set, virsh setmem): the size the host asks the
     * guest to have, in KiB (0: nothing asked beyond hv's balloon= option,
     * or the whole RAM), and the KiB the guest has given back, unmapped
     * from its second-level tables.  The guest's actual size is mem.size /
     * 1024 - balloon_kib. */
    uint64_t balloon_target_kib;
    uint64_t balloon_kib;

    /* Its virtual processors; each points back here (vcpu->dom).  vCPU
     * 0 is the bootstrap processor, the others application processors
     * that wait for the guest's INIT-SIPI-SIPI (core/smp.c). */
    struct vcpu *vcpu[DOMAIN_MAX_VCPUS];
    unsigned nr_vcpus;
    /* How many vCPUs it is built with (build.c; 0 counts as 1), and the
     * structs for vCPUs 1 and up, given by whoever makes the domain
     * (main.c) and used again by a rebuild. */
    unsigned smp;
    struct vcpu *ap_store[DOMAIN_MAX_VCPUS];
    /* The vCPUs the host lets the guest run, bit i for vCPU i (its APIC
     * ID): the first smp= at the start (maxcpus= builds more), moved by
     * the control protocol's x-vcpu-set (core/pv_vcpu.c; include/hvkit/
     * pv.h "vCPU hot-plug").  0 until the build, which makes it all of
     * them; a rebuild keeps it, as Xen keeps a domain's vCPU count over
     * a reboot. */
    uint32_t vcpu_avail;
    /* How many notes about its IPIs hv has logged (core/smp.c), so that
     * a guest sending bad IPIs in a loop cannot flood the log. */
    unsigned smp_notes;
};

/* Make `d` an empty domain of host `h` with number `id`: no vCPUs, state
 * CREATED, an empty port bus whose notes (unknown ports) go to `note`, and
 * COM1 and the debug-exit port on it, COM1's lines going to `line`; an
 * empty MMIO bus.  The context of both callbacks is the domain.  Memory
 * and the interrupt devices are added by the caller. */
void domain_init(struct domain *d, struct host *h, unsigned id, iobus_note_fn note,
                 uart_line_fn line);

/* Attach `v` as the domain's next vCPU (v->dom = d).  Returns 0, or -1 when
 * the domain already has DOMAIN_MAX_VCPUS. */
int domain_add_vcpu(struct domain *d, struct vcpu *v);

/* Put a memory-mapped device model into the domain: its range goes into
 * the memory map as MMIO owned by it (so messages and the guest's view
 * agree) and onto the MMIO bus (so violation exits there reach it).
 * Returns 0, or -1 with the reason in err when the range is bad or
 * overlaps RAM, a hole or another device; nothing is changed then. */
int domain_add_mmio(struct domain *d, struct mmio_device *dev, char *err, size_t err_len);

/* True while the run loop should enter the domain's vCPUs. */
/* The mask of vCPUs 0..n-1 (domain.vcpu_avail). */
static inline uint32_t domain_vcpu_mask(unsigned n)
{
    return n >= 32 ? UINT32_MAX : (1u << n) - 1;
}

/* The vCPUs the host lets the guest run (domain.vcpu_avail; before the
 * build, all of them). */
static inline uint32_t domain_vcpus_available(const struct domain *d)
{
    return (d->vcpu_avail ? d->vcpu_avail : UINT32_MAX) & domain_vcpu_mask(d->nr_vcpus);
}

static inline bool domain_vcpu_available(const struct domain *d, unsigned id)
{
    return id < 32 && ((domain_vcpus_available(d) >> id) & 1);
}

static inline bool domain_running(const struct domain *d)
{
    return d->state == DOMAIN_RUNNING;
}

/* True once the domain has ended, however it ended. */
static inline bool domain_stopped(const struct domain *d)
{
    return d->state >= DOMAIN_SHUTDOWN;
}

/* The guest asked to end with `code` (a power-off).  Ignored if the
 * domain has already stopped (the first end is the one reported). */
void domain_shutdown(struct domain *d, uint32_t code);

/* The guest asked to be restarted (a reset of its machine): it ends with
 * DOMAIN_SHUTDOWN and the reason DOMAIN_REBOOT, and its on_reboot action
 * follows.  Ignored if stopped. */
void domain_guest_reboot(struct domain *d);

/* The guest cannot go on; printf-style reason.  Ignored if stopped. */
void domain_crash(struct domain *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* hv could not run the guest; printf-style reason.  Ignored if stopped. */
void domain_fail(struct domain *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * The host's lifecycle operations (what xl pause/unpause/shutdown/reboot/
 * destroy and QEMU's stop/cont/system_powerdown/system_reset ask for).
 * Each is small, changes only struct domain and may be called between any
 * two exits; the heavier work (building the domain again, giving its
 * memory back) is recorded in domain->requests and done by the run loop
 * before it next looks at the domain (run.c).  Each returns 0, or -1 when
 * the domain's state does not allow it (then nothing changed); the caller
 * can name the state with domain_xen_state() in its message.
 */

/* Stop entering the domain's vCPUs: CREATED or RUNNING -> PAUSED.  Pausing
 * a paused domain is not an error (QEMU's `stop` twice).  -1 once it has
 * ended. */
int domain_pause(struct domain *d);

/* PAUSED -> RUNNING.  Unpausing a running domain is not an error (QEMU's
 * `cont` on a running guest).  -1 once it has ended. */
int domain_unpause(struct domain *d);

/* Press the guest's power button (QEMU's system_powerdown, xl shutdown):
 * an event the guest may honour by powering off, or ignore, as on a PC.
 * Allowed while running or paused (the press waits for the guest); -1 once
 * it has ended. */
int domain_request_powerdown(struct domain *d);

/* Reset the machine (QEMU's system_reset): the run loop builds the domain
 * again from its image and starts it over, paused if it was paused.  Any
 * state but DYING: also a way to start a preserved domain again. */
int domain_reset(struct domain *d);

/* Reboot (xl reboot): the domain ends as a guest reboot would
 * (DOMAIN_SHUTDOWN, reason DOMAIN_REBOOT) and its on_reboot action follows
 * (restart: it starts over).  hv's guests have no channel to be asked
 * first, so this is the forced form.  -1 once it has ended. */
int domain_reboot(struct domain *d);

/* Destroy it (xl destroy): -> DYING, never to run again; the run loop
 * gives its memory back.  The end it had, if any, stays in why for the
 * report.  -1 if it is already dying. */
int domain_destroy(struct domain *d);

/* The action that follows the domain's end: its on_poweroff, on_reboot or
 * on_crash as it ended, DESTROY for hv's own failure and for a dying
 * domain.  Meaningful only once it has stopped. */
enum domain_action domain_end_action(const struct domain *d);

/* A stopped domain gives everything it got from the heap back (teardown.c):
 * its vCPUs' control structures (backend->vcpu_destroy), its MMIO device
 * models' memory (mmio_device.release), its second-level tables and dirty
 * bitmaps, and its RAM block.  The struct, its run state and statistics
 * stay for the end report.  Does nothing for a running domain or twice. */
void domain_teardown(struct domain *d);

/* The domain's name for front-ends and log lines: its own, or "dN" for a
 * domain that has none; `buf` (at least 16 bytes) holds "dN" when needed. */
const char *domain_name(const struct domain *d, char *buf, size_t size);

/* For hv's log lines: "created", "running", "paused", "shut down",
 * "crashed", "failed", "dying" (never NULL). */
const char *domain_state_name(enum domain_state s);

/* Xen's name for the domain's state, for query commands: "running",
 * "blocked" (running, every vCPU waiting for an interrupt), "paused"
 * (also a domain not started yet, as `xl create -p` leaves one),
 * "shutdown", "crashed" (also hv's failure to run it), "dying". */
const char *domain_xen_state(const struct domain *d);

/* The six state columns of `xl list` ("r-----", "-b----", "--p---",
 * "---s--", "----c-", "-----d") into buf (at least 7 bytes). */
void domain_xen_flags(const struct domain *d, char buf[7]);

/* The balloon's target as the host asked for it, in KiB: the control
 * protocol's last `balloon` (xl mem-set, virsh setmem), else hv's
 * balloon= option, else 0 (nothing asked: the whole RAM).  It may be
 * above the RAM, when a front-end raised the domain's maximum past it:
 * the guest keeps its whole RAM then (pv_balloon_target_kib()). */
uint64_t domain_balloon_asked_kib(const struct domain *d);

/* A vCPU's state for front-ends (query-cpus-fast): "running", "halted"
 * (blocked in HLT), "wait-for-SIPI" (an application processor before its
 * start or after an INIT), "stopped" (halted with IF=0; core/smp.c). */
const char *vcpu_state_name(const struct vcpu *v);

/* QMP's RunState for query-status: "prelaunch", "running", "paused",
 * "shutdown", "guest-panicked" (crashed), "internal-error" (hv failed). */
const char *domain_qmp_status(const struct domain *d);

#endif
