/*
 * defs.h - plain definitions for Intel VT-x (VMX): VMCS field encodings,
 * capability MSRs, control bits, exit reasons and VM-instruction errors.
 *
 * Sections are those of the Intel SDM, 2023 numbering (Vol. 3C chapters 25
 * "Virtual Machine Control Structures" to 31 "VMX Instruction Reference";
 * older editions number them one lower).  Encodings: Vol. 3D appendix B.
 * This header holds no code and is compiled hosted too (unit tests).
 *
 * Only hv/vmx includes it: the core never sees a VMCS.  hv/svm/defs.h is
 * the AMD mirror; the big difference a reader meets here is that a VMCS
 * is not a struct in memory but a set of fields reached only through
 * VMREAD and VMWRITE by number (SDM vol 3C 25.11.2 "VMREAD, VMWRITE, and
 * Encodings of VMCS Fields"), so where svm/defs.h has offsets this file
 * has field encodings.  Only what hv uses or what its exit dumps and
 * entry-failure explainer (explain.c) name is defined.
 */
#ifndef HV_VMX_DEFS_H
#define HV_VMX_DEFS_H

#include <stdint.h>

/* ---- CPUID and capability MSRs (SDM vol 3C 24.6 "Discovering Support for VMX", vol 3D appendix A)
 * ---- */
/* CPUID.1:ECX bit 5: the CPU has VMX at all.  Without it VMXON is #UD. */
#define CPUID_1_ECX_VMX (1u << 5)

/* IA32_FEATURE_CONTROL (MSR 0x3a), set by the firmware: once LOCK is set,
 * the enable bits cannot change until reset, and VMXON outside SMX raises
 * #GP unless VMX_OUTSIDE_SMX is 1 (SDM vol 3C 24.7 "Enabling and Entering
 * VMX Operation").  caps.c tells the user to look in the BIOS setup then,
 * the same answer svm/caps.c gives for VM_CR.SVMDIS. */
#define FEATURE_CONTROL_LOCK            (1ull << 0)
#define FEATURE_CONTROL_VMX_IN_SMX      (1ull << 1)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX (1ull << 2)

/* The capability MSRs: the CPU's own statement of what its VMX supports.
 * Each control MSR holds, in its low half, the bits that must be 1 and,
 * in its high half, the bits that may be 1 (SDM vol 3D A.3 "VM-Execution
 * Controls" A.4 "VM-Exit Controls" A.5 "VM-Entry Controls"); ctls.c picks
 * every control word inside those bounds, since VM entry fails on any
 * bit outside them.  The TRUE_* versions report which "default1" bits may
 * after all be cleared. */
#define MSR_VMX_BASIC               0x480u
#define MSR_VMX_PINBASED_CTLS       0x481u
#define MSR_VMX_PROCBASED_CTLS      0x482u
#define MSR_VMX_EXIT_CTLS           0x483u
#define MSR_VMX_ENTRY_CTLS          0x484u
#define MSR_VMX_MISC                0x485u
#define MSR_VMX_CR0_FIXED0          0x486u
#define MSR_VMX_CR0_FIXED1          0x487u
#define MSR_VMX_CR4_FIXED0          0x488u
#define MSR_VMX_CR4_FIXED1          0x489u
#define MSR_VMX_VMCS_ENUM           0x48au
#define MSR_VMX_PROCBASED_CTLS2     0x48bu
#define MSR_VMX_EPT_VPID_CAP        0x48cu
#define MSR_VMX_TRUE_PINBASED_CTLS  0x48du
#define MSR_VMX_TRUE_PROCBASED_CTLS 0x48eu
#define MSR_VMX_TRUE_EXIT_CTLS      0x48fu
#define MSR_VMX_TRUE_ENTRY_CTLS     0x490u

