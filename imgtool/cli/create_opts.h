/*
 * The image creation options of qemu-img create/convert/amend/measure (-o).
 *
 * Values are checked for their type (size, number, bool, string) as
 * QemuOpts does when the list is parsed, before anything is printed;
 * semantic checks (cluster size range, compat rules, ...) are the library's
 * job in img_create() and come after the "Formatting ..." line, as in QEMU.
 */
#ifndef IMGTOOL_CREATE_OPTS_H
#define IMGTOOL_CREATE_OPTS_H

#include "cli.h"
#include "img.h"

/* The parsed and typed option values. */
struct create_args {
    int format; /* IMG_FMT_* */
    struct opts o;
    bool have_size;
    uint64_t size;
};

/*
 * Check every -o entry against the options of `format` ("raw"/"qcow2"):
 * unknown names, type errors.  `prefix` (the file name) starts each
 * message.  Returns false after printing the error.
 */
bool create_opts_check(struct opts *o, int format, const char *prefix);
/* Print the creation options of `format` for -o help, as qemu-img does:
 * "Supported options:" with the file protocol's options when the target
 * file name is known, else "Supported qcow2 options:" and a note. */
void create_opts_help(int format, const char *filename);
/* The amend options (qemu-img amend -o help): "Amend options for 'qcow2':". */
void create_opts_amend_help(void);
/*
 * Fill img_create_opts from the checked list (string values become enum
 * values); returns false with a message on a bad string value.  Called
 * after the "Formatting" line has been printed, like QEMU's driver checks.
 */
bool create_opts_to_img(struct opts *o, int format, struct img_create_opts *c, const char *prefix);
/* "Formatting 'F', fmt=qcow2 cluster_size=65536 ..." in QEMU's order. */
void create_opts_print_formatting(struct opts *o, int format, const char *filename);
/* A bool value as QEMU accepts it (on/off/yes/no/true/false). */
int parse_bool(const char *s);

#endif
