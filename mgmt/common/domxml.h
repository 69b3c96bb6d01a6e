/*
 * A domain's configuration, and libvirt's domain XML for it.
 *
 * This is the subset of libvirt's domain XML ("Domain XML format" in
 * libvirt's documentation) that means something for an hvkit domain: a
 * name and UUID, memory and vCPUs, a kernel to boot with its command line,
 * what to do on power-off, reboot and crash, and disks.  The parser takes
 * the XML people write for KVM (`<domain type='kvm'>`), fills in libvirt's
 * defaults, and refuses what it cannot run with libvirt's own messages, so
 * `virsh define` and `virsh dumpxml` behave as on a libvirt host.  The same
 * struct is what xl.cfg files and the domain manager will use.
 */
#ifndef HVKIT_MGMT_DOMXML_H
#define HVKIT_MGMT_DOMXML_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <libxml/tree.h>

#define DOM_MAX_DISKS 8

struct disk_def {
    char type[8];   /* "file": a disk is an image file on the host */
    char device[8]; /* "disk" or "cdrom" */
    char driver[8]; /* the image format: "raw" or "qcow2" */
    char source[PATH_MAX];
    char target[16]; /* the guest's name for it: vda, sdb, hdc... */
    char bus[16];    /* virtio, sata, ide, scsi, usb */
    bool readonly;
};

struct domain_def {
    char type[16]; /* the <domain type=...>: kvm, qemu or hvkit */
    char name[256];
    char uuid[37];
    uint64_t memory_kib;  /* the most it may have (<memory>) */
    uint64_t current_kib; /* what it has at boot (<currentMemory>) */
    unsigned vcpus;       /* the most it may have (<vcpu>) */
    unsigned vcpus_current;
    char arch[16];
    char os_type[8]; /* "hvm": full virtualization, as hv does it */
    char kernel[PATH_MAX];
    char initrd[PATH_MAX];
    char cmdline[1024];
    char on_poweroff[24], on_reboot[24], on_crash[24];
    int ndisks;
    struct disk_def disks[DOM_MAX_DISKS];
    bool console; /* a <console> or <serial>: shown as libvirt shows a pty */
};

/*
 * Parse domain XML from a file.  On failure returns false with libvirt's
 * message for it in `why` (e.g. "XML error: name x/y cannot contain '/'").
 */
bool domxml_parse_file(const char *path, struct domain_def *d, char *why, size_t whylen);
/* The same from `size` bytes of text (a save image's XML). */
bool domxml_parse_text(const char *text, size_t size, struct domain_def *d, char *why,
                       size_t whylen);

/* The same from a <domain> element of a document already read (a
 * snapshot's XML holds one). */
bool domxml_parse_node(xmlNode *root, struct domain_def *d, char *why, size_t whylen);

/* Check a definition as libvirt does after parsing or after a change (the
 * current vCPUs and memory within the maxima, targets unique, ...). */
bool domxml_validate(const struct domain_def *d, char *why, size_t whylen);

/* The checks on one disk: a file seen as a disk or CD-ROM, raw or qcow2. */
bool domxml_check_disk(const struct disk_def *k, char *why, size_t whylen);

/* Write the definition as libvirt's `virsh dumpxml` lays it out. */
void domxml_print(const struct domain_def *d, FILE *out);

/* The same with `indent` before every line (inside another document). */
void domxml_print_indented(const struct domain_def *d, FILE *out, const char *indent);

#endif
