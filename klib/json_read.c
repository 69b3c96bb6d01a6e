/*
 * json_read.c - the JSON reader of json.h: one pass that checks the whole
 * text against RFC 8259's grammar and lays its values out as tokens, and
 * the accessors that decode a string or a number when someone asks.
 *
 * Everything a request can contain is refused here with a reason and a byte
 * offset rather than half accepted: a control channel is a place where a
 * confused or hostile front-end must not be able to make hv read past a
 * buffer, recurse without bound or take "1e999" for a number.
 */
#include <json.h>
#include <klib.h>

/* The reader's state while it walks one text. */
struct reader {
    const char *s;
    size_t len, pos;
    struct json_tok *tok;
    uint32_t ntok, max_tok;
    unsigned max_depth;
    char *err;
    size_t err_len;
    /* The first error is the one reported. */
    bool failed;
};

static int value(struct reader *r, unsigned depth);

/* Record why the text is refused and where (only the first reason). */
static int fail(struct reader *r, const char *what)
{
    if (!r->failed && r->err_len) {
        char c = r->pos < r->len ? r->s[r->pos] : 0;
        /* Name the character only when it is printable: the reason goes
         * into a JSON string and onto a terminal. */
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
            ksnprintf(r->err, r->err_len, "%s: '%c' at byte %zu", what, c, r->pos);
        else if (r->pos < r->len)
            ksnprintf(r->err, r->err_len, "%s: byte 0x%02x at byte %zu", what,
                      (unsigned)(unsigned char)c, r->pos);
        else
            ksnprintf(r->err, r->err_len, "%s at the end of the text", what);
    }
    r->failed = true;
    return -1;
}

/* RFC 8259 section 2 "JSON Grammar": white space is space, tab, LF, CR. */
static void skip_space(struct reader *r)
{
    while (r->pos < r->len) {
        char c = r->s[r->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        r->pos++;
    }
}

/* Step over the character c if it is the next one; false otherwise. */
static bool eat(struct reader *r, char c)
{
    if (r->pos < r->len && r->s[r->pos] == c) {
        r->pos++;
        return true;
    }
    return false;
}

/*
 * What may follow a member of an object or an element of an array: ','
 * and another one (1), or the closing bracket `close` (0).  Anything else
 * is refused with `why` (-1).  RFC 8259 sections 4 "Objects" and 5
 * "Arrays" separate and close their contents alike.
 */
static int next_or_close(struct reader *r, char close, const char *why)
{
    skip_space(r);
    if (eat(r, ','))
        return 1;
    if (eat(r, close))
        return 0;
    return fail(r, why);
}

/* A new token of `type` starting here; -1 when the array is full. */
static int new_tok(struct reader *r, enum json_type type)
{
    if (r->ntok >= r->max_tok)
        return fail(r, "too many values");
    struct json_tok *t = &r->tok[r->ntok];
    t->type = type;
    t->start = (uint32_t)r->pos;
    t->len = 0;
    t->count = 0;
    t->next = 0;
    return (int)r->ntok++;
}

/* Is c one of the hex digits of a \u escape? */
static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* RFC 8259 section 7 "Strings": a quote, characters (no control
 * characters below 0x20), escapes, a quote.  The token covers the inside. */
static int string(struct reader *r)
{
    int t = new_tok(r, JSON_STRING);
    if (t < 0)
        return -1;
    r->pos++; /* the opening quote */
    r->tok[t].start = (uint32_t)r->pos;
    while (r->pos < r->len) {
        unsigned char c = (unsigned char)r->s[r->pos];
        if (c == '"') {
            r->tok[t].len = (uint32_t)(r->pos - r->tok[t].start);
            r->pos++;
            return t;
        }
        if (c < 0x20)
            return fail(r, "control character in a string");
        if (c != '\\') {
            r->pos++;
            continue;
        }
        /* An escape: one of the eight letters, or u and four hex digits. */
        if (r->pos + 1 >= r->len)
            break;
        char e = r->s[r->pos + 1];
        if (e == 'u') {
            for (unsigned k = 2; k < 6; k++) {
                if (r->pos + k >= r->len || !is_hex(r->s[r->pos + k])) {
                    r->pos += k < 6 ? k : 5;
                    return fail(r, "bad \\u escape");
                }
            }
            r->pos += 6;
        } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' ||
                   e == 'r' || e == 't') {
            r->pos += 2;
        } else {
            r->pos++;
            return fail(r, "bad escape");
        }
    }
    return fail(r, "unterminated string");
}

/* The position after the run of decimal digits that starts at p (p itself
 * when there is none). */
static size_t skip_digits(const struct reader *r, size_t p)
{
    while (p < r->len && r->s[p] >= '0' && r->s[p] <= '9')
        p++;
    return p;
}

