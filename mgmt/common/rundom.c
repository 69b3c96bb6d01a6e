/*
 * The running domains' registry (rundom.h): records, lookup, domain ids,
 * and starting a machine.
 */
#include "rundom.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "statedir.h"

/* How long a machine sent SIGTERM has to end before SIGKILL. */
#define RUNDOM_TERM_GRACE_MS 60000

static char dir[PATH_MAX - 64];
static int lock_fd = -1;

bool rundom_open(const char *prog)
{
    char state[PATH_MAX - 128], lock[PATH_MAX];
    if (!statedir_find(state, sizeof(state))) {
        fprintf(stderr, "%s: the state directory's path is too long (HVKIT_STATE_DIR)\n", prog);
        return false;
    }
    snprintf(dir, sizeof(dir), "%s/running", state);
    if (!make_dirs(dir)) {
        fprintf(stderr, "%s: cannot create '%s': %s\n", prog, dir, strerror(errno));
        return false;
    }
    /* One front-end at a time changes the records: the lock is held until
     * the process ends (or a long wait gives it up). */
    snprintf(lock, sizeof(lock), "%s/lock", dir);
    int fd = lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || flock(fd, LOCK_EX)) {
        fprintf(stderr, "%s: cannot lock '%s': %s\n", prog, lock, strerror(errno));
        return false;
    }
    return true;
}

void rundom_unlock(void)
{
    flock(lock_fd, LOCK_UN);
}

void rundom_path(char *out, size_t len, const char *name, const char *suffix)
{
    /* Names are at most 63 characters and the directory leaves room for
     * them; a path that still does not fit is left empty. */
    if (snprintf(out, len, "%s/%s%s", dir, name, suffix) >= (int)len)
        out[0] = 0;
}

/* One KEY=VALUE line of a record into `r`; which required key it was. */
static int load_line(char *line, struct rundom *r)
{
    char *v = strchr(line, '=');
    if (!v)
        return 0;
    *v++ = 0;
    if (!strcmp(line, "name"))
        return snprintf(r->name, sizeof(r->name), "%s", v), 1;
    if (!strcmp(line, "domid"))
        return r->domid = atoi(v), 2;
    if (!strcmp(line, "pid"))
        return r->pid = (pid_t)atol(v), 4;
    if (!strcmp(line, "start"))
        r->start = atol(v);
    else if (!strcmp(line, "uuid"))
        snprintf(r->uuid, sizeof(r->uuid), "%s", v);
    else if (!strcmp(line, "tool"))
        snprintf(r->tool, sizeof(r->tool), "%s", v);
    else if (!strcmp(line, "config"))
        snprintf(r->config, sizeof(r->config), "%s", v);
    else if (!strcmp(line, "maxmem"))
        r->maxmem_kib = atol(v);
    else if (!strcmp(line, "dmesg"))
        r->dmesg_off = atol(v);
    else if (!strncmp(line, "affinity", 8)) {
        int i = atoi(line + 8);
        if (i >= 0 && i < RUNDOM_VCPUS)
            snprintf(r->affinity[i], sizeof(r->affinity[i]), "%s", v);
    }
    return 0;
}

static bool load(const char *path, struct rundom *r)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char line[PATH_MAX + 16];
    int have = 0;
    *r = (struct rundom){0};
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = 0;
        have |= load_line(line, r);
    }
    fclose(f);
    return have == 7;
}

bool rundom_save(const struct rundom *r)
{
    char path[PATH_MAX], tmp[PATH_MAX + 8];
    rundom_path(path, sizeof(path), r->name, "");
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "cannot write '%s': %s\n", tmp, strerror(errno));
        return false;
    }
    fprintf(f, "name=%s\ndomid=%d\npid=%ld\nstart=%ld\nuuid=%s\ntool=%s\nconfig=%s\n", r->name,
            r->domid, (long)r->pid, r->start, r->uuid, r->tool, r->config);
    if (r->maxmem_kib)
        fprintf(f, "maxmem=%ld\n", r->maxmem_kib);
    if (r->dmesg_off)
        fprintf(f, "dmesg=%ld\n", r->dmesg_off);
    for (int i = 0; i < RUNDOM_VCPUS; i++)
        if (r->affinity[i][0])
            fprintf(f, "affinity%d=%s\n", i, r->affinity[i]);
    /* Written whole, then renamed: a reader never sees half a record. */
    if (fclose(f) || rename(tmp, path)) {
        fprintf(stderr, "cannot write '%s': %s\n", path, strerror(errno));
        unlink(tmp);
        return false;
    }
    return true;
}

