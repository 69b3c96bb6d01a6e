/*
 * Just enough ACPI to find the I/O APICs: the RSDP, the RSDT or XSDT,
 * and the MADT's I/O APIC entries (ACPI 6.4, 5.2 "ACPI System Description
 * Tables"); and to take the fixed-feature power button: the FADT's PM1a
 * registers, ACPI mode through the SMI command port, and the SCI (4.8
 * "ACPI Hardware Features"), the way an OS hears QEMU's system_powerdown.  Tables are read in
 * place: guestkit identity-maps the first 4 GiB, where firmware puts them.
 */
#include "klib.h"
#include "guestkit/acpi.h"
#include "guestkit/ioapic.h"
#include "guestkit/pic.h"
#include "guestkit/smp.h"
#include "guestkit/trap.h"
#include "guestkit/x86.h"

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

/* The table with signature `sig` among those the RSDT or XSDT lists. */
static const struct acpi_header *find_table(const struct acpi_rsdp *rsdp, const char *sig)
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
        if (memcmp(t->signature, sig, 4) == 0 && checksum_ok(t, t->length))
            return t;
    }
    return NULL;
}

/* The MADT (signature "APIC"), or NULL without ACPI tables or one. */
static const struct acpi_header *find_madt(void)
{
    const struct acpi_rsdp *rsdp = find_rsdp();
    return rsdp ? find_table(rsdp, "APIC") : NULL;
}

/* The MADT's entries one by one (5.2.12, table 5.43 "Multiple APIC
 * Description Table (MADT) Format"): after the header, the local APIC
 * address and flags (8 bytes), variable-length entries, each starting
 * with its type and length.  `p` NULL gives the first; NULL at the end
 * or at an entry that does not fit. */
static const uint8_t *madt_next(const struct acpi_header *madt, const uint8_t *p)
{
    const uint8_t *end = (const uint8_t *)madt + madt->length;
    p = p ? p + p[1] : (const uint8_t *)madt + sizeof(struct acpi_header) + 8;
    return p + 2 <= end && p[1] >= 2 && p + p[1] <= end ? p : NULL;
}

int acpi_ioapics(struct ioapic_info *out, int max)
{
    const struct acpi_header *madt = find_madt();
    int n = 0;
    for (const uint8_t *p = madt ? madt_next(madt, NULL) : NULL; p; p = madt_next(madt, p)) {
        if (p[0] == MADT_IOAPIC && p[1] >= sizeof(struct madt_ioapic)) {
            const struct madt_ioapic *e = (const struct madt_ioapic *)p;
            if (n < max) {
                out[n].address = e->address;
                out[n].gsi_base = e->gsi_base;
                out[n].id = e->id;
            }
            n++;
        }
    }
    return n < max ? n : max;
}

/* MADT entry type 0, 5.2.12.2 "Processor Local APIC Structure": ACPI
 * processor UID, APIC ID, flags bit 0 Enabled (table 5.45 "Local APIC
 * Flags"). */
#define MADT_LAPIC 0

int acpi_cpus(uint8_t *ids, int max)
{
    const struct acpi_header *madt = find_madt();
    int n = 0;
    for (const uint8_t *p = madt ? madt_next(madt, NULL) : NULL; p; p = madt_next(madt, p))
        if (p[0] == MADT_LAPIC && p[1] >= 8 && (p[4] & 1) && n < max)
            ids[n++] = p[3];
    return n;
}

/* The FADT fields the power button needs (5.2.9 "Fixed ACPI Description
 * Table (FADT)", by byte offset), read once by acpi_power_button_init(). */
static struct {
    uint16_t sci_int;  /* 46: the SCI's ISA IRQ */
    uint32_t smi_cmd;  /* 48: the SMI command port (0: no ACPI mode switch) */
    uint8_t enable;    /* 52: ACPI_ENABLE, written to smi_cmd */
    uint32_t pm1a_evt; /* 56: PM1a_STS here, PM1a_EN at + pm1_evt_len / 2 */
    uint32_t pm1a_cnt; /* 64: SCI_EN is bit 0 */
    uint8_t evt_len;   /* 88 */
} fadt;
static void (*on_power_button)(void);

