/*
 * Unit tests for hv/dev: the port-I/O bus, the 16550 UART model and the
 * debug-exit port, driven the way a guest driver drives them.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "dev/acpi_pm.h"
#include "dev/acpi_tables.h"
#include "dev/debug_exit.h"
#include "dev/fwcfg.h"
#include "dev/iobus.h"
#include "dev/port92.h"
#include "dev/uart16550.h"
#include "check_main.h"

#define COM1 0x3f8

/* Bus messages and UART lines, collected. */
static char notes[8][160];
static int nnotes;
static char lines[8][300];
static int nlines;

static void note(void *ctx, const char *line)
{
    (void)ctx;
    if (nnotes < 8)
        strncpy(notes[nnotes], line, sizeof(notes[0]) - 1);
    nnotes++;
}

static void line_out(void *ctx, const char *s, size_t len)
{
    (void)ctx;
    if (nlines < 8) {
        memcpy(lines[nlines], s, len);
        lines[nlines][len] = '\0';
    }
    nlines++;
}

static struct iobus bus;
static struct uart16550 uart;
static struct debug_exit dx;

static void setup(void)
{
    memset(notes, 0, sizeof(notes));
    memset(lines, 0, sizeof(lines));
    nnotes = nlines = 0;
    iobus_init(&bus, note, NULL);
    uart_init(&uart, COM1, line_out, NULL);
    debug_exit_init(&dx, 0xf4);
    ck_assert_int_eq(iobus_add(&bus, &uart.dev), 0);
    ck_assert_int_eq(iobus_add(&bus, &dx.dev), 0);
}

static void puts_uart(const char *s)
{
    for (; *s; s++)
        iobus_out(&bus, COM1, 1, (uint8_t)*s);
}

/* ---- bus ---- */

START_TEST(unknown_port_reads_all_ones_and_reports_once)
{
    ck_assert_uint_eq(iobus_in(&bus, 0x2f0, 1), 0xff);
    ck_assert_uint_eq(iobus_in(&bus, 0x2f0, 2), 0xffff);
    ck_assert_uint_eq(iobus_in(&bus, 0x2f0, 4), 0xffffffffu);
    ck_assert_int_eq(nnotes, 1);
    ck_assert(strstr(notes[0], "unknown port 0x2f0") != NULL);
    /* A write to an unknown port is ignored and reported once too. */
    iobus_out(&bus, 0x80, 1, 0x12);
    iobus_out(&bus, 0x80, 1, 0x34);
    ck_assert_int_eq(nnotes, 2);
    ck_assert(strstr(notes[1], "wrote 0x12 to unknown port 0x80") != NULL);
    /* None of that reached a device (the core's interrupt check counts on
     * it, core/irq.c). */
    ck_assert_uint_eq(bus.device_accesses, 0);
}
END_TEST

/* Every access that reaches a device model is counted, one per device
 * call: whole, or byte by byte when split. */
START_TEST(device_accesses_counted)
{
    iobus_out(&bus, COM1 + 7, 1, 0x5a);
    ck_assert_uint_eq(bus.device_accesses, 1);
    ck_assert_uint_eq(iobus_in(&bus, COM1 + 7, 1), 0x5a);
    ck_assert_uint_eq(bus.device_accesses, 2);
    /* SCR and the unowned 0x400: one byte reaches the UART. */
    (void)iobus_in(&bus, COM1 + 7, 2);
    ck_assert_uint_eq(bus.device_accesses, 3);
    iobus_out(&bus, COM1 + 3, 2, 0x0b03);
    ck_assert_uint_eq(bus.device_accesses, 5);
}
END_TEST

/* A device that answers its port number's low byte plus one, and keeps
 * the last byte written to it. */
static uint32_t echo_read(void *ctx, uint16_t offset, uint8_t size)
{
    (void)size;
    return (uint32_t)(uintptr_t)ctx + offset + 1;
}

static uint8_t echo_written[64];

static void echo_write(void *ctx, uint16_t offset, uint8_t size, uint32_t value)
{
    (void)offset;
    (void)size;
    echo_written[(uintptr_t)ctx] = (uint8_t)value;
}

/* The bus tells a port nobody owns without a search (the exit fast path
 * relies on it, core/fastpath.h): any owned byte makes an access owned,
 * and a device added later owns its ports from then on. */
