/*
 * Verbs not written yet.  Each says so plainly and fails with status 1,
 * so that nobody mistakes them for working commands.
 */
#include "cli.h"

static int todo(const char *name)
{
    error_report("'%s' is not implemented in this version of imgtool", name);
    return 1;
}

int verb_commit(int argc, char **argv)
{
    (void)argc, (void)argv;
    return todo("commit");
}
int verb_dd(int argc, char **argv)
{
    (void)argc, (void)argv;
    return todo("dd");
}
int verb_rebase(int argc, char **argv)
{
    (void)argc, (void)argv;
    return todo("rebase");
}