/* PM1 bits (4.8.3.1.1 "PM1 Status Registers", 4.8.3.1.2 "PM1 Enable
 * Registers", 4.8.3.2.1 "PM1 Control Registers"). */
#define PWRBTN (1u << 8)
#define SCI_EN (1u << 0)

/* Little-endian fields of the FADT. */
static uint32_t fadt_u32(const struct acpi_header *t, unsigned off)
{
    uint32_t v;
    memcpy(&v, (const uint8_t *)t + off, 4);
    return v;
}

/* The SCI: if the power button's status is set, clear it (a write of 1,
 * which also lets the level-triggered SCI fall before the EOI) and tell
 * the program. */
static void sci_handler(int irq)
{
    (void)irq;
    uint16_t sts = inw((uint16_t)fadt.pm1a_evt);
    if (sts & PWRBTN) {
        outw((uint16_t)fadt.pm1a_evt, PWRBTN);
        if (on_power_button)
            on_power_button();
    }
}

bool acpi_power_button_init(void (*pressed)(void))
{
    const struct acpi_rsdp *rsdp = find_rsdp();
    const struct acpi_header *t = rsdp ? find_table(rsdp, "FACP") : NULL;
    if (!t || t->length < 116)
        return false;
    const uint8_t *b = (const uint8_t *)t;
    fadt.sci_int = (uint16_t)(b[46] | b[47] << 8);
    fadt.smi_cmd = fadt_u32(t, 48);
    fadt.enable = b[52];
    fadt.pm1a_evt = fadt_u32(t, 56);
    fadt.pm1a_cnt = fadt_u32(t, 64);
    fadt.evt_len = b[88];
    if (!fadt.pm1a_evt || !fadt.pm1a_cnt || fadt.evt_len < 4 || fadt.sci_int > 15)
        return false;
    /* ACPI mode: if the firmware left the machine in legacy mode, ask it
     * to switch (4.8.2.1 "Legacy/ACPI Select and the SCI Interrupt"), and
     * wait, bounded, until SCI_EN says it has. */
    if (!(inw((uint16_t)fadt.pm1a_cnt) & SCI_EN) && fadt.smi_cmd) {
        outb((uint16_t)fadt.smi_cmd, fadt.enable);
        for (unsigned long i = 0; i < 10000000ul && !(inw((uint16_t)fadt.pm1a_cnt) & SCI_EN); i++)
            ;
    }
    if (!(inw((uint16_t)fadt.pm1a_cnt) & SCI_EN))
        return false;
    /* A press from before we looked does not count. */
    outw((uint16_t)fadt.pm1a_evt, PWRBTN);
    /* The SCI is level-triggered and shareable (5.2.9, SCI_INT): the 8259
     * must see it so (the ELCR), then our handler takes it. */
    on_power_button = pressed;
    set_irq_handler(fadt.sci_int, sci_handler);
    pic_level_triggered(fadt.sci_int);
    pic_unmask(fadt.sci_int);
    /* PWRBTN_EN: the button raises the SCI from now on. */
    uint16_t en = (uint16_t)(fadt.pm1a_evt + fadt.evt_len / 2);
    outw(en, (uint16_t)(inw(en) | PWRBTN));
    return true;
}

bool acpi_power_button_poll(void)
{
    /* Before acpi_power_button_init() found the registers: no button. */
    if (!fadt.pm1a_evt)
        return false;
    if (!(inw((uint16_t)fadt.pm1a_evt) & PWRBTN))
        return false;
    /* Write 1 to clear, as the SCI's handler does. */
    outw((uint16_t)fadt.pm1a_evt, PWRBTN);
    return true;
}
