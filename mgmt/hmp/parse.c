/*
 * The monitor's command-line parser (parse.h).  It follows QEMU 7.2's
 * monitor/hmp.c step by step, because students meet its messages and its
 * quirks on a real QEMU: a /fmt remembered from one command to the next,
 * flags glued to their command ("x/4x"), and so on.
 */
#include "parse.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* The longest word or quoted string an argument may be, as QEMU's buffer. */
#define WORD_MAX 1024

static const char *skip_spaces(const char *p)
{
    while (isspace((unsigned char)*p))
        p++;
    return p;
}

/*
 * One word, or a "quoted string" with the escapes \n \r \\ \' \" (QEMU's
 * get_str).  Returns 0 and moves *pp past it, or -1 at the end of the line
 * or on a bad quoted string (with QEMU's message for the latter).
 */
static int get_word(FILE *out, char *buf, size_t size, const char **pp)
{
    const char *p = skip_spaces(*pp);
    size_t n = 0;
    int rc = 0;
    if (*p == '\0') {
        rc = -1;
    } else if (*p == '"') {
        for (p++; *p != '\0' && *p != '"'; p++) {
            char c = *p;
            if (c == '\\') {
                c = *++p;
                if (c == 'n')
                    c = '\n';
                else if (c == 'r')
                    c = '\r';
                else if (c != '\\' && c != '\'' && c != '"') {
                    fprintf(out, "unsupported escape code: '\\%c'\n", c);
                    rc = -1;
                    break;
                }
            }
            if (n < size - 1)
                buf[n++] = c;
        }
        if (rc == 0 && *p != '"') {
            fprintf(out, "unterminated string\n");
            rc = -1;
        } else if (rc == 0) {
            p++;
        }
    } else {
        for (; *p != '\0' && !isspace((unsigned char)*p); p++)
            if (n < size - 1)
                buf[n++] = *p;
    }
    buf[n] = '\0';
    *pp = p;
    return rc;
}

bool hmp_cmd_matches(const char *word, const char *cmd_name)
{
    size_t len = strlen(word);
    for (const char *p = cmd_name;;) {
        const char *bar = strchr(p, '|');
        size_t alt = bar ? (size_t)(bar - p) : strlen(p);
        if (alt == len && !strncmp(p, word, len))
            return true;
        if (!bar)
            return false;
        p = bar + 1;
    }
}

const struct hmp_cmd *hmp_cmd_find(const struct hmp_cmd *table, const char *word)
{
    for (const struct hmp_cmd *c = table; c->name; c++)
        if (hmp_cmd_matches(word, c->name))
            return c;
    return NULL;
}

/* The command name at `p`: up to a space or a '/' (so that "x/4x 0" names
 * x).  Returns the end of the name, or NULL on an empty line. */
static const char *command_name(const char *p, char *name, size_t size)
{
    p = skip_spaces(p);
    if (*p == '\0')
        return NULL;
    const char *start = p;
    while (*p != '\0' && *p != '/' && !isspace((unsigned char)*p))
        p++;
    size_t len = (size_t)(p - start);
    if (len > size - 1)
        len = size - 1;
    memcpy(name, start, len);
    name[len] = '\0';
    return p;
}

/* Find the command from `at` on; `start` is the whole line, which the
 * message about an unknown command quotes up to the unknown word. */
static const struct hmp_cmd *find_command(FILE *out, const char *start, const char *at,
                                          const char **rest, const struct hmp_cmd *table)
{
    char name[256];
    const char *p = command_name(at, name, sizeof(name));
    if (!p)
        return NULL;
    const struct hmp_cmd *cmd = hmp_cmd_find(table, name);
    if (!cmd) {
        fprintf(out, "unknown command: '%.*s'\n", (int)(p - start), start);
        return NULL;
    }
    p = skip_spaces(p);
    *rest = p;
    if (cmd->sub && *p != '\0')
        return find_command(out, start, p, rest, cmd->sub);
    return cmd;
}

const struct hmp_cmd *hmp_parse_command(FILE *out, const char *line, const char **rest,
                                        const struct hmp_cmd *table)
{
    return find_command(out, line, line, rest, table);
}

void hmp_try_help(FILE *out, const char *line, const char *rest)
{
    while (rest > line && isspace((unsigned char)rest[-1]))
        rest--;
    fprintf(out, "Try \"help %.*s\" for more information\n", (int)(rest - line), line);
}

