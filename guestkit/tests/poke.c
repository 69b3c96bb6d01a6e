/*
 * poke: touch one guest-physical address the way argv says, to see what the
 * machine does there: "poke read ADDR", "poke write ADDR" or "poke exec
 * ADDR" (ADDR in C notation, e.g. 0xd0000000).  The guestkit runtime maps
 * the first 4 GiB one to one, so the address is also guest-physical.  It
 * first prints the address of the instruction that will make the access,
 * then makes it, then prints what a read returned and exits 0.
 *
 * On a PC (plain QEMU) the access completes whatever is there (QEMU 7.2
 * reads unassigned memory as 0 and drops the writes).  Under hv such an
 * access is a second-level violation the core cannot serve, and hv ends
 * the guest naming the access, the address and that instruction's RIP
 * (tests/integration/violation.sh checks it).  Not in guests.list: the two
 * machines are meant to differ here.
 */
#include "guestkit/guestkit.h"

#include "klib.h"

/* The accesses, in assembly so that the instruction's address is known
 * (the label) and nothing else touches memory: RDI is the address, ESI the
 * value to write, EAX the value read. */
extern const char poke_read_insn[], poke_write_insn[];
uint32_t poke_read(uint64_t addr);
void poke_write(uint64_t addr, uint32_t val);
__asm__(".text\n"
        ".globl poke_read, poke_read_insn, poke_write, poke_write_insn\n"
        "poke_read:\n"
        "poke_read_insn: movl (%rdi), %eax\n"
        "        ret\n"
        "poke_write:\n"
        "poke_write_insn: movl %esi, (%rdi)\n"
        "        ret\n");

int main(int argc, char **argv)
{
    const char *end;
    if (argc != 3 ||
        (strcmp(argv[1], "read") && strcmp(argv[1], "write") && strcmp(argv[1], "exec"))) {
        printf("usage: poke read|write|exec ADDR\n");
        return 2;
    }
    uint64_t addr = kstrtoull(argv[2], &end, 0);
    if (*end || end == argv[2]) {
        printf("poke: bad address '%s'\n", argv[2]);
        return 2;
    }
    if (!strcmp(argv[1], "read")) {
        printf("poke: read at %#llx by rip %#llx\n", (unsigned long long)addr,
               (unsigned long long)(uintptr_t)poke_read_insn);
        printf("poke: read %#x\n", poke_read(addr));
    } else if (!strcmp(argv[1], "write")) {
        printf("poke: write at %#llx by rip %#llx\n", (unsigned long long)addr,
               (unsigned long long)(uintptr_t)poke_write_insn);
        poke_write(addr, 0x5a5a5a5a);
        printf("poke: wrote 0x5a5a5a5a\n");
    } else {
        /* A jump there: the fetch itself is the access, at RIP = ADDR. */
        printf("poke: exec at %#llx by rip %#llx\n", (unsigned long long)addr,
               (unsigned long long)addr);
        ((void (*)(void))(uintptr_t)addr)();
        printf("poke: returned from %#llx\n", (unsigned long long)addr);
    }
    return 0;
}