/* IA32_VMX_BASIC (Vol. 3D A.1).  The revision identifier goes into the
 * first 4 bytes of the VMXON region and of every VMCS, with bit 31 clear;
 * VMXON and VMPTRLD fail on a region that carries another.  The VMCS size
 * (bits 44:32) is how much memory the region needs, at most 4 KiB; the
 * memory type is what the CPU uses to access it. */
#define VMX_BASIC_REVISION_MASK 0x7fffffffull
#define VMX_BASIC_VMCS_SIZE(b)  (((b) >> 32) & 0x1fff)
#define VMX_BASIC_ADDR32        (1ull << 48)        /* VMXON/VMCS addresses limited to 32 bits */
#define VMX_BASIC_MEMTYPE(b)    (((b) >> 50) & 0xf) /* 6 = write-back */
#define VMX_BASIC_TRUE_CTLS     (1ull << 55)        /* the TRUE_* MSRs exist */

/* IA32_VMX_EPT_VPID_CAP (Vol. 3D A.10).  hv's EPT tables are 4 levels of
 * write-back memory with 2 MiB leaves (core/slat.c builds the same shape
 * for both vendors), and it flushes with an all-context INVEPT; caps.c
 * refuses a CPU that lacks any of those and names what is missing. */
#define EPT_CAP_XONLY      (1ull << 0)  /* execute-only entries (bits 2:0 = 100b) */
#define EPT_CAP_WALK4      (1ull << 6)  /* page-walk length 4 */
#define EPT_CAP_WB         (1ull << 14) /* write-back EPT paging structures */
#define EPT_CAP_2M         (1ull << 16) /* 2-MiB EPT pages */
#define EPT_CAP_INVEPT     (1ull << 20) /* the INVEPT instruction */
#define EPT_CAP_INVEPT_ALL (1ull << 26) /* INVEPT type 2, all contexts */

/* ---- Pin-based VM-execution controls (SDM Vol. 3C 25.6.1 "Pin-Based VM-Execution Controls") ----
 */
/* External-interrupt exiting: a physical interrupt exits to hv instead of
 * going through the guest's IDT, the counterpart of SVM's V_INTR_MASKING.
 * NMI exiting and virtual NMIs, if ever used, must be set together. */
#define PIN_EXTINT_EXITING   (1u << 0)
#define PIN_NMI_EXITING      (1u << 3)
#define PIN_VIRTUAL_NMIS     (1u << 5)
#define PIN_PREEMPTION_TIMER (1u << 6)

/* ---- Primary processor-based controls (25.6.2 "Processor-Based VM-Execution Controls", table
 * 25-6) ---- */
/* These choose which guest instructions exit (SDM vol 3C 26.1.3
 * "Instructions That Cause VM Exits Conditionally"); a bit left 0 lets
 * the instruction run natively.  Interrupt-window exiting is set only
 * while the core waits to inject (SVM: the VINTR intercept), and the I/O
 * and MSR bitmaps play the part of SVM's permission maps. */
#define PROC_INTR_WINDOW_EXITING (1u << 2)
#define PROC_TSC_OFFSETTING      (1u << 3)
#define PROC_HLT_EXITING         (1u << 7)
#define PROC_INVLPG_EXITING      (1u << 9)
#define PROC_MWAIT_EXITING       (1u << 10)
#define PROC_RDPMC_EXITING       (1u << 11)
#define PROC_RDTSC_EXITING       (1u << 12)
#define PROC_CR3_LOAD_EXITING    (1u << 15)
#define PROC_CR3_STORE_EXITING   (1u << 16)
#define PROC_CR8_LOAD_EXITING    (1u << 19)
#define PROC_CR8_STORE_EXITING   (1u << 20)
#define PROC_TPR_SHADOW          (1u << 21)
#define PROC_NMI_WINDOW_EXITING  (1u << 22)
#define PROC_MOV_DR_EXITING      (1u << 23)
#define PROC_UNCOND_IO_EXITING   (1u << 24)
#define PROC_USE_IO_BITMAPS      (1u << 25)
#define PROC_MONITOR_TRAP_FLAG   (1u << 27)
#define PROC_USE_MSR_BITMAPS     (1u << 28)
#define PROC_MONITOR_EXITING     (1u << 29)
#define PROC_PAUSE_EXITING       (1u << 30)
#define PROC_SECONDARY_CONTROLS  (1u << 31)