/* Move *p over one or more digits: a number's fraction and exponent may
 * not be empty (RFC 8259 section 6 "Numbers").  -1 after fail() at *p when
 * no digit is there. */
static int some_digits(struct reader *r, size_t *p)
{
    size_t end = skip_digits(r, *p);
    if (end == *p) {
        r->pos = *p;
        return fail(r, "bad number");
    }
    *p = end;
    return 0;
}

/* RFC 8259 section 6 "Numbers": -? (0 | [1-9][0-9]*) (. [0-9]+)?
 * ([eE] [+-]? [0-9]+)?  Checked in full here; json_u64/json_i64 decide
 * later whether the value is an integer they can give. */
static int number(struct reader *r)
{
    int t = new_tok(r, JSON_NUMBER);
    if (t < 0)
        return -1;
    const char *s = r->s;
    size_t p = r->pos;
    if (p < r->len && s[p] == '-')
        p++;
    if (p < r->len && s[p] == '0') {
        p++;
    } else if (p < r->len && s[p] >= '1' && s[p] <= '9') {
        p = skip_digits(r, p);
    } else {
        r->pos = p;
        return fail(r, "bad number");
    }
    if (p < r->len && s[p] == '.') {
        p++;
        if (some_digits(r, &p) < 0)
            return -1;
    }
    if (p < r->len && (s[p] == 'e' || s[p] == 'E')) {
        p++;
        if (p < r->len && (s[p] == '+' || s[p] == '-'))
            p++;
        if (some_digits(r, &p) < 0)
            return -1;
    }
    r->tok[t].len = (uint32_t)(p - r->pos);
    r->pos = p;
    return t;
}

/* The literals true, false and null (RFC 8259 section 3 "Values"). */
static int literal(struct reader *r, const char *word, enum json_type type)
{
    size_t n = strlen(word);
    if (r->len - r->pos < n || memcmp(r->s + r->pos, word, n) != 0)
        return fail(r, "unexpected character");
    int t = new_tok(r, type);
    if (t < 0)
        return -1;
    r->tok[t].len = (uint32_t)n;
    r->pos += n;
    return t;
}

/* An object member's name and the ':' after it (RFC 8259 section 4
 * "Objects"); the value is read by the caller. */
static int member_name(struct reader *r)
{
    skip_space(r);
    if (r->pos >= r->len || r->s[r->pos] != '"')
        return fail(r, "expected a string as the member's name");
    int key = string(r);
    if (key < 0)
        return -1;
    /* A key is one token: what follows it is its value. */
    r->tok[key].next = (uint32_t)key + 1;
    skip_space(r);
    if (!eat(r, ':'))
        return fail(r, "expected ':' after the member's name");
    return 0;
}

/*
 * An object or an array, whose opening bracket is the next character:
 * both are an empty pair of brackets or a ','-separated list that ends at
 * `close`, and differ only in the member name before each object value.
 * `why` is the reason given when neither ',' nor `close` follows an item.
 */
static int container(struct reader *r, unsigned depth, enum json_type type, char close,
                     const char *why)
{
    int t = new_tok(r, type);
    if (t < 0)
        return -1;
    r->pos++;
    skip_space(r);
    if (eat(r, close))
        return t;
    for (;;) {
        if (type == JSON_OBJECT && member_name(r) < 0)
            return -1;
        if (value(r, depth + 1) < 0)
            return -1;
        r->tok[t].count++;
        int more = next_or_close(r, close, why);
        if (more <= 0)
            return more < 0 ? -1 : t;
    }
}

/* RFC 8259 section 4 "Objects": { (string : value (, string : value)*)? }
 * The key is a string token, followed by its value's tokens. */
static int object(struct reader *r, unsigned depth)
{
    return container(r, depth, JSON_OBJECT, '}', "expected ',' or '}' in an object");
}

/* RFC 8259 section 5 "Arrays": [ (value (, value)*)? ] */
static int array(struct reader *r, unsigned depth)
{
    return container(r, depth, JSON_ARRAY, ']', "expected ',' or ']' in an array");
}

/* One value of any kind, at nesting `depth` (the outermost is 1); its
 * token's `next` and `len` are set once everything in it has been read. */
