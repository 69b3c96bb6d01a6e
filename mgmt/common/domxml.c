/*
 * Domain XML: parsing with libxml2 into a struct domain_def, the checks
 * libvirt makes, and libvirt's dumpxml layout (see domxml.h).
 *
 * The messages are libvirt 9.0's, as Debian's virsh prints them for the
 * same mistakes (tests/integration/virsh-domains.sh compares them).
 */
#include "domxml.h"
#include "size.h"
#include "text.h"
#include "xmlread.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Put a message in the caller's buffer and fail. */
static bool refuse(char *why, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
    return false;
}

/* The domain types an hvkit domain can be written as: KVM's XML works
 * unchanged, since hv is a hardware-assisted hypervisor like KVM. */
static bool known_type(const char *type)
{
    return !strcmp(type, "kvm") || !strcmp(type, "qemu") || !strcmp(type, "hvkit");
}

/* A size element (<memory unit='MiB'>128</memory>) in KiB, libvirt's unit
 * for memory (the default when there is no unit attribute). */
static bool read_kib(xmlNode *node, uint64_t *kib, char *why, size_t len)
{
    char text[64], unit[16] = "", scaled[96];
    if (!xml_text(node, text, sizeof(text)))
        return refuse(why, len, "XML error: invalid value for <%s>", node->name);
    xml_attr(node, "unit", unit, sizeof(unit));
    snprintf(scaled, sizeof(scaled), "%s%s", text, unit);
    uint64_t bytes;
    char reason[128];
    if (!size_parse_scaled(scaled, 1024, &bytes, reason, sizeof(reason)))
        return refuse(why, len, "%s", reason[0] ? reason : "XML error: invalid memory value");
    /* Rounded up to whole KiB, as libvirt stores it. */
    *kib = bytes / 1024 + (bytes % 1024 != 0);
    return true;
}

/* <name>, <uuid> and the type attribute: what identifies the domain. */
static bool read_identity(xmlNode *root, struct domain_def *d, char *why, size_t len)
{
    char uuid[64] = "";
    if (!xml_child_text(root, "name", d->name, sizeof(d->name)) || !d->name[0])
        return refuse(why, len, "missing name information");
    if (!xml_attr(root, "type", d->type, sizeof(d->type)))
        return refuse(why, len, "internal error: missing domain type attribute");
    if (strchr(d->name, '/'))
        return refuse(why, len, "XML error: name %s cannot contain '/'", d->name);
    if (xml_child_text(root, "uuid", uuid, sizeof(uuid))) {
        if (!uuid_valid(uuid))
            return refuse(why, len, "internal error: malformed uuid element");
        memcpy(d->uuid, uuid, sizeof(d->uuid));
    } else {
        uuid_new(d->uuid); /* libvirt gives a domain without one a new UUID */
    }
    return true;
}

/* <os>: the guest type (hvm), and the kernel hv boots with its arguments. */
static bool read_os(xmlNode *root, struct domain_def *d, char *why, size_t len)
{
    xmlNode *os = xml_child(root, "os");
    if (!xml_child_text(os, "type", d->os_type, sizeof(d->os_type)))
        return refuse(why, len, "XML error: an os <type> must be specified");
    if (strcmp(d->os_type, "hvm"))
        return refuse(why, len,
                      "unsupported configuration: hvkit runs full-virtualization ('hvm') "
                      "guests only, not '%s'",
                      d->os_type);
    if (!xml_attr(xml_child(os, "type"), "arch", d->arch, sizeof(d->arch)))
        strcpy(d->arch, "x86_64");
    xml_child_text(os, "kernel", d->kernel, sizeof(d->kernel));
    xml_child_text(os, "initrd", d->initrd, sizeof(d->initrd));
    xml_child_text(os, "cmdline", d->cmdline, sizeof(d->cmdline));
    return true;
}

