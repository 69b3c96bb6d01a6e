/*
 * Unit tests for hv/dev/pic8259.c and hv/dev/pit8254.c, programmed through
 * their ports exactly as guestkit's runtime (and any PC OS) does.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "dev/iobus.h"
#include "dev/pic8259.h"
#include "dev/pit8254.h"
#include "check_main.h"

static struct iobus bus;
static struct pic8259 pic;
static struct pit8254 pit;
static uint64_t now; /* the fake clock, in PIT input clocks */

static uint64_t fake_clock(void *ctx)
{
    (void)ctx;
    return now;
}

static void setup(void)
{
    now = 1000;
    iobus_init(&bus, NULL, NULL);
    pic_init_state(&pic);
    pit_init_state(&pit, fake_clock, NULL);
    ck_assert_int_eq(iobus_add(&bus, &pic.master.dev), 0);
    ck_assert_int_eq(iobus_add(&bus, &pic.slave.dev), 0);
    ck_assert_int_eq(iobus_add(&bus, &pit.dev), 0);
}

/* The standard PC initialization: IRQs on vectors 32..47, all masked
 * (guestkit/runtime/pic.c does exactly this). */
static void pic_program(uint8_t icw4)
{
    iobus_out(&bus, 0x20, 1, 0x11);
    iobus_out(&bus, 0xa0, 1, 0x11);
    iobus_out(&bus, 0x21, 1, 32);
    iobus_out(&bus, 0xa1, 1, 40);
    iobus_out(&bus, 0x21, 1, 4);
    iobus_out(&bus, 0xa1, 1, 2);
    iobus_out(&bus, 0x21, 1, icw4);
    iobus_out(&bus, 0xa1, 1, icw4);
    iobus_out(&bus, 0x21, 1, 0xff);
    iobus_out(&bus, 0xa1, 1, 0xff);
}

static void pulse(unsigned irq)
{
    pic_set_irq(&pic, irq, true);
    pic_set_irq(&pic, irq, false);
}

/* ---- PIC ---- */

START_TEST(masked_until_unmasked)
{
    pic_program(0x01);
    ck_assert_uint_eq(iobus_in(&bus, 0x21, 1), 0xff);
    pulse(0);
    /* Latched in IRR but masked. */
    ck_assert_int_eq(pic_pending(&pic), -1);
    ck_assert_uint_eq(iobus_in(&bus, 0x20, 1), 0x01);
    iobus_out(&bus, 0x21, 1, 0xfe);
    ck_assert_int_eq(pic_pending(&pic), 32);
    ck_assert_int_eq(pic_acknowledge(&pic), 32);
    ck_assert_int_eq(pic_pending(&pic), -1);
    /* OCW3: read ISR at the command port. */
    iobus_out(&bus, 0x20, 1, 0x0b);
    ck_assert_uint_eq(iobus_in(&bus, 0x20, 1), 0x01);
    /* Non-specific EOI clears it. */
    iobus_out(&bus, 0x20, 1, 0x20);
    ck_assert_uint_eq(iobus_in(&bus, 0x20, 1), 0x00);
}
END_TEST

START_TEST(edges_not_levels)
{
    pic_program(0x01);
    iobus_out(&bus, 0x21, 1, 0x00);
    /* A line held high requests once. */
    pic_set_irq(&pic, 1, true);
    ck_assert_int_eq(pic_acknowledge(&pic), 33);
    iobus_out(&bus, 0x20, 1, 0x20);
    pic_set_irq(&pic, 1, true);
    ck_assert_int_eq(pic_pending(&pic), -1);
    /* Low then high again: a new request. */
    pic_set_irq(&pic, 1, false);
    pic_set_irq(&pic, 1, true);
    ck_assert_int_eq(pic_pending(&pic), 33);
}
END_TEST

START_TEST(priority_and_nesting)
{
    pic_program(0x01);
    iobus_out(&bus, 0x21, 1, 0x00);
    pulse(5);
    pulse(3);
    /* IR3 beats IR5. */
    ck_assert_int_eq(pic_acknowledge(&pic), 35);
    /* IR5 waits while IR3 is in service... */
    ck_assert_int_eq(pic_pending(&pic), -1);
    /* ...but IR1 (higher priority) nests. */
    pulse(1);
    ck_assert_int_eq(pic_acknowledge(&pic), 33);
    /* Non-specific EOI ends the highest in service: IR1. */
    iobus_out(&bus, 0x20, 1, 0x20);
    ck_assert_int_eq(pic_pending(&pic), -1);
    /* Specific EOI for IR3 (OCW2 0x63). */
    iobus_out(&bus, 0x20, 1, 0x63);
    ck_assert_int_eq(pic_pending(&pic), 37);
}
END_TEST

