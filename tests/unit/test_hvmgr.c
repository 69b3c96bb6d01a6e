/*
 * test_hvmgr.c - the manager's routing (mgmt/hvmgr/relay.c) and line
 * framing (conn.c), hosted, over socket pairs: one stands for COM2 (this
 * test plays hv on its far end), others for front-ends.
 *
 * What docs/control-protocol.md promises about several front-ends is
 * checked step by step: one request at a time goes to hv, in the order the
 * lines were complete; each reply goes to the front-end that asked; a half
 * line is never a request; a front-end that leaves has its complete
 * requests carried out and their replies dropped; events reach everyone;
 * when hv ends, whoever waits gets an error with its id.
 */
#include <arpa/inet.h>
#include <check.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_main.h"
#include "disk/diskio.h"
#include "hvmgr/hvmgr.h"

/* main.c's table of front-ends, which relay.c writes to. */
struct conn *clients[CTL_CLIENTS_MAX];

/* COM2: the manager's end and the test's (hv's) end. */
static struct conn *hv;
static int hv_far;
/* Two front-ends: the manager's ends in clients[], the test's ends. */
static int far[2];

static int pair(struct conn **near)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    *near = conn_new(sv[0]);
    return sv[1];
}

/* What arrived at a far end so far (NUL-terminated, possibly empty). */
static const char *got(int fd)
{
    static char buf[8192];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    buf[n > 0 ? n : 0] = 0;
    return buf;
}

/* hv says `line`; the manager reads it. */
static void hv_says(const char *line)
{
    ck_assert_int_eq(write(hv_far, line, strlen(line)), (ssize_t)strlen(line));
    conn_read(hv, relay_hv_line, relay_hv_overlong);
}

/* Front-end i writes `text`; the manager reads it and passes requests on. */
static void client_writes(int i, const char *text)
{
    ck_assert_int_eq(write(far[i], text, strlen(text)), (ssize_t)strlen(text));
    conn_read(clients[i], relay_client_line, relay_client_overlong);
    relay_pump(hv);
}

/* client_writes() of the line printf makes of fmt. */
static void __attribute__((format(printf, 2, 3))) client_printf(int i, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    ck_assert_int_lt(vsnprintf(line, sizeof(line), fmt, ap), (int)sizeof(line));
    va_end(ap);
    client_writes(i, line);
}

/* What arrived at far end fd is exactly the line printf makes of fmt. */
static void got_vprintf(int fd, const char *fmt, va_list ap)
{
    char want[1024];
    ck_assert_int_lt(vsnprintf(want, sizeof(want), fmt, ap), (int)sizeof(want));
    ck_assert_str_eq(got(fd), want);
}

/* hv has got exactly the line printf makes of fmt. */
static void __attribute__((format(printf, 1, 2))) hv_got(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    got_vprintf(hv_far, fmt, ap);
    va_end(ap);
}

/* Front-end i has got exactly the line printf makes of fmt. */
static void __attribute__((format(printf, 2, 3))) client_got(int i, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    got_vprintf(far[i], fmt, ap);
    va_end(ap);
}

/* Front-end i's request reaches hv exactly as written. */
static void request_passes(int i, const char *line)
{
    client_writes(i, line);
    ck_assert_str_eq(got(hv_far), line);
}

/* hv's reply reaches front-end i exactly as hv wrote it. */
static void reply_passes(int i, const char *line)
{
    hv_says(line);
    ck_assert_str_eq(got(far[i]), line);
}

/* Front-end i's request is answered, by the manager or by hv, with a
 * line that holds `words`. */
static void answer_has(int i, const char *request, const char *words)
{
    client_writes(i, request);
    ck_assert_ptr_nonnull(strstr(got(far[i]), words));
}

/* Front-end i's request goes to hv, which answers `reply` (a refusal, in
 * most tests): the front-end gets hv's words as they are. */
static void hv_answers(int i, const char *request, const char *reply)
{
    client_writes(i, request);
    got(hv_far);
    reply_passes(i, reply);
}

static void setup(void)
{
    hv_far = pair(&hv);
    for (int i = 0; i < 2; i++) {
        far[i] = pair(&clients[i]);
        relay_client_added(clients[i]);
    }
    /* hv's greeting reaches every front-end first, before each test. */
    hv_says("{\"hvkit\": {\"protocol\": 1}}\n");
    for (int i = 0; i < 2; i++)
        ck_assert_str_eq(got(far[i]), "{\"hvkit\": {\"protocol\": 1}}\n");
}

static void teardown(void)
{
    /* Every test leaves nothing queued; the next greeting starts over. */
    ck_assert(!relay_busy());
    conn_free(hv);
    close(hv_far);
    for (int i = 0; i < 2; i++) {
        if (clients[i])
            conn_free(clients[i]);
        clients[i] = NULL;
        close(far[i]);
    }
}

START_TEST(one_request_at_a_time)
{
    client_writes(0, "{\"execute\": \"stop\", \"id\": \"a\"}\n");
    client_writes(1, "{\"execute\": \"cont\", \"id\": \"b\"}\n");
    /* Only the first is with hv, exactly as written. */
    ck_assert_str_eq(got(hv_far), "{\"execute\": \"stop\", \"id\": \"a\"}\n");
    reply_passes(0, "{\"return\": {}, \"id\": \"a\"}\n");
    ck_assert_str_eq(got(far[1]), "");
    relay_pump(hv);
    ck_assert_str_eq(got(hv_far), "{\"execute\": \"cont\", \"id\": \"b\"}\n");
    reply_passes(1, "{\"return\": {}, \"id\": \"b\"}\n");
    ck_assert(!relay_busy());
}
END_TEST

/* hv's id-less error to a line it could not read goes to the front-end
 * with that request's id: its own (any JSON value) when the manager can
 * read its copy, an integer salvaged from a line nobody can read. */
START_TEST(an_id_less_error_gets_the_request_id)
{
    request_passes(0, "{\"execute\": \"stop\", \"id\": [\"x\", 1]}\n");
    hv_says("{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error: x\"}}\n");
    ck_assert_str_eq(got(far[0]),
                     "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse "
                     "error: x\"}, \"id\": [\"x\", 1]}\n");
    client_writes(1, "{\"execute\": \"stop\", \"id\": 7, \"arguments\": {\"domain\": 0x1}}\n");
    got(hv_far);
    hv_says("{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error: y\"}}\n");
    ck_assert_str_eq(got(far[1]),
                     "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse "
                     "error: y\"}, \"id\": 7}\n");
    /* A request without an id gets its error without one, and a reply
     * that is not an error is passed on as hv wrote it. */
    hv_answers(0, "{\"execute\": \"stop\", @}\n",
               "{\"error\": {\"class\": \"GenericError\", \"desc\": \"z\"}}\n");
    hv_answers(0, "{\"execute\": \"stop\", \"id\": 8}\n", "{\"return\": {}}\n");
    ck_assert(!relay_busy());
}
END_TEST

