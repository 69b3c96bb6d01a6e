/*
 * vms.h: writing and reading hvkit's vmstate stream (include/hvkit/vmstate.h,
 * docs/vmstate.md), the part every serialiser shares.
 *
 * A serialiser is written once for both directions: it names each field
 * of its model in order (vms_u8(), vms_u32(), ...), and the same calls
 * store the fields into a section while saving and take them out of one
 * while loading.  So the two directions cannot disagree on the layout,
 * and a field added to one is added to the other.  Loading checks what it
 * takes (vms_check()): a value the model could never have had is refused
 * with the section's name, never handed to a device model.
 *
 * Sections other than RAM are built in a buffer (VMS_SECTION_MAX bytes),
 * so that their length and checksum are known before the header is
 * written; RAM is streamed (vms_stream_*), its length counted beforehand.
 *
 * Compiled freestanding into hv and hosted for the unit tests.
 */
#ifndef HV_CORE_VMS_H
#define HV_CORE_VMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hvkit/vmstate.h>

/* The largest payload of a buffered section (every section but RAM). */
#define VMS_SECTION_MAX 4096u
/* Room for an error message. */
#define VMS_ERR_LEN 200u

/* Where a state goes: write len bytes at byte pos of the stream.  Returns
 * 0, or -1 with the reason in err (at most VMS_ERR_LEN bytes). */
struct vms_sink {
    int (*write)(void *ctx, uint64_t pos, const void *buf, size_t len, char *err);
    void *ctx;
};

/* Where a state comes from: read len bytes at byte pos; size is the
 * stream's length (reads never go past it).  Returns 0 or -1 with err. */
struct vms_source {
    int (*read)(void *ctx, uint64_t pos, void *buf, size_t len, char *err);
    void *ctx;
    uint64_t size;
};

struct vms {
    /* true while loading: the field calls take values out of the section. */
    bool loading;
    /* The first failure; every call after it does nothing. */
    bool failed;
    char err[VMS_ERR_LEN];

    /* The section being built or decoded, and its payload. */
    uint32_t id, instance;
    uint8_t buf[VMS_SECTION_MAX];
    uint32_t len; /* saving: bytes put so far; loading: the payload's length */
    uint32_t pos; /* loading: bytes taken so far */

    /* Saving: the sink and the next byte's position in the stream. */
    const struct vms_sink *sink;
    /* Loading: the source and the position of the next section. */
    const struct vms_source *src;
    uint64_t at;

    /* A streamed section: its payload bytes still to come and the
     * checksum so far. */
    uint64_t stream_left;
    uint32_t crc;
};

/* The name of section `id` for messages ("pit", "cpu", ...), "unknown"
 * for an id this hv does not know. */
const char *vms_section_name(uint32_t id);
/* The version of section `id` this hv writes and reads. */
uint32_t vms_section_version(uint32_t id);

/* CRC-32 (ISO-HDLC) of buf, continuing from crc (start with 0). */
uint32_t vms_crc32(uint32_t crc, const void *buf, size_t len);

/* The first failure, printf-style; the message names the current section
 * and its instance when there is one.  Always returns -1. */
int vms_fail(struct vms *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Loading: refuse the section unless cond holds ("what" says which value
 * was out of range).  Returns cond. */
bool vms_check(struct vms *v, bool cond, const char *what);

/* ---- Saving ---- */

/* Start a state: the stream header at position 0. */
int vms_save_begin(struct vms *v, const struct vms_sink *sink);
/* A buffered section: begin, the serialiser's field calls, end. */
void vms_section_begin(struct vms *v, uint32_t id, uint32_t instance);
int vms_section_end(struct vms *v);
/* A streamed section of exactly `length` payload bytes. */
int vms_stream_begin(struct vms *v, uint32_t id, uint32_t instance, uint64_t length);
int vms_stream_write(struct vms *v, const void *buf, size_t len);
/* Bytes the sink already holds at this place from an earlier save of the
 * same layout: counted in the checksum and the position, not written. */
int vms_stream_skip(struct vms *v, const void *buf, size_t len);
int vms_stream_end(struct vms *v);
/* The END section.  Returns the stream's length, or -1. */
int64_t vms_save_end(struct vms *v);

/* ---- Loading ---- */

/* Check the stream header. */
int vms_load_begin(struct vms *v, const struct vms_source *src);
/*
 * The next section's header, checked: a known id, its version, a length
 * that fits the stream.  A buffered section's payload is read into v->buf
 * and its checksum checked; a streamed one (*streamed true: RAM) is left
 * for vms_stream_read().  *payload_at is where its payload starts.
 * Returns 0 with v->id and v->instance set, or -1.
 */
int vms_next_section(struct vms *v, bool *streamed, uint64_t *payload_at, uint64_t *length);
/* Loading: the whole payload was taken (a shorter one would mean the
 * writer and the reader disagree on the layout). */
int vms_section_done(struct vms *v);
/* A streamed section's payload, in order, its checksum checked by
 * vms_stream_finish() once stream_left is 0. */
int vms_stream_read(struct vms *v, void *buf, size_t len);
int vms_stream_finish(struct vms *v);

/* ---- The fields, in both directions ---- */

void vms_u8(struct vms *v, uint8_t *x);
void vms_u16(struct vms *v, uint16_t *x);
void vms_u32(struct vms *v, uint32_t *x);
void vms_u64(struct vms *v, uint64_t *x);
void vms_bool(struct vms *v, bool *x);
void vms_bytes(struct vms *v, void *x, size_t len);
/* A point in time on a running clock, kept as "so long before now": saved
 * as now - *t, loaded as now - saved, so a timer started before a save
 * has the same time left after a load, whatever the clock reads then. */
void vms_since(struct vms *v, uint64_t *t, uint64_t now);

#endif
