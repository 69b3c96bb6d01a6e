/*
 * nmi: a guest that takes non-maskable interrupts from the machine's NMI
 * button (QEMU's monitor `nmi`, QMP inject-nmi; under hv the same through
 * hvkit's monitor, `xl trigger DOMAIN nmi` or `virsh inject-nmi`) and
 * prints what each one interrupted, in five phases a test drives from
 * outside (tests/integration/nmi.sh), each announced by a line:
 *
 *   1. spinning with IF=1: one NMI;
 *   2. spinning with IF=0: one NMI, which IF does not mask;
 *   3. HLT with IF=0: one NMI, which wakes the CPU; its handler returns
 *      to the instruction after the HLT;
 *   4. the handler of the next NMI waits, with IF=0, for the power button
 *      (polled: no interrupt may run inside it, as any IRET would end the
 *      NMI blocking); meanwhile a second NMI is sent, which the CPU must
 *      hold until the handler's IRET (SDM vol 3A 6.7.1 "Handling Multiple
 *      NMIs"): it arrives right after, never nested in the first;
 *   5. the machine is stopped, gets two NMIs, and continues: one NMI is
 *      delivered (a CPU latches one; the second adds nothing).
 *
 * Each NMI prints its number, the handler's depth (1: not nested) and the
 * interrupted code's IF; the last line counts them.  The same lines come
 * on plain QEMU, the reference, and under hv on each backend.  Nothing
 * ends a phase but an NMI: run alone, the guest waits until the run's
 * time limit.
 */
#include "guestkit/acpi.h"
#include "guestkit/guestkit.h"
#include "guestkit/pic.h"
#include "guestkit/trap.h"

/* 20 ms of PIT input clocks, for the quiet wait of phase 5. */
#define PERIOD (PIT_HZ / 50)

static volatile unsigned count, depth, deepest;

/* The instruction after phase 3's HLT (halt_with_if0()). */
extern const char nmi_after_hlt[];

static void on_nmi(const struct trap_frame *f)
{
    unsigned n = ++count;
    if (++depth > deepest)
        deepest = depth;
    printf("nmi: NMI %u, depth %u, interrupted code had IF=%u%s\n", n, depth,
           (unsigned)((f->rflags >> 9) & 1),
           f->rip == (uintptr_t)nmi_after_hlt ? ", right after its HLT" : "");
    if (n == 4) {
        /* The second NMI is sent now; it must wait for this IRET. */
        printf("nmi: NMI 4 waits in its handler for the power button\n");
        while (!acpi_power_button_poll())
            __asm__ volatile("pause");
        printf("nmi: NMI 4 saw the power button; returning\n");
    }
    depth--;
}

/* Spin until NMI number n has come, with interrupts as they are. */
static void wait_for(unsigned n)
{
    while (count < n)
        __asm__ volatile("pause");
}

/* HLT with IF=0, once: only an NMI (or an INIT) ends it.  Not inlined,
 * so that its label exists once. */
static __attribute__((noinline)) void halt_with_if0(void)
{
    __asm__ volatile("cli\n\thlt\n\t.globl nmi_after_hlt\nnmi_after_hlt:" ::: "memory");
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    /* Nothing else interrupts: the PIT stopped, the 8259s masked; the
     * power button only polled (no handler). */
    pit_stop();
    pic_init();
    if (!acpi_power_button_init(NULL)) {
        printf("nmi: no ACPI power button (no FADT, or ACPI mode refused)\n");
        return 3;
    }
    set_nmi_handler(on_nmi);

    printf("nmi: phase 1: spinning with IF=1\n");
    sti();
    wait_for(1);
    cli();

    printf("nmi: phase 2: spinning with IF=0\n");
    wait_for(2);

    printf("nmi: phase 3: HLT with IF=0\n");
    halt_with_if0();
    printf("nmi: phase 3: woke from HLT (%u NMIs)\n", count);

    printf("nmi: phase 4: the next NMI's handler waits for the power button\n");
    wait_for(5);

    printf("nmi: phase 5: stopped, two NMIs, continued\n");
    wait_for(6);
    /* A second NMI for the two presses would come now: give it half a
     * second of PIT time. */
    pit_square(PERIOD);
    for (int i = 0; i < 25; i++) {
        while (pit_out())
            ;
        while (!pit_out())
            ;
    }
    pit_stop();
    printf("nmi: %u NMIs, at most %u deep\n", count, deepest);
    return count == 6 && deepest == 1 ? 0 : 1;
}
