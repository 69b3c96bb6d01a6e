/*
 * machine.c - the outer machine as a process (docs/control-protocol.md
 * "When hv does not answer"): which process it is, and ending it when hv
 * does not answer a `quit`.
 *
 * The manager never starts the emulator (bin/hvrun does, after the
 * manager listens), but the emulator is the one process at the other end
 * of COM2: QEMU connects to the manager's Unix socket, Bochs to its
 * loopback TCP port.  So the manager learns its process id from that
 * connection, when it accepts it: from the kernel's credentials of a Unix
 * socket's peer (SO_PEERCRED, unix(7)), or, for TCP, by finding which
 * process holds the other end of the loopback connection
 * (/proc/net/tcp's socket inode, then /proc/PID/fd, proc(5)).
 *
 * Ending it is what bin/hvrun does on ^C (bin/hvrun.d/common.sh): SIGINT
 * and SIGTERM, which QEMU takes as a request to quit (it closes its
 * disks) and Bochs as its debugger's quit, with SIGCONT after them so
 * that an emulator stopped with SIGSTOP wakes to take them; SIGKILL a
 * moment later for one that does not end.  hvrun then sees its emulator
 * gone and cleans up as after any end, and the manager sees COM2 close.
 */
#define _GNU_SOURCE /* struct ucred */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hvmgr.h"

/* How long the emulator may take to end after SIGTERM before SIGKILL. */
#define KILL_GRACE_MS 3000

static struct {
    pid_t pid;        /* the emulator, 0 while unknown */
    long kill_at;     /* when SIGKILL is due, -1: not ending */
    const char *note; /* --ended FILE: written when the manager ends it */
} machine = {.kill_at = -1};

/* The inode of the loopback TCP socket whose local port is `port` and
 * whose peer's port is `peer` (/proc/net/tcp), or 0. */
static unsigned long tcp_inode(unsigned port, unsigned peer)
{
    FILE *f = fopen("/proc/net/tcp", "r");
    char line[512];
    unsigned long inode = 0;
    while (f && !inode && fgets(line, sizeof(line), f)) {
        unsigned lp, rp;
        unsigned long ino;
        /* "sl: local rem st tx:rx tr:when retrnsmt uid timeout inode" */
        if (sscanf(line, " %*d: %*x:%x %*x:%x %*x %*x:%*x %*x:%*x %*x %*u %*u %lu", &lp, &rp,
                   &ino) == 3 &&
            lp == port && rp == peer)
            inode = ino;
    }
    if (f)
        fclose(f);
    return inode;
}

/* The process with a descriptor on socket `inode`, or 0. */
static pid_t socket_owner(unsigned long inode)
{
    char want[64], path[600], link[64];
    snprintf(want, sizeof(want), "socket:[%lu]", inode);
    DIR *procs = opendir("/proc");
    struct dirent *p;
    pid_t found = 0;
    while (procs && !found && (p = readdir(procs))) {
        if (p->d_name[0] < '1' || p->d_name[0] > '9' || atol(p->d_name) == getpid())
            continue;
        snprintf(path, sizeof(path), "/proc/%s/fd", p->d_name);
        DIR *fds = opendir(path);
        struct dirent *e;
        while (fds && !found && (e = readdir(fds))) {
            snprintf(path, sizeof(path), "/proc/%s/fd/%s", p->d_name, e->d_name);
            ssize_t n = readlink(path, link, sizeof(link) - 1);
            if (n > 0 && (link[n] = 0, !strcmp(link, want)))
                found = (pid_t)atol(p->d_name);
        }
        if (fds)
            closedir(fds);
    }
    if (procs)
        closedir(procs);
    return found;
}

void machine_found(int fd)
{
    struct sockaddr_storage a;
    socklen_t len = sizeof(a);
    if (getsockname(fd, (struct sockaddr *)&a, &len) < 0)
        return;
    if (a.ss_family == AF_UNIX) {
        struct ucred cred;
        socklen_t clen = sizeof(cred);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0)
            machine.pid = cred.pid;
        return;
    }
    /* TCP: our end's port, the peer's port, the peer's socket's owner. */
    struct sockaddr_in peer;
    socklen_t plen = sizeof(peer);
    if (a.ss_family != AF_INET || getpeername(fd, (struct sockaddr *)&peer, &plen) < 0)
        return;
    unsigned long inode =
        tcp_inode(ntohs(peer.sin_port), ntohs(((struct sockaddr_in *)&a)->sin_port));
    if (inode)
        machine.pid = socket_owner(inode);
}

pid_t machine_pid(void)
{
    return machine.pid;
}

void machine_note_option(const char *path)
{
    machine.note = path;
}

bool machine_end(long now_ms, const char *why)
{
    if (machine.kill_at >= 0)
        return true;
    if (machine.pid <= 0) {
        fprintf(stderr, "hvmgr: %s; the outer machine's process is not known: not ended\n", why);
        return false;
    }
    fprintf(stderr, "hvmgr: %s: ending the outer machine (process %ld)\n", why, (long)machine.pid);
    /* bin/hvrun reads the note to tell this end from a crash. */
    if (machine.note) {
        FILE *f = fopen(machine.note, "w");
        if (f) {
            fprintf(f, "%s\n", why);
            fclose(f);
        }
    }
    kill(machine.pid, SIGINT);
    kill(machine.pid, SIGTERM);
    kill(machine.pid, SIGCONT);
    machine.kill_at = now_ms + KILL_GRACE_MS;
    return true;
}

long machine_pump(long now_ms)
{
    if (machine.kill_at < 0)
        return -1;
    if (kill(machine.pid, 0) < 0 && errno == ESRCH) {
        machine.kill_at = -1;
        return -1;
    }
    if (now_ms < machine.kill_at)
        return machine.kill_at - now_ms;
    kill(machine.pid, SIGKILL);
    machine.kill_at = -1;
    return -1;
}
