/*
 * cfg.c: the xl.cfg(5) syntax (cfg.h): a small lexer and a recursive
 * descent over libxlu's grammar, with libxlu's messages.
 *
 * libxlu builds its reader with flex and bison; the messages below are the
 * ones those generated programs print for the same mistakes ("lexical
 * error", "syntax error, unexpected X, expecting Y"), with bison's names
 * for the tokens (IDENT, STRING, NUMBER, NEWLINE, OP_ADD for "+="), so a
 * student who meets them here recognises them on a Xen host.
 */
#include "cfg.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum tok {
    T_EOF,
    T_IDENT,
    T_STRING,
    T_NUMBER,
    T_NEWLINE,
    T_ADD, /* += */
    T_EQ,
    T_SEMI,
    T_OPEN,
    T_CLOSE,
    T_COMMA,
    T_BAD, /* a character no token starts with */
};

/* Bison's names for the tokens, as its messages print them. */
static const char *const tok_name[] = {
    [T_EOF] = "end of file", [T_IDENT] = "IDENT", [T_STRING] = "STRING", [T_NUMBER] = "NUMBER",
    [T_NEWLINE] = "NEWLINE", [T_ADD] = "OP_ADD",  [T_EQ] = "'='",        [T_SEMI] = "';'",
    [T_OPEN] = "'['",        [T_CLOSE] = "']'",   [T_COMMA] = "','",     [T_BAD] = "?",
};

struct lexer {
    struct xlcfg *cfg;
    const char *p, *end;
    int line;
    /* The current token: its kind, its text in the file, its line, and for
     * a string its value with the escapes done (malloc'd). */
    enum tok t;
    const char *start;
    size_t len;
    int tline;
    char *value;
};

/* "FILE:LINE: config parsing error near `TEXT': MSG", as libxlu's
 * xlu__cfg_yyerror prints it; a newline token is shown as <newline>. */
static void report(struct lexer *lx, const char *msg)
{
    size_t len = lx->len;
    const char *nl = "";
    if (lx->t == T_NEWLINE) {
        len = 0;
        nl = "<newline>";
    }
    while (len > 0 && (lx->start[len - 1] == ' ' || lx->start[len - 1] == '\t'))
        len--;
    fprintf(lx->cfg->report, "%s:%d: config parsing error near %s%.*s%s%s: %s\n", lx->cfg->source,
            lx->tline, len ? "`" : "", (int)len, lx->start, len ? "'" : "", nl, msg);
}

/* Bison's message for token `t` where only the `n` tokens of `want` fit. */
static int syntax_error(struct lexer *lx, const enum tok *want, int n)
{
    char msg[256];
    int k = snprintf(msg, sizeof(msg), "syntax error, unexpected %s", tok_name[lx->t]);
    for (int i = 0; i < n && k < (int)sizeof(msg); i++)
        k += snprintf(msg + k, sizeof(msg) - (size_t)k, "%s%s", i ? " or " : ", expecting ",
                      tok_name[want[i]]);
    report(lx, msg);
    return -1;
}

static bool ident_char(int c)
{
    return isalnum(c) || c == '_' || c == '.';
}

/* One backslash escape of a quoted string (`p` after the backslash):
 * C's \n \r \t \\ \" \' \xHH and octal \OOO.  Returns the byte, or -1. */
static int unescape(const char **pp, const char *end)
{
    const char *p = *pp;
    int c = *p++, v = 0, n = 0;
    switch (c) {
    case 'n':
        c = '\n';
        break;
    case 'r':
        c = '\r';
        break;
    case 't':
        c = '\t';
        break;
    case '\\':
    case '"':
    case '\'':
        break;
    case 'x':
        while (n < 2 && p < end && isxdigit((unsigned char)*p)) {
            v = v * 16 + (isdigit((unsigned char)*p) ? *p - '0' : tolower(*p) - 'a' + 10);
            p++, n++;
        }
        if (n == 0)
            return -1;
        c = v;
        break;
    default:
        if (c < '0' || c > '7')
            return -1;
        v = c - '0';
        while (++n < 3 && p < end && *p >= '0' && *p <= '7')
            v = v * 8 + (*p++ - '0');
        c = v;
    }
    *pp = p;
    return c;
}

