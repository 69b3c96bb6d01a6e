/*
 * xl: Xen's toolstack command (xl(1), Xen 4.17) over hvkit.  Each domain
 * xl creates is one `bin/hvrun --control SOCKET` machine running in the
 * background; xl keeps a record of it in the state directory
 * ($HVKIT_STATE_DIR/xl/NAME: its domain id, the hvrun process, the config
 * file) and talks to its manager with the control protocol.  Domain-0 is
 * the host itself (see list.c).
 */
#ifndef HVKIT_XL_H
#define HVKIT_XL_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "../common/ctlc.h"

/* A domain xl started. */
struct xldomrec {
    char name[64];
    int domid;
    pid_t pid;  /* bin/hvrun, leader of its own process group */
    long start; /* when it was created (seconds since the epoch) */
    char config[PATH_MAX];
};

/* The xl folder of the state directory and the lock held while xl runs;
 * false (after a message) when it cannot be made. */
bool xl_state_open(void);
/* Let other xl commands run (before a long wait). */
void xl_state_unlock(void);
/* Paths of a domain's files: "" (the record), ".sock", ".log". */
void xl_path(char *out, size_t len, const char *name, const char *suffix);
/* The live domains, sorted by domain id; records of domains whose machine
 * has ended are removed on the way (Xen forgets a destroyed domain). */
int xl_domains(struct xldomrec *out, int max);
/* The domain `arg` names (a name or a domain id); prints xl's message and
 * returns false when there is none. */
bool xl_find(const char *arg, struct xldomrec *out);
bool xl_save(const struct xldomrec *r);
void xl_forget(const struct xldomrec *r);
/* The next free domain id (Xen counts up from 1). */
int xl_next_domid(void);
/* Connect to a domain's manager; false after a message. */
bool xl_connect(const struct xldomrec *r, struct ctlc *c, int ms);
/* Run one command with no arguments on domain 0 of the machine; false
 * after a message. */
bool xl_simple(const struct xldomrec *r, const char *execute);
/* Wait up to `ms` for the machine's process to end. */
bool xl_wait_gone(const struct xldomrec *r, int ms);

int cmd_create(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_console(int argc, char **argv);
int cmd_ops(int argc, char **argv); /* pause unpause shutdown reboot destroy domid domname */

/* Print a command's usage (xl help's text for it) to stderr. */
void xl_usage(const char *cmd);

#endif
