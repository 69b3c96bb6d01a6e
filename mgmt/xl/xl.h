/*
 * xl: Xen's toolstack command (xl(1), Xen 4.17) over hvkit.  Each domain
 * xl creates is one `bin/hvrun --control SOCKET` machine running in the
 * background, recorded in the running domains' registry virsh shares
 * (mgmt/common/rundom.h: $HVKIT_STATE_DIR/running/NAME holds its domain id,
 * the hvrun process, the config file), and xl talks to its manager with
 * the control protocol.  Domain-0 is
 * the host itself (see list.c).
 */
#ifndef HVKIT_XL_H
#define HVKIT_XL_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "../common/ctlc.h"
#include "../common/rundom.h"

/* The domain `arg` names (a name or a domain id) in the running domains'
 * registry (rundom.h); prints xl's message and returns false when there is
 * none. */
bool xl_find(const char *arg, struct rundom *out);
/* The registry, opened with xl's messages. */
bool xl_state_open(void);
/* Connect to a domain's manager; false after a message. */
bool xl_connect(const struct rundom *r, struct ctlc *c, int ms);
/* Run one command with no arguments on domain 0 of the machine; false
 * after a message. */
bool xl_simple(const struct rundom *r, const char *execute);

int cmd_create(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_console(int argc, char **argv);
int cmd_ops(int argc, char **argv); /* pause unpause shutdown reboot destroy domid domname */

/* Print a command's usage (xl help's text for it) to stderr. */
void xl_usage(const char *cmd);

#endif
