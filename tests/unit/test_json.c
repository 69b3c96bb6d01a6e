/*
 * test_json.c - klib's JSON reader and writer (klib/include/json.h), hosted.
 *
 * The grammar cases follow RFC 8259 section by section: every text in
 * `accepted` is valid JSON and every text in `refused` is not (both lists
 * were checked against Python's json module, which tests/integration's
 * ctl suites also use as the front-ends' parser; RFC-invalid texts Python
 * accepts, such as NaN, are refused here as the RFC says).  Then the
 * accessors, the writer, and a round trip of every byte value through
 * writer and reader.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include <json.h>

#include "check_main.h"

#define NTOK 64

static struct json_tok tok[NTOK];
static struct json_doc doc;
static char err[128];

static int parse(const char *s)
{
    return json_parse(&doc, s, strlen(s), tok, NTOK, 16, err, sizeof(err));
}

static const char *const accepted[] = {
    "{}",
    "[]",
    "0",
    "-0",
    "12",
    "-12.5e+3",
    "1E-2",
    "true",
    "false",
    "null",
    "\"\"",
    "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u0041\\u00e9\"",
    " \t\r\n{ \"a\" : [ 1 , 2 , { } ] , \"b\" : null } \n",
    "{\"execute\": \"query-status\", \"arguments\": {\"domain\": 0}, \"id\": [1, \"x\"]}",
    "[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]", /* 16 deep: the limit */
    "\"\xc3\xa9\"",                     /* UTF-8 passes through */
};

static const char *const refused[] = {
    "",      " ",        "{",           "}",
    "[1,]",  "[,1]",     "{\"a\":1,}",  "{\"a\" 1}",
    "{a:1}", "{1:1}",    "01",          "1.",
    ".5",    "1e",       "+1",          "-",
    "NaN",   "Infinity", "tru",         "nulll",
    "\"abc", "\"a\\x\"", "\"\\u12g4\"", "\"a\tb\"", /* a raw control character in a string */
    "{} {}", "[1] x",    "'a'",         "[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]", /* 17 deep */
};

START_TEST(grammar_accepts_valid_texts)
{
    for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++)
        ck_assert_msg(parse(accepted[i]) == 0, "refused %s: %s", accepted[i], err);
}
END_TEST

START_TEST(grammar_refuses_invalid_texts)
{
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        ck_assert_msg(parse(refused[i]) < 0, "accepted '%s'", refused[i]);
        ck_assert_msg(err[0] != 0, "no reason for '%s'", refused[i]);
    }
}
END_TEST

START_TEST(reasons_name_the_place)
{
    ck_assert_int_lt(parse("{\"a\": x}"), 0);
    ck_assert_str_eq(err, "unexpected character: 'x' at byte 6");
    ck_assert_int_lt(parse("[1, 2"), 0);
    ck_assert_str_eq(err, "expected ',' or ']' in an array at the end of the text");
    ck_assert_int_lt(parse("\"a\x01\""), 0);
    ck_assert_str_eq(err, "control character in a string: byte 0x01 at byte 2");
}
END_TEST

START_TEST(too_many_values_is_refused_not_overrun)
{
    /* 64 tokens fit; an array of 64 numbers needs 65. */
    char s[512] = "[";
    for (int i = 0; i < 64; i++)
        strcat(s, i ? ",1" : "1");
    strcat(s, "]");
    ck_assert_int_lt(parse(s), 0);
    ck_assert_str_eq(err, "too many values: '1' at byte 127");
    s[strlen(s) - 3] = ']';
    s[strlen(s) - 2] = 0;
    ck_assert_int_eq(parse(s), 0);
    ck_assert_uint_eq(doc.tok[0].count, 63);
}
END_TEST

START_TEST(objects_members_and_lookup)
{
    ck_assert_int_eq(
        parse("{\"execute\": \"stop\", \"arguments\": {\"domain\": 2, \"x\": [1, [2]]}, "
              "\"id\": \"a\\\"b\", \"execute\": \"cont\"}"),
        0);
    ck_assert_uint_eq(doc.tok[0].count, 4);
    int args = json_get(&doc, 0, "arguments");
    ck_assert_int_ge(args, 0);
    ck_assert_int_eq(doc.tok[args].type, JSON_OBJECT);
    uint64_t d;
    ck_assert_int_eq(json_u64(&doc, json_get(&doc, args, "domain"), &d), 0);
    ck_assert_uint_eq(d, 2);
    /* The last of two equal keys counts. */
    ck_assert(json_str_eq(&doc, json_get(&doc, 0, "execute"), "cont"));
    ck_assert_int_lt(json_get(&doc, 0, "missing"), 0);
    ck_assert_int_lt(json_get(&doc, args + 2, "domain"), 0); /* not an object */
    /* Iterating visits every key once, skipping nested values. */
    int n = 0;
    for (int k = json_first(&doc, args); k >= 0; k = json_member_next(&doc, args, k))
        n++;
    ck_assert_int_eq(n, 2);
    int x = json_get(&doc, args, "x");
    n = 0;
    for (int e = json_first(&doc, x); e >= 0; e = json_after(&doc, x, e))
        n++;
    ck_assert_int_eq(n, 2);
    ck_assert_int_lt(json_first(&doc, json_get(&doc, 0, "id")), 0);
}
END_TEST