/* <memory>, <currentMemory> and <vcpu current=...>. */
static bool read_resources(xmlNode *root, struct domain_def *d, char *why, size_t len)
{
    xmlNode *mem = xml_child(root, "memory"), *cur = xml_child(root, "currentMemory");
    xmlNode *vcpu = xml_child(root, "vcpu");
    char text[32];
    if (!mem)
        return refuse(why, len,
                      "XML error: Memory size must be specified via <memory> or in the <numa> "
                      "configuration");
    if (!read_kib(mem, &d->memory_kib, why, len))
        return false;
    d->current_kib = d->memory_kib;
    if (cur && !read_kib(cur, &d->current_kib, why, len))
        return false;
    /* libvirt lowers a current memory above the maximum to the maximum. */
    if (d->current_kib > d->memory_kib)
        d->current_kib = d->memory_kib;
    d->vcpus = 1;
    if (vcpu) {
        char *end;
        xml_child_text(root, "vcpu", text, sizeof(text));
        unsigned long n = strtoul(text, &end, 10);
        if (!text[0] || *end)
            return refuse(why, len, "XML error: maximum vcpus count must be an integer");
        d->vcpus = (unsigned)n;
    }
    d->vcpus_current = d->vcpus;
    if (xml_attr(vcpu, "current", text, sizeof(text)))
        d->vcpus_current = (unsigned)strtoul(text, NULL, 10);
    return true;
}

/* <on_poweroff>, <on_reboot>, <on_crash>, with libvirt's defaults. */
static bool read_actions(xmlNode *root, struct domain_def *d, char *why, size_t len)
{
    static const char *const names[] = {"on_poweroff", "on_reboot", "on_crash"};
    static const char *const defaults[] = {"destroy", "restart", "destroy"};
    char *fields[] = {d->on_poweroff, d->on_reboot, d->on_crash};
    for (int i = 0; i < 3; i++) {
        if (!xml_child_text(root, names[i], fields[i], sizeof(d->on_crash)))
            strcpy(fields[i], defaults[i]);
        /* The actions libvirt knows for each event ("Events configuration"). */
        const char *ok = i == 2 ? " destroy restart preserve rename-restart coredump-destroy "
                                  "coredump-restart "
                                : " destroy restart preserve rename-restart ";
        char word[32];
        snprintf(word, sizeof(word), " %s ", fields[i]);
        if (!strstr(ok, word))
            return refuse(why, len, "unsupported configuration: unknown %s action: %s", names[i],
                          fields[i]);
    }
    return true;
}

/* One <disk>: a file-backed disk or CD-ROM. */
static bool read_disk(xmlNode *node, struct disk_def *k, char *why, size_t len)
{
    memset(k, 0, sizeof(*k));
    if (!xml_attr(node, "type", k->type, sizeof(k->type)))
        strcpy(k->type, "file");
    if (!xml_attr(node, "device", k->device, sizeof(k->device)))
        strcpy(k->device, "disk");
    xml_attr(xml_child(node, "source"), "file", k->source, sizeof(k->source));
    if (!xml_attr(xml_child(node, "target"), "dev", k->target, sizeof(k->target)))
        return refuse(why, len, "missing target information for device %s", k->source);
    if (!xml_attr(xml_child(node, "target"), "bus", k->bus, sizeof(k->bus))) {
        /* libvirt guesses the bus from the name's prefix. */
        strcpy(k->bus, !strncmp(k->target, "vd", 2)   ? "virtio"
                       : !strncmp(k->target, "hd", 2) ? "ide"
                                                      : "sata");
    }
    if (!xml_attr(xml_child(node, "driver"), "type", k->driver, sizeof(k->driver)))
        strcpy(k->driver, "raw");
    k->readonly = xml_child(node, "readonly") != NULL || !strcmp(k->device, "cdrom");
    return domxml_check_disk(k, why, len);
}

bool domxml_check_disk(const struct disk_def *k, char *why, size_t len)
{
    if (strcmp(k->type, "file") || (strcmp(k->device, "disk") && strcmp(k->device, "cdrom")))
        return refuse(why, len,
                      "unsupported configuration: hvkit disks are files seen as a disk or a "
                      "cdrom, not type '%s' device '%s'",
                      k->type, k->device);
    if (strcmp(k->driver, "raw") && strcmp(k->driver, "qcow2"))
        return refuse(why, len, "unsupported configuration: hvkit disks are raw or qcow2, not '%s'",
                      k->driver);
    return true;
}

