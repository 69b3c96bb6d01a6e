/*
 * hvctl - the smallest front-end of hvkit's control protocol
 * (docs/control-protocol.md): one request to the manager a running
 * `bin/hvrun --control PATH` started, its reply on stdout.  For scripts,
 * tests and students looking at the protocol itself.
 *
 *   hvctl [-s PATH] COMMAND [NAME=VALUE]...   e.g. hvctl query-status domain=0
 *   hvctl [-s PATH] --json 'LINE'             LINE sent as it is
 *   hvctl [-s PATH] --events [--count N]      print events as they come
 *   hvctl [-s PATH] --console [--force] [N]   domain N's console (default 0):
 *                                             its output on stdout, stdin
 *                                             typed to it; ^] detaches
 *
 * VALUE is JSON when it reads as JSON (12, true, "text", {...}), a number
 * when it is 0x followed by hex digits, and a string otherwise.  The
 * socket is PATH, or $HVKIT_CONTROL.  Exit status: 0 for a "return"
 * reply, 1 for an "error" reply, 2 when there was no reply (usage, no
 * manager, the time limit).
 *
 * For tests of the manager there are two ways to go away early:
 * --send-only (send the request, leave before the reply) and --partial
 * (send the text without its newline, leave).  --repeat N sends N requests
 * with ids 1..N back to back and checks that each reply carries its own id.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json.h>

#include "../common/conclient.h"
#include "../common/ctlc.h"
#include "hvkit/ctl.h"

static const char *prog = "hvctl";

static struct {
    const char *socket;
    double timeout;
    bool send_only, partial, events, json, show_events, console, force;
    long count, repeat;
} opt = {.timeout = 30, .count = 1, .repeat = 1};

static void usage(int status)
{
    FILE *f = status ? stderr : stdout;
    fprintf(f,
            "Usage: hvctl [-s PATH] [OPTIONS] COMMAND [NAME=VALUE]...\n"
            "       hvctl [-s PATH] [OPTIONS] --json 'LINE'\n"
            "       hvctl [-s PATH] --events [--count N]\n"
            "       hvctl [-s PATH] --console [--force] [DOMAIN]\n"
            "Send one request of hvkit's control protocol to the manager of a running\n"
            "`bin/hvrun --control PATH` and print the reply (docs/control-protocol.md).\n"
            "\n"
            "  -s, --socket PATH  the manager's socket (default: $HVKIT_CONTROL)\n"
            "  --json LINE        send LINE exactly as given, as the request\n"
            "  --timeout SECONDS  give up waiting after SECONDS (default 30)\n"
            "  --show-events      also print the events that arrive before the reply\n"
            "  --events           print events only, until --count N of them (default 1)\n"
            "  --console          attach to DOMAIN's console (default 0): its output on\n"
            "                     stdout, stdin typed to it; ^] detaches on a terminal\n"
            "  --force            with --console: take the console from another front-end\n"
            "  --repeat N         send the request N times with ids 1..N; check each reply's id\n"
            "  --send-only        send the request and leave without waiting for the reply\n"
            "  --partial          send the --json LINE without its newline and leave\n"
            "  -h, --help         show this help\n"
            "\n"
            "VALUE is JSON when it reads as JSON (12, true, \"text\", {...}), a number when\n"
            "it is 0x and hex digits, a string otherwise.  Exit status: 0 for a \"return\",\n"
            "1 for an \"error\" reply, 2 when there was no reply.\n");
    exit(status);
}

static void fail(const char *fmt, const char *arg)
{
    fprintf(stderr, "%s: ", prog);
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(2);
}

/* ---- Building the request ------------------------------------------------- */

