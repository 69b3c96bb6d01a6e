/*
 * emu_names.c - saying which instruction hv refused.
 *
 * A guest that touches MMIO with an instruction the emulator does not
 * handle is told so (the core injects #UD or ends it), and the `[hv]` line
 * names the opcode as the SDM's opcode tables write it ("0f ae /7") and,
 * for the instructions a guest is likely to use on a device, its mnemonic.
 */
#include "klib.h"

#include "emu_insn.h"

/* Instructions with a memory operand that drivers or compilers might aim
 * at device memory, and that hv does not emulate (mnemonics from SDM vol
 * 2; the opcode maps are SDM vol 2D tables A-2 "One-byte Opcode Map", A-3 and A-6).  ext is the
 * ModRM.reg extension of a group, or -1 when the opcode alone says it. */
static const struct {
    bool twobyte;
    uint8_t opcode;
    int8_t ext;
    const char *name;
} names[] = {
    {false, 0x62, -1, "bound, or an EVEX-encoded instruction"},
    {false, 0x63, -1, "arpl"},
    {false, 0x6c, -1, "insb"},
    {false, 0x6d, -1, "insw/insd"},
    {false, 0x6e, -1, "outsb"},
    {false, 0x6f, -1, "outsw/outsd"},
    {false, 0x8c, -1, "mov from a segment register"},
    {false, 0x8d, -1, "lea"},
    {false, 0x8e, -1, "mov to a segment register"},
    {false, 0x8f, 0, "pop"},
    {false, 0xa6, -1, "cmpsb"},
    {false, 0xa7, -1, "cmpsw/cmpsd/cmpsq"},
    {false, 0xae, -1, "scasb"},
    {false, 0xaf, -1, "scasw/scasd/scasq"},
    {false, 0xc0, -1, "shift/rotate by imm8"},
    {false, 0xc1, -1, "shift/rotate by imm8"},
    {false, 0xc4, -1, "les, or a VEX-encoded instruction"},
    {false, 0xc5, -1, "lds, or a VEX-encoded instruction"},
    {false, 0xd0, -1, "shift/rotate by 1"},
    {false, 0xd1, -1, "shift/rotate by 1"},
    {false, 0xd2, -1, "shift/rotate by cl"},
    {false, 0xd3, -1, "shift/rotate by cl"},
    {false, 0xf6, 4, "mul"},
    {false, 0xf6, 5, "imul"},
    {false, 0xf6, 6, "div"},
    {false, 0xf6, 7, "idiv"},
    {false, 0xf7, 4, "mul"},
    {false, 0xf7, 5, "imul"},
    {false, 0xf7, 6, "div"},
    {false, 0xf7, 7, "idiv"},
    {false, 0xff, 2, "call near indirect"},
    {false, 0xff, 3, "call far indirect"},
    {false, 0xff, 4, "jmp near indirect"},
    {false, 0xff, 5, "jmp far indirect"},
    {false, 0xff, 6, "push"},
    {true, 0x01, -1, "a system instruction (group 7: sgdt, sidt, lgdt, lidt, invlpg, ...)"},
    {true, 0x0d, -1, "prefetchw"},
    {true, 0x10, -1, "movups/movupd/movss/movsd (SSE)"},
    {true, 0x11, -1, "movups/movupd/movss/movsd (SSE)"},
    {true, 0x18, -1, "prefetch"},
    {true, 0x28, -1, "movaps/movapd (SSE)"},
    {true, 0x29, -1, "movaps/movapd (SSE)"},
    {true, 0x2b, -1, "movntps/movntpd (SSE)"},
    {true, 0x6e, -1, "movd/movq (MMX/SSE)"},
    {true, 0x6f, -1, "movq/movdqa/movdqu (MMX/SSE)"},
    {true, 0x7e, -1, "movd/movq (MMX/SSE)"},
    {true, 0x7f, -1, "movq/movdqa/movdqu (MMX/SSE)"},
    {true, 0xa4, -1, "shld"},
    {true, 0xa5, -1, "shld"},
    {true, 0xac, -1, "shrd"},
    {true, 0xad, -1, "shrd"},
    {true, 0xae, 0, "fxsave"},
    {true, 0xae, 1, "fxrstor"},
    {true, 0xae, 2, "ldmxcsr"},
    {true, 0xae, 3, "stmxcsr"},
    {true, 0xae, 4, "xsave"},
    {true, 0xae, 5, "xrstor"},
    {true, 0xae, 6, "xsaveopt/clwb"},
    {true, 0xae, 7, "clflush"},
    {true, 0xb0, -1, "cmpxchg"},
    {true, 0xb1, -1, "cmpxchg"},
    {true, 0xc0, -1, "xadd"},
    {true, 0xc1, -1, "xadd"},
    {true, 0xc7, 1, "cmpxchg8b/cmpxchg16b"},
    {true, 0xd6, -1, "movq (SSE2)"},
    {true, 0xe7, -1, "movntq/movntdq (MMX/SSE2)"},
};

/* The mnemonic for an opcode (and group extension), or NULL. */
static const char *name_of(bool twobyte, uint8_t opcode, int ext)
{
    for (size_t i = 0; i < KARRAY_SIZE(names); i++)
        if (names[i].twobyte == twobyte && names[i].opcode == opcode &&
            (names[i].ext < 0 || names[i].ext == ext))
            return names[i].name;
    /* x87 arithmetic and loads/stores with memory: D8-DF. */
    if (!twobyte && opcode >= 0xd8 && opcode <= 0xdf)
        return "x87 floating point";
    /* PUSH and POP of a register touch the stack, not an operand. */
    if (!twobyte && opcode >= 0x50 && opcode <= 0x5f)
        return "push/pop (a stack access)";
    return NULL;
}

bool emu_opcode_is_group(bool twobyte, uint8_t opcode)
{
    for (size_t i = 0; i < KARRAY_SIZE(names); i++)
        if (names[i].twobyte == twobyte && names[i].opcode == opcode && names[i].ext >= 0)
            return true;
    return false;
}

void emu_refuse(struct emu_result *res, const struct emu_insn *in, int ext)
{
    /* Group opcodes are shown with their /digit, as the SDM lists them. */
    char ext_text[4] = "";
    const char *name = name_of(in->twobyte, in->opcode, ext);
    /* The three-byte maps and the groups whose /digit is the instruction
     * are the ones where it matters; show it whenever a ModRM was read. */
    if (in->has_modrm)
        ksnprintf(ext_text, sizeof(ext_text), " /%d", ext);
    res->status = EMU_UNSUPPORTED;
    ksnprintf(res->reason, sizeof(res->reason),
              "MMIO access by an instruction hv does not emulate: %s%02x%s%s%s%s",
              in->twobyte ? "0f " : "", in->opcode, ext_text, name ? " (" : "", name ? name : "",
              name ? ")" : "");
}

void emu_exception(struct emu_result *res, uint8_t vector, const char *why)
{
    res->status = EMU_EXCEPTION;
    res->vector = vector;
    ksnprintf(res->reason, sizeof(res->reason), "%s: the CPU raises %s", why,
              vector == 6    ? "#UD"
              : vector == 13 ? "#GP(0)"
                             : "an exception");
}
