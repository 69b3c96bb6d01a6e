/*
 * vcpustate.c: a vCPU's whole architectural state as one struct cpu_state
 * (cpustate.h), gathered from its three homes and put back into them:
 *
 *   struct vcpu   the general registers and the lazily loaded groups
 *                 (vcpu.h "Lazy guest state"): RIP, RSP, RFLAGS, CR0-CR4,
 *                 EFER, PAT, the interrupt shadow, and the MSRs the core
 *                 emulates (XCR0, MISC_ENABLE, DS_AREA, the TSC offset);
 *   the backend   what only the VMCB or VMCS holds: segments with their
 *                 hidden parts, descriptor tables, DR7, the system-call
 *                 MSRs, an event waiting for injection (backend.h,
 *                 get_state and set_state);
 *   the CPU       what neither switches because hv never uses it: DR0-DR3,
 *                 the x87/SSE registers, XCR0 and the AVX state, and
 *                 under VT-x also CR2, DR6 and the system-call MSRs,
 *                 which the run loop swaps with struct vcpu's copies
 *                 when it switches vCPUs (vcpu_cpu_regs_put and _load
 *                 below).
 *
 * Only called between exits, on the vCPU the CPU has loaded (run.c), with
 * its domain paused: nothing else changes the state meanwhile.
 */
#include "klib.h"

#include "cpu.h"
#include "cpustate.h"
#include "hv.h"
#include "vcpustate.h"
#include "xcr.h"

/* DR0-DR3 (SDM vol 3B 18.2.1 "Debug Address Registers (DR0-DR3)"): the
 * register is named in the instruction, hence one case each. */
static uint64_t read_dr(unsigned n)
{
    uint64_t v = 0;
    switch (n) {
    case 0:
        __asm__ volatile("mov %%dr0, %0" : "=r"(v));
        break;
    case 1:
        __asm__ volatile("mov %%dr1, %0" : "=r"(v));
        break;
    case 2:
        __asm__ volatile("mov %%dr2, %0" : "=r"(v));
        break;
    default:
        __asm__ volatile("mov %%dr3, %0" : "=r"(v));
        break;
    }
    return v;
}

static void write_dr(unsigned n, uint64_t v)
{
    switch (n) {
    case 0:
        __asm__ volatile("mov %0, %%dr0" : : "r"(v));
        break;
    case 1:
        __asm__ volatile("mov %0, %%dr1" : : "r"(v));
        break;
    case 2:
        __asm__ volatile("mov %0, %%dr2" : : "r"(v));
        break;
    default:
        __asm__ volatile("mov %0, %%dr3" : : "r"(v));
        break;
    }
}

/*
 * FXSAVE or FXRSTOR of the guest's x87/SSE registers, which stay in the
 * CPU while hv runs.  Both save and load the XMM registers and MXCSR only
 * while CR4.OSFXSR is 1 (SDM vol 2A "FXSAVE": "If the OSFXSR bit in
 * control register CR4 is not set, the FXSAVE instruction may not save
 * these registers"), and hv's own CR4 does not have it: it is set around
 * the instruction and cleared again.  CR0.TS and CR0.EM are 0 in hv, so
 * neither faults.
 */
static void fx(uint8_t *area, bool save)
{
    uint64_t cr4 = read_cr4();
    write_cr4(cr4 | CR4_OSFXSR);
    if (save)
        __asm__ volatile("fxsave64 %0" : "=m"(*(uint8_t(*)[CPU_FXSAVE_LEN])area));
    else
        __asm__ volatile("fxrstor64 %0" : : "m"(*(const uint8_t(*)[CPU_FXSAVE_LEN])area));
    write_cr4(cr4);
}

/* The x87/SSE state after a reset or INIT that FXRSTOR can load: FCW
 * 037FH and MXCSR 1F80H, everything else 0 (SDM vol 3A table 10-1 "IA-32
 * and Intel 64 Processor States Following Power-up, Reset, or INIT";
 * the FXSAVE layout of SDM vol 1 10.5.1 "FXSAVE Area": FCW at byte 0,
 * MXCSR at byte 24). */
static void fx_reset_image(uint8_t *area)
{
    memset(area, 0, CPU_FXSAVE_LEN);
    area[0] = 0x7f;
    area[1] = 0x03;
    area[24] = 0x80;
    area[25] = 0x1f;
}

static void avx_state(uint8_t *ymm_hi, bool save);

/* The system-call MSRs in struct vcpu's order (cpu_msr): a VMCS does not
 * hold them, and VT-x lets the guest own the real ones (vmx/vcpu.c). */
static const uint32_t syscall_msrs[5] = {MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SFMASK,
                                         MSR_KERNEL_GS_BASE};