START_TEST(half_lines_are_no_requests)
{
    client_writes(0, "{\"execute\": \"st");
    ck_assert_str_eq(got(hv_far), "");
    client_writes(0, "op\"}\r\n\n");
    /* Complete now: the '\r' and the empty line are not part of it. */
    ck_assert_str_eq(got(hv_far), "{\"execute\": \"stop\"}\n");
    hv_says("{\"return\": {}}\n");
    /* A front-end that ends in the middle of a line sent nothing. */
    client_writes(1, "{\"execute\": \"quit\"");
    shutdown(far[1], SHUT_WR);
    conn_read(clients[1], relay_client_line, relay_client_overlong);
    ck_assert(clients[1]->dead);
    relay_client_gone(clients[1]);
    relay_pump(hv);
    ck_assert_str_eq(got(hv_far), "");
    ck_assert(!relay_busy());
}
END_TEST

START_TEST(a_front_end_that_leaves)
{
    client_writes(0, "{\"execute\": \"x-read-memory\", \"id\": 1}\n");
    client_writes(0, "{\"execute\": \"stop\", \"id\": 2}\n");
    client_writes(1, "{\"execute\": \"query-status\", \"id\": 3}\n");
    /* Front-end 0 goes while its first request is with hv. */
    relay_client_gone(clients[0]);
    conn_free(clients[0]);
    clients[0] = NULL;
    ck_assert_str_eq(got(hv_far), "{\"execute\": \"x-read-memory\", \"id\": 1}\n");
    hv_says("{\"return\": {\"data\": \"00\"}, \"id\": 1}\n");
    /* Its second, complete, is carried out too; no reply reaches 1. */
    relay_pump(hv);
    ck_assert_str_eq(got(hv_far), "{\"execute\": \"stop\", \"id\": 2}\n");
    hv_says("{\"return\": {}, \"id\": 2}\n");
    ck_assert_str_eq(got(far[1]), "");
    relay_pump(hv);
    ck_assert_str_eq(got(hv_far), "{\"execute\": \"query-status\", \"id\": 3}\n");
    reply_passes(1, "{\"return\": {\"status\": \"paused\"}, \"id\": 3}\n");
}
END_TEST

START_TEST(events_to_all_with_a_timestamp)
{
    client_writes(0, "{\"execute\": \"stop\"}\n");
    /* An event before the reply is no reply. */
    hv_says("{\"event\": \"STOP\", \"data\": {\"domain\": 0}}\n");
    ck_assert(relay_busy());
    for (int i = 0; i < 2; i++) {
        const char *e = got(far[i]);
        static const char head[] = "{\"event\": \"STOP\", \"data\": {\"domain\": 0}, "
                                   "\"timestamp\": {\"seconds\": ";
        ck_assert_msg(!strncmp(e, head, sizeof(head) - 1) && strstr(e, ", \"microseconds\": ") &&
                          !strcmp(e + strlen(e) - 3, "}}\n"),
                      "%s", e);
    }
    reply_passes(0, "{\"return\": {}}\n");
}
END_TEST

START_TEST(hv_gone_answers_everyone_waiting)
{
    client_writes(0, "{\"execute\": \"stop\", \"id\": 5}\n");
    client_writes(1, "{\"execute\": \"cont\", \"id\": [6]}\n");
    relay_hv_gone();
    ck_assert_str_eq(got(far[0]), "{\"error\": {\"class\": \"GenericError\", \"desc\": \"hv ended "
                                  "before it answered (the outer machine has stopped)\"}, "
                                  "\"id\": 5}\n");
    ck_assert_str_eq(got(far[1]), "{\"error\": {\"class\": \"GenericError\", \"desc\": \"hv has "
                                  "ended: no request can be carried out\"}, \"id\": [6]}\n");
    client_writes(0, "{\"execute\": \"query-status\", \"id\": 7}\n");
    ck_assert_str_eq(got(far[0]), "{\"error\": {\"class\": \"GenericError\", \"desc\": \"hv has "
                                  "ended: no request can be carried out\"}, \"id\": 7}\n");
}
END_TEST

/* An hv that never answers (stuck, or its outer machine stopped): at the
 * time limit the front-end whose request hv has gets a Timeout error with
 * its id, the one queued behind it too, and that one never reaches hv;
 * hv's late reply goes nowhere, and the next request is served. */
START_TEST(hv_that_does_not_answer_times_out)
{
    long t0 = relay_now_ms();
    client_writes(0, "{\"execute\": \"stop\", \"id\": 1}\n");
    client_writes(1, "{\"execute\": \"cont\", \"id\": 2}\n");
    ck_assert_str_eq(got(hv_far), "{\"execute\": \"stop\", \"id\": 1}\n");
    /* Both requests were stamped between t0 and t1; a loaded machine may
     * put whole milliseconds between the two. */
    long t1 = relay_now_ms();
    /* Before the limit: nothing, and the next limit is the first's: its
     * stamp + 60 s - (t0 + 1 s), so 59 s plus the stamp's lateness. */
    long next = relay_expire(t0 + 1000, 60000);
    ck_assert(next >= 59000 && next <= 59000 + (t1 - t0));
    ck_assert_str_eq(got(far[0]), "");
    ck_assert_int_eq(relay_expire(t1 + 61000, 60000), -1);
    ck_assert_str_eq(got(far[0]), "{\"error\": {\"class\": \"Timeout\", \"desc\": \"hv has not "
                                  "answered within 60 s; it may still carry the request out\"}, "
                                  "\"id\": 1}\n");
    ck_assert_str_eq(got(far[1]), "{\"error\": {\"class\": \"Timeout\", \"desc\": \"hv has not "
                                  "answered an earlier request within 60 s; this one was not "
                                  "sent\"}, \"id\": 2}\n");
    hv_says("{\"return\": {}, \"id\": 1}\n");
    relay_pump(hv);
    ck_assert_str_eq(got(hv_far), "");
    ck_assert_str_eq(got(far[0]), "");
    request_passes(1, "{\"execute\": \"query-status\", \"id\": 3}\n");
    reply_passes(1, "{\"return\": {}, \"id\": 3}\n");
}
END_TEST

START_TEST(over_long_lines_are_refused_whole)
{
    static char big[CTL_LINE_MAX + 16];
    memset(big, 'x', sizeof(big) - 2);
    big[sizeof(big) - 2] = '\n';
    big[sizeof(big) - 1] = 0;
    /* Written in pieces the socket takes, read as they come. */
    for (size_t off = 0; off < sizeof(big) - 1;) {
        ssize_t n = write(far[0], big + off, sizeof(big) - 1 - off);
        if (n > 0)
            off += (size_t)n;
        conn_read(clients[0], relay_client_line, relay_client_overlong);
    }
    relay_pump(hv);
    ck_assert_str_eq(got(hv_far), "");
    ck_assert_str_eq(got(far[0]), "{\"error\": {\"class\": \"GenericError\", \"desc\": \"request "
                                  "longer than the limit of 65536 bytes\"}}\n");
    /* The next line is read as usual. */
    request_passes(0, "{\"execute\": \"cont\"}\n");
    hv_says("{\"return\": {}}\n");
}
END_TEST