/* ---- Secondary processor-based controls (25.6.2 "Processor-Based VM-Execution Controls", table
 * 25-7) ---- */
/* EPT is hv's second-level translation (core/slat.c), and unrestricted
 * guest lets a guest run with paging or protection off, as a Multiboot
 * guest starts; without it VM entry demands CR0.PE and CR0.PG set.  VPID
 * is not used: hv flushes with INVEPT instead. */
#define PROC2_VIRT_APIC_ACCESS   (1u << 0)
#define PROC2_ENABLE_EPT         (1u << 1)
#define PROC2_DESC_TABLE_EXITING (1u << 2)
#define PROC2_ENABLE_RDTSCP      (1u << 3)
#define PROC2_VIRT_X2APIC        (1u << 4)
#define PROC2_ENABLE_VPID        (1u << 5)
#define PROC2_WBINVD_EXITING     (1u << 6)
#define PROC2_UNRESTRICTED_GUEST (1u << 7)
#define PROC2_ENABLE_INVPCID     (1u << 12)
#define PROC2_ENABLE_XSAVES      (1u << 20)

/* ---- VM-exit controls (25.7.1 "VM-Exit Controls", table 25-13) ---- */
/* What a VM exit switches besides the registers it always switches.  The
 * host address-space size bit must be 1 for a 64-bit host, or the exit
 * would come back in 32-bit mode; EFER and PAT are saved and loaded here
 * because the guest may change them without an exit (SVM keeps both in
 * the VMCB and switches them unconditionally). */
#define EXIT_SAVE_DEBUG_CONTROLS   (1u << 2)
#define EXIT_HOST_ADDR_SPACE_SIZE  (1u << 9) /* the host is 64-bit */
#define EXIT_LOAD_PERF_GLOBAL      (1u << 12)
#define EXIT_ACK_INTR_ON_EXIT      (1u << 15)
#define EXIT_SAVE_PAT              (1u << 18)
#define EXIT_LOAD_PAT              (1u << 19)
#define EXIT_SAVE_EFER             (1u << 20)
#define EXIT_LOAD_EFER             (1u << 21)
#define EXIT_SAVE_PREEMPTION_TIMER (1u << 22)

/* ---- VM-entry controls (25.8.1 "VM-Entry Controls", table 25-15) ---- */
/* What a VM entry loads.  "IA-32e mode guest" must equal the guest's
 * EFER.LMA, an entry check (SDM vol 3C 27.3.1 "Checks on the Guest State
 * Area"), so state.c sets it at each entry from the guest's EFER rather
 * than once. */
#define ENTRY_LOAD_DEBUG_CONTROLS (1u << 2)
#define ENTRY_IA32E_MODE_GUEST    (1u << 9)
#define ENTRY_TO_SMM              (1u << 10)
#define ENTRY_DEACT_DUAL_MONITOR  (1u << 11)
#define ENTRY_LOAD_PERF_GLOBAL    (1u << 13)
#define ENTRY_LOAD_PAT            (1u << 14)
#define ENTRY_LOAD_EFER           (1u << 15)

/* VM-entry interruption information (25.8.3 "VM-Entry Controls for Event Injection", table 25-16).
 */
/* The same layout serves three fields: the event to inject at entry, the
 * exception or NMI that caused an exit, and the event whose delivery an
 * exit interrupted (IDT-vectoring information, SDM vol 3C 28.2.4
 * "Information for VM Exits During Event Delivery"), which exit.c
 * re-injects as SVM's EXITINTINFO is.  Types 4 to 6 (INT n, INT1, INT3
 * and INTO) also need the instruction length at entry: the CPU pushes the
 * return address past the instruction. */
