/*
 * memfile.c - guest memory into a file (memfile.h).
 *
 * Guest RAM is one block at guest-physical 0 (gmem.h), so a physical
 * range is at most three runs: RAM written straight from that block in
 * large writes (no copy: on the staging disk each write is one run of
 * ATA commands, hv/disk/ata.c), then zeros for what lies beyond RAM.  A
 * virtual range goes through a bounce buffer a chunk at a time, read by
 * the guest page walker that x-read-memory uses (gva.c), so that both
 * commands see the same translation and refuse the same pages.
 */
#include "klib.h"

#include "memfile.h"

/* Bytes per write: large enough that the ATA commands' own cost is
 * small beside the data they move, small enough for hv's .bss. */
#define CHUNK (64u << 10)

/* The bounce buffer of memfile_virt, and the zeros of memfile_phys (one
 * at a time: hv carries out one request at a time). */
static uint8_t bounce[CHUNK];
static const uint8_t zeros[CHUNK];

/* `len` bytes from `buf` (NULL: zeros) into io at byte `at`, in chunks. */
static int put(const struct img_io *io, uint64_t at, const uint8_t *buf, uint64_t len)
{
    for (uint64_t done = 0; done < len;) {
        uint64_t n = len - done < CHUNK ? len - done : CHUNK;
        if (io->write(io->ctx, at + done, buf ? buf + done : zeros, (size_t)n) < 0)
            return -1;
        done += n;
    }
    return 0;
}

enum memfile_rc memfile_phys(const struct guest_mem *m, uint64_t addr, uint64_t size,
                             const struct img_io *io, uint64_t at)
{
    /* The part inside RAM: [addr, addr + ram) when addr is below its end. */
    uint64_t ram = addr < m->size ? m->size - addr : 0;
    if (ram > size)
        ram = size;
    if (ram && put(io, at, m->host + addr, ram) < 0)
        return MEMFILE_IO;
    /* The rest is not RAM, and QEMU reads memory nothing is assigned to
     * as zeros.  (Where QEMU has a ROM or a device's registers there,
     * this differs: hv reads no device for a dump, a read could change
     * its state.) */
    if (put(io, at + ram, NULL, size - ram) < 0)
        return MEMFILE_IO;
    return MEMFILE_OK;
}

enum memfile_rc memfile_virt(const struct gva_ctx *c, uint64_t addr, uint64_t size,
                             const struct img_io *io, uint64_t at, struct gva_walk *why)
{
    for (uint64_t done = 0; done < size;) {
        uint64_t n = size - done < CHUNK ? size - done : CHUNK;
        if (guest_read_virt(c, addr + done, bounce, n, why) < 0)
            return MEMFILE_UNMAPPED;
        if (io->write(io->ctx, at + done, bounce, (size_t)n) < 0)
            return MEMFILE_IO;
        done += n;
    }
    return MEMFILE_OK;
}
