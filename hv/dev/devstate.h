/*
 * devstate.h: the device models' serialisers for hvkit's vmstate
 * (core/vms.h, docs/vmstate.md).
 *
 * Each names its model's run-time state field by field, once for both
 * directions: saving stores the fields into the current section, loading
 * takes them out and checks every value the model could not have reached
 * itself (a mode, an index, a length), so that a crafted state never puts
 * a model where its code does not expect to be.  What a model gets at
 * creation and never changes (its port, its clock, its callbacks, fw_cfg's
 * tables) is not part of the state: a load goes into a model created the
 * same way, normally a scratch copy of the live one (core/vms_domain.c).
 *
 * Times are saved relative to the model's own clock (vms_since()), so a
 * running timer has the same time left after a load.
 */
#ifndef HV_DEV_DEVSTATE_H
#define HV_DEV_DEVSTATE_H

#include "acpi_pm.h"
#include "core/vms.h"
#include "debug_exit.h"
#include "fwcfg.h"
#include "ide_cd.h"
#include "ioapic.h"
#include "lapic.h"
#include "pic8259.h"
#include "pit8254.h"
#include "port92.h"
#include "uart16550.h"
#include "virtio/virtio_mmio.h"

/* The PC's legacy devices (dev/pc_state.c). */
void pic_state(struct vms *v, struct pic8259 *p);
void pit_state(struct vms *v, struct pit8254 *p);
void uart_state(struct vms *v, struct uart16550 *u);
void fwcfg_state(struct vms *v, struct fwcfg *f);
void port92_state(struct vms *v, struct port92 *p);
void debug_exit_state(struct vms *v, struct debug_exit *d);
void acpi_pm_state(struct vms *v, struct acpi_pm *pm);

/* The APICs (dev/apic_state.c). */
void lapic_state(struct vms *v, struct lapic *l);
void ioapic_state(struct vms *v, struct ioapic *a);

/* The CD-ROM drive, without its medium (dev/cd_state.c). */
void ide_cd_state(struct vms *v, struct ide_cd *cd);

/* A virtio-mmio transport and its queues (dev/virtio/virtio_state.c). */
void virtio_mmio_state(struct vms *v, struct virtio_mmio *t);

#endif
