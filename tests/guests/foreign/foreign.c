/*
 * A Multiboot guest that knows nothing of hvkit.  It prints on COM1, echoes
 * its command line, checks some RAM above 1 MiB, shows the CPU vendor and
 * exits through QEMU's isa-debug-exit port with code 3, so that a test can
 * see a non-zero code travel through hv unchanged.
 *
 * Exit codes: 3 = all went well, 2 = not started by a Multiboot loader,
 * 4 = the memory check failed.
 */

typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;

/* The part of the Multiboot information we read (spec 3.3). */
struct mbi {
    u32 flags, mem_lower, mem_upper, boot_device, cmdline;
    u32 mods_count, mods_addr, syms[4], mmap_length, mmap_addr;
};

static inline void outb(u16 port, u8 v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline u8 inb(u16 port)
{
    u8 v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline void outl(u16 port, u32 v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

#define COM1 0x3f8

/* 16550: 115200 8N1, FIFOs on, no interrupts. */
static void uart_init(void)
{
    outb(COM1 + 1, 0x00); /* IER: no interrupts */
    outb(COM1 + 3, 0x80); /* LCR: DLAB on to set the divisor */
    outb(COM1 + 0, 0x01); /* divisor 1 = 115200 baud */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03); /* LCR: 8N1, DLAB off */
    outb(COM1 + 2, 0xc7); /* FCR: FIFOs on and cleared */
    outb(COM1 + 4, 0x03); /* MCR: DTR, RTS */
}

static void uart_putc(char c)
{
    /* Wait for LSR bit 5 (transmit holding register empty). */
    while (!(inb(COM1 + 5) & 0x20))
        ;
    outb(COM1, (u8)c);
}

static void print(const char *s)
{
    while (*s)
        uart_putc(*s++);
}

static void print_hex(u32 v)
{
    print("0x");
    for (int shift = 28; shift >= 0; shift -= 4)
        uart_putc("0123456789abcdef"[(v >> shift) & 0xf]);
}

static void finish(u32 code)
{
    print("foreign: exiting with code ");
    uart_putc((char)('0' + code));
    print("\n");
    /* Wait for LSR bit 6 (transmitter empty) so the line is out. */
    while (!(inb(COM1 + 5) & 0x40))
        ;
    outl(0xf4, code);
    for (;;)
        __asm__ volatile("cli; hlt");
}

static int overlaps(u32 a, u32 alen, u32 b, u32 blen)
{
    return a < b + blen && b < a + alen;
}

extern char image_start[], image_end[];

/* True if [addr, addr+len) holds nothing we or the loader still need. */
static int is_free(const struct mbi *mb, u32 addr, u32 len)
{
    u32 cmdlen = 0;
    const char *cmd = (const char *)mb->cmdline;
    if (mb->flags & 4)
        while (cmd[cmdlen])
            cmdlen++;
    if (overlaps(addr, len, (u32)image_start, (u32)(image_end - image_start)))
        return 0;
    if (overlaps(addr, len, (u32)mb, sizeof(*mb)))
        return 0;
    if ((mb->flags & 4) && overlaps(addr, len, mb->cmdline, cmdlen + 1))
        return 0;
    if ((mb->flags & 64) && overlaps(addr, len, mb->mmap_addr, mb->mmap_length))
        return 0;
    return 1;
}

/* Write a pattern that depends on the address, then read it all back. */
static int check_ram(u32 addr, u32 len)
{
    volatile u32 *p = (volatile u32 *)addr;
    u32 words = len / 4;
    for (u32 i = 0; i < words; i++)
        p[i] = (addr + i * 4) ^ 0xa5a5a5a5;
    for (u32 i = 0; i < words; i++)
        if (p[i] != ((addr + i * 4) ^ 0xa5a5a5a5))
            return 0;
    return 1;
}

void foreign_main(u32 magic, const struct mbi *mb)
{
    uart_init();
    print("foreign: hello from a Multiboot guest that does not use guestkit\n");
    if (magic != 0x2BADB002) {
        print("foreign: EAX is ");
        print_hex(magic);
        print(", not the Multiboot magic 0x2badb002\n");
        finish(2);
    }

    print("foreign: command line: ");
    print((mb->flags & 4) ? (const char *)mb->cmdline : "(none)");
    print("\n");

    /* CPUID leaf 0: vendor string in EBX, EDX, ECX. */
    u32 regs[4];
    __asm__ volatile("cpuid" : "=a"(regs[3]), "=b"(regs[0]), "=d"(regs[1]), "=c"(regs[2]) : "a"(0));
    char vendor[13];
    for (int i = 0; i < 12; i++)
        vendor[i] = (char)(regs[i / 4] >> (8 * (i % 4)));
    vendor[12] = 0;
    print("foreign: cpu vendor: ");
    print(vendor);
    print("\n");

    /* RAM above 1 MiB: 64 KiB at 2 MiB and the last 64 KiB the loader
     * reported (mem_upper counts KiB from 1 MiB). */
    if (!(mb->flags & 1)) {
        print("foreign: the loader gave no mem_upper\n");
        finish(4);
    }
    u32 top = 0x100000 + mb->mem_upper * 1024;
    u32 where[2] = {0x200000, top - 0x10000};
    for (int i = 0; i < 2; i++) {
        print("foreign: memory at ");
        print_hex(where[i]);
        if (where[i] < 0x100000 || where[i] + 0x10000 > top || !is_free(mb, where[i], 0x10000)) {
            print(": skipped (in use or not RAM)\n");
            continue;
        }
        if (!check_ram(where[i], 0x10000)) {
            print(": FAILED to read back what was written\n");
            finish(4);
        }
        print(": ok\n");
    }
    finish(3);
}
