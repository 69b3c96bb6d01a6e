/*
 * hvkit's paravirtual ABI: what a guest that knows it runs under hv may use
 * besides the plain hypercalls of abi.h.  Everything here is shared memory
 * and hypercalls, the way Xen's and KVM's paravirtual interfaces work: the
 * guest puts data in its own pages and tells hv where they are, instead of
 * driving emulated hardware one register access (one VM exit) at a time.
 *
 * A guest finds it through CPUID: leaf 0x40000001 ECX bit 1
 * (HVKIT_FEATURE_PV).  Then, in this order:
 *   1. the hypercall page: WRMSR HVKIT_MSR_HYPERCALL_PAGE, then call
 *      page + HVKIT_HCPAGE_SLOT * nr for call nr (no vendor test needed);
 *   2. the shared page with the event bits: HC_PV_SHARED;
 *   3. event channels: HC_EVTCHN_BIND a port to an interrupt vector;
 *   4. grants: HC_GRANT_SETUP names the table that says which pages hv's
 *      back-ends may touch;
 *   5. devices on top: the PV console (HC_CONSOLE_SETUP), the PV clock
 *      (HVKIT_MSR_PVCLOCK).
 * Every call is for the guest's kernel (ring 0, as abi.h says for all
 * calls); every result is an abi.h HC_* code.  A bad argument, an address
 * outside RAM, a port or grant that is not in use gives an error in RAX and
 * changes nothing: no guest can crash hv through this interface.
 */
#ifndef HVKIT_PV_H
#define HVKIT_PV_H

#include <stdint.h>

#include "hvkit/abi.h"

/* CPUID 0x40000001 ECX bit 1: everything in this file is there, but for
 * vCPU hot-plug, which came later and has a bit of its own (bit 2). */
#define HVKIT_FEATURE_PV           (1u << 1)
#define HVKIT_FEATURE_VCPU_HOTPLUG (1u << 2)

/* ---- MSRs ------------------------------------------------------------------
 * hv's MSRs sit in the range 0x40000000-0x400000ff that Hyper-V, Xen and KVM
 * also use for their synthetic MSRs (no CPU implements an MSR there).  Both
 * take a guest-physical address with bit 0 = enable, as Hyper-V's and KVM's
 * do; reading gives back what was last written.  A bad value (not RAM,
 * misaligned, reserved bits set) raises #GP(0) like any refused WRMSR. */
#define HVKIT_MSR_HYPERCALL_PAGE 0x40000000u /* bits 63:12 page address, bit 0 enable */
#define HVKIT_MSR_PVCLOCK        0x40000001u /* bits 63:5 address of a struct hvkit_pvclock */
#define HVKIT_MSR_ENABLE         1u

/* ---- The hypercall page ----------------------------------------------------
 * hv writes one 32-byte stub per call number into the page:
 *     mov eax, nr           b8 <nr as 4 bytes>
 *     vmmcall / vmcall      0f 01 d9 (AMD) or 0f 01 c1 (Intel)
 *     ret                   c3
 * padded with int3 (cc).  A guest calls page + 32 * nr with RBX, RCX, RDX
 * holding the arguments and finds the result in RAX, on either vendor; RAX
 * is the only register the stub changes.  "mov eax" clears RAX's upper half
 * in 64-bit mode, so the stubs work in 32- and 64-bit code alike. */
#define HVKIT_HCPAGE_SLOT  32u
#define HVKIT_HCPAGE_SLOTS 128u /* 4096 / 32: call numbers 0..127 have a stub */

/* ---- Hypercalls (numbers after abi.h's) ------------------------------------ */
/* RBX = guest-physical address of a struct hvkit_shared (4 KiB aligned, RAM;
 * hv stores into it, so the guest must not make it read-only).  Again with
 * another address moves it; the bits are not copied. */