START_TEST(unowned_ports)
{
    ck_assert(iobus_unowned(&bus, 0x2f0, 1));
    ck_assert(iobus_unowned(&bus, 0x2f0, 4));
    ck_assert(!iobus_unowned(&bus, COM1, 1));
    /* COM1 + 7 is the UART's last port: a 2-byte access half owned. */
    ck_assert(!iobus_unowned(&bus, COM1 + 7, 2));
    ck_assert(iobus_unowned(&bus, COM1 + 8, 2));
    /* An access the fast path may take (iobus_void()) is one to a port
     * nobody owns that was reported already: not before the first access,
     * which writes the log line, and never half owned. */
    ck_assert(!iobus_void(&bus, 0x2f0, 1));
    /* 0x2f0 was read once (reported); a device put there takes it. */
    ck_assert_uint_eq(iobus_in(&bus, 0x2f0, 1), 0xff);
    ck_assert_int_eq(nnotes, 1);
    ck_assert(iobus_void(&bus, 0x2f0, 1));
    ck_assert(iobus_void(&bus, 0x2f0, 2));
    ck_assert(!iobus_void(&bus, 0x2f1, 1));
    ck_assert(!iobus_void(&bus, COM1, 1));
    /* What an IN reads there, by size: all ones. */
    ck_assert_uint_eq(iobus_float(1), 0xff);
    ck_assert_uint_eq(iobus_float(2), 0xffff);
    ck_assert_uint_eq(iobus_float(4), 0xffffffffu);
    static struct io_device d = {.name = "echo",
                                 .base = 0x2f0,
                                 .count = 1,
                                 .read = echo_read,
                                 .write = echo_write,
                                 .ctx = (void *)(uintptr_t)3};
    ck_assert_int_eq(iobus_add(&bus, &d), 0);
    ck_assert(!iobus_unowned(&bus, 0x2f0, 1));
    ck_assert_uint_eq(iobus_in(&bus, 0x2f0, 1), 4);
    ck_assert_uint_eq(bus.device_accesses, 1);
}
END_TEST

START_TEST(overlapping_devices_refused)
{
    struct uart16550 u2;
    uart_init(&u2, COM1 + 4, line_out, NULL);
    ck_assert_int_eq(iobus_add(&bus, &u2.dev), -1);
    uart_init(&u2, 0x2f8, line_out, NULL);
    ck_assert_int_eq(iobus_add(&bus, &u2.dev), 0);
}
END_TEST

START_TEST(any_number_of_devices)
{
    /* 64 one-port devices at 0x100..0x13f, far more than a fixed table of
     * 16 would hold, each reached at its own port. */
    static struct io_device d[64];
    for (unsigned i = 0; i < 64; i++) {
        d[i] = (struct io_device){.name = "echo",
                                  .base = (uint16_t)(0x100 + i),
                                  .count = 1,
                                  .read = echo_read,
                                  .write = echo_write,
                                  .ctx = (void *)(uintptr_t)i};
        ck_assert_int_eq(iobus_add(&bus, &d[i]), 0);
    }
    for (unsigned i = 0; i < 64; i++) {
        ck_assert_uint_eq(iobus_in(&bus, (uint16_t)(0x100 + i), 1), i + 1);
        iobus_out(&bus, (uint16_t)(0x100 + i), 1, 0x80 + i);
        ck_assert_uint_eq(echo_written[i], 0x80 + i);
    }
    /* Still one owner per port: a second device on 0x120 is refused. */
    struct io_device dup = d[0x20];
    ck_assert_int_eq(iobus_add(&bus, &dup), -1);
    /* An empty range and one past 0xFFFF are refused too. */
    struct io_device bad = {
        .name = "bad", .base = 0xfff0, .count = 0x20, .read = echo_read, .write = echo_write};
    ck_assert_int_eq(iobus_add(&bus, &bad), -1);
    bad.base = 0x200;
    bad.count = 0;
    ck_assert_int_eq(iobus_add(&bus, &bad), -1);
}
END_TEST