START_TEST(slave_through_cascade)
{
    pic_program(0x01);
    /* IRQ 12: slave IR4, needs master IR2 unmasked as well. */
    iobus_out(&bus, 0xa1, 1, 0xef);
    pulse(12);
    ck_assert_int_eq(pic_pending(&pic), -1);
    iobus_out(&bus, 0x21, 1, 0xfb);
    ck_assert_int_eq(pic_pending(&pic), 44);
    ck_assert_int_eq(pic_acknowledge(&pic), 44);
    /* Both chips have it in service until both get an EOI. */
    iobus_out(&bus, 0x20, 1, 0x0b);
    iobus_out(&bus, 0xa0, 1, 0x0b);
    ck_assert_uint_eq(iobus_in(&bus, 0x20, 1), 0x04);
    ck_assert_uint_eq(iobus_in(&bus, 0xa0, 1), 0x10);
    iobus_out(&bus, 0xa0, 1, 0x20);
    iobus_out(&bus, 0x20, 1, 0x20);
    ck_assert_uint_eq(iobus_in(&bus, 0x20, 1), 0x00);
    ck_assert_uint_eq(iobus_in(&bus, 0xa0, 1), 0x00);
}
END_TEST

/* On a PC/AT the master's IR2 is the cascade input: the ISA bus's IRQ 2
 * line is wired to the slave's IR1 and arrives as IRQ 9. */
START_TEST(irq2_arrives_as_irq9)
{
    pic_program(0x01);
    /* Unmask master IR2 (the cascade) and slave IR1. */
    iobus_out(&bus, 0x21, 1, 0xfb);
    iobus_out(&bus, 0xa1, 1, 0xfd);
    pulse(2);
    /* Latched by the slave (IRR read through OCW3's default), as IR1. */
    ck_assert_uint_eq(iobus_in(&bus, 0xa0, 1), 0x02);
    ck_assert_int_eq(pic_pending(&pic), 41);
    ck_assert_int_eq(pic_acknowledge(&pic), 41);
    ck_assert_int_eq(pic_pending(&pic), -1);
}
END_TEST

START_TEST(auto_eoi_and_reinit)
{
    pic_program(0x03);
    iobus_out(&bus, 0x21, 1, 0x00);
    pulse(0);
    ck_assert_int_eq(pic_acknowledge(&pic), 32);
    /* Automatic EOI: nothing stays in service. */
    pulse(4);
    ck_assert_int_eq(pic_acknowledge(&pic), 36);
    /* ICW1 forgets latched requests. */
    pulse(6);
    pic_program(0x01);
    iobus_out(&bus, 0x21, 1, 0x00);
    ck_assert_int_eq(pic_pending(&pic), -1);
}
END_TEST

/* ---- PIT ---- */

/* guestkit's pit_out(): read-back of channel 0's status, bit 7 = OUT. */
static int pit_out(void)
{
    iobus_out(&bus, 0x43, 1, 0xe2);
    return (iobus_in(&bus, 0x40, 1) & 0x80) != 0;
}

START_TEST(level_mode_elcr)
{
    pic_program(0x01);
    ck_assert_int_eq(iobus_add(&bus, &pic.elcr_dev), 0);
    /* IRQ 0-2 and 8, 13 cannot be level-triggered. */
    iobus_out(&bus, 0x4d0, 1, 0xff);
    iobus_out(&bus, 0x4d1, 1, 0xff);
    ck_assert_uint_eq(iobus_in(&bus, 0x4d0, 1), 0xf8);
    ck_assert_uint_eq(iobus_in(&bus, 0x4d1, 1), 0xde);
    iobus_out(&bus, 0x4d0, 1, 0x00);
    iobus_out(&bus, 0x4d1, 1, 0x04); /* IRQ 10 level */
    iobus_out(&bus, 0x21, 1, 0xfb);
    iobus_out(&bus, 0xa1, 1, 0xfb);
    /* Two devices share IRQ 10: the request lasts while the line is high. */
    pic_set_irq(&pic, 10, true);
    ck_assert_int_eq(pic_acknowledge(&pic), 42);
    /* EOI to both chips while the line is still high: it comes again. */
    iobus_out(&bus, 0xa0, 1, 0x20);
    iobus_out(&bus, 0x20, 1, 0x20);
    ck_assert_int_eq(pic_pending(&pic), 42);
    ck_assert_int_eq(pic_acknowledge(&pic), 42);
    iobus_out(&bus, 0xa0, 1, 0x20);
    iobus_out(&bus, 0x20, 1, 0x20);
    /* The line drops before the CPU takes it: no request any more. */
    pic_set_irq(&pic, 10, false);
    ck_assert_int_eq(pic_pending(&pic), -1);
    /* Edge-triggered IRQ 11 beside it still latches. */
    iobus_out(&bus, 0xa1, 1, 0xf3);
    pulse(11);
    ck_assert_int_eq(pic_pending(&pic), 43);
}
END_TEST

