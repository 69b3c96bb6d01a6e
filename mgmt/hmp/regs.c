/*
 * `info registers` and `$reg` (regs.h).  The segment attribute bits are
 * those of the descriptor's high doubleword (SDM vol 3A 3.4.5 "Segment
 * Descriptors"), which is how QEMU keeps them, so the decoding below reads
 * like the descriptor table in the manual.
 */
#include "regs.h"

#include <inttypes.h>
#include <string.h>

#include "cmdtab.h"

/* Descriptor bits in the high doubleword (SDM vol 3A 3.4.5 "Segment
 * Descriptors", figure 3-8). */
#define DESC_TYPE_SHIFT 8
#define DESC_A          (1u << 8)  /* accessed */
#define DESC_RW         (1u << 9)  /* code: readable; data: writable */
#define DESC_CE         (1u << 10) /* code: conforming; data: expand-down */
#define DESC_CODE       (1u << 11) /* code (1) or data (0) */
#define DESC_S          (1u << 12) /* code or data (1), system (0) */
#define DESC_DPL_SHIFT  13
#define DESC_P          (1u << 15)
#define DESC_L          (1u << 21) /* 64-bit code (SDM vol 3A 3.4.5) */
#define DESC_B          (1u << 22) /* default size / big */

/* CR0.PE (SDM vol 3A 2.5 "Control Registers"), EFER.LMA (SDM vol 3A 2.2.1
 * "Extended Feature Enable Register"), RFLAGS.VM (SDM vol 1 3.4.3
 * "EFLAGS Register"). */
#define CR0_PE    1u
#define EFER_LMA  (1u << 10)
#define RFLAGS_VM (1u << 17)

static const char *const seg_names[6] = {"ES", "CS", "SS", "DS", "FS", "GS"};

/* System descriptor types in legacy and IA-32e mode (SDM vol 3A 3.5
 * "System Descriptor Types", table 3-2), with QEMU's names. */
static const char *const sys_types[2][16] = {
    {"Reserved", "TSS16-avl", "LDT", "TSS16-busy", "CallGate16", "TaskGate", "IntGate16",
     "TrapGate16", "Reserved", "TSS32-avl", "Reserved", "TSS32-busy", "CallGate32", "Reserved",
     "IntGate32", "TrapGate32"},
    {"<hiword>", "Reserved", "LDT", "Reserved", "Reserved", "Reserved", "Reserved", "Reserved",
     "Reserved", "TSS64-avl", "Reserved", "TSS64-busy", "CallGate64", "Reserved", "IntGate64",
     "TrapGate64"},
};

/* The modes the layout depends on (QEMU's hflags HF_LMA, HF_CS64, HF_PE). */
struct mode {
    bool lma, cs64, pe;
};

static struct mode mode_of(const struct hmp_regs *r)
{
    struct mode m;
    m.lma = r->efer & EFER_LMA;
    /* Without CS's descriptor a vCPU in IA-32e mode is taken to run 64-bit
     * code, which every hvkit guest in long mode does. */
    m.cs64 = m.lma && (!r->seg[HMP_CS].known_desc || (r->seg[HMP_CS].flags & DESC_L));
    m.pe = r->cr0 & CR0_PE;
    return m;
}

/* The current privilege level: SS.DPL in protected mode (SDM vol 3A 5.5
 * "Privilege Levels"), 3 in virtual-8086 mode, 0 in real mode. */
static int cpl_of(const struct hmp_regs *r, struct mode m)
{
    if (r->cpl >= 0)
        return r->cpl;
    if (!m.pe)
        return 0;
    if (r->rflags & RFLAGS_VM)
        return 3;
    return (r->seg[HMP_SS].flags >> DESC_DPL_SHIFT) & 3;
}

/* What a code or data segment is: CS64/CS32/CS16 [CR-] or DS/DS16 [EWA]. */
static void seg_kind(FILE *out, const struct hmp_seg *s, struct mode m)
{
    uint32_t f = s->flags;
    if (f & DESC_CODE) {
        fputs(f & DESC_L ? "CS64" : f & DESC_B ? "CS32" : "CS16", out);
        fprintf(out, " [%c%c", f & DESC_CE ? 'C' : '-', f & DESC_RW ? 'R' : '-');
    } else {
        fputs(f & DESC_B || m.lma ? "DS  " : "DS16", out);
        fprintf(out, " [%c%c", f & DESC_CE ? 'E' : '-', f & DESC_RW ? 'W' : '-');
    }
    fprintf(out, "%c]", f & DESC_A ? 'A' : '-');
}

