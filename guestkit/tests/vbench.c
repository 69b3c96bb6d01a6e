/*
 * vbench: what virtio costs, measured by the guest itself: disk
 * throughput in MB/s, and (under hv, which counts its VM exits for the
 * guest: HC_EXIT_COUNT) bytes per exit for the disk and exits per KiB of
 * console output through the UART and through virtio-console.  The same
 * image runs on plain QEMU microvm, where the exit counts are not known.
 * The numbers are report_info lines: they differ from run to run; the
 * verdicts only say the work was done.
 *
 * Arguments: mib=N (disk data written and read, default 4; the disk must
 * be that large), wait=poll|ioapic|pic (default poll), pv=1 (under hv
 * with its paravirtual interface, include/hvkit/pv.h: the same disk work
 * again through PV block, the console's KiB through the PV console ring
 * too, and the time per KiB of each console; bench/pv/run.sh).
 */
#include "guestkit/guestkit.h"
#include "guestkit/parse.h"
#include "guestkit/pic.h"
#include "guestkit/pv.h"
#include "guestkit/virtio_blk.h"
#include "guestkit/virtio_console.h"

#define REQ_SECTORS 128 /* 64 KiB per request */
#define CONSOLE_KIB 1
#define BLK_VECTOR  0x53
#define CON_VECTOR  0x54
#define PV_VECTOR   0x70 /* all PV event channels */
#define PV_PORT_CON 3
#define PV_PORT_BLK 4

static struct virtio_blk blk;
static struct virtio_console con;
/* pv=1: the PV console and PV block are set up (pv_setup()). */
static bool pv;
static uint8_t buf[REQ_SECTORS * VIRTIO_BLK_SECTOR] __attribute__((aligned(4096)));

/* TSC ticks per second, against the PIT's 1.193182 MHz: one count of
 * 59659 clocks is 50 ms. */
static uint64_t tsc_hz(void)
{
    uint64_t t0 = rdtsc();
    pit_oneshot(59659);
    while (!pit_out())
        ;
    return (rdtsc() - t0) * 20;
}

/* VM exits so far, or -1 outside hv. */
static int64_t exits(void)
{
    return under_hvkit() ? hypercall(HC_EXIT_COUNT, 0, 0, 0) : -1;
}

/* "N bytes per exit" or "exits not counted (not under hv)". */
static void per_exit(const char *what, uint64_t bytes, int64_t e0, int64_t e1)
{
    if (e0 < 0 || e1 <= e0)
        report_info("%s: exits not counted (not under hv)", what);
    else
        report_info("%s: %llu exits, %llu bytes per exit", what, (unsigned long long)(e1 - e0),
                    (unsigned long long)(bytes / (uint64_t)(e1 - e0)));
}

static void rate(const char *what, uint64_t bytes, uint64_t ticks, uint64_t hz)
{
    /* In KB/s first, to stay in integers. */
    uint64_t kbs = ticks ? bytes * (hz / 1000) / ticks : 0;
    report_info("%s: %llu bytes in %llu ms, %llu.%02llu MB/s", what, (unsigned long long)bytes,
                (unsigned long long)(ticks / (hz / 1000)), (unsigned long long)(kbs / 1000),
                (unsigned long long)(kbs % 1000 / 10));
}

/* One way to the disk: read or write `count` sectors, flush; true on
 * success. */
struct blkops {
    const char *write_name, *read_name;
    bool (*rw)(bool write, uint64_t sector, uint32_t count);
    bool (*flush)(void);
};

static bool virtio_rw(bool write, uint64_t sector, uint32_t count)
{
    if (write)
        return virtio_blk_write(&blk, sector, buf, count) == VIRTIO_BLK_S_OK;
    return virtio_blk_read(&blk, sector, buf, count) == VIRTIO_BLK_S_OK;
}

static bool virtio_flush(void)
{
    return !virtio_has(&blk.dev, VIRTIO_BLK_F_FLUSH) || virtio_blk_flush(&blk) == VIRTIO_BLK_S_OK;
}

static const struct blkops virtio_ops = {"disk write+flush", "disk read", virtio_rw, virtio_flush};

static bool pv_rw(bool write, uint64_t sector, uint32_t count)
{
    return pv_blk_rw(write ? HVKIT_BLK_OP_WRITE : HVKIT_BLK_OP_READ, sector, buf, count) ==
           HVKIT_BLK_OK;
}

static bool pv_flush(void)
{
    return pv_blk_flush() == HVKIT_BLK_OK;
}

static const struct blkops pv_ops = {"pv disk write+flush", "pv disk read", pv_rw, pv_flush};

/* Write, flush and read `mib` MiB in 64 KiB requests through `ops`; true
 * if every request succeeded and the data read back matches. */
static bool disk(const struct blkops *ops, uint32_t mib, uint64_t hz)
{
    uint64_t sectors = (uint64_t)mib * 2048, bytes = sectors * VIRTIO_BLK_SECTOR;
    int64_t e0 = exits();
    uint64_t t0 = rdtsc();
    for (uint64_t s = 0; s < sectors; s += REQ_SECTORS) {
        memset(buf, (int)(s / REQ_SECTORS), sizeof(buf));
        if (!ops->rw(true, s, REQ_SECTORS))
            return false;
    }
    if (!ops->flush())
        return false;
    uint64_t t1 = rdtsc();
    int64_t e1 = exits();
    bool same = true;
    for (uint64_t s = 0; s < sectors; s += REQ_SECTORS) {
        if (!ops->rw(false, s, REQ_SECTORS))
            return false;
        same = same && buf[0] == (uint8_t)(s / REQ_SECTORS) &&
               buf[sizeof(buf) - 1] == (uint8_t)(s / REQ_SECTORS);
    }
    uint64_t t2 = rdtsc();
    int64_t e2 = exits();
    rate(ops->write_name, bytes, t1 - t0, hz);
    per_exit(ops->write_name, bytes, e0, e1);
    rate(ops->read_name, bytes, t2 - t1, hz);
    per_exit(ops->read_name, bytes, e1, e2);
    return same;
}

