/*
 * cfg: the xl.cfg(5) file syntax, as Xen 4.17's libxlu reads it.
 *
 * A file is a sequence of settings, each ended by a newline or a ';':
 *
 *     KEY = VALUE          KEY += VALUE          # a comment to the end of the line
 *
 * KEY is a letter or '_' followed by letters, digits, '_' and '.'.  VALUE is
 * a string ("..." or '...', with C's backslash escapes), a number (written
 * as it is: digits first, then letters, digits, '_' or '.', e.g. 512, 0x10)
 * or a list "[ V1, V2, ... ]" of strings and numbers, which may span lines
 * and end in a comma.  `+=` appends: to a list, the new list's items; to a
 * string, the new string.  A key set twice keeps its last value, as in
 * libxlu.  This reader only knows the syntax; what a key means is
 * domcfg.c's business.
 *
 * Errors are printed to `report` in libxlu's words, naming the file and the
 * line, e.g.
 *     guest.cfg:3: config parsing error near `]': syntax error, unexpected ']', expecting STRING or
 * NUMBER or '[' and xl then says "Failed to parse config: Invalid argument" (xl.c).
 */
#ifndef HVKIT_XL_CFG_H
#define HVKIT_XL_CFG_H

#include <stdbool.h>
#include <stdio.h>

/* One value: a string or a number, kept as the text the file gave. */
struct xlcfg_atom {
    char *text;
    bool is_number;
};

/* One setting: KEY = atom, or KEY = [ list ]. */
struct xlcfg_setting {
    char *name;
    int lineno;
    bool is_list;
    int n;                   /* atoms (1 when !is_list) */
    struct xlcfg_atom *atom; /* n of them */
};

struct xlcfg {
    const char *source; /* the file name messages carry */
    FILE *report;
    int n;
    struct xlcfg_setting *set;
};

/* Parse `len` bytes of `text`; messages go to `report` and name `source`.
 * Returns 0, or -1 after printing why (nothing is kept then). */
int xlcfg_parse(struct xlcfg *cfg, const char *source, FILE *report, const char *text, size_t len);

/* The text of the file `path`, NUL-terminated, its length in *len
 * (malloc'd); NULL after libxlu's message when it cannot be read. */
char *xlcfg_slurp(const char *path, size_t *len, FILE *report);

/* Read and parse the file `path` (messages name it as `path`). */
int xlcfg_read_file(struct xlcfg *cfg, const char *path, FILE *report);

/* Apply one xl(1) command-line override "KEY=VALUE" (xl create's extra
 * arguments): parsed with the file's own syntax, as if it were one more
 * line of the file (libxlu's xlu_cfg_readdata on the text). */
int xlcfg_override(struct xlcfg *cfg, const char *line);

/* Write `s` as a string of the file's syntax: in single quotes, with C's
 * backslash escapes for a quote, a backslash and the control characters,
 * so that xlcfg_parse() reads back exactly `s`. */
void xlcfg_put_string(FILE *out, const char *s);

/* How much of `text` (len bytes) comes before its last line when that
 * line is a setting of `name` alone, without the newlines that end it
 * (all of it when the last line is anything else).  A setting a front-end
 * added after the file's own lines, such as cd-insert's disk list, goes
 * then when the next one comes, rather than piling up. */
size_t xlcfg_before_last(const char *text, size_t len, const char *name);

/* The same for the last n lines: how much of `text` comes before them when
 * they set names[0], ..., names[n - 1] alone, in that order (all of it,
 * without the newlines that end it, otherwise). */
size_t xlcfg_before_lines(const char *text, size_t len, const char *const *names, int n);

/* The setting named `name`, or NULL. */
const struct xlcfg_setting *xlcfg_find(const struct xlcfg *cfg, const char *name);

void xlcfg_free(struct xlcfg *cfg);

#endif