START_TEST(oneshot_mode0)
{
    /* guestkit's pit_oneshot(1000): control word 0x30, LSB, MSB. */
    iobus_out(&bus, 0x43, 1, 0x30);
    ck_assert(!pit_out());
    iobus_out(&bus, 0x40, 1, 1000 & 0xff);
    iobus_out(&bus, 0x40, 1, 1000 >> 8);
    ck_assert_uint_eq(pit_next_edge(&pit, now), 1000);
    now += 999;
    ck_assert(!pit_out());
    ck_assert(!pit_irq0_edge(&pit, now));
    now += 1;
    ck_assert(pit_out());
    ck_assert(pit_irq0_edge(&pit, now));
    /* Once only: OUT stays high, no further edge. */
    now += 100000;
    ck_assert(pit_out());
    ck_assert(!pit_irq0_edge(&pit, now));
    ck_assert_uint_eq(pit_next_edge(&pit, now), UINT64_MAX);
    /* A new control word drops OUT again. */
    iobus_out(&bus, 0x43, 1, 0x30);
    ck_assert(!pit_out());
}
END_TEST

START_TEST(counter_latch_reads_count)
{
    iobus_out(&bus, 0x43, 1, 0x34); /* channel 0, LSB+MSB, mode 2 */
    iobus_out(&bus, 0x40, 1, 0x00);
    iobus_out(&bus, 0x40, 1, 0x10); /* 0x1000 */
    now += 0x100;
    iobus_out(&bus, 0x43, 1, 0x00); /* latch channel 0 */
    now += 0x200;                   /* the latch holds the old value */
    uint16_t lo = (uint16_t)iobus_in(&bus, 0x40, 1);
    uint16_t hi = (uint16_t)iobus_in(&bus, 0x40, 1);
    ck_assert_uint_eq(lo | (hi << 8), 0x1000 - 0x100);
    /* Unlatched reads follow the clock. */
    lo = (uint16_t)iobus_in(&bus, 0x40, 1);
    hi = (uint16_t)iobus_in(&bus, 0x40, 1);
    ck_assert_uint_eq(lo | (hi << 8), 0x1000 - 0x300);
}
END_TEST

START_TEST(periodic_mode2)
{
    iobus_out(&bus, 0x43, 1, 0x34);
    iobus_out(&bus, 0x40, 1, 100);
    iobus_out(&bus, 0x40, 1, 0);
    /* OUT is high, low for the last clock of each period. */
    ck_assert(pit_out_at(&pit, 0, now + 50));
    ck_assert(!pit_out_at(&pit, 0, now + 99));
    ck_assert(pit_out_at(&pit, 0, now + 100));
    uint64_t t0 = now;
    now = t0 + 150;
    ck_assert(pit_irq0_edge(&pit, now));
    ck_assert(!pit_irq0_edge(&pit, now));
    ck_assert_uint_eq(pit_next_edge(&pit, now), 50);
    /* Many periods later: one edge reported (the PIC latches, not counts). */
    now = t0 + 1050;
    ck_assert(pit_irq0_edge(&pit, now));
    ck_assert(!pit_irq0_edge(&pit, now));
}
END_TEST

START_TEST(square_wave_mode3_and_lsb_only)
{
    /* Channel 2, LSB only, mode 3: count 10. */
    iobus_out(&bus, 0x43, 1, 0x96);
    iobus_out(&bus, 0x42, 1, 10);
    ck_assert(pit_out_at(&pit, 2, now + 4));
    ck_assert(!pit_out_at(&pit, 2, now + 5));
    ck_assert(pit_out_at(&pit, 2, now + 10));
    /* Read-back status of channel 2: OUT, LSB access (01), mode 3. */
    iobus_out(&bus, 0x43, 1, 0xe8);
    ck_assert_uint_eq(iobus_in(&bus, 0x42, 1), 0x80 | 0x10 | (3 << 1));
    /* Channel 2 drives no IRQ. */
    ck_assert(!pit_irq0_edge(&pit, now + 100));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hv_irq");
    TCase *tc = tcase_create("pic");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, masked_until_unmasked);
    tcase_add_test(tc, edges_not_levels);
    tcase_add_test(tc, priority_and_nesting);
    tcase_add_test(tc, slave_through_cascade);
    tcase_add_test(tc, irq2_arrives_as_irq9);
    tcase_add_test(tc, auto_eoi_and_reinit);
    tcase_add_test(tc, level_mode_elcr);
    suite_add_tcase(s, tc);
    tc = tcase_create("pit");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, oneshot_mode0);
    tcase_add_test(tc, counter_latch_reads_count);
    tcase_add_test(tc, periodic_mode2);
    tcase_add_test(tc, square_wave_mode3_and_lsb_only);
    suite_add_tcase(s, tc);
    return check_main(s);
}
