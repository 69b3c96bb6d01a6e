/*
 * wallclock.c: the date and time of day, from the outer machine's CMOS
 * real-time clock, for the one thing hv needs it for: the DATE of a
 * snapshot it takes (qcow2.txt "Snapshot table entry", bytes 16-23, which
 * `qemu-img snapshot -l` shows).  QEMU and Bochs both give their machine
 * an MC146818-compatible RTC, set to the host's time (UTC) by default.
 *
 * The clock is read through its index and data ports, 0x70 and 0x71
 * (Motorola MC146818A data sheet, "Address Map": seconds at 0, minutes 2,
 * hours 4, day of month 7, month 8, year 9; register A bit 7 "update in
 * progress", register B bit 2 "data mode" (1 = binary, 0 = BCD) and bit 1
 * "24/12").  A read during an update may mix two times, so the clock is
 * read until two reads agree.
 */
#include <stdbool.h>

#include "hvkit/x86.h"
#include "wallclock.h"

#define RTC_INDEX 0x70
#define RTC_DATA  0x71

static uint8_t rtc_read(uint8_t reg)
{
    outb(RTC_INDEX, reg);
    return inb(RTC_DATA);
}

/* The six fields, in the clock's own encoding, after any update ended. */
static void read_fields(uint8_t f[6])
{
    static const uint8_t regs[6] = {9, 8, 7, 4, 2, 0};
    /* Register A bit 7: an update is in progress, the fields may change
     * under the reads (it lasts under 2 ms). */
    for (unsigned spins = 0; (rtc_read(0x0a) & 0x80) && spins < 1000000; spins++)
        ;
    for (unsigned i = 0; i < 6; i++)
        f[i] = rtc_read(regs[i]);
}

static unsigned from_bcd(uint8_t v)
{
    return (v >> 4) * 10u + (v & 15u);
}

/*
 * Days since 1970-01-01 of a date in the proleptic Gregorian calendar:
 * the year is counted from March, so that the leap day comes last, and
 * each 400-year era has 146097 days.
 */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153u * (m > 2 ? m - 3 : m + 9) + 2u) / 5u + d - 1u;
    unsigned doe = yoe * 365u + yoe / 4u - yoe / 100u + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

uint64_t wallclock_unix_seconds(void)
{
    uint8_t a[6], b[6];
    /* Two equal reads in a row: no update came between them. */
    read_fields(b);
    for (unsigned tries = 0; tries < 10; tries++) {
        for (unsigned i = 0; i < 6; i++)
            a[i] = b[i];
        read_fields(b);
        bool same = true;
        for (unsigned i = 0; i < 6; i++)
            same = same && a[i] == b[i];
        if (same)
            break;
    }
    uint8_t mode = rtc_read(0x0b);
    unsigned v[6];
    /* The hour's bit 7 is PM in 12-hour mode; the rest may be BCD. */
    bool pm = !(mode & 2) && (b[3] & 0x80);
    b[3] &= 0x7f;
    for (unsigned i = 0; i < 6; i++)
        v[i] = (mode & 4) ? b[i] : from_bcd(b[i]);
    if (!(mode & 2))
        v[3] = v[3] % 12 + (pm ? 12 : 0);
    /* A two-digit year: this century (the clock's own century byte is not
     * at the same index on every machine). */
    int64_t days = days_from_civil(2000 + v[0], v[1], v[2]);
    if (days < 0 || v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31)
        return 0;
    return (uint64_t)days * 86400u + v[3] * 3600u + v[4] * 60u + v[5];
}