#define INTR_INFO_VECTOR_MASK       0xffu
#define INTR_INFO_TYPE_SHIFT        8
#define INTR_TYPE_EXT_INTR          0u
#define INTR_TYPE_NMI               2u
#define INTR_TYPE_HW_EXCEPTION      3u
#define INTR_TYPE_SW_INTR           4u
#define INTR_TYPE_PRIV_SW_EXCEPTION 5u
#define INTR_TYPE_SW_EXCEPTION      6u
#define INTR_INFO_DELIVER_ERROR     (1u << 11)
#define INTR_INFO_VALID             (1u << 31)

/* ---- VMCS field encodings (Vol. 3D appendix B) ----
 * An encoding is not an offset: its bits say what the field is (SDM vol
 * 3C 25.11.2 "VMREAD, VMWRITE, and Encodings of VMCS Fields").  Bits 14:13
 * give the width (0 16-bit, 1 64-bit, 2 32-bit, 3 natural), bits 11:10
 * the kind (0 control, 1 read-only exit information, 2 guest state, 3
 * host state), bits 9:1 an index, and bit 0 selects the high half of a
 * 64-bit field for 32-bit software.  So 0x08xx is 16-bit guest state and
 * 0x0cxx 16-bit host state, 0x44xx 32-bit exit information.  The memory
 * layout behind them is the CPU's secret and differs between models:
 * writing the VMCS region directly is not allowed (SDM vol 3C 25.11.1
 * "Software Use of Virtual-Machine Control Structures"). */
/* 16-bit fields.  The VPID tags TLB entries as SVM's ASID does; hv leaves
 * it 0 (VPID off) and flushes EPT translations with INVEPT instead. */
#define VMCS_VPID           0x0000u
#define VMCS_GUEST_ES_SEL   0x0800u /* ES, CS, SS, DS, FS, GS, LDTR, TR: step 2 */
#define VMCS_GUEST_CS_SEL   0x0802u
#define VMCS_GUEST_SS_SEL   0x0804u
#define VMCS_GUEST_DS_SEL   0x0806u
#define VMCS_GUEST_FS_SEL   0x0808u
#define VMCS_GUEST_GS_SEL   0x080au
#define VMCS_GUEST_LDTR_SEL 0x080cu
#define VMCS_GUEST_TR_SEL   0x080eu
#define VMCS_HOST_ES_SEL    0x0c00u
#define VMCS_HOST_CS_SEL    0x0c02u
#define VMCS_HOST_SS_SEL    0x0c04u
#define VMCS_HOST_DS_SEL    0x0c06u
#define VMCS_HOST_FS_SEL    0x0c08u
#define VMCS_HOST_GS_SEL    0x0c0au
#define VMCS_HOST_TR_SEL    0x0c0cu

/* 64-bit fields.  The bitmaps, the virtual-APIC page and the EPT pointer
 * are physical addresses, read by the CPU without going through hv's own
 * page tables, so they are 4 KiB aligned and identity mapped (alloc.h).
 * TSC_OFFSET is added to every guest RDTSC (SDM vol 3C 25.6.5
 * "Time-Stamp Counter Offset and Multiplier"). */
#define VMCS_IO_BITMAP_A         0x2000u
#define VMCS_IO_BITMAP_B         0x2002u
#define VMCS_MSR_BITMAP          0x2004u
#define VMCS_EXIT_MSR_STORE_ADDR 0x2006u
#define VMCS_EXIT_MSR_LOAD_ADDR  0x2008u
#define VMCS_ENTRY_MSR_LOAD_ADDR 0x200au
#define VMCS_TSC_OFFSET          0x2010u
#define VMCS_VIRTUAL_APIC_ADDR   0x2012u
/* VTPR's offset in the virtual-APIC page (SDM vol 3C 30.1.1 "Virtualized
 * APIC Registers"). */
#define VAPIC_VTPR 0x80
/* The EPT pointer: the root table's physical address, with the memory
 * type and walk length in its low bits (EPTP_* below). */