START_TEST(strings_decode_escapes)
{
    char buf[32];
    ck_assert_int_eq(parse("\"a\\\"b\\\\c\\/d\\n\\u0041\""), 0);
    ck_assert_int_eq(json_str_copy(&doc, 0, buf, sizeof(buf)), 9);
    ck_assert_str_eq(buf, "a\"b\\c/d\nA");
    ck_assert(json_str_eq(&doc, 0, "a\"b\\c/d\nA"));
    ck_assert(!json_str_eq(&doc, 0, "a\"b\\c/d\nAx"));
    ck_assert(!json_str_eq(&doc, 0, "a\"b\\c/d\n"));
    /* Too small a buffer, \u above 0x7f, \u0000: refused, never cut. */
    ck_assert_int_lt(json_str_copy(&doc, 0, buf, 9), 0);
    ck_assert_int_eq(json_str_copy(&doc, 0, buf, 10), 9);
    ck_assert_int_eq(parse("\"\\u00e9\""), 0);
    ck_assert_int_lt(json_str_copy(&doc, 0, buf, sizeof(buf)), 0);
    ck_assert_int_eq(parse("\"a\\u0000b\""), 0);
    ck_assert_int_lt(json_str_copy(&doc, 0, buf, sizeof(buf)), 0);
    ck_assert(!json_str_eq(&doc, 0, "a"));
}
END_TEST

START_TEST(integers_are_exact)
{
    uint64_t u;
    int64_t i;
    ck_assert_int_eq(parse("18446744073709551615"), 0);
    ck_assert_int_eq(json_u64(&doc, 0, &u), 0);
    ck_assert_uint_eq(u, UINT64_MAX);
    ck_assert_int_lt(json_i64(&doc, 0, &i), 0);
    ck_assert_int_eq(parse("18446744073709551616"), 0);
    ck_assert_int_lt(json_u64(&doc, 0, &u), 0);
    ck_assert_int_eq(parse("-9223372036854775808"), 0);
    ck_assert_int_eq(json_i64(&doc, 0, &i), 0);
    ck_assert(i == INT64_MIN);
    ck_assert_int_lt(json_u64(&doc, 0, &u), 0);
    ck_assert_int_eq(parse("-9223372036854775809"), 0);
    ck_assert_int_lt(json_i64(&doc, 0, &i), 0);
    ck_assert_int_eq(parse("-0"), 0);
    ck_assert_int_eq(json_u64(&doc, 0, &u), 0);
    ck_assert_uint_eq(u, 0);
    ck_assert_int_eq(parse("1.0"), 0);
    ck_assert_int_lt(json_u64(&doc, 0, &u), 0);
    ck_assert_int_eq(parse("1e3"), 0);
    ck_assert_int_lt(json_i64(&doc, 0, &i), 0);
    ck_assert_int_eq(parse("\"1\""), 0);
    ck_assert_int_lt(json_u64(&doc, 0, &u), 0);
    bool b;
    ck_assert_int_lt(json_bool(&doc, 0, &b), 0);
    ck_assert_int_eq(parse("[true, false]"), 0);
    ck_assert_int_eq(json_bool(&doc, 1, &b), 0);
    ck_assert(b);
    ck_assert_int_eq(json_bool(&doc, 2, &b), 0);
    ck_assert(!b);
}
END_TEST

/* scan: the id of a text json_parse refuses, found only where it is the
 * outermost object's member and a plain integer. */
static int scan(const char *text, uint64_t *v)
{
    *v = 0;
    return json_scan_u64(text, strlen(text), "id", v);
}

START_TEST(scan_salvages_a_top_level_integer)
{
    uint64_t v;
    /* Refused by the reader, found by the scan. */
    const char *cut = "{\"execute\": \"stop\", \"id\": 42, \"arguments\": {\"a\": tru";
    ck_assert_int_lt(parse(cut), 0);
    ck_assert_int_eq(scan(cut, &v), 0);
    ck_assert_uint_eq(v, 42);
    ck_assert_int_eq(scan(" {\"id\" : 18446744073709551615 }", &v), 0);
    ck_assert_uint_eq(v, UINT64_MAX);
    /* Strings are stepped over whole, brackets in them too. */
    ck_assert_int_eq(scan("{\"x\": \"}{\\\"id\\\": 1\", \"id\": 9, 1}", &v), 0);
    ck_assert_uint_eq(v, 9);
    ck_assert_int_eq(scan("{\"id\": 1, \"id\": 2, @", &v), 0);
    ck_assert_uint_eq(v, 2);
    /* Not the outermost object's, not a plain integer, not an object. */
    ck_assert_int_lt(scan("{\"a\": {\"id\": 5}, @", &v), 0);
    ck_assert_int_lt(scan("{\"a\": [\"id\", 5], @", &v), 0);
    ck_assert_int_lt(scan("{\"a\": 1} {\"id\": 5}", &v), 0);
    ck_assert_int_lt(scan("{\"id\": -5, @", &v), 0);
    ck_assert_int_lt(scan("{\"id\": 05, @", &v), 0);
    ck_assert_int_lt(scan("{\"id\": 5.5, @", &v), 0);
    ck_assert_int_lt(scan("{\"id\": 18446744073709551616, @", &v), 0);
    ck_assert_int_lt(scan("{\"id\": \"5\", @", &v), 0);
    ck_assert_int_lt(scan("{\"i\\u0064\": 5, @", &v), 0);
    ck_assert_int_lt(scan("{\"id\" 5, @", &v), 0);
    ck_assert_int_lt(scan("[{\"id\": 5}, @", &v), 0);
    ck_assert_int_lt(scan("{\"x\": \"open, \"id\": 5", &v), 0);
    ck_assert_int_lt(scan("", &v), 0);
}
END_TEST