static bool read_devices(xmlNode *root, struct domain_def *d, char *why, size_t len)
{
    xmlNode *devices = xml_child(root, "devices");
    d->console = xml_child(devices, "console") || xml_child(devices, "serial");
    for (xmlNode *c = devices ? devices->children : NULL; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || xmlStrcmp(c->name, BAD_CAST "disk"))
            continue;
        if (d->ndisks == DOM_MAX_DISKS)
            return refuse(why, len, "unsupported configuration: at most %d disks", DOM_MAX_DISKS);
        if (!read_disk(c, &d->disks[d->ndisks], why, len))
            return false;
        d->ndisks++;
    }
    return true;
}

bool domxml_validate(const struct domain_def *d, char *why, size_t len)
{
    if (!known_type(d->type))
        return refuse(why, len,
                      "unsupported configuration: hvkit runs domains of type 'kvm', 'qemu' or "
                      "'hvkit', not '%s'",
                      d->type);
    if (d->vcpus == 0)
        return refuse(why, len, "XML error: Invalid number of vCPUs '0'");
    if (d->vcpus_current > d->vcpus || d->vcpus_current == 0)
        return refuse(why, len,
                      "unsupported configuration: maximum vCPU count must not be "
                      "less than current vCPU count");
    for (int i = 0; i < d->ndisks; i++) {
        for (int j = 0; j < i; j++) {
            if (!strcmp(d->disks[i].target, d->disks[j].target))
                return refuse(why, len,
                              "XML error: target '%s' duplicated for disk sources "
                              "'%s' and '%s'",
                              d->disks[i].target, d->disks[j].source, d->disks[i].source);
        }
    }
    return true;
}

bool domxml_parse_node(xmlNode *root, struct domain_def *d, char *why, size_t len)
{
    memset(d, 0, sizeof(*d));
    if (!root || xmlStrcmp(root->name, BAD_CAST "domain"))
        return refuse(why, len, "XML error: expecting root element of 'domain', not '%s'",
                      root ? (const char *)root->name : "");
    /* In libvirt's order, so the first mistake reported is the same. */
    return read_identity(root, d, why, len) && read_os(root, d, why, len) &&
           read_resources(root, d, why, len) && read_actions(root, d, why, len) &&
           read_devices(root, d, why, len) && domxml_validate(d, why, len);
}

/* The <domain> of a document read (NULL: not read, why says why). */
static bool parse_doc(xmlDoc *doc, struct domain_def *d, char *why, size_t len)
{
    if (!doc)
        return false;
    bool ok = domxml_parse_node(xmlDocGetRootElement(doc), d, why, len);
    xmlFreeDoc(doc);
    return ok;
}

bool domxml_parse_file(const char *path, struct domain_def *d, char *why, size_t len)
{
    memset(d, 0, sizeof(*d));
    return parse_doc(xml_read(path, "domain_definition", why, len), d, why, len);
}

bool domxml_parse_text(const char *text, size_t size, struct domain_def *d, char *why, size_t len)
{
    memset(d, 0, sizeof(*d));
    return parse_doc(xml_read_text(text, size, "domain_definition", why, len), d, why, len);
}

/* <tag>text</tag> on a line of its own, when text is not empty. */
static void element(FILE *out, const char *indent, const char *tag, const char *text)
{
    if (!text[0])
        return;
    fprintf(out, "%s<%s>", indent, tag);
    xml_put(out, text);
    fprintf(out, "</%s>\n", tag);
}

/* The index a disk name stands for: the letters after the two-letter
 * prefix, in base 26 ("sda" 0, "sdb" 1, "sdaa" 26), as libvirt's
 * virDiskNameToIndex reads them. */
static int disk_index(const char *target)
{
    int idx = 0;
    const char *p = target + 2;
    if (strlen(target) < 3)
        return 0;
    for (; *p >= 'a' && *p <= 'z'; p++)
        idx = (idx + (p == target + 2 ? 0 : 1)) * 26 + (*p - 'a');
    return idx;
}

/* How many units one controller of a bus has, as libvirt assigns drive
 * addresses: 6 ports on a SATA (AHCI) controller, 7 units on SCSI, and IDE's
 * two buses of two units; 0 for buses without drive addresses (virtio). */
static int units_per_controller(const char *bus)
{
    return !strcmp(bus, "sata") ? 6 : !strcmp(bus, "scsi") ? 7 : !strcmp(bus, "ide") ? 4 : 0;
}