const char *const rundom_suffixes[] = {".sock", ".log", ".cfg", NULL};

void rundom_forget(const struct rundom *r)
{
    char path[PATH_MAX];
    rundom_path(path, sizeof(path), r->name, "");
    unlink(path);
    for (int i = 0; rundom_suffixes[i]; i++) {
        rundom_path(path, sizeof(path), r->name, rundom_suffixes[i]);
        unlink(path);
    }
}

bool rundom_rename(struct rundom *r, const char *name)
{
    struct rundom n = *r;
    snprintf(n.name, sizeof(n.name), "%s", name);
    /* The new record first, then the socket and the log, then the old
     * record goes: a listing in between sees the domain under one name or
     * the other, never none (the manager keeps its socket open by fd). */
    if (!rundom_save(&n))
        return false;
    char from[PATH_MAX], to[PATH_MAX];
    for (int i = 0; rundom_suffixes[i]; i++) {
        rundom_path(from, sizeof(from), r->name, rundom_suffixes[i]);
        rundom_path(to, sizeof(to), name, rundom_suffixes[i]);
        rename(from, to);
    }
    rundom_path(from, sizeof(from), r->name, "");
    unlink(from);
    *r = n;
    return true;
}

static int by_domid(const void *a, const void *b)
{
    return ((const struct rundom *)a)->domid - ((const struct rundom *)b)->domid;
}

int rundom_list(struct rundom *out, int max)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && n < max && (e = readdir(d))) {
        /* Records are the files without a dot: not x.sock, x.log. */
        char path[PATH_MAX];
        if (strchr(e->d_name, '.') || !strcmp(e->d_name, "lock") ||
            !strcmp(e->d_name, "next-domid"))
            continue;
        rundom_path(path, sizeof(path), e->d_name, "");
        if (!load(path, &out[n]))
            continue;
        if (kill(out[n].pid, 0) < 0 && errno == ESRCH) {
            rundom_forget(&out[n]);
            continue;
        }
        n++;
    }
    if (d)
        closedir(d);
    qsort(out, (size_t)n, sizeof(*out), by_domid);
    return n;
}

bool rundom_find(const char *arg, struct rundom *out)
{
    static struct rundom all[RUNDOM_MAX];
    int n = rundom_list(all, RUNDOM_MAX);
    char *end;
    long id = strtol(arg, &end, 10);
    bool numeric = *arg && !*end;
    for (int i = 0; i < n; i++)
        if ((numeric && all[i].domid == id) || !strcmp(all[i].name, arg)) {
            *out = all[i];
            return true;
        }
    return false;
}