START_TEST(wide_access_split_into_bytes)
{
    /* A 16-bit write at LCR (0x3fb) reaches LCR and MCR (0x3fc). */
    iobus_out(&bus, COM1 + 3, 2, 0x0b03);
    ck_assert_uint_eq(iobus_in(&bus, COM1 + 3, 1), 0x03);
    ck_assert_uint_eq(iobus_in(&bus, COM1 + 4, 1), 0x0b);
    ck_assert_uint_eq(iobus_in(&bus, COM1 + 3, 2), 0x0b03);
    /* Bytes beyond the device float high: 0x3ff is SCR, 0x400 unknown. */
    iobus_out(&bus, COM1 + 7, 1, 0x5a);
    ck_assert_uint_eq(iobus_in(&bus, COM1 + 7, 2), 0xff5a);
}
END_TEST

/* ---- UART ---- */

START_TEST(uart_lines_pass_through)
{
    puts_uart("Hello\r\nworld\n");
    ck_assert_int_eq(nlines, 2);
    ck_assert_str_eq(lines[0], "Hello");
    ck_assert_str_eq(lines[1], "world");
    /* A partial line waits for its newline, or a flush. */
    puts_uart("tail");
    ck_assert_int_eq(nlines, 2);
    uart_flush(&uart);
    ck_assert_int_eq(nlines, 3);
    ck_assert_str_eq(lines[2], "tail");
    uart_flush(&uart);
    ck_assert_int_eq(nlines, 3);
}
END_TEST

START_TEST(uart_long_line_is_split)
{
    for (int i = 0; i < UART_LINE_MAX + 10; i++)
        iobus_out(&bus, COM1, 1, 'a');
    ck_assert_int_eq(nlines, 1);
    ck_assert_uint_eq(strlen(lines[0]), UART_LINE_MAX);
}
END_TEST

START_TEST(uart_lsr_msr_scratch)
{
    /* LSR: THRE | TEMT, no data ready. */
    ck_assert_uint_eq(iobus_in(&bus, COM1 + 5, 1), 0x60);
    /* Scratch register keeps any value. */
    iobus_out(&bus, COM1 + 7, 1, 0xa5);
    ck_assert_uint_eq(iobus_in(&bus, COM1 + 7, 1), 0xa5);
    /* MSR: DCD, DSR and CTS of a connected terminal. */
    ck_assert_uint_eq(iobus_in(&bus, COM1 + 6, 1), 0xb0);
    /* RBR with nothing received reads 0. */
    ck_assert_uint_eq(iobus_in(&bus, COM1, 1), 0);
}
END_TEST

START_TEST(uart_divisor_latch)
{
    /* DLAB = 1: offsets 0 and 1 are the divisor, not THR/IER. */
    iobus_out(&bus, COM1 + 3, 1, 0x83);
    iobus_out(&bus, COM1 + 0, 1, 0x0c);
    iobus_out(&bus, COM1 + 1, 1, 0x00);
    ck_assert_uint_eq(iobus_in(&bus, COM1 + 0, 1), 0x0c);
    ck_assert_uint_eq(iobus_in(&bus, COM1 + 3, 1), 0x83);
    ck_assert_int_eq(nlines, 0);
    /* DLAB = 0: the divisor is kept, IER reads its own value. */
    iobus_out(&bus, COM1 + 3, 1, 0x03);
    ck_assert_uint_eq(iobus_in(&bus, COM1 + 1, 1), 0);
    iobus_out(&bus, COM1 + 3, 1, 0x83);
    ck_assert_uint_eq(iobus_in(&bus, COM1 + 0, 1), 0x0c);
    iobus_out(&bus, COM1 + 3, 1, 0x03);
    /* The divisor write did not print anything. */
    puts_uart("x\n");
    ck_assert_int_eq(nlines, 1);
    ck_assert_str_eq(lines[0], "x");
}
END_TEST

START_TEST(uart_iir_and_fifo)
{
    /* No interrupt pending, FIFOs off. */
    ck_assert_uint_eq(iobus_in(&bus, COM1 + 2, 1), 0x01);
    /* FCR enables the FIFOs: IIR bits 7:6 set. */
    iobus_out(&bus, COM1 + 2, 1, 0x07);
    ck_assert_uint_eq(iobus_in(&bus, COM1 + 2, 1), 0xc1);
    /* Enabling the THRE interrupt raises it (and the INTR output); reading
     * IIR clears it. */
    ck_assert(!uart_irq(&uart));
    iobus_out(&bus, COM1 + 1, 1, 0x02);
    ck_assert(uart_irq(&uart));
    ck_assert_uint_eq(iobus_in(&bus, COM1 + 1, 1), 0x02);
    ck_assert_uint_eq(iobus_in(&bus, COM1 + 2, 1), 0xc2);
    ck_assert(!uart_irq(&uart));
    ck_assert_uint_eq(iobus_in(&bus, COM1 + 2, 1), 0xc1);
    /* Sending a byte raises it again; disabling IER drops the output. */
    iobus_out(&bus, COM1, 1, 'z');
    ck_assert(uart_irq(&uart));
    ck_assert_uint_eq(iobus_in(&bus, COM1 + 2, 1), 0xc2);
    iobus_out(&bus, COM1, 1, 'z');
    iobus_out(&bus, COM1 + 1, 1, 0x00);
    ck_assert(!uart_irq(&uart));
    /* IER keeps only its four defined bits. */
    iobus_out(&bus, COM1 + 1, 1, 0xff);
    ck_assert_uint_eq(iobus_in(&bus, COM1 + 1, 1), 0x0f);
}
END_TEST