/* Remove the test's directory `dir` and everything in it. */
static void remove_dir(const char *dir)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* A file `name` in `dir` holding `n` bytes of `c`; its path. */
static const char *file_of(const char *dir, const char *name, char c, size_t n)
{
    static char path[2][256];
    static int which;
    char *p = path[which++ & 1];
    char buf[8192];
    snprintf(p, 256, "%s/%s", dir, name);
    memset(buf, c, n);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, buf, n), (ssize_t)n);
    close(fd);
    return p;
}

START_TEST(domain_create_stages_the_kernel)
{
    char dir[] = "/tmp/hvmgr-test.XXXXXX", line[1024];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    const char *kernel = file_of(dir, "kernel", 'k', 11);
    /* No staging disk: the manager refuses, hv hears nothing. */
    snprintf(line, sizeof(line),
             "{\"execute\": \"domain-create\", \"arguments\": {\"kernel\": \"%s\"}, \"id\": 1}\n",
             kernel);
    answer_has(0, line, "has no staging disk");
    ck_assert_str_eq(got(hv_far), "");
    /* With one: the kernel at its start, the request told where. */
    const char *staging = file_of(dir, "staging", 0, 4096);
    snprintf(line, sizeof(line), "%s:2:4096", staging);
    ck_assert_int_eq(stage_option(line), 0);
    client_printf(0,
                  "{\"execute\": \"domain-create\", \"arguments\": {\"kernel\": \"%s\", \"name\": "
                  "\"a\"}, \"id\": 2}\n",
                  kernel);
    hv_got("{\"execute\": \"domain-create\", \"arguments\": {\"kernel\": \"%s\", \"name\": "
           "\"a\", \"disk\": 2, \"offset\": 0, \"length\": 11}, \"id\": 2}\n",
           kernel);
    char bytes[16] = {0};
    int fd = open(staging, O_RDONLY);
    ck_assert_int_eq(read(fd, bytes, 12), 12);
    close(fd);
    ck_assert_str_eq(bytes, "kkkkkkkkkkk");
    reply_passes(0, "{\"return\": {\"domain\": 1, \"name\": \"a\"}, \"id\": 2}\n");
    /* What the manager refuses: a relative path, a missing file, one too
     * big for the staging disk; each answered, the next request goes on. */
    answer_has(0, "{\"execute\": \"domain-create\", \"arguments\": {\"kernel\": \"k.elf\"}}\n",
               "give an absolute path");
    client_writes(
        0, "{\"execute\": \"domain-create\", \"arguments\": {\"kernel\": \"/nonexistent\"}}\n");
    ck_assert_ptr_nonnull(strstr(got(far[0]), "No such file or directory"));
    snprintf(line, sizeof(line),
             "{\"execute\": \"domain-create\", \"arguments\": {\"kernel\": \"%s\"}}\n",
             file_of(dir, "big", 'b', 5000));
    answer_has(0, line, "has 5000 bytes; the staging disk holds 4096");
    ck_assert_str_eq(got(hv_far), "");
    /* A request that places the image itself goes as it is. */
    request_passes(0, "{\"execute\": \"domain-create\", \"arguments\": {\"kernel\": \"/k\", "
                      "\"disk\": 0, \"length\": 9}}\n");
    hv_says("{\"return\": {\"domain\": 2, \"name\": \"d2\"}}\n");
    got(far[0]);
    remove_dir(dir);
}
END_TEST

/* Tell the manager its staging disk is `path`, disk `disk` of the outer
 * machine, with room for a save region of 4096 bytes. */
static void use_staging(const char *path, int disk)
{
    char opt[400];
    snprintf(opt, sizeof(opt), "%s:%d:%llu", path, disk, CTL_STAGE_SAVE_OFFSET + 4096);
    ck_assert_int_eq(stage_option(opt), 0);
}

/* A staging disk "staging" made in the new directory `dir` (a mkdtemp
 * template), its save region starting with the 10 bytes `head`, given to
 * the manager as disk `disk`; its path into `staging`. */
static void stage_with_save(char *dir, const char *head, int disk, char *staging, size_t len)
{
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(staging, len, "%s/staging", dir);
    int fd = open(staging, O_RDWR | O_CREAT, 0644);
    ck_assert_int_eq(ftruncate(fd, (off_t)CTL_STAGE_SAVE_OFFSET + 4096), 0);
    ck_assert_int_eq(pwrite(fd, head, 10, (off_t)CTL_STAGE_SAVE_OFFSET), 10);
    close(fd);
    use_staging(staging, disk);
}

/* The bytes of file dir/name, which must be `n` (at most 15) long. */
static const char *file_bytes(const char *dir, const char *name, ssize_t n)
{
    static char bytes[16];
    char path[300];
    memset(bytes, 0, sizeof(bytes));
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    int fd = open(path, O_RDONLY);
    ck_assert_int_eq(read(fd, bytes, sizeof(bytes)), n);
    close(fd);
    return bytes;
}

/* The names in directory `dir`, sorted, one per line. */
static const char *listing(const char *dir)
{
    static char out[1024];
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "ls -A %s", dir);
    FILE *f = popen(cmd, "r");
    size_t n = fread(out, 1, sizeof(out) - 1, f);
    out[n] = 0;
    pclose(f);
    return out;
}

/* domain-save: hv is told the save region and "pause"; once it has
 * answered, the region is in the file (renamed into place whole), the
 * manager destroys the domain itself and only then answers the front-end.
 * A refusal by hv and a copy that fails leave no file and no temporary
 * one; after the failed copy the domain runs on (cont).  domain-restore
 * copies the file into the save region. */
