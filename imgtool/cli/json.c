/*
 * JSON output in QEMU's exact pretty-printed layout (see json.h).
 *
 * The rules are those of qobject/json-writer.c in QEMU 7.2: before a value
 * comes a comma if a sibling precedes it, then (pretty) a newline and the
 * indentation of the current depth; a container closes on its own line at
 * the parent's indentation, so an empty object prints as "{" newline "}".
 */
#include "json.h"

#include <string.h>

void json_init(struct json *j, FILE *out, bool pretty)
{
    memset(j, 0, sizeof(*j));
    j->out = out;
    j->pretty = pretty;
}

static void newline(struct json *j)
{
    if (j->pretty) {
        fprintf(j->out, "\n%*s", 4 * j->depth, "");
    }
}

static void newline_or_space(struct json *j)
{
    if (j->pretty) {
        fprintf(j->out, "\n%*s", 4 * j->depth, "");
    } else {
        fputc(' ', j->out);
    }
}

/* Decode one UTF-8 sequence; returns its code point or -1 if invalid, and
 * advances *p past what it consumed (one byte on error, as QEMU's
 * mod_utf8_codepoint() does for the replacement character). */
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
    /* Reject overlong forms and surrogates like QEMU does. */
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

/* Separator and name before a value, as maybe_comma_name(). */
static void prefix(struct json *j, const char *name)
{
    if (j->need_comma) {
        fputc(',', j->out);
        newline_or_space(j);
    } else {
        if (j->started) {
            newline(j);
        }
        j->need_comma = true;
    }
    j->started = true;
    if (j->depth > 0 && !j->is_array[j->depth - 1]) {
        json_quoted(j->out, name ? name : "");
        fputs(": ", j->out);
    }
}

static void start(struct json *j, const char *name, bool array)
{
    prefix(j, name);
    fputc(array ? '[' : '{', j->out);
    if (j->depth < JSON_MAX_DEPTH) {
        j->is_array[j->depth] = array;
    }
    j->depth++;
    j->need_comma = false;
}

static void end(struct json *j, char c)
{
    j->need_comma = true;
    j->depth--;
    newline_or_space(j);
    fputc(c, j->out);
}

void json_start_object(struct json *j, const char *name)
{
    start(j, name, false);
}

void json_end_object(struct json *j)
{
    end(j, '}');
}

void json_start_list(struct json *j, const char *name)
{
    start(j, name, true);
}

void json_end_list(struct json *j)
{
    end(j, ']');
}

void json_int(struct json *j, const char *name, int64_t v)
{
    prefix(j, name);
    fprintf(j->out, "%lld", (long long)v);
}

void json_uint(struct json *j, const char *name, uint64_t v)
{
    prefix(j, name);
    fprintf(j->out, "%llu", (unsigned long long)v);
}

void json_bool(struct json *j, const char *name, bool v)
{
    prefix(j, name);
    fputs(v ? "true" : "false", j->out);
}

void json_str(struct json *j, const char *name, const char *s)
{
    prefix(j, name);
    json_quoted(j->out, s);
}