#define HC_PV_SHARED 16u
/* RBX = port (1..HVKIT_EVTCHN_PORTS-1), RCX = vector (32..255): hv signals
 * the port by setting its pending bit and, unless masked, injecting the
 * vector as a fixed, edge-triggered interrupt through the local APIC (the
 * handler ends with an APIC EOI).  HC_EINVAL for a bad port or vector or
 * a port already bound; HC_EFAULT before HC_PV_SHARED. */
#define HC_EVTCHN_BIND 17u
/* RBX = port: unbind it (its device, if any, lets go of it too).
 * HC_EINVAL for a port that is not bound. */
#define HC_EVTCHN_CLOSE 18u
/* RBX = port: the guest notifies the other end.  A port a device holds
 * (HC_CONSOLE_SETUP) runs that device's back-end; a bound port no device
 * holds is a loopback: hv signals it straight back (as Xen's IPI event
 * channels do), which tests delivery.  HC_EINVAL for an unbound port. */
#define HC_EVTCHN_SEND 19u
/* RBX = guest-physical address of the grant table (an array of struct
 * hvkit_grant, 8-byte aligned, all RAM), RCX = entries (1..HVKIT_GRANT_MAX).
 * hv reads the entries each time a back-end maps a grant, so the guest
 * grants and revokes by writing them.  RCX = 0 removes the table. */
#define HC_GRANT_SETUP 20u
/* RBX = grant reference of the console ring page (a struct
 * hvkit_console_ring, granted writable), RCX = its event port (bound):
 * from now on HC_EVTCHN_SEND on that port prints what the ring holds. */
#define HC_CONSOLE_SETUP 21u
/* RBX = grant reference of the block ring page (a struct hvkit_blk_ring,
 * granted writable), RCX = its event port (bound), RDX = which disk: 0 for
 * the first -drive (the same image virtio-blk serves, so the disk can be
 * used either way).  Returns the disk's size in 512-byte sectors, or an
 * error: HC_EINVAL for a bad port, grant or disk number. */
#define HC_BLK_SETUP 22u
/* The balloon (see "The balloon" below).  HC_BALLOON_TARGET: RBX = a bound
 * port hv signals when the host changes the target, or 0 -> the target,
 * in pages.  HC_BALLOON_RELEASE: RBX = guest-physical address of an array
 * of RCX (1..HVKIT_BALLOON_BATCH) 64-bit page frame numbers the guest gives
 * back -> the pages the guest has now.  HC_BALLOON_RECLAIM: the same for
 * pages it takes back (they come back zeroed). */
#define HC_BALLOON_TARGET  23u
#define HC_BALLOON_RELEASE 24u
#define HC_BALLOON_RECLAIM 25u
/* vCPU hot-plug (see "vCPU hot-plug" below).  HC_VCPU_AVAIL: RBX = a
 * bound port hv signals when the host changes the set of available vCPUs,
 * or 0 -> the set, a mask.  HC_VCPU_DOWN: the calling vCPU goes offline
 * (no arguments; returns only when refused). */
#define HC_VCPU_AVAIL 26u
#define HC_VCPU_DOWN  27u

/* ---- The shared page and event channels ----------------------------------- */
#define HVKIT_EVTCHN_PORTS 64u /* port 0 is never valid, as in Xen */

/* Bit p of each word is port p.  hv sets a pending bit when it signals the
 * port and injects the vector only when the bit goes from 0 to 1 and the
 * mask bit is 0; the guest clears pending bits (atomically: hv may set
 * others meanwhile only at an exit, but an interrupt handler may run
 * between the guest's own load and store) and owns the mask bits.  After
 * clearing a mask bit the guest looks at the pending bit itself: hv does
 * not inject for an event that arrived while masked. */
struct hvkit_shared {
    uint64_t evtchn_pending;
    uint64_t evtchn_mask;
};

/* ---- Grants --------------------------------------------------------------- */
#define HVKIT_GRANT_MAX 1024u

