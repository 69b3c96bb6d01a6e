/*
 * The ELF core of dump-guest-memory (elfcore.h).  The file format is the
 * System V ABI's (ELF-64 Object File Format 1.5: "Program Header", "Note
 * Section"); the note contents are what Linux writes into a process's core
 * (NT_PRSTATUS with struct elf_prstatus) and what QEMU adds for its own
 * tools ("QEMU" notes), so that gdb shows the registers and crash finds the
 * control registers.
 */
#include "elfcore.h"

#include <elf.h>
#include <string.h>

/* x86-64 Linux's struct user_regs_struct, the registers inside
 * NT_PRSTATUS, in its order. */
struct user_regs {
    uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8;
    uint64_t rax, rcx, rdx, rsi, rdi, orig_rax, rip, cs, eflags, rsp, ss;
    uint64_t fs_base, gs_base, ds, es, fs, gs;
};

/* x86-64 Linux's struct elf_prstatus: only the thread id (pr_pid, at 32)
 * and the registers (pr_reg, at 112) matter to gdb; 336 bytes in all. */
struct prstatus {
    uint8_t pad1[32];
    uint32_t pid;
    uint8_t pad2[76];
    struct user_regs regs;
    uint8_t pad3[8];
} __attribute__((packed));

/* QEMU's QEMUCPUSegment and QEMUCPUState (version 1, with kernel_gs_base
 * at the end; readers check `size`). */
struct qemu_seg {
    uint32_t selector, limit, flags, pad;
    uint64_t base;
};
struct qemu_cpu {
    uint32_t version, size;
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t rip, rflags;
    struct qemu_seg cs, ds, es, fs, gs, ss, ldt, tr, gdt, idt;
    uint64_t cr[5];
    uint64_t kernel_gs_base;
};

_Static_assert(sizeof(struct prstatus) == 336, "x86-64 elf_prstatus is 336 bytes");
_Static_assert(sizeof(struct qemu_cpu) == 440, "QEMUCPUState version 1 is 440 bytes");

/* A note's name field: the name with its NUL, padded to 4 bytes. */
#define NOTE_NAME_SIZE 8
/* One note: header, name, descriptor (both descriptors are multiples of 4). */
#define NOTE_SIZE(desc) (sizeof(Elf64_Nhdr) + NOTE_NAME_SIZE + (desc))

static void set_err(struct hmp_err *err, const char *desc)
{
    snprintf(err->cls, sizeof(err->cls), "GenericError");
    snprintf(err->desc, sizeof(err->desc), "%s", desc);
}

static int put(FILE *f, const void *p, size_t n, struct hmp_err *err)
{
    if (fwrite(p, 1, n, f) != n) {
        set_err(err, "An IO error has occurred");
        return -1;
    }
    return 0;
}

/* One note: header, padded name, descriptor. */
static int note(FILE *f, const char *name, uint32_t type, const void *desc, size_t len,
                struct hmp_err *err)
{
    Elf64_Nhdr h = {
        .n_namesz = (Elf64_Word)strlen(name) + 1, .n_descsz = (Elf64_Word)len, .n_type = type};
    char padded[NOTE_NAME_SIZE] = {0};
    memcpy(padded, name, strlen(name));
    if (put(f, &h, sizeof(h), err) < 0 || put(f, padded, sizeof(padded), err) < 0)
        return -1;
    return put(f, desc, len, err);
}

/* NT_PRSTATUS for vCPU `i`: pid i + 1 (gdb calls it "thread i + 1"). */
static int prstatus_note(FILE *f, int i, const struct hmp_regs *r, struct hmp_err *err)
{
    struct prstatus p;
    memset(&p, 0, sizeof(p));
    p.pid = (uint32_t)i + 1;
    const uint64_t *g = r->gpr; /* RAX RCX RDX RBX RSP RBP RSI RDI R8..R15 */
    p.regs = (struct user_regs){.r15 = g[15],
                                .r14 = g[14],
                                .r13 = g[13],
                                .r12 = g[12],
                                .rbp = g[5],
                                .rbx = g[3],
                                .r11 = g[11],
                                .r10 = g[10],
                                .r9 = g[9],
                                .r8 = g[8],
                                .rax = g[0],
                                .rcx = g[1],
                                .rdx = g[2],
                                .rsi = g[6],
                                .rdi = g[7],
                                .rip = r->rip,
                                .eflags = r->rflags,
                                .rsp = g[4],
                                .cs = r->seg[HMP_CS].selector,
                                .ss = r->seg[HMP_SS].selector,
                                .ds = r->seg[HMP_DS].selector,
                                .es = r->seg[HMP_ES].selector,
                                .fs = r->seg[HMP_FS].selector,
                                .gs = r->seg[HMP_GS].selector,
                                .fs_base = r->seg[HMP_FS].base,
                                .gs_base = r->seg[HMP_GS].base};
    return note(f, "CORE", NT_PRSTATUS, &p, sizeof(p), err);
}

