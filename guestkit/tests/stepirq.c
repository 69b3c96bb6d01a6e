/*
 * stepirq: single-stepping (RFLAGS.TF = 1) while an interrupt is waiting.
 *
 * With TF set the CPU raises a #DB trap after each instruction (SDM vol 3B
 * 18.3.1.4 "Single-Step Exception Condition").  When an external interrupt
 * becomes deliverable at the same instruction boundary, both are due, and
 * the trap of the previous instruction goes first (SDM vol 3A 6.9 "Priority
 * Among Concurrent Exceptions and Interrupts": traps on the previous
 * instruction rank above maskable interrupts); the interrupt follows once
 * the #DB handler has returned.  A hypervisor that injects the interrupt at
 * that boundary must not lose the #DB.
 *
 * The guest makes IRQ 0 pending (a PIT one-shot that has expired), sets
 * TF, and makes the interrupt deliverable with one instruction: POPF
 * setting IF (run by the CPU), or OUT unmasking it at the PIC (carried out
 * by hv).  A #DB handler of its own logs each trap's RIP, the IRQ handler
 * logs the interrupt; the log, as labels, must be the same as on plain
 * QEMU and as the SDM's priorities say.
 */
#include "guestkit/guestkit.h"
#include "guestkit/pic.h"

/* The log: 'D' + label index for a #DB, 'I' for IRQ 0. */
#define LOG_MAX 32
char step_log[LOG_MAX];
unsigned step_log_n;
uint64_t step_rip[LOG_MAX];

static void on_timer(int irq)
{
    (void)irq;
    if (step_log_n < LOG_MAX)
        step_log[step_log_n++] = 'I';
}

/* The #DB handler: log the RIP the trap points at, return.  An interrupt
 * gate, so IF and TF are clear inside; IRETQ restores both. */
extern const char step_db_entry[];
__asm__(".text\n"
        ".globl step_db_entry\n"
        "step_db_entry:\n"
        "        push %rax\n"
        "        push %rcx\n"
        "        push %rdx\n"
        "        movl step_log_n(%rip), %ecx\n"
        "        cmpl $32, %ecx\n"
        "        jae 1f\n"
        "        movq 24(%rsp), %rax\n"
        "        leaq step_rip(%rip), %rdx\n"
        "        movq %rax, (%rdx,%rcx,8)\n"
        "        leaq step_log(%rip), %rdx\n"
        "        movb $'D', (%rdx,%rcx)\n"
        "        incl step_log_n(%rip)\n"
        "1:      pop %rdx\n"
        "        pop %rcx\n"
        "        pop %rax\n"
        "        iretq\n");

/* The stepped code.  TF is switched on first (POPF: no trap after the
 * POPF that sets it), then every instruction up to the one that switches
 * it off traps; the labels name the boundaries a trap can point at.
 *   popf: IF = 0 with IRQ 0 pending and unmasked; POPF sets IF, so the
 *         interrupt and POPF's trap are due at the same boundary (the CPU
 *         runs POPF; under hv the interrupt window opens there);
 *   out:  IF = 1 with IRQ 0 pending but masked; OUT to the PIC's mask
 *         register unmasks it, so its trap and the interrupt are due at the
 *         same boundary (hv carries the OUT out itself). */
extern const char popf_1[], popf_2[], popf_3[], popf_4[], popf_5[], popf_6[];
extern const char out_1[], out_2[], out_3[], out_4[];
void step_popf(void);
void step_out(void);
__asm__(".text\n"
        "step_popf:\n"
        "        pushfq\n"
        "        popq %rax\n"
        "        orq $0x100, %rax\n"
        "        pushq %rax\n"
        "        popfq\n"
        "popf_1: orq $0x200, %rax\n"
        "popf_2: pushq %rax\n"
        "popf_3: popfq\n"
        "popf_4: nop\n"
        "popf_5: nop\n"
        "popf_6: cli\n"
        "        pushfq\n"
        "        andq $~0x100, (%rsp)\n"
        "        popfq\n"
        "        ret\n"
        "step_out:\n"
        "        movb $0xfe, %al\n"
        "        pushfq\n"
        "        orq $0x100, (%rsp)\n"
        "        popfq\n"
        "out_1:  outb %al, $0x21\n"
        "out_2:  nop\n"
        "out_3:  nop\n"
        "out_4:  cli\n"
        "        pushfq\n"
        "        andq $~0x100, (%rsp)\n"
        "        popfq\n"
        "        ret\n");

