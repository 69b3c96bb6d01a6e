/*
 * hostile: a guest that goes where a guest should not, to see that the
 * machine under it holds.
 *
 * Without arguments it makes the accesses a PC completes, and checks that
 * they complete the same way under hv as on plain QEMU (guests.list):
 *   - a load and a store that start in RAM and end in the local APIC's
 *     page, and a load the other way round, through page tables of its own
 *     that put the two pages next to each other (hv emulates the
 *     instruction: one piece goes to RAM, the other to the device);
 *   - 1- and 2-byte loads and stores on the local APIC, which answers only
 *     aligned 32-bit accesses (SDM vol 3A 11.4.1 "The Local APIC Block
 *     Diagram"): loads read 0 and stores change nothing, as on QEMU.
 *
 * With one argument it does one thing hv must refuse, first printing what
 * it does and the RIP that does it; hv ends it as crashed with one
 * "[hv] exit: guest crashed (...)" line naming the access
 * (tests/integration/hostile.sh checks the words):
 *   cr3-hole     CR3 pointing at a hole: the next fetch walks tables there;
 *   pt-apic      a page-directory entry pointing at the local APIC's page
 *                as if it held a page table, then a load through it;
 *   movs-ro      MOVS from the APIC into a page made read-only
 *                (HC_MEM_PROTECT): hv's emulated store must not go through;
 *   ins-hole     REP INSB into a page its own tables map to a hole: hv does
 *                the store for the guest and must refuse it;
 *   stack-apic   UD2 with RSP on the APIC page: the #UD's delivery pushes
 *                there, and hv must not take that for UD2's own access;
 *   div-apic     DIV with its operand on the APIC, an instruction the MMIO
 *                emulator does not do.
 * If the guest gets past any of them it says so and exits 1.
 */
#include "guestkit/guestkit.h"

/* The local APIC's page as QEMU's firmware leaves it, and two of its
 * registers (SDM vol 3A 11.4.1 "The Local APIC Block Diagram", Table 11-1
 * "Local APIC Register Address Map"). */
#define APIC_PAGE    0xfee00000ull
#define APIC_VERSION 0x30
#define APIC_TPR     0x80
/* An address nothing answers on a PC with little RAM, below 4 GiB. */
#define HOLE 0xd0000000ull
/* The 2 MiB of linear addresses whose mapping this guest builds itself, at
 * 1 GiB, where the runtime's identity map has nothing of interest. */
#define WINDOW 0x40000000ull

#define PTE_P  0x1ull
#define PTE_RW 0x2ull

static uint64_t page_table[512] __attribute__((aligned(4096)));
static uint8_t ram_pages[2][4096] __attribute__((aligned(4096)));