/* A quoted string from `lx->p` (at its opening quote) to its closing one,
 * which must be on the same line.  Its value goes to lx->value. */
static int lex_string(struct lexer *lx)
{
    char q = *lx->p++;
    char *out = malloc((size_t)(lx->end - lx->p) + 1);
    size_t n = 0;
    while (lx->p < lx->end && *lx->p != q && *lx->p != '\n') {
        int c = (unsigned char)*lx->p++;
        if (c == '\\' && lx->p < lx->end && (c = unescape(&lx->p, lx->end)) < 0)
            break;
        out[n++] = (char)c;
    }
    if (lx->p >= lx->end || *lx->p != q) {
        /* An unterminated string or a bad escape: flex found no rule for it. */
        free(out);
        lx->t = T_BAD;
        lx->len = (size_t)(lx->p - lx->start);
        return -1;
    }
    lx->p++;
    out[n] = 0;
    lx->value = out;
    lx->t = T_STRING;
    return 0;
}

/* The next token into lx; -1 (and the message) at a lexical error. */
static int next(struct lexer *lx)
{
    free(lx->value);
    lx->value = NULL;
    for (;;) {
        while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\r'))
            lx->p++;
        if (lx->p < lx->end && *lx->p == '#') {
            while (lx->p < lx->end && *lx->p != '\n')
                lx->p++;
        }
        break;
    }
    lx->start = lx->p;
    lx->tline = lx->line;
    if (lx->p >= lx->end) {
        lx->t = T_EOF;
        lx->len = 0;
        return 0;
    }
    int c = (unsigned char)*lx->p;
    int rc = 0;
    if (isalpha(c) || c == '_') {
        while (lx->p < lx->end && ident_char((unsigned char)*lx->p))
            lx->p++;
        lx->t = T_IDENT;
    } else if (isdigit(c)) {
        while (lx->p < lx->end && (ident_char((unsigned char)*lx->p)))
            lx->p++;
        lx->t = T_NUMBER;
    } else if (c == '"' || c == '\'') {
        rc = lex_string(lx);
    } else if (c == '+' && lx->p + 1 < lx->end && lx->p[1] == '=') {
        lx->p += 2;
        lx->t = T_ADD;
    } else {
        static const char simple[] = "\n=;[],";
        static const enum tok kinds[] = {T_NEWLINE, T_EQ, T_SEMI, T_OPEN, T_CLOSE, T_COMMA};
        const char *s = strchr(simple, c);
        lx->p++;
        if (s && c) {
            lx->t = kinds[s - simple];
            if (c == '\n')
                lx->line++;
        } else {
            /* The bad character and the word glued to it, as flex's
             * catch-all rule leaves them in its text. */
            while (lx->p < lx->end && ident_char((unsigned char)*lx->p))
                lx->p++;
            lx->t = T_BAD;
            rc = -1;
        }
    }
    lx->len = (size_t)(lx->p - lx->start);
    if (rc < 0)
        report(lx, "lexical error");
    return rc;
}

/* Skip newlines where the grammar allows them (inside a list). */
static int skip_newlines(struct lexer *lx)
{
    while (lx->t == T_NEWLINE)
        if (next(lx) < 0)
            return -1;
    return 0;
}

static void add_atom(struct xlcfg_setting *s, struct lexer *lx)
{
    s->atom = realloc(s->atom, sizeof(*s->atom) * (size_t)(s->n + 1));
    struct xlcfg_atom *a = &s->atom[s->n++];
    a->is_number = lx->t == T_NUMBER;
    a->text = lx->t == T_STRING ? strdup(lx->value) : strndup(lx->start, lx->len);
}

static void free_setting(struct xlcfg_setting *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->atom[i].text);
    free(s->atom);
    free(s->name);
}

