/*
 * poke: touch one guest-physical address the way argv says, to see what the
 * machine does there: "poke read ADDR [SIZE]", "poke write ADDR [SIZE]" or
 * "poke exec ADDR" (ADDR in C notation, e.g. 0xd0000000; SIZE 1, 2, 4 or
 * 8 bytes, 4 by default, at any alignment).  The guestkit runtime maps
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
 * (the label) and nothing else touches memory: RDI is the address, RSI the
 * value to write, RAX the value read; one pair per size. */
#define POKE_ASM(sfx, load, store)                                                                 \
    ".globl poke_read" #sfx ", poke_read" #sfx "_insn, poke_write" #sfx ", poke_write" #sfx        \
    "_insn\n"                                                                                      \
    "poke_read" #sfx ":\n"                                                                         \
    "        xorl %eax, %eax\n"                                                                    \
    "poke_read" #sfx "_insn: " load "\n"                                                           \
    "        ret\n"                                                                                \
    "poke_write" #sfx ":\n"                                                                        \
    "poke_write" #sfx "_insn: " store "\n"                                                         \
    "        ret\n"
__asm__(".text\n" POKE_ASM(1, "movb (%rdi), %al", "movb %sil, (%rdi)")
            POKE_ASM(2, "movw (%rdi), %ax", "movw %si, (%rdi)")
                POKE_ASM(4, "movl (%rdi), %eax", "movl %esi, (%rdi)")
                    POKE_ASM(8, "movq (%rdi), %rax", "movq %rsi, (%rdi)"));
#define POKE_DECL(sfx)                                                                             \
    extern const char poke_read##sfx##_insn[], poke_write##sfx##_insn[];                           \
    uint64_t poke_read##sfx(uint64_t addr);                                                        \
    void poke_write##sfx(uint64_t addr, uint64_t val);
POKE_DECL(1)
POKE_DECL(2)
POKE_DECL(4)
POKE_DECL(8)

/* The functions and labels of each size. */
struct poke_size {
    unsigned bytes;
    uint64_t (*read)(uint64_t addr);
    void (*write)(uint64_t addr, uint64_t val);
    const char *read_insn, *write_insn;
};
static const struct poke_size sizes[] = {
    {1, poke_read1, poke_write1, poke_read1_insn, poke_write1_insn},
    {2, poke_read2, poke_write2, poke_read2_insn, poke_write2_insn},
    {4, poke_read4, poke_write4, poke_read4_insn, poke_write4_insn},
    {8, poke_read8, poke_write8, poke_read8_insn, poke_write8_insn},
};

int main(int argc, char **argv)
{
    const char *end;
    if ((argc != 3 && argc != 4) ||
        (strcmp(argv[1], "read") && strcmp(argv[1], "write") && strcmp(argv[1], "exec"))) {
        printf("usage: poke read|write|exec ADDR [1|2|4|8]\n");
        return 2;
    }
    unsigned bytes = argc == 4 ? (unsigned)kstrtoull(argv[3], &end, 0) : 4;
    const struct poke_size *sz = NULL;
    for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        if (sizes[i].bytes == bytes)
            sz = &sizes[i];
    if (!sz) {
        printf("poke: bad size '%s'\n", argv[3]);
        return 2;
    }
    uint64_t addr = kstrtoull(argv[2], &end, 0);
    if (*end || end == argv[2]) {
        printf("poke: bad address '%s'\n", argv[2]);
        return 2;
    }
    if (!strcmp(argv[1], "read")) {
        printf("poke: read at %#llx by rip %#llx\n", (unsigned long long)addr,
               (unsigned long long)(uintptr_t)sz->read_insn);
        printf("poke: read %#llx\n", (unsigned long long)sz->read(addr));
    } else if (!strcmp(argv[1], "write")) {
        printf("poke: write at %#llx by rip %#llx\n", (unsigned long long)addr,
               (unsigned long long)(uintptr_t)sz->write_insn);
        sz->write(addr, 0x5a5a5a5a5a5a5a5aull);
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