/* One grant: the guest lets hv's back-ends touch page `gfn` (its
 * guest-physical address >> 12), read-only with HVKIT_GRANT_READONLY.
 * Clearing HVKIT_GRANT_PERMIT revokes it; a back-end asked to use a revoked
 * grant, a reference beyond the table or a write through a read-only grant
 * refuses with an error and touches nothing. */
struct hvkit_grant {
    uint32_t flags;
    uint32_t reserved; /* 0 */
    uint64_t gfn;
};
#define HVKIT_GRANT_PERMIT   1u
#define HVKIT_GRANT_READONLY 2u

/* ---- The PV console ring ---------------------------------------------------
 * One page, modelled on Xen's console ring: the guest (producer) copies
 * bytes to out[out_prod % size] and then increases out_prod; hv (consumer)
 * prints out[out_cons % size] up to out_prod and increases out_cons.  The
 * indices run freely (they wrap at 2^32, never reset), so prod - cons is
 * always the number of bytes waiting; a ring with prod - cons larger than
 * the array is broken and hv refuses it with HC_EINVAL.  One HC_EVTCHN_SEND
 * per batch of output, not per byte. */
#define HVKIT_CONSOLE_OUT_SIZE 2048u
struct hvkit_console_ring {
    char out[HVKIT_CONSOLE_OUT_SIZE];
    uint32_t out_cons, out_prod;
};

/* ---- The PV clock ---------------------------------------------------------
 * The layout and rules of KVM's pvclock: hv writes it when the guest
 * registers it (HVKIT_MSR_PVCLOCK) and whenever the guest's TSC changes
 * (WRMSR to the TSC or IA32_TSC_ADJUST), and after a loadvm or restore.
 * Nanoseconds since hv started the guest's clocks (the same time base as
 * its PIT and local APIC timer; after a load of a saved state, moved so
 * that the clock goes on from the value it had at the save: it never
 * goes back, docs/vmstate.md "Time") are
 *     system_time + scale(rdtsc() - tsc_timestamp)
 * where scale(d) = ((tsc_shift >= 0 ? d << tsc_shift : d >> -tsc_shift)
 *                    * tsc_to_system_mul) >> 32   (a 96-bit product).
 * version is a seqlock: odd while hv writes, so the guest reads version,
 * the fields, version again, and retries while it was odd or changed. */
struct hvkit_pvclock {
    uint32_t version;
    uint32_t pad0;
    uint64_t tsc_timestamp;
    uint64_t system_time;
    uint32_t tsc_to_system_mul;
    int8_t tsc_shift;
    uint8_t flags; /* HVKIT_PVCLOCK_TSC_STABLE: one TSC for all vCPUs */
    uint8_t pad[2];
};
#define HVKIT_PVCLOCK_TSC_STABLE 1u

/* ---- The balloon -----------------------------------------------------------
 * The host sets a target size for the guest (hv's balloon= option at the
 * start; later the control protocol, as xl mem-set and virsh setmem do);
 * the guest reads it and gives pages back until it has that many, or takes
 * given pages back when the target grows.  A page given back is unmapped
 * from the second-level tables: the guest's next access to it ends the
 * guest as crashed, naming the page as given back.  hv refuses a whole
 * list (HC_EINVAL, nothing changed) when any frame is not RAM, is given
 * back twice (also twice in one list) or is taken back without having
 * been given; HC_ENOTSUP with npt=lazy, where a touch maps any page. */
#define HVKIT_BALLOON_BATCH 512u

