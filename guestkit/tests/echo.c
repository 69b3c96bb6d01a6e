/*
 * echo: print the command-line arguments on one line, separated by single
 * spaces, like the shell's echo, then a SUMMARY and exit 0.  Used by tests
 * that need a guest to print a line of their choosing, such as
 * tests/integration/guest-forged-lines.sh, which checks that a guest cannot
 * print a line hv's launcher would take for one of hv's own.
 */
#include "guestkit/guestkit.h"

int main(int argc, char **argv)
{
    /* argv[0] is the kernel's file name: skip it, as echo skips its own. */
    for (int i = 1; i < argc; i++)
        printf("%s%s", i > 1 ? " " : "", argv[i]);
    printf("\n");
    return report_summary();
}