#define VMCS_EPT_POINTER 0x201au
/* Read-only exit information: the guest-physical address of an EPT
 * violation or misconfiguration, SVM's EXITINFO2 for a nested page fault. */
#define VMCS_GUEST_PHYS_ADDR 0x2400u
/* The link pointer must be all ones unless VMCS shadowing is used, an
 * entry check explain.c names when it fails. */
#define VMCS_LINK_POINTER   0x2800u
#define VMCS_GUEST_DEBUGCTL 0x2802u
#define VMCS_GUEST_PAT      0x2804u
#define VMCS_GUEST_EFER     0x2806u
/* With EPT, a guest in PAE paging has its four PDPTEs loaded from these
 * fields at entry rather than from memory (SDM vol 3A 4.4.1 "PDPTE
 * Registers"); state.c fills them from the guest's table in memory. */
#define VMCS_GUEST_PDPTE0 0x280au /* PDPTE0..3: step 2 */
#define VMCS_HOST_PAT     0x2c00u
#define VMCS_HOST_EFER    0x2c02u

/* 32-bit fields: the control words, the exit record and the guest's
 * segment limits and access rights.  The exception bitmap is 0: no guest
 * exception exits, as SVM's intercept only #DF (and VMX turns a triple
 * fault into its own exit reason).  VM_INSN_ERROR says why a VMX
 * instruction failed with a valid VMCS (SDM vol 3C 31.4 "VM Instruction
 * Error Numbers"). */
#define VMCS_PIN_CONTROLS           0x4000u
#define VMCS_PROC_CONTROLS          0x4002u
#define VMCS_EXCEPTION_BITMAP       0x4004u
#define VMCS_PF_ERROR_MASK          0x4006u
#define VMCS_PF_ERROR_MATCH         0x4008u
#define VMCS_CR3_TARGET_COUNT       0x400au
#define VMCS_TPR_THRESHOLD          0x401cu
#define VMCS_EXIT_CONTROLS          0x400cu
#define VMCS_EXIT_MSR_STORE_COUNT   0x400eu
#define VMCS_EXIT_MSR_LOAD_COUNT    0x4010u
#define VMCS_ENTRY_CONTROLS         0x4012u
#define VMCS_ENTRY_MSR_LOAD_COUNT   0x4014u
#define VMCS_ENTRY_INTR_INFO        0x4016u
#define VMCS_ENTRY_EXCEPTION_ERROR  0x4018u
#define VMCS_ENTRY_INSN_LEN         0x401au
#define VMCS_PROC_CONTROLS2         0x401eu
#define VMCS_VM_INSN_ERROR          0x4400u
#define VMCS_EXIT_REASON            0x4402u
#define VMCS_EXIT_INTR_INFO         0x4404u
#define VMCS_EXIT_INTR_ERROR        0x4406u
#define VMCS_IDT_VECTORING_INFO     0x4408u
#define VMCS_IDT_VECTORING_ERROR    0x440au
#define VMCS_EXIT_INSN_LEN          0x440cu
#define VMCS_EXIT_INSN_INFO         0x440eu
#define VMCS_GUEST_ES_LIMIT         0x4800u /* ES..TR limits: step 2 */
#define VMCS_GUEST_GDTR_LIMIT       0x4810u
#define VMCS_GUEST_IDTR_LIMIT       0x4812u
#define VMCS_GUEST_ES_AR            0x4814u /* ES..TR access rights: step 2 */
#define VMCS_GUEST_INTERRUPTIBILITY 0x4824u
#define VMCS_GUEST_ACTIVITY         0x4826u
#define VMCS_GUEST_SYSENTER_CS      0x482au
#define VMCS_PREEMPTION_TIMER       0x482eu
#define VMCS_HOST_SYSENTER_CS       0x4c00u