/* The <address type='drive'> libvirt gives a disk on a controller bus. */
static void print_address(const struct disk_def *k, FILE *out)
{
    int per = units_per_controller(k->bus), idx = disk_index(k->target);
    if (!per)
        return;
    int bus = !strcmp(k->bus, "ide") ? (idx % per) / 2 : 0;
    int unit = !strcmp(k->bus, "ide") ? idx % 2 : idx % per;
    fprintf(out, "      <address type='drive' controller='%d' bus='%d' target='0' unit='%d'/>\n",
            idx / per, bus, unit);
}

/* The controllers the disks' addresses refer to, one line each, in the
 * order libvirt adds them (by bus type, then index). */
static void print_controllers(const struct domain_def *d, FILE *out)
{
    static const char *const buses[] = {"ide", "sata", "scsi"};
    for (int b = 0; b < 3; b++) {
        int highest = -1;
        for (int i = 0; i < d->ndisks; i++) {
            int per = units_per_controller(d->disks[i].bus);
            if (!strcmp(d->disks[i].bus, buses[b]) &&
                disk_index(d->disks[i].target) / per > highest)
                highest = disk_index(d->disks[i].target) / per;
        }
        for (int c = 0; c <= highest; c++)
            fprintf(out, "    <controller type='%s' index='%d'/>\n", buses[b], c);
    }
}

static void print_disk(const struct disk_def *k, FILE *out)
{
    fprintf(out, "    <disk type='%s' device='%s'>\n", k->type, k->device);
    fprintf(out, "      <driver name='qemu' type='%s'/>\n", k->driver);
    if (k->source[0]) {
        fputs("      <source file='", out);
        xml_put(out, k->source);
        fputs("'/>\n", out);
    }
    fprintf(out, "      <target dev='%s' bus='%s'/>\n", k->target, k->bus);
    if (k->readonly)
        fputs("      <readonly/>\n", out);
    print_address(k, out);
    fputs("    </disk>\n", out);
}

void domxml_print(const struct domain_def *d, FILE *out)
{
    domxml_print_indented(d, out, "");
}

void domxml_print_indented(const struct domain_def *d, FILE *final, const char *indent)
{
    /* Written to memory first, then copied out with `indent` before every
     * line, so the one layout serves dumpxml and a snapshot's copy. */
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (!out)
        abort();
    fprintf(out, "<domain type='%s'>\n", d->type);
    element(out, "  ", "name", d->name);
    element(out, "  ", "uuid", d->uuid);
    fprintf(out, "  <memory unit='KiB'>%llu</memory>\n", (unsigned long long)d->memory_kib);
    fprintf(out, "  <currentMemory unit='KiB'>%llu</currentMemory>\n",
            (unsigned long long)d->current_kib);
    if (d->vcpus_current != d->vcpus)
        fprintf(out, "  <vcpu placement='static' current='%u'>%u</vcpu>\n", d->vcpus_current,
                d->vcpus);
    else
        fprintf(out, "  <vcpu placement='static'>%u</vcpu>\n", d->vcpus);
    fprintf(out, "  <os>\n    <type arch='%s'>%s</type>\n", d->arch, d->os_type);
    element(out, "    ", "kernel", d->kernel);
    element(out, "    ", "initrd", d->initrd);
    element(out, "    ", "cmdline", d->cmdline);
    /* libvirt adds a boot device to every hvm guest's <os>. */
    fputs("    <boot dev='hd'/>\n  </os>\n  <clock offset='utc'/>\n", out);
    element(out, "  ", "on_poweroff", d->on_poweroff);
    element(out, "  ", "on_reboot", d->on_reboot);
    element(out, "  ", "on_crash", d->on_crash);
    fputs("  <devices>\n", out);
    for (int i = 0; i < d->ndisks; i++)
        print_disk(&d->disks[i], out);
    print_controllers(d, out);
    /* A console, as libvirt shows one: the serial device (hv's UART) and
     * the console on it. */
    if (d->console)
        fputs("    <serial type='pty'>\n      <target port='0'/>\n    </serial>\n"
              "    <console type='pty'>\n      <target type='serial' port='0'/>\n    </console>\n",
              out);
    fputs("  </devices>\n</domain>\n", out);
    fclose(out);
    for (char *line = text; *line;) {
        char *end = strchr(line, '\n');
        fprintf(final, "%s%.*s\n", indent, (int)(end - line), line);
        line = end + 1;
    }
    free(text);
}
