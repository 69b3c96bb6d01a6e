/*
 * saveguard: a save that ends whole even when its front-end dies.
 *
 * xl save and virsh save are several steps in the front-end
 * (savefile.c): a temporary twin of FILE, domain-save into the state
 * file running/NAME.state (the manager pauses the domain for it), the
 * save image written into the twin and renamed over FILE, then the
 * domain's machine ended.  The manager carries its one request out
 * whole whatever happens to the front-end (docs/control-protocol.md
 * "Several front-ends, and a front-end that dies"), but the steps
 * around it are the front-end's: one killed between them (SIGKILL, or a
 * ^C that reaches its process group) would leave the domain paused with
 * no file, the twin and the state file behind.
 *
 * So the save is watched by a guard (guard.h).  When the front-end dies,
 * the guard finishes the save the one way it can: before the image was
 * whole, it lets the domain run again if it ran (as a failed save does)
 * and removes the twin; once the image was renamed into place, it ends
 * the machine as `after=destroy` asked.  Either way it removes the state
 * file once the manager has finished with it.  A restore is guarded
 * too: its kernel and state files beside the record, and the machine it
 * starts paused for the state.
 */
#ifndef HVKIT_MGMT_COMMON_SAVEGUARD_H
#define HVKIT_MGMT_COMMON_SAVEGUARD_H

#include <stdbool.h>

#include "guard.h"
#include "rundom.h"

/* The steps a front-end tells its guard of. */
#define SAVEGUARD_RAN     'r' /* the domain was running before the save */
#define SAVEGUARD_SENT    's' /* domain-save is with the manager */
#define SAVEGUARD_WRITTEN 'w' /* the image is whole under FILE's name */
#define SAVEGUARD_STARTED 'm' /* a restore's machine starts, paused */

/* Start the guard of a save of r's domain through the twin TWIN and the
 * state file STATE, with the save's AFTER ("destroy", "pause",
 * "continue"); tell it the SAVEGUARD_* steps with guard_step, and end it
 * with guard_end. */
void saveguard_start(struct guard *g, const struct rundom *r, const char *twin, const char *state,
                     const char *after);

/* Start the guard of a restore into a machine for domain r (its name
 * set), through the files KERNEL and STATE (NULL: the user's own file):
 * if the front-end dies, a machine started (SAVEGUARD_STARTED) but not
 * sent the state (SAVEGUARD_SENT) is ended, and the two files go. */
void saveguard_restore(struct guard *g, const struct rundom *r, const char *kernel,
                       const char *state);

/* Start the guard of a front-end that pauses r's domain for a while and
 * lets it run again at the end (virsh dump without --live): if the
 * front-end dies before guard_end, the guard sends the cont.  Started
 * before the stop is sent, so a stop still on its way is covered too (a
 * cont to a domain the stop never reached does nothing). */
void saveguard_pause(struct guard *g, const struct rundom *r);

/* Is r's domain running (query-status)?  false when it cannot be asked. */
bool saveguard_running(const struct rundom *r);

/* Let r's domain run again (cont), waiting for the manager's answer. */
void saveguard_cont(const struct rundom *r);

#endif