START_TEST(domain_save_writes_the_file_then_destroys)
{
    char dir[] = "/tmp/hvmgr-test.XXXXXX", line[1024], staging[300], gone[300];
    stage_with_save(dir, "HVKITVMS..", 2, staging, sizeof(staging));
    client_printf(0,
                  "{\"execute\": \"domain-save\", \"arguments\": {\"domain\": 1, \"file\": "
                  "\"%s/s.sav\"}, \"id\": 5}\n",
                  dir);
    hv_got("{\"execute\": \"domain-save\", \"arguments\": {\"domain\": 1, \"disk\": 2, "
           "\"offset\": %llu, \"after\": \"pause\"}, \"id\": 5}\n",
           CTL_STAGE_SAVE_OFFSET);
    hv_says("{\"return\": {\"size\": 10, \"status\": \"running\"}, \"id\": 5}\n");
    relay_pump(hv);
    ck_assert_str_eq(got(hv_far),
                     "{\"execute\": \"domain-destroy\", \"arguments\": {\"domain\": 1}}\n");
    ck_assert_str_eq(got(far[0]), "");
    hv_says("{\"return\": {}}\n");
    ck_assert_str_eq(got(far[0]),
                     "{\"return\": {\"size\": 10, \"status\": \"running\"}, \"id\": 5}\n");
    ck_assert_str_eq(listing(dir), "s.sav\nstaging\n");
    ck_assert_str_eq(file_bytes(dir, "s.sav", 10), "HVKITVMS..");
    /* hv refuses: its words, no file, no temporary file. */
    snprintf(line, sizeof(line),
             "{\"execute\": \"domain-save\", \"arguments\": {\"domain\": 3, \"file\": "
             "\"%s/t.sav\"}}\n",
             dir);
    hv_answers(0, line,
               "{\"error\": {\"class\": \"DeviceNotFound\", \"desc\": \"no domain 3\"}}\n");
    ck_assert_str_eq(listing(dir), "s.sav\nstaging\n");
    /* The copy fails (the staging disk is gone): an error, no file, and
     * the domain, which ran before, runs again. */
    snprintf(gone, sizeof(gone), "%s/gone", dir);
    use_staging(gone, 2);
    client_printf(0,
                  "{\"execute\": \"domain-save\", \"arguments\": {\"file\": \"%s/s.sav\"}, \"id\": "
                  "6}\n",
                  dir);
    got(hv_far);
    hv_says("{\"return\": {\"size\": 10, \"status\": \"running\"}, \"id\": 6}\n");
    relay_pump(hv);
    ck_assert_str_eq(got(hv_far), "{\"execute\": \"cont\", \"arguments\": {\"domain\": 0}}\n");
    hv_says("{\"return\": {}}\n");
    client_got(0,
               "{\"error\": {\"class\": \"GenericError\", \"desc\": \"file '%s/s.sav': No such "
               "file or directory (nothing was written)\"}, \"id\": 6}\n",
               dir);
    ck_assert_str_eq(listing(dir), "s.sav\nstaging\n");
    /* domain-restore: the file into the save region. */
    use_staging(staging, 2);
    file_of(dir, "r.sav", 'r', 7);
    client_printf(0, "{\"execute\": \"domain-restore\", \"arguments\": {\"file\": \"%s/r.sav\"}}\n",
                  dir);
    hv_got("{\"execute\": \"domain-restore\", \"arguments\": {\"disk\": 2, \"offset\": %llu, "
           "\"length\": 7}}\n",
           CTL_STAGE_SAVE_OFFSET);
    reply_passes(0, "{\"return\": {\"domain\": 1, \"name\": \"d1\"}}\n");
    char bytes[16] = {0};
    int fd = open(staging, O_RDONLY);
    ck_assert_int_eq(pread(fd, bytes, 8, (off_t)CTL_STAGE_SAVE_OFFSET), 8);
    close(fd);
    /* Seven bytes of it; the region's eighth is the earlier state's. */
    ck_assert_str_eq(bytes, "rrrrrrrS");
    remove_dir(dir);
}
END_TEST

/* x-commit (stage_commit.c): hv's first half answers where the backing
 * file's copy is and how long; the manager writes that much of the copy
 * over the user's file (its mode kept, no temporary file left) and sends
 * hv the front-end's request again with "written"; the front-end gets hv's
 * answer to that, with its id.  hv refusing the first half ends it there;
 * a front-end may not send "written" itself; a file that cannot be
 * replaced gets QEMU's strerror() words and hv "written": 0. */
START_TEST(commit_writes_the_base_back)
{
    char dir[] = "/tmp/hvmgr-test.XXXXXX", opt[600], path[300];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    file_of(dir, "copy", 'c', 8192);
    file_of(dir, "base.qcow2", 'b', 100);
    snprintf(path, sizeof(path), "%s/base.qcow2", dir);
    ck_assert_int_eq(chmod(path, 0640), 0);
    snprintf(opt, sizeof(opt), "1:%s/copy:%s", dir, path);
    ck_assert_int_eq(commit_option(opt), 0);
    ck_assert_int_eq(commit_option("9:x:y"), -1);
    const char *req = "{\"execute\": \"x-commit\", \"arguments\": {\"domain\": 0, "
                      "\"device\": \"virtio0\"}, \"id\": 7}\n";
    request_passes(0, req);
    hv_says("{\"return\": {\"disk\": 1, \"length\": 4096}, \"id\": 7}\n");
    relay_pump(hv);
    ck_assert_str_eq(got(hv_far), "{\"execute\": \"x-commit\", \"arguments\": {\"domain\": 0, "
                                  "\"device\": \"virtio0\", \"written\": 4096}, \"id\": 7}\n");
    ck_assert_str_eq(got(far[0]), "");
    reply_passes(0, "{\"return\": {}, \"id\": 7}\n");
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq((int)st.st_size, 4096);
    ck_assert_int_eq((int)(st.st_mode & 07777), 0640);
    ck_assert_str_eq(listing(dir), "base.qcow2\ncopy\n");
    /* hv refuses: its words, nothing follows. */
    hv_answers(0, req,
               "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Operation not "
               "supported\"}, \"id\": 7}\n");
    relay_pump(hv);
    ck_assert_str_eq(got(hv_far), "");
    /* "written" is the manager's. */
    client_writes(0, "{\"execute\": \"x-commit\", \"arguments\": {\"domain\": 0, "
                     "\"device\": \"virtio0\", \"written\": 5}}\n");
    ck_assert_str_eq(got(hv_far), "");
    ck_assert_ptr_nonnull(strstr(got(far[0]), "the manager's own argument"));
    /* The user's file's directory is gone: hv lets go without emptying. */
    snprintf(opt, sizeof(opt), "1:%s/copy:%s/gone/base.qcow2", dir, dir);
    ck_assert_int_eq(commit_option(opt), 0);
    client_writes(0, req);
    got(hv_far);
    hv_says("{\"return\": {\"disk\": 1, \"length\": 4096}, \"id\": 7}\n");
    relay_pump(hv);
    ck_assert_str_eq(got(hv_far), "{\"execute\": \"x-commit\", \"arguments\": {\"domain\": 0, "
                                  "\"device\": \"virtio0\", \"written\": 0}, \"id\": 7}\n");
    hv_says("{\"return\": {}, \"id\": 7}\n");
    ck_assert_str_eq(got(far[0]), "{\"error\": {\"class\": \"GenericError\", \"desc\": "
                                  "\"No such file or directory\"}, \"id\": 7}\n");
    remove_dir(dir);
}
END_TEST

/* The consoles (console.c): output kept per domain and replayed on
 * attach, one front-end per console unless --force, and typed bytes
 * offered to hv 16 at a time, the rest held back until the receiver has
 * room. */