static struct qemu_seg qseg(const struct hmp_seg *s)
{
    return (struct qemu_seg){
        .selector = s->selector, .limit = s->limit, .flags = s->flags, .base = s->base};
}

/* QEMU's own note for one vCPU (type 0, name "QEMU"). */
static int qemu_note(FILE *f, const struct hmp_regs *r, struct hmp_err *err)
{
    const uint64_t *g = r->gpr;
    struct qemu_cpu q = {.version = 1,
                         .size = sizeof(q),
                         .rax = g[0],
                         .rbx = g[3],
                         .rcx = g[1],
                         .rdx = g[2],
                         .rsi = g[6],
                         .rdi = g[7],
                         .rsp = g[4],
                         .rbp = g[5],
                         .r8 = g[8],
                         .r9 = g[9],
                         .r10 = g[10],
                         .r11 = g[11],
                         .r12 = g[12],
                         .r13 = g[13],
                         .r14 = g[14],
                         .r15 = g[15],
                         .rip = r->rip,
                         .rflags = r->rflags,
                         .cs = qseg(&r->seg[HMP_CS]),
                         .ds = qseg(&r->seg[HMP_DS]),
                         .es = qseg(&r->seg[HMP_ES]),
                         .fs = qseg(&r->seg[HMP_FS]),
                         .gs = qseg(&r->seg[HMP_GS]),
                         .ss = qseg(&r->seg[HMP_SS]),
                         .ldt = qseg(&r->ldt),
                         .tr = qseg(&r->tr),
                         .cr = {r->cr0, 0, r->cr2, r->cr3, r->cr4}};
    q.gdt = (struct qemu_seg){.limit = r->gdt_limit, .base = r->gdt_base};
    q.idt = (struct qemu_seg){.limit = r->idt_limit, .base = r->idt_base};
    return note(f, "QEMU", 0, &q, sizeof(q), err);
}

/* The ELF header and the program headers: PT_NOTE, then one PT_LOAD per
 * range, their data in the same order after the notes. */
static int headers(FILE *f, int ncpus, const struct hmp_core_range *ranges, int nranges,
                   struct hmp_err *err)
{
    Elf64_Ehdr eh;
    memset(&eh, 0, sizeof(eh));
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_CORE;
    eh.e_machine = EM_X86_64;
    eh.e_version = EV_CURRENT;
    eh.e_phoff = sizeof(eh);
    eh.e_ehsize = sizeof(eh);
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_phnum = (Elf64_Half)(1 + nranges);
    if (put(f, &eh, sizeof(eh), err) < 0)
        return -1;
    uint64_t notes = sizeof(eh) + (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr);
    uint64_t note_size =
        (uint64_t)ncpus * (NOTE_SIZE(sizeof(struct prstatus)) + NOTE_SIZE(sizeof(struct qemu_cpu)));
    Elf64_Phdr ph = {
        .p_type = PT_NOTE, .p_offset = notes, .p_filesz = note_size, .p_memsz = note_size};
    if (put(f, &ph, sizeof(ph), err) < 0)
        return -1;
    uint64_t off = notes + note_size;
    for (int i = 0; i < nranges; i++) {
        /* No p_flags, as in QEMU's cores: gdb reads the segment anyway. */
        ph = (Elf64_Phdr){.p_type = PT_LOAD,
                          .p_offset = off,
                          .p_vaddr = ranges[i].start,
                          .p_paddr = ranges[i].start,
                          .p_filesz = ranges[i].size,
                          .p_memsz = ranges[i].size};
        if (put(f, &ph, sizeof(ph), err) < 0)
            return -1;
        off += ranges[i].size;
    }
    return 0;
}

/* A range's bytes, a page at a time. */
static int copy_range(FILE *f, const struct hmp_core_range *r, hmp_core_read_fn read, void *ctx,
                      struct hmp_err *err)
{
    static uint8_t buf[4096];
    for (uint64_t done = 0; done < r->size;) {
        size_t n = r->size - done < sizeof(buf) ? (size_t)(r->size - done) : sizeof(buf);
        if (read(ctx, r->start + done, buf, n, err) < 0 || put(f, buf, n, err) < 0)
            return -1;
        done += n;
    }
    return 0;
}

int hmp_write_core(FILE *f, const struct hmp_regs *regs, int ncpus,
                   const struct hmp_core_range *ranges, int nranges, hmp_core_read_fn read,
                   void *ctx, struct hmp_err *err)
{
    if (headers(f, ncpus, ranges, nranges, err) < 0)
        return -1;
    /* All NT_PRSTATUS notes first, then all QEMU notes, as QEMU orders
     * them (dump/dump.c write_elf64_notes). */
    for (int i = 0; i < ncpus; i++)
        if (prstatus_note(f, i, &regs[i], err) < 0)
            return -1;
    for (int i = 0; i < ncpus; i++)
        if (qemu_note(f, &regs[i], err) < 0)
            return -1;
    for (int i = 0; i < nranges; i++)
        if (copy_range(f, &ranges[i], read, ctx, err) < 0)
            return -1;
    return 0;
}
