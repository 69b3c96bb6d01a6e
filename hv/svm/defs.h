/*
 * defs.h - AMD SVM definitions: the VMCB layout (AMD64 APM vol 2 appendix B "Layout of VMCB"),
 * exit codes (appendix C), intercept bits, and the SVM MSRs and CPUID bits.
 * Plain definitions only; compiled hosted too (the explain.c unit test).
 *
 * Only hv/svm includes this file: the core never sees a VMCB, it sees the
 * vendor-neutral exit record (core/exit.h) that exit.c fills from the
 * fields below.  hv/vmx/defs.h is the Intel mirror; where the two
 * architectures name the same idea differently, the comments here say
 * what the other side calls it, so a reader can hold both in mind.
 *
 * Only what hv uses, or what a reader of an exit dump meets, is defined:
 * the APM's tables are the complete list.  Offsets are given beside each
 * field because the APM and every VMCB dump speak in offsets, and the
 * _Static_asserts at the end prove the struct layout matches them.
 */
#ifndef HV_SVM_DEFS_H
#define HV_SVM_DEFS_H

#include <stdint.h>

/* ---- CPUID (APM vol 3 appendix E "Obtaining Processor Information Via the CPUID Instruction")
 * ---- */
/* Fn8000_0001 ECX bit 2: the CPU has SVM at all.  caps.c checks it
 * first; without it VMRUN and EFER.SVME are #UD and #GP. */
#define CPUID_80000001_ECX_SVM (1u << 2)
/* Fn8000_000A EDX, the SVM feature leaf: nested paging (required: hv has
 * no shadow paging), LBR virtualization, SVM lock, and next-RIP saving.
 * NRIPS is optional: QEMU's TCG lacks it, so exit.c computes the length
 * of an instruction it skips when next_rip is not filled in. */
#define CPUID_8000000A_EDX_NP    (1u << 0)
#define CPUID_8000000A_EDX_LBRV  (1u << 1)
#define CPUID_8000000A_EDX_SVML  (1u << 2)
#define CPUID_8000000A_EDX_NRIPS (1u << 3)
/* Fn8000_0008 EAX bits 7:0, the physical address width: the highest
 * host-physical address a nested page table entry can hold. */
#define CPUID_80000008_EAX_PHYSBITS(eax) ((eax)&0xffu)

/* ---- MSRs (APM vol 2 15.30 "SVM Related MSRs") ---- */
/* VM_CR: SVMDIS set means EFER.SVME cannot be set; with LOCK also set
 * only the firmware can change that, so caps.c tells the user to look in
 * the BIOS setup rather than failing with a #GP on the EFER write. */
#define MSR_VM_CR    0xc0010114u
#define VM_CR_LOCK   (1ull << 3)
#define VM_CR_SVMDIS (1ull << 4)
/* VM_HSAVE_PA: the page where VMRUN saves host state and #VMEXIT reloads
 * it from (APM vol 2 15.30.4 "VM_HSAVE_PA MSR"), a page-aligned physical
 * address; caps.c gives it a page before the first VMRUN. */
#define MSR_VM_HSAVE_PA 0xc0010117u

/* ---- VMCB control area (APM vol 2 table B-1 "VMCB Layout, Control Area"), offset 0x000 ---- */

/* Intercept vector 3 (offset 0x00c): one bit per event or instruction
 * that exits to hv instead of running in the guest (APM vol 2 15.7
 * "Intercept Operation", 15.9 "Instruction Intercepts").  An intercept
 * the VMCB leaves clear is handled by the CPU as it would be without
 * SVM, so every bit that is not set is a choice to trust the guest with
 * it.  hv sets few (vcpu.c): CPUID, HLT, port I/O and MSRs through the
 * permission maps, shutdown, and VINTR only while it waits to inject. */