/* Natural-width fields: 64 bits on a 64-bit CPU.  The CR0/CR4 masks and
 * shadows decide which control-register bits the host owns: a guest read
 * of an owned bit returns the shadow, and a write that changes one exits
 * (SDM vol 3C 25.6.6 "Guest/Host Masks and Read Shadows for CR0 and
 * CR4").  hv owns all of CR0, so every CR0 write exits to the core's
 * checks (core/cr.c) as under SVM, and the CR4 bits VMX forces, such as
 * VMXE, so the guest still reads CR4 as it left it (vcpu.c). */
#define VMCS_CR0_MASK           0x6000u
#define VMCS_CR4_MASK           0x6002u
#define VMCS_CR0_SHADOW         0x6004u
#define VMCS_CR4_SHADOW         0x6006u
#define VMCS_EXIT_QUALIFICATION 0x6400u
#define VMCS_GUEST_LINEAR_ADDR  0x640au
#define VMCS_GUEST_CR0          0x6800u
#define VMCS_GUEST_CR3          0x6802u
#define VMCS_GUEST_CR4          0x6804u
#define VMCS_GUEST_ES_BASE      0x6806u /* ES..TR bases: step 2 */
#define VMCS_GUEST_GDTR_BASE    0x6816u
#define VMCS_GUEST_IDTR_BASE    0x6818u
#define VMCS_GUEST_DR7          0x681au
#define VMCS_GUEST_RSP          0x681cu
#define VMCS_GUEST_RIP          0x681eu
#define VMCS_GUEST_RFLAGS       0x6820u
#define VMCS_GUEST_PENDING_DBG  0x6822u
#define VMCS_GUEST_SYSENTER_ESP 0x6824u
#define VMCS_GUEST_SYSENTER_EIP 0x6826u
/* Host state, loaded by every VM exit: hv's own control registers,
 * segment bases and the RSP and RIP where the exit continues (enter.S). */
#define VMCS_HOST_CR0          0x6c00u
#define VMCS_HOST_CR3          0x6c02u
#define VMCS_HOST_CR4          0x6c04u
#define VMCS_HOST_FS_BASE      0x6c06u
#define VMCS_HOST_GS_BASE      0x6c08u
#define VMCS_HOST_TR_BASE      0x6c0au
#define VMCS_HOST_GDTR_BASE    0x6c0cu
#define VMCS_HOST_IDTR_BASE    0x6c0eu
#define VMCS_HOST_SYSENTER_ESP 0x6c10u
#define VMCS_HOST_SYSENTER_EIP 0x6c12u
#define VMCS_HOST_RSP          0x6c14u
#define VMCS_HOST_RIP          0x6c16u

/* Segment registers in VMCS order (the encodings step by 2 in this order). */
enum vmx_seg_index { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR, SEG_COUNT };

/* Segment access rights as the VMCS stores them (25.4.1 "Guest Register State", table 25-2).
 * The descriptor's attribute bytes with the limit nibble's gap left in,
 * plus "unusable" (bit 16), which has no counterpart in a descriptor: it
 * marks a segment loaded with a null selector, whose other fields the
 * entry checks then ignore.  Reserved bits must be 0 or entry fails. */
#define AR_TYPE_MASK     0xfu
#define AR_TYPE_ACCESSED (1u << 0)
#define AR_TYPE_RW       (1u << 1) /* writable data / readable code */
#define AR_TYPE_CODE     (1u << 3)
#define AR_S             (1u << 4) /* code or data, not system */
#define AR_DPL_SHIFT     5
#define AR_DPL(ar)       (((ar) >> 5) & 3u)
#define AR_P             (1u << 7)
#define AR_AVL           (1u << 12)
#define AR_L             (1u << 13)
#define AR_DB            (1u << 14)
#define AR_G             (1u << 15)
#define AR_UNUSABLE      (1u << 16)
#define AR_RESERVED_MASK 0xfffe0f00u /* bits 11:8 and 31:17 */