START_TEST(uart_loopback)
{
    /* MCR bit 4: a sent byte comes back, nothing is printed. */
    iobus_out(&bus, COM1 + 4, 1, 0x1f);
    ck_assert_uint_eq(iobus_in(&bus, COM1 + 4, 1), 0x1f);
    iobus_out(&bus, COM1, 1, 0xae);
    ck_assert_uint_eq(iobus_in(&bus, COM1 + 5, 1) & 1, 1);
    ck_assert_uint_eq(iobus_in(&bus, COM1, 1), 0xae);
    ck_assert_uint_eq(iobus_in(&bus, COM1 + 5, 1) & 1, 0);
    /* MSR mirrors the modem-control outputs. */
    ck_assert_uint_eq(iobus_in(&bus, COM1 + 6, 1), 0xf0);
    iobus_out(&bus, COM1 + 4, 1, 0x10);
    ck_assert_uint_eq(iobus_in(&bus, COM1 + 6, 1), 0x00);
    iobus_out(&bus, COM1 + 4, 1, 0x03);
    puts_uart("\n");
    ck_assert_int_eq(nlines, 1);
    ck_assert_str_eq(lines[0], "");
}
END_TEST

/* CHARACTER mode (after reset): the receiver is RBR alone, one byte; the
 * host's second byte waits until the guest has read the first. */
START_TEST(uart_receive_character_mode)
{
    const uint8_t in[] = "hi";
    ck_assert_uint_eq(uart_receive(&uart, in, 2), 1);
    ck_assert_uint_eq(uart_receive(&uart, in + 1, 1), 0);
    ck_assert_uint_eq(iobus_in(&bus, COM1 + 5, 1), 0x61);
    ck_assert_uint_eq(iobus_in(&bus, COM1, 1), 'h');
    ck_assert_uint_eq(iobus_in(&bus, COM1 + 5, 1), 0x60);
    ck_assert_uint_eq(uart_receive(&uart, in + 1, 1), 1);
    ck_assert_uint_eq(iobus_in(&bus, COM1, 1), 'i');
    /* Received data interrupts only once IER enables them, and the read
     * that empties RBR clears it. */
    ck_assert_uint_eq(uart_receive(&uart, in, 1), 1);
    ck_assert(!uart_irq(&uart));
    iobus_out(&bus, COM1 + 1, 1, 0x01);
    ck_assert(uart_irq(&uart));
    ck_assert_uint_eq(iobus_in(&bus, COM1 + 2, 1), 0x04);
    ck_assert_uint_eq(iobus_in(&bus, COM1, 1), 'h');
    ck_assert(!uart_irq(&uart));
    ck_assert_uint_eq(iobus_in(&bus, COM1 + 2, 1), 0x01);
}
END_TEST

/* FIFO mode: 16 bytes in order; received data available at the trigger
 * level, the character timeout below it; FCR bit 1 clears the FIFO. */