#define ICPT_INTR          (1u << 0)
#define ICPT_NMI           (1u << 1)
#define ICPT_SMI           (1u << 2)
#define ICPT_INIT          (1u << 3)
#define ICPT_VINTR         (1u << 4)
#define ICPT_CR0_SEL_WRITE (1u << 5)
#define ICPT_RDTSC         (1u << 14)
#define ICPT_RDPMC         (1u << 15)
#define ICPT_PUSHF         (1u << 16)
#define ICPT_POPF          (1u << 17)
#define ICPT_CPUID         (1u << 18)
#define ICPT_RSM           (1u << 19)
#define ICPT_IRET          (1u << 20)
#define ICPT_INTN          (1u << 21)
#define ICPT_INVD          (1u << 22)
#define ICPT_PAUSE         (1u << 23)
#define ICPT_HLT           (1u << 24)
#define ICPT_INVLPG        (1u << 25)
#define ICPT_INVLPGA       (1u << 26)
#define ICPT_IOIO_PROT     (1u << 27)
#define ICPT_MSR_PROT      (1u << 28)
#define ICPT_TASK_SWITCH   (1u << 29)
#define ICPT_FERR_FREEZE   (1u << 30)
#define ICPT_SHUTDOWN      (1u << 31)

/* Intercept vector 4 (offset 0x010): mostly the SVM instructions.  VMRUN
 * must be intercepted or VMRUN itself fails (APM vol 2 15.5.1 "Basic
 * Operation"); the others exit so the core can answer #UD, since hv
 * hides SVM from the guest's CPUID and offers no nesting.  VMMCALL is
 * hv's hypercall instruction (core/hypercall.c). */
#define ICPT_VMRUN      (1u << 0)
#define ICPT_VMMCALL    (1u << 1)
#define ICPT_VMLOAD     (1u << 2)
#define ICPT_VMSAVE     (1u << 3)
#define ICPT_STGI       (1u << 4)
#define ICPT_CLGI       (1u << 5)
#define ICPT_SKINIT     (1u << 6)
#define ICPT_RDTSCP     (1u << 7)
#define ICPT_ICEBP      (1u << 8)
#define ICPT_WBINVD     (1u << 9)
#define ICPT_MONITOR    (1u << 10)
#define ICPT_MWAIT      (1u << 11)
#define ICPT_MWAIT_COND (1u << 12)
#define ICPT_XSETBV     (1u << 13)

/* TLB_CONTROL (offset 0x05c, APM vol 2 15.16 "TLB Control"): what the next
 * VMRUN flushes.  Guest translations are tagged with guest_asid, so a
 * changed nested table must be flushed by hand; hv uses "flush all"
 * because QEMU does not implement the ASID-only value (vcpu.c), and puts
 * the field back to "do nothing" after each exit so that a flush costs
 * one VMRUN, not all of them. */
#define TLB_CONTROL_DO_NOTHING 0u
#define TLB_CONTROL_FLUSH_ALL  1u

/* V_INTR (offset 0x060, APM vol 2 15.21.4 "Injecting Virtual (INTR) Interrupts"): a virtual
 * interrupt request (V_IRQ), its priority and "ignore the TPR", and V_INTR_MASKING. */
#define V_IRQ          (1ull << 8)
#define V_INTR_PRIO(p) ((uint64_t)((p)&0xf) << 16)
#define V_IGN_TPR      (1ull << 20)
/* V_TPR, bits 3:0: the guest's CR8 (bits 7:4 are reserved).  With
 * V_INTR_MASKING the guest's MOV to CR8 writes here instead of the real
 * TPR (APM vol 2 15.21.2 "Virtualizing APIC.TPR"), so a guest cannot
 * mask the host's interrupts by raising its priority. */
#define V_TPR_MASK 0xfull
/* V_INTR_MASKING: the guest's RFLAGS.IF then masks only virtual
 * interrupts; physical ones stay under the host's RFLAGS.IF, so a guest's
 * STI can never let a host interrupt into the guest's IDT. */
#define V_INTR_MASKING (1ull << 24)

/* INTERRUPT_SHADOW (offset 0x068, APM vol 2 15.21.5 "Interrupt Shadows"):
 * bit 0 = the guest is in the shadow of STI or MOV SS.  Injecting an
 * interrupt inside the shadow would break the one instruction the
 * architecture promises runs first (STI; HLT must not lose a wakeup), so
 * the core waits while it is set.  VMX keeps the same fact in its
 * interruptibility state. */
#define INT_STATE_SHADOW (1ull << 0)

