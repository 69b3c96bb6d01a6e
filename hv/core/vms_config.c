/*
 * vms_config.c: a save file's CONFIG section and the reads of a save
 * file that need no domain (vms_config.h).
 */
#include "klib.h"

#include "cmdline.h"
#include "vms_config.h"

/*
 * A save file's CONFIG section (vms_domain.h): streamed, since the image
 * may be megabytes, in this order:
 *   u32 name length, the name; u32 command line length, the command line;
 *   u8 on_poweroff, on_reboot, on_crash, paused; u64 image length, the image.
 */
static uint64_t config_length(const struct vms_config *c)
{
    return 4 + strlen(c->name) + 4 + strlen(c->cmdline) + 4 + 8 + c->image_len;
}

int vms_config_save(struct vms *v, const struct vms_config *c)
{
    uint32_t name_len = (uint32_t)strlen(c->name), cmd_len = (uint32_t)strlen(c->cmdline);
    uint8_t flags[4] = {c->on_poweroff, c->on_reboot, c->on_crash, c->paused};
    if (vms_stream_begin(v, VMS_SEC_CONFIG, 0, config_length(c)) < 0 ||
        vms_stream_write(v, &name_len, 4) < 0 || vms_stream_write(v, c->name, name_len) < 0 ||
        vms_stream_write(v, &cmd_len, 4) < 0 || vms_stream_write(v, c->cmdline, cmd_len) < 0 ||
        vms_stream_write(v, flags, 4) < 0 || vms_stream_write(v, &c->image_len, 8) < 0 ||
        vms_stream_write(v, c->image, c->image_len) < 0)
        return -1;
    return vms_stream_end(v);
}

/* A string of the section: its length (at most max) and its bytes. */
static int config_string(struct vms *v, char *buf, uint32_t max, const char *what)
{
    uint32_t len;
    if (vms_stream_read(v, &len, 4) < 0)
        return -1;
    if (len > max)
        return vms_fail(v, "the %s is %u bytes long, more than %u", what, len, max);
    if (vms_stream_read(v, buf, len) < 0)
        return -1;
    buf[len] = '\0';
    /* A NUL inside would cut the string short where the writer did not. */
    if (strlen(buf) != len)
        return vms_fail(v, "the %s holds a NUL byte", what);
    return 0;
}

/*
 * Read the CONFIG section whose header vms_next_section() has just read
 * (`length` payload bytes), checking every value; the image goes into
 * memory from alloc() or, with alloc NULL, is only read through for the
 * checksum (into `page`, a page at a time).
 */
int vms_config_load(struct vms *v, uint64_t length, struct vms_config *c,
                    void *(*alloc)(uint64_t len), uint8_t *page)
{
    uint8_t flags[4];
    if (config_string(v, c->name, VMS_CONFIG_NAME_MAX, "name") < 0 ||
        config_string(v, c->cmdline, VMS_CONFIG_CMDLINE_MAX, "command line") < 0 ||
        vms_stream_read(v, flags, 4) < 0 || vms_stream_read(v, &c->image_len, 8) < 0)
        return -1;
    /* enum domain_action: destroy, restart, preserve (cmdline.h). */
    if (!vms_check(v,
                   flags[0] <= DOMAIN_ACTION_PRESERVE && flags[1] <= DOMAIN_ACTION_PRESERVE &&
                       flags[2] <= DOMAIN_ACTION_PRESERVE,
                   "an on_poweroff, on_reboot or on_crash action") ||
        !vms_check(v, flags[3] <= 1, "the paused flag"))
        return -1;
    c->on_poweroff = flags[0];
    c->on_reboot = flags[1];
    c->on_crash = flags[2];
    c->paused = flags[3];
    if (c->image_len == 0 || c->image_len > VMS_CONFIG_IMAGE_MAX ||
        c->image_len != length - (4 + strlen(c->name) + 4 + strlen(c->cmdline) + 4 + 8))
        return vms_fail(v, "the image's length (%llu bytes) does not fit the section",
                        (unsigned long long)c->image_len);
    if (alloc) {
        void *img = alloc(c->image_len);
        if (!img)
            return vms_fail(v, "no memory for the %llu-byte image",
                            (unsigned long long)c->image_len);
        c->image = img;
        if (vms_stream_read(v, img, c->image_len) < 0)
            return -1;
    }
    for (uint64_t left = alloc ? 0 : c->image_len; left;) {
        size_t n = left < VMS_PAGE_SIZE ? (size_t)left : VMS_PAGE_SIZE;
        if (vms_stream_read(v, page, n) < 0)
            return -1;
        left -= n;
    }
    return vms_stream_finish(v);
}

int vms_read_config(struct vms *v, const struct vms_source *src, struct vms_shape *shape,
                    struct vms_config *cfg, void *(*alloc)(uint64_t len))
{
    static uint8_t page[VMS_PAGE_SIZE];
    bool streamed;
    uint64_t at, length;
    cfg->image = NULL;
    if (vms_load_begin(v, src) < 0 || vms_next_section(v, &streamed, &at, &length) < 0)
        return -1;
    if (v->id != VMS_SEC_DOMAIN)
        return vms_fail(v, "the state must start with its 'domain' section");
    vms_u32(v, &shape->vcpus);
    vms_u64(v, &shape->ram);
    vms_u32(v, &shape->virtio);
    if (vms_section_done(v) < 0 || vms_next_section(v, &streamed, &at, &length) < 0)
        return -1;
    if (v->id != VMS_SEC_CONFIG) {
        v->id = VMS_SEC_END;
        return vms_fail(v, "no 'config' section after the 'domain' section: this state holds no "
                           "domain's name and kernel (a savevm, or a save of hv's save= option), "
                           "so no new domain can be made from it");
    }
    return vms_config_load(v, length, cfg, alloc, page);
}

int vms_check_stream(struct vms *v, const struct vms_source *src)
{
    static uint8_t page[VMS_PAGE_SIZE];
    bool streamed;
    uint64_t at, length;
    if (vms_load_begin(v, src) < 0)
        return -1;
    for (;;) {
        if (vms_next_section(v, &streamed, &at, &length) < 0)
            return -1;
        if (v->id == VMS_SEC_END)
            return 0;
        /* A buffered section was checked whole by vms_next_section(). */
        for (uint64_t left = streamed ? length : 0; left;) {
            size_t n = left < VMS_PAGE_SIZE ? (size_t)left : VMS_PAGE_SIZE;
            if (vms_stream_read(v, page, n) < 0)
                return -1;
            left -= n;
        }
        if (streamed && vms_stream_finish(v) < 0)
            return -1;
    }
}