START_TEST(uart_receive_fifo_mode)
{
    uint8_t in[20];
    for (int i = 0; i < 20; i++)
        in[i] = (uint8_t)('a' + i);
    /* FIFOs on, trigger level 4 (bits 7:6 = 01), receive interrupt on. */
    iobus_out(&bus, COM1 + 2, 1, 0x41);
    iobus_out(&bus, COM1 + 1, 1, 0x01);
    ck_assert_uint_eq(uart_receive(&uart, in, 3), 3);
    ck_assert_uint_eq(iobus_in(&bus, COM1 + 2, 1), 0xcc);
    ck_assert_uint_eq(uart_receive(&uart, in + 3, 17), 13);
    ck_assert_uint_eq(iobus_in(&bus, COM1 + 2, 1), 0xc4);
    for (int i = 0; i < 13; i++)
        ck_assert_uint_eq(iobus_in(&bus, COM1, 1), (uint8_t)('a' + i));
    /* Three left: below the trigger level again. */
    ck_assert_uint_eq(iobus_in(&bus, COM1 + 2, 1), 0xcc);
    ck_assert_uint_eq(uart_receive(&uart, in + 16, 4), 4);
    for (int i = 13; i < 20; i++)
        ck_assert_uint_eq(iobus_in(&bus, COM1, 1), (uint8_t)('a' + i));
    ck_assert_uint_eq(iobus_in(&bus, COM1 + 5, 1) & 1, 0);
    ck_assert(!uart_irq(&uart));
    ck_assert_uint_eq(uart_receive(&uart, in, 5), 5);
    iobus_out(&bus, COM1 + 2, 1, 0x43);
    ck_assert_uint_eq(iobus_in(&bus, COM1 + 5, 1) & 1, 0);
    ck_assert(!uart_irq(&uart));
    /* Leaving FIFO mode clears it as well. */
    ck_assert_uint_eq(uart_receive(&uart, in, 5), 5);
    iobus_out(&bus, COM1 + 2, 1, 0x00);
    ck_assert_uint_eq(iobus_in(&bus, COM1 + 5, 1), 0x60);
    ck_assert_uint_eq(uart_receive(&uart, in, 5), 1);
}
END_TEST

/* ---- debug exit ---- */

START_TEST(debug_exit_takes_the_code)
{
    ck_assert(!dx.requested);
    iobus_out(&bus, 0xf4, 1, 42);
    ck_assert(dx.requested);
    ck_assert_uint_eq(dx.code, 42);
    /* The first request wins. */
    iobus_out(&bus, 0xf4, 4, 7);
    ck_assert_uint_eq(dx.code, 42);
}
END_TEST

START_TEST(debug_exit_wide_write)
{
    iobus_out(&bus, 0xf4, 4, 0x1234);
    ck_assert(dx.requested);
    ck_assert_uint_eq(dx.code, 0x1234);
    ck_assert_uint_eq(iobus_in(&bus, 0xf4, 2), 0xffff);
    ck_assert_int_eq(nnotes, 0);
}
END_TEST

/* ---- fw_cfg and port 0x92 ---- */

static struct fwcfg fw;
static struct port92 p92;

static void fw_setup(void)
{
    setup();
    fwcfg_init(&fw, &(struct fwcfg_machine){.cpus = 1, .ram_bytes = 64ull << 20});
    port92_init(&p92);
    ck_assert_int_eq(iobus_add(&bus, &fw.dev), 0);
    ck_assert_int_eq(iobus_add(&bus, &p92.dev), 0);
}

/* Read `n` bytes of item `key` as a little-endian number, the way
 * guests written for QEMU do: outw(key, 0x510), then inb(0x511). */
static uint64_t fw_get(uint16_t key, unsigned n)
{
    uint64_t v = 0;
    iobus_out(&bus, 0x510, 2, key);
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)iobus_in(&bus, 0x511, 1) << (8 * i);
    return v;
}

START_TEST(fwcfg_items)
{
    ck_assert_uint_eq(fw_get(FW_CFG_SIGNATURE, 4), 0x554d4551u); /* "QEMU" */
    ck_assert_uint_eq(fw_get(FW_CFG_ID, 4), 1);
    ck_assert_uint_eq(fw_get(FW_CFG_RAM_SIZE, 8), 64ull << 20);
    ck_assert_uint_eq(fw_get(FW_CFG_NB_CPUS, 2), 1);
    ck_assert_uint_eq(fw_get(FW_CFG_MAX_CPUS, 2), 1);
    /* Past the end of an item, and an absent item: zeros. */
    ck_assert_uint_eq(fw_get(FW_CFG_NB_CPUS, 4), 1);
    ck_assert_uint_eq(fw_get(0x0d, 8), 0);
    /* A byte read at 0x510 reads data too (QEMU's port pair). */
    iobus_out(&bus, 0x510, 2, FW_CFG_SIGNATURE);
    ck_assert_uint_eq(iobus_in(&bus, 0x510, 1), 'Q');
    ck_assert_uint_eq(iobus_in(&bus, 0x511, 1), 'E');
    /* A byte write is a data write: ignored, selection unchanged. */
    iobus_out(&bus, 0x510, 1, FW_CFG_ID);
    ck_assert_uint_eq(iobus_in(&bus, 0x511, 1), 'M');
    ck_assert_int_eq(nnotes, 0);
}
END_TEST