/* NP_ENABLE (offset 0x090): nested paging, with the tables' root in N_CR3
 * (APM vol 2 15.25 "Nested Paging").  The guest's own CR3 then walks
 * guest-physical addresses, and the CPU translates each of them again
 * through hv's tables (core/slat.c); Intel calls this EPT. */
#define NP_ENABLE (1ull << 0)

/* EVENTINJ (offset 0x0a8, APM vol 2 15.20 "Event Injection"): the event the
 * next VMRUN delivers through the guest's IDT before its first
 * instruction, as if it had happened there.  The type decides what the
 * CPU checks and pushes: an exception may carry an error code (EV, with
 * the code in bits 63:32), an NMI blocks further NMIs.  EXITINTINFO
 * (offset 0x088) has the same layout and reports an event whose delivery
 * an exit interrupted; exit.c re-injects it from there (APM vol 2 15.7.2
 * "Intercepts During IDT Interrupt Delivery"). */
#define EVENTINJ_VECTOR(v)      ((uint64_t)(v)&0xff)
#define EVENTINJ_TYPE_INTR      (0ull << 8)
#define EVENTINJ_TYPE_NMI       (2ull << 8)
#define EVENTINJ_TYPE_EXCEPTION (3ull << 8)
#define EVENTINJ_TYPE_SOFT_INT  (4ull << 8)
#define EVENTINJ_TYPE_MASK      (7ull << 8)
#define EVENTINJ_EV             (1ull << 11)
#define EVENTINJ_VALID          (1ull << 31)
#define EVENTINJ_ERROR(e)       ((uint64_t)(uint32_t)(e) << 32)

/* IOIO EXITINFO1 (APM vol 2 figure 15-2 "EXITINFO1 for IOIO Intercept", 15.10.2 "IN and OUT
 * Behavior"): the CPU decodes the IN/OUT/INS/OUTS for hv and reports
 * direction, string and REP, operand size, address size and port, so
 * exit.c need not read the instruction; exit.c turns this into the
 * core's vendor-neutral port-I/O record.  The address size matters only
 * for INS/OUTS, whose RDI/RSI and RCX are used at that width.  Without
 * NRIPS, EXITINFO2 holds the next instruction's RIP, so exit.c knows how
 * far to skip. */
#define IOIO_TYPE_IN     (1ull << 0)
#define IOIO_STR         (1ull << 2)
#define IOIO_REP         (1ull << 3)
#define IOIO_SZ8         (1ull << 4)
#define IOIO_SZ16        (1ull << 5)
#define IOIO_SZ32        (1ull << 6)
#define IOIO_A16         (1ull << 7)
#define IOIO_A32         (1ull << 8)
#define IOIO_A64         (1ull << 9)
#define IOIO_PORT(info1) ((uint16_t)((info1) >> 16))
/* Bits 6:4 are one-hot operand sizes SZ32/SZ16/SZ8: the size in bytes. */
#define IOIO_SIZE(info1) ((uint8_t)(((info1)&IOIO_SZ32) ? 4 : ((info1)&IOIO_SZ16) ? 2 : 1))

/* NPF EXITINFO1 (APM vol 2 15.25.6 "Nested versus Guest Page Faults, Fault Ordering"): a #PF-style
 * error code (APM vol 2 8.4.2 "Page-Fault Error Code") plus two bits,
 * with the faulting guest-physical address in EXITINFO2.  P clear means
 * no translation (the lazy mapper's case); P set with RW means the
 * tables forbade a write (the dirty log's).  FINAL and IN_WALK tell a
 * fault on the data's final address from one on a guest page-table read;
 * core/violation.c never emulates the latter against a device. */
#define NPF_P       (1ull << 0)
#define NPF_RW      (1ull << 1)
#define NPF_US      (1ull << 2)
#define NPF_RSV     (1ull << 3)
#define NPF_ID      (1ull << 4)
#define NPF_FINAL   (1ull << 32)
#define NPF_IN_WALK (1ull << 33)