static int value(struct reader *r, unsigned depth)
{
    skip_space(r);
    if (r->pos >= r->len)
        return fail(r, "expected a value");
    if (depth > r->max_depth)
        return fail(r, "nested too deeply");
    size_t start = r->pos;
    int t;
    switch (r->s[r->pos]) {
    case '{':
        t = object(r, depth);
        break;
    case '[':
        t = array(r, depth);
        break;
    case '"':
        t = string(r);
        break;
    case 't':
        t = literal(r, "true", JSON_TRUE);
        break;
    case 'f':
        t = literal(r, "false", JSON_FALSE);
        break;
    case 'n':
        t = literal(r, "null", JSON_NULL);
        break;
    default:
        if (r->s[r->pos] == '-' || (r->s[r->pos] >= '0' && r->s[r->pos] <= '9'))
            t = number(r);
        else
            return fail(r, "unexpected character");
    }
    if (t < 0)
        return -1;
    if (r->tok[t].type == JSON_OBJECT || r->tok[t].type == JSON_ARRAY)
        r->tok[t].len = (uint32_t)(r->pos - start);
    r->tok[t].next = r->ntok;
    return t;
}

int json_parse(struct json_doc *doc, const char *text, size_t len, struct json_tok *tok,
               uint32_t max_tok, unsigned max_depth, char *err, size_t err_len)
{
    struct reader r = {
        .s = text,
        .len = len,
        .tok = tok,
        .max_tok = max_tok,
        .max_depth = max_depth,
        .err = err,
        .err_len = err_len,
    };
    if (err_len)
        err[0] = 0;
    /* Offsets are kept in 32 bits: a text that long is refused whole. */
    if (len > 0x7fffffffu) {
        ksnprintf(err, err_len, "text too long");
        return -1;
    }
    if (value(&r, 1) < 0)
        return -1;
    skip_space(&r);
    if (r.pos != r.len)
        return fail(&r, "text after the value");
    doc->text = text;
    doc->text_len = len;
    doc->tok = tok;
    doc->ntok = r.ntok;
    return 0;
}

/* ---- Walking the tokens ------------------------------------------------- */

static bool valid(const struct json_doc *doc, int i)
{
    return i >= 0 && (uint32_t)i < doc->ntok;
}

int json_first(const struct json_doc *doc, int parent)
{
    if (!valid(doc, parent) || doc->tok[parent].count == 0)
        return -1;
    return parent + 1;
}

int json_after(const struct json_doc *doc, int parent, int i)
{
    if (!valid(doc, parent) || !valid(doc, i))
        return -1;
    uint32_t n = doc->tok[i].next;
    /* The parent's own `next` is where its contents end. */
    return n < doc->tok[parent].next ? (int)n : -1;
}

int json_member_next(const struct json_doc *doc, int obj, int k)
{
    /* Skip the key (a string: one token) and then its value. */
    return json_after(doc, obj, k + 1);
}

int json_get(const struct json_doc *doc, int obj, const char *key)
{
    int found = -1;
    if (!valid(doc, obj) || doc->tok[obj].type != JSON_OBJECT)
        return -1;
    for (int k = json_first(doc, obj); k >= 0; k = json_member_next(doc, obj, k)) {
        if (json_str_eq(doc, k, key))
            found = k + 1;
    }
    return found;
}

/* ---- Decoding strings ---------------------------------------------------- */

/* The value of four hex digits (checked by the reader). */
static unsigned hex4(const char *p)
{
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        char c = p[k];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else
            v |= (unsigned)(c - 'A' + 10);
    }
    return v;
}

/* Decode one character of a string at *p: returns it, or -1 for a \u
 * escape this reader does not decode (above 0x7f, or NUL). */
static int next_char(const char **p)
{
    const char *s = *p;
    if (s[0] != '\\') {
        *p = s + 1;
        return (unsigned char)s[0];
    }
    *p = s + 2;
    switch (s[1]) {
    case 'b':
        return '\b';
    case 'f':
        return '\f';
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 't':
        return '\t';
    case 'u': {
        unsigned v = hex4(s + 2);
        *p = s + 6;
        return v == 0 || v > 0x7f ? -1 : (int)v;
    }
    default: /* '"', '\\', '/' stand for themselves */
        return (unsigned char)s[1];
    }
}

int json_str_copy(const struct json_doc *doc, int i, char *buf, size_t size)
{
    if (!valid(doc, i) || doc->tok[i].type != JSON_STRING || size == 0)
        return -1;
    const char *p = doc->text + doc->tok[i].start;
    const char *end = p + doc->tok[i].len;
    size_t n = 0;
    while (p < end) {
        int c = next_char(&p);
        if (c < 0 || n + 1 >= size)
            return -1;
        buf[n++] = (char)c;
    }
    buf[n] = 0;
    return (int)n;
}

bool json_str_eq(const struct json_doc *doc, int i, const char *s)
{
    if (!valid(doc, i) || doc->tok[i].type != JSON_STRING)
        return false;
    const char *p = doc->text + doc->tok[i].start;
    const char *end = p + doc->tok[i].len;
    while (p < end) {
        int c = next_char(&p);
        if (c < 0 || *s == 0 || (unsigned char)*s != c)
            return false;
        s++;
    }
    return *s == 0;
}

