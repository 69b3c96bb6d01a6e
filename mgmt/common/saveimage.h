/*
 * saveimage: the file `xl save` and `virsh save` write, a saved state with
 * the domain's configuration in front of it (docs/vmstate.md "The
 * front-ends' save images").
 *
 * hv's saved state (the vmstate with its `config` section) says what hv
 * needs to make the domain again: its kernel, command line, RAM, vCPUs
 * and actions.  It does not say where the domain's disks are on the host:
 * hv sees them as outer disks that bin/hvrun attached.  The front-ends
 * therefore put the configuration they started the domain from (xl's
 * xl.cfg text, virsh's domain XML) in front of the state, as Xen's xl
 * writes the domain's configuration into its save file and libvirt its
 * domain XML into its save image's header, and a restore starts the
 * machine with the same disks before it puts the state back:
 *
 *   offset  size  field
 *   0       8     magic "HVKITSAV"
 *   8       4     version (1)
 *   12      4     C: the configuration's length in bytes (at most 1 MiB)
 *   16      8     S: the state's length in bytes
 *   24      8     the tool that wrote it, "xl" or "virsh", NUL-padded
 *   32      4     CRC-32 (ISO-HDLC, the vmstate's) of bytes 0-31 and the
 *                 C bytes of the configuration
 *   36      C     the configuration, text without a NUL
 *   36 + C  S     the state (docs/vmstate.md: "HVKITVMS" ... END)
 *
 * Numbers are little-endian; the file is exactly 36 + C + S bytes.  The
 * header's CRC covers the configuration, the vmstate's own checksums
 * cover the state, so a cut or changed file is refused wherever it was
 * hurt.  A file that starts with the vmstate's own magic (a state
 * bin/hvctl's domain-save wrote) is read as a state without a
 * configuration.
 */
#ifndef HVKIT_MGMT_COMMON_SAVEIMAGE_H
#define HVKIT_MGMT_COMMON_SAVEIMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SAVEIMAGE_MAGIC      "HVKITSAV"
#define SAVEIMAGE_VERSION    1u
#define SAVEIMAGE_HEADER     36u
#define SAVEIMAGE_CONFIG_MAX (1u << 20)

/* What a file's header says. */
struct saveimage {
    bool bare;    /* a vmstate alone: no header, no configuration */
    char tool[9]; /* "xl" or "virsh" ("" when bare) */
    char *config; /* malloc'd, NUL-terminated; NULL when bare */
    size_t config_len;
    uint64_t state_at, state_len; /* where the vmstate is in the file */
};

/* Read the header of the open file `fd` of `size` bytes into si: 0, or -1
 * with the reason in why (the image's own words: "save image: ...").  The
 * state itself is the vmstate reader's to check. */
int saveimage_read(int fd, uint64_t size, struct saveimage *si, char *why, size_t whylen);
void saveimage_free(struct saveimage *si);

/* Write a save image to `out` (an open, empty file): the header, the
 * configuration, then the `state_len` bytes at `state_at` of the open
 * file `state`.  0, or -1 with errno set. */
int saveimage_write(int out, const char *tool, const char *config, size_t config_len, int state,
                    uint64_t state_at, uint64_t state_len);

/* Copy `len` bytes at `from` of file `in` to the start of file `out`: 0 or
 * -1 with errno set (ENODATA for a file that ends early). */
int saveimage_copy(int in, uint64_t from, int out, uint64_t len);

#endif
