/*
 * domcreate.h - a domain made while hv runs (the control channel's
 * domain-create, core/ctl_domain.c), as the boot makes one (main.c) but
 * from an image in hv's heap rather than a boot module.
 *
 * hv holds at most HV_DOMAINS_MAX domains (cmdline.h), those of the boot
 * included.  A new domain takes the lowest number that is free: one no
 * domain has had, or one whose domain has ended and given its memory back
 * (torn down, and not preserved).  The domain of such a number is
 * replaced: its struct, which the report would have read, is reused.
 *
 * The domain is built exactly as at boot (build.c: its RAM, memory map,
 * second-level tables, the image checked and loaded by the Multiboot
 * loader, its vCPU, its devices); if any step fails, everything it got
 * goes back to the heap and the number is as it was: nothing half built
 * remains.
 */
#ifndef HV_CORE_DOMCREATE_H
#define HV_CORE_DOMCREATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmdline.h"

struct host;
struct domain;

/* What the new domain is made of. */
struct domain_spec {
    /* Its name (NULL: "dN"); unique among the domains that have not been
     * destroyed. */
    const char *name;
    /* Its Multiboot image, in memory from page_alloc(): the domain owns it
     * from here on, and it goes back with domain_destroy() (or at once when
     * the domain cannot be made). */
    void *image;
    size_t image_len;
    /* The guest's command line (its file name first, as QEMU's -kernel
     * gives it); copied. */
    const char *cmdline;
    /* Its RAM in bytes, a multiple of 2 MiB within HV_MEM_MIN..HV_MEM_MAX. */
    uint64_t ram_bytes;
    /* Its vCPUs, 1..HV_SMP_MAX (0: one): vCPU 0 starts at the kernel's
     * entry, the others wait for the guest's INIT-SIPI-SIPI (core/smp.c). */
    unsigned vcpus;
    /* More than vcpus: the vCPUs it is built with, `vcpus` of them
     * available at the start (include/hvkit/pv.h "vCPU hot-plug"); 0:
     * vcpus. */
    unsigned maxvcpus;
    /* What follows its end (xl.cfg's on_poweroff, on_reboot, on_crash). */
    enum domain_action on_poweroff, on_reboot, on_crash;
    /* Made paused (xl create -p): it runs after a `cont`. */
    bool paused;
};

/* Make and start a domain of `h` from `s`.  Returns it, or NULL with the
 * reason in err (then nothing has changed, and s->image has gone back to
 * the heap). */
struct domain *domain_create(struct host *h, const struct domain_spec *s, char *err,
                             size_t err_len);

/* Take back the domain the last domain_create() made, before it has run
 * (made paused, never unpaused) and before another was made: everything
 * it got goes back to the heap and its number is as before, as if it had
 * never been made (a restore whose state fails its check, vmfile.c).  The
 * domain it replaced, if any, stays destroyed: its image is gone. */
void domain_create_undo(struct host *h, struct domain *d);

/* The number domain_create() would give a new domain now, or -1 when hv
 * holds HV_DOMAINS_MAX domains that have not given their memory back. */
int domain_free_id(const struct host *h);

/* Is `name` one a domain may have: letters, digits and "-_.", not
 * starting with a digit (which would read as a domain number)? */
bool domain_name_ok(const char *name);

/* The domain called `name` that has not been destroyed, or NULL. */
struct domain *domain_by_name(const struct host *h, const char *name);

#endif
