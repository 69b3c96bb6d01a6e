/*
 * vms.c: the vmstate stream's framing and field calls (vms.h), shared by
 * every serialiser; the layout is include/hvkit/vmstate.h and
 * docs/vmstate.md.
 *
 * Reading order: the section table (names and versions), the checksum,
 * failures, then saving (header, buffered and streamed sections, the end),
 * loading (the same in reverse, every number checked before it is used),
 * and last the field calls that serve both directions.
 */
#include <stdarg.h>

#include "klib.h"

#include "vms.h"

/* ---- Sections: names and versions ---------------------------------------- */

/*
 * One row per section id: the name messages use and the version of its
 * payload's layout.  A serialiser that changes its fields bumps its
 * version here, and a state written with another version is refused by
 * name rather than misread.
 */
static const struct {
    const char *name;
    uint32_t version;
} sections[VMS_SEC_COUNT] = {
    [VMS_SEC_END] = {"end", 1},
    [VMS_SEC_DOMAIN] = {"domain", 1},
    [VMS_SEC_CPU] = {"cpu", 4},
    [VMS_SEC_LAPIC] = {"lapic", 1},
    [VMS_SEC_PIC] = {"pic", 1},
    [VMS_SEC_PIT] = {"pit", 1},
    [VMS_SEC_IOAPIC] = {"ioapic", 1},
    [VMS_SEC_UART] = {"uart", 2},
    [VMS_SEC_FWCFG] = {"fwcfg", 1},
    [VMS_SEC_PORT92] = {"port92", 1},
    [VMS_SEC_DEBUG_EXIT] = {"debug-exit", 1},
    [VMS_SEC_VIRTIO] = {"virtio", 1},
    [VMS_SEC_RAM] = {"ram", 1},
    [VMS_SEC_ACPI_PM] = {"acpi-pm", 1},
    [VMS_SEC_CONFIG] = {"config", 1},
    [VMS_SEC_PV] = {"pv", 1},
    [VMS_SEC_PV_BALLOON] = {"pv-balloon", 1},
    [VMS_SEC_CDROM] = {"cdrom", 1},
};

const char *vms_section_name(uint32_t id)
{
    return id < VMS_SEC_COUNT ? sections[id].name : "unknown";
}

uint32_t vms_section_version(uint32_t id)
{
    return id < VMS_SEC_COUNT ? sections[id].version : 0;
}

/* ---- CRC-32 ------------------------------------------------------------------ */

/*
 * CRC-32 as zlib and Ethernet compute it (the reflected polynomial
 * 0xedb88320, initial value and final XOR all ones), so `crc32` of any
 * scripting language can check a section by hand.  A 16-entry table, one
 * nibble at a time: small enough to build on the stack each call, fast
 * enough for a few MiB of guest RAM.
 */
uint32_t vms_crc32(uint32_t crc, const void *buf, size_t len)
{
    static const uint32_t nibble[16] = {
        0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4,
        0x4db26158, 0x5005713c, 0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
        0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
    };
    const uint8_t *p = buf;
    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        crc = (crc >> 4) ^ nibble[crc & 15];
        crc = (crc >> 4) ^ nibble[crc & 15];
    }
    return ~crc;
}

/* ---- Failures ---------------------------------------------------------------- */

int vms_fail(struct vms *v, const char *fmt, ...)
{
    char msg[VMS_ERR_LEN];
    va_list ap;
    /* The first failure is the one to report: later ones follow from it. */
    if (v->failed)
        return -1;
    v->failed = true;
    va_start(ap, fmt);
    kvsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* Outside any section (the header, the end) the message stands alone;
     * inside one it says which, so a user knows what did not match. */
    if (v->id == VMS_SEC_END)
        ksnprintf(v->err, sizeof(v->err), "vmstate: %s", msg);
    else
        ksnprintf(v->err, sizeof(v->err), "vmstate: section '%s' (instance %u): %s",
                  vms_section_name(v->id), v->instance, msg);
    return -1;
}

bool vms_check(struct vms *v, bool cond, const char *what)
{
    if (v->loading && !cond)
        vms_fail(v, "%s is out of range", what);
    return cond;
}

/* Little-endian stores and loads for the framing. */
static void put32(uint8_t *p, uint32_t x)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(x >> (8 * i));
}