/* One item of an args_type: "key:T" plus modifiers, split at its ':'. */
struct argspec {
    char key[32];
    char type; /* s S F B l i M / - */
    char flag; /* for '-': the flag's letter */
    bool optional;
};

/* Read the item at *tp (comma-separated) into `spec`; false at the end. */
static bool next_spec(const char **tp, struct argspec *spec)
{
    const char *t = *tp;
    if (*t == ',')
        t++;
    const char *colon = strchr(t, ':');
    if (!colon)
        return false;
    size_t klen = (size_t)(colon - t);
    if (klen >= sizeof(spec->key))
        klen = sizeof(spec->key) - 1;
    memcpy(spec->key, t, klen);
    spec->key[klen] = '\0';
    t = colon + 1;
    spec->type = *t++;
    spec->flag = spec->type == '-' ? *t++ : '\0';
    spec->optional = *t == '?';
    if (spec->optional)
        t++;
    *tp = t;
    return true;
}

/* A /fmt: /[count][format][size], each part optional; what is left out
 * comes from the last /fmt (QEMU's default_fmt_format and _size), and a
 * format 'i' without a size gives size -1 and leaves the size alone. */
static int parse_fmt(FILE *out, const char **pp, const struct hmp_parse_ctx *pc,
                     struct hmp_args *args)
{
    const char *p = skip_spaces(*pp);
    long count = 1;
    int format = *pc->fmt_format, size = -1;
    if (*p == '/') {
        p++;
        if (isdigit((unsigned char)*p))
            for (count = 0; isdigit((unsigned char)*p); p++)
                count = count * 10 + (*p - '0');
        int f = -1;
        for (;; p++) {
            if (strchr("oduxic", *p) && *p)
                f = *p;
            else if (*p == 'b')
                size = 1;
            else if (*p == 'h')
                size = 2;
            else if (*p == 'w')
                size = 4;
            else if (*p == 'g' || *p == 'L')
                size = 8;
            else
                break;
        }
        if (*p != '\0' && !isspace((unsigned char)*p)) {
            fprintf(out, "invalid char in format: '%c'\n", *p);
            return -1;
        }
        format = f < 0 ? *pc->fmt_format : f;
        if (format != 'i') {
            if (size < 0)
                size = *pc->fmt_size;
            *pc->fmt_size = size;
        }
        *pc->fmt_format = format;
    } else if (format != 'i') {
        size = *pc->fmt_size;
    }
    hmp_args_put_num(args, "count", count);
    hmp_args_put_num(args, "format", format);
    hmp_args_put_num(args, "size", size);
    *pp = p;
    return 0;
}

/* An expression argument: 'l' (64 bits), 'i' (must fit 32 bits) or 'M'
 * (MiB, not negative, stored in bytes). */
static int parse_number(FILE *out, const struct hmp_cmd *cmd, const struct argspec *s,
                        const char **pp, const struct hmp_parse_ctx *pc, struct hmp_args *args)
{
    *pp = skip_spaces(*pp);
    if (s->optional && **pp == '\0')
        return 0;
    int64_t val;
    if (hmp_expr(out, pp, pc->reg, pc->reg_ctx, &val) < 0)
        return -1;
    if (s->type == 'i' && ((uint64_t)val >> 32) != 0) {
        fprintf(out, "'%s' has failed: integer is for 32-bit values\n", cmd->name);
        return -1;
    }
    if (s->type == 'M') {
        if (val < 0) {
            fprintf(out, "enter a positive value\n");
            return -1;
        }
        val = (int64_t)((uint64_t)val << 20);
    }
    hmp_args_put_num(args, s->key, val);
    return 0;
}

/* A string argument: 's' a word, 'F' a file name, 'B' a block device, 'S'
 * the rest of the line. */
static int parse_string(FILE *out, const struct hmp_cmd *cmd, const struct argspec *s,
                        const char **pp, struct hmp_args *args)
{
    const char *p = skip_spaces(*pp);
    if (s->optional && *p == '\0')
        return 0;
    if (s->type == 'S') {
        if (*p == '\0') {
            fprintf(out, "%s: string expected\n", cmd->name);
            return -1;
        }
        hmp_args_put_str(args, s->key, p);
        *pp = p + strlen(p);
        return 0;
    }
    char *buf = malloc(WORD_MAX);
    int rc = buf ? get_word(out, buf, WORD_MAX, &p) : -1;
    if (rc < 0) {
        const char *what = s->type == 'F'   ? "filename expected"
                           : s->type == 'B' ? "block device name expected"
                                            : "string expected";
        fprintf(out, "%s: %s\n", cmd->name, what);
    } else {
        hmp_args_put_str(args, s->key, buf);
    }
    free(buf);
    *pp = p;
    return rc;
}