/* Can this CPU hold AVX state, with XSAVE enabled in hv's CR4 (build.c)?
 * CPUID.(EAX=0DH,ECX=0):EAX lists the XCR0 bits it supports (SDM vol 1
 * 13.2 "Enumeration of CPU Support for XSAVE Instructions and
 * XSAVE-Supported Features"); asked once. */
static bool cpu_has_avx_state(void)
{
    static int has = -1;
    if (has < 0)
        has = (read_cr4() & CR4_OSXSAVE) && (cpuid_count(0xd, 0).eax & XCR0_AVX);
    return has;
}

/*
 * XCR0 and the AVX state between the CPU and struct vcpu.  The guest's
 * XCR0 is the CPU's while it runs (SVM runs its XSETBV natively, VT-x
 * through hv, dispatch.c; neither world switch loads or saves XCR0), and
 * the upper halves of YMM0-15 are the CPU's too.  They are moved with XCR0
 * set to x87 | SSE | AVX whatever the guest's is, so that a vCPU that
 * turned AVX off still keeps its own upper halves and never finds
 * another's when it turns AVX on again; the guest's XCR0 goes in last.
 * Components beyond AVX (AVX-512, AMX) are not moved: a vmstate does not
 * hold them either (cpustate.h CPU_XCR0_HELD).
 */
static void xstate_put(struct vcpu *v)
{
    if (!(read_cr4() & CR4_OSXSAVE))
        return;
    v->xcr0 = xgetbv(0);
    if (cpu_has_avx_state()) {
        xsetbv(0, XCR0_X87 | XCR0_SSE | XCR0_AVX);
        avx_state(v->ymm_hi, true);
    }
}

static void xstate_load(struct vcpu *v)
{
    if (!(read_cr4() & CR4_OSXSAVE))
        return;
    if (cpu_has_avx_state()) {
        xsetbv(0, XCR0_X87 | XCR0_SSE | XCR0_AVX);
        avx_state(v->ymm_hi, false);
    }
    xsetbv(0, v->xcr0);
}

/* Does this CPU have IA32_TSC_AUX?  It exists when RDTSCP
 * (CPUID.80000001H:EDX bit 27) or RDPID (CPUID.(EAX=7,ECX=0):ECX bit 22)
 * does (SDM vol 2B "RDTSCP", "RDPID"); asked once. */
static bool cpu_has_tsc_aux(void)
{
    static int has = -1;
    if (has < 0)
        has = (cpuid(0x80000000u).eax >= 0x80000001u && (cpuid(0x80000001u).edx & (1u << 27))) ||
              (cpuid(0).eax >= 7 && (cpuid_count(7, 0).ecx & (1u << 22)));
    return has;
}

/* CR2, DR6 and the system-call MSRs, for a backend whose world switch does
 * not keep them (backend.h `keeps`); TSC_AUX, which no world switch keeps
 * (APM vol 2 15.5.2 "VMSAVE and VMLOAD Instructions" does not list it,
 * and a VMCS has no field for it). */
static void held_put(struct vcpu *v, unsigned keeps)
{
    if (!(keeps & BACKEND_KEEPS_CR2_DR6)) {
        v->cpu_cr2 = read_cr2();
        v->cpu_dr6 = read_dr6();
    }
    if (!(keeps & BACKEND_KEEPS_SYSCALL_MSRS))
        for (unsigned i = 0; i < 5; i++)
            v->cpu_msr[i] = rdmsr(syscall_msrs[i]);
    if (cpu_has_tsc_aux())
        v->cpu_tsc_aux = rdmsr(MSR_TSC_AUX);
}

static void held_load(struct vcpu *v, unsigned keeps)
{
    if (!(keeps & BACKEND_KEEPS_CR2_DR6)) {
        write_cr2(v->cpu_cr2);
        write_dr6(v->cpu_dr6);
    }
    if (!(keeps & BACKEND_KEEPS_SYSCALL_MSRS))
        for (unsigned i = 0; i < 5; i++)
            wrmsr(syscall_msrs[i], v->cpu_msr[i]);
    if (cpu_has_tsc_aux())
        wrmsr(MSR_TSC_AUX, v->cpu_tsc_aux);
}

void vcpu_cpu_regs_put(struct vcpu *v)
{
    fx(v->fxsave, true);
    for (unsigned i = 0; i < 4; i++)
        v->dr[i] = read_dr(i);
    xstate_put(v);
    held_put(v, vcpu_backend(v)->keeps);
    v->cpu_regs_valid = true;
}