START_TEST(fwcfg_file_dir)
{
    uint8_t d[4 + 64];
    iobus_out(&bus, 0x510, 2, FW_CFG_FILE_DIR);
    for (unsigned i = 0; i < sizeof(d); i++)
        d[i] = (uint8_t)iobus_in(&bus, 0x511, 1);
    /* Big-endian: one file of 20 bytes at key 0x20, "etc/e820". */
    ck_assert_uint_eq((d[0] << 24) | (d[1] << 16) | (d[2] << 8) | d[3], 1);
    ck_assert_uint_eq((d[4] << 24) | (d[5] << 16) | (d[6] << 8) | d[7], 20);
    ck_assert_uint_eq((d[8] << 8) | d[9], 0x20);
    ck_assert_str_eq((const char *)d + 12, "etc/e820");
    iobus_out(&bus, 0x510, 2, 0x20);
    uint64_t base = 0, len = 0, type = 0;
    for (unsigned i = 0; i < 20; i++) {
        uint64_t b = iobus_in(&bus, 0x511, 1);
        if (i < 8)
            base |= b << (8 * i);
        else if (i < 16)
            len |= b << (8 * (i - 8));
        else
            type |= b << (8 * (i - 16));
    }
    ck_assert_uint_eq(base, 0);
    ck_assert_uint_eq(len, 64ull << 20);
    ck_assert_uint_eq(type, 1);
}
END_TEST

/* Item `key` from `off`, `n` bytes, little-endian. */
static uint64_t fw_at(uint16_t key, unsigned off, unsigned n)
{
    iobus_out(&bus, 0x510, 2, key);
    for (unsigned i = 0; i < off; i++)
        iobus_in(&bus, 0x511, 1);
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)iobus_in(&bus, 0x511, 1) << (8 * i);
    return v;
}

START_TEST(fwcfg_e820_like_qemu)
{
    /* An AMD CPU with 40+ physical bits and 5000 MiB: what QEMU 7.2
     * answers (the HT hole, 3 GiB low, the rest above 4 GiB). */
    fwcfg_init(&fw,
               &(struct fwcfg_machine){.cpus = 1, .ram_bytes = 5000ull << 20, .amd_ht_hole = true});
    ck_assert_uint_eq(fw_at(FW_CFG_FILE_DIR, 4, 4), 60u << 24); /* big-endian 60 */
    ck_assert_uint_eq(fw_at(0x20, 0, 8), 0xfd00000000ull);
    ck_assert_uint_eq(fw_at(0x20, 8, 8), 0x300000000ull);
    ck_assert_uint_eq(fw_at(0x20, 16, 4), 2);
    ck_assert_uint_eq(fw_at(0x20, 20, 8), 0);
    ck_assert_uint_eq(fw_at(0x20, 28, 8), 0xc0000000ull);
    ck_assert_uint_eq(fw_at(0x20, 40, 8), 0x100000000ull);
    ck_assert_uint_eq(fw_at(0x20, 48, 8), (5000ull << 20) - 0xc0000000ull);
    ck_assert_uint_eq(fw_at(0x20, 56, 4), 1);
}
END_TEST

START_TEST(port92_a20_and_reset)
{
    /* A20 on, as the firmware leaves it. */
    ck_assert_uint_eq(iobus_in(&bus, 0x92, 1), 0x02);
    iobus_out(&bus, 0x92, 1, 0x00);
    ck_assert_uint_eq(iobus_in(&bus, 0x92, 1), 0x00);
    ck_assert(!p92.reset_requested);
    /* Bit 0 from 0 to 1: reset. */
    iobus_out(&bus, 0x92, 1, 0x03);
    ck_assert(p92.reset_requested);
}
END_TEST

/* The ACPI power button: the SCI needs ACPI mode (the SMI command's
 * ACPI_ENABLE), PWRBTN_EN and the status, and drops when the guest clears
 * the status (write 1); S5 powers off; the PM timer counts. */
