/*
 * cdrom.h - domain 0's CD-ROM drive (dev/ide_cd.h) in hv: its medium, an
 * image file the launcher attached to the outer machine as a disk
 * (bin/hvrun -cdrom FILE, hv's cdrom=N option), read-only and raw; the
 * drive on the domain's port bus with IRQ 15 on its 8259 and I/O APIC.
 *
 * The medium belongs to the machine, not to one boot of the guest: a
 * reset builds the drive again with the medium it had, as QEMU's
 * system_reset keeps a changed CD in its drive.
 */
#ifndef HV_CORE_CDROM_H
#define HV_CORE_CDROM_H

#include <stdbool.h>
#include <stddef.h>

struct domain;

/* Give d its drive if it is the boot's domain 0 and hv has cdrom=; build
 * the medium from the outer disk at the first call.  0, or -1 with the
 * reason (the file is not attached, or cannot be read). */
int cdrom_attach(struct domain *d, char *err, size_t err_len);

#endif
