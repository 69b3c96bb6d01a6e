/*
 * cdrom.c - domain 0's CD-ROM drive and its medium (see cdrom.h).
 */
#include "klib.h"

#include "dev/ide_cd.h"
#include "disk/outer.h"
#include "domain.h"
#include "hv.h"
#include "log.h"

#include "cdrom.h"

/* The medium: a range of an outer disk's file, read through imgtool's
 * img_io over hv's ATA driver (disk/outer.h).  `base` is where the
 * medium's first byte lies in that file (0 for a file of its own). */
struct cd_source {
    struct img_io io;
    uint64_t base, bytes;
    /* The file's name as the launcher gave it, for the log and front-ends. */
    const char *name;
};

/* One drive: the outer machine has one such file at a time, and only
 * domain 0 of the boot has the drive (as QEMU's one machine has its one
 * ide1-cd0).  Static: it outlives a reset of the domain. */
static struct ide_cd drive;
static struct cd_source source;
static bool have_source;
/* A changed medium's name (the host path the front-end gave). */
static char changed_name[256];

/* ide_cd_medium.read over the source. */
static int source_read(void *ctx, uint64_t off, void *buf, uint32_t len)
{
    struct cd_source *s = ctx;
    return s->io.read(s->io.ctx, s->base + off, buf, len) < 0 ? -1 : 0;
}

/* The medium as the drive sees it, or NULL for none. */
static const struct ide_cd_medium *medium_of(struct cd_source *s, bool have,
                                             struct ide_cd_medium *m)
{
    if (!have)
        return NULL;
    *m = (struct ide_cd_medium){.ctx = s, .read = source_read, .bytes = s->bytes, .name = s->name};
    return m;
}

/* The launcher's file number n as the boot's medium. */
static int open_outer(unsigned n, char *err, size_t err_len)
{
    const char *why;
    if (outer_disk_io(n, false, &source.io, &why) < 0) {
        ksnprintf(err, err_len, "cdrom: outer disk %u: %s", n, why);
        return -1;
    }
    uint64_t size = 0;
    if (source.io.size(source.io.ctx, &size) < 0 || size == 0) {
        ksnprintf(err, err_len, "cdrom: outer disk %u: the file is empty or unreadable", n);
        return -1;
    }
    source.base = 0;
    source.bytes = size;
    source.name = outer_disk_name(n);
    have_source = true;
    return 0;
}

/* The drive's interrupt: IRQ 15 on the 8259 pair and I/O APIC pin 15, as
 * a PC wires the secondary IDE channel. */
static void cd_irq(void *ctx, bool level)
{
    struct domain *d = ctx;
    pic_set_irq(&d->pic, IDE_CD_IRQ, level);
    ioapic_set_irq(&d->ioapic, IDE_CD_IRQ, level);
}

static void cd_note(void *ctx, const char *line)
{
    (void)ctx;
    hv_log("%s", line);
}

/* The medium and tray a rebuilt drive starts with: those of the drive
 * before, once it has existed (a reset keeps the medium). */
static bool built;

int cdrom_attach(struct domain *d, char *err, size_t err_len)
{
    int opt = d->host->opt.cdrom;
    if (opt == HV_CDROM_NONE || d->id != 0 || d->serial != 0)
        return 0;
    if (!built && opt >= 0 && open_outer((unsigned)opt, err, err_len) < 0)
        return -1;
    struct ide_cd_medium m;
    ide_cd_init(&drive, medium_of(&source, have_source, &m), cd_irq, d);
    drive.note = cd_note;
    iobus_add(&d->io, &drive.io);
    iobus_add(&d->io, &drive.ctl);
    d->cd = &drive;
    if (!built)
        hv_log("ide1-cd0 at %#x/%#x irq %u: %s%s", IDE_CD_IO_BASE, IDE_CD_CTL_PORT, IDE_CD_IRQ,
               have_source ? source.name : "no medium", have_source ? ", read-only" : "");
    built = true;
    return 0;
}

/* The guest's lock holds unless forced: QEMU asks the guest to let go and
 * refuses (blockdev_open_tray). */
int cdrom_eject(struct domain *d, bool force)
{
    if (ide_cd_eject(d->cd, force) < 0)
        return -1;
    have_source = false;
    return 0;
}

int cdrom_change(struct domain *d, unsigned disk, uint64_t offset, uint64_t length,
                 const char *name, bool force, char *err, size_t err_len)
{
    struct cd_source s = {.base = offset, .bytes = length};
    const char *why;
    uint64_t size = 0;
    if (outer_disk_io(disk, false, &s.io, &why) < 0) {
        ksnprintf(err, err_len, "outer disk %u: %s", disk, why);
        return -1;
    }
    if (s.io.size(s.io.ctx, &size) < 0)
        size = 0;
    /* No length: the rest of the disk (a file of its own, --outer-disk). */
    if (length == 0 && offset < size)
        length = s.bytes = size - offset;
    if (length == 0 || offset > size || length > size - offset) {
        ksnprintf(err, err_len,
                  "the medium (%llu bytes at %llu) is not inside outer disk %u (%llu bytes)",
                  (unsigned long long)length, (unsigned long long)offset, disk,
                  (unsigned long long)size);
        return -1;
    }
    if (cdrom_eject(d, force) < 0) {
        ksnprintf(err, err_len,
                  "Device 'ide1-cd0' is locked and force was not specified, wait for tray to "
                  "open and try again");
        return -1;
    }
    ksnprintf(changed_name, sizeof(changed_name), "%s", name);
    s.name = changed_name;
    source = s;
    have_source = true;
    struct ide_cd_medium m;
    ide_cd_insert(d->cd, medium_of(&source, true, &m));
    hv_log("ide1-cd0: new medium %s, %llu bytes", changed_name, (unsigned long long)length);
    return 0;
}
