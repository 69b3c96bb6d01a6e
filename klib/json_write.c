/*
 * json_write.c - the JSON writer of json.h: values appended to a caller's
 * buffer, with the commas and separators put in by the writer, so that a
 * reply handler says what it returns and never how JSON is punctuated.
 *
 * The layout is QMP's: ": " after a key and ", " between values, on one
 * line (docs/control-protocol.md "Framing": one object per line).
 */
#include <json.h>
#include <klib.h>

void json_out_init(struct json_out *o, char *buf, size_t size)
{
    memset(o, 0, sizeof(*o));
    o->buf = buf;
    o->size = size;
    if (size)
        buf[0] = 0;
    else
        o->overflow = true;
}

bool json_out_ok(const struct json_out *o)
{
    return !o->overflow && !o->misuse && o->depth == 0 && !o->after_key;
}

/* Append n bytes, or note that they do not fit (the text stays
 * NUL-terminated either way, and is never written past). */
static void put(struct json_out *o, const char *s, size_t n)
{
    if (o->overflow)
        return;
    if (o->len + n + 1 > o->size) {
        o->overflow = true;
        return;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = 0;
}

static void put_c(struct json_out *o, char c)
{
    put(o, &c, 1);
}

/* What goes before any value: a comma if the current object or array has
 * one already, nothing right after a key. */
static void before_value(struct json_out *o)
{
    if (o->after_key) {
        o->after_key = false;
        return;
    }
    if (o->depth > 0) {
        if (o->has_value[o->depth - 1])
            put(o, ", ", 2);
        o->has_value[o->depth - 1] = true;
    }
}

static void begin(struct json_out *o, char c)
{
    before_value(o);
    if (o->depth >= JSON_OUT_DEPTH) {
        o->misuse = true;
        return;
    }
    o->has_value[o->depth++] = false;
    put_c(o, c);
}

static void end(struct json_out *o, char c)
{
    if (o->depth == 0 || o->after_key) {
        o->misuse = true;
        return;
    }
    o->depth--;
    put_c(o, c);
}

void json_obj_begin(struct json_out *o)
{
    begin(o, '{');
}

void json_obj_end(struct json_out *o)
{
    end(o, '}');
}

void json_arr_begin(struct json_out *o)
{
    begin(o, '[');
}

void json_arr_end(struct json_out *o)
{
    end(o, ']');
}

/* The characters RFC 8259 section 7 "Strings" says must be escaped (the
 * quote, the backslash, control characters), with the short forms where
 * JSON has one; bytes from 0x80 up pass as they are (UTF-8). */
static void put_escaped(struct json_out *o, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    put_c(o, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[7] = {'\\', 0};
        if (c == '"' || c == '\\') {
            esc[1] = (char)c;
            put(o, esc, 2);
        } else if (c == '\n' || c == '\r' || c == '\t') {
            esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
            put(o, esc, 2);
        } else if (c < 0x20 || c == 0x7f) {
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            put(o, esc, 6);
        } else {
            put_c(o, (char)c);
        }
    }
    put_c(o, '"');
}

void json_key(struct json_out *o, const char *key)
{
    if (o->after_key) {
        o->misuse = true;
        return;
    }
    before_value(o);
    put_escaped(o, key, strlen(key));
    put(o, ": ", 2);
    o->after_key = true;
}

void json_put_strn(struct json_out *o, const char *s, size_t n)
{
    before_value(o);
    put_escaped(o, s, n);
}

void json_put_str(struct json_out *o, const char *s)
{
    json_put_strn(o, s, strlen(s));
}

void json_put_u64(struct json_out *o, uint64_t v)
{
    char digits[20];
    size_t n = 0;
    before_value(o);
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        put_c(o, digits[--n]);
}

void json_put_i64(struct json_out *o, int64_t v)
{
    if (v >= 0) {
        json_put_u64(o, (uint64_t)v);
        return;
    }
    before_value(o);
    put_c(o, '-');
    /* The magnitude of INT64_MIN does not fit an int64_t: negate unsigned.
     * The value is written below without a second comma. */
    uint64_t mag = 0 - (uint64_t)v;
    char digits[20];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + mag % 10);
        mag /= 10;
    } while (mag);
    while (n)
        put_c(o, digits[--n]);
}

void json_put_bool(struct json_out *o, bool v)
{
    before_value(o);
    if (v)
        put(o, "true", 4);
    else
        put(o, "false", 5);
}

void json_put_null(struct json_out *o)
{
    before_value(o);
    put(o, "null", 4);
}

void json_put_hex(struct json_out *o, const void *bytes, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *b = bytes;
    before_value(o);
    put_c(o, '"');
    for (size_t i = 0; i < n; i++) {
        char pair[2] = {hex[b[i] >> 4], hex[b[i] & 15]};
        put(o, pair, 2);
    }
    put_c(o, '"');
}

void json_put_tok(struct json_out *o, const struct json_doc *doc, int i)
{
    if (i < 0 || (uint32_t)i >= doc->ntok) {
        o->misuse = true;
        return;
    }
    const struct json_tok *t = &doc->tok[i];
    before_value(o);
    /* A string token covers only its inside: put the quotes back. */
    if (t->type == JSON_STRING) {
        put_c(o, '"');
        put(o, doc->text + t->start, t->len);
        put_c(o, '"');
    } else {
        put(o, doc->text + t->start, t->len);
    }
}
