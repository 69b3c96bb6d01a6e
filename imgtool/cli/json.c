/*
 * QEMU-identical JSON output (see json.h for the two rules that matter).
 */
#include "json.h"

#include <stdlib.h>
#include <string.h>

static struct jv *node(enum jv_type t)
{
    struct jv *v = calloc(1, sizeof(*v));
    if (!v) {
        abort(); /* a few hundred bytes: out of memory is not recoverable */
    }
    v->type = t;
    return v;
}

struct jv *jv_obj(void)
{
    return node(JV_OBJ);
}

struct jv *jv_list(void)
{
    return node(JV_LIST);
}

struct jv *jv_int(int64_t i)
{
    struct jv *v = node(JV_INT);
    v->i = i;
    return v;
}

struct jv *jv_uint(uint64_t u)
{
    struct jv *v = node(JV_UINT);
    v->u = u;
    return v;
}

struct jv *jv_bool(bool b)
{
    struct jv *v = node(JV_BOOL);
    v->b = b;
    return v;
}

struct jv *jv_str(const char *s)
{
    struct jv *v = node(JV_STR);
    v->s = strdup(s);
    return v;
}

struct jv *jv_append(struct jv *list, struct jv *val)
{
    if (list->last) {
        list->last->next = val;
    } else {
        list->first = val;
    }
    list->last = val;
    return val;
}

struct jv *jv_set(struct jv *obj, const char *key, struct jv *val)
{
    val->key = strdup(key);
    return jv_append(obj, val);
}

void jv_free(struct jv *v)
{
    while (v) {
        struct jv *next = v->next;
        jv_free(v->first);
        free(v->key);
        free(v->s);
        free(v);
        v = next;
    }
}

/* QEMU's tdb_hash() (qobject/qdict.c), reduced modulo QDICT_BUCKET_MAX. */
static unsigned bucket(const char *name)
{
    uint32_t value = 0x238F13AFu * (uint32_t)strlen(name);
    for (unsigned i = 0; name[i]; i++) {
        value = value + ((uint32_t)(unsigned char)name[i] << (i * 5 % 24));
    }
    return (1103515243u * value + 12345u) % 512;
}

/* Decode one UTF-8 sequence; returns the code point or -1 when invalid,
 * advancing *p past what was consumed (QEMU's mod_utf8_codepoint()). */
static long utf8_next(const unsigned char **p)
{
    const unsigned char *s = *p;
    long cp;
    int n;
    if (s[0] < 0x80) {
        *p = s + 1;
        return s[0];
    }
    if ((s[0] & 0xe0) == 0xc0) {
        cp = s[0] & 0x1f, n = 1;
    } else if ((s[0] & 0xf0) == 0xe0) {
        cp = s[0] & 0x0f, n = 2;
    } else if ((s[0] & 0xf8) == 0xf0) {
        cp = s[0] & 0x07, n = 3;
    } else {
        *p = s + 1;
        return -1;
    }
    for (int i = 1; i <= n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            *p = s + i;
            return -1;
        }
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    *p = s + n + 1;
    /* Overlong forms and surrogates are invalid too. */
    static const long min[] = {0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return -1;
    }
    return cp;
}

void json_quoted(FILE *out, const char *str)
{
    const unsigned char *p = (const unsigned char *)str;
    fputc('"', out);
    while (*p) {
        long cp = utf8_next(&p);
        switch (cp) {
        case '"':
            fputs("\\\"", out);
            break;
        case '\\':
            fputs("\\\\", out);
            break;
        case '\b':
            fputs("\\b", out);
            break;
        case '\f':
            fputs("\\f", out);
            break;
        case '\n':
            fputs("\\n", out);
            break;
        case '\r':
            fputs("\\r", out);
            break;
        case '\t':
            fputs("\\t", out);
            break;
        default:
            if (cp < 0) {
                cp = 0xfffd; /* invalid UTF-8 becomes U+FFFD */
            }
            if (cp > 0xffff) {
                /* Outside the BMP: a UTF-16 surrogate pair. */
                cp -= 0x10000;
                fprintf(out, "\\u%04lX\\u%04lX", 0xd800 | (cp >> 10), 0xdc00 | (cp & 0x3ff));
            } else if (cp < 0x20 || cp >= 0x7f) {
                fprintf(out, "\\u%04lX", cp);
            } else {
                fputc((int)cp, out);
            }
        }
    }
    fputc('"', out);
}

struct writer {
    FILE *out;
    bool pretty;
    int depth;
    bool need_comma;
    bool started;
};

static void newline(struct writer *w, bool or_space)
{
    if (w->pretty) {
        fprintf(w->out, "\n%*s", 4 * w->depth, "");
    } else if (or_space) {
        fputc(' ', w->out);
    }
}

static void emit(struct writer *w, const struct jv *v, bool in_object);

size_t jv_members_sorted(const struct jv *obj, const struct jv **m, size_t max)
{
    /* Members in QDict iteration order: by bucket, and within a bucket the
     * most recently inserted first (QLIST_INSERT_HEAD in qdict_put_obj). */
    size_t n = 0;
    for (const struct jv *c = obj->first; c && n < max; c = c->next) {
        const struct jv *mv = c;
        unsigned bv = bucket(c->key);
        size_t j = n++;
        while (j > 0 && bucket(m[j - 1]->key) >= bv) {
            m[j] = m[j - 1];
            j--;
        }
        m[j] = mv;
    }
    return n;
}

static void emit_members(struct writer *w, const struct jv *obj)
{
    const struct jv *m[JV_MAX_MEMBERS];
    size_t n = jv_members_sorted(obj, m, JV_MAX_MEMBERS);
    for (size_t i = 0; i < n; i++) {
        emit(w, m[i], true);
    }
}

/* One value, preceded by its separator and name (maybe_comma_name()). */
static void emit(struct writer *w, const struct jv *v, bool in_object)
{
    if (w->need_comma) {
        fputc(',', w->out);
        newline(w, true);
    } else {
        if (w->started) {
            newline(w, false);
        }
        w->need_comma = true;
    }
    w->started = true;
    if (in_object) {
        json_quoted(w->out, v->key);
        fputs(": ", w->out);
    }
    switch (v->type) {
    case JV_OBJ:
    case JV_LIST:
        fputc(v->type == JV_OBJ ? '{' : '[', w->out);
        w->depth++;
        w->need_comma = false;
        if (v->type == JV_OBJ) {
            emit_members(w, v);
        } else {
            for (const struct jv *c = v->first; c; c = c->next) {
                emit(w, c, false);
            }
        }
        /* json_writer_end_object/list(): the closer on its own line. */
        w->need_comma = true;
        w->depth--;
        newline(w, true);
        fputc(v->type == JV_OBJ ? '}' : ']', w->out);
        break;
    case JV_INT:
        fprintf(w->out, "%lld", (long long)v->i);
        break;
    case JV_UINT:
        fprintf(w->out, "%llu", (unsigned long long)v->u);
        break;
    case JV_BOOL:
        fputs(v->b ? "true" : "false", w->out);
        break;
    case JV_STR:
        json_quoted(w->out, v->s);
        break;
    }
}

void jv_print(FILE *out, const struct jv *v, bool pretty)
{
    struct writer w = {out, pretty, 0, false, false};
    emit(&w, v, false);
}
