/*
 * vmfile.h: a domain saved into, and a new domain restored from, a region
 * of an outer disk -- the control channel's domain-save and domain-restore
 * (docs/control-protocol.md "Saving a domain to a file").  The manager
 * (mgmt/hvmgr/stage.c) copies the region from and to the front-end's
 * host file; hv only ever sees the staging disk.
 *
 * The state is the vmstate of docs/vmstate.md with a CONFIG section
 * second (vms_domain.h: the name, command line, actions and Multiboot
 * image), so that a restore can make a new domain from the file alone, as
 * xl restore does: its RAM, vCPUs and name come from the file.  Every save
 * is a full one (the dirty log's incremental saves are hv's save= option's,
 * vmsave.h).
 */
#ifndef HV_CORE_VMFILE_H
#define HV_CORE_VMFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct host;
struct domain;

/* What becomes of a domain once its state is saved: destroyed (xl save's
 * and virsh save's default), running on as before (xl save -c), or left
 * paused (xl save -p). */
enum vmfile_after { VMFILE_DESTROY, VMFILE_CONTINUE, VMFILE_PAUSE };

/* Where the state lies: outer disk `disk`, from byte `offset`, at most
 * `limit` bytes (a restore's: the state's exact length). */
struct vmfile_place {
    unsigned disk;
    uint64_t offset, limit;
};

/*
 * Save domain d at `p`: pause it, write its whole state, flush, then do
 * `after`.  `record_paused` (-1: as the domain is now) is what the file
 * says a restore does by default: start the new domain paused or not.
 * Returns the state's length, or -1 with err; a refused or failed save
 * leaves the domain as it was (running on if it ran).  *was_paused says
 * whether it was paused before.  Its writable virtio disks are flushed
 * first and not copied (the restore runs on the same files).  Refused: a
 * domain that uses hvkit's paravirtual interface, one that has ended, one
 * whose disk cannot be flushed.
 */
int64_t vmfile_save(struct domain *d, const struct vmfile_place *p, enum vmfile_after after,
                    int record_paused, bool *was_paused, char *err, size_t err_len);

/*
 * Make a new domain of `h` from the state at `p` (p->limit bytes): read its
 * shape and CONFIG, check that hv can make such a domain (a free number,
 * the name free, the memory; no virtio devices, which a domain made at
 * run time cannot have), make it paused, check the whole state
 * against it and put it in, then start it unless `paused` (-1: as the
 * file says).  The new domain, or NULL with err: then nothing has changed
 * (a state that fails any check is refused before it touches the new
 * domain, which is taken back), unless reading the staging disk itself
 * fails half way, which ends the new domain as crashed.
 */
struct domain *vmfile_restore(struct host *h, const struct vmfile_place *p, int paused, char *err,
                              size_t err_len);

/*
 * The state at `p` into domain d, which exists (a machine a front-end
 * started paused from the file's kernel, to restore into): checked whole
 * against d first (its vCPUs, RAM and devices must be the state's), so a
 * refused state leaves d exactly as it was; then d runs unless `paused`
 * (-1: as the file says).  0, or -1 with err.
 */
int vmfile_restore_into(struct domain *d, const struct vmfile_place *p, int paused, char *err,
                        size_t err_len);

#endif