int rundom_next_domid(void)
{
    char path[PATH_MAX];
    rundom_path(path, sizeof(path), "next-domid", "");
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

int rundom_connect(const struct rundom *r, struct ctlc *c, int ms, char *why, size_t whylen)
{
    char sock[PATH_MAX];
    rundom_path(sock, sizeof(sock), r->name, ".sock");
    return ctlc_open(c, sock, ms, why, whylen);
}

int rundom_cd_medium(const struct rundom *r, char *file, size_t len)
{
    static struct ctlc c;
    char why[256];
    int ret, rc = -1;
    if (rundom_connect(r, &c, 5000, why, sizeof(why)) < 0)
        return -1;
    if (ctlc_call(&c, CTL_CMD_QUERY_BLOCK, "{\"domain\": 0}", 10000, &ret, why, sizeof(why)) == 0)
        for (int e = json_first(&c.doc, ret); e >= 0; e = json_after(&c.doc, ret, e)) {
            bool in = false;
            if (!json_str_eq(&c.doc, json_get(&c.doc, e, "device"), "ide1-cd0"))
                continue;
            json_bool(&c.doc, json_get(&c.doc, e, "inserted"), &in);
            file[0] = '\0';
            if (in)
                json_str_copy(&c.doc, json_get(&c.doc, e, "file"), file, len);
            /* A medium hv has no name for is one no front-end can name. */
            rc = !in ? 0 : file[0] ? 1 : -1;
            break;
        }
    ctlc_close(&c);
    return rc;
}

bool rundom_wait_gone(const struct rundom *r, int ms)
{
    for (int t = 0;; t += 100) {
        /* A machine this process started stays a zombie, which kill()
         * still finds, until it is waited for: reap it (for anyone
         * else's machine waitpid fails and changes nothing). */
        if (waitpid(r->pid, NULL, WNOHANG) == r->pid || (kill(r->pid, 0) < 0 && errno == ESRCH))
            return true;
        if (t >= ms)
            return false;
        nanosleep(&(struct timespec){0, 100000000}, NULL);
    }
}

/* ---- Starting a machine ---- */

/* The `bin/hvrun` arguments for `s`; `argv` has room for 40. */
/* Can hv take `name` as its name= (letters, digits, "-_.", not starting
 * with a digit, at most 63 bytes)? */
static bool hv_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (!n || n > 63 || (name[0] >= '0' && name[0] <= '9'))
        return false;
    return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == n;
}

static void hvrun_args(const struct rundom_spec *s, const char *name, const char *sock, char **argv,
                       char store[][1100])
{
    int n = 0, k = 0;
    argv[n++] = "hvrun";
    argv[n++] = "--control";
    argv[n++] = (char *)sock;
    /* The machine runs until it is destroyed, as a Xen domain does. */
    argv[n++] = "--timeout";
    argv[n++] = "31536000";
    argv[n++] = "-kernel";
    argv[n++] = (char *)s->kernel;
    if (s->cmdline && s->cmdline[0]) {
        argv[n++] = "-append";
        argv[n++] = (char *)s->cmdline;
    }
    bool ballooned = s->maxmem_mib > s->memory_mib;
    snprintf(store[k], 1100, "%ldM", ballooned ? s->maxmem_mib : s->memory_mib);
    argv[n++] = "-m";
    argv[n++] = store[k++];
    if (ballooned) {
        snprintf(store[k], 1100, "%ldM", s->memory_mib);
        argv[n++] = "--balloon";
        argv[n++] = store[k++];
    }
    int vcpus = s->vcpus > 1 ? s->vcpus : 1;
    if (s->maxvcpus > vcpus) {
        snprintf(store[k], 1100, "%d,maxcpus=%d", vcpus, s->maxvcpus);
        argv[n++] = "-smp";
        argv[n++] = store[k++];
    } else if (vcpus > 1) {
        snprintf(store[k], 1100, "%d", vcpus);
        argv[n++] = "-smp";
        argv[n++] = store[k++];
    }
    const char *const opt[] = {"--on-poweroff", "--on-reboot", "--on-crash"};
    const char *const val[] = {s->on_poweroff, s->on_reboot, s->on_crash};
    for (int i = 0; i < 3; i++)
        if (val[i]) {
            argv[n++] = (char *)opt[i];
            argv[n++] = (char *)val[i];
        }
    /* Its name in hv too (QEMU's -name), which a save file carries, when
     * hv takes it. */
    if (hv_name_ok(name)) {
        argv[n++] = "-name";
        argv[n++] = (char *)name;
    }
    /* Paused (QEMU's -S), for a saved state to be restored into it. */
    if (s->start_paused)
        argv[n++] = "-S";
    for (int i = 0; i < s->ndisks && i < 3; i++) {
        const struct rundom_disk *x = &s->disk[i];
        if (x->cdrom && x->file && x->file[0])
            snprintf(store[k], 1100, "file=%s,media=cdrom", x->file);
        else if (x->cdrom)
            snprintf(store[k], 1100, "if=ide,media=cdrom");
        else
            snprintf(store[k], 1100, "file=%s,format=%s%s", x->file, x->format,
                     x->readonly ? ",readonly=on" : "");
        argv[n++] = "-drive";
        argv[n++] = store[k++];
    }
    argv[n] = NULL;
}

