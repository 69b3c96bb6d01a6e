/*
 * The IDT and the C side of exception and interrupt handling.
 * SDM vol. 3A, chapter 6 "Interrupt and Exception Handling".
 */
#include "klib.h"
#include "guestkit/console.h"
#include "guestkit/pic.h"
#include "guestkit/runtime.h"
#include "guestkit/trap.h"
#include "guestkit/x86.h"

#define IDT_VECTORS (IRQ_BASE_VECTOR + IRQ_COUNT)
/* The first vector above the PIC's, for the local APIC's interrupts. */
#define APIC_FIRST_VECTOR IDT_VECTORS

/* A 64-bit IDT gate descriptor (SDM vol. 3A, 6.14.1 "64-Bit Mode IDT", figure 6-8 "64-Bit IDT Gate
 * Descriptors"). */
struct idt_gate {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t ist;       /* bits 2:0 = interrupt stack table index, 0 = none */
    uint8_t type_attr; /* P, DPL, type */
    uint16_t offset_mid;
    uint32_t offset_high;
    uint32_t reserved;
} __attribute__((packed));

/* The operand of LIDT in 64-bit mode: limit, then a 64-bit base. */
struct idt_pointer {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

/* 256 gates, every one with a stub: exceptions, the PIC's IRQs, and the
 * vectors a local APIC delivers. */
static struct idt_gate idt[256] __attribute__((aligned(16)));

/* Stub addresses from runtime/isr.S, one per vector 0..47, and the first
 * of the 16-byte stubs for vectors 48..255. */
extern const uint64_t isr_stubs[IDT_VECTORS];
extern const char isr_apic_stubs[];

/* What catch.S and trap_dispatch() share; the first two fields' offsets are
 * used by catch.S. */
struct gk_catch {
    uint64_t rsp;    /* offset 0: stack pointer to resume with */
    uint64_t resume; /* offset 8: address to resume at */
    struct exception_info info;
};
struct gk_catch *volatile gk_active_catch;
int gk_call_catching(void (*fn)(void *), void *arg, struct gk_catch *c);

static void (*irq_handlers[IRQ_COUNT])(int irq);
static void (*nmi_handler)(const struct trap_frame *f);
static void (*vector_handlers[256 - APIC_FIRST_VECTOR])(int vector);

/* The code and data segments entry.S loaded (64-bit code, GDT index 1;
 * data, index 2). */
#define KERNEL_CS 0x08
#define KERNEL_DS 0x10
/* Present, DPL 0, type 0xE = 64-bit interrupt gate: the CPU clears IF on
 * entry, so handlers run with interrupts off (SDM vol. 3A, 6.12.1.3 "Flag Usage By Exception- or
 * Interrupt-Handler Procedure"). */
#define GATE_INTERRUPT 0x8e

void idt_init(void)
{
    for (int v = 0; v < 256; v++) {
        /* Exceptions and PIC IRQs have named stubs, the APIC's vectors a
         * run of equal 16-byte ones. */
        uint64_t addr = v < IDT_VECTORS ? isr_stubs[v]
                                        : (uintptr_t)isr_apic_stubs + 16u * (v - APIC_FIRST_VECTOR);
        idt[v].offset_low = (uint16_t)addr;
        idt[v].selector = KERNEL_CS;
        idt[v].ist = 0;
        idt[v].type_attr = GATE_INTERRUPT;
        idt[v].offset_mid = (uint16_t)(addr >> 16);
        idt[v].offset_high = (uint32_t)(addr >> 32);
        idt[v].reserved = 0;
    }
    struct idt_pointer p = {.limit = sizeof(idt) - 1, .base = (uintptr_t)idt};
    __asm__ volatile("lidt %0" : : "m"(p));
}

static const char *const names[32][2] = {
    {"#DE", "divide error"},
    {"#DB", "debug"},
    {"NMI", "non-maskable interrupt"},
    {"#BP", "breakpoint"},
    {"#OF", "overflow"},
    {"#BR", "BOUND range exceeded"},
    {"#UD", "invalid opcode"},
    {"#NM", "device not available"},
    {"#DF", "double fault"},
    {"#CSO", "coprocessor segment overrun"},
    {"#TS", "invalid TSS"},
    {"#NP", "segment not present"},
    {"#SS", "stack-segment fault"},
    {"#GP", "general protection"},
    {"#PF", "page fault"},
    {"#15", "reserved vector 15"},
    {"#MF", "x87 floating-point error"},
    {"#AC", "alignment check"},
    {"#MC", "machine check"},
    {"#XM", "SIMD floating-point exception"},
    {"#VE", "virtualization exception"},
    {"#CP", "control protection"},
    {"#22", "reserved vector 22"},
    {"#23", "reserved vector 23"},
    {"#24", "reserved vector 24"},
    {"#25", "reserved vector 25"},
    {"#26", "reserved vector 26"},
    {"#27", "reserved vector 27"},
    {"#HV", "hypervisor injection"},
    {"#VC", "VMM communication"},
    {"#SX", "security exception"},
    {"#31", "reserved vector 31"},
};

const char *exception_mnemonic(int vector)
{
    return vector >= 0 && vector < 32 ? names[vector][0] : "IRQ";
}

const char *exception_name(int vector)
{
    return vector >= 0 && vector < 32 ? names[vector][1] : "external interrupt";
}

void dump_trap_frame(const struct trap_frame *f)
{
    printf("  RIP=%016llx  CS=%04llx  RFLAGS=%016llx\n", (unsigned long long)f->rip,
           (unsigned long long)f->cs, (unsigned long long)f->rflags);
    printf("  RSP=%016llx  SS=%04llx  error code=%#llx\n", (unsigned long long)f->rsp,
           (unsigned long long)f->ss, (unsigned long long)f->error_code);
    printf("  RAX=%016llx RBX=%016llx RCX=%016llx RDX=%016llx\n", (unsigned long long)f->rax,
           (unsigned long long)f->rbx, (unsigned long long)f->rcx, (unsigned long long)f->rdx);
    printf("  RSI=%016llx RDI=%016llx RBP=%016llx\n", (unsigned long long)f->rsi,
           (unsigned long long)f->rdi, (unsigned long long)f->rbp);
    printf("  R8 =%016llx R9 =%016llx R10=%016llx R11=%016llx\n", (unsigned long long)f->r8,
           (unsigned long long)f->r9, (unsigned long long)f->r10, (unsigned long long)f->r11);
    printf("  R12=%016llx R13=%016llx R14=%016llx R15=%016llx\n", (unsigned long long)f->r12,
           (unsigned long long)f->r13, (unsigned long long)f->r14, (unsigned long long)f->r15);
    printf("  CR0=%016llx CR2=%016llx CR3=%016llx CR4=%016llx\n", (unsigned long long)read_cr0(),
           (unsigned long long)read_cr2(), (unsigned long long)read_cr3(),
           (unsigned long long)read_cr4());
}

/* An exception no catch_exception() was waiting for: report and stop. */
__attribute__((noreturn)) static void unexpected_exception(const struct trap_frame *f)
{
    int v = (int)f->vector;
    printf("guestkit: unexpected exception %s (vector %d, %s), error code %#llx\n",
           exception_mnemonic(v), v, exception_name(v), (unsigned long long)f->error_code);
    /* For #PF, CR2 holds the linear address that faulted (SDM vol. 3A, 4.7 "Page-Fault
     * Exceptions"). */
    if (v == PF_VECTOR)
        printf("  page fault at address %#llx\n", (unsigned long long)read_cr2());
    dump_trap_frame(f);
    exit(GK_EXIT_EXCEPTION);
}

/* Called by isr_common (runtime/isr.S) for every vector. */
void trap_dispatch(struct trap_frame *f)
{
    int v = (int)f->vector;

    if (v >= APIC_FIRST_VECTOR) {
        /* A local APIC interrupt: its handler sends the APIC's EOI. */
        if (vector_handlers[v - APIC_FIRST_VECTOR])
            vector_handlers[v - APIC_FIRST_VECTOR](v);
        else
            printf("guestkit: interrupt vector %d arrived with no handler; ignoring it\n", v);
        return;
    }
    if (v >= IRQ_BASE_VECTOR) {
        int irq = v - IRQ_BASE_VECTOR;
        if (irq_handlers[irq])
            irq_handlers[irq](irq);
        else
            printf("guestkit: IRQ %d arrived with no handler; ignoring it\n", irq);
        /* The PIC holds lower-priority IRQs until it gets the EOI. */
        pic_eoi(irq);
        return;
    }

    /* An NMI the program waits for is not an exception to catch. */
    if (v == NMI_VECTOR && nmi_handler) {
        nmi_handler(f);
        return;
    }
    struct gk_catch *c = gk_active_catch;
    if (!c)
        unexpected_exception(f);
    /* A catch_exception() call is waiting: record the exception and resume
     * in gk_call_catching (catch.S) at its `resume` label, on the stack it
     * saved, with RAX = vector as its return value.  The rest of fn's frame
     * is simply abandoned. */
    gk_active_catch = NULL;
    c->info.vector = v;
    c->info.error_code = f->error_code;
    c->info.rip = f->rip;
    c->info.cr2 = v == PF_VECTOR ? read_cr2() : 0;
    f->rip = c->resume;
    f->rsp = c->rsp;
    /* Resume without single-stepping: a #DB from RFLAGS.TF (a test that
     * single-steps) would otherwise trap again after every instruction. */
    f->rflags &= ~(uint64_t)X86_RFLAGS_TF;
    /* gk_call_catching runs in ring 0, so IRETQ must land there even when
     * the exception came from ring 3 (run_in_ring3(), user.c). */
    f->cs = KERNEL_CS;
    f->ss = KERNEL_DS;
    f->rax = (uint64_t)v;
}

bool catch_exception(void (*fn)(void *), void *arg, struct exception_info *info)
{
    struct gk_catch c;
    memset(&c, 0, sizeof(c));
    c.info.vector = -1;
    int vector = gk_call_catching(fn, arg, &c);
    if (info)
        *info = c.info;
    return vector >= 0;
}

bool expect_exception(int vector, void (*fn)(void *), void *arg, struct exception_info *info)
{
    struct exception_info local;
    if (!info)
        info = &local;
    if (!catch_exception(fn, arg, info)) {
        printf("    expected %s, but the code ran without an exception\n",
               exception_mnemonic(vector));
        return false;
    }
    if (info->vector != vector) {
        printf("    expected %s, got %s (vector %d, error code %#llx, RIP %#llx)\n",
               exception_mnemonic(vector), exception_mnemonic(info->vector), info->vector,
               (unsigned long long)info->error_code, (unsigned long long)info->rip);
        return false;
    }
    return true;
}

void triple_fault(void)
{
    /* With limit 0 the #UD from ud2 cannot be delivered, so the CPU raises
     * #GP; that cannot be delivered either, so #DF; when #DF fails too the
     * processor shuts down (SDM vol. 3A, 6.15 "Exception and Interrupt
     * Reference", "Interrupt 8 - Double Fault Exception"). */
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } empty = {0, 0};
    __asm__ volatile("lidt %0; ud2" : : "m"(empty));
}

void set_vector_handler(int vector, void (*handler)(int vector))
{
    if (vector >= APIC_FIRST_VECTOR && vector < 256)
        vector_handlers[vector - APIC_FIRST_VECTOR] = handler;
}

void set_irq_handler(int irq, void (*handler)(int irq))
{
    if (irq >= 0 && irq < IRQ_COUNT)
        irq_handlers[irq] = handler;
}

void set_nmi_handler(void (*handler)(const struct trap_frame *f))
{
    nmi_handler = handler;
}