START_TEST(writer_punctuates)
{
    char buf[256];
    struct json_out o;
    json_out_init(&o, buf, sizeof(buf));
    json_obj_begin(&o);
    json_key(&o, "return");
    json_obj_begin(&o);
    json_key(&o, "status");
    json_put_str(&o, "running");
    json_key(&o, "running");
    json_put_bool(&o, true);
    json_key(&o, "list");
    json_arr_begin(&o);
    json_put_u64(&o, 0);
    json_put_i64(&o, INT64_MIN);
    json_put_null(&o);
    json_put_hex(&o, "\x00\xff\x10", 3);
    json_arr_end(&o);
    json_obj_end(&o);
    json_key(&o, "id");
    json_put_u64(&o, UINT64_MAX);
    json_obj_end(&o);
    ck_assert(json_out_ok(&o));
    ck_assert_str_eq(buf,
                     "{\"return\": {\"status\": \"running\", \"running\": true, \"list\": [0, "
                     "-9223372036854775808, null, \"00ff10\"]}, \"id\": 18446744073709551615}");
}
END_TEST

START_TEST(writer_never_overruns)
{
    char buf[16];
    struct json_out o;
    memset(buf, 'Z', sizeof(buf));
    json_out_init(&o, buf, 10);
    json_obj_begin(&o);
    json_key(&o, "status");
    json_put_str(&o, "running");
    json_obj_end(&o);
    ck_assert(o.overflow);
    ck_assert(!json_out_ok(&o));
    ck_assert_int_eq(buf[10], 'Z');
    ck_assert_uint_lt(strlen(buf), 10);
    /* Unbalanced ends and a key without a value are not ok either. */
    json_out_init(&o, buf, sizeof(buf));
    json_obj_end(&o);
    ck_assert(!json_out_ok(&o));
    json_out_init(&o, buf, sizeof(buf));
    json_obj_begin(&o);
    json_key(&o, "a");
    json_obj_end(&o);
    ck_assert(!json_out_ok(&o));
}
END_TEST

START_TEST(every_byte_round_trips)
{
    /* Each byte 1..255 in a string: written escaped, read back the same
     * (bytes from 0x80 up pass through unescaped; the reader's copy gives
     * them back as they are). */
    char in[256], out[2048], back[256];
    for (int c = 1; c < 256; c++)
        in[c - 1] = (char)c;
    struct json_out o;
    json_out_init(&o, out, sizeof(out));
    json_put_strn(&o, in, 255);
    ck_assert(json_out_ok(&o));
    ck_assert_int_eq(parse(out), 0);
    ck_assert_int_eq(json_str_copy(&doc, 0, back, sizeof(back)), 255);
    ck_assert_mem_eq(back, in, 255);
}
END_TEST

START_TEST(tokens_copy_back_verbatim)
{
    char out[128];
    struct json_out o;
    ck_assert_int_eq(parse("{\"id\": {\"a\": [1, \"x\\ny\"]}, \"k\": \"v\\\"w\"}"), 0);
    json_out_init(&o, out, sizeof(out));
    json_obj_begin(&o);
    json_key(&o, "id");
    json_put_tok(&o, &doc, json_get(&doc, 0, "id"));
    json_key(&o, "k");
    json_put_tok(&o, &doc, json_get(&doc, 0, "k"));
    json_obj_end(&o);
    ck_assert(json_out_ok(&o));
    ck_assert_str_eq(out, "{\"id\": {\"a\": [1, \"x\\ny\"]}, \"k\": \"v\\\"w\"}");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("json");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, grammar_accepts_valid_texts);
    tcase_add_test(tc, grammar_refuses_invalid_texts);
    tcase_add_test(tc, reasons_name_the_place);
    tcase_add_test(tc, too_many_values_is_refused_not_overrun);
    tcase_add_test(tc, objects_members_and_lookup);
    tcase_add_test(tc, strings_decode_escapes);
    tcase_add_test(tc, integers_are_exact);
    tcase_add_test(tc, writer_punctuates);
    tcase_add_test(tc, writer_never_overruns);
    tcase_add_test(tc, every_byte_round_trips);
    tcase_add_test(tc, tokens_copy_back_verbatim);
    tcase_add_test(tc, scan_salvages_a_top_level_integer);
    suite_add_tcase(s, tc);
    return check_main(s);
}