static uint64_t pm_ticks;
static uint64_t pm_clock(void *ctx)
{
    (void)ctx;
    return pm_ticks;
}

START_TEST(acpi_power_button)
{
    static struct acpi_pm pm;
    static struct iobus bus;
    iobus_init(&bus, NULL, NULL);
    acpi_pm_init(&pm, pm_clock, NULL);
    iobus_add(&bus, &pm.dev);
    iobus_add(&bus, &pm.smi);
    /* Pressed before the guest enabled anything: status only. */
    acpi_pm_power_button(&pm);
    ck_assert_uint_eq(iobus_in(&bus, ACPI_PM_BASE, 2), ACPI_PM1_PWRBTN_STS);
    ck_assert(!pm.sci);
    iobus_out(&bus, ACPI_PM_BASE + 2, 2, ACPI_PM1_PWRBTN_EN);
    ck_assert(!pm.sci);
    /* ACPI mode on: the SCI rises; SCI_EN reads back. */
    iobus_out(&bus, ACPI_SMI_CMD, 1, ACPI_ENABLE);
    ck_assert(pm.sci);
    ck_assert_uint_eq(iobus_in(&bus, ACPI_PM_BASE + 4, 2) & ACPI_PM1_SCI_EN, ACPI_PM1_SCI_EN);
    /* Writing 0 changes nothing; writing the bit clears it and the SCI. */
    iobus_out(&bus, ACPI_PM_BASE, 2, 0);
    ck_assert(pm.sci);
    iobus_out(&bus, ACPI_PM_BASE, 2, ACPI_PM1_PWRBTN_STS);
    ck_assert(!pm.sci);
    ck_assert_uint_eq(iobus_in(&bus, ACPI_PM_BASE, 2), 0);
    /* The timer: 24 bits of the clock. */
    pm_ticks = 0x1234567;
    ck_assert_uint_eq(iobus_in(&bus, ACPI_PM_BASE + 8, 4), 0x234567);
    /* S1 (SLP_TYP 1) is not hv's; S5 (SLP_TYP 0) powers off. */
    iobus_out(&bus, ACPI_PM_BASE + 4, 2, ACPI_PM1_SCI_EN | (1u << 10) | ACPI_PM1_SLP_EN);
    ck_assert(!pm.poweroff);
    iobus_out(&bus, ACPI_PM_BASE + 4, 2, ACPI_PM1_SCI_EN | ACPI_PM1_SLP_EN);
    ck_assert(pm.poweroff);
    /* SLP_EN reads as 0. */
    ck_assert_uint_eq(iobus_in(&bus, ACPI_PM_BASE + 4, 2) & ACPI_PM1_SLP_EN, 0);
}
END_TEST

/* Every table sums to zero, points at the next by its guest address, and
 * the FADT holds the ports of acpi_pm.h. */
static uint32_t le32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    while (n--)
        s = (uint8_t)(s + *p++);
    return s;
}

