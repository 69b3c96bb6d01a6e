/*
 * json.h - a small JSON reader and writer (RFC 8259 "The JavaScript Object
 * Notation (JSON) Data Interchange Format") for hvkit's control protocol
 * (include/hvkit/ctl.h, docs/control-protocol.md).
 *
 * Written once and compiled both ways: freestanding into hv, hosted into
 * the manager, the front-ends, the unit tests (tests/unit/test_json.c) and
 * a libFuzzer target (tests/fuzz/fuzz_json.c).  So it allocates nothing:
 *
 * - The reader checks a whole text at once and describes it in an array
 *   of tokens the caller provides, one per value, in document order (an
 *   object's token is followed by its keys and values in turn, an array's
 *   by its elements).  Strings and numbers stay in the text and are
 *   decoded only when asked for (json_str_copy, json_u64...), so a value
 *   nobody looks at costs nothing.
 * - The writer appends to a buffer the caller provides and puts the commas
 *   and separators in itself; when the buffer is too small it remembers
 *   that (json_out.overflow) instead of writing past it, and the caller
 *   answers with an error rather than with half a reply.
 *
 * Deliberate limits: numbers are read as integers only (64-bit, exact; a
 * fraction or exponent is valid JSON but json_u64/json_i64 refuse it),
 * and a "\u" escape above 0x7f is refused when a string is decoded (the
 * protocol's names and values are ASCII).
 */
#ifndef KLIB_JSON_H
#define KLIB_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Reading ------------------------------------------------------------ */

enum json_type {
    JSON_NULL,
    JSON_FALSE,
    JSON_TRUE,
    JSON_NUMBER,
    JSON_STRING,
    JSON_ARRAY,
    JSON_OBJECT,
};

/* One value of the text. */
struct json_tok {
    enum json_type type;
    /* Where it is in the text: a string's start and length exclude its
     * quotes; an object or array spans its brackets. */
    uint32_t start, len;
    /* An array: its elements; an object: its members (key-value pairs);
     * otherwise 0. */
    uint32_t count;
    /* The index of the first token after this value and everything in it:
     * the way from one member or element to the next. */
    uint32_t next;
};

/* A text that has been read: the tokens point into it. */
struct json_doc {
    const char *text;
    size_t text_len;
    struct json_tok *tok;
    uint32_t ntok;
};

/* Read `text` (`len` bytes: no terminating NUL needed) as exactly one JSON
 * value with nothing but white space around it, nested at most
 * `max_depth` deep, into `tok` (room for `max_tok` tokens).  Returns 0 and
 * fills `doc`; or -1 with the reason in `err` (e.g. "unexpected 'x' at
 * byte 12"), and `doc` says nothing then. */
int json_parse(struct json_doc *doc, const char *text, size_t len, struct json_tok *tok,
               uint32_t max_tok, unsigned max_depth, char *err, size_t err_len);

/* The token of object `obj`'s member `key`, or -1 if it has none (or obj
 * is not an object).  A key given twice: the last one counts, as in most
 * JSON readers. */
int json_get(const struct json_doc *doc, int obj, const char *key);

/* Iterate over an object's members or an array's elements:
 *   for (int i = json_first(doc, obj); i >= 0; i = json_after(doc, obj, i))
 * For an object `i` is each key; its value is i + 1 and the next key is
 * json_after(doc, obj, i + 1)... json_member_next() does both steps. */
int json_first(const struct json_doc *doc, int parent);
int json_after(const struct json_doc *doc, int parent, int i);
/* An object's next key after key `k` (skipping k's value), or -1. */
int json_member_next(const struct json_doc *doc, int obj, int k);

/* Is token `i` the string `s` (after decoding escapes)? */
bool json_str_eq(const struct json_doc *doc, int i, const char *s);
/* Decode string token `i` into buf (NUL-terminated).  Returns its length,
 * or -1 when `i` is no string, does not fit, or has a \u escape above 0x7f
 * or a \u0000. */
int json_str_copy(const struct json_doc *doc, int i, char *buf, size_t size);
/* Number token `i` as an exact integer: -1 when it is not a number, has a
 * fraction or exponent, or does not fit (json_u64: negative numbers do not
 * fit). */
int json_u64(const struct json_doc *doc, int i, uint64_t *v);
int json_i64(const struct json_doc *doc, int i, int64_t *v);
/* Boolean token `i`: -1 when it is neither true nor false. */
int json_bool(const struct json_doc *doc, int i, bool *v);
/* "null", "boolean", "number", "string", "array", "object". */
const char *json_type_name(enum json_type t);

/* Salvage one member from a text json_parse refused (a line cut short, one
 * value malformed, more values than tokens): the value of member `key` of
 * the outermost object, when the text begins as an object, the key is
 * spelled plainly and its value is a plain unsigned integer (no sign,
 * fraction or exponent); whatever else the text holds is only stepped
 * over (strings and brackets, to know what is the outermost object's).
 * 0 with *v set (the last such member counts, as in json_get), or -1.
 * The control
 * protocol's use: the "id" of a request that cannot be read, so that its
 * error reply still reaches the one who asked. */
int json_scan_u64(const char *text, size_t len, const char *key, uint64_t *v);

/* ---- Writing ------------------------------------------------------------ */

#define JSON_OUT_DEPTH 16

struct json_out {
    char *buf;
    size_t size, len;
    /* Something did not fit: buf holds a cut text, not to be sent. */
    bool overflow;
    /* Nesting: whether the current object or array has a value yet (the
     * next one needs a comma), and whether a key was just written (its
     * value needs none). */
    unsigned depth;
    bool has_value[JSON_OUT_DEPTH];
    bool after_key;
    /* Too deep, or ends that do not match their beginnings. */
    bool misuse;
};

/* Start writing into buf (size bytes); the text stays NUL-terminated. */
void json_out_init(struct json_out *o, char *buf, size_t size);
/* True when the text is complete and fits: safe to send. */
bool json_out_ok(const struct json_out *o);

void json_obj_begin(struct json_out *o);
void json_obj_end(struct json_out *o);
void json_arr_begin(struct json_out *o);
void json_arr_end(struct json_out *o);
/* A member's key, inside an object; its value is written next. */
void json_key(struct json_out *o, const char *key);
void json_put_str(struct json_out *o, const char *s);
void json_put_strn(struct json_out *o, const char *s, size_t n);
void json_put_u64(struct json_out *o, uint64_t v);
void json_put_i64(struct json_out *o, int64_t v);
void json_put_bool(struct json_out *o, bool v);
void json_put_null(struct json_out *o);
/* `n` bytes as a string of two lowercase hex digits each. */
void json_put_hex(struct json_out *o, const void *bytes, size_t n);
/* Token `i` of `doc` exactly as it stands in its text (a request's "id"
 * goes back unchanged, whatever JSON it is). */
void json_put_tok(struct json_out *o, const struct json_doc *doc, int i);

#endif
