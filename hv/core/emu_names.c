/*
 * emu_names.c - saying which instruction hv refused.
 *
 * A guest that touches MMIO with an instruction the emulator does not
 * handle is told so (the core injects #UD or ends it), and the `[hv]` line
 * names the opcode as the SDM's opcode tables write it ("0f ae /7") and,
 * for the instructions a guest is likely to use on a device, its mnemonic.
 *
 * Refusing is a deliberate part of the design, not a gap to fill one
 * opcode at a time: a device register is read and written with plain MOV
 * (Linux's readl/writel do exactly that), and every extra form
 * the emulator accepts is more code that a hostile guest can aim at.  What
 * the emulator must do instead is fail loudly and precisely, so the person
 * who wrote the driver sees which instruction to replace.
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
    /* In 64-bit mode these three bytes are not BOUND, LES and LDS (all
     * invalid there) but the first byte of an EVEX or VEX prefix, so an
     * AVX instruction lands here; the name gives both readings, as the
     * decoder does not parse vector prefixes to tell them apart. */
    {false, 0x62, -1, "bound, or an EVEX-encoded instruction"},
    {false, 0x63, -1, "arpl"},
    /* A string port instruction whose memory side is device memory: one
     * instruction touching two devices, which no driver means to do. */
    {false, 0x6c, -1, "insb"},
    {false, 0x6d, -1, "insw/insd"},
    {false, 0x6e, -1, "outsb"},
    {false, 0x6f, -1, "outsw/outsd"},
    /* Segment-register moves and POP to memory: legal, but a compiler
     * never aims them at a device, so a fault here means a wild pointer. */
    {false, 0x8c, -1, "mov from a segment register"},
    {false, 0x8d, -1, "lea"},
    {false, 0x8e, -1, "mov to a segment register"},
    {false, 0x8f, 0, "pop"},
    /* String compares and scans: the emulator copies (MOVS, STOS, LODS,
     * emu_string.c) but does not compare, since a REPE or REPNE loop ends
     * on flags it would have to compute per element; memcmp or strlen
     * over a device region is not a driver's job anyway. */
    {false, 0xa6, -1, "cmpsb"},
    {false, 0xa7, -1, "cmpsw/cmpsd/cmpsq"},
    {false, 0xae, -1, "scasb"},
    {false, 0xaf, -1, "scasw/scasd/scasq"},
    /* Shifts and rotates with a memory operand: a read-modify-write of a
     * device register that a driver would do as a read, a shift in a
     * register and a write, each of which the emulator handles. */
    {false, 0xc0, -1, "shift/rotate by imm8"},
    {false, 0xc1, -1, "shift/rotate by imm8"},
    /* See 0x62 above: VEX's two forms. */
    {false, 0xc4, -1, "les, or a VEX-encoded instruction"},
    {false, 0xc5, -1, "lds, or a VEX-encoded instruction"},
    /* Group 2 again, by 1 and by CL (SDM vol 2D A.4 "Opcode Extensions
     * for One- and Two-byte Opcodes"): every /digit is a shift or rotate,
     * so the opcode alone names it. */
    {false, 0xd0, -1, "shift/rotate by 1"},
    {false, 0xd1, -1, "shift/rotate by 1"},
    {false, 0xd2, -1, "shift/rotate by cl"},
    {false, 0xd3, -1, "shift/rotate by cl"},
    /* Group 3's multiplies and divides: their results go to RDX:RAX and a
     * divide may raise #DE, which would have to be delivered as if from
     * the faulting instruction; arithmetic on a device register is not
     * worth that.  The group's TEST, NOT and NEG have other /digit values. */
    {false, 0xf6, 4, "mul"},
    {false, 0xf6, 5, "imul"},
    {false, 0xf6, 6, "div"},
    {false, 0xf6, 7, "idiv"},
    {false, 0xf7, 4, "mul"},
    {false, 0xf7, 5, "imul"},
    {false, 0xf7, 6, "div"},
    {false, 0xf7, 7, "idiv"},
    /* Group 5: a call or jump through a pointer read from a device, or a
     * push of one.  Control flow steered by a device read is either a
     * wild pointer or an attack; INC and DEC, the group's /0 and /1, are
     * other /digit values. */
    {false, 0xff, 2, "call near indirect"},
    {false, 0xff, 3, "call far indirect"},
    {false, 0xff, 4, "jmp near indirect"},
    {false, 0xff, 5, "jmp far indirect"},
    {false, 0xff, 6, "push"},
    /* Two-byte opcodes.  Group 7 loads and stores descriptor-table
     * registers and invalidates TLB entries: a kernel pointing GDTR or an
     * INVLPG at device memory is broken, not driving a device. */
    {true, 0x01, -1, "a system instruction (group 7: sgdt, sidt, lgdt, lidt, invlpg, ...)"},
    {true, 0x0d, -1, "prefetchw"},
    /* Vector moves: the usual way a guest meets this message.  A compiler
     * turns a memcpy or a struct copy into SSE or AVX moves, and aimed at a
     * device (a framebuffer, a virtio configuration space) that fails here.
     * The fix is in the guest: copy device memory with explicit 8-, 16-
     * or 32-bit accesses, as Linux's memcpy_toio does. */
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
    /* Double shifts, and the atomics CMPXCHG and XADD: a locked
     * read-modify-write of a device register has no defined meaning on
     * most devices, and the emulator would have to make it atomic
     * as well. */
    {true, 0xa4, -1, "shld"},
    {true, 0xa5, -1, "shld"},
    {true, 0xac, -1, "shrd"},
    {true, 0xad, -1, "shrd"},
    /* Group 15: the FPU and extended-state save areas (hundreds of bytes,
     * never device memory), MXCSR loads and stores, and the cache-line
     * instructions, whose effect on an uncached device range is nil. */
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
    /* More vector stores; the non-temporal ones are how a graphics driver
     * writes a framebuffer fast, which is why they are worth naming. */
    {true, 0xd6, -1, "movq (SSE2)"},
    {true, 0xe7, -1, "movntq/movntdq (MMX/SSE2)"},
};

