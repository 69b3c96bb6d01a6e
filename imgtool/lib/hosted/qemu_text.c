/*
 * qemu_text.c: QEMU's size_to_str() and bdrv_snapshot_dump() (qemu_text.h).
 */
#include "hosted/qemu_text.h"

#include <math.h>
#include <stdio.h>
#include <time.h>

void img_size_to_str(char *buf, size_t len, uint64_t val)
{
    static const char *const suffixes[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
    int i;
    /* The exponent minus one is floor(log2(val * 1024 / 1000)); dividing
     * by ten picks the unit, switching up once the value reaches 1000. */
    frexp(val / (1000.0 / 1024.0), &i);
    i = (i - 1) / 10;
    if (i < 0) {
        i = 0;
    }
    uint64_t div = 1ULL << (i * 10);
    snprintf(buf, len, "%0.3g %sB", (double)val / div, suffixes[i]);
}

void img_snapshot_line(char *buf, size_t len, const struct img_snapshot_info *sn)
{
    if (!sn) {
        snprintf(buf, len, "%-10s%-17s%8s%20s%13s%11s", "ID", "TAG", "VM SIZE", "DATE", "VM CLOCK",
                 "ICOUNT");
        return;
    }
    char date[128] = "", clock[128], vmsize[32], icount[32] = "";
    time_t t = sn->date_sec;
    struct tm tm;
    /* QEMU prints the date in local time. */
    localtime_r(&t, &tm);
    strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm);
    /* The VM clock as hours:minutes:seconds.milliseconds. */
    uint64_t secs = sn->vm_clock_nsec / 1000000000ULL;
    snprintf(clock, sizeof(clock), "%02d:%02d:%02d.%03d", (int)(secs / 3600),
             (int)((secs / 60) % 60), (int)(secs % 60),
             (int)((sn->vm_clock_nsec / 1000000) % 1000));
    img_size_to_str(vmsize, sizeof(vmsize), sn->vm_state_size);
    /* An icount column only for a snapshot that recorded one. */
    if (sn->icount != UINT64_MAX) {
        snprintf(icount, sizeof(icount), "%llu", (unsigned long long)sn->icount);
    }
    snprintf(buf, len, "%-9s %-16s %8s%20s%13s%11s", sn->id, sn->name, vmsize, date, clock, icount);
}
