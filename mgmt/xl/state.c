/*
 * state.c: xl's side of the running domains' registry (rundom.h): the
 * lookups and connections with xl's messages.
 */
#include "xl.h"

#include <stdio.h>
#include <string.h>

bool xl_state_open(void)
{
    return rundom_open("xl");
}

bool xl_find(const char *arg, struct rundom *out)
{
    if (rundom_find(arg, out))
        return true;
    /* xl's words (libxl's ERROR_INVAL is -6). */
    fprintf(stderr, "%s is an invalid domain identifier (rc=-6)\n", arg);
    return false;
}

bool xl_connect(const struct rundom *r, struct ctlc *c, int ms)
{
    char why[256];
    if (rundom_connect(r, c, ms, why, sizeof(why)) < 0) {
        fprintf(stderr, "xl: domain %d (%s): %s\n", r->domid, r->name, why);
        return false;
    }
    return true;
}

bool xl_simple(const struct rundom *r, const char *execute)
{
    static struct ctlc c;
    char why[512];
    int ret;
    if (!xl_connect(r, &c, 10000))
        return false;
    /* quit acts on the whole machine and takes no domain; it goes to the
     * manager whether hv answers or not (the manager ends a machine whose
     * hv does not answer it). */
    bool quit = !strcmp(execute, CTL_CMD_QUIT);
    const char *args = quit ? NULL : "{\"domain\": 0}";
    int rc = quit ? ctlc_call(&c, execute, args, 60000, &ret, why, sizeof(why))
                  : ctlc_call_hv(&c, execute, args, 60000, &ret, why, sizeof(why));
    ctlc_close(&c);
    if (rc != 0) {
        fprintf(stderr, "libxl: error: domain %d: %s: %s\n", r->domid, execute, why);
        return false;
    }
    return true;
}

int xl_call(const struct rundom *r, const char *execute, const char *args, char *why, size_t whylen)
{
    static struct ctlc c;
    int ret;
    if (rundom_connect(r, &c, 10000, why, whylen) < 0)
        return -1;
    /* An hv that does not answer is said so ("no reply" is no answer). */
    int rc = ctlc_call_hv(&c, execute, args, 60000, &ret, why, whylen);
    ctlc_close(&c);
    return rc;
}