/* A vCPU that never ran gets the state of a reset (SDM vol 3A table 10-1
 * "IA-32 and Intel 64 Processor States Following Power-up, Reset, or
 * INIT"): x87/SSE as fx_reset_image() makes it, DR0-DR3, CR2 and the
 * MSRs 0, DR6 FFFF0FF0H, the AVX state zeros (its initial state, SDM vol 1
 * 13.6 "Processor Tracking of XSAVE-Managed State"); its XCR0 the reset
 * value build.c gave it. */
void vcpu_cpu_regs_load(struct vcpu *v)
{
    if (!v->cpu_regs_valid) {
        fx_reset_image(v->fxsave);
        memset(v->dr, 0, sizeof(v->dr));
        memset(v->ymm_hi, 0, sizeof(v->ymm_hi));
        memset(v->cpu_msr, 0, sizeof(v->cpu_msr));
        v->cpu_tsc_aux = 0;
        v->cpu_cr2 = 0;
        v->cpu_dr6 = 0xffff0ff0u;
        v->cpu_regs_valid = true;
    }
    xstate_load(v);
    fx(v->fxsave, false);
    for (unsigned i = 0; i < 4; i++)
        write_dr(i, v->dr[i]);
    held_load(v, vcpu_backend(v)->keeps);
}

/*
 * XSAVE state component 2 alone (AVX, the upper halves of YMM0-15), saved
 * or restored through an XSAVE area in the standard format (SDM vol 1
 * 13.4 "XSAVE Area"): the legacy region and the XSAVE header, then each
 * component at the offset CPUID.(EAX=0DH,ECX=2):EBX names (13.4.3
 * "Extended Region of an XSAVE Area").  The requested-feature bitmap is 4
 * (EDX:EAX), so nothing else is touched.  XSAVE leaves a component in its
 * initial state unwritten and clears its XSTATE_BV bit (13.8 "Operation of
 * XSAVE"): the area is zeroed first, and AVX's initial state is zeros.
 * XRSTOR loads the component from the area when its XSTATE_BV bit is set
 * (13.9 "Operation of XRSTOR").  hv runs with CR4.OSXSAVE set wherever
 * the CPU has XSAVE (build.c), and the guest's XCR0, which enables AVX,
 * is the CPU's while this runs.
 */
static void avx_state(uint8_t *ymm_hi, bool save)
{
    static uint8_t area[4096] __attribute__((aligned(64)));
    uint32_t off = cpuid_count(0xd, 2).ebx;
    if (off + CPU_YMM_HI_LEN > sizeof(area))
        return;
    memset(area, 0, off + CPU_YMM_HI_LEN);
    if (save) {
        __asm__ volatile("xsave64 %0" : "+m"(area) : "a"(4u), "d"(0u));
        memcpy(ymm_hi, area + off, CPU_YMM_HI_LEN);
    } else {
        /* XSTATE_BV, the header's first 8 bytes (13.4.2 "XSAVE Header"):
         * the AVX component is in the area. */
        area[CPU_FXSAVE_LEN] = 4;
        memcpy(area + off, ymm_hi, CPU_YMM_HI_LEN);
        __asm__ volatile("xrstor64 %0" : : "m"(area), "a"(4u), "d"(0u));
    }
}

int vcpu_get_cpu_state(struct vcpu *v, struct cpu_state *c, char *err, size_t err_len)
{
    const struct backend *be = vcpu_backend(v);
    if (!be->get_state) {
        ksnprintf(err, err_len, "the %s backend cannot read a vCPU's whole state", be->name);
        return -1;
    }
    memset(c, 0, sizeof(*c));
    be->get_state(v, c);
    /* The lazily loaded groups from struct vcpu, which may hold changes
     * the core made since the exit and the backend has not written yet. */
    vcpu_need(v, VCPU_STATE_ALL);
    c->regs = v->regs;
    c->rip = v->rip;
    c->rflags = v->rflags;
    c->cr0 = v->cr0;
    c->cr2 = v->cr2;
    c->cr3 = v->cr3;
    c->cr4 = v->cr4;
    c->efer = v->efer;
    c->pat = v->pat;
    c->int_shadow = v->int_shadow;
    /* XCR0 is the CPU's: under SVM the guest's XSETBV runs without an
     * exit and only the CPU knows the value (v->xcr0 follows it under
     * VT-x, where hv executes XSETBV for the guest, dispatch.c); the run
     * loop swaps it with each vCPU's copy (vcpu_cpu_regs_put). */
    c->xcr0 = read_cr4() & CR4_OSXSAVE ? xgetbv(0) : v->xcr0;
    c->misc_enable = v->misc_enable;
    c->ds_area = v->ds_area;
    /* The guest's TSC now: the host's plus the offset (vcpu.h). */
    c->tsc = rdtsc() + v->tsc_offset;
    /* Whether it runs at all: an AP may wait for its start (smp.c). */
    c->mp_state = v->mp_state;
    c->start_pending = v->start_pending;
    c->start_vector = v->start_vector;
    /* An NMI in the latch, and whether the guest's handler of one still
     * runs (the backend knows: backend.h nmi_blocked). */
    c->nmi_pending = v->nmi_pending;
    c->nmi_blocked = be->nmi_blocked && be->nmi_blocked(v);
    /* TSC_AUX is in the CPU while the vCPU is loaded (held_load). */
    c->tsc_aux = cpu_has_tsc_aux() ? rdmsr(MSR_TSC_AUX) : v->cpu_tsc_aux;
    for (unsigned i = 0; i < 4; i++)
        c->dr[i] = read_dr(i);
    fx(c->fxsave, true);
    /* What XCR0 enables beyond x87, SSE and AVX would be lost. */
    if (c->xcr0 & ~CPU_XCR0_HELD) {
        ksnprintf(err, err_len,
                  "the guest's XCR0 (%#llx) enables state components a vmstate does not hold "
                  "yet (it holds x87, SSE and AVX)",
                  (unsigned long long)c->xcr0);
        return -1;
    }
    if (c->xcr0 & XCR0_AVX)
        avx_state(c->ymm_hi, true);
    return 0;
}

