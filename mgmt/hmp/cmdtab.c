/*
 * The command table (cmdtab.h).  Names, argument types, synopses and help
 * texts are QEMU 7.2's, as its `help` prints them, so that hvkit's `help`
 * lines are QEMU's lines (tests/integration/hmp-qemu.sh compares them with
 * a real QEMU).  Kept sorted by name, the order QEMU prints them in.
 */
#include "cmdtab.h"

#include "cmds.h"

/* dump-guest-memory's help goes on over several lines, indented with tabs
 * as in QEMU's hmp-commands.hx. */
#define DUMP_HELP                                                                                  \
    "dump guest memory into file 'filename'.\n"                                                    \
    "\t\t\t-p: do paging to get guest's memory mapping.\n"                                         \
    "\t\t\t-d: return immediately (do not wait for completion).\n"                                 \
    "\t\t\t-z: dump in kdump-compressed format, with zlib compression.\n"                          \
    "\t\t\t-l: dump in kdump-compressed format, with lzo compression.\n"                           \
    "\t\t\t-s: dump in kdump-compressed format, with snappy compression.\n"                        \
    "\t\t\t-w: dump in Windows crashdump format (can be used instead of ELF-dump converting),\n"   \
    "\t\t\t    for Windows x86 and x64 guests with vmcoreinfo driver only.\n"                      \
    "\t\t\tbegin: the starting physical address.\n"                                                \
    "\t\t\tlength: the memory size, in bytes."

const struct hmp_cmd hmp_info_cmds[] = {
    {"balloon", "", "", "show balloon information", hmp_info_balloon, NULL},
    {"block", "nodes:-n,verbose:-v,device:B?", "[-n] [-v] [device]",
     "show info of one block device or all block devices (-n: show named nodes; -v: show "
     "details)",
     hmp_info_block, NULL},
    {"blockstats", "", "", "show block device statistics", hmp_info_blockstats, NULL},
    {"cpus", "", "", "show infos for each CPU", hmp_info_cpus, NULL},
    {"kvm", "", "", "show KVM information", hmp_info_kvm, NULL},
    {"mem", "", "", "show the active virtual memory mappings", hmp_info_mem, NULL},
    {"migrate", "", "", "show migration status", hmp_info_migrate, NULL},
    {"name", "", "", "show the current VM name", hmp_info_name, NULL},
    {"registers", "cpustate_all:-a,vcpu:i?", "[-a|vcpu]",
     "show the cpu registers (-a: show register info for all cpus; vcpu: specific vCPU to "
     "query; show the current CPU's registers if no argument is specified)",
     hmp_info_registers, NULL},
    {"snapshots", "", "", "show the currently saved VM snapshots", hmp_info_snapshots, NULL},
    {"status", "", "", "show the current VM status (running|paused)", hmp_info_status, NULL},
    {"tlb", "", "", "show virtual to physical memory mappings", hmp_info_tlb, NULL},
    {"uuid", "", "", "show the current VM UUID", hmp_info_uuid, NULL},
    {"version", "", "", "show the version of QEMU", hmp_info_version, NULL},
    {NULL, NULL, NULL, NULL, NULL, NULL},
};

const struct hmp_cmd hmp_cmds[] = {
    {"balloon", "value:M", "target", "request VM to change its memory allocation (in MB)",
     hmp_do_balloon, NULL},
    {"change", "device:B,force:-f,target:F,arg:s?,read-only-mode:s?",
     "device [-f] filename [format [read-only-mode]]",
     "change a removable medium, optional format, use -f to force the operation", hmp_do_change,
     NULL},
    {"commit", "device:B", "device|all",
     "commit changes to the disk images (if -snapshot is used) or backing files", hmp_do_commit,
     NULL},
    {"cont|c", "", "", "resume emulation", hmp_do_cont, NULL},
    {"cpu", "index:i", "index", "set the default CPU", hmp_do_cpu, NULL},
    {"delvm", "name:s", "tag", "delete a VM snapshot from its tag", hmp_do_delvm, NULL},
    {"dump-guest-memory",
     "paging:-p,detach:-d,windmp:-w,zlib:-z,lzo:-l,snappy:-s,filename:F,begin:l?,length:l?",
     "[-p] [-d] [-z|-l|-s|-w] filename [begin length]", DUMP_HELP, hmp_do_dump_guest_memory, NULL},
    {"eject", "force:-f,device:B", "[-f] device", "eject a removable medium (use -f to force it)",
     hmp_do_eject, NULL},
    {"help|?", "name:S?", "[cmd]", "show the help", hmp_do_help, NULL},
    {"info", "item:s?", "[subcommand]", "show various information about the system state",
     hmp_do_info, hmp_info_cmds},
    {"loadvm", "name:s", "tag", "restore a VM snapshot from its tag", hmp_do_loadvm, NULL},
    {"memsave", "val:l,size:i,filename:s", "addr size file",
     "save to disk virtual memory dump starting at 'addr' of size 'size'", hmp_do_memsave, NULL},
    {"nmi", "", "", "inject an NMI", hmp_do_nmi, NULL},
    {"pmemsave", "val:l,size:i,filename:s", "addr size file",
     "save to disk physical memory dump starting at 'addr' of size 'size'", hmp_do_pmemsave, NULL},
    {"print|p", "fmt:/,val:l", "/fmt expr",
     "print expression value (use $reg for CPU register access)", hmp_do_print, NULL},
    {"quit|q", "", "", "quit the emulator", hmp_do_quit, NULL},
    {"savevm", "name:s?", "tag",
     "save a VM snapshot. If no tag is provided, a new snapshot is created", hmp_do_savevm, NULL},
    {"stop|s", "", "", "stop emulation", hmp_do_stop, NULL},
    {"system_powerdown", "", "", "send system power down event", hmp_do_system_powerdown, NULL},
    {"system_reset", "", "", "reset the system", hmp_do_system_reset, NULL},
    {"x", "fmt:/,addr:l", "/fmt addr", "virtual memory dump starting at 'addr'", hmp_do_x, NULL},
    {"xp", "fmt:/,addr:l", "/fmt addr", "physical memory dump starting at 'addr'", hmp_do_xp, NULL},
    {NULL, NULL, NULL, NULL, NULL, NULL},
};
