/*
 * jsonout: JSON written the way xl writes it (libxl's yajl generator with
 * yajl_gen_beautify and a four-space indent): one member a line,
 * "key": value with a space after the colon.  Used by `xl list -l`.
 */
#ifndef HVKIT_XL_JSONOUT_H
#define HVKIT_XL_JSONOUT_H

#include <stdbool.h>
#include <stdio.h>

struct jout {
    FILE *f;
    int depth;
    bool first[16]; /* no member written yet at this depth */
    bool after_key; /* a key was written: its value follows on the line */
};

void jout_init(struct jout *j, FILE *f);
/* Open an object ('{') or an array ('['), and close it. */
void jout_open(struct jout *j, char kind);
void jout_close(struct jout *j, char kind);
void jout_key(struct jout *j, const char *key);
void jout_str(struct jout *j, const char *s);
void jout_int(struct jout *j, long long v);
/* A string member, left out when `s` is empty (libxl leaves unset ones out). */
void jout_kstr(struct jout *j, const char *key, const char *s);
void jout_kint(struct jout *j, const char *key, long long v);

#endif