/* ---- Exit codes (APM vol 2 appendix C "SVM Intercept Exit Codes") ----
 * The EXITCODE field says which intercept fired; the numbering follows
 * the intercept vectors above, so ICPT_x and VMEXIT_x come in the same
 * order.  exit.c maps each one hv handles to a core exit kind; the names
 * also serve the exit trace and the dump after a failure. */
#define VMEXIT_CR0_WRITE     0x10u /* CRn writes are 0x10 + n */
#define VMEXIT_CR4_WRITE     0x14u
#define VMEXIT_EXCP_BASE     0x40u /* 0x40 + vector, up to 0x5f */
#define VMEXIT_INTR          0x60u
#define VMEXIT_NMI           0x61u
#define VMEXIT_SMI           0x62u
#define VMEXIT_INIT          0x63u
#define VMEXIT_VINTR         0x64u
#define VMEXIT_CR0_SEL_WRITE 0x65u
#define VMEXIT_RDTSC         0x6eu
#define VMEXIT_RDPMC         0x6fu
#define VMEXIT_PUSHF         0x70u
#define VMEXIT_POPF          0x71u
#define VMEXIT_CPUID         0x72u
#define VMEXIT_RSM           0x73u
#define VMEXIT_IRET          0x74u
#define VMEXIT_SWINT         0x75u
#define VMEXIT_INVD          0x76u
#define VMEXIT_PAUSE         0x77u
#define VMEXIT_HLT           0x78u
#define VMEXIT_INVLPG        0x79u
#define VMEXIT_INVLPGA       0x7au
#define VMEXIT_IOIO          0x7bu
#define VMEXIT_MSR           0x7cu
#define VMEXIT_TASK_SWITCH   0x7du
#define VMEXIT_FERR_FREEZE   0x7eu
#define VMEXIT_SHUTDOWN      0x7fu
#define VMEXIT_VMRUN         0x80u
#define VMEXIT_VMMCALL       0x81u
#define VMEXIT_VMLOAD        0x82u
#define VMEXIT_VMSAVE        0x83u
#define VMEXIT_STGI          0x84u
#define VMEXIT_CLGI          0x85u
#define VMEXIT_SKINIT        0x86u
#define VMEXIT_RDTSCP        0x87u
#define VMEXIT_ICEBP         0x88u
#define VMEXIT_WBINVD        0x89u
#define VMEXIT_MONITOR       0x8au
#define VMEXIT_MWAIT         0x8bu
#define VMEXIT_MWAIT_COND    0x8cu
#define VMEXIT_XSETBV        0x8du
/* The nested page fault: a guest-physical access hv's tables do not
 * allow (EXITINFO1 above, the address in EXITINFO2).  MMIO, lazy mapping
 * and the dirty log all reach the core through this one exit. */
#define VMEXIT_NPF 0x400u
/* VMEXIT_INVALID is -1; QEMU stores it as 32-bit 0xffffffff, so compare the
 * low 32 bits only (docs/emulators.md). */
#define VMEXIT_INVALID 0xffffffffu

/* Segment attribute bits, the VMCB's compressed form of the descriptor's
 * bytes 5 and 6 (APM vol 2 15.5.1 "segment state"): bits 0-7 = type, S,
 * DPL, P; bits 8-11 = AVL, L, D/B, G.  The descriptor's limit-high
 * nibble between them is dropped, since the VMCB keeps the limit whole.
 * VMX keeps the same bits with the gap left in (its access rights put
 * AVL at bit 12), so code that builds segments stays on its own side. */
#define SEG_ATTR_TYPE(t) ((uint16_t)(t)&0xf)
#define SEG_ATTR_S       (1u << 4)
#define SEG_ATTR_DPL(d)  ((uint16_t)((d)&3) << 5)
#define SEG_ATTR_P       (1u << 7)
#define SEG_ATTR_AVL     (1u << 8)
#define SEG_ATTR_L       (1u << 9)
#define SEG_ATTR_DB      (1u << 10)
#define SEG_ATTR_G       (1u << 11)

/* A segment register in the VMCB save area: the visible selector and the
 * hidden part the CPU caches from the descriptor.  VMRUN loads the hidden
 * part as given, without reading any descriptor table, so hv can start a
 * guest in protected or long mode with no GDT in guest memory at all. */