START_TEST(consoles_attach_stream_and_type)
{
    ck_assert_int_eq(console_option("/dev/null"), 0);
    console_output("early\n[d1] one\npart", 19);
    client_writes(0, "{\"execute\": \"x-console-attach\", \"id\": 1}\n");
    ck_assert_str_eq(got(far[0]), "{\"return\": {}, \"id\": 1}\nearly\n");
    /* Taken: refused in so many words; another domain is free. */
    client_writes(1, "{\"execute\": \"x-console-attach\", \"arguments\": {\"domain\": 0}}\n");
    ck_assert_str_eq(got(far[1]),
                     "{\"error\": {\"class\": \"GenericError\", \"desc\": \"" CTL_CONSOLE_BUSY
                     "\"}}\n");
    client_writes(1, "{\"execute\": \"x-console-attach\", \"arguments\": {\"domain\": 9}}\n");
    ck_assert(strstr(got(far[1]), "InvalidParameter") != NULL);
    /* Output goes to the domain's own front-end, and not to hv. */
    console_output("ial\n", 4);
    ck_assert_str_eq(got(far[0]), "partial\n");
    ck_assert_str_eq(got(hv_far), "");
    /* Typed: 26 bytes, offered 16 at a time. */
    ck_assert_int_eq(write(far[0], "abcdefghijklmnopqrstuvwxyz", 26), 26);
    conn_read(clients[0], relay_client_line, relay_client_overlong);
    long now = relay_now_ms();
    ck_assert_int_eq(console_pump(now), -1);
    relay_pump(hv);
    ck_assert_str_eq(got(hv_far), "{\"execute\": \"x-console-write\", \"arguments\": {\"domain\": "
                                  "0, \"data\": \"6162636465666768696a6b6c6d6e6f70\"}}\n");
    /* The receiver took 10: the rest waits, then goes from 'k' on. */
    hv_says("{\"return\": {\"written\": 10}}\n");
    ck_assert_int_gt(console_pump(relay_now_ms()), 0);
    relay_pump(hv);
    ck_assert_str_eq(got(hv_far), "");
    console_pump(relay_now_ms() + 1000);
    relay_pump(hv);
    ck_assert_str_eq(got(hv_far), "{\"execute\": \"x-console-write\", \"arguments\": {\"domain\": "
                                  "0, \"data\": \"6b6c6d6e6f707172737475767778797a\"}}\n");
    hv_says("{\"return\": {\"written\": 16}}\n");
    ck_assert_int_eq(console_pump(relay_now_ms()), -1);
    relay_pump(hv);
    ck_assert_str_eq(got(hv_far), "");
    /* Nothing of that reached a front-end as a reply. */
    ck_assert_str_eq(got(far[0]), "");
    /* --force: the second front-end takes domain 0's console, the first
     * is let go. */
    client_writes(1, "{\"execute\": \"x-console-attach\", \"arguments\": {\"force\": true}}\n");
    ck_assert_str_eq(got(far[1]), "{\"return\": {}}\nearly\npartial\n");
    ck_assert(clients[0]->dead);
}
END_TEST

/* blockdev-change-medium: the medium into the media slot the drive is not
 * reading, the request told where; a change hv carried out makes its slot
 * the one in use, a refused one does not.  What the manager refuses in
 * QEMU's words (or its own) never reaches hv. */
START_TEST(change_medium_alternates_slots)
{
    char dir[] = "/tmp/hvmgr-test.XXXXXX", line[1024], want[1024], bytes[8] = {0};
    ck_assert_ptr_nonnull(mkdtemp(dir));
    /* file_of() keeps two names at a time: the staging disk's is copied. */
    char staging[256], a[256];
    snprintf(staging, sizeof(staging), "%s", file_of(dir, "staging", 0, 4096));
    snprintf(line, sizeof(line), "%s:1:%llu", staging, CTL_STAGE_BYTES);
    ck_assert_int_eq(stage_option(line), 0);
    snprintf(a, sizeof(a), "%s", file_of(dir, "a.iso", 'a', 3000));
    const char *b = file_of(dir, "b.iso", 'b', 5);
    const unsigned long long slot1 = CTL_STAGE_MEDIA_OFFSET + CTL_STAGE_MEDIA_SLOT;
    /* The first change: slot 0. */
    client_printf(0,
                  "{\"execute\": \"blockdev-change-medium\", \"arguments\": {\"device\": "
                  "\"ide1-cd0\", \"filename\": \"%s\"}, \"id\": 1}\n",
                  a);
    hv_got("{\"execute\": \"blockdev-change-medium\", \"arguments\": {\"device\": "
           "\"ide1-cd0\", \"filename\": \"%s\", \"disk\": 1, \"offset\": %llu, \"length\": "
           "3000}, \"id\": 1}\n",
           a, CTL_STAGE_MEDIA_OFFSET);
    reply_passes(0, "{\"return\": {}, \"id\": 1}\n");
    int fd = open(staging, O_RDONLY);
    ck_assert_int_eq(pread(fd, bytes, 4, (off_t)CTL_STAGE_MEDIA_OFFSET), 4);
    ck_assert_str_eq(bytes, "aaaa");
    /* The next goes beside it, into slot 1; hv refuses it (locked). */
    snprintf(line, sizeof(line),
             "{\"execute\": \"blockdev-change-medium\", \"arguments\": {\"device\": "
             "\"ide1-cd0\", \"filename\": \"%s\"}}\n",
             b);
    client_writes(0, line);
    ck_assert_ptr_nonnull(strstr(got(hv_far), "\"length\": 5}"));
    ck_assert_int_eq(pread(fd, bytes, 4, (off_t)slot1), 4);
    ck_assert_str_eq(bytes, "bbbb");
    hv_says("{\"error\": {\"class\": \"GenericError\", \"desc\": \"locked\"}}\n");
    got(far[0]);
    /* Slot 0 is still the drive's: the next change goes to slot 1 again. */
    client_writes(0, line);
    snprintf(want, sizeof(want), "\"offset\": %llu, \"length\": 5}", slot1);
    ck_assert_ptr_nonnull(strstr(got(hv_far), want));
    hv_says("{\"return\": {}}\n");
    got(far[0]);
    ck_assert_int_eq(pread(fd, bytes, 4, (off_t)CTL_STAGE_MEDIA_OFFSET), 4);
    ck_assert_str_eq(bytes, "aaaa");
    close(fd);
    /* Refusals: a relative path, a missing file, a qcow2 that is not one. */
    answer_has(0,
               "{\"execute\": \"blockdev-change-medium\", \"arguments\": {\"device\": "
               "\"ide1-cd0\", \"filename\": \"a.iso\"}}\n",
               "give an absolute path");
    answer_has(0,
               "{\"execute\": \"blockdev-change-medium\", \"arguments\": {\"device\": "
               "\"ide1-cd0\", \"filename\": \"/nonexistent.iso\"}}\n",
               "Could not open '/nonexistent.iso': No such file or directory");
    snprintf(line, sizeof(line),
             "{\"execute\": \"blockdev-change-medium\", \"arguments\": {\"device\": "
             "\"ide1-cd0\", \"filename\": \"%s\", \"format\": \"qcow2\"}}\n",
             a);
    answer_has(0, line, "Image is not in qcow2 format");
    ck_assert_str_eq(got(hv_far), "");
    remove_dir(dir);
}
END_TEST