START_TEST(acpi_tables)
{
    static uint8_t buf[ACPI_TABLES_SIZE];
    uint32_t gpa = ACPI_TABLES_GPA;
    ck_assert_uint_le(acpi_tables_build(buf, gpa, 2, 3), ACPI_TABLES_SIZE);
    ck_assert_mem_eq(buf, "RSD PTR ", 8);
    ck_assert_uint_eq(sum(buf, 20), 0);
    ck_assert_uint_eq(buf[15], 0); /* revision 0: RSDT only */
    const uint8_t *rsdt = buf + (le32(buf + 16) - gpa);
    ck_assert_mem_eq(rsdt, "RSDT", 4);
    ck_assert_uint_eq(sum(rsdt, le32(rsdt + 4)), 0);
    const uint8_t *fadt = buf + (le32(rsdt + 36) - gpa);
    ck_assert_mem_eq(fadt, "FACP", 4);
    ck_assert_uint_eq(le32(fadt + 4), 116);
    ck_assert_uint_eq(sum(fadt, 116), 0);
    ck_assert_uint_eq(fadt[46], ACPI_SCI_IRQ);
    ck_assert_uint_eq(le32(fadt + 48), ACPI_SMI_CMD);
    ck_assert_uint_eq(fadt[52], ACPI_ENABLE);
    ck_assert_uint_eq(le32(fadt + 56), ACPI_PM_BASE);
    ck_assert_uint_eq(le32(fadt + 64), ACPI_PM_BASE + 4);
    ck_assert_uint_eq(fadt[88], 4);
    /* A fixed-feature power button: PWR_BUTTON (flag bit 4) clear. */
    ck_assert_uint_eq(le32(fadt + 112) & (1u << 4), 0);
    const uint8_t *dsdt = buf + (le32(fadt + 40) - gpa);
    ck_assert_mem_eq(dsdt, "DSDT", 4);
    ck_assert_uint_eq(sum(dsdt, le32(dsdt + 4)), 0);
    uint32_t facs = le32(fadt + 36);
    ck_assert_uint_eq(facs % 64, 0);
    ck_assert_mem_eq(buf + (facs - gpa), "FACS", 4);
    /* The MADT (ACPI 6.4 5.2.12): two Processor Local APIC entries with
     * APIC IDs 0 and 1, enabled, then the I/O APIC and IRQ 0's override. */
    ck_assert_uint_eq(le32(rsdt + 4), 44);
    const uint8_t *madt = buf + (le32(rsdt + 40) - gpa);
    ck_assert_mem_eq(madt, "APIC", 4);
    ck_assert_uint_eq(sum(madt, le32(madt + 4)), 0);
    ck_assert_uint_eq(le32(madt + 36), 0xfee00000u);
    const uint8_t *e = madt + 44;
    for (unsigned i = 0; i < 2; i++, e += 8) {
        ck_assert_uint_eq(e[0], 0);
        ck_assert_uint_eq(e[1], 8);
        ck_assert_uint_eq(e[3], i);
        ck_assert_uint_eq(le32(e + 4), 1);
    }
    ck_assert_uint_eq(e[0], 1);
    ck_assert_uint_eq(le32(e + 4), 0xfec00000u);
    e += 12;
    ck_assert_uint_eq(e[0], 2);
    ck_assert_uint_eq(le32(e + 4), 2);
    ck_assert_uint_eq(le32(madt + 4), (uint32_t)(e + 10 - madt));
    /* One CPU: one entry. */
    acpi_tables_build(buf, gpa, 1, 1);
    ck_assert_uint_eq(le32(madt + 4), 44 + 8 + 12 + 10);
    /* Four CPUs, the first two running: the others Online Capable (bit 1
     * alone), the BSP enabled even when the mask leaves it out. */
    acpi_tables_build(buf, gpa, 4, 2);
    e = madt + 44;
    ck_assert_uint_eq(le32(e + 4), 1);
    ck_assert_uint_eq(le32(e + 8 + 4), 1);
    ck_assert_uint_eq(le32(e + 16 + 4), 2);
    ck_assert_uint_eq(le32(e + 24 + 4), 2);
    ck_assert_uint_eq(sum(madt, le32(madt + 4)), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hv_dev");
    TCase *tc = tcase_create("devices");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, unknown_port_reads_all_ones_and_reports_once);
    tcase_add_test(tc, acpi_power_button);
    tcase_add_test(tc, acpi_tables);
    tcase_add_test(tc, overlapping_devices_refused);
    tcase_add_test(tc, unowned_ports);
    tcase_add_test(tc, any_number_of_devices);
    tcase_add_test(tc, wide_access_split_into_bytes);
    tcase_add_test(tc, device_accesses_counted);
    tcase_add_test(tc, uart_lines_pass_through);
    tcase_add_test(tc, uart_long_line_is_split);
    tcase_add_test(tc, uart_lsr_msr_scratch);
    tcase_add_test(tc, uart_divisor_latch);
    tcase_add_test(tc, uart_iir_and_fifo);
    tcase_add_test(tc, uart_loopback);
    tcase_add_test(tc, uart_receive_character_mode);
    tcase_add_test(tc, uart_receive_fifo_mode);
    tcase_add_test(tc, debug_exit_takes_the_code);
    tcase_add_test(tc, debug_exit_wide_write);
    suite_add_tcase(s, tc);
    tc = tcase_create("firmware");
    tcase_add_checked_fixture(tc, fw_setup, NULL);
    tcase_add_test(tc, fwcfg_items);
    tcase_add_test(tc, fwcfg_file_dir);
    tcase_add_test(tc, fwcfg_e820_like_qemu);
    tcase_add_test(tc, port92_a20_and_reset);
    suite_add_tcase(s, tc);
    return check_main(s);
}
