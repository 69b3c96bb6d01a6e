/*
 * The monitor's command handlers, one per command of cmdtab.c: each takes
 * the parsed arguments, asks the machine (m->be) and prints QEMU's answer.
 */
#ifndef HVKIT_MGMT_HMP_CMDS_H
#define HVKIT_MGMT_HMP_CMDS_H

#include "args.h"
#include "hmp.h"

#define HMP_HANDLER(name) void name(struct hmp *m, const struct hmp_args *a)

/* cmds_run.c: the machine's run state. */
HMP_HANDLER(hmp_do_stop);
HMP_HANDLER(hmp_do_cont);
HMP_HANDLER(hmp_do_system_reset);
HMP_HANDLER(hmp_do_system_powerdown);
HMP_HANDLER(hmp_do_quit);
HMP_HANDLER(hmp_do_nmi);
HMP_HANDLER(hmp_do_cpu);

/* cmds_mem.c: memory and registers. */
HMP_HANDLER(hmp_do_x);
HMP_HANDLER(hmp_do_xp);
HMP_HANDLER(hmp_do_print);
HMP_HANDLER(hmp_do_memsave);
HMP_HANDLER(hmp_do_pmemsave);
HMP_HANDLER(hmp_do_dump_guest_memory);

/* cmds_dev.c: disks, snapshots, balloon. */
HMP_HANDLER(hmp_do_savevm);
HMP_HANDLER(hmp_do_loadvm);
HMP_HANDLER(hmp_do_delvm);
HMP_HANDLER(hmp_do_change);
HMP_HANDLER(hmp_do_eject);
HMP_HANDLER(hmp_do_commit);
HMP_HANDLER(hmp_do_balloon);

/* cmds_info.c: help and the info sub-commands. */
HMP_HANDLER(hmp_do_help);
HMP_HANDLER(hmp_do_info);
HMP_HANDLER(hmp_info_status);
HMP_HANDLER(hmp_info_name);
HMP_HANDLER(hmp_info_uuid);
HMP_HANDLER(hmp_info_version);
HMP_HANDLER(hmp_info_registers);
HMP_HANDLER(hmp_info_cpus);
HMP_HANDLER(hmp_info_mem);
HMP_HANDLER(hmp_info_tlb);
HMP_HANDLER(hmp_info_block);
HMP_HANDLER(hmp_info_blockstats);
HMP_HANDLER(hmp_info_snapshots);
HMP_HANDLER(hmp_info_balloon);
HMP_HANDLER(hmp_info_kvm);
HMP_HANDLER(hmp_info_migrate);

/* Print a machine error as QEMU's monitor does: "Error: DESC". */
void hmp_print_err(struct hmp *m, const struct hmp_err *err);

/* QEMU's words for a command the machine cannot do (QERR_UNSUPPORTED). */
#define HMP_UNSUPPORTED "this feature or command is not currently supported"

#endif
