/*
 * guard: finishing a front-end's work of several steps when the front-end
 * dies half-way.
 *
 * Some commands are several steps in the front-end around requests the
 * manager carries out whole whatever happens to it
 * (docs/control-protocol.md "Several front-ends, and a front-end that
 * dies"): a temporary file renamed into place at the end, a domain paused
 * meanwhile.  A front-end killed between them (SIGKILL, or a ^C that
 * reaches its process group) would leave the temporary file behind, or the
 * domain paused.  So such a command starts a guard first: a child process
 * in a session of its own (out of reach of the terminal's signals and of
 * `timeout`'s kill of its process group), which reads the steps the
 * front-end has passed from a socket.  When the front-end says it is done
 * (guard_end), the guard ends with nothing to do.  When the socket ends
 * without that -- the front-end died -- the guard runs the command's
 * finishing function with the steps it was told, and ends.  The guard
 * inherits what the front-end holds, the registry's lock among them
 * (rundom.h), so no other front-end command runs until it is done.
 */
#ifndef HVKIT_MGMT_COMMON_GUARD_H
#define HVKIT_MGMT_COMMON_GUARD_H

#include <sys/types.h>

/* The finishing function: called in the guard only when the front-end
 * died, with the steps it was told (one character each, in order, a
 * string of at most GUARD_STEPS_MAX). */
typedef void guard_fn(void *ctx, const char *steps);
#define GUARD_STEPS_MAX 15

struct guard {
    int fd;    /* the front-end's end of the guard's socket, -1 without */
    pid_t pid; /* the guard */
};

/* Start a guard that calls fn(ctx, steps) if the front-end dies before
 * guard_end (ctx: the front-end's memory as it is now, which the guard
 * has a copy of).  It returns once the guard has left the front-end's
 * session, so that from then on no kill of the front-end's process group
 * reaches it; what the front-end made before the call (a temporary file
 * it names in ctx) is unguarded for the time of a fork.  Without a guard
 * (no socket or process) the command goes on unguarded: g->fd is -1 and
 * the other calls do nothing. */
void guard_start(struct guard *g, guard_fn *fn, void *ctx);

/* Tell the guard the command passed STEP (any character but '\0'). */
void guard_step(struct guard *g, char step);

/* The command is over, one way or the other: the guard ends without
 * acting, and this waits for it. */
void guard_end(struct guard *g);

#endif
