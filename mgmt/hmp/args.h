/*
 * A parsed command's arguments: a small dictionary from the keys of the
 * command's args_type to strings, numbers or flags, as QEMU's QDict of a
 * monitor command.
 */
#ifndef HVKIT_MGMT_HMP_ARGS_H
#define HVKIT_MGMT_HMP_ARGS_H

#include <stdbool.h>
#include <stdint.h>

/* The most arguments a command has (dump-guest-memory: 9 keys). */
#define HMP_ARGS_MAX 16

struct hmp_arg {
    char key[32];
    bool is_str;
    char *str;   /* malloc'd, for strings */
    int64_t num; /* numbers, and flags as 1 */
};

struct hmp_args {
    int n;
    struct hmp_arg v[HMP_ARGS_MAX];
};

/* Add a string or a number under `key` (the string is copied). */
void hmp_args_put_str(struct hmp_args *a, const char *key, const char *s);
void hmp_args_put_num(struct hmp_args *a, const char *key, int64_t n);

/* The argument `key`: its string (NULL when absent), whether it is there,
 * and its number (`dflt` when absent). */
const char *hmp_args_str(const struct hmp_args *a, const char *key);
bool hmp_args_has(const struct hmp_args *a, const char *key);
int64_t hmp_args_num(const struct hmp_args *a, const char *key, int64_t dflt);

/* Free the strings; the dictionary is empty again. */
void hmp_args_clear(struct hmp_args *a);

#endif
