/*
 * jsonout.c: xl's pretty-printed JSON (jsonout.h).
 */
#include "jsonout.h"

void jout_init(struct jout *j, FILE *f)
{
    *j = (struct jout){.f = f};
    j->first[0] = true;
}

/* Before a value or a key: the comma after the previous member, the line
 * break and the indent -- unless a key just put us on its line. */
static void before(struct jout *j)
{
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (!j->first[j->depth])
        fputc(',', j->f);
    if (j->depth)
        fputc('\n', j->f);
    j->first[j->depth] = false;
    for (int i = 0; i < j->depth; i++)
        fputs("    ", j->f);
}

void jout_open(struct jout *j, char kind)
{
    before(j);
    fputc(kind, j->f);
    if (j->depth < 15)
        j->depth++;
    j->first[j->depth] = true;
}

void jout_close(struct jout *j, char kind)
{
    bool empty = j->first[j->depth];
    if (j->depth)
        j->depth--;
    /* yajl puts the closing bracket of a non-empty container on a line of
     * its own at the container's indent. */
    if (!empty) {
        fputc('\n', j->f);
        for (int i = 0; i < j->depth; i++)
            fputs("    ", j->f);
    }
    fputc(kind == '{' ? '}' : ']', j->f);
}

/* A JSON string, escaped. */
static void put_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

void jout_key(struct jout *j, const char *key)
{
    before(j);
    put_str(j->f, key);
    fputs(": ", j->f);
    j->after_key = true;
}

void jout_str(struct jout *j, const char *s)
{
    before(j);
    put_str(j->f, s);
}

void jout_int(struct jout *j, long long v)
{
    before(j);
    fprintf(j->f, "%lld", v);
}

void jout_kstr(struct jout *j, const char *key, const char *s)
{
    if (!s || !*s)
        return;
    jout_key(j, key);
    jout_str(j, s);
}

void jout_kint(struct jout *j, const char *key, long long v)
{
    jout_key(j, key);
    jout_int(j, v);
}
