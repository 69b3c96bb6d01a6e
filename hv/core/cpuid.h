/*
 * cpuid.h - what the guest learns from CPUID.  Compiled hosted too
 * (tests/unit/test_hv_core.c).
 */
#ifndef HV_CORE_CPUID_H
#define HV_CORE_CPUID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu.h"

/*
 * Turn the host's answer `r` to CPUID(leaf, subleaf) into the guest's:
 *  - leaf 1 ECX bit 31 set: "a hypervisor is present" (reserved for this use
 *    by both vendors); VMX (ECX bit 5) and PDCM (bit 15) hidden; x2APIC
 *    (bit 21) and the TSC-deadline timer (bit 24) offered, as hv's local
 *    APIC has them;
 *  - leaf 7 subleaf 0 ECX bit 31 (PKS) hidden; leaf 0xA (performance
 *    monitoring) all zero;
 *  - leaf 0x80000001 ECX bit 2 (SVM) and the extended performance counter
 *    bits (23, 24, 28) cleared and leaf 0x8000000A (the SVM features) all
 *    zero: the guest cannot nest and has no counters;
 *  - leaves 0x40000000-0x400000FF: hv's own (include/hvkit/abi.h):
 *    0x40000000 = highest leaf and the "hvkithvkithv" signature,
 *    0x40000001 EAX = HVKIT_ABI_VERSION, ECX = `features` (HVKIT_FEATURE_*),
 *    the rest zero.
 */
void cpuid_policy(uint32_t leaf, uint32_t subleaf, uint32_t features, struct cpuid_regs *r);

/* Leaf 1 and 0x80000001 bits that follow the guest's state. */
struct cpuid_state {
    bool osxsave;     /* guest CR4.OSXSAVE */
    bool apic;        /* IA32_APIC_BASE.EN: the local APIC is on */
    uint32_t apic_id; /* the initial APIC ID */
};

/* Apply `s` to the answer for `leaf`: leaf 1 ECX bit 27 (OSXSAVE) as the
 * guest's CR4.OSXSAVE, EDX bit 9 (APIC) as IA32_APIC_BASE.EN, EBX bits
 * 31:24 the APIC ID; leaf 0x80000001 EDX bit 9 (APIC) likewise. */
void cpuid_guest_state(uint32_t leaf, const struct cpuid_state *s, struct cpuid_regs *r);

/*
 * A domain's table of CPUID answers, for the exit fast path (fastpath.c):
 * the guest's answer for a leaf whose answer never changes while hv runs
 * is worked out once, by the full path, and then looked up.  KVM answers
 * every CPUID from such a table (kvm_cpuid() in arch/x86/kvm/cpuid.c),
 * filled by its user space with the KVM_SET_CPUID2 ioctl; hv fills its
 * own as the guest asks.  Direct-mapped: a leaf has one slot, and a
 * second subleaf of it replaces the first.
 */
#define CPUID_TABLE_SIZE 8
/* One kept answer: CPUID(leaf, subleaf) gives r, if valid.  A slot of the
 * table, and the copy of the last one the exit fast path used, which it
 * keeps in the vCPU (vcpu.h fast_leaf). */
struct cpuid_entry {
    bool valid;
    uint32_t leaf, subleaf;
    struct cpuid_regs r;
};
struct cpuid_table {
    struct cpuid_entry slot[CPUID_TABLE_SIZE];
};
/* Is `e` the answer for (leaf, subleaf)? */
static inline bool cpuid_entry_is(const struct cpuid_entry *e, uint32_t leaf, uint32_t subleaf)
{
    return e->valid && e->leaf == leaf && e->subleaf == subleaf;
}

/* May the answer for `leaf` be kept?  Not for leaves 1 and 0x80000001,
 * whose bits follow the vCPU's CR4 and local APIC (cpuid_guest_state()),
 * nor for 0xD, whose sizes follow XCR0, which the guest sets (SDM vol 2A
 * "CPUID", leaf 0DH). */
bool cpuid_table_keeps(uint32_t leaf);
/* The slot of `leaf`: its low bits, with bit 31 (the extended range) and
 * bit 30 (the hypervisor range) folded in, so that leaf 0, 0x40000000 and
 * 0x80000000 each get their own. */
static inline unsigned cpuid_table_slot(uint32_t leaf)
{
    return (leaf ^ (leaf >> 29)) & (CPUID_TABLE_SIZE - 1);
}

/* The slot that keeps the answer for (leaf, subleaf), or NULL if none
 * does.  Inline: the exit fast path looks up CPUIDs with it. */
static inline const struct cpuid_entry *cpuid_table_entry(const struct cpuid_table *t,
                                                          uint32_t leaf, uint32_t subleaf)
{
    const struct cpuid_entry *e = &t->slot[cpuid_table_slot(leaf)];
    return cpuid_entry_is(e, leaf, subleaf) ? e : NULL;
}
/* The kept answer for (leaf, subleaf) into *r: false if there is none. */
static inline bool cpuid_table_find(const struct cpuid_table *t, uint32_t leaf, uint32_t subleaf,
                                    struct cpuid_regs *r)
{
    const struct cpuid_entry *e = cpuid_table_entry(t, leaf, subleaf);
    if (e)
        *r = e->r;
    return e != NULL;
}
/* Keep `r` as the answer for (leaf, subleaf), if the leaf may be kept. */
void cpuid_table_keep(struct cpuid_table *t, uint32_t leaf, uint32_t subleaf,
                      const struct cpuid_regs *r);

/* CPUID bits the core edits (SDM vol 2A "CPUID", tables 3-10, 3-11, 3-8). */
#define CPUID1_ECX_VMX          (1u << 5)
#define CPUID1_ECX_PDCM         (1u << 15)
#define CPUID1_ECX_X2APIC       (1u << 21)
#define CPUID1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID1_ECX_XSAVE        (1u << 26)
#define CPUID1_ECX_OSXSAVE      (1u << 27)
#define CPUID_EDX_APIC          (1u << 9)
#define CPUID7_ECX_PKS          (1u << 31)

#endif