static inline void write_cr3(uint64_t v)
{
    __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

/* The page-directory entry that maps the 2 MiB at WINDOW: the runtime's
 * tables are identity-mapped, so their physical addresses are usable. */
static volatile uint64_t *window_pde(void)
{
    uint64_t *pml4 = (uint64_t *)(uintptr_t)(read_cr3() & ~0xfffull);
    uint64_t *pdpt = (uint64_t *)(uintptr_t)(pml4[0] & ~0xfffull);
    uint64_t *pd = (uint64_t *)(uintptr_t)(pdpt[WINDOW >> 30] & ~0xfffull);
    return &pd[(WINDOW >> 21) & 511];
}

/* Map WINDOW + i * 4 KiB to physical phys[i], through page_table. */
static void map_window(const uint64_t *phys, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        page_table[i] = phys[i] | PTE_P | PTE_RW;
    *window_pde() = (uint64_t)(uintptr_t)page_table | PTE_P | PTE_RW;
    /* The whole TLB: the 2 MiB entry and the small ones go. */
    write_cr3(read_cr3());
}

static volatile uint8_t *window(unsigned page, unsigned offset)
{
    return (volatile uint8_t *)(uintptr_t)(WINDOW + page * 4096ull + offset);
}

/* ---- what a PC completes ---- */

static void across_ram_and_apic(void)
{
    /* Linear pages: RAM, APIC, APIC, RAM. */
    const uint64_t phys[] = {(uintptr_t)ram_pages[0], APIC_PAGE, APIC_PAGE,
                             (uintptr_t)ram_pages[1]};
    map_window(phys, 4);
    memcpy(&ram_pages[0][4092], "\xef\xbe\xad\xde", 4);
    memcpy(&ram_pages[1][0], "\x78\x56\x34\x12", 4);
    /* RAM's last 4 bytes, then the APIC's offset 0 (reserved: reads 0). */
    uint64_t got = *(volatile uint64_t *)window(0, 4092);
    report(got == 0xdeadbeefull, "RAM then APIC: 8-byte load across the boundary (got %#llx)",
           (unsigned long long)got);
    /* The APIC's offset 0xffc (no register: reads 0), then RAM. */
    got = *(volatile uint64_t *)window(2, 4092);
    report(got == 0x1234567800000000ull,
           "APIC then RAM: 8-byte load across the boundary (got %#llx)", (unsigned long long)got);
    /* A store across: RAM takes its half, the APIC drops its own. */
    *(volatile uint64_t *)window(0, 4092) = 0x1122334455667788ull;
    uint32_t low;
    memcpy(&low, &ram_pages[0][4092], 4);
    report(low == 0x55667788u, "RAM then APIC: 8-byte store across the boundary (RAM %#x)", low);
}

static void odd_apic_sizes(void)
{
    volatile uint8_t *apic = (volatile uint8_t *)(uintptr_t)APIC_PAGE;
    volatile uint32_t *tpr = (volatile uint32_t *)(apic + APIC_TPR);
    *tpr = 0x20;
    uint8_t b = apic[APIC_VERSION];
    uint16_t w = *(volatile uint16_t *)(apic + APIC_VERSION);
    apic[APIC_TPR] = 0xff;
    *(volatile uint16_t *)(apic + APIC_TPR) = 0xffff;
    uint32_t t = *tpr;
    *tpr = 0;
    report(b == 0 && w == 0 && t == 0x20,
           "APIC: 1- and 2-byte loads read 0, such stores leave TPR alone (got %#x %#x, tpr %#x)",
           b, w, t);
}

/* ---- what hv must refuse ---- */

static __attribute__((noreturn)) void got_past(const char *what)
{
    printf("FAIL: hostile: the guest went on after %s\n", what);
    exit(1);
}

/* Labels on the instructions that make the access, so the guest can say
 * which RIP hv must name. */
extern const char hostile_cr3_insn[], hostile_load_insn[], hostile_movs_insn[], hostile_ins_insn[],
    hostile_div_insn[], hostile_stack_insn[];
__asm__(".text\n"
        ".globl hostile_cr3, hostile_cr3_insn\n"
        "hostile_cr3:\n"
        "        mov %rdi, %cr3\n"
        "hostile_cr3_insn: nop\n"
        "        ret\n"
        ".globl hostile_load, hostile_load_insn\n"
        "hostile_load:\n"
        "hostile_load_insn: movl (%rdi), %eax\n"
        "        ret\n"
        ".globl hostile_movs, hostile_movs_insn\n"
        "hostile_movs:\n"
        "hostile_movs_insn: movsl\n"
        "        ret\n"
        ".globl hostile_ins, hostile_ins_insn\n"
        "hostile_ins:\n"
        "        movl $0x2f0, %edx\n"
        "        movl $4, %ecx\n"
        "        cld\n"
        "hostile_ins_insn: rep insb\n"
        "        ret\n"
        ".globl hostile_stack, hostile_stack_insn\n"
        "hostile_stack:\n"
        "        movq %rdi, %rsp\n"
        "hostile_stack_insn: ud2\n"
        ".globl hostile_div, hostile_div_insn\n"
        "hostile_div:\n"
        "        xorl %edx, %edx\n"
        "        xorl %eax, %eax\n"
        "hostile_div_insn: divl (%rdi)\n"
        "        ret\n");
void hostile_cr3(uint64_t cr3);
uint32_t hostile_load(uint64_t addr);
/* MOVS copies from RSI to RDI: the destination is the first argument. */
void hostile_movs(uint64_t dst, uint64_t src);
void hostile_ins(uint64_t dst);
void hostile_div(uint64_t addr);
void hostile_stack(uint64_t rsp);

static void say(const char *what, uint64_t addr, const char *rip)
{
    printf("hostile: %s %#llx by rip %#llx\n", what, (unsigned long long)addr,
           (unsigned long long)(uintptr_t)rip);
}

static int attack(const char *how)
{
    if (!strcmp(how, "cr3-hole")) {
        /* The fetch after MOV CR3 walks tables at the hole. */
        say("cr3", HOLE, hostile_cr3_insn);
        hostile_cr3(HOLE);
        got_past("pointing CR3 at a hole");
    } else if (!strcmp(how, "pt-apic")) {
        *window_pde() = APIC_PAGE | PTE_P | PTE_RW;
        write_cr3(read_cr3());
        say("load through a page table at", APIC_PAGE, hostile_load_insn);
        hostile_load(WINDOW);
        got_past("a load through a page table in the local APIC");
    } else if (!strcmp(how, "movs-ro")) {
        long rc = hypercall(HC_MEM_PROTECT, (uintptr_t)ram_pages[0], 4096, HC_PROT_R | HC_PROT_X);
        if (rc != HC_OK) {
            printf("hostile: HC_MEM_PROTECT refused (%ld)\n", rc);
            return 2;
        }
        say("movs into read-only", (uintptr_t)ram_pages[0], hostile_movs_insn);
        hostile_movs((uintptr_t)ram_pages[0], APIC_PAGE + APIC_VERSION);
        got_past("an emulated MOVS into a read-only page");
    } else if (!strcmp(how, "ins-hole")) {
        const uint64_t phys[] = {HOLE};
        map_window(phys, 1);
        say("ins into", HOLE, hostile_ins_insn);
        hostile_ins(WINDOW);
        got_past("INS into a hole");
    } else if (!strcmp(how, "stack-apic")) {
        /* The #UD's delivery pushes its frame onto the APIC page. */
        say("ud2 with its stack at", APIC_PAGE + 0x800, hostile_stack_insn);
        hostile_stack(APIC_PAGE + 0x800);
        got_past("an exception delivered onto a stack in the local APIC");
    } else if (!strcmp(how, "div-apic")) {
        say("div from", APIC_PAGE + APIC_VERSION, hostile_div_insn);
        hostile_div(APIC_PAGE + APIC_VERSION);
        got_past("DIV with its operand on the local APIC");
    }
    printf("usage: hostile [cr3-hole|pt-apic|movs-ro|ins-hole|stack-apic|div-apic]\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        return attack(argv[1]);
    across_ram_and_apic();
    odd_apic_sizes();
    return report_summary();
}