static void put64(uint8_t *p, uint64_t x)
{
    put32(p, (uint32_t)x);
    put32(p + 4, (uint32_t)(x >> 32));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* ---- Saving ------------------------------------------------------------------ */

/* Bytes to the sink at the current position; the sink's own message on
 * failure. */
static int emit(struct vms *v, const void *buf, size_t len)
{
    char err[VMS_ERR_LEN] = "";
    if (v->failed)
        return -1;
    if (v->sink->write(v->sink->ctx, v->at, buf, len, err) < 0)
        return vms_fail(v, "%s", err[0] ? err : "write failed");
    v->at += len;
    return 0;
}

int vms_save_begin(struct vms *v, const struct vms_sink *sink)
{
    uint8_t hdr[VMS_HEADER_LEN];
    memset(v, 0, sizeof(*v));
    v->sink = sink;
    memcpy(hdr, VMS_MAGIC, VMS_MAGIC_LEN);
    put32(hdr + 8, VMS_FORMAT_VERSION);
    put32(hdr + 12, VMS_HEADER_LEN);
    return emit(v, hdr, sizeof(hdr));
}

/* A section's 24-byte header; its checksum starts the section's CRC. */
static int emit_header(struct vms *v, uint32_t id, uint32_t instance, uint64_t length)
{
    uint8_t hdr[VMS_SECTION_HEADER_LEN];
    put32(hdr, id);
    put32(hdr + 4, instance);
    put32(hdr + 8, vms_section_version(id));
    put32(hdr + 12, 0);
    put64(hdr + 16, length);
    v->crc = vms_crc32(0, hdr, sizeof(hdr));
    return emit(v, hdr, sizeof(hdr));
}

static int emit_trailer(struct vms *v)
{
    uint8_t crc[VMS_SECTION_TRAILER_LEN];
    put32(crc, v->crc);
    return emit(v, crc, sizeof(crc));
}

void vms_section_begin(struct vms *v, uint32_t id, uint32_t instance)
{
    v->id = id;
    v->instance = instance;
    v->len = 0;
    v->pos = 0;
}

int vms_section_end(struct vms *v)
{
    int r = emit_header(v, v->id, v->instance, v->len);
    if (r == 0)
        r = emit(v, v->buf, v->len);
    if (r == 0) {
        v->crc = vms_crc32(v->crc, v->buf, v->len);
        r = emit_trailer(v);
    }
    return r;
}

int vms_stream_begin(struct vms *v, uint32_t id, uint32_t instance, uint64_t length)
{
    vms_section_begin(v, id, instance);
    v->stream_left = length;
    return emit_header(v, id, instance, length);
}

int vms_stream_write(struct vms *v, const void *buf, size_t len)
{
    /* More than announced would leave a header that lies about the
     * length: a bug in the caller, refused before it reaches the sink. */
    if (len > v->stream_left)
        return vms_fail(v, "%zu bytes more than the section's length", len);
    v->stream_left -= len;
    v->crc = vms_crc32(v->crc, buf, len);
    return emit(v, buf, len);
}

int vms_stream_skip(struct vms *v, const void *buf, size_t len)
{
    if (len > v->stream_left)
        return vms_fail(v, "%zu bytes more than the section's length", len);
    v->stream_left -= len;
    v->crc = vms_crc32(v->crc, buf, len);
    v->at += len;
    return v->failed ? -1 : 0;
}

int vms_stream_end(struct vms *v)
{
    if (v->stream_left)
        return vms_fail(v, "%llu bytes short of the section's length",
                        (unsigned long long)v->stream_left);
    return emit_trailer(v);
}

int64_t vms_save_end(struct vms *v)
{
    vms_section_begin(v, VMS_SEC_END, 0);
    if (vms_section_end(v) < 0)
        return -1;
    return (int64_t)v->at;
}

/* ---- Loading ----------------------------------------------------------------- */

/* Bytes from the source at the current position; "truncated" when the
 * stream ends first. */
static int take(struct vms *v, void *buf, size_t len)
{
    char err[VMS_ERR_LEN] = "";
    if (v->failed)
        return -1;
    if (v->at > v->src->size || len > v->src->size - v->at)
        return vms_fail(v, "truncated: the state ends at byte %llu",
                        (unsigned long long)v->src->size);
    if (v->src->read(v->src->ctx, v->at, buf, len, err) < 0)
        return vms_fail(v, "%s", err[0] ? err : "read failed");
    v->at += len;
    return 0;
}

int vms_load_begin(struct vms *v, const struct vms_source *src)
{
    uint8_t hdr[VMS_HEADER_LEN];
    memset(v, 0, sizeof(*v));
    v->loading = true;
    v->src = src;
    if (take(v, hdr, sizeof(hdr)) < 0)
        return -1;
    if (memcmp(hdr, VMS_MAGIC, VMS_MAGIC_LEN))
        return vms_fail(v, "not an hvkit state (no %s magic)", VMS_MAGIC);
    if (get32(hdr + 8) != VMS_FORMAT_VERSION || get32(hdr + 12) != VMS_HEADER_LEN)
        return vms_fail(v, "format version %u, this hv reads version %u", get32(hdr + 8),
                        VMS_FORMAT_VERSION);
    return 0;
}

/* The checked header of the next section: known, its version, its flags. */
static int check_header(struct vms *v, const uint8_t *hdr, uint64_t *length)
{
    uint32_t version = get32(hdr + 8);
    v->id = get32(hdr);
    v->instance = get32(hdr + 4);
    *length = get64(hdr + 16);
    if (v->id >= VMS_SEC_COUNT) {
        uint32_t id = v->id;
        v->id = VMS_SEC_END;
        return vms_fail(v, "unknown section id %u at byte %llu", id,
                        (unsigned long long)(v->at - VMS_SECTION_HEADER_LEN));
    }
    if (version != vms_section_version(v->id))
        return vms_fail(v, "version %u, this hv reads version %u", version,
                        vms_section_version(v->id));
    if (get32(hdr + 12))
        return vms_fail(v, "unknown flags %#x", get32(hdr + 12));
    return 0;
}

int vms_next_section(struct vms *v, bool *streamed, uint64_t *payload_at, uint64_t *length)
{
    uint8_t hdr[VMS_SECTION_HEADER_LEN], trailer[VMS_SECTION_TRAILER_LEN];
    v->id = VMS_SEC_END;
    v->instance = 0;
    if (take(v, hdr, sizeof(hdr)) < 0 || check_header(v, hdr, length) < 0)
        return -1;
    v->crc = vms_crc32(0, hdr, sizeof(hdr));
    /* The payload and its trailer must lie inside the stream: a cut
     * state is found here, before anything of the section is used. */
    uint64_t left = v->src->size - v->at;
    if (*length > left || left - *length < VMS_SECTION_TRAILER_LEN)
        return vms_fail(v, "truncated: %llu payload bytes announced, %llu left",
                        (unsigned long long)*length, (unsigned long long)left);
    *payload_at = v->at;
    /* RAM, a save file's kernel (in CONFIG) and the balloon's bitmap (up
     * to 96 KiB for 3 GiB of RAM) are too large for the section buffer:
     * their payload is read piece by piece. */
    *streamed = v->id == VMS_SEC_RAM || v->id == VMS_SEC_CONFIG || v->id == VMS_SEC_PV_BALLOON;
    if (*streamed) {
        v->stream_left = *length;
        return 0;
    }
    if (*length > VMS_SECTION_MAX)
        return vms_fail(v, "%llu bytes long, more than any such section",
                        (unsigned long long)*length);
    v->len = (uint32_t)*length;
    v->pos = 0;
    if (take(v, v->buf, v->len) < 0 || take(v, trailer, sizeof(trailer)) < 0)
        return -1;
    if (get32(trailer) != vms_crc32(v->crc, v->buf, v->len))
        return vms_fail(v, "checksum mismatch: the state is corrupted");
    return 0;
}

int vms_section_done(struct vms *v)
{
    if (v->failed)
        return -1;
    if (v->pos != v->len)
        return vms_fail(v, "%u bytes long, this hv reads %u", v->len, v->pos);
    return 0;
}

int vms_stream_read(struct vms *v, void *buf, size_t len)
{
    if (len > v->stream_left)
        return vms_fail(v, "the payload ends %llu bytes early",
                        (unsigned long long)(len - v->stream_left));
    if (take(v, buf, len) < 0)
        return -1;
    v->stream_left -= len;
    v->crc = vms_crc32(v->crc, buf, len);
    return 0;
}

int vms_stream_finish(struct vms *v)
{
    uint8_t trailer[VMS_SECTION_TRAILER_LEN];
    if (v->stream_left)
        return vms_fail(v, "%llu payload bytes left over", (unsigned long long)v->stream_left);
    if (take(v, trailer, sizeof(trailer)) < 0)
        return -1;
    if (get32(trailer) != v->crc)
        return vms_fail(v, "checksum mismatch: the state is corrupted");
    return 0;
}

/* ---- Fields -------------------------------------------------------------------- */

/*
 * The one place a field moves: into the section's buffer while saving,
 * out of it while loading.  Running past either end fails the section
 * (saving: a serialiser larger than VMS_SECTION_MAX, a bug; loading: a
 * payload shorter than the serialiser, a layout mismatch) and leaves the
 * field as it was.
 */
static void field(struct vms *v, void *x, size_t len)
{
    if (v->failed)
        return;
    if (!v->loading) {
        if (len > VMS_SECTION_MAX - v->len) {
            vms_fail(v, "more than %u bytes", VMS_SECTION_MAX);
            return;
        }
        memcpy(v->buf + v->len, x, len);
        v->len += (uint32_t)len;
        return;
    }
    if (len > v->len - v->pos) {
        vms_fail(v, "%u bytes long, too short for this hv's layout", v->len);
        return;
    }
    memcpy(x, v->buf + v->pos, len);
    v->pos += (uint32_t)len;
}

/* x86 is little-endian, the format's byte order: the integers move as
 * they lie in memory. */
void vms_u8(struct vms *v, uint8_t *x)
{
    field(v, x, 1);
}

void vms_u16(struct vms *v, uint16_t *x)
{
    field(v, x, 2);
}

void vms_u32(struct vms *v, uint32_t *x)
{
    field(v, x, 4);
}

void vms_u64(struct vms *v, uint64_t *x)
{
    field(v, x, 8);
}

void vms_bytes(struct vms *v, void *x, size_t len)
{
    field(v, x, len);
}

/* A bool is one byte, 0 or 1; anything else is refused, since a bool
 * holding another value is undefined behaviour in C. */
void vms_bool(struct vms *v, bool *x)
{
    uint8_t b = *x;
    field(v, &b, 1);
    if (v->loading && vms_check(v, b <= 1, "a flag"))
        *x = b;
}

void vms_since(struct vms *v, uint64_t *t, uint64_t now)
{
    uint64_t ago = now - *t;
    field(v, &ago, 8);
    if (v->loading && !v->failed)
        *t = now - ago;
}