/* The trailer of disk slot s of the staging disk at fd. */
static struct diskio_trailer slot_trailer(int fd, int s)
{
    unsigned char sector[DISKIO_SECTOR];
    struct diskio_trailer t;
    const char *why;
    off_t at = (off_t)(CTL_STAGE_DISK_OFFSET + (unsigned long long)(s + 1) * CTL_STAGE_DISK_SLOT -
                       DISKIO_SECTOR);
    ck_assert_int_eq(pread(fd, sector, sizeof(sector), at), (ssize_t)sizeof(sector));
    ck_assert_int_eq(diskio_trailer_decode(sector, CTL_STAGE_DISK_SLOT / DISKIO_SECTOR, &t, &why),
                     0);
    return t;
}

/* x-blockdev-attach: the file into the first free disk slot with its
 * trailer, the request in hv's form; what "hv" writes into the slot (a
 * byte, and a longer length in the trailer, as hv/disk/diskio.c grows a
 * file) goes back over the file at x-blockdev-detach, renamed into place,
 * and the slot reads as zeros again; a refused attach frees its slot; a
 * domain's end writes its disk back too; the manager's refusals never
 * reach hv. */
START_TEST(disks_go_into_a_slot_and_back)
{
    char dir[] = "/tmp/hvmgr-test.XXXXXX", line[1024], want[1024], staging[256], img[256];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(staging, sizeof(staging), "%s", file_of(dir, "staging", 0, 512));
    ck_assert_int_eq(truncate(staging, (off_t)CTL_STAGE_BYTES), 0);
    snprintf(line, sizeof(line), "%s:2:%llu", staging, CTL_STAGE_BYTES);
    ck_assert_int_eq(stage_option(line), 0);
    snprintf(img, sizeof(img), "%s", file_of(dir, "d.img", 'd', 4096));
    snprintf(line, sizeof(line),
             "{\"execute\": \"x-blockdev-attach\", \"arguments\": {\"device\": \"vdb\", "
             "\"filename\": \"%s\"}, \"id\": 7}\n",
             img);
    client_writes(0, line);
    hv_got("{\"execute\": \"x-blockdev-attach\", \"arguments\": {\"device\": \"vdb\", "
           "\"filename\": \"%s\", \"format\": \"raw\", \"disk\": 2, \"offset\": %llu}, "
           "\"id\": 7}\n",
           img, CTL_STAGE_DISK_OFFSET);
    int fd = open(staging, O_RDWR);
    char bytes[8] = {0};
    ck_assert_int_eq(pread(fd, bytes, 4, (off_t)CTL_STAGE_DISK_OFFSET), 4);
    ck_assert_str_eq(bytes, "dddd");
    struct diskio_trailer t = slot_trailer(fd, 0);
    ck_assert_uint_eq(t.length, 4096);
    ck_assert_uint_eq(t.limit, CTL_STAGE_DISK_SLOT - DISKIO_SECTOR);
    ck_assert_str_eq(t.name, img);
    reply_passes(0, "{\"return\": {\"device\": \"vdb\"}, \"id\": 7}\n");
    /* The manager's refusals: the same name, the same file. */
    answer_has(0, line, "Duplicate device ID 'vdb'");
    snprintf(line, sizeof(line),
             "{\"execute\": \"x-blockdev-attach\", \"arguments\": {\"device\": \"vdc\", "
             "\"filename\": \"%s\"}}\n",
             img);
    answer_has(0, line, "is attached already (as vdb of domain 0)");
    ck_assert_str_eq(got(hv_far), "");
    /* "hv" writes: a byte at 5000, past the old end, and the new length. */
    unsigned char sector[DISKIO_SECTOR];
    ck_assert_int_eq(pwrite(fd, "G", 1, (off_t)(CTL_STAGE_DISK_OFFSET + 5000)), 1);
    t.length = 8192;
    diskio_trailer_encode(&t, sector);
    ck_assert_int_eq(pwrite(fd, sector, sizeof(sector),
                            (off_t)(CTL_STAGE_DISK_OFFSET + CTL_STAGE_DISK_SLOT - DISKIO_SECTOR)),
                     (ssize_t)sizeof(sector));
    client_writes(0,
                  "{\"execute\": \"x-blockdev-detach\", \"arguments\": {\"device\": \"vdb\"}}\n");
    ck_assert_str_eq(
        got(hv_far),
        "{\"execute\": \"x-blockdev-detach\", \"arguments\": {\"device\": \"vdb\"}}\n");
    reply_passes(0, "{\"return\": {\"length\": 8192}}\n");
    int f = open(img, O_RDONLY);
    char back[8193];
    ck_assert_int_eq(read(f, back, sizeof(back)), 8192);
    close(f);
    ck_assert_int_eq(back[0], 'd');
    ck_assert_int_eq(back[4095], 'd');
    ck_assert_int_eq(back[4096], 0);
    ck_assert_int_eq(back[5000], 'G');
    ck_assert_int_eq(pread(fd, bytes, 4, (off_t)CTL_STAGE_DISK_OFFSET), 4);
    ck_assert_int_eq(bytes[0], 0);
    /* hv refuses the next attach: its slot is free again. */
    client_writes(0, line);
    ck_assert_ptr_nonnull(strstr(got(hv_far), "\"device\": \"vdc\""));
    hv_says("{\"error\": {\"class\": \"GenericError\", \"desc\": \"no\"}}\n");
    got(far[0]);
    client_writes(0, line);
    snprintf(want, sizeof(want), "\"offset\": %llu}", CTL_STAGE_DISK_OFFSET);
    ck_assert_ptr_nonnull(strstr(got(hv_far), want));
    hv_says("{\"return\": {}}\n");
    got(far[0]);
    /* Its domain ends: the disk goes back into its file. */
    ck_assert_int_eq(pwrite(fd, "E", 1, (off_t)CTL_STAGE_DISK_OFFSET), 1);
    hv_says("{\"event\": \"SHUTDOWN\", \"data\": {\"domain\": 0}}\n");
    got(far[0]);
    f = open(img, O_RDONLY);
    ck_assert_int_eq(read(f, back, 1), 1);
    close(f);
    ck_assert_int_eq(back[0], 'E');
    close(fd);
    disk_end();
    snprintf(line, sizeof(line), "ls -A %s | grep -c '^\\.' >/dev/null", dir);
    ck_assert_int_ne(system(line), 0);
    remove_dir(dir);
}
END_TEST

/* pmemsave and memsave: "filename" becomes the save region; once hv has
 * answered `{}`, the region's first "size" bytes are the file, renamed
 * into place whole.  hv's refusal and a copy that fails leave no file and
 * no temporary one; what the manager refuses (a relative path, a missing
 * directory) never reaches hv, in QEMU's words. */
