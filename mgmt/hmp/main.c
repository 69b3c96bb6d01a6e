/*
 * hvmon: hvkit's QEMU monitor on a running hv.
 *
 *   hvmon [--domain N] SOCKET               a monitor on this terminal
 *   hvmon [--domain N] --listen PATH SOCKET  monitors for clients of the
 *                                            Unix socket PATH, one at a time
 *
 * SOCKET is the manager's control socket (`bin/hvrun --control PATH`).  The
 * first form is QEMU's `-monitor stdio`, the second its `-monitor
 * unix:PATH,server,nowait` (bin/hvrun starts both for its -monitor option).
 * Each monitor prints the banner and the `(qemu) ` prompt; when its input
 * is not a terminal it echoes each command after the prompt, as QEMU's
 * monitor echoes what it reads, so a transcript reads the same.  `quit`
 * ends hv and then the monitor.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cmdtab.h"
#include "ctlback.h"
#include "hmp.h"

/* The longest command line read (QEMU's readline takes 1024 bytes). */
#define LINE_MAX_LEN 4096

static void usage(FILE *f)
{
    fprintf(f, "Usage: hvmon [--domain N] [--listen PATH] SOCKET\n"
               "       hvmon --commands\n"
               "QEMU's monitor (HMP) on the hv whose manager listens on SOCKET.\n"
               "  --domain N     the domain to control (default 0)\n"
               "  --listen PATH  serve monitors on the Unix socket PATH (QEMU's\n"
               "                 -monitor unix:PATH,server,nowait) instead of this terminal\n"
               "  --commands     list the commands this monitor knows, one per line\n"
               "                 (\"info NAME\" for info's), and exit: no system needed\n"
               "With HVMON_TRACE=1 in the environment every protocol line goes to stderr.\n");
}

/* --commands: every name and alias of the command table, then "info NAME"
 * for each of info's, so that scripts (docs/exam/mktable.sh) can ask what
 * the monitor has without a running system. */
static void list_commands(void)
{
    for (const struct hmp_cmd *c = hmp_cmds; c->name; c++)
        printf("%.*s\n", (int)strcspn(c->name, "|"), c->name);
    for (const struct hmp_cmd *c = hmp_cmds; c->name; c++)
        for (const char *a = strchr(c->name, '|'); a; a = strchr(a + 1, '|'))
            printf("%.*s\n", (int)strcspn(a + 1, "|"), a + 1);
    for (const struct hmp_cmd *c = hmp_info_cmds; c->name; c++)
        printf("info %s\n", c->name);
}

/* One monitor session: banner, then prompt, line, command until the input
 * ends or `quit`.  Returns true after `quit`. */
static bool session(FILE *in, FILE *out, bool echo, struct ctlc *c, int dom)
{
    struct hmp m;
    static char line[LINE_MAX_LEN];
    hmp_init(&m, out, &hmp_ctl_backend, c, dom);
    hmp_banner(&m);
    while (!m.quit) {
        fputs("(qemu) ", out);
        fflush(out);
        if (!fgets(line, sizeof(line), in))
            break;
        line[strcspn(line, "\r\n")] = '\0';
        if (echo)
            fprintf(out, "%s\n", line);
        hmp_run_line(&m, line);
    }
    if (!m.quit)
        fputc('\n', out);
    fflush(out);
    return m.quit;
}

/* The listening socket at `path` (an old socket file there is replaced,
 * as QEMU does). */
static int listen_on(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "hvmon: socket path too long: %s\n", path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    unlink(path);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0) {
        fprintf(stderr, "hvmon: cannot listen on %s: %s\n", path, strerror(errno));
        return -1;
    }
    return fd;
}

/* Serve monitor sessions to the clients of `path` until one says `quit`. */
static int serve(const char *path, struct ctlc *c, int dom)
{
    int lfd = listen_on(path);
    if (lfd < 0)
        return 1;
    bool quit = false;
    while (!quit) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "hvmon: accept: %s\n", strerror(errno));
            break;
        }
        FILE *in = fdopen(fd, "r"), *out = fdopen(dup(fd), "w");
        if (in && out)
            quit = session(in, out, false, c, dom);
        if (in)
            fclose(in);
        if (out)
            fclose(out);
    }
    close(lfd);
    unlink(path);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"domain", required_argument, NULL, 'd'},
                                         {"listen", required_argument, NULL, 'l'},
                                         {"help", no_argument, NULL, 'h'},
                                         {"commands", no_argument, NULL, 'c'},
                                         {NULL, 0, NULL, 0}};
    int dom = 0, o;
    const char *listen_path = NULL;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        char *end;
        if (o == 'd') {
            long v = strtol(optarg, &end, 10);
            if (*end || end == optarg || v < 0 || v > 255) {
                fprintf(stderr, "hvmon: bad domain number '%s'\n", optarg);
                return 2;
            }
            dom = (int)v;
        } else if (o == 'l') {
            listen_path = optarg;
        } else if (o == 'c') {
            list_commands();
            return 0;
        } else {
            usage(o == 'h' ? stdout : stderr);
            return o == 'h' ? 0 : 2;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    /* A client that goes away mid-answer must not kill the monitor. */
    signal(SIGPIPE, SIG_IGN);
    static struct ctlc c;
    char why[256];
    if (ctl_connect(&c, argv[optind], why, sizeof(why)) < 0) {
        fprintf(stderr, "hvmon: %s\n", why);
        return 1;
    }
    int rc = listen_path ? serve(listen_path, &c, dom)
                         : (session(stdin, stdout, !isatty(0), &c, dom), 0);
    ctlc_close(&c);
    return rc;
}