/* An IDT gate (SDM vol 3A 6.14.1 "64-Bit Mode IDT"): point vector 1 at
 * handler, keeping the runtime's selector and type; returns the old gate. */
struct gate {
    uint16_t off0, sel;
    uint8_t ist, type;
    uint16_t off1;
    uint32_t off2, zero;
};

static struct gate *idt_gate(int vector)
{
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } idtr;
    __asm__ volatile("sidt %0" : "=m"(idtr));
    return (struct gate *)(uintptr_t)idtr.base + vector;
}

static void set_gate(struct gate *g, const void *handler)
{
    uint64_t a = (uintptr_t)handler;
    g->off0 = (uint16_t)a;
    g->off1 = (uint16_t)(a >> 16);
    g->off2 = (uint32_t)(a >> 32);
}

/* Make IRQ 0 pending (in the PIC's IRR): a short one-shot, waited out
 * with interrupts off.  unmasked: whether the PIC lets it through. */
static bool irq0_pending(bool unmasked)
{
    cli();
    if (unmasked)
        pic_unmask(0);
    else
        pic_mask(0);
    pit_oneshot(100);
    unsigned long spins = 0;
    while (!(pic_irr() & 1) && spins < 100000000ul)
        spins++;
    return pic_irr() & 1;
}

/* The log as text: "D1" for a #DB at labels[1], "I" for the IRQ; a #DB
 * outside the labels (after TF is switched off) is left out. */
static void log_text(const char *const *labels, unsigned n, char *out, size_t len)
{
    size_t at = 0;
    out[0] = '\0';
    for (unsigned i = 0; i < step_log_n && at + 4 < len; i++) {
        if (step_log[i] == 'I') {
            at += (size_t)ksnprintf(out + at, len - at, "%sI", at ? " " : "");
            continue;
        }
        for (unsigned k = 0; k < n; k++)
            if (step_rip[i] == (uintptr_t)labels[k])
                at += (size_t)ksnprintf(out + at, len - at, "%sD%u", at ? " " : "", k);
    }
}

static void one_run(const char *name, void (*fn)(void), bool unmasked, const char *const *labels,
                    unsigned n, const char *want)
{
    char text[80];
    step_log_n = 0;
    bool pending = irq0_pending(unmasked);
    /* The masked case runs with interrupts on: only the OUT lets IRQ 0 in. */
    if (!unmasked)
        sti();
    fn();
    log_text(labels, n, text, sizeof(text));
    report(pending && !strcmp(text, want),
           "%s: a #DB after every instruction, IRQ 0 after the #DB due with it (log %s, want %s)",
           name, text, want);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (under_hvkit() && !(cpuid(HVKIT_CPUID_BASE + 1).ecx & HVKIT_FEATURE_IRQ)) {
        report_skip("popf: needs interrupt injection");
        report_skip("out: needs interrupt injection");
        return report_summary();
    }
    struct gate *db = idt_gate(1), saved = *db;
    set_gate(db, step_db_entry);
    set_irq_handler(0, on_timer);
    pit_stop();
    pic_init();
    /* Label 0 stands for "no label". */
    static const char *const popf[] = {"", popf_1, popf_2, popf_3, popf_4, popf_5, popf_6};
    static const char *const out[] = {"", out_1, out_2, out_3, out_4};
    one_run("popf", step_popf, true, popf, 7, "D2 D3 D4 I D5 D6");
    one_run("out", step_out, false, out, 5, "D2 I D3 D4");
    pic_mask(0);
    set_irq_handler(0, NULL);
    *db = saved;
    return report_summary();
}