/* Start the machine; its pid, or -1. */
static pid_t spawn(const struct rundom_spec *s, const char *name, const char *sock, const char *log)
{
    char *argv[40], store[8][1100], hvrun[PATH_MAX];
    const char *top = getenv("HVKIT_TOP");
    snprintf(hvrun, sizeof(hvrun), "%s/bin/hvrun", top ? top : ".");
    hvrun_args(s, name, sock, argv, store);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    /* The child: a process group of its own (a destroy ends the whole
     * machine: hvrun, the emulator, the manager), no terminal. */
    setsid();
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int nul = open("/dev/null", O_RDONLY);
    if (fd < 0 || nul < 0)
        _exit(125);
    dup2(nul, 0), dup2(fd, 1), dup2(fd, 2);
    execv(hvrun, argv);
    fprintf(stderr, "cannot run %s: %s\n", hvrun, strerror(errno));
    _exit(125);
}

/* Wait for the manager's greeting while the machine lives. */
static bool await_manager(const struct rundom *r, const char *sock)
{
    static struct ctlc c;
    char why[256];
    for (int t = 0; t < 1800; t++) {
        int st;
        if (waitpid(r->pid, &st, WNOHANG) == r->pid)
            return false;
        if (access(sock, F_OK) == 0 && ctlc_open(&c, sock, 10000, why, sizeof(why)) == 0) {
            ctlc_close(&c);
            return true;
        }
        nanosleep(&(struct timespec){0, 100000000}, NULL);
    }
    return false;
}

static void show_log(const char *log)
{
    FILE *f = fopen(log, "r");
    char line[1024];
    while (f && fgets(line, sizeof(line), f))
        fputs(line, stderr);
    if (f)
        fclose(f);
}

int rundom_start(const struct rundom_spec *s, struct rundom *r)
{
    char sock[PATH_MAX], log[PATH_MAX];
    rundom_path(sock, sizeof(sock), r->name, ".sock");
    rundom_path(log, sizeof(log), r->name, ".log");
    r->start = (long)time(NULL);
    r->pid = spawn(s, r->name, sock, log);
    if (r->pid < 0)
        return -1;
    if (!rundom_save(r)) {
        kill(-r->pid, SIGKILL);
        waitpid(r->pid, NULL, 0);
        return -1;
    }
    if (!await_manager(r, sock)) {
        show_log(log);
        kill(-r->pid, SIGKILL);
        waitpid(r->pid, NULL, 0);
        rundom_forget(r);
        return -2;
    }
    return 0;
}

void rundom_end(const struct rundom *r)
{
    static struct ctlc c;
    char why[256];
    int ret;
    /* quit ends hv and with it the machine; a machine that does not
     * answer is ended by signal, so the end always comes. */
    if (rundom_connect(r, &c, 10000, why, sizeof(why)) == 0) {
        ctlc_call(&c, CTL_CMD_QUIT, NULL, 30000, &ret, why, sizeof(why));
        ctlc_close(&c);
    }
    if (!rundom_wait_gone(r, 30000)) {
        /* SIGTERM is bin/hvrun's orderly end: its EXIT trap waits for the
         * manager (which finishes copying a disk it is writing back),
         * detaches the outer machine's disks and removes its temporary
         * directory, which on a loaded host takes more than a few
         * seconds.  SIGKILL, which would cut that short and leave the
         * directory behind, is for a machine that does not end at all. */
        kill(-r->pid, SIGTERM);
        if (!rundom_wait_gone(r, RUNDOM_TERM_GRACE_MS))
            kill(-r->pid, SIGKILL);
    }
    rundom_forget(r);
}
