/*
 * traps.S - entry stubs for exceptions taken by hv itself (not by the
 * guest: a guest's exceptions go through the guest's own IDT).  They exist
 * so that a bug in hv ends with a clear "[hv] exit: error (...)" line
 * instead of a silent triple fault, which QEMU with -no-reboot would turn
 * into exit status 0, the same as a guest that succeeded.
 *
 * In 64-bit mode the CPU pushes SS, RSP, RFLAGS, CS, RIP and, for vectors
 * 8, 10-14, 17 and 21, an error code (SDM vol 3A 6.14.1 "64-Bit Mode IDT",
 * 6.14.2 "64-Bit Mode Stack Frame", AMD APM vol 2
 * 8.9.3 "Interrupt Stack Frame").  Each stub pushes a zero error code where the CPU does not, then
 * the vector, so that hv_trap() always sees the same frame (core/trap.c).
 */
    .text

/* Stub for a vector without an error code.  Each stub is a few bytes; the
 * alignment only keeps them easy to find in a disassembly. */
.macro TRAP_NOERR vec
    .align 16
trap_stub_\vec:
    /* A dummy error code, so the frame has the same shape as for #GP. */
    pushq $0
    /* The vector number: the CPU does not tell the handler which gate it
     * came through, so each stub records its own. */
    pushq $\vec
    jmp trap_common
.endm

/* Stub for a vector where the CPU pushed an error code. */
.macro TRAP_ERR vec
    .align 16
trap_stub_\vec:
    /* The CPU's error code is already on the stack, below this. */
    pushq $\vec
    jmp trap_common
.endm

/* #DB (vector 1), a trap without error code, with one exception.  Bochs
 * 2.7's SVM leaves the single-step trap of a guest instruction that exits
 * with RFLAGS.TF = 1 (an intercepted CPUID, a store that takes a nested
 * page fault) pending across #VMEXIT and delivers it to hv at the first
 * instruction after VMRUN.  A processor does not: the instruction did not
 * complete, and hv gives the guest its trap itself once it has emulated the
 * instruction (core/hv.h single_step_trap()).  That one #DB is dropped (hv
 * uses no debug registers, so it can mean nothing else); any other is a
 * bug in hv, reported as usual. */
.macro TRAP_DB
    .align 16
trap_stub_1:
    /* Is the trap's RIP the instruction after VMRUN?  POP leaves the flags
     * of the comparison alone. */
    pushq %rax
    leaq svm_vmrun_done(%rip), %rax
    cmpq %rax, 8(%rsp)
    popq %rax
    jne 1f
    iretq
1:  pushq $0
    pushq $1
    jmp trap_common
.endm

/* NMI (vector 2): counted and returned from, never an error.  The only
 * NMIs hv takes are the outer machine's, and on SVM they are expected: the
 * time-slice watchdog (svm/preempt.c) routes the outer PIT to the CPU as
 * an NMI, which ends a guest's run with #VMEXIT(NMI) and then stays
 * pending until hv sets GIF again (APM vol 2 15.13.2 "NMI Intercept",
 * 15.17 "Global Interrupt Flag, STGI and CLGI Instructions"); it arrives
 * here then, and preempt.c waits for the count to move.  Any other NMI
 * (none is wired) would mean nothing to hv either, so it is dropped the
 * same way.  The guests' NMIs never come here: hv injects those into the
 * guest's own IDT (core/nmi.c).  INC changes the flags and IRETQ restores
 * them from the frame; no register is touched.  IRETQ also ends the
 * CPU's NMI blocking (SDM vol 3A 6.7.1 "Handling Multiple NMIs"), so the
 * next watchdog NMI can come.
 *
 * An NMI taken just before a HLT returns past it.  hv halts only to wait
 * for an NMI (svm/preempt.c svm_host_wait: STGI, then HLT until the
 * watchdog's timer fires) or to stop for good in a loop (entry.S, the
 * end of trap_common, cpu_halt_forever); a HLT that came after its NMI
 * would wait for one that has been and gone.  So when the byte at the
 * return address (the frame's RIP, SDM vol 3A 6.14.2 "64-Bit Mode Stack
 * Frame"; an NMI pushes no error code) is HLT's opcode F4, the one-byte
 * instruction is stepped over.  The return address is always hv's own
 * code: a guest's NMIs never reach this IDT (above).  RAX is saved around
 * the test; the flags it changes come back from the frame. */
.macro TRAP_NMI
    .align 16
trap_stub_2:
    /* One more NMI taken (core/trap.h); one CPU, so no LOCK. */
    incl hv_nmis(%rip)
    pushq %rax
    /* The return address, one slot above the saved RAX. */
    movq 8(%rsp), %rax
    cmpb $0xf4, (%rax)
    jne 1f
    /* Past the HLT: the event it would have waited for has come. */
    incq 8(%rsp)
1:  popq %rax
    iretq
.endm

    /* The 32 architectural exception vectors (SDM vol 3A 6.15 "Exception
     * and Interrupt Reference"; APM vol 2 8.2 "Vectors").  Whether a vector pushes an
     * error code is fixed by the architecture: 8 #DF, 10 #TS, 11 #NP,
     * 12 #SS, 13 #GP, 14 #PF, 17 #AC and 21 #CP do.  hv takes no external
     * interrupts (IF stays 0), so vectors 32-255 are never used. */
    TRAP_NOERR 0
    TRAP_DB
    TRAP_NMI
    TRAP_NOERR 3
    TRAP_NOERR 4
    TRAP_NOERR 5
    TRAP_NOERR 6
    TRAP_NOERR 7
    TRAP_ERR 8
    TRAP_NOERR 9
    TRAP_ERR 10
    TRAP_ERR 11
    TRAP_ERR 12
    TRAP_ERR 13
    TRAP_ERR 14
    TRAP_NOERR 15
    TRAP_NOERR 16
    TRAP_ERR 17
    TRAP_NOERR 18
    TRAP_NOERR 19
    TRAP_NOERR 20
    TRAP_ERR 21
    TRAP_NOERR 22
    TRAP_NOERR 23
    TRAP_NOERR 24
    TRAP_NOERR 25
    TRAP_NOERR 26
    TRAP_NOERR 27
    TRAP_NOERR 28
    TRAP_NOERR 29
    TRAP_NOERR 30
    TRAP_NOERR 31

/* The frame is now: vector, error code, RIP, CS, RFLAGS, RSP, SS.  Pass its
 * address to C; hv_trap() never returns (hv cannot go on after a fault). */
trap_common:
    /* First argument of hv_trap(): a pointer to the frame. */
    movq %rsp, %rdi
    /* The CPU aligned RSP to 16 before pushing its 5 qwords (SDM vol 3A
     * 6.14.2 "64-Bit Mode Stack Frame"); with our pushes the alignment varies, so force it for the
     * C code, as the System V ABI wants at a CALL. */
    andq $-16, %rsp
    call hv_trap
    /* Never reached; stop for good if it ever is. */
1:  cli
    hlt
    jmp 1b

/* The stubs' addresses, for building the IDT in C. */
    /* core/trap.c reads this table to fill hv's IDT, gate i -> stub i. */
    .section .rodata
    .align 8
    .globl trap_stubs
trap_stubs:
    .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .quad trap_stub_\v
    .endr

    /* No executable stack needed (see entry.S). */
    .section .note.GNU-stack, "", @progbits
