/*
 * A streaming JSON writer that produces byte for byte what QEMU's
 * JSONWriter (qobject/json-writer.c) prints in pretty mode: four spaces per
 * nesting level, "name": value pairs, a comma at the end of each line but
 * the last, and strings escaped to printable ASCII with \uXXXX.
 */
#ifndef IMGTOOL_JSON_H
#define IMGTOOL_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json {
    FILE *out;
    bool pretty;
    int depth;
    bool need_comma;
    bool started; /* anything written yet */
    bool is_array[JSON_MAX_DEPTH];
};

void json_init(struct json *j, FILE *out, bool pretty);
/* name is ignored inside arrays and at the top level; pass NULL there. */
void json_start_object(struct json *j, const char *name);
void json_end_object(struct json *j);
void json_start_list(struct json *j, const char *name);
void json_end_list(struct json *j);
void json_int(struct json *j, const char *name, int64_t v);
void json_uint(struct json *j, const char *name, uint64_t v);
void json_bool(struct json *j, const char *name, bool v);
void json_str(struct json *j, const char *name, const char *s);
/* Write a string with QEMU's escaping to any stream (also used by map). */
void json_quoted(FILE *out, const char *s);

#endif