/* A value in `width` hex digits, or as many dashes when the machine did not
 * report it (hvkit's way of saying "unknown" in QEMU's layout). */
static void hex(FILE *out, bool known, int width, uint64_t v)
{
    if (known)
        fprintf(out, "%0*" PRIx64, width, v);
    else
        fprintf(out, "%.*s", width, "----------------");
}

/* One segment line: "CS =0008 base limit flags DPL=0 CS64 [-R-]". */
static void seg_line(FILE *out, const char *name, const struct hmp_seg *s, struct mode m)
{
    fprintf(out, "%-3s=", name);
    hex(out, s->known_desc, 4, s->selector);
    fputc(' ', out);
    hex(out, s->known_base, m.cs64 ? 16 : 8, m.cs64 ? s->base : (uint32_t)s->base);
    fputc(' ', out);
    hex(out, s->known_desc, 8, s->limit);
    fputc(' ', out);
    hex(out, s->known_desc, 8, s->flags & 0x00ffff00);
    if (s->known_desc && m.pe && (s->flags & DESC_P)) {
        fprintf(out, " DPL=%u ", (s->flags >> DESC_DPL_SHIFT) & 3);
        if (s->flags & DESC_S)
            seg_kind(out, s, m);
        else
            fputs(sys_types[m.lma][(s->flags >> DESC_TYPE_SHIFT) & 15], out);
    }
    fputc('\n', out);
}

/* RFLAGS as QEMU shows it: the value and [DOSZAPC] (SDM vol 1 3.4.3
 * "EFLAGS Register": CF 0, PF 2, AF 4, ZF 6, SF 7, DF 10, OF 11). */
static void flags_text(char buf[10], uint64_t fl)
{
    static const struct {
        char c;
        int bit;
    } bits[7] = {{'D', 10}, {'O', 11}, {'S', 7}, {'Z', 6}, {'A', 4}, {'P', 2}, {'C', 0}};
    buf[0] = '[';
    for (int i = 0; i < 7; i++)
        buf[1 + i] = (fl >> bits[i].bit) & 1 ? bits[i].c : '-';
    buf[8] = ']';
    buf[9] = '\0';
}

/* The general registers, RIP and RFLAGS: the 64-bit layout. */
static void gprs64(FILE *out, const struct hmp_regs *r, const char *fl, int cpl)
{
    /* Printed in QEMU's order, not the encoding order of gpr[]. */
    static const char *const names[16] = {"RAX", "RBX", "RCX", "RDX", "RSI", "RDI", "RBP", "RSP",
                                          "R8 ", "R9 ", "R10", "R11", "R12", "R13", "R14", "R15"};
    static const int index[16] = {0, 3, 1, 2, 6, 7, 5, 4, 8, 9, 10, 11, 12, 13, 14, 15};
    for (int i = 0; i < 16; i++)
        fprintf(out, "%s=%016" PRIx64 "%s", names[i], r->gpr[index[i]], i % 4 == 3 ? "\n" : " ");
    fprintf(out, "RIP=%016" PRIx64 " RFL=%08x %s CPL=%d II=%d A20=1 SMM=0 HLT=%d\n", r->rip,
            (uint32_t)r->rflags, fl, cpl, r->interrupt_shadow, r->halted);
}

/* The same in the 32-bit layout. */
static void gprs32(FILE *out, const struct hmp_regs *r, const char *fl, int cpl)
{
    fprintf(out, "EAX=%08x EBX=%08x ECX=%08x EDX=%08x\n", (uint32_t)r->gpr[0], (uint32_t)r->gpr[3],
            (uint32_t)r->gpr[1], (uint32_t)r->gpr[2]);
    fprintf(out, "ESI=%08x EDI=%08x EBP=%08x ESP=%08x\n", (uint32_t)r->gpr[6], (uint32_t)r->gpr[7],
            (uint32_t)r->gpr[5], (uint32_t)r->gpr[4]);
    fprintf(out, "EIP=%08x EFL=%08x %s CPL=%d II=%d A20=1 SMM=0 HLT=%d\n", (uint32_t)r->rip,
            (uint32_t)r->rflags, fl, cpl, r->interrupt_shadow, r->halted);
}

