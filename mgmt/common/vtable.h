/*
 * vtable: the column tables virsh prints (`virsh list`, `pool-list`,
 * `vol-list --details`), laid out exactly as libvirt's vsh-table.c does, so a
 * student who learned the layout here recognises it on a real host.
 *
 * The layout, measured against Debian's virsh 9.0 on its test driver:
 *   - every line starts with one space, and columns are separated by three
 *     spaces; each column is as wide as its widest cell (header included);
 *   - the last column is not padded, so no line ends in spaces;
 *   - under the header comes a line of dashes, three longer per column than
 *     the column's width (it overhangs the header line by two);
 *   - the empty line after the table is virsh's, printed after every command.
 */
#ifndef HVKIT_MGMT_VTABLE_H
#define HVKIT_MGMT_VTABLE_H

#include <stdbool.h>
#include <stdio.h>

struct vtable;

/* The widest table virsh prints has 7 columns (pool-list --details). */
#define VTABLE_MAX_COLS 16

/* A table with the given column headers (ncols of them). */
struct vtable *vtable_new(int ncols, const char *const *headers);

/* Append a row of ncols cells; the strings are copied. */
void vtable_add(struct vtable *t, const char *const *cells);

/* Print the table to `out` in virsh's layout; without `header` (virsh -q)
 * the header and its dashes are left out. */
void vtable_print(const struct vtable *t, FILE *out, bool header);

void vtable_free(struct vtable *t);

#endif
