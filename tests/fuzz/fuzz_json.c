/*
 * fuzz_json.c - libFuzzer target for klib's JSON reader and writer
 * (klib/include/json.h), the code that reads every control request hv and
 * the manager receive.
 *
 * Each input is a text, copied to a buffer of exactly its size (so ASan
 * sees any read past it).  The reader must either refuse it with a reason
 * or accept it; an accepted text must keep json.h's promises, checked
 * here: tokens in document order with `next` inside the text, an object's
 * keys strings, the whole value written back by json_put_tok() equal to
 * the text without its surrounding white space, and every string that
 * decodes written again and read back to the same bytes.  The id salvage
 * (json_scan_u64) runs on every input as well.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#define NTOK 256

/* Stop at the first broken promise, with a report ASan's handler shows. */
static void check(int ok)
{
    if (!ok)
        abort();
}

/* The tokens of an accepted text describe it consistently. */
static void check_tokens(const struct json_doc *doc)
{
    for (uint32_t i = 0; i < doc->ntok; i++) {
        const struct json_tok *t = &doc->tok[i];
        check(t->next > i && t->next <= doc->ntok);
        check((size_t)t->start + t->len <= doc->text_len);
        if (t->type == JSON_OBJECT) {
            uint32_t n = 0;
            for (int k = json_first(doc, (int)i); k >= 0; k = json_member_next(doc, (int)i, k)) {
                check(doc->tok[k].type == JSON_STRING);
                n++;
            }
            check(n == t->count);
        }
    }
}

/* A string that decodes round-trips through the writer and the reader. */
static void check_strings(const struct json_doc *doc)
{
    static char plain[4096], out[4096 * 6 + 3], back[4096];
    struct json_tok tok2[2];
    struct json_doc doc2;
    char err[96];
    for (uint32_t i = 0; i < doc->ntok; i++) {
        int n = json_str_copy(doc, (int)i, plain, sizeof(plain));
        if (n < 0)
            continue;
        check(json_str_eq(doc, (int)i, plain));
        struct json_out o;
        json_out_init(&o, out, sizeof(out));
        json_put_strn(&o, plain, (size_t)n);
        check(json_out_ok(&o));
        check(json_parse(&doc2, out, o.len, tok2, 2, 1, err, sizeof(err)) == 0);
        check(json_str_copy(&doc2, 0, back, sizeof(back)) == n);
        check(memcmp(back, plain, (size_t)n) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct json_tok tok[NTOK];
    static char out[70000];
    struct json_doc doc;
    char err[96];
    char *text = malloc(size ? size : 1);
    memcpy(text, data, size);
    /* The salvage of an id reads any text without reading past it; what it
     * finds in a text the reader accepts is a member the reader finds. */
    uint64_t id;
    bool salvaged = json_scan_u64(text, size, "id", &id) == 0;
    if (json_parse(&doc, text, size, tok, NTOK, 16, err, sizeof(err)) < 0) {
        check(err[0] != 0);
        free(text);
        return 0;
    }
    check_tokens(&doc);
    check_strings(&doc);
    check(!salvaged || json_get(&doc, 0, "id") >= 0);
    /* The root copied back is the text minus its surrounding white space. */
    struct json_out o;
    json_out_init(&o, out, sizeof(out));
    json_put_tok(&o, &doc, 0);
    if (size < sizeof(out) / 2) {
        check(json_out_ok(&o));
        size_t a = 0, b = size;
        while (a < b && text[a] && strchr(" \t\r\n", text[a]))
            a++;
        while (b > a && text[b - 1] && strchr(" \t\r\n", text[b - 1]))
            b--;
        check(o.len == b - a && memcmp(out, text + a, o.len) == 0);
    }
    uint64_t u;
    int64_t s;
    bool v;
    for (uint32_t i = 0; i < doc.ntok; i++) {
        (void)json_u64(&doc, (int)i, &u);
        (void)json_i64(&doc, (int)i, &s);
        (void)json_bool(&doc, (int)i, &v);
    }
    free(text);
    return 0;
}
