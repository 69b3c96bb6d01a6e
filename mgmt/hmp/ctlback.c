/*
 * The control-protocol backend (ctlback.h): HMP's needs mapped onto the
 * protocol's commands, and their JSON replies read into the monitor's
 * structs.  Members the reply lacks stay unknown (the monitor prints
 * dashes for them) rather than being guessed.
 */
#include "ctlback.h"

#include <string.h>

#include "cmds.h"

#define DOM(d)                                                                                     \
    {                                                                                              \
        CTL_ARG_DOMAIN, CTLC_U64, (uint64_t)(d), NULL                                              \
    }
#define CPU(c)                                                                                     \
    {                                                                                              \
        CTL_ARG_CPU, CTLC_U64, (uint64_t)(c), NULL                                                 \
    }
#define UNSUPPORTED(err)                                                                           \
    (snprintf((err)->cls, sizeof((err)->cls), "%s", CTL_ERR_COMMAND_NOT_FOUND),                    \
     snprintf((err)->desc, sizeof((err)->desc), "%s", HMP_UNSUPPORTED), -1)

/* Member `key` of object `obj` as an integer (unchanged if missing). */
static bool get_u64(const struct json_doc *d, int obj, const char *key, uint64_t *v)
{
    int i = json_get(d, obj, key);
    return i >= 0 && json_u64(d, i, v) == 0;
}

static bool get_bool(const struct json_doc *d, int obj, const char *key, bool *v)
{
    int i = json_get(d, obj, key);
    return i >= 0 && json_bool(d, i, v) == 0;
}

static bool get_str(const struct json_doc *d, int obj, const char *key, char *buf, size_t size)
{
    int i = json_get(d, obj, key);
    return i >= 0 && json_str_copy(d, i, buf, size) >= 0;
}

static int be_status(void *ctx, int dom, struct hmp_status *st, struct hmp_err *err)
{
    struct ctlc *c = ctx;
    struct ctlc_arg a[] = {DOM(dom)};
    int r = ctl_call(c, CTL_CMD_QUERY_STATUS, a, 1, err);
    if (r < 0)
        return -1;
    /* query-status has QMP's shape: "status" is QEMU's run-state name. */
    st->running = false;
    snprintf(st->status, sizeof(st->status), "unknown");
    get_bool(&c->doc, r, "running", &st->running);
    get_str(&c->doc, r, "status", st->status, sizeof(st->status));
    return 0;
}

static int be_simple(void *ctx, int dom, const char *command, struct hmp_err *err)
{
    struct ctlc *c = ctx;
    struct ctlc_arg a[] = {DOM(dom)};
    /* quit acts on the whole machine. */
    bool whole = !strcmp(command, CTL_CMD_QUIT);
    return ctl_call(c, command, a, whole ? 0 : 1, err) < 0 ? -1 : 0;
}

static int be_simple_apart(void *ctx, int dom, const char *command, struct hmp_err *err)
{
    static struct ctlc apart;
    /* A greeting within 10 s, as the front-ends' other second connections
     * (mgmt/common/saveguard.c) wait for it. */
    if (ctlc_reopen(&apart, ctx, 10000, err->desc, sizeof(err->desc)) < 0) {
        snprintf(err->cls, sizeof(err->cls), "%s", CTL_ERR_GENERIC);
        return -1;
    }
    int rc = be_simple(&apart, dom, command, err);
    ctlc_close(&apart);
    return rc;
}

/* Segment `name` of x-query-registers' reply: its base, and selector,
 * limit and QEMU-style flags when the reply has them. */
static void get_seg(const struct json_doc *d, int r, const char *name, struct hmp_seg *s)
{
    int o = json_get(d, r, name);
    if (o < 0)
        return;
    s->known_base = get_u64(d, o, "base", &s->base);
    uint64_t sel, lim, fl;
    if (get_u64(d, o, "selector", &sel) && get_u64(d, o, "limit", &lim) &&
        get_u64(d, o, "flags", &fl)) {
        s->selector = (uint16_t)sel;
        s->limit = (uint32_t)lim;
        s->flags = (uint32_t)fl;
        s->known_desc = true;
    }
}