START_TEST(pmemsave_writes_the_file)
{
    char dir[] = "/tmp/hvmgr-test.XXXXXX", line[1024], staging[300], gone[300];
    stage_with_save(dir, "guest RAM!", 1, staging, sizeof(staging));
    client_printf(0,
                  "{\"execute\": \"memsave\", \"arguments\": {\"val\": 4096, \"size\": 9, "
                  "\"filename\": \"%s/m.bin\", \"cpu-index\": 1}, \"id\": 7}\n",
                  dir);
    hv_got("{\"execute\": \"memsave\", \"arguments\": {\"val\": 4096, \"size\": 9, "
           "\"cpu-index\": 1, \"disk\": 1, \"offset\": %llu}, \"id\": 7}\n",
           CTL_STAGE_SAVE_OFFSET);
    /* The temporary file is there while hv works, the file is not. */
    ck_assert_ptr_nonnull(strstr(listing(dir), ".m.bin."));
    reply_passes(0, "{\"return\": {}, \"id\": 7}\n");
    ck_assert_str_eq(listing(dir), "m.bin\nstaging\n");
    ck_assert_str_eq(file_bytes(dir, "m.bin", 9), "guest RAM");
    /* hv refuses: its words pass on, no file. */
    snprintf(line, sizeof(line),
             "{\"execute\": \"memsave\", \"arguments\": {\"val\": 0, \"size\": 16, "
             "\"filename\": \"%s/bad.bin\"}}\n",
             dir);
    hv_answers(0, line,
               "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Invalid addr "
               "0x0000000000000000/size 16 specified\"}}\n");
    ck_assert_str_eq(listing(dir), "m.bin\nstaging\n");
    /* The manager's refusals: hv hears nothing. */
    answer_has(0,
               "{\"execute\": \"pmemsave\", \"arguments\": {\"val\": 0, \"size\": 1, "
               "\"filename\": \"x.bin\"}}\n",
               "Could not open 'x.bin': give an absolute path");
    client_printf(0,
                  "{\"execute\": \"pmemsave\", \"arguments\": {\"val\": 0, \"size\": 1, "
                  "\"filename\": \"%s/nodir/x.bin\"}}\n",
                  dir);
    client_got(0,
               "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Could not open "
               "'%s/nodir/x.bin': No such file or directory\"}}\n",
               dir);
    ck_assert_str_eq(got(hv_far), "");
    /* hv answers after the manager told the front-end it timed out: no
     * file appears then. */
    client_printf(0,
                  "{\"execute\": \"pmemsave\", \"arguments\": {\"val\": 0, \"size\": 4, "
                  "\"filename\": \"%s/late.bin\"}}\n",
                  dir);
    got(hv_far);
    relay_expire(relay_now_ms() + 2000, 1000);
    ck_assert_ptr_nonnull(strstr(got(far[0]), "Timeout"));
    hv_says("{\"return\": {}}\n");
    ck_assert_str_eq(got(far[0]), "");
    ck_assert_str_eq(listing(dir), "m.bin\nstaging\n");
    /* The copy fails (the staging disk is gone): QEMU's I/O error, and
     * the file that was there stays as it was. */
    snprintf(gone, sizeof(gone), "%s/gone", dir);
    use_staging(gone, 1);
    client_printf(0,
                  "{\"execute\": \"pmemsave\", \"arguments\": {\"val\": 0, \"size\": 4, "
                  "\"filename\": \"%s/m.bin\"}}\n",
                  dir);
    got(hv_far);
    hv_says("{\"return\": {}}\n");
    ck_assert_ptr_nonnull(strstr(got(far[0]), "An IO error has occurred"));
    ck_assert_str_eq(listing(dir), "m.bin\nstaging\n");
    remove_dir(dir);
}
END_TEST

/* A domain's end lets its front-end go, a moment later (its last lines
 * may still be on their way); a restart keeps it attached. */
START_TEST(a_console_ends_with_its_domain)
{
    got(far[0]);
    ck_assert_int_eq(console_option("/dev/null"), 0);
    client_writes(0, "{\"execute\": \"x-console-attach\", \"arguments\": {\"domain\": 1}}\n");
    ck_assert_str_eq(got(far[0]), "{\"return\": {}}\n");
    hv_says("{\"event\": \"SHUTDOWN\", \"data\": {\"domain\": 1, \"reason\": \"guest-reset\"}}\n");
    hv_says("{\"event\": \"RESET\", \"data\": {\"domain\": 1}}\n");
    console_pump(relay_now_ms() + 5000);
    ck_assert(!clients[0]->dead);
    /* No event line reaches an attached front-end: its bytes are the
     * console's. */
    console_output("[d1] last\n", 10);
    ck_assert_str_eq(got(far[0]), "last\n");
    hv_says(
        "{\"event\": \"SHUTDOWN\", \"data\": {\"domain\": 1, \"reason\": \"guest-shutdown\"}}\n");
    ck_assert_int_gt(console_pump(relay_now_ms()), 0);
    ck_assert(!clients[0]->dead);
    console_pump(relay_now_ms() + 5000);
    ck_assert(clients[0]->dead);
}
END_TEST

/* A quit hv does not answer (docs/control-protocol.md "When hv does not
 * answer"): due at the quit time limit, whether it is with hv or queued
 * behind a request hv has not answered; once the manager has ended the
 * machine, each quit gets hv's {"return": {}} and leaves the queue, and
 * the request hv had gets its error when COM2 closes. */
START_TEST(an_unanswered_quit_becomes_due)
{
    long t0 = relay_now_ms();
    ck_assert_int_eq(relay_quit_due(t0, 10000), -1);
    client_writes(1, "{\"execute\": \"stop\", \"id\": 4}\n");
    client_writes(0, "{\"execute\": \"quit\", \"id\": 1}\n");
    ck_assert_str_eq(got(hv_far), "{\"execute\": \"stop\", \"id\": 4}\n");
    /* The quit's clock started when it came, a little after t0. */
    long left = relay_quit_due(t0 + 1000, 10000);
    ck_assert(left > 8000 && left <= 9000 + (relay_now_ms() - t0));
    ck_assert_int_eq(relay_quit_due(t0 + 11000, 10000), 0);
    relay_quit_answered(NULL);
    ck_assert_str_eq(got(far[0]), "{\"return\": {}, \"id\": 1}\n");
    ck_assert_int_eq(relay_quit_due(t0 + 11000, 10000), -1);
    relay_hv_gone();
    ck_assert_str_eq(got(far[0]), "");
    ck_assert_str_eq(got(far[1]), "{\"error\": {\"class\": \"GenericError\", \"desc\": \"hv ended "
                                  "before it answered (the outer machine has stopped)\"}, "
                                  "\"id\": 4}\n");
}
END_TEST