/* A flag "-X".  A different flag typed here is fine if a later item of the
 * args_type (`later`) declares it: this item is then skipped, as QEMU does,
 * and the flag is taken by its own item. */
static int parse_flag(FILE *out, const struct hmp_cmd *cmd, const struct argspec *s,
                      const char **pp, const char *later, struct hmp_args *args)
{
    const char *p = skip_spaces(*pp);
    if (*p != '-')
        return 0;
    if (p[1] != s->flag) {
        char opt[3] = {'-', p[1], '\0'};
        if (!strstr(later, opt)) {
            fprintf(out, "%s: unsupported option -%c\n", cmd->name, p[1]);
            return -1;
        }
        return 0;
    }
    hmp_args_put_num(args, s->key, 1);
    *pp = p + 2;
    return 0;
}

int hmp_parse_args(FILE *out, const struct hmp_cmd *cmd, const char *text,
                   const struct hmp_parse_ctx *pc, struct hmp_args *args)
{
    const char *t = cmd->args_type, *p = text;
    struct argspec s;
    int rc = 0;
    while (rc == 0 && next_spec(&t, &s)) {
        switch (s.type) {
        case '/':
            rc = parse_fmt(out, &p, pc, args);
            break;
        case 'l':
        case 'i':
        case 'M':
            rc = parse_number(out, cmd, &s, &p, pc, args);
            break;
        case 's':
        case 'S':
        case 'F':
        case 'B':
            rc = parse_string(out, cmd, &s, &p, args);
            break;
        case '-':
            rc = parse_flag(out, cmd, &s, &p, t, args);
            break;
        default:
            fprintf(out, "%s: unknown type '%c'\n", cmd->name, s.type);
            rc = -1;
        }
    }
    if (rc == 0 && *skip_spaces(p) != '\0') {
        fprintf(out, "%s: extraneous characters at the end of line\n", cmd->name);
        rc = -1;
    }
    if (rc < 0)
        hmp_args_clear(args);
    return rc;
}

/* One help line, after the words that led to its table ("info "). */
static void help_line(FILE *out, char **prefix, int nprefix, const struct hmp_cmd *c)
{
    for (int i = 0; i < nprefix; i++)
        fprintf(out, "%s ", prefix[i]);
    fprintf(out, "%s %s -- %s\n", c->name, c->params, c->help);
}

/* QEMU's help_cmd_dump: the table in full when the words are used up,
 * else the entry the next word names (into its sub-table if it has one),
 * else "unknown command" with the words so far. */
static void help_dump(FILE *out, const struct hmp_cmd *table, char **words, int n, int at)
{
    if (at >= n) {
        for (const struct hmp_cmd *c = table; c->name; c++)
            help_line(out, words, at, c);
        return;
    }
    const struct hmp_cmd *c = hmp_cmd_find(table, words[at]);
    if (c && c->sub) {
        help_dump(out, c->sub, words, n, at + 1);
    } else if (c) {
        help_line(out, words, at, c);
    } else {
        fprintf(out, "unknown command: '");
        for (int i = 0; i <= at; i++)
            fprintf(out, "%s%s", words[i], i == at ? "'\n" : " ");
    }
}

/* The most words `help` looks at, as QEMU's MAX_ARGS. */
#define HELP_WORDS 16

void hmp_help(FILE *out, const struct hmp_cmd *table, const char *name)
{
    char *words[HELP_WORDS];
    int n = 0;
    const char *p = name ? name : "";
    char buf[WORD_MAX];
    /* QEMU splits the words as it splits arguments; more than 16 words or a
     * bad quoted string make it print nothing more. */
    while (*(p = skip_spaces(p)) != '\0') {
        if (n == HELP_WORDS || get_word(out, buf, sizeof(buf), &p) < 0) {
            while (n > 0)
                free(words[--n]);
            return;
        }
        words[n++] = strdup(buf);
    }
    help_dump(out, table, words, n, 0);
    while (n > 0)
        free(words[--n]);
}