/* GDT, IDT, control and debug registers. */
static void tables_and_crs(FILE *out, const struct hmp_regs *r, struct mode m)
{
    int w = m.lma ? 16 : 8;
    uint64_t mask = m.lma ? ~0ull : 0xffffffffull;
    fputs("GDT=     ", out);
    hex(out, r->known_gdt, w, r->gdt_base & mask);
    fputc(' ', out);
    hex(out, r->known_gdt, 8, r->gdt_limit);
    fputs("\nIDT=     ", out);
    hex(out, r->known_idt, w, r->idt_base & mask);
    fputc(' ', out);
    hex(out, r->known_idt, 8, r->idt_limit);
    fprintf(out, "\nCR0=%08x CR2=%0*" PRIx64 " CR3=%0*" PRIx64 " CR4=%08x\n", (uint32_t)r->cr0, w,
            r->cr2 & mask, w, r->cr3 & mask, (uint32_t)r->cr4);
    /* The debug registers print as 64-bit values in both layouts on a
     * 64-bit QEMU (its target_ulong), with a space after DR3. */
    for (int i = 0; i < 4; i++) {
        fprintf(out, "DR%d=", i);
        hex(out, r->known_dr, 16, r->dr[i]);
        fputc(' ', out);
    }
    fputs("\nDR6=", out);
    hex(out, r->known_dr, 16, r->dr[6]);
    fputs(" DR7=", out);
    hex(out, r->known_dr, 16, r->dr[7]);
    fputc('\n', out);
}

void hmp_print_regs(FILE *out, int cpu, const struct hmp_regs *r)
{
    struct mode m = mode_of(r);
    char fl[10];
    flags_text(fl, r->rflags);
    fprintf(out, "\nCPU#%d\n", cpu);
    if (m.cs64)
        gprs64(out, r, fl, cpl_of(r, m));
    else
        gprs32(out, r, fl, cpl_of(r, m));
    for (int i = 0; i < 6; i++)
        seg_line(out, seg_names[i], &r->seg[i], m);
    seg_line(out, "LDT", &r->ldt, m);
    seg_line(out, "TR", &r->tr, m);
    tables_and_crs(out, r, m);
    fprintf(out, "EFER=%016" PRIx64 "\n", r->efer);
}

/* A segment's "$cs", "$cs.base" or "$cs.limit"; selector and limit are
 * 32-bit fields that QEMU reads as signed (a 4 GiB limit prints as -1). */
static int seg_value(const struct hmp_regs *r, const char *name, int64_t *val)
{
    static const char *const lower[6] = {"es", "cs", "ss", "ds", "fs", "gs"};
    for (int i = 0; i < 6; i++) {
        size_t n = strlen(lower[i]);
        if (strncmp(name, lower[i], n))
            continue;
        if (!name[n])
            *val = (int32_t)r->seg[i].selector;
        else if (!strcmp(name + n, ".base"))
            *val = (int64_t)r->seg[i].base;
        else if (!strcmp(name + n, ".limit"))
            *val = (int32_t)r->seg[i].limit;
        else
            return -1;
        return 0;
    }
    return -1;
}

int hmp_reg_value(const struct hmp_regs *r, const char *name, int64_t *val)
{
    /* QEMU's names in the encoding order of gpr[]. */
    static const char *const gpr_names[16] = {"eax", "ecx", "edx", "ebx", "esp|sp", "ebp|fp",
                                              "esi", "edi", "r8",  "r9",  "r10",    "r11",
                                              "r12", "r13", "r14", "r15"};
    for (int i = 0; i < 16; i++)
        if (hmp_cmd_matches(name, gpr_names[i])) {
            *val = (int64_t)r->gpr[i];
            return 0;
        }
    if (!strcmp(name, "eflags")) {
        *val = (int64_t)r->rflags;
        return 0;
    }
    if (!strcmp(name, "eip")) {
        *val = (int64_t)r->rip;
        return 0;
    }
    if (!strcmp(name, "pc")) {
        *val = (int64_t)(r->rip + r->seg[HMP_CS].base);
        return 0;
    }
    return seg_value(r, name, val);
}
