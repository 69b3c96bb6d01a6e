/*
 * diskcat: print bytes of the first virtio block device, like cat on a
 * raw disk.  The host puts a file into an image (bin/imgtool convert) and
 * the guest prints it back between two marker lines; the test compares
 * them (tests/integration/virtio-qemu.sh).
 *
 * Arguments: bytes=N (how many), offset=B (where, default 0),
 * wait=poll|ioapic|pic (default poll).
 *
 * Output:
 *     diskcat: begin
 *     <the N bytes, then a newline if they do not end with one>
 *     diskcat: end
 */
#include "guestkit/guestkit.h"
#include "guestkit/parse.h"
#include "guestkit/virtio_blk.h"

#define CHUNK_SECTORS 64
#define IRQ_VECTOR    0x52

static struct virtio_blk blk;
static uint8_t chunk[CHUNK_SECTORS * VIRTIO_BLK_SECTOR] __attribute__((aligned(4096)));

/* Print [offset, offset + bytes) of the disk; false after a failed read. */
static bool cat(uint64_t offset, uint64_t bytes)
{
    char last = '\n';
    uint64_t sector = offset / VIRTIO_BLK_SECTOR;
    uint64_t skip = offset % VIRTIO_BLK_SECTOR;
    while (bytes) {
        /* Never past the last sector: the device would fail the read. */
        uint32_t count = CHUNK_SECTORS;
        if (count > blk.capacity - sector)
            count = (uint32_t)(blk.capacity - sector);
        int st = virtio_blk_read(&blk, sector, chunk, count);
        if (st != VIRTIO_BLK_S_OK) {
            printf("\ndiskcat: read at sector %llu: %s\n", (unsigned long long)sector,
                   virtio_blk_status_name(st));
            return false;
        }
        uint64_t n = count * VIRTIO_BLK_SECTOR - skip;
        if (n > bytes)
            n = bytes;
        for (uint64_t i = 0; i < n; i++)
            putchar(last = (char)chunk[skip + i]);
        bytes -= n;
        skip = 0;
        sector += CHUNK_SECTORS;
    }
    if (last != '\n')
        putchar('\n');
    return true;
}

int main(int argc, char **argv)
{
    const char *bytes = gk_arg_value(argc, argv, "bytes");
    const char *offset = gk_arg_value(argc, argv, "offset");
    const char *wait_name = gk_arg_value(argc, argv, "wait");
    enum virtio_wait wait = VIRTIO_WAIT_POLL;
    if (!bytes || (wait_name && !virtio_wait_by_name(wait_name, &wait))) {
        printf("usage: diskcat bytes=N [offset=B] [wait=poll|ioapic|pic]\n");
        return 1;
    }
    struct virtio_dev dev;
    if (!virtio_find(VIRTIO_ID_BLOCK, 0, &dev)) {
        printf("diskcat: no virtio block device\n");
        return 1;
    }
    if (!virtio_blk_init(&blk, &dev, wait, IRQ_VECTOR)) {
        printf("diskcat: %s\n", blk.dev.error);
        return 1;
    }
    uint64_t from = offset ? kstrtoull(offset, NULL, 0) : 0;
    uint64_t n = kstrtoull(bytes, NULL, 0);
    if (from + n < from || from + n > blk.capacity * VIRTIO_BLK_SECTOR) {
        printf("diskcat: %llu bytes at %llu go past the disk's end (%llu bytes)\n",
               (unsigned long long)n, (unsigned long long)from,
               (unsigned long long)(blk.capacity * VIRTIO_BLK_SECTOR));
        return 1;
    }
    printf("diskcat: begin\n");
    bool ok = cat(from, n);
    printf("diskcat: end\n");
    virtio_reset(&blk.dev);
    return ok ? 0 : 1;
}