/* ---- Decoding numbers and literals --------------------------------------- */

/* The magnitude of an integer token's digits, and its sign; -1 when it has
 * a fraction or exponent, or is above 2^64 - 1. */
static int integer(const struct json_doc *doc, int i, uint64_t *mag, bool *neg)
{
    if (!valid(doc, i) || doc->tok[i].type != JSON_NUMBER)
        return -1;
    const char *p = doc->text + doc->tok[i].start;
    const char *end = p + doc->tok[i].len;
    *neg = false;
    if (*p == '-') {
        *neg = true;
        p++;
    }
    uint64_t v = 0;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *mag = v;
    return 0;
}

int json_u64(const struct json_doc *doc, int i, uint64_t *v)
{
    uint64_t mag;
    bool neg;
    if (integer(doc, i, &mag, &neg) < 0 || (neg && mag != 0))
        return -1;
    *v = mag;
    return 0;
}

int json_i64(const struct json_doc *doc, int i, int64_t *v)
{
    uint64_t mag;
    bool neg;
    if (integer(doc, i, &mag, &neg) < 0)
        return -1;
    if (neg) {
        /* -2^63 is the one magnitude beyond INT64_MAX that fits. */
        if (mag > (uint64_t)INT64_MAX + 1)
            return -1;
        *v = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
    } else {
        if (mag > (uint64_t)INT64_MAX)
            return -1;
        *v = (int64_t)mag;
    }
    return 0;
}

int json_bool(const struct json_doc *doc, int i, bool *v)
{
    if (!valid(doc, i))
        return -1;
    if (doc->tok[i].type == JSON_TRUE)
        *v = true;
    else if (doc->tok[i].type == JSON_FALSE)
        *v = false;
    else
        return -1;
    return 0;
}

const char *json_type_name(enum json_type t)
{
    switch (t) {
    case JSON_NULL:
        return "null";
    case JSON_FALSE:
    case JSON_TRUE:
        return "boolean";
    case JSON_NUMBER:
        return "number";
    case JSON_STRING:
        return "string";
    case JSON_ARRAY:
        return "array";
    case JSON_OBJECT:
        return "object";
    }
    return "?";
}

/* ---- One member salvaged from a text that is not JSON -------------------- */

/* Step over the string whose opening quote is at s[*pos] (its escapes
 * unchecked); false when it does not close before the end. */
static bool scan_string(const char *s, size_t len, size_t *pos)
{
    for (size_t i = *pos + 1; i < len; i++) {
        if (s[i] == '\\') {
            i++;
        } else if (s[i] == '"') {
            *pos = i + 1;
            return true;
        }
    }
    return false;
}

/* From s[pos], right after a key: white space, ':', white space and a plain
 * unsigned integer (RFC 8259 section 6 "Numbers": no leading zero; here
 * also no sign, fraction or exponent) that fits 64 bits and ends at white
 * space, ',' or '}'.  Its value, or false. */
static bool scan_member_u64(const char *s, size_t len, size_t pos, uint64_t *v)
{
    struct reader r = {.s = s, .len = len, .pos = pos};
    skip_space(&r);
    if (!eat(&r, ':'))
        return false;
    skip_space(&r);
    size_t start = r.pos;
    uint64_t n = 0;
    while (r.pos < len && s[r.pos] >= '0' && s[r.pos] <= '9') {
        unsigned d = (unsigned)(s[r.pos] - '0');
        if (n > (UINT64_MAX - d) / 10)
            return false;
        n = n * 10 + d;
        r.pos++;
    }
    size_t digits = r.pos - start;
    if (!digits || (digits > 1 && s[start] == '0'))
        return false;
    skip_space(&r);
    if (r.pos < len && s[r.pos] != ',' && s[r.pos] != '}')
        return false;
    *v = n;
    return true;
}

int json_scan_u64(const char *s, size_t len, const char *key, uint64_t *v)
{
    size_t klen = strlen(key), pos = 0;
    unsigned depth = 0;
    int found = -1;
    /* Only an object's member is looked for. */
    while (pos < len && (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\n' || s[pos] == '\r'))
        pos++;
    if (pos == len || s[pos] != '{')
        return -1;
    while (pos < len) {
        char c = s[pos];
        if (c == '"') {
            size_t start = pos;
            if (!scan_string(s, len, &pos))
                break;
            /* A key of the outermost object, spelled without escapes. */
            if (depth == 1 && pos - start - 2 == klen && !memcmp(s + start + 1, key, klen) &&
                scan_member_u64(s, len, pos, v))
                found = 0;
            continue;
        }
        if (c == '{' || c == '[')
            depth++;
        else if ((c == '}' || c == ']') && depth && !--depth)
            break; /* the outermost object has ended */
        pos++;
    }
    return found;
}
