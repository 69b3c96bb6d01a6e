/*
 * hvkit's vmstate format: what a running domain's state looks like as a
 * stream of bytes, for savevm (the VM state area of a qcow2 internal
 * snapshot) and for save files.  docs/vmstate.md describes it in full;
 * this header holds its numbers, so that the writer, the reader and any
 * tool that looks at a saved state agree on them.
 *
 * The format is hvkit's own (QEMU's is not a goal).  All numbers are
 * little-endian, as on the x86 machine that writes and reads them.
 *
 *   header   8 bytes magic "HVKITVMS", u32 format version, u32 header
 *            length (VMS_HEADER_LEN; a reader skips nothing it does not
 *            know: a different length is a different format version)
 *   section  u32 id, u32 instance, u32 version, u32 flags (0),
 *            u64 length of the payload, the payload, then u32 CRC-32
 *            (ISO-HDLC, the one of zlib and Ethernet) of the 24 header
 *            bytes and the payload
 *   ...      one section per device model and vCPU, guest RAM last
 *   end      a section with id VMS_SEC_END, length 0
 *
 * A reader refuses a state whose magic, format version, a section's
 * version, length or checksum is not what it knows, naming the section,
 * and changes nothing in the domain then.
 */
#ifndef HVKIT_VMSTATE_H
#define HVKIT_VMSTATE_H

/* The stream's first bytes, and the layout version of the framing. */
#define VMS_MAGIC     "HVKITVMS"
#define VMS_MAGIC_LEN 8u
/* Version 2 adds the ACPI PM section: a version-1 state lacks it and is
 * refused by its format version, in those words. */
#define VMS_FORMAT_VERSION 2u
#define VMS_HEADER_LEN     16u

/* A section's header (id, instance, version, flags, length) and trailer
 * (the CRC-32). */
#define VMS_SECTION_HEADER_LEN  24u
#define VMS_SECTION_TRAILER_LEN 4u

/* Section ids.  The instance tells sections of the same kind apart: the
 * vCPU number for CPU and LAPIC, the device's number (0 = the first
 * virtio-mmio window) for VIRTIO, 0 for the rest. */
enum vms_section_id {
    VMS_SEC_END = 0,         /* the last section, no payload */
    VMS_SEC_DOMAIN = 1,      /* what the state is for: vCPUs, RAM, devices */
    VMS_SEC_CPU = 2,         /* a vCPU's architectural state */
    VMS_SEC_LAPIC = 3,       /* its local APIC */
    VMS_SEC_PIC = 4,         /* the 8259A pair */
    VMS_SEC_PIT = 5,         /* the 8254 */
    VMS_SEC_IOAPIC = 6,      /* the I/O APIC */
    VMS_SEC_UART = 7,        /* COM1, the 16550 */
    VMS_SEC_FWCFG = 8,       /* fw_cfg's selector and offset */
    VMS_SEC_PORT92 = 9,      /* System Control Port A */
    VMS_SEC_DEBUG_EXIT = 10, /* the exit-code port */
    VMS_SEC_VIRTIO = 11,     /* a virtio-mmio transport and its queues */
    VMS_SEC_RAM = 12,        /* guest RAM, zero pages left out */
    VMS_SEC_ACPI_PM = 13,    /* the ACPI PM1a registers (the power button) */
    VMS_SEC_CONFIG = 14,     /* a save file's: name, command line, actions, kernel */
    VMS_SEC_PV = 15,         /* the paravirtual interface (only if the guest used it) */
    VMS_SEC_PV_BALLOON = 16, /* the pages the guest gave back (only if it gave any) */
    VMS_SEC_CDROM = 17,      /* the CD-ROM drive (only in a domain that has one) */
    VMS_SEC_COUNT = 18,
};

/* Guest RAM travels in pages of this size; a page of zeros is not
 * written at all, and reads back as zeros. */
#define VMS_PAGE_SIZE 4096u

#endif