/* A quit with hv, unanswered: answered once (here with the manager's
 * error, as when it could not end the machine), then no longer due. */
START_TEST(a_quit_with_hv_is_answered_once)
{
    long t0 = relay_now_ms();
    request_passes(0, "{\"execute\": \"quit\", \"id\": 2}\n");
    ck_assert_int_eq(relay_quit_due(t0 + 10000, 10000), 0);
    relay_quit_answered("not ended");
    ck_assert_str_eq(got(far[0]), "{\"error\": {\"class\": \"GenericError\", \"desc\": \"not "
                                  "ended\"}, \"id\": 2}\n");
    ck_assert_int_eq(relay_quit_due(t0 + 20000, 10000), -1);
    /* hv's late reply goes nowhere. */
    hv_says("{\"return\": {}, \"id\": 2}\n");
    ck_assert_str_eq(got(far[0]), "");
}
END_TEST

/* x-hv-status is the manager's own answer, at once, even while hv has a
 * request: whether hv answers, and the domains as its last query-domains
 * reply described them. */
START_TEST(hv_status_answers_without_hv)
{
    client_writes(0, "{\"execute\": \"x-hv-status\", \"id\": 1}\n");
    ck_assert_str_eq(got(hv_far), "");
    const char *a = got(far[0]);
    ck_assert_msg(strstr(a, "\"connected\": true, \"answering\": true, \"waiting-ms\": 0") &&
                      strstr(a, "\"domains\": []}, \"id\": 1}"),
                  "%s", a);
    request_passes(1, "{\"execute\": \"query-domains\", \"id\": 2}\n");
    hv_says("{\"return\": [{\"domain\": 0, \"state\": \"paused\"}], \"id\": 2}\n");
    got(far[1]);
    /* hv gets a request and does not answer it past the limit. */
    long t0 = relay_now_ms();
    client_writes(1, "{\"execute\": \"stop\", \"id\": 3}\n");
    relay_expire(t0 + 61000, 60000);
    client_writes(0, "{\"execute\": \"x-hv-status\", \"id\": 4}\n");
    a = got(far[0]);
    ck_assert_msg(strstr(a, "\"connected\": true, \"answering\": false") &&
                      strstr(a, "\"limit-ms\": 60000, \"domains\": [{\"domain\": 0, \"state\": "
                                "\"paused\"}], \"domains-age-ms\": "),
                  "%s", a);
    /* Once hv answers, it answers. */
    hv_says("{\"return\": {}, \"id\": 3}\n");
    client_writes(0, "{\"execute\": \"x-hv-status\", \"id\": 5}\n");
    ck_assert(strstr(got(far[0]), "\"answering\": true"));
}
END_TEST

/* A process connected to `addr` (a listening socket `lfd`), which then
 * waits for signals (ignoring SIGINT and SIGTERM when `stubborn`); its pid,
 * and the manager's accepted end of the connection in *fd. */
static pid_t peer_process(int lfd, const struct sockaddr *addr, socklen_t alen, bool stubborn,
                          int *fd)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        /* (Check's own handlers are inherited: an emulator has none.) */
        signal(SIGINT, stubborn ? SIG_IGN : SIG_DFL);
        signal(SIGTERM, stubborn ? SIG_IGN : SIG_DFL);
        int c = socket(addr->sa_family, SOCK_STREAM, 0);
        if (connect(c, addr, alen) < 0)
            _exit(3);
        for (;;)
            pause();
    }
    *fd = accept(lfd, NULL, NULL);
    ck_assert_int_ge(*fd, 0);
    return pid;
}

/* The outer machine is the peer of COM2, found on a Unix socket (QEMU's)
 * and on a loopback TCP port (Bochs's); a machine stopped with SIGSTOP
 * still ends, and one that ignores SIGINT and SIGTERM gets SIGKILL. */
START_TEST(the_machine_is_found_and_ended)
{
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    snprintf(un.sun_path, sizeof(un.sun_path), "/tmp/test_hvmgr_com2.%d", (int)getpid());
    unlink(un.sun_path);
    int lfd = socket(AF_UNIX, SOCK_STREAM, 0), fd, st;
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&un, sizeof(un)), 0);
    ck_assert_int_eq(listen(lfd, 1), 0);
    pid_t pid = peer_process(lfd, (struct sockaddr *)&un, sizeof(un), false, &fd);
    machine_found(fd);
    ck_assert_int_eq(machine_pid(), pid);
    kill(pid, SIGSTOP);
    ck_assert(machine_end(relay_now_ms(), "test"));
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGINT);
    ck_assert_int_eq(machine_pump(relay_now_ms()), -1);
    close(fd), close(lfd), unlink(un.sun_path);

    struct sockaddr_in in = {.sin_family = AF_INET};
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(in);
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&in, sizeof(in)), 0);
    ck_assert_int_eq(listen(lfd, 1), 0);
    getsockname(lfd, (struct sockaddr *)&in, &len);
    pid = peer_process(lfd, (struct sockaddr *)&in, sizeof(in), true, &fd);
    machine_found(fd);
    ck_assert_int_eq(machine_pid(), pid);
    long t0 = relay_now_ms();
    ck_assert(machine_end(t0, "test"));
    ck_assert(machine_pump(t0) > 0);
    usleep(200000);
    ck_assert_int_eq(waitpid(pid, &st, WNOHANG), 0);
    ck_assert_int_eq(machine_pump(t0 + 5000), -1);
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    close(fd), close(lfd);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hvmgr");
    TCase *tc = tcase_create("relay");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, one_request_at_a_time);
    tcase_add_test(tc, an_id_less_error_gets_the_request_id);
    tcase_add_test(tc, half_lines_are_no_requests);
    tcase_add_test(tc, a_front_end_that_leaves);
    tcase_add_test(tc, events_to_all_with_a_timestamp);
    tcase_add_test(tc, hv_gone_answers_everyone_waiting);
    tcase_add_test(tc, hv_that_does_not_answer_times_out);
    tcase_add_test(tc, domain_save_writes_the_file_then_destroys);
    tcase_add_test(tc, pmemsave_writes_the_file);
    tcase_add_test(tc, over_long_lines_are_refused_whole);
    tcase_add_test(tc, domain_create_stages_the_kernel);
    tcase_add_test(tc, consoles_attach_stream_and_type);
    tcase_add_test(tc, a_console_ends_with_its_domain);
    tcase_add_test(tc, change_medium_alternates_slots);
    tcase_add_test(tc, commit_writes_the_base_back);
    tcase_add_test(tc, disks_go_into_a_slot_and_back);
    tcase_add_test(tc, an_unanswered_quit_becomes_due);
    tcase_add_test(tc, a_quit_with_hv_is_answered_once);
    tcase_add_test(tc, hv_status_answers_without_hv);
    tcase_add_test(tc, the_machine_is_found_and_ended);
    suite_add_tcase(s, tc);
    return check_main(s);
}
