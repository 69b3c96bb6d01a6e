/*
 * mem.c: `xl mem-set DOMAIN SIZE` and `xl mem-max DOMAIN SIZE` (Xen 4.17
 * xl_mem.c), SIZE in MiB or with a unit (fmt.h xl_mem_kb).
 *
 * mem-set moves the balloon's target: the guest's balloon driver gives
 * pages back to hv (or takes them back) until it has SIZE
 * (hv/core/pv_balloon.c, the control protocol's `balloon`, QMP's command
 * with its `value` in bytes); xl list's Mem follows as the guest moves.
 * A guest without a balloon driver cannot be asked, and the domain's
 * manager says so.
 *
 * mem-max sets the most mem-set may ask for (memory_static_max, kept in
 * the record), not below the target it has, as libxl refuses.  As in Xen
 * 4.17 it may go above the RAM the domain was built with, and mem-set
 * then up to it: Xen's guest needs memory hot-plug to use more than it
 * was built with, and hvkit's guests have none, so the guest keeps its
 * whole RAM and mem-set says so.  A domain built with room (xl.cfg's
 * maxmem above memory) grows up to maxmem.
 */
#include "xl.h"

#include <stdio.h>
#include <string.h>

#include "fmt.h"

#ifndef CTL_CMD_BALLOON
#define CTL_CMD_BALLOON "balloon"
#endif

static int mem_set(const struct rundom *r, const char *arg, long long kb)
{
    struct xlinfo in;
    if (!xl_query_or_say(r, &in)) {
        fprintf(stderr, "cannot set domid %d dynamic max memory to : %s\n", r->domid, arg);
        return 1;
    }
    long long ram = (long long)(in.ram >> 10);
    long long max = r->maxmem_kib ? r->maxmem_kib : ram;
    char args[96], why[256];
    if (kb > max) {
        /* libxl's check against the domain's static maximum. */
        fprintf(stderr, "libxl: error: memory_dynamic_max must be less than or equal to "
                        "memory_static_max\n");
    } else {
        snprintf(args, sizeof(args), "{\"domain\": 0, \"value\": %llu}",
                 (unsigned long long)kb << 10);
        int rc = xl_call(r, CTL_CMD_BALLOON, args, why, sizeof(why));
        /* Above the RAM (after a mem-max past it): the target is kept,
         * the guest can only have all of its RAM. */
        if (rc == 0 && in.ok && kb > ram)
            fprintf(stderr,
                    "warning: domain %d was built with %lld MiB of RAM and its guest cannot "
                    "hot-plug memory: it stays at %lld MiB\n",
                    r->domid, ram >> 10, ram >> 10);
        if (rc == 0)
            return 0;
        fprintf(stderr, "libxl: error: domain %d: %s\n", r->domid, why);
    }
    fprintf(stderr, "cannot set domid %d dynamic max memory to : %s\n", r->domid, arg);
    return 1;
}

/* mem-max: libxl_domain_setmaxmem() refuses a maximum below the target
 * the domain has now; any other is kept, above the RAM too. */
static int mem_max(struct rundom *r, const char *arg, long long kb)
{
    struct xlinfo in;
    xl_query_or_say(r, &in);
    long long target = (long long)(in.target >> 10);
    if (in.ok && kb < target)
        fprintf(stderr,
                "libxl: error: domain %d: memory_static_max must be greater than or or "
                "equal to memory_dynamic_max\n",
                r->domid);
    if (!in.ok || kb < target || kb <= 0) {
        fprintf(stderr, "cannot set domid %d static max memory to : %s\n", r->domid, arg);
        return 1;
    }
    r->maxmem_kib = kb;
    return rundom_save(r) ? 0 : 1;
}

int cmd_mem(int argc, char **argv)
{
    const char *cmd = argv[0];
    while (xl_getopt(argc, argv, "h", NULL, cmd, 2) != -1)
        ;
    struct rundom r;
    if (!xl_state_open() || !xl_find(argv[optind], &r))
        return 1;
    const char *arg = argv[optind + 1];
    long long kb = xl_mem_kb(arg);
    if (kb == -1) {
        fprintf(stderr, "invalid memory size: %s\n", arg);
        return 1;
    }
    return !strcmp(cmd, "mem-set") ? mem_set(&r, arg, kb) : mem_max(&r, arg, kb);
}
