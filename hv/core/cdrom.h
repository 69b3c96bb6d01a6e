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
#include <stdint.h>

struct domain;

/* Give d its drive if it is the boot's domain 0 and hv has cdrom=; build
 * the medium from the outer disk at the first call.  0, or -1 with the
 * reason (the file is not attached, or cannot be read). */
int cdrom_attach(struct domain *d, char *err, size_t err_len);

/* QMP's eject on d's drive: the tray opens and the medium goes.  -1 when
 * the guest locked the drive and `force` is false (nothing changes; the
 * guest is asked to let go), 0 otherwise (also for an empty drive). */
int cdrom_eject(struct domain *d, bool force);

/* QMP's blockdev-change-medium on d's drive: the tray opens (refused as
 * cdrom_eject() refuses it, `force` as there), the medium becomes `length` bytes from
 * `offset` on outer disk `disk` (0: the rest of that disk), called `name`
 * (the host path, for query-block), and the tray closes.  0, or -1 with the reason in err and
 * the drive as it was. */
int cdrom_change(struct domain *d, unsigned disk, uint64_t offset, uint64_t length,
                 const char *name, bool force, char *err, size_t err_len);

#endif