int vcpu_set_arch_state(struct vcpu *v, const struct cpu_state *c, char *err, size_t err_len)
{
    const struct backend *be = vcpu_backend(v);
    if (!be->set_state) {
        ksnprintf(err, err_len, "the %s backend cannot write a vCPU's whole state", be->name);
        return -1;
    }
    be->set_state(v, c);
    v->regs = c->regs;
    v->rip = c->rip;
    v->rflags = c->rflags;
    v->cr0 = c->cr0;
    v->cr2 = c->cr2;
    v->cr3 = c->cr3;
    v->cr4 = c->cr4;
    v->efer = c->efer;
    v->pat = c->pat;
    v->int_shadow = c->int_shadow;
    v->xcr0 = c->xcr0;
    v->misc_enable = c->misc_enable;
    v->ds_area = c->ds_area;
    /* The guest's TSC goes on from the saved value. */
    v->tsc_offset = c->tsc - rdtsc();
    /* Every lazy group now holds the new state and goes to the backend at
     * the next entry; the segment group's derived values (CPL, CS mode,
     * bases) and the IDTR come back from what set_state wrote. */
    v->loaded = VCPU_STATE_ALL & ~(VCPU_SEGS | VCPU_IDTR);
    vcpu_changed(v, VCPU_STATE_ALL & ~(VCPU_SEGS | VCPU_IDTR));
    vcpu_need(v, VCPU_SEGS | VCPU_IDTR);
    /* The interrupt logic looks again (irq.c: irq_idle caches "nothing
     * to deliver"). */
    v->irq_idle = false;
    return 0;
}

int vcpu_set_cpu_state(struct vcpu *v, const struct cpu_state *c, char *err, size_t err_len)
{
    if (vcpu_set_arch_state(v, c, err, err_len) < 0)
        return -1;
    /* Running, waiting for its SIPI or stopped as it was (smp.c); a vCPU
     * blocked in HLT then resumes after it, as after any wake-up. */
    v->mp_state = c->mp_state;
    v->start_pending = c->start_pending;
    v->start_vector = c->start_vector;
    v->blocked = false;
    /* The latch (the blocking went in with the backend's set_state); an
     * NMI waiting is delivered when the guest can take it (nmi.c). */
    v->nmi_pending = c->nmi_pending;
    /* TSC_AUX into the CPU, where it is while the vCPU is loaded, and
     * into the copy the run loop swaps. */
    v->cpu_tsc_aux = c->tsc_aux;
    if (cpu_has_tsc_aux())
        wrmsr(MSR_TSC_AUX, c->tsc_aux);
    for (unsigned i = 0; i < 4; i++)
        write_dr(i, c->dr[i]);
    /* The guest's XCR0 is the CPU's while it runs (the guest's XSETBV
     * sets it: natively under SVM, through hv under VT-x, dispatch.c), so
     * the restored one goes into the CPU too; vmsave.c checked that this
     * CPU takes it.  A CPU without XSAVE has XCR0 1 only. */
    if (read_cr4() & CR4_OSXSAVE)
        xsetbv(0, c->xcr0);
    fx((uint8_t *)c->fxsave, false);
    if (c->xcr0 & XCR0_AVX)
        avx_state((uint8_t *)c->ymm_hi, false);
    return 0;
}
