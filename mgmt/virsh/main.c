/*
 * virsh's entry point: global options, then one command, several commands
 * separated by ';', or (with no command) the interactive shell.
 *
 *   virsh [-c URI] [-q] COMMAND [ARG...]      one command from the words
 *   virsh [-c URI] [-q] 'CMD1 ARGS; CMD2'     one string: split as a shell
 *                                            line (quotes, backslashes, ';')
 *   virsh [-c URI] [-q]                       the "virsh # " prompt
 *
 * As in libvirt's virsh, every command's output is followed by an empty
 * line (not in -q mode), a line whose words do not parse runs nothing, and
 * the exit status is that of the last command run: 0 or 1.
 */
#include "virsh.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "live.h"

struct virsh virsh = {.uri = "hvkit:///system"};

/* The URIs hvkit answers to: its own scheme, system or session. */
static bool known_uri(const char *uri)
{
    return !strcmp(uri, "hvkit:///system") || !strcmp(uri, "hvkit:///session");
}

/* Split one line into words, as virsh's own parser does: blanks separate,
 * quotes group, a backslash escapes, and ';' ends a command.  Returns the
 * number of words; *rest points after the ';' (or NULL at the end). */
static int split(char *line, char **words, int max, char **rest)
{
    int n = 0;
    char *in = line, *out = line;
    *rest = NULL;
    while (*in) {
        while (*in == ' ' || *in == '\t' || *in == '\n')
            in++;
        if (!*in)
            break;
        if (*in == ';') {
            *rest = in + 1;
            break;
        }
        char quote = 0, *word = out;
        for (; *in; in++) {
            if (quote) {
                if (*in == quote)
                    quote = 0;
                else
                    *out++ = *in;
            } else if (*in == '\'' || *in == '"') {
                quote = *in;
            } else if (*in == '\\' && in[1]) {
                *out++ = *++in;
            } else if (*in == ' ' || *in == '\t' || *in == '\n' || *in == ';') {
                break;
            } else {
                *out++ = *in;
            }
        }
        bool at_semicolon = *in == ';';
        if (*in && !at_semicolon)
            in++;
        *out++ = '\0';
        if (n < max)
            words[n++] = word;
        if (at_semicolon) {
            *rest = in + 1;
            break;
        }
    }
    return n;
}

/* Parse and run one command; the empty line after it is virsh's. */
static bool run(int argc, char **argv)
{
    const struct cmd_def *def = cmd_find(argv[0]);
    struct cmd_call call;
    if (!def) {
        verror("unknown command: '%s'", argv[0]);
        return false;
    }
    if (!cmd_parse(def, argc - 1, argv + 1, &call))
        return false;
    bool ok = def->run(&call);
    if (!virsh.quiet)
        putchar('\n');
    fflush(stdout);
    return ok;
}

/* A line of commands: parse them all first, since virsh runs nothing of a
 * line with a syntax error, then run them in order. */
static bool run_line(char *line)
{
    enum { MAX_CMDS = 32, MAX_WORDS = 64 };
    char *words[MAX_CMDS][MAX_WORDS];
    int counts[MAX_CMDS], ncmds = 0;
    for (char *rest = line; rest && ncmds < MAX_CMDS;) {
        char *next;
        int n = split(rest, words[ncmds], MAX_WORDS, &next);
        if (n)
            counts[ncmds++] = n;
        rest = next;
    }
    for (int i = 0; i < ncmds; i++) {
        const struct cmd_def *def = cmd_find(words[i][0]);
        struct cmd_call call;
        if (!def) {
            verror("unknown command: '%s'", words[i][0]);
            return false;
        }
        if (!cmd_parse(def, counts[i] - 1, words[i] + 1, &call))
            return false;
    }
    bool ok = true;
    for (int i = 0; i < ncmds; i++)
        ok = run(counts[i], words[i]);
    return ok;
}

/* The interactive shell: a prompt, one line at a time, until quit or EOF.
 * virsh reads with readline, which echoes what it read when the input is
 * not a terminal (a script piped in), so a transcript shows the commands;
 * the same is done here.  Leaving prints an empty line, as virsh does. */
static int shell(void)
{
    char line[4096];
    bool echo = !isatty(STDIN_FILENO), ok = true;
    if (!virsh.quiet) {
        printf("Welcome to virsh, the virtualization interactive terminal.\n\n"
               "Type:  'help' for help with commands\n"
               "       'quit' to quit\n\n");
    }
    for (;;) {
        printf("virsh # ");
        fflush(stdout);
        if (!fgets(line, sizeof(line), stdin))
            break;
        if (echo) {
            fputs(line, stdout);
            fflush(stdout); /* before any error the command prints */
        }
        char *word = line + strspn(line, " \t");
        if (!strncmp(word, "quit", 4) || !strncmp(word, "exit", 4))
            break;
        ok = run_line(line);
    }
    putchar('\n');
    return ok ? 0 : 1;
}

static void usage(FILE *out)
{
    fprintf(out, "\nvirsh [options]... [<command_string>]\n"
                 "virsh [options]... <command> [args...]\n\n"
                 "  options:\n"
                 "    -c | --connect=URI      hypervisor connection URI (hvkit:///system)\n"
                 "    -h | --help             this help\n"
                 "    -q | --quiet            quiet mode\n\n"
                 " hvkit's virsh: libvirt's syntax and output layouts for hvkit's domains "
                 "and storage pools.\n Commands: 'virsh help'.\n\n");
}

int main(int argc, char **argv)
{
    const char *env = getenv("VIRSH_DEFAULT_CONNECT_URI");
    if (!env || !*env)
        env = getenv("LIBVIRT_DEFAULT_URI");
    if (env && *env)
        virsh.uri = env;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if ((!strcmp(a, "-c") || !strcmp(a, "--connect")) && i + 1 < argc) {
            virsh.uri = argv[++i];
        } else if (!strncmp(a, "--connect=", 10)) {
            virsh.uri = a + 10;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            virsh.quiet = true;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "virsh: unrecognized option '%s'\n", a);
            usage(stderr);
            return 1;
        }
    }
    if (!known_uri(virsh.uri)) {
        verror("failed to connect to the hypervisor");
        verror("no connection driver available for %s", virsh.uri);
        return 1;
    }
    if (!store_open() || !live_open())
        return 1;
    if (i == argc)
        return shell();
    if (i + 1 == argc) {
        /* One argument is a command string: it may hold several commands. */
        char *line = strdup(argv[i]);
        return line && run_line(line) ? 0 : 1;
    }
    return run(argc - i, argv + i) ? 0 : 1;
}