/* Guest interruptibility state (25.4.2 "Guest Non-Register State", table 25-3) and activity state.
 * Blocking by STI or by MOV SS is SVM's interrupt shadow; the core keeps
 * it as one flag (vcpu->int_shadow) and state.c maps it both ways.  The
 * entry checks tie these to other state: STI blocking needs RFLAGS.IF
 * set, and the HLT activity state needs SS.DPL 0 (SDM vol 3C 27.3.1
 * "Checks on the Guest State Area"), which explain.c spells out. */
#define INTERRUPTIBILITY_STI    (1u << 0)
#define INTERRUPTIBILITY_MOV_SS (1u << 1)
#define INTERRUPTIBILITY_SMI    (1u << 2)
#define INTERRUPTIBILITY_NMI    (1u << 3)
#define ACTIVITY_ACTIVE         0u
#define ACTIVITY_HLT            1u
#define ACTIVITY_SHUTDOWN       2u
#define ACTIVITY_WAIT_SIPI      3u

/* ---- EPT (29.3 "The Extended Page Table Mechanism (EPT)") ----
 * An entry's bits 2:0 are its permissions, and all three 0 means "not
 * present"; there is no separate present bit as in the guest's own page
 * tables.  Write without read is a misconfiguration, not a violation
 * (SDM vol 3C 29.3.3.1 "EPT Misconfigurations"), which is why slat.c
 * refuses to build one (slat_perms_ok).  Leaves carry a memory type;
 * hv maps RAM write-back and lets the guest's PAT refine it (IPAT clear,
 * vmx/paging.c), as nested paging combines the two on AMD. */
#define EPT_READ           (1ull << 0)
#define EPT_WRITE          (1ull << 1)
#define EPT_EXEC           (1ull << 2)
#define EPT_MEMTYPE_WB     (6ull << 3) /* leaf entries: memory type, bits 5:3 */
#define EPT_IGNORE_PAT     (1ull << 6)
#define EPT_LARGE          (1ull << 7) /* a 2-MiB (PDE) or 1-GiB (PDPTE) leaf */
#define EPTP_MEMTYPE_WB    6ull
#define EPTP_WALK_LENGTH_4 (3ull << 3) /* page-walk length minus one */

/* ---- Exit qualifications (28.2.1 "Basic VM-Exit Information") ----
 * The qualification is the exit's detail, its meaning set by the exit
 * reason: for port I/O it is what SVM's IOIO EXITINFO1 holds, for an EPT
 * violation what NPF's EXITINFO1 holds.  exit.c turns each into the
 * core's vendor-neutral exit record. */
/* I/O instructions (table 28-5). */
#define IOQ_SIZE_MASK  0x7u /* size minus one */
#define IOQ_IN         (1u << 3)
#define IOQ_STRING     (1u << 4)
#define IOQ_REP        (1u << 5)
#define IOQ_PORT_SHIFT 16
/* The port (bits 31:16) and the size in bytes (bits 2:0 hold it minus one). */
#define IOQ_PORT(q) ((uint16_t)((q) >> IOQ_PORT_SHIFT))
#define IOQ_SIZE(q) ((uint8_t)(((q)&IOQ_SIZE_MASK) + 1))
/* Control-register accesses (table 28-3). */
#define CRQ_CR(q)        ((q)&0xfu)
#define CRQ_TYPE(q)      (((q) >> 4) & 3u) /* 0 MOV to CR, 1 MOV from CR, 2 CLTS, 3 LMSW */
#define CRQ_GPR(q)       (((q) >> 8) & 0xfu)
#define CRQ_LMSW_DATA(q) (((q) >> 16) & 0xffffu)
/* EPT violations (table 28-7 "Exit Qualification for EPT Violations").
 * Bits 2:0 say what the access was, bits 5:3 what the entry allowed:
 * all 0 means no translation (the lazy mapper's case).  FINAL, valid
 * only with LINEAR_VALID, tells the data access from a read of the
 * guest's own page tables, as SVM's NPF_FINAL and NPF_IN_WALK do. */
