/*
 * Image names as qemu-img reads them (imgspec.c): plain file names, the
 * "file:" protocol prefix, "json:{...}" and --image-opts option strings;
 * and --object definitions (object.c).
 */
#ifndef IMGTOOL_IMGSPEC_H
#define IMGTOOL_IMGSPEC_H

#include "cli.h"

struct imgspec {
    char path[4096]; /* the file to open */
    char fmt[16];    /* the format the name fixes ("" to probe or use -f) */
    char msg[640];   /* why the name was refused (QEMU's words) */
    /* The qcow2 driver's "data-file" option (data-file.filename=F): the
     * first data-file key written ("" if none), the file it names, and why
     * it cannot be used.  The library looks at them only when it opens the
     * data file (struct img_open_opts). */
    char data_key[64];
    char data_file[4096];
    char data_msg[640];
};

/*
 * Resolve an image argument (as an --image-opts string if image_opts).
 * Returns false with s->msg set, to be printed as "Could not open 'ARG':
 * MSG".
 */
bool imgspec_parse(const char *arg, bool image_opts, struct imgspec *s);
/* The file a new image named ARG is created as ("file:" stripped); false
 * with QEMU's message (an unknown protocol) in msg. */
bool imgspec_target(const char *arg, char *path, size_t len, char *msg, size_t msglen);

/*
 * --object TYPE,id=ID,...: check the definition as qemu-img does
 * (user_creatable_process_cmdline()) and keep nothing: no object type
 * changes what imgtool does.  Returns 0 (accepted), 1 (refused, message
 * printed) or 2 ("help" was asked for and printed: exit with status 0).
 */
int object_add(const char *def);

#endif