/* A descriptor table register ("gdt", "idt"): base and limit. */
static bool get_table(const struct json_doc *d, int r, const char *name, uint64_t *base,
                      uint32_t *limit)
{
    int o = json_get(d, r, name);
    uint64_t lim;
    if (o < 0 || !get_u64(d, o, "base", base) || !get_u64(d, o, "limit", &lim))
        return false;
    *limit = (uint32_t)lim;
    return true;
}

static int be_regs(void *ctx, int dom, int cpu, struct hmp_regs *regs, struct hmp_err *err)
{
    struct ctlc *c = ctx;
    struct ctlc_arg a[] = {DOM(dom), CPU(cpu)};
    int r = ctl_call(c, CTL_CMD_QUERY_REGISTERS, a, 2, err);
    if (r < 0)
        return -1;
    /* The general registers in encoding order, as struct hmp_regs keeps them. */
    static const char *const gpr[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                        "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
    static const char *const seg[6] = {"es", "cs", "ss", "ds", "fs", "gs"};
    const struct json_doc *d = &c->doc;
    memset(regs, 0, sizeof(*regs));
    for (int i = 0; i < 16; i++)
        get_u64(d, r, gpr[i], &regs->gpr[i]);
    get_u64(d, r, "rip", &regs->rip);
    get_u64(d, r, "rflags", &regs->rflags);
    get_u64(d, r, "cr0", &regs->cr0);
    get_u64(d, r, "cr2", &regs->cr2);
    get_u64(d, r, "cr3", &regs->cr3);
    get_u64(d, r, "cr4", &regs->cr4);
    get_u64(d, r, "cr8", &regs->cr8);
    get_u64(d, r, "efer", &regs->efer);
    uint64_t cpl;
    regs->cpl = get_u64(d, r, "cpl", &cpl) ? (int)cpl : -1;
    for (int i = 0; i < 6; i++)
        get_seg(d, r, seg[i], &regs->seg[i]);
    get_seg(d, r, "ldt", &regs->ldt);
    get_seg(d, r, "tr", &regs->tr);
    regs->known_gdt = get_table(d, r, "gdt", &regs->gdt_base, &regs->gdt_limit);
    regs->known_idt = get_table(d, r, "idt", &regs->idt_base, &regs->idt_limit);
    return 0;
}

/* One hex digit's value, or -1. */
static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

/* Decode x-read-memory's reply (token `r` of c->doc) into `len` bytes:
 * false if its "data" is not 2 * len hex digits. */
static bool decode_data(const struct ctlc *c, int r, uint8_t *out, size_t len)
{
    int h = json_get(&c->doc, r, "data");
    const struct json_tok *t = h >= 0 ? &c->doc.tok[h] : NULL;
    if (!t || t->type != JSON_STRING || t->len != 2 * len)
        return false;
    const char *hex = c->doc.text + t->start;
    for (size_t i = 0; i < len; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

/* How often a read whose reply came back damaged is asked again. */
#define READ_TRIES 5
/* The most bytes one request asks for: well below the protocol's 4096,
 * because a reply's chance of being damaged on a loaded host grows with
 * its length (see read_piece). */
#define READ_PIECE 1024

/* Read `len` bytes (at most READ_PIECE) with x-read-memory.  A reply whose
 * hex is cut short or lengthened was damaged on its way (bytes lost or
 * doubled on the serial line between hv and the manager when the host is
 * busy); reading changes nothing, so it is simply asked again. */
static int read_piece(struct ctlc *c, int dom, int cpu, uint64_t addr, uint8_t *buf, size_t len,
                      bool physical, struct hmp_err *err)
{
    struct ctlc_arg a[] = {DOM(dom),
                           CPU(cpu),
                           {CTL_ARG_ADDR, CTLC_U64, addr, NULL},
                           {CTL_ARG_SIZE, CTLC_U64, len, NULL},
                           {CTL_ARG_PHYSICAL, CTLC_BOOL, physical, NULL}};
    for (int i = 0; i < READ_TRIES; i++) {
        int r = ctl_call(c, CTL_CMD_READ_MEMORY, a, 5, err);
        if (r < 0)
            return -1;
        if (decode_data(c, r, buf, len))
            return 0;
    }
    snprintf(err->cls, sizeof(err->cls), "%s", CTL_ERR_GENERIC);
    snprintf(err->desc, sizeof(err->desc), "x-read-memory's replies came back damaged");
    return -1;
}

static int be_read_mem(void *ctx, int dom, int cpu, uint64_t addr, void *buf, size_t len,
                       bool physical, struct hmp_err *err)
{
    uint8_t *out = buf;
    for (size_t done = 0; done < len; done += READ_PIECE) {
        size_t n = len - done < READ_PIECE ? len - done : READ_PIECE;
        if (read_piece(ctx, dom, cpu, addr + done, out + done, n, physical, err) < 0)
            return -1;
    }
    return 0;
}

/* pmemsave or memsave with QMP's arguments; the manager moves the bytes
 * into `path` through the staging disk. */
static int be_save_mem(void *ctx, int dom, int cpu, uint64_t addr, uint64_t len, bool physical,
                       const char *path, struct hmp_err *err)
{
    struct ctlc_arg a[] = {DOM(dom),
                           {CTL_ARG_VAL, CTLC_U64, addr, NULL},
                           {CTL_ARG_SIZE, CTLC_U64, len, NULL},
                           {CTL_ARG_FILENAME, CTLC_STR, 0, path},
                           {CTL_ARG_CPU_INDEX, CTLC_U64, (uint64_t)cpu, NULL}};
    const char *command = physical ? CTL_CMD_PMEMSAVE : CTL_CMD_MEMSAVE;
    return ctl_call(ctx, command, a, physical ? 4 : 5, err) < 0 ? -1 : 0;
}

static int be_cpus(void *ctx, int dom, struct hmp_cpu *cpus, int max, struct hmp_err *err)
{
    struct ctlc *c = ctx;
    struct ctlc_arg a[] = {DOM(dom)};
    int r = ctl_call(c, CTL_CMD_QUERY_CPUS_FAST, a, 1, err);
    if (r < 0)
        return -1;
    int n = 0;
    for (int i = json_first(&c->doc, r); i >= 0 && n < max; i = json_after(&c->doc, r, i)) {
        uint64_t index = (uint64_t)n;
        get_u64(&c->doc, i, "cpu-index", &index);
        cpus[n] = (struct hmp_cpu){.index = (int)index, .thread_id = -1};
        get_bool(&c->doc, i, "halted", &cpus[n].halted);
        n++;
    }
    return n;
}

static int be_domain(void *ctx, int dom, struct hmp_domain *out, struct hmp_err *err)
{
    struct ctlc *c = ctx;
    int r = ctl_call(c, CTL_CMD_QUERY_DOMAINS, NULL, 0, err);
    if (r < 0)
        return -1;
    for (int i = json_first(&c->doc, r); i >= 0; i = json_after(&c->doc, r, i)) {
        uint64_t n, v;
        if (!get_u64(&c->doc, i, "domain", &n) || n != (uint64_t)dom)
            continue;
        memset(out, 0, sizeof(*out));
        get_str(&c->doc, i, "name", out->name, sizeof(out->name));
        get_str(&c->doc, i, "uuid", out->uuid, sizeof(out->uuid));
        get_u64(&c->doc, i, "memory", &out->memory);
        if (get_u64(&c->doc, i, "vcpus", &v))
            out->vcpus = (int)v;
        return 0;
    }
    snprintf(err->cls, sizeof(err->cls), "%s", CTL_ERR_DEVICE_NOT_FOUND);
    snprintf(err->desc, sizeof(err->desc), "no domain %d", dom);
    return -1;
}

static int be_version(void *ctx, int v[3], char *package, size_t len, struct hmp_err *err)
{
    struct ctlc *c = ctx;
    int r = ctl_call(c, CTL_CMD_QUERY_VERSION, NULL, 0, err);
    if (r < 0)
        return -1;
    uint64_t major = 0, minor = 0;
    int h = json_get(&c->doc, r, CTL_KEY_GREETING);
    if (h >= 0) {
        get_u64(&c->doc, h, "major", &major);
        get_u64(&c->doc, h, "minor", &minor);
    }
    v[0] = (int)major, v[1] = (int)minor, v[2] = 0;
    snprintf(package, len, "%s", CTL_PACKAGE);
    get_str(&c->doc, r, "package", package, len);
    return 0;
}

static int be_block(void *ctx, int dom, struct hmp_block *b, int max, struct hmp_err *err)
{
    struct ctlc *c = ctx;
    struct ctlc_arg a[] = {DOM(dom)};
    int r = ctl_call(c, CTL_CMD_QUERY_BLOCK, a, 1, err);
    if (r < 0)
        return -1;
    int n = 0;
    for (int i = json_first(&c->doc, r); i >= 0 && n < max; i = json_after(&c->doc, r, i)) {
        memset(&b[n], 0, sizeof(b[n]));
        get_str(&c->doc, i, "device", b[n].device, sizeof(b[n].device));
        get_str(&c->doc, i, "file", b[n].file, sizeof(b[n].file));
        get_str(&c->doc, i, "format", b[n].format, sizeof(b[n].format));
        get_bool(&c->doc, i, "ro", &b[n].ro);
        get_bool(&c->doc, i, "removable", &b[n].removable);
        /* A virtio disk always has its medium; a drive says. */
        b[n].inserted = true;
        get_bool(&c->doc, i, "inserted", &b[n].inserted);
        get_bool(&c->doc, i, "locked", &b[n].locked);
        get_bool(&c->doc, i, "tray_open", &b[n].tray_open);
        n++;
    }
    return n;
}

/* query-blockstats: each disk's name and the counters of its "stats". */
static int be_blockstats(void *ctx, int dom, struct hmp_blockstats *s, int max, struct hmp_err *err)
{
    struct ctlc *c = ctx;
    struct ctlc_arg a[] = {DOM(dom)};
    int r = ctl_call(c, CTL_CMD_QUERY_BLOCKSTATS, a, 1, err);
    if (r < 0)
        return -1;
    int n = 0;
    for (int i = json_first(&c->doc, r); i >= 0 && n < max; i = json_after(&c->doc, r, i)) {
        struct hmp_blockstats *b = &s[n++];
        memset(b, 0, sizeof(*b));
        get_str(&c->doc, i, "device", b->device, sizeof(b->device));
        int st = json_get(&c->doc, i, "stats");
        if (st < 0)
            continue;
        get_u64(&c->doc, st, "rd_bytes", &b->rd_bytes);
        get_u64(&c->doc, st, "wr_bytes", &b->wr_bytes);
        get_u64(&c->doc, st, "rd_operations", &b->rd_operations);
        get_u64(&c->doc, st, "wr_operations", &b->wr_operations);
        get_u64(&c->doc, st, "flush_operations", &b->flush_operations);
        get_u64(&c->doc, st, "rd_total_time_ns", &b->rd_total_time_ns);
        get_u64(&c->doc, st, "wr_total_time_ns", &b->wr_total_time_ns);
        get_u64(&c->doc, st, "flush_total_time_ns", &b->flush_total_time_ns);
        get_u64(&c->doc, st, "rd_merged", &b->rd_merged);
        get_u64(&c->doc, st, "wr_merged", &b->wr_merged);
        b->has_idle = get_u64(&c->doc, st, "idle_time_ns", &b->idle_time_ns);
    }
    return n;
}

static int be_snapshot(void *ctx, int dom, const char *command, const char *tag,
                       struct hmp_err *err)
{
    struct ctlc *c = ctx;
    struct ctlc_arg a[] = {DOM(dom), {CTL_ARG_NAME, CTLC_STR, 0, tag}};
    return ctl_call(c, command, a, 2, err) < 0 ? -1 : 0;
}

/* query-snapshots: QMP's SnapshotInfo list, the VM clock in seconds and
 * nanoseconds as QMP splits it, "icount" only where one was recorded. */
static int be_snapshots(void *ctx, int dom, struct img_snapshot_info *sn, int max,
                        struct hmp_err *err)
{
    struct ctlc *c = ctx;
    struct ctlc_arg a[] = {DOM(dom)};
    int r = ctl_call(c, CTL_CMD_QUERY_SNAPSHOTS, a, 1, err);
    if (r < 0)
        return -1;
    int n = 0;
    for (int i = json_first(&c->doc, r); i >= 0 && n < max; i = json_after(&c->doc, r, i)) {
        struct img_snapshot_info *s = &sn[n++];
        uint64_t date = 0, nsec = 0, clock_sec = 0, clock_nsec = 0;
        memset(s, 0, sizeof(*s));
        s->icount = UINT64_MAX;
        get_str(&c->doc, i, "id", s->id, sizeof(s->id));
        get_str(&c->doc, i, "name", s->name, sizeof(s->name));
        get_u64(&c->doc, i, "vm-state-size", &s->vm_state_size);
        get_u64(&c->doc, i, "date-sec", &date);
        get_u64(&c->doc, i, "date-nsec", &nsec);
        get_u64(&c->doc, i, "vm-clock-sec", &clock_sec);
        get_u64(&c->doc, i, "vm-clock-nsec", &clock_nsec);
        get_u64(&c->doc, i, "icount", &s->icount);
        s->date_sec = (uint32_t)date;
        s->date_nsec = (uint32_t)nsec;
        s->vm_clock_nsec = clock_sec * 1000000000u + clock_nsec;
    }
    return n;
}

static int be_balloon(void *ctx, int dom, uint64_t bytes, struct hmp_err *err)
{
    struct ctlc_arg a[] = {DOM(dom), {CTL_ARG_VALUE, CTLC_U64, bytes, NULL}};
    return ctl_call(ctx, CTL_CMD_BALLOON, a, 2, err) < 0 ? -1 : 0;
}

static int be_balloon_info(void *ctx, int dom, uint64_t *actual, struct hmp_err *err)
{
    struct ctlc *c = ctx;
    struct ctlc_arg a[] = {DOM(dom)};
    int r = ctl_call(c, CTL_CMD_QUERY_BALLOON, a, 1, err);
    if (r < 0)
        return -1;
    *actual = 0;
    get_u64(&c->doc, r, "actual", actual);
    return 0;
}

static int be_commit(void *ctx, int dom, const char *device, struct hmp_err *err)
{
    struct ctlc_arg a[] = {DOM(dom), {CTL_ARG_DEVICE, CTLC_STR, 0, device}};
    return ctl_call(ctx, CTL_CMD_COMMIT, a, 2, err) < 0 ? -1 : 0;
}

static int be_eject(void *ctx, int dom, const char *device, bool force, struct hmp_err *err)
{
    struct ctlc_arg a[] = {
        DOM(dom), {CTL_ARG_DEVICE, CTLC_STR, 0, device}, {CTL_ARG_FORCE, CTLC_BOOL, force, NULL}};
    return ctl_call(ctx, CTL_CMD_EJECT, a, 3, err) < 0 ? -1 : 0;
}

static int be_change(void *ctx, int dom, const char *device, const char *file, const char *format,
                     bool force, struct hmp_err *err)
{
    struct ctlc_arg a[] = {DOM(dom),
                           {CTL_ARG_DEVICE, CTLC_STR, 0, device},
                           {CTL_ARG_FILENAME, CTLC_STR, 0, file},
                           {CTL_ARG_FORCE, CTLC_BOOL, force, NULL},
                           {CTL_ARG_FORMAT, CTLC_STR, 0, format}};
    return ctl_call(ctx, CTL_CMD_CHANGE_MEDIUM, a, format ? 5 : 4, err) < 0 ? -1 : 0;
}

const struct hmp_backend hmp_ctl_backend = {
    .status = be_status,
    .simple = be_simple,
    .simple_apart = be_simple_apart,
    .regs = be_regs,
    .read_mem = be_read_mem,
    .save_mem = be_save_mem,
    .cpus = be_cpus,
    .domain = be_domain,
    .version = be_version,
    .block = be_block,
    .blockstats = be_blockstats,
    .snapshot = be_snapshot,
    .snapshots = be_snapshots,
    .balloon = be_balloon,
    .balloon_info = be_balloon_info,
    .commit = be_commit,
    .eject = be_eject,
    .change = be_change,
};
