/*
 * Exceptions and interrupts.  The runtime installs an IDT with a handler for
 * each of the 32 exception vectors (SDM vol. 3A, 6.3.1 "External Interrupts"), for the
 * 16 legacy PIC IRQs remapped to vectors 32..47, and for vectors 48..255, which
 * a local APIC delivers.  An exception nobody expected prints
 * its name, error code and all registers, then ends the guest with
 * GK_EXIT_EXCEPTION.  A test that wants an exception says so with
 * catch_exception() or expect_exception().
 */
#ifndef GUESTKIT_TRAP_H
#define GUESTKIT_TRAP_H

#include <stdbool.h>
#include <stdint.h>

/* The stack frame the common entry stub builds: general registers pushed by
 * runtime/isr.S, then vector and error code, then what the CPU pushed (SDM
 * vol. 3A, 6.14.2 "64-Bit Mode Stack Frame").  Lowest address first. */
struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss;
};

/* What an exception caught by catch_exception() looked like. */
struct exception_info {
    int vector;          /* 0..31 */
    uint64_t error_code; /* 0 for vectors that push none */
    uint64_t rip;        /* the RIP the CPU pushed (faults: the faulting instruction) */
    uint64_t cr2;        /* the faulting address for #PF, else 0 */
};

/* The first IRQ vector after the PIC remap (see pic.h). */
#define IRQ_BASE_VECTOR 32
#define IRQ_COUNT       16

/* Set up the IDT (done by the runtime before main). */
void idt_init(void);

/* Shut the CPU down as a machine dies: an empty IDT (limit 0), then ud2.
 * Returns only on a CPU that did not shut down. */
void triple_fault(void);

/* Run fn(arg).  If it returns normally, return false.  If it raises an
 * exception, abandon it at that point (its stack frame is discarded, the
 * callee-saved registers are restored), fill *info (if not NULL) and return
 * true.  Think of it as try/catch for one function call; runtime/catch.S
 * shows how it works.  Calls do not nest. */
bool catch_exception(void (*fn)(void *), void *arg, struct exception_info *info);

/* catch_exception() that also checks the vector: true only if fn raised
 * exactly `vector`.  Prints a note saying what happened otherwise. */
bool expect_exception(int vector, void (*fn)(void *), void *arg, struct exception_info *info);

/* The mnemonic of an exception vector ("#GP") and its name. */
const char *exception_mnemonic(int vector);
const char *exception_name(int vector);

/* Call handler(irq) when IRQ `irq` (0..15) arrives; the runtime sends the
 * PIC its end-of-interrupt afterwards.  NULL removes the handler. */
void set_irq_handler(int irq, void (*handler)(int irq));

/* Call handler(vector) when interrupt `vector` (48..255) arrives: a local
 * APIC's vector, which the handler ends with the APIC's EOI itself.  NULL
 * removes the handler; a vector without one is reported and ignored. */
void set_vector_handler(int vector, void (*handler)(int vector));

/* Call handler(frame) when an NMI (vector 2) arrives, on the interrupted
 * code's stack with interrupts off; the CPU holds further NMIs until the
 * handler returns (its IRET).  NULL removes it: an NMI is then an
 * unexpected exception. */
void set_nmi_handler(void (*handler)(const struct trap_frame *f));

/* Print every register of a frame (used for unexpected exceptions). */
void dump_trap_frame(const struct trap_frame *f);

#endif
