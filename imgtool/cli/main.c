/*
 * imgtool entry point: global options and verb dispatch.
 *
 * Mirrors qemu-img.c's main(): the first non-option argument names the
 * command, "-h"/"--help" print the help text and exit 0, "-V"/"--version"
 * print the version, and anything else is reported the way qemu-img does
 * ("Command not found: X" with the --help hint, exit status 1).
 */
#include "cli.h"

#include <string.h>

static const struct verb verbs[] = {
    {"amend", verb_amend},   {"bitmap", verb_bitmap},   {"check", verb_check},
    {"commit", verb_commit}, {"compare", verb_compare}, {"convert", verb_convert},
    {"create", verb_create}, {"dd", verb_dd},           {"dump", verb_dump},
    {"info", verb_info},     {"map", verb_map},         {"measure", verb_measure},
    {"rebase", verb_rebase}, {"resize", verb_resize},   {"snapshot", verb_snapshot},
};

/* The help text follows qemu-img's layout so that users can compare them;
 * options imgtool does not implement are left out. */
void print_help(void)
{
    printf("%s version 7.2 (hvkit imgtool, qemu-img compatible)\n"
           "usage: %s [standard options] command [command options]\n"
           "QEMU disk image utility (hvkit reimplementation)\n"
           "\n"
           "    '-h', '--help'       display this help and exit\n"
           "    '-V', '--version'    output version information and exit\n"
           "\n"
           "Command syntax:\n"
           "  amend [--object objectdef] [--image-opts] [-p] [-q] [-f fmt] [--force] -o options "
           "filename\n"
           "  bitmap (--merge SOURCE | --add | --remove | --clear | --enable | --disable)... "
           "[-b source_file [-F source_fmt]] [-g granularity] [--object objectdef] "
           "[--image-opts | -f fmt] filename bitmap\n"
           "  check [--object objectdef] [--image-opts] [-q] [-f fmt] [--output=ofmt] [-r [leaks | "
           "all]] [-U] filename\n"
           "  commit [--object objectdef] [--image-opts] [-q] [-f fmt] [-t cache] [-b base] [-d] "
           "[-p] filename\n"
           "  compare [--object objectdef] [--image-opts] [-f fmt] [-F fmt] [-p] [-q] [-s] [-U] "
           "filename1 filename2\n"
           "  convert [--object objectdef] [--image-opts] [-U] [-C] [-c] [-p] [-q] [-n] [-f fmt] "
           "[-t cache] [-O output_fmt] "
           "[-B backing_file [-F backing_fmt]] [-o options] [-l snapshot_param] [-S sparse_size] "
           "[-m num_coroutines] [-W] filename [filename2 [...]] output_filename\n"
           "  create [--object objectdef] [-q] [-f fmt] [-b backing_file [-F backing_fmt]] [-u] "
           "[-o options] "
           "filename [size]\n"
           "  dd [--image-opts] [-U] [-f fmt] [-O output_fmt] [bs=block_size] [count=blocks] "
           "[skip=blocks] if=input of=output\n"
           "  dump [-f fmt] [--all] filename\n"
           "  info [--object objectdef] [--image-opts] [-f fmt] [--output=ofmt] [--backing-chain] "
           "[-U] filename\n"
           "  map [--object objectdef] [--image-opts] [-f fmt] [--start-offset=offset] "
           "[--max-length=len] [--output=ofmt] "
           "[-U] filename\n"
           "  measure [--output=ofmt] [--object objectdef] [-O output_fmt] [-o options] [--size N "
           "| [-f fmt] "
           "[-l snapshot_param] filename]\n"
           "  snapshot [--object objectdef] [--image-opts] [-U] [-q] [-l | -a snapshot | -c "
           "snapshot | -d snapshot] filename\n"
           "  rebase [--object objectdef] [--image-opts] [-U] [-q] [-f fmt] [-p] [-u] -b "
           "backing_file [-F backing_fmt] "
           "filename\n"
           "  resize [--object objectdef] [--image-opts] [-f fmt] [--preallocation=prealloc] [-q] "
           "[--shrink] filename "
           "[+ | -]size\n"
           "\n"
           "'ofmt' is 'human' or 'json' ('dot' for map and info --backing-chain also\n"
           "writes Graphviz).  Sizes take the suffixes k, M, G, T, P and E (powers of\n"
           "1024); 'b' is ignored.  See docs/imgtool.md for every command.\n"
           "\n"
           "'filename' may also be 'file:NAME', 'json:{...}', or with --image-opts an\n"
           "option string such as 'driver=qcow2,file.filename=NAME'.\n"
           "\n"
           "Supported formats: raw qcow2 (and .xz-compressed images of either for "
           "reading)\n",
           prog_name, prog_name);
}

int main(int argc, char **argv)
{
    /* Unbuffered stderr keeps messages ordered with stdout on a terminal;
     * stdout stays fully buffered when redirected, like QEMU's. */
    setvbuf(stderr, NULL, _IONBF, 0);
    prog_name_init(argv[0]);
    if (argc < 2) {
        return error_usage("Not enough arguments");
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
        print_help();
        return 0;
    }
    if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
        printf("%s version 7.2 (hvkit imgtool)\n", prog_name);
        return 0;
    }
    if (cmd[0] == '-') {
        return error_usage("unrecognized option '%s'", cmd);
    }
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
        if (!strcmp(cmd, verbs[i].name)) {
            /* Verbs parse with getopt from argv[0] = the verb, as qemu-img
             * shifts its argv before calling img_<cmd>(). */
            return verbs[i].fn(argc - 1, argv + 1);
        }
    }
    return error_usage("Command not found: %s", cmd);
}
