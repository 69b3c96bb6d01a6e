/*
 * Just enough ACPI to find the I/O APICs: the RSDP, the RSDT or XSDT,
 * and the MADT's I/O APIC entries (ACPI 6.4, 5.2 "ACPI System Description
 * Tables").  Tables are read in place: guestkit identity-maps the first
 * 4 GiB, where firmware puts them.
 */
#include "klib.h"
#include "guestkit/ioapic.h"

/* Every table starts with the 36-byte header of 5.2.6 "System
 * Description Table Header": signature, length, ..., checksum. */
struct acpi_header {
    char signature[4];
    uint32_t length;
    uint8_t revision;
    uint8_t checksum;
    char oem[6];
    char oem_table[8];
    uint32_t oem_revision;
    uint32_t creator;
    uint32_t creator_revision;
} __attribute__((packed));

/* 5.2.5.3 "Root System Description Pointer (RSDP) Structure". */
struct acpi_rsdp {
    char signature[8]; /* "RSD PTR " */
    uint8_t checksum;  /* of the first 20 bytes */
    char oem[6];
    uint8_t revision; /* 0: ACPI 1.0, RSDT only; 2: XSDT too */
    uint32_t rsdt;
    uint32_t length;
    uint64_t xsdt;
} __attribute__((packed));

/* MADT entry type 1, 5.2.12.3 "I/O APIC Structure". */
#define MADT_IOAPIC 1
struct madt_ioapic {
    uint8_t type, length, id, reserved;
    uint32_t address;
    uint32_t gsi_base;
} __attribute__((packed));

/* Tables are valid when all their bytes sum to 0 (mod 256). */
static bool checksum_ok(const void *p, size_t len)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + ((const uint8_t *)p)[i]);
    return sum == 0;
}

/* 5.2.5.1 "Finding the RSDP on IA-PC Systems": on a 16-byte boundary in
 * the first KiB of the EBDA (its segment is the word at 0x40e) or in the
 * BIOS area 0xe0000-0xfffff. */
static const struct acpi_rsdp *scan(uintptr_t start, uintptr_t end)
{
    for (uintptr_t p = start; p + sizeof(struct acpi_rsdp) <= end; p += 16) {
        const struct acpi_rsdp *r = (const struct acpi_rsdp *)p;
        if (memcmp(r->signature, "RSD PTR ", 8) == 0 && checksum_ok(r, 20))
            return r;
    }
    return NULL;
}

static const struct acpi_rsdp *find_rsdp(void)
{
    /* The BIOS data area's EBDA segment word; the empty asm hides the
     * constant address from GCC, which would call it out of bounds. */
    uintptr_t bda_word = 0x40e;
    __asm__("" : "+r"(bda_word));
    uintptr_t ebda = (uintptr_t)(*(volatile uint16_t *)bda_word) << 4;
    const struct acpi_rsdp *r = NULL;
    if (ebda >= 0x80000 && ebda < 0xa0000)
        r = scan(ebda, ebda + 1024);
    return r ? r : scan(0xe0000, 0x100000);
}

/* The MADT ("APIC") among the tables the RSDT or XSDT lists. */
static const struct acpi_header *find_madt(const struct acpi_rsdp *rsdp)
{
    bool x = rsdp->revision >= 2 && rsdp->xsdt != 0;
    const struct acpi_header *root =
        (const struct acpi_header *)(uintptr_t)(x ? rsdp->xsdt : rsdp->rsdt);
    if (memcmp(root->signature, x ? "XSDT" : "RSDT", 4) != 0 || !checksum_ok(root, root->length))
        return NULL;
    /* The entries follow the header: 8-byte addresses in the XSDT, 4-byte
     * ones in the RSDT (5.2.7 "Root System Description Table (RSDT)",
     * 5.2.8 "Extended System Description Table (XSDT)"). */
    unsigned width = x ? 8 : 4;
    const uint8_t *entries = (const uint8_t *)(root + 1);
    for (uint32_t off = 0; sizeof(*root) + off + width <= root->length; off += width) {
        uint64_t addr = 0;
        memcpy(&addr, entries + off, width);
        const struct acpi_header *t = (const struct acpi_header *)(uintptr_t)addr;
        if (memcmp(t->signature, "APIC", 4) == 0 && checksum_ok(t, t->length))
            return t;
    }
    return NULL;
}

int acpi_ioapics(struct ioapic_info *out, int max)
{
    const struct acpi_rsdp *rsdp = find_rsdp();
    const struct acpi_header *madt = rsdp ? find_madt(rsdp) : NULL;
    if (!madt)
        return 0;
    /* After the header: the local APIC address and flags (8 bytes), then
     * variable-length entries, each starting with type and length. */
    const uint8_t *p = (const uint8_t *)madt + sizeof(struct acpi_header) + 8;
    const uint8_t *end = (const uint8_t *)madt + madt->length;
    int n = 0;
    while (p + 2 <= end && p[1] >= 2 && p + p[1] <= end) {
        if (p[0] == MADT_IOAPIC && p[1] >= sizeof(struct madt_ioapic)) {
            const struct madt_ioapic *e = (const struct madt_ioapic *)p;
            if (n < max) {
                out[n].address = e->address;
                out[n].gsi_base = e->gsi_base;
                out[n].id = e->id;
            }
            n++;
        }
        p += p[1];
    }
    return n < max ? n : max;
}