/* The mnemonic for an opcode (and group extension), or NULL.  A linear
 * search is enough: it runs once per refusal, which ends the guest or
 * raises an exception in it, never on a hot path. */
static const char *name_of(bool twobyte, uint8_t opcode, int ext)
{
    /* A row with ext -1 covers every /digit of its opcode; the first match
     * wins, so group rows must not share an opcode with an ext -1 row. */
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
    /* Unknown: the message still gives the opcode bytes, which a reader
     * looks up in the SDM's opcode maps. */
    return NULL;
}

/* The decoder asks this before refusing an opcode without a ModRM form
 * of its own: for a group it reads the ModRM byte anyway, because without
 * the /digit "0f ae" could be anything from FXSAVE to CLFLUSH. */
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
    /* EMU_UNSUPPORTED, not an exception: the guest did nothing the CPU
     * forbids, hv simply cannot carry the access out, and the core says
     * so in hv's log beside what it does to the guest. */
    res->status = EMU_UNSUPPORTED;
    ksnprintf(res->reason, sizeof(res->reason),
              "MMIO access by an instruction hv does not emulate: %s%02x%s%s%s%s",
              in->twobyte ? "0f " : "", in->opcode, ext_text, name ? " (" : "", name ? name : "",
              name ? ")" : "");
}

/* The access is one the CPU itself would refuse (a bad encoding, a
 * LOCK it cannot take, more than 15 bytes): the core injects the exception into the guest
 * as the CPU would have raised it (SDM vol 3A 6.15 "Exception and
 * Interrupt Reference"), and `why` goes to hv's log.  #GP from the
 * emulator always has error code 0: no selector is involved. */
void emu_exception(struct emu_result *res, uint8_t vector, const char *why)
{
    res->status = EMU_EXCEPTION;
    res->vector = vector;
    ksnprintf(res->reason, sizeof(res->reason), "%s: the CPU raises %s", why,
              vector == 6    ? "#UD"
              : vector == 13 ? "#GP(0)"
                             : "an exception");
}