struct vmcb_seg {
    uint16_t selector;
    uint16_t attrib;
    uint32_t limit;
    uint64_t base;
};

/* The control area, APM vol 2 table B-1 "VMCB Layout, Control Area": what
 * the CPU is to intercept and how, written by hv; and the exit code and
 * its details, written by the CPU at #VMEXIT.  Reserved ranges must stay
 * 0: the VMCB page comes zeroed and hv never writes them. */
struct vmcb_control {
    uint16_t intercept_cr_read;    /* 0x000 */
    uint16_t intercept_cr_write;   /* 0x002 */
    uint16_t intercept_dr_read;    /* 0x004 */
    uint16_t intercept_dr_write;   /* 0x006 */
    uint32_t intercept_exceptions; /* 0x008 */
    uint32_t intercept_misc1;      /* 0x00c: ICPT_INTR .. ICPT_SHUTDOWN */
    uint32_t intercept_misc2;      /* 0x010: ICPT_VMRUN .. */
    uint32_t intercept_misc3;      /* 0x014 */
    uint8_t reserved_018[0x03c - 0x018];
    uint16_t pause_filter_threshold; /* 0x03c */
    uint16_t pause_filter_count;     /* 0x03e */
    uint64_t iopm_base_pa;           /* 0x040 */
    uint64_t msrpm_base_pa;          /* 0x048 */
    uint64_t tsc_offset;             /* 0x050 */
    uint32_t guest_asid;             /* 0x058 */
    uint8_t tlb_control;             /* 0x05c */
    uint8_t reserved_05d[3];
    uint64_t v_intr;      /* 0x060: V_TPR, V_IRQ, V_INTR_MASKING, ... */
    uint64_t int_state;   /* 0x068: bit 0 interrupt shadow */
    uint64_t exitcode;    /* 0x070 */
    uint64_t exitinfo1;   /* 0x078 */
    uint64_t exitinfo2;   /* 0x080 */
    uint64_t exitintinfo; /* 0x088 */
    uint64_t np_enable;   /* 0x090 */
    uint64_t avic_apic_bar;
    uint64_t ghcb_pa;  /* 0x0a0 */
    uint64_t eventinj; /* 0x0a8 */
    uint64_t n_cr3;    /* 0x0b0 */
    uint64_t lbr_virt; /* 0x0b8 */
    uint32_t clean;    /* 0x0c0 */
    uint32_t reserved_0c4;
    /* VMCB Clean bits (0x0c0) are left 0: the CPU then reloads every field
     * on VMRUN, which costs a little time but means no edit can be missed
     * (APM vol 2 15.14 "VMCB State Caching"). */
    uint64_t next_rip;      /* 0x0c8: NRIPS only */
    uint8_t insn_len;       /* 0x0d0: decode assists only */
    uint8_t insn_bytes[15]; /* 0x0d1 */
    uint8_t reserved_0e0[0x400 - 0x0e0];
};

/* The state save area, APM vol 2 table B-2 "VMCB Layout, State Save Area", at VMCB offset 0x400:
 * the guest's registers that VMRUN loads and #VMEXIT saves.  The
 * general-purpose registers other than RAX and RSP are not here: the
 * CPU leaves them as they are, and enter.S saves and restores them
 * around VMRUN.  Some MSRs (STAR, LSTAR, KERNEL_GS_BASE, ...) are loaded
 * only by VMLOAD: enter.S swaps host and guest copies with VMSAVE and
 * VMLOAD around each VMRUN. */
