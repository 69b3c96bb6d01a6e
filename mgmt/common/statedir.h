/*
 * The state directory the management front-ends keep their records in:
 * $HVKIT_STATE_DIR, else $XDG_STATE_HOME/hvkit, else
 * $HOME/.local/state/hvkit.
 */
#ifndef HVKIT_MGMT_STATEDIR_H
#define HVKIT_MGMT_STATEDIR_H

#include <stdbool.h>
#include <stddef.h>

/* The state directory's path into `out`; false when it does not fit. */
bool statedir_find(char *out, size_t len);

/* mkdir -p `path` (mode 0755); false with errno set on failure. */
bool make_dirs(const char *path);

#endif