/* Write VALUE as the protocol wants it (see the top of the file). */
static void put_value(struct json_out *o, const char *v)
{
    static struct json_tok tok[64];
    struct json_doc doc;
    char err[8];
    if (json_parse(&doc, v, strlen(v), tok, 64, CTL_DEPTH_MAX, err, sizeof(err)) == 0) {
        json_put_tok(o, &doc, 0);
        return;
    }
    if (v[0] == '0' && (v[1] == 'x' || v[1] == 'X') && v[2]) {
        char *end;
        errno = 0;
        unsigned long long n = strtoull(v + 2, &end, 16);
        if (!*end && !errno) {
            json_put_u64(o, n);
            return;
        }
    }
    json_put_str(o, v);
}

/* {"execute": CMD, "arguments": {NAME: VALUE...}, "id": ID} into buf. */
static size_t build_request(char *buf, size_t size, char **words, int n, long id)
{
    struct json_out o;
    json_out_init(&o, buf, size);
    json_obj_begin(&o);
    json_key(&o, CTL_KEY_EXECUTE);
    json_put_str(&o, words[0]);
    if (n > 1) {
        json_key(&o, CTL_KEY_ARGUMENTS);
        json_obj_begin(&o);
        for (int i = 1; i < n; i++) {
            char *eq = strchr(words[i], '=');
            if (!eq || eq == words[i])
                fail("argument '%s' is not NAME=VALUE", words[i]);
            *eq = 0;
            json_key(&o, words[i]);
            put_value(&o, eq + 1);
            *eq = '=';
        }
        json_obj_end(&o);
    }
    if (id > 0) {
        json_key(&o, CTL_KEY_ID);
        json_put_u64(&o, (uint64_t)id);
    }
    json_obj_end(&o);
    if (!json_out_ok(&o))
        fail("%s", "the request is longer than the protocol's limit");
    return o.len;
}

/* ---- The connection (mgmt/common/ctlc.h) ---------------------------------- */

static struct ctlc conn;
static struct timespec deadline;

/* Milliseconds left before the deadline (0 when it has passed). */
static int ms_left(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double ms = (deadline.tv_sec - now.tv_sec) * 1e3 + (deadline.tv_nsec - now.tv_nsec) / 1e6;
    return ms > 0 ? (int)ms + 1 : 0;
}

/* Connect and read the greeting, which must be of this hvctl's protocol. */
static void connect_manager(void)
{
    char why[CTL_LINE_MAX + 128];
    if (!opt.socket || !*opt.socket)
        fail("%s", "no socket: give -s PATH (bin/hvrun --control PATH) or set HVKIT_CONTROL");
    if (ctlc_open(&conn, opt.socket, ms_left(), why, sizeof(why)) < 0)
        fail("%s", why);
}

static void send_all(const char *s, size_t len, bool newline)
{
    char why[256];
    if (ctlc_send(&conn, s, len, newline, why, sizeof(why)) < 0)
        fail("%s", why);
}

/* The next line from the manager, parsed into conn.doc (conn.line holds
 * its text), waiting at most until the deadline. */
static void read_line(void)
{
    char why[256];
    if (ctlc_read(&conn, ms_left(), why, sizeof(why)) < 0)
        fail("%s (see --timeout)", why);
}

/* Wait for the reply (events are skipped, or printed with --show-events);
 * print it; its status.  With `want_id` > 0 the reply must carry it. */
static int await_reply(long want_id, bool print)
{
    const struct json_doc *doc = &conn.doc;
    for (;;) {
        read_line();
        if (json_get(doc, 0, CTL_KEY_EVENT) >= 0) {
            if (opt.show_events)
                printf("%s\n", conn.line);
            continue;
        }
        if (want_id > 0) {
            uint64_t id;
            if (json_u64(doc, json_get(doc, 0, CTL_KEY_ID), &id) < 0 || id != (uint64_t)want_id) {
                fprintf(stderr, "%s: expected the reply to id %ld, got: %s\n", prog, want_id,
                        conn.line);
                exit(2);
            }
        }
        if (print)
            printf("%s\n", conn.line);
        return json_get(doc, 0, CTL_KEY_RETURN) >= 0 ? 0 : 1;
    }
}

