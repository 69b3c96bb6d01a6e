/*
 * The 8259A interrupt controllers and channel 0 of the 8254 timer, the
 * minimum a guest needs to receive one timer interrupt.
 */
#include "guestkit/pic.h"
#include "guestkit/trap.h"
#include "guestkit/x86.h"

#define PIC1_CMD  0x20
#define PIC1_DATA 0x21
#define PIC2_CMD  0xa0
#define PIC2_DATA 0xa1
#define PIC_EOI   0x20 /* OCW2: non-specific end of interrupt */

#define PIT_CH0 0x40
#define PIT_CMD 0x43

void pic_init(void)
{
    /* ICW1: start initialisation, edge triggered, cascade, ICW4 follows.
     * It also clears the mask register and resets edge detection (8259A
     * data sheet, "Initialization Command Words"). */
    outb(PIC1_CMD, 0x11);
    outb(PIC2_CMD, 0x11);
    /* ICW2: the vector of IR0.  The BIOS used 8..15, which collide with CPU
     * exceptions in protected mode; move the IRQs to 32..47. */
    outb(PIC1_DATA, IRQ_BASE_VECTOR);
    outb(PIC2_DATA, IRQ_BASE_VECTOR + 8);
    /* ICW3: the slave hangs on the master's IR2. */
    outb(PIC1_DATA, 1 << 2);
    outb(PIC2_DATA, 2);
    /* ICW4: 8086 mode, normal (not automatic) EOI. */
    outb(PIC1_DATA, 0x01);
    outb(PIC2_DATA, 0x01);
    /* OCW1: mask everything; tests unmask what they use. */
    outb(PIC1_DATA, 0xff);
    outb(PIC2_DATA, 0xff);
}

void pic_unmask(int irq)
{
    if (irq < 8) {
        outb(PIC1_DATA, inb(PIC1_DATA) & ~(1u << irq));
    } else {
        /* A slave IRQ also needs the cascade line IR2 open on the master. */
        outb(PIC2_DATA, inb(PIC2_DATA) & ~(1u << (irq - 8)));
        outb(PIC1_DATA, inb(PIC1_DATA) & ~(1u << 2));
    }
}

void pic_level_triggered(int irq)
{
    /* The edge/level control registers of a PC's chipset (PIIX's ELCR1
     * at 0x4d0 for IRQ 0-7, ELCR2 at 0x4d1 for IRQ 8-15): a 1 makes the
     * input level-triggered, as a shared PCI or ACPI line must be. */
    uint16_t port = (uint16_t)(irq < 8 ? 0x4d0 : 0x4d1);
    outb(port, (uint8_t)(inb(port) | (1u << (irq & 7))));
}

void pic_mask(int irq)
{
    if (irq < 8)
        outb(PIC1_DATA, inb(PIC1_DATA) | (1u << irq));
    else
        outb(PIC2_DATA, inb(PIC2_DATA) | (1u << (irq - 8)));
}

uint8_t pic_irr(void)
{
    /* OCW3 with RR=1, RIS=0 selects the interrupt request register for the
     * next read of the command port (8259A data sheet, "Operation Command
     * Words", OCW3).  The selection sticks, so this is cheap to repeat. */
    outb(PIC1_CMD, 0x0a);
    return inb(PIC1_CMD);
}

void pic_eoi(int irq)
{
    /* A slave IRQ needs an EOI on both chips: the master saw it as IR2. */
    if (irq >= 8)
        outb(PIC2_CMD, PIC_EOI);
    outb(PIC1_CMD, PIC_EOI);
}

void pit_stop(void)
{
    /* Control word: channel 0 (bits 7:6 = 00), low then high byte
     * (5:4 = 11), mode 0 (3:1 = 000), binary (0).  Writing it sets OUT low
     * at once and counting waits for a new count (82C54 data sheet). */
    outb(PIT_CMD, 0x30);
}

void pit_oneshot(uint16_t count)
{
    pit_stop();
    /* Loading the count starts it; OUT rises when it reaches 0. */
    outb(PIT_CH0, (uint8_t)count);
    outb(PIT_CH0, (uint8_t)(count >> 8));
}

void pit_periodic(uint16_t count)
{
    /* Control word: channel 0, low then high byte, mode 2 ("rate
     * generator": OUT pulses low once every `count` clocks, which the PIC
     * sees as one rising edge per period), binary. */
    outb(PIT_CMD, 0x34);
    outb(PIT_CH0, (uint8_t)count);
    outb(PIT_CH0, (uint8_t)(count >> 8));
}

void pit_square(uint16_t count)
{
    /* Control word: channel 0, low then high byte, mode 3 ("square wave
     * mode", 82C54 data sheet: OUT high for half the count, rounded up,
     * then low for the rest, reloading at the end of each period),
     * binary.  The control word sets OUT high at once. */
    outb(PIT_CMD, 0x36);
    outb(PIT_CH0, (uint8_t)count);
    outb(PIT_CH0, (uint8_t)(count >> 8));
}

bool pit_out(void)
{
    /* Read-back command (bits 7:6 = 11): bit 5 = 1 don't latch the count,
     * bit 4 = 0 latch the status, bit 1 = channel 0.  The status byte's bit
     * 7 is the OUT pin. */
    outb(PIT_CMD, 0xe2);
    return (inb(PIT_CH0) & 0x80) != 0;
}