/* "[ atom, atom, ... ]", the current token being '['. */
static int parse_list(struct lexer *lx, struct xlcfg_setting *s)
{
    static const enum tok atom_or_close[] = {T_STRING, T_NUMBER, T_CLOSE};
    static const enum tok comma_or_close[] = {T_COMMA, T_CLOSE};
    s->is_list = true;
    if (next(lx) < 0 || skip_newlines(lx) < 0)
        return -1;
    while (lx->t != T_CLOSE) {
        if (lx->t != T_STRING && lx->t != T_NUMBER)
            return syntax_error(lx, atom_or_close, 3);
        add_atom(s, lx);
        if (next(lx) < 0 || skip_newlines(lx) < 0)
            return -1;
        if (lx->t == T_CLOSE)
            break;
        if (lx->t != T_COMMA)
            return syntax_error(lx, comma_or_close, 2);
        if (next(lx) < 0 || skip_newlines(lx) < 0)
            return -1;
    }
    return next(lx);
}

/* Store a parsed setting: a new key is appended, `=` replaces an old value
 * (the last one counts), `+=` extends it. */
static void store(struct xlcfg *cfg, struct xlcfg_setting *s, bool add)
{
    for (int i = 0; i < cfg->n; i++) {
        struct xlcfg_setting *old = &cfg->set[i];
        if (strcmp(old->name, s->name) != 0)
            continue;
        if (add && old->is_list && s->is_list) {
            old->atom = realloc(old->atom, sizeof(*old->atom) * (size_t)(old->n + s->n));
            memcpy(old->atom + old->n, s->atom, sizeof(*s->atom) * (size_t)s->n);
            old->n += s->n;
            free(s->atom);
            free(s->name);
            return;
        }
        if (add && !old->is_list && !s->is_list) {
            size_t a = strlen(old->atom[0].text), b = strlen(s->atom[0].text);
            old->atom[0].text = realloc(old->atom[0].text, a + b + 1);
            memcpy(old->atom[0].text + a, s->atom[0].text, b + 1);
            old->atom[0].is_number = false;
            free_setting(s);
            return;
        }
        free_setting(old);
        *old = *s;
        return;
    }
    cfg->set = realloc(cfg->set, sizeof(*cfg->set) * (size_t)(cfg->n + 1));
    cfg->set[cfg->n++] = *s;
}

/* One statement: empty, or KEY (= | +=) VALUE, then its end. */
static int parse_statement(struct lexer *lx)
{
    static const enum tok assign[] = {T_EQ, T_ADD};
    static const enum tok value[] = {T_STRING, T_NUMBER, T_OPEN};
    static const enum tok end[] = {T_NEWLINE, T_SEMI};
    static const enum tok start[] = {T_IDENT, T_NEWLINE, T_SEMI};
    if (lx->t == T_NEWLINE || lx->t == T_SEMI)
        return next(lx);
    if (lx->t != T_IDENT)
        return syntax_error(lx, start, 3);
    struct xlcfg_setting s = {.name = strndup(lx->start, lx->len), .lineno = lx->tline};
    int rc = -1;
    bool add;
    if (next(lx) < 0)
        goto out;
    if (lx->t != T_EQ && lx->t != T_ADD) {
        syntax_error(lx, assign, 2);
        goto out;
    }
    add = lx->t == T_ADD;
    if (next(lx) < 0)
        goto out;
    if (lx->t == T_OPEN) {
        if (parse_list(lx, &s) < 0)
            goto out;
    } else if (lx->t == T_STRING || lx->t == T_NUMBER) {
        add_atom(&s, lx);
        if (next(lx) < 0)
            goto out;
    } else {
        syntax_error(lx, value, 3);
        goto out;
    }
    if (lx->t != T_NEWLINE && lx->t != T_SEMI && lx->t != T_EOF) {
        syntax_error(lx, end, 2);
        goto out;
    }
    store(lx->cfg, &s, add);
    return lx->t == T_EOF ? 0 : next(lx);
out:
    free_setting(&s);
    return rc;
}