#define EPTQ_READ         (1u << 0)
#define EPTQ_WRITE        (1u << 1)
#define EPTQ_FETCH        (1u << 2)
#define EPTQ_PERMS_MASK   (7u << 3) /* the entry allowed read/write/execute */
#define EPTQ_LINEAR_VALID (1u << 7)
#define EPTQ_FINAL        (1u << 8) /* the access was to the final translation */

/* ---- Basic exit reasons (Vol. 3D appendix C) ----
 * Bits 15:0 of the exit reason field; bit 31 set means VM entry itself
 * failed (invalid guest state, MSR loading), the counterpart of SVM's
 * VMEXIT_INVALID, and then the guest never ran.  Only the reasons hv
 * handles or is likely to meet have names here; exit.c has a name table
 * for the rest, for the trace. */
#define VMX_EXIT_EXCEPTION_NMI       0u
#define VMX_EXIT_EXTERNAL_INTERRUPT  1u
#define VMX_EXIT_TRIPLE_FAULT        2u
#define VMX_EXIT_INIT                3u
#define VMX_EXIT_SIPI                4u
#define VMX_EXIT_INTERRUPT_WINDOW    7u
#define VMX_EXIT_NMI_WINDOW          8u
#define VMX_EXIT_TASK_SWITCH         9u
#define VMX_EXIT_CPUID               10u
#define VMX_EXIT_HLT                 12u
#define VMX_EXIT_INVLPG              14u
#define VMX_EXIT_RDTSC               16u
#define VMX_EXIT_VMCALL              18u
#define VMX_EXIT_CR_ACCESS           28u
#define VMX_EXIT_IO                  30u
#define VMX_EXIT_RDMSR               31u
#define VMX_EXIT_WRMSR               32u
#define VMX_EXIT_INVALID_GUEST_STATE 33u
#define VMX_EXIT_MSR_LOADING         34u
#define VMX_EXIT_MACHINE_CHECK       41u
#define VMX_EXIT_EPT_VIOLATION       48u
#define VMX_EXIT_EPT_MISCONFIG       49u
#define VMX_EXIT_PREEMPTION_TIMER    52u
#define VMX_EXIT_XSETBV              55u
#define VMX_EXIT_REASON_MAX          77u
#define VMX_EXIT_REASON_ENTRY_FAILED (1u << 31) /* the exit reason field's bit 31 */

/* ---- VM-instruction errors (SDM Vol. 3C 31.4 "VM Instruction Error Numbers", table 31-1
 * "VM-Instruction Error Numbers") ---- */
/* The two errors a failed VMLAUNCH or VMRESUME most often gives: a
 * control word outside what the capability MSRs allow, or host state the
 * checks refuse (SDM vol 3C 27.2 "Checks on VMX Controls and Host-State
 * Area"); explain.c then names the check. */
#define VMXERR_VMENTRY_INVALID_CONTROLS   7u
#define VMXERR_VMENTRY_INVALID_HOST_STATE 8u
#define VMXERR_MAX                        28u

/* ---- Architectural bits the entry checks read ----
 * hv/core/cpu.h has the same bits, but it holds inline assembly and is never
 * compiled hosted; the checker in explain.c is, so it uses these. */
/* CR0.NE and CR4.VMXE are the bits the FIXED0 MSRs usually demand in
 * VMX operation; PE, PG, PAE and the EFER bits decide which entry checks
 * apply to the guest (IA-32e mode, paging). */
#define CR0_PE_BIT   (1ull << 0)
#define CR0_NE_BIT   (1ull << 5)
#define CR0_PG_BIT   (1ull << 31)
#define CR4_PAE_BIT  (1ull << 5)
#define CR4_VMXE_BIT (1ull << 13)
#define EFER_SCE_BIT (1ull << 0)
#define EFER_LME_BIT (1ull << 8)
#define EFER_LMA_BIT (1ull << 10)
#define EFER_NXE_BIT (1ull << 11)

#endif