/* Microseconds of `ticks` at `hz`. */
static unsigned long long usec(uint64_t ticks, uint64_t hz)
{
    return (unsigned long long)(ticks / (hz / 1000000));
}

/* CONSOLE_KIB KiB of 64-byte lines through the UART and through the
 * virtio console (and with pv=1 through the PV console ring, one
 * notification at the end); exits per KiB of each. */
static bool consoles(uint64_t hz)
{
    bool ok = true;
    static char line[64];
    memset(line, '.', sizeof(line));
    memcpy(line, "vbench: console line ", 21);
    line[63] = '\n';
    int64_t e0 = exits();
    uint64_t t0 = rdtsc();
    for (int i = 0; i < CONSOLE_KIB * 16; i++)
        for (int j = 0; j < 64; j++)
            serial_putc(line[j]);
    int64_t e1 = exits();
    uint64_t t1 = rdtsc();
    for (int i = 0; i < CONSOLE_KIB * 16; i++)
        ok = virtio_console_write(&con, line, sizeof(line)) && ok;
    int64_t e2 = exits();
    uint64_t t2 = rdtsc();
    /* The PV console before any line is printed: a report line through
     * the UART in between would count as the ring's exits. */
    if (pv) {
        for (int i = 0; i < CONSOLE_KIB * 16; i++)
            for (int j = 0; j < 64; j++)
                pv_console_putc(line[j]);
        ok = pv_console_flush() == HC_OK && ok;
    }
    int64_t e3 = exits();
    uint64_t t3 = rdtsc();
    if (e0 < 0)
        report_info("console: exits not counted (not under hv)");
    else
        report_info("console: %lld exits per KiB through the UART, %lld through virtio-console",
                    (long long)((e1 - e0) / CONSOLE_KIB), (long long)((e2 - e1) / CONSOLE_KIB));
    if (!pv)
        return ok;
    report_info("console: %lld exits per KiB through the PV console",
                (long long)((e3 - e2) / CONSOLE_KIB));
    report_info("console: %llu us per KiB through the UART, %llu through virtio-console, %llu "
                "through the PV console",
                usec(t1 - t0, hz) / CONSOLE_KIB, usec(t2 - t1, hz) / CONSOLE_KIB,
                usec(t3 - t2, hz) / CONSOLE_KIB);
    return ok;
}

/* pv=1: the hypercall page, one vector for the event channels, the grant
 * table, the PV console; true if all of it is there. */
static bool pv_setup(void)
{
    if (!pv_available() || !pv_hcpage_init())
        return false;
    return pv_evtchn_init(PV_VECTOR) == HC_OK && pv_grant_init() == HC_OK &&
           pv_console_init(PV_PORT_CON) == HC_OK;
}

int main(int argc, char **argv)
{
    const char *mib_arg = gk_arg_value(argc, argv, "mib");
    const char *wait_name = gk_arg_value(argc, argv, "wait");
    const char *pv_arg = gk_arg_value(argc, argv, "pv");
    uint32_t mib = mib_arg ? (uint32_t)kstrtoull(mib_arg, NULL, 0) : 4;
    enum virtio_wait wait = VIRTIO_WAIT_POLL;
    if (mib == 0 || (wait_name && !virtio_wait_by_name(wait_name, &wait))) {
        printf("usage: vbench [mib=N] [wait=poll|ioapic|pic] [pv=1]\n");
        return 1;
    }
    if (pv_arg && strcmp(pv_arg, "1") == 0) {
        pv = pv_setup();
        report(pv, "pv: hypercall page, event channels, grants and PV console set up");
    }
    uint64_t hz = tsc_hz();
    report_info("TSC %llu MHz (against the PIT)", (unsigned long long)(hz / 1000000));
    struct virtio_dev dev;
    if (virtio_find(VIRTIO_ID_BLOCK, 0, &dev) && virtio_blk_init(&blk, &dev, wait, BLK_VECTOR) &&
        blk.capacity >= (uint64_t)mib * 2048) {
        report(disk(&virtio_ops, mib, hz), "disk: %u MiB written, flushed and read back", mib);
        report_info("disk: %llu requests, %llu notifications", (unsigned long long)blk.requests,
                    (unsigned long long)blk.dev.notifications);
        virtio_reset(&blk.dev);
        if (pv) {
            long size = pv_blk_init(0, PV_PORT_BLK);
            report(size >= (long)mib * 2048 && disk(&pv_ops, mib, hz),
                   "pv disk: %u MiB written, flushed and read back through PV block", mib);
            report_info("pv disk: %lu requests, %lu notifications", pv_blk_requests(),
                        pv_blk_notifies());
        }
    } else {
        report_skip("disk: %u MiB written, flushed and read back: no virtio disk that large", mib);
    }
    if (virtio_find(VIRTIO_ID_CONSOLE, 0, &dev) &&
        virtio_console_init(&con, &dev, wait, CON_VECTOR)) {
        report(consoles(hz), "console: %d KiB through each console", CONSOLE_KIB);
        virtio_reset(&con.dev);
    } else {
        report_skip("console: %d KiB through each console: no virtio console", CONSOLE_KIB);
    }
    return report_summary();
}
