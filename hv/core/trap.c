/*
 * trap.c - hv's own IDT, for exceptions in hv itself (see boot/traps.S).
 * A fault in hv is a bug: report it on the console as the final
 * "[hv] exit: error (...)" line and end the outer machine.  An NMI is not
 * a fault: traps.S counts it (hv_nmis, trap.h) and returns.
 */
#include "klib.h"

#include "cpu.h"
#include "ending.h"
#include "log.h"
#include "trap.h"

/* The frame traps.S builds (lowest address first). */
struct trap_frame {
    /* Pushed by the stub, then by the CPU (SDM vol 3A 6.14.2 "64-Bit Mode Stack Frame"). */
    uint64_t vector, error, rip, cs, rflags, rsp, ss;
};

/* A 64-bit IDT gate descriptor (SDM vol 3A 6.14.1 "64-Bit Mode IDT", figure 6-8 "64-Bit IDT Gate
 * Descriptors"). */
struct idt_gate {
    /* Handler address bits 15:0. */
    uint16_t offset_lo;
    /* The code segment the handler runs in. */
    uint16_t selector;
    /* Bits 2:0: interrupt stack table index, 0 = no stack switch. */
    uint8_t ist;
    uint8_t type_attr; /* P, DPL, type (0xE = 64-bit interrupt gate) */
    /* Handler address bits 31:16 and 63:32. */
    uint16_t offset_mid;
    uint32_t offset_hi;
    /* Must be zero. */
    uint32_t reserved;
} __attribute__((packed));

/* The stub addresses from traps.S, one per vector. */
extern const uint64_t trap_stubs[32];
/* Only 32 gates: the IDT limit makes any higher vector a #GP, which then
 * arrives here through gate 13 and is reported. */
static struct idt_gate idt[32] __attribute__((aligned(16)));

/* See trap.h: written by the NMI stub in traps.S, read by svm/preempt.c.
 * volatile: it changes under the feet of the code that reads it. */
volatile uint32_t hv_nmis;

/* Called from traps.S only; declared here to give it its noreturn. */
__attribute__((noreturn)) void hv_trap(const struct trap_frame *f);

/* Fill the IDT's first 32 vectors (the CPU exceptions, and the NMI's
 * vector 2, whose stub only counts it) and load it.  hv runs with
 * interrupts off and the outer PICs masked, so vectors 32 and up are
 * never used. */
void trap_init(void)
{
    for (unsigned v = 0; v < 32; v++) {
        /* The 64-bit handler address is split over three gate fields. */
        uint64_t a = trap_stubs[v];
        /* Interrupt gate, present, DPL 0, hv's 64-bit code segment 0x08
         * (boot/entry.S GDT). */
        idt[v] = (struct idt_gate){
            .offset_lo = (uint16_t)a,
            .selector = 0x08,
            /* No IST: hv has no TSS, so faults use the current stack.  A
             * stack overflow would then triple-fault; hv's stack use is
             * small and bounded, so we accept that. */
            .ist = 0,
            .type_attr = 0x8e,
            .offset_mid = (uint16_t)(a >> 16),
            .offset_hi = (uint32_t)(a >> 32),
        };
    }
    /* LIDT takes a 10-byte limit:base pseudo-descriptor. */
    /* Packed: the base must follow the 2-byte limit directly. */
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) idtr = {sizeof(idt) - 1, (uint64_t)(uintptr_t)idt};
    /* From here on any exception in hv reaches hv_trap(). */
    __asm__ volatile("lidt %0" : : "m"(idtr));
}

/* Report a fault in hv with what the CPU saved, then end: after a fault
 * hv's own state cannot be trusted, so it does not try to go on. */
void hv_trap(const struct trap_frame *f)
{
    /* Everything the CPU gave us, plus CR2 (the address of a #PF), so that
     * the line plus hv64.elf and addr2line point at the faulting code. */
    hv_log("hv itself took exception %llu (error code %#llx) at RIP %#llx, RSP %#llx, "
           "RFLAGS %#llx, CR2 %#llx",
           (unsigned long long)f->vector, (unsigned long long)f->error, (unsigned long long)f->rip,
           (unsigned long long)f->rsp, (unsigned long long)f->rflags,
           (unsigned long long)read_cr2());
    /* The protocol's last line; the outer machine ends here. */
    end_error("hv crashed: exception %llu at RIP %#llx (a bug in hv)",
              (unsigned long long)f->vector, (unsigned long long)f->rip);
}