struct vmcb_save {
    struct vmcb_seg es, cs, ss, ds, fs, gs; /* 0x000 .. 0x05f */
    struct vmcb_seg gdtr, ldtr, idtr, tr;   /* 0x060 .. 0x09f */
    uint8_t reserved_0a0[0x0cb - 0x0a0];
    uint8_t cpl; /* 0x0cb */
    uint32_t reserved_0cc;
    uint64_t efer; /* 0x0d0 */
    uint8_t reserved_0d8[0x148 - 0x0d8];
    uint64_t cr4;    /* 0x148 */
    uint64_t cr3;    /* 0x150 */
    uint64_t cr0;    /* 0x158 */
    uint64_t dr7;    /* 0x160 */
    uint64_t dr6;    /* 0x168 */
    uint64_t rflags; /* 0x170 */
    uint64_t rip;    /* 0x178 */
    uint8_t reserved_180[0x1d8 - 0x180];
    uint64_t rsp; /* 0x1d8 */
    uint8_t reserved_1e0[0x1f8 - 0x1e0];
    uint64_t rax;            /* 0x1f8 */
    uint64_t star;           /* 0x200 */
    uint64_t lstar;          /* 0x208 */
    uint64_t cstar;          /* 0x210 */
    uint64_t sfmask;         /* 0x218 */
    uint64_t kernel_gs_base; /* 0x220 */
    uint64_t sysenter_cs;    /* 0x228 */
    uint64_t sysenter_esp;   /* 0x230 */
    uint64_t sysenter_eip;   /* 0x238 */
    uint64_t cr2;            /* 0x240 */
    uint8_t reserved_248[0x268 - 0x248];
    /* G_PAT: the guest's PAT, used for the guest half of the memory-type
     * combination under nested paging (APM vol 2 15.25.8 "Combining
     * Memory Types, MTRRs"). */
    uint64_t g_pat;   /* 0x268 */
    uint64_t dbgctl;  /* 0x270 */
    uint64_t br_from; /* 0x278 */
    uint64_t br_to;   /* 0x280 */
    uint64_t last_excp_from;
    uint64_t last_excp_to; /* 0x290 */
    uint8_t reserved_298[0xc00 - 0x298];
};

/* The whole VMCB: one 4 KiB page, 4 KiB aligned (APM vol 2 15.5.1 "Basic Operation"). */
struct vmcb {
    struct vmcb_control control;
    struct vmcb_save save;
};

/* The layout is the hardware's, not ours: a field one byte off would be
 * written where the CPU reads something else, and the guest would fail in
 * ways no log explains.  These checks make the compiler prove the offsets
 * of the fields hv relies on against the APM's tables. */
_Static_assert(sizeof(struct vmcb_control) == 0x400, "VMCB control area is 1 KiB");
_Static_assert(sizeof(struct vmcb) == 0x1000, "VMCB is 4 KiB");
_Static_assert(__builtin_offsetof(struct vmcb_control, iopm_base_pa) == 0x40, "IOPM_BASE_PA");
_Static_assert(__builtin_offsetof(struct vmcb_control, exitcode) == 0x70, "EXITCODE");
_Static_assert(__builtin_offsetof(struct vmcb_control, eventinj) == 0xa8, "EVENTINJ");
_Static_assert(__builtin_offsetof(struct vmcb_control, next_rip) == 0xc8, "nRIP");
_Static_assert(__builtin_offsetof(struct vmcb_save, cpl) == 0xcb, "CPL");
_Static_assert(__builtin_offsetof(struct vmcb_save, efer) == 0xd0, "EFER");
_Static_assert(__builtin_offsetof(struct vmcb_save, cr4) == 0x148, "CR4");
_Static_assert(__builtin_offsetof(struct vmcb_save, rsp) == 0x1d8, "RSP");
_Static_assert(__builtin_offsetof(struct vmcb_save, rax) == 0x1f8, "RAX");
_Static_assert(__builtin_offsetof(struct vmcb_save, cr2) == 0x240, "CR2");
_Static_assert(__builtin_offsetof(struct vmcb_save, g_pat) == 0x268, "G_PAT");

/* Sizes of the permission maps (APM vol 2 15.10.1 "I/O Permissions Map" and 15.11 "MSR
 * Intercepts"): the I/O map is 12 KiB (one bit per port, plus bits for accesses that straddle port
 * 0xffff), the MSR map 8 KiB (two bits per MSR in three ranges). */
/* The CPU reads both maps by physical address, so they must be physically
 * contiguous and 4 KiB aligned; a bit left 0 lets the guest reach the
 * real port or MSR.  vcpu.c sets every port's bit (all devices are hv's
 * models) and every MSR's but those the VMCB switches for the guest. */
#define IOPM_SIZE  (12 * 1024)
#define MSRPM_SIZE (8 * 1024)

#endif
