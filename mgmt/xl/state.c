/*
 * state.c: xl's records of the domains it started (xl.h), one small text
 * file per domain next to its control socket and its console log:
 *
 *   name=web1
 *   domid=3
 *   pid=12345
 *   start=1767000000
 *   config=/home/student/web1.cfg
 */
#include "xl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "../common/statedir.h"

static char dir[PATH_MAX - 64];
static int lock_fd = -1;

bool xl_state_open(void)
{
    char state[PATH_MAX - 128], lock[PATH_MAX];
    if (!statedir_find(state, sizeof(state))) {
        fprintf(stderr, "xl: the state directory's path is too long (HVKIT_STATE_DIR)\n");
        return false;
    }
    snprintf(dir, sizeof(dir), "%s/xl", state);
    if (!make_dirs(dir)) {
        fprintf(stderr, "xl: cannot create '%s': %s\n", dir, strerror(errno));
        return false;
    }
    /* One xl command at a time changes the records: the lock is held
     * until the process ends. */
    snprintf(lock, sizeof(lock), "%s/lock", dir);
    int fd = lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || flock(fd, LOCK_EX)) {
        fprintf(stderr, "xl: cannot lock '%s': %s\n", lock, strerror(errno));
        return false;
    }
    return true;
}

void xl_state_unlock(void)
{
    flock(lock_fd, LOCK_UN);
}

void xl_path(char *out, size_t len, const char *name, const char *suffix)
{
    /* Names are at most 63 characters and the directory leaves room for
     * them; a path that still does not fit is left empty. */
    if (snprintf(out, len, "%s/%s%s", dir, name, suffix) >= (int)len)
        out[0] = 0;
}

static bool load(const char *path, struct xldomrec *r)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char line[PATH_MAX + 16];
    int have = 0;
    *r = (struct xldomrec){0};
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = 0;
        char *v = strchr(line, '=');
        if (!v)
            continue;
        *v++ = 0;
        if (!strcmp(line, "name"))
            have |= 1, snprintf(r->name, sizeof(r->name), "%s", v);
        else if (!strcmp(line, "domid"))
            have |= 2, r->domid = atoi(v);
        else if (!strcmp(line, "pid"))
            have |= 4, r->pid = (pid_t)atol(v);
        else if (!strcmp(line, "start"))
            r->start = atol(v);
        else if (!strcmp(line, "config"))
            snprintf(r->config, sizeof(r->config), "%s", v);
    }
    fclose(f);
    return have == 7;
}

bool xl_save(const struct xldomrec *r)
{
    char path[PATH_MAX], tmp[PATH_MAX + 8];
    xl_path(path, sizeof(path), r->name, "");
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "xl: cannot write '%s': %s\n", tmp, strerror(errno));
        return false;
    }
    fprintf(f, "name=%s\ndomid=%d\npid=%ld\nstart=%ld\nconfig=%s\n", r->name, r->domid,
            (long)r->pid, r->start, r->config);
    /* Written whole, then renamed: a reader never sees half a record. */
    if (fclose(f) || rename(tmp, path)) {
        fprintf(stderr, "xl: cannot write '%s': %s\n", path, strerror(errno));
        unlink(tmp);
        return false;
    }
    return true;
}

void xl_forget(const struct xldomrec *r)
{
    static const char *const suffixes[] = {"", ".sock", ".log"};
    char path[PATH_MAX];
    for (int i = 0; i < 3; i++) {
        xl_path(path, sizeof(path), r->name, suffixes[i]);
        unlink(path);
    }
}

static int by_domid(const void *a, const void *b)
{
    return ((const struct xldomrec *)a)->domid - ((const struct xldomrec *)b)->domid;
}

int xl_domains(struct xldomrec *out, int max)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && n < max && (e = readdir(d))) {
        /* Records are the files without a dot: not lock, x.sock, x.log. */
        char path[PATH_MAX];
        if (strchr(e->d_name, '.') || !strcmp(e->d_name, "lock") ||
            !strcmp(e->d_name, "next-domid"))
            continue;
        xl_path(path, sizeof(path), e->d_name, "");
        if (!load(path, &out[n]))
            continue;
        if (kill(out[n].pid, 0) < 0 && errno == ESRCH) {
            xl_forget(&out[n]);
            continue;
        }
        n++;
    }
    if (d)
        closedir(d);
    qsort(out, (size_t)n, sizeof(*out), by_domid);
    return n;
}

bool xl_find(const char *arg, struct xldomrec *out)
{
    static struct xldomrec all[256];
    int n = xl_domains(all, 256);
    char *end;
    long id = strtol(arg, &end, 10);
    bool numeric = *arg && !*end;
    for (int i = 0; i < n; i++)
        if ((numeric && all[i].domid == id) || !strcmp(all[i].name, arg)) {
            *out = all[i];
            return true;
        }
    /* xl's words (libxl's ERROR_INVAL is -6). */
    fprintf(stderr, "%s is an invalid domain identifier (rc=-6)\n", arg);
    return false;
}

int xl_next_domid(void)
{
    char path[PATH_MAX];
    xl_path(path, sizeof(path), "next-domid", "");
    FILE *f = fopen(path, "r");
    int id = 1;
    if (f) {
        if (fscanf(f, "%d", &id) != 1 || id < 1)
            id = 1;
        fclose(f);
    }
    f = fopen(path, "w");
    if (f) {
        fprintf(f, "%d\n", id + 1);
        fclose(f);
    }
    return id;
}

bool xl_connect(const struct xldomrec *r, struct ctlc *c, int ms)
{
    char sock[PATH_MAX], why[256];
    xl_path(sock, sizeof(sock), r->name, ".sock");
    if (ctlc_open(c, sock, ms, why, sizeof(why)) < 0) {
        fprintf(stderr, "xl: domain %d (%s): %s\n", r->domid, r->name, why);
        return false;
    }
    return true;
}

bool xl_simple(const struct xldomrec *r, const char *execute)
{
    static struct ctlc c;
    char why[512];
    int ret;
    if (!xl_connect(r, &c, 10000))
        return false;
    /* quit acts on the whole machine and takes no domain. */
    const char *args = strcmp(execute, CTL_CMD_QUIT) ? "{\"domain\": 0}" : NULL;
    int rc = ctlc_call(&c, execute, args, 60000, &ret, why, sizeof(why));
    ctlc_close(&c);
    if (rc != 0) {
        fprintf(stderr, "libxl: error: domain %d: %s: %s\n", r->domid, execute, why);
        return false;
    }
    return true;
}

bool xl_wait_gone(const struct xldomrec *r, int ms)
{
    for (int t = 0; t < ms; t += 100) {
        if (kill(r->pid, 0) < 0 && errno == ESRCH)
            return true;
        nanosleep(&(struct timespec){0, 100000000}, NULL);
    }
    return false;
}