/* ---- vCPU hot-plug ---------------------------------------------------------
 * Xen's model for a PV guest: the domain is built with its most vCPUs
 * (hv's smp=N maxcpus=M, bin/hvrun -smp N,maxcpus=M), and the host says
 * how many of them the guest may run; the guest brings CPUs up and takes
 * them down itself, as Linux does when xl vcpu-set changes Xen's
 * "availability" node.  Bit i of the available mask is the vCPU whose
 * local APIC ID is i; vCPU 0, the bootstrap processor, is always
 * available.  At the start the first N are; the MADT lists all M, the
 * available ones Enabled and the others Online Capable (ACPI 6.4 5.2.12.2
 * "Processor Local APIC Structure", table 5.45 "Local APIC Flags").
 *
 * When the host changes the count (the control protocol's x-vcpu-set;
 * xl vcpu-set, virsh setvcpus --live) the mask becomes its lowest `count`
 * bits and hv signals the port the guest named with HC_VCPU_AVAIL.  The
 * guest then reads the mask and
 *   - starts each available vCPU it does not run with INIT, STARTUP,
 *     STARTUP, as at its boot (SDM vol 3A 9.4.4 "MP Initialization
 *     Example");
 *   - has each vCPU it runs that is no longer available finish its work
 *     and call HC_VCPU_DOWN: hv puts it back in the wait-for-SIPI state,
 *     where it is never scheduled and uses no CPU time, until the guest
 *     starts it again.
 * A STARTUP IPI to a vCPU that is not available is ignored (one "[hv]"
 * note): the guest cannot run more vCPUs than the host gives it.
 * HC_VCPU_DOWN from vCPU 0 is refused with HC_EINVAL.  A guest that never
 * called HC_VCPU_AVAIL cannot be told, so the host's change is refused
 * (but for the count it already has), as libxl refuses vcpu-set for a
 * guest without hot-plug support. */

/* ---- PV block -------------------------------------------------------------
 * Requests and responses share one ring of HVKIT_BLK_RING_SLOTS slots, in
 * the manner of Xen's blkif: the guest puts a request in slot req_prod %
 * slots and increases req_prod; hv takes requests in order (its consumer
 * index is its own), writes each response into slot rsp_prod % slots,
 * increases rsp_prod and signals the ring's port once per batch.  A slot
 * is the guest's again once its response has been read, so the guest
 * keeps at most HVKIT_BLK_RING_SLOTS requests outstanding; a req_prod
 * more than that ahead of hv's consumer index is a broken ring, refused
 * with HC_EINVAL (and never read again).  HC_EVTCHN_SEND on the port asks
 * hv to look.
 *
 * Data travel in granted pages only: each segment is a grant reference
 * and the sectors first_sect..last_sect (0..7) of that page.  A read
 * needs writable grants (hv stores into them), a write read-only ones
 * will do.  Any bad request (op, segment count, grant, sector range) gets
 * status HVKIT_BLK_ERROR and touches neither the disk nor guest memory. */
#define HVKIT_BLK_RING_SLOTS 32u
#define HVKIT_BLK_MAX_SEGS   8u
#define HVKIT_BLK_SECTOR     512u

#define HVKIT_BLK_OP_READ  0u
#define HVKIT_BLK_OP_WRITE 1u
#define HVKIT_BLK_OP_FLUSH 3u /* everything written is on the host's file */

#define HVKIT_BLK_OK         0
#define HVKIT_BLK_ERROR      (-1)
#define HVKIT_BLK_EOPNOTSUPP (-2)

struct hvkit_blk_seg {
    uint32_t gref;
    uint8_t first_sect, last_sect;
    uint16_t pad;
};

struct hvkit_blk_req {
    uint8_t op;
    uint8_t nr_segs; /* 1..HVKIT_BLK_MAX_SEGS for READ and WRITE */
    uint16_t pad0;
    uint32_t pad1;
    uint64_t id; /* echoed in the response */
    uint64_t sector;
    struct hvkit_blk_seg seg[HVKIT_BLK_MAX_SEGS];
};

struct hvkit_blk_rsp {
    uint64_t id;
    uint8_t op;
    uint8_t pad0;
    int16_t status;
    uint32_t pad1;
};

union hvkit_blk_slot {
    struct hvkit_blk_req req;
    struct hvkit_blk_rsp rsp;
};

struct hvkit_blk_ring {
    uint32_t req_prod, rsp_prod;
    uint32_t pad[2];
    union hvkit_blk_slot slot[HVKIT_BLK_RING_SLOTS];
};

#endif
