/*
 * run_in_ring3(): the setup ring 3 needs, and the call itself (the
 * privilege switches are in runtime/user.S).
 *
 * What the CPU requires before it will run ring-3 code and come back:
 * - code and data segment descriptors with DPL 3 (SDM vol 3A 3.4.5
 *   "Segment Descriptors"); the boot GDT of entry.S has only ring 0's;
 * - a task-state segment whose RSP0 field gives the stack for an interrupt
 *   or exception from ring 3 (SDM vol 3A 8.7 "Task Management in 64-bit
 *   Mode"): the CPU never runs a ring-0 handler on a ring-3 stack;
 * - the user/supervisor bit in every paging entry on the way to a page
 *   ring 3 touches (SDM vol 3A 4.6 "Access Rights").
 */
#include "klib.h"
#include "guestkit/runtime.h"
#include "guestkit/trap.h"
#include "guestkit/user.h"
#include "guestkit/x86.h"

/* The 64-bit TSS (SDM vol 3A 8.7 "Task Management in 64-bit Mode"): only RSP0 and the I/O map base
 * matter here; the map base past the end means "no I/O permission bitmap", so ring 3 gets #GP for
 * every port (IOPL is 0). */
struct tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __attribute__((packed));

/* The operand of LGDT in 64-bit mode: limit, then a 64-bit base. */
struct gdt_pointer {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

/* Segment descriptors as 64-bit values: limit 0xfffff in 4 KiB units, base
 * 0, present, and the type and DPL in bits 40-47 (0x9a ring-0 code, 0x92
 * ring-0 data, 0xfa ring-3 code, 0xf2 ring-3 data); bit 53 (L) makes a code
 * segment 64-bit.  The first three are entry.S's, so CS and SS stay valid. */
#define DESC_KERNEL_CODE 0x00af9a000000ffffull
#define DESC_KERNEL_DATA 0x00cf92000000ffffull
#define DESC_USER_DATA   0x00cff2000000ffffull
#define DESC_USER_CODE   0x00affa000000ffffull
/* Type 9 = available 64-bit TSS, present (SDM vol 3A 8.2.3 "TSS Descriptor
 * in 64-bit mode"). */
#define DESC_TSS_TYPE 0x89ull

/* The kernel data selector of entry.S's GDT, kept at the same index. */
#define KERNEL_DS 0x10

/* The user/supervisor bit of a paging entry, and the present and page-size
 * bits that say where a walk goes on (SDM vol 3A 4.5 "4-Level Paging and
 * 5-Level Paging"). */
#define PTE_P  (1ull << 0)
#define PTE_US (1ull << 2)
#define PTE_PS (1ull << 7)
/* Bits 51:12 of an entry: the next table's (or page's) physical address. */
#define PTE_ADDR 0x000ffffffffff000ull

static uint64_t gdt[7] __attribute__((aligned(16)));
static struct tss64 tss __attribute__((aligned(16)));
/* RSP0: where the CPU puts the frame of an exception taken in ring 3. */
static uint8_t kernel_stack[16384] __attribute__((aligned(16)));
/* The ring-3 code's own stack. */
static uint8_t user_stack[16384] __attribute__((aligned(16)));

void gk_enter_ring3(void (*fn)(void *), void *arg, void *stack_top);
extern char gk_ring3_return[];

/* Set the user bit in every present entry of a table and, level by level,
 * of the tables it points to.  Our identity map makes a table's physical
 * address its pointer.  level 4 is the PML4, 1 a page table. */
static void set_user_bit(uint64_t *table, int level)
{
    for (int i = 0; i < 512; i++) {
        if (!(table[i] & PTE_P))
            continue;
        table[i] |= PTE_US;
        /* A page table's entries, and large pages (PS in a PDPT or page
         * directory entry), map memory: nothing below them. */
        if (level > 1 && !(level < 4 && (table[i] & PTE_PS)))
            set_user_bit((uint64_t *)(uintptr_t)(table[i] & PTE_ADDR), level - 1);
    }
}

/* The GDT with user segments and the TSS, loaded, and TR pointing at it. */
static void load_gdt_and_tss(void)
{
    uint64_t base = (uintptr_t)&tss, limit = sizeof(tss) - 1;
    gdt[0] = 0;
    gdt[1] = DESC_KERNEL_CODE;
    gdt[2] = DESC_KERNEL_DATA;
    gdt[3] = DESC_USER_DATA;
    gdt[4] = DESC_USER_CODE;
    /* A system descriptor is 16 bytes in long mode: limit, base 31:0 and
     * the type in the first slot, base 63:32 in the second. */
    gdt[5] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (DESC_TSS_TYPE << 40) |
             (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
    gdt[6] = base >> 32;
    tss.rsp[0] = (uintptr_t)(kernel_stack + sizeof(kernel_stack));
    tss.iomap_base = sizeof(tss);
    struct gdt_pointer p = {.limit = sizeof(gdt) - 1, .base = (uintptr_t)gdt};
    __asm__ volatile("lgdt %0" : : "m"(p) : "memory");
    /* LTR marks the descriptor busy; user_mode_init() runs only once. */
    __asm__ volatile("ltr %w0" : : "r"((uint16_t)GK_TSS_SEL) : "memory");
}

static void user_mode_init(void)
{
    static bool done;
    if (done)
        return;
    load_gdt_and_tss();
    set_user_bit((uint64_t *)(uintptr_t)(read_cr3() & PTE_ADDR), 4);
    /* Reloading CR3 drops the TLB entries cached without the user bit. */
    __asm__ volatile("mov %0, %%cr3" : : "r"(read_cr3()) : "memory");
    done = true;
}

/* What catch_exception() passes to enter(). */
struct ring3_call {
    void (*fn)(void *);
    void *arg;
};

static void enter(void *p)
{
    struct ring3_call *c = p;
    gk_enter_ring3(c->fn, c->arg, user_stack + sizeof(user_stack));
}

bool run_in_ring3(void (*fn)(void *), void *arg, struct exception_info *info)
{
    struct exception_info local;
    if (!info)
        info = &local;
    user_mode_init();
    struct ring3_call c = {fn, arg};
    /* gk_enter_ring3 never returns: we always come back through an
     * exception, the trampoline's UD2 if fn returned. */
    catch_exception(enter, &c, info);
    /* IRETQ to ring 3 cleared DS and ES; give ring 0 its own back. */
    __asm__ volatile("movw %w0, %%ds; movw %w0, %%es" : : "r"((uint16_t)KERNEL_DS));
    return info->vector == UD_VECTOR && info->rip == (uintptr_t)gk_ring3_return;
}
