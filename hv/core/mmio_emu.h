/*
 * mmio_emu.h - the MMIO instruction emulator (emu.h) run on a vCPU of a
 * domain: the guest's registers and mode go in, its instruction bytes and
 * memory operands are reached the way the guest reaches them (linear
 * addresses through its own page tables, then the domain's memory map: RAM
 * or a device on its MMIO bus), and the new registers come back out.
 *
 * Compiled hosted too (tests/unit/test_hv_mmio_emu.c).
 */
#ifndef HV_CORE_MMIO_EMU_H
#define HV_CORE_MMIO_EMU_H

#include "emu.h"
#include "vcpu.h"

/* The emulator's view of `v` (mode, registers, RIP, RFLAGS, segment
 * bases). */
void emu_cpu_of(struct vcpu *v, struct emu_cpu *c);

/* Emulate the instruction at v's RIP.  On EMU_OK, v's registers, RIP and
 * RFLAGS are the new state (RIP unchanged while a REP instruction has
 * iterations left); on any other status v is unchanged (but for the
 * iterations a faulting REP instruction completed) and res->reason says
 * why, naming the guest-physical address for a failed access.  The caller
 * applies the rest of the policy (interrupt shadow, single-step trap,
 * exceptions, ending the guest). */
enum emu_status mmio_emu_run(struct vcpu *v, struct emu_result *res);

#endif