static void print_events(void)
{
    for (long n = 0; n < opt.count;) {
        read_line();
        if (json_get(&conn.doc, 0, CTL_KEY_EVENT) >= 0) {
            printf("%s\n", conn.line);
            fflush(stdout);
            n++;
        }
    }
}

/* --console: attach, then copy both ways until the console ends or ^]
 * is typed.  0 then; 1 when the manager refused. */
static int console(const char *dom)
{
    char why[300], *end;
    unsigned long d = strtoul(dom, &end, 10);
    if (*end || end == dom)
        fail("DOMAIN '%s' is not a domain number", dom);
    if (conclient_attach(&conn, (unsigned)d, opt.force, why, sizeof(why)) != 0) {
        fprintf(stderr, "%s: %s\n", prog, why);
        return 1;
    }
    conclient_run(&conn);
    return 0;
}

/* ---- main ------------------------------------------------------------------- */

static int parse_options(int argc, char **argv)
{
    int i = 1;
    opt.socket = getenv("HVKIT_CONTROL");
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if ((!strcmp(a, "-s") || !strcmp(a, "--socket")) && has)
            opt.socket = argv[++i];
        else if (!strcmp(a, "--timeout") && has)
            opt.timeout = atof(argv[++i]);
        else if (!strcmp(a, "--count") && has)
            opt.count = atol(argv[++i]);
        else if (!strcmp(a, "--repeat") && has)
            opt.repeat = atol(argv[++i]);
        else if (!strcmp(a, "--json"))
            opt.json = true;
        else if (!strcmp(a, "--events"))
            opt.events = true;
        else if (!strcmp(a, "--console"))
            opt.console = true;
        else if (!strcmp(a, "--force"))
            opt.force = true;
        else if (!strcmp(a, "--show-events"))
            opt.show_events = true;
        else if (!strcmp(a, "--send-only"))
            opt.send_only = true;
        else if (!strcmp(a, "--partial"))
            opt.partial = opt.json = true;
        else if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            usage(0);
        else
            fail("unknown option '%s' (see --help)", a);
    }
    if (opt.timeout <= 0 || opt.count < 1 || opt.repeat < 1)
        fail("%s", "--timeout, --count and --repeat take positive numbers");
    if (opt.console && argc - i > 1)
        fail("%s", "--console takes at most one DOMAIN");
    if (!opt.events && !opt.console && i >= argc)
        usage(2);
    if (opt.json && argc - i != 1)
        fail("%s", "--json takes exactly one LINE");
    return i;
}

int main(int argc, char **argv)
{
    int first = parse_options(argc, argv);
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += (time_t)opt.timeout;
    deadline.tv_nsec += (long)((opt.timeout - (double)(time_t)opt.timeout) * 1e9);
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    connect_manager();
    if (opt.console)
        return console(first < argc ? argv[first] : "0");
    if (opt.events) {
        print_events();
        return 0;
    }
    static char req[CTL_LINE_MAX + 1];
    if (opt.json) {
        const char *line = argv[first];
        send_all(line, strlen(line), !opt.partial);
        if (opt.partial || opt.send_only)
            return 0;
        return await_reply(0, true);
    }
    /* All requests go out before the first reply is read, so that with
     * several hvctl at once the manager has requests from all of them
     * queued together. */
    for (long id = 1; id <= opt.repeat; id++) {
        size_t n = build_request(req, sizeof(req) - 1, argv + first, argc - first,
                                 opt.repeat > 1 ? id : 0);
        send_all(req, n, true);
    }
    if (opt.send_only)
        return 0;
    int status = 0;
    for (long id = 1; id <= opt.repeat; id++) {
        int s = await_reply(opt.repeat > 1 ? id : 0, opt.repeat == 1);
        status = status ? status : s;
    }
    if (opt.repeat > 1)
        printf("%ld replies, each with its own id\n", opt.repeat);
    return status;
}