static int parse_into(struct xlcfg *cfg, const char *text, size_t len)
{
    struct lexer lx = {.cfg = cfg, .p = text, .end = text + len, .line = 1};
    int rc = next(&lx);
    while (rc == 0 && lx.t != T_EOF)
        rc = parse_statement(&lx);
    free(lx.value);
    return rc;
}

int xlcfg_parse(struct xlcfg *cfg, const char *source, FILE *report, const char *text, size_t len)
{
    *cfg = (struct xlcfg){.source = source, .report = report};
    if (parse_into(cfg, text, len) < 0) {
        xlcfg_free(cfg);
        return -1;
    }
    return 0;
}

char *xlcfg_slurp(const char *path, size_t *len, FILE *report)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        /* libxlu's words for a file it cannot open. */
        fprintf(report, "%s: failed to open configuration file: %s\n", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t cap = 0, n;
    char chunk[4096];
    *len = 0;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (*len + n + 1 > cap)
            buf = realloc(buf, cap = (*len + n + 1) * 2);
        memcpy(buf + *len, chunk, n);
        *len += n;
    }
    fclose(f);
    if (!buf)
        buf = calloc(1, 1);
    else
        buf[*len] = '\0';
    return buf;
}

int xlcfg_read_file(struct xlcfg *cfg, const char *path, FILE *report)
{
    size_t len;
    char *buf = xlcfg_slurp(path, &len, report);
    if (!buf)
        return -1;
    int rc = xlcfg_parse(cfg, path, report, buf, len);
    free(buf);
    return rc;
}

int xlcfg_override(struct xlcfg *cfg, const char *line)
{
    /* xl names the command line as the source of these settings. */
    const char *saved = cfg->source;
    cfg->source = "command line";
    int rc = parse_into(cfg, line, strlen(line));
    cfg->source = saved;
    return rc;
}

/* `len` less the newlines that end text. */
static size_t trim_newlines(const char *text, size_t len)
{
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        len--;
    return len;
}

/* Does the last line of `text` (len bytes, without the newlines that end
 * it) set `name` alone?  Then *start is where that line starts. */
static bool last_line_sets(const char *text, size_t len, const char *name, size_t *start)
{
    struct xlcfg cfg;
    bool sets = false;
    *start = len;
    while (*start && text[*start - 1] != '\n')
        (*start)--;
    /* The line alone: a piece of a list that spans lines does not parse. */
    FILE *quiet = fopen("/dev/null", "w");
    if (!quiet)
        return false;
    if (xlcfg_parse(&cfg, "", quiet, text + *start, len - *start) == 0) {
        sets = cfg.n == 1 && !strcmp(cfg.set[0].name, name);
        xlcfg_free(&cfg);
    }
    fclose(quiet);
    return sets;
}

size_t xlcfg_before_last(const char *text, size_t len, const char *name)
{
    return xlcfg_before_lines(text, len, &name, 1);
}

size_t xlcfg_before_lines(const char *text, size_t len, const char *const *names, int n)
{
    size_t all = trim_newlines(text, len), cut = all, start;
    /* From the last line back: each must set its name, or nothing goes. */
    for (int i = n - 1; i >= 0; i--) {
        if (!last_line_sets(text, cut, names[i], &start))
            return all;
        cut = trim_newlines(text, start);
    }
    return cut;
}

void xlcfg_put_string(FILE *out, const char *s)
{
    fputc('\'', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\'' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            /* Three octal digits always: unescape() reads at most three,
             * so a digit after the escape stays a character of its own. */
            fprintf(out, "\\%03o", c);
        else
            fputc(c, out);
    }
    fputc('\'', out);
}

const struct xlcfg_setting *xlcfg_find(const struct xlcfg *cfg, const char *name)
{
    for (int i = 0; i < cfg->n; i++)
        if (strcmp(cfg->set[i].name, name) == 0)
            return &cfg->set[i];
    return NULL;
}

void xlcfg_free(struct xlcfg *cfg)
{
    for (int i = 0; i < cfg->n; i++)
        free_setting(&cfg->set[i]);
    free(cfg->set);
    cfg->set = NULL;
    cfg->n = 0;
}
