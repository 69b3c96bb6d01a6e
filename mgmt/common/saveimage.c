/*
 * saveimage.c: the front-ends' save image, a configuration in front of a
 * saved state (saveimage.h).
 */
#include "saveimage.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../hv/core/vms.h"

/* ---- Little-endian fields ------------------------------------------------------------ */

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* ---- Whole reads and writes ------------------------------------------------------------ */

/* pread of exactly len bytes: 0, or -1 (errno ENODATA at the file's end). */
static int read_at(int fd, uint64_t at, void *buf, size_t len)
{
    for (size_t done = 0; done < len;) {
        ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(at + done));
        if (n <= 0) {
            if (n == 0)
                errno = ENODATA;
            if (n < 0 && errno == EINTR)
                continue;
            return -1;
        }
        done += (size_t)n;
    }
    return 0;
}

static int write_at(int fd, uint64_t at, const void *buf, size_t len)
{
    for (size_t done = 0; done < len;) {
        ssize_t n = pwrite(fd, (const char *)buf + done, len - done, (off_t)(at + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    return 0;
}

/* `len` bytes at `from` of `in` to `to` of `out`, a megabyte at a time. */
static int copy_range(int in, uint64_t from, int out, uint64_t to, uint64_t len)
{
    static char buf[1 << 20];
    for (uint64_t done = 0; done < len;) {
        size_t n = len - done < sizeof(buf) ? (size_t)(len - done) : sizeof(buf);
        if (read_at(in, from + done, buf, n) < 0 || write_at(out, to + done, buf, n) < 0)
            return -1;
        done += n;
    }
    return 0;
}

int saveimage_copy(int in, uint64_t from, int out, uint64_t len)
{
    return copy_range(in, from, out, 0, len);
}

/* ---- The header ------------------------------------------------------------------------ */

/* The header's CRC: its first 32 bytes, then the configuration. */
static uint32_t header_crc(const uint8_t *h, const char *config, size_t len)
{
    return vms_crc32(vms_crc32(0, h, 32), config, len);
}

int saveimage_write(int out, const char *tool, const char *config, size_t config_len, int state,
                    uint64_t state_at, uint64_t state_len)
{
    uint8_t h[SAVEIMAGE_HEADER] = {0};
    if (config_len > SAVEIMAGE_CONFIG_MAX || strlen(tool) > 8) {
        errno = EFBIG;
        return -1;
    }
    memcpy(h, SAVEIMAGE_MAGIC, 8);
    put_le(h + 8, SAVEIMAGE_VERSION, 4);
    put_le(h + 12, config_len, 4);
    put_le(h + 16, state_len, 8);
    memcpy(h + 24, tool, strlen(tool));
    put_le(h + 32, header_crc(h, config, config_len), 4);
    if (write_at(out, 0, h, sizeof(h)) < 0 || write_at(out, sizeof(h), config, config_len) < 0)
        return -1;
    return copy_range(state, state_at, out, sizeof(h) + config_len, state_len);
}

/* The header's fields into si once its magic is known; 0 or -1 with why. */
static int read_fields(int fd, uint64_t size, const uint8_t *h, struct saveimage *si, char *why,
                       size_t whylen)
{
    uint32_t version = (uint32_t)get_le(h + 8, 4);
    if (version != SAVEIMAGE_VERSION) {
        snprintf(why, whylen, "save image: version %u, but this hvkit reads version %u", version,
                 SAVEIMAGE_VERSION);
        return -1;
    }
    si->config_len = (size_t)get_le(h + 12, 4);
    si->state_len = get_le(h + 16, 8);
    si->state_at = SAVEIMAGE_HEADER + si->config_len;
    memcpy(si->tool, h + 24, 8);
    /* The lengths first: a cut file says so, rather than fail its CRC. */
    if (si->config_len > SAVEIMAGE_CONFIG_MAX || si->state_len > size ||
        si->state_at + si->state_len != size) {
        snprintf(why, whylen,
                 "save image: truncated (or lengthened): its header makes it %llu bytes long, the "
                 "file has %llu",
                 (unsigned long long)(SAVEIMAGE_HEADER + si->config_len + si->state_len),
                 (unsigned long long)size);
        return -1;
    }
    si->config = malloc(si->config_len + 1);
    if (!si->config || read_at(fd, SAVEIMAGE_HEADER, si->config, si->config_len) < 0) {
        snprintf(why, whylen, "save image: reading its configuration failed: %s", strerror(errno));
        return -1;
    }
    si->config[si->config_len] = '\0';
    if ((uint32_t)get_le(h + 32, 4) != header_crc(h, si->config, si->config_len)) {
        snprintf(why, whylen, "save image: header checksum mismatch: the file is corrupted");
        return -1;
    }
    if (strlen(si->config) != si->config_len) {
        snprintf(why, whylen, "save image: its configuration holds a NUL byte");
        return -1;
    }
    return 0;
}

int saveimage_read(int fd, uint64_t size, struct saveimage *si, char *why, size_t whylen)
{
    uint8_t h[SAVEIMAGE_HEADER];
    memset(si, 0, sizeof(*si));
    /* Anything that is not a save image is left to the vmstate reader,
     * which knows a state by its own magic and refuses the rest. */
    if (size < 8 || read_at(fd, 0, h, 8) < 0 || memcmp(h, SAVEIMAGE_MAGIC, 8)) {
        si->bare = true;
        si->state_len = size;
        return 0;
    }
    if (size < SAVEIMAGE_HEADER || read_at(fd, 0, h, sizeof(h)) < 0) {
        snprintf(why, whylen, "save image: truncated: %llu bytes, shorter than its header",
                 (unsigned long long)size);
        return -1;
    }
    if (read_fields(fd, size, h, si, why, whylen) < 0) {
        saveimage_free(si);
        return -1;
    }
    return 0;
}

void saveimage_free(struct saveimage *si)
{
    free(si->config);
    si->config = NULL;
}
