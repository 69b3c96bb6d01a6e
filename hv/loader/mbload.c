/*
 * mbload.c - the Multiboot guest loader (see mbload.h).
 *
 * Two passes: plan_*() reads the image and builds a list of copies, checking
 * each against the file and guest RAM; only when the whole plan is valid
 * does apply_plan() write guest memory.  References: Multiboot 0.6.96
 * sections 3.1 (the header) and 3.3 (the information structure); the
 * System V ABI ELF format (e_ident, Elf32_Ehdr, Elf32_Phdr, PT_LOAD).
 */
#include "hvkit/multiboot.h"
#include "klib.h"

#include "elf32.h"
#include "mbload.h"

/* Flag bits 0-15 of the header are requirements (3.1.2): we support page
 * alignment (0: there are no modules to align) and memory info (1). */
#define MB_SUPPORTED_REQUIRED (MB_HF_PAGE_ALIGN | MB_HF_MEMORY_INFO)

/* One copy into guest memory: filesz bytes from the image, then zeroes up to
 * memsz (the bss). */
struct segment {
    uint32_t dst, off, filesz, memsz;
};

/* Real kernels have two to four PT_LOAD segments (text, rodata, data);
 * a fixed bound keeps the plan on the stack in a freestanding build. */
#define MAX_SEGMENTS 16

/* Everything pass 1 decided: the copies to make and where to start. */
struct plan {
    struct segment seg[MAX_SEGMENTS];
    unsigned n;
    uint32_t entry;
};

/* printf into the caller's error buffer; always returns -1. */
static int fail(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Every refusal goes through here, so each check is one `return fail()`
 * and every message reaches the user whole (main.c prints it in the
 * "exit: error (bad guest image: ...)" line). */
static int fail(char *err, size_t err_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(err, err_len, fmt, ap);
    va_end(ap);
    return -1;
}

/* Find the Multiboot header (3.1.1): 32-bit aligned in the first 8 KiB,
 * magic followed by flags and a checksum that sums to zero.  Returns its
 * offset, or -1 (with err) when there is none. */
static long find_header(const uint8_t *img, size_t size, char *err, size_t err_len)
{
    /* A file shorter than 8 KiB is searched to its end. */
    size_t limit = size < MB_HEADER_SEARCH_LEN ? size : MB_HEADER_SEARCH_LEN;
    /* Remember the first magic whose checksum failed, to name it if no valid
     * header follows: that is almost always a build mistake worth pointing at. */
    long bad_off = -1;
    uint32_t bad_sum = 0;
    /* The three mandatory fields (12 bytes) must all be within the limit. */
    for (size_t off = 0; off + 12 <= limit; off += 4) {
        struct mb_header h;
        /* memcpy: the image buffer need not be 4-byte aligned in memory. */
        memcpy(&h, img + off, 12);
        if (h.magic != MB_HEADER_MAGIC)
            continue;
        /* The sum is taken modulo 2^32: the cast drops the carry.  A match
         * whose checksum fails is not a header: like QEMU's Multiboot loader
         * and GRUB, hv skips it and searches on, so an image with the magic
         * value stored as data before its real header boots here as there. */
        uint32_t sum = (uint32_t)(h.magic + h.flags + h.checksum);
        if (sum == 0)
            return (long)off;
        if (bad_off < 0) {
            bad_off = (long)off;
            bad_sum = sum;
        }
    }
    if (bad_off >= 0)
        return fail(err, err_len,
                    "Multiboot header at offset %#lx has a bad checksum (magic + flags + "
                    "checksum = %#x, must be 0), and no valid header follows it",
                    bad_off, bad_sum);
    /* Most often a plain ELF kernel or a file given by mistake. */
    return fail(err, err_len,
                "no Multiboot header (magic 0x1BADB002) in the first 8 KiB: not a Multiboot "
                "image");
}

/* The first range of the map that [dst, end) overlaps and that is not
 * available RAM, to name in a refusal; NULL when there is none. */
static const struct mem_range *first_unavailable(const struct memmap *map, uint64_t dst,
                                                 uint64_t end)
{
    for (unsigned i = 0; i < map->n; i++) {
        const struct mem_range *r = &map->r[i];
        if (r->report != MEM_REPORT_AVAILABLE && r->base < end && r->base + r->size > dst)
            return r;
    }
    return NULL;
}

/* Check one copy against the file, guest RAM and the memory map, and add
 * it to the plan. */
static int add_segment(struct plan *p, const struct guest_mem *mem, const struct memmap *map,
                       size_t size, uint32_t dst, uint32_t off, uint32_t filesz, uint32_t memsz,
                       char *err, size_t err_len)
{
    if (p->n >= MAX_SEGMENTS)
        return fail(err, err_len, "more than %d loadable segments", MAX_SEGMENTS);
    /* A segment's file part is a prefix of its memory part; the reverse
     * would mean copying more than the segment's own space. */
    if (filesz > memsz)
        return fail(err, err_len,
                    "segment at %#x has a file size %#x larger than its memory "
                    "size %#x",
                    dst, filesz, memsz);
    /* 64-bit arithmetic: 32-bit fields cannot overflow it. */
    if ((uint64_t)off + filesz > size)
        return fail(err, err_len,
                    "truncated image: segment at %#x needs file bytes %#x..%#llx, the file "
                    "has %#zx",
                    dst, off, (unsigned long long)off + filesz, size);
    /* One past the segment's last byte, in 64 bits for the same reason. */
    uint64_t end = (uint64_t)dst + memsz;
    /* All of it must be guest RAM: the copy in pass 2 writes through the
     * host pointer without further checks. */
    if (!gmem_range_ok(mem, dst, memsz))
        return fail(err, err_len,
                    "segment %#x..%#llx lies outside guest RAM (%llu MiB; use hv's mem= "
                    "option for more)",
                    dst, (unsigned long long)end, (unsigned long long)(mem->size >> 20));
    /* And RAM the guest is told it may use: an image in the EBDA, the
     * legacy window or the firmware's tables would live where a real
     * machine keeps firmware data, ROMs or nothing at all. */
    if (memsz && !memmap_reported_as(map, dst, memsz, MEM_REPORT_AVAILABLE)) {
        const struct mem_range *r = first_unavailable(map, dst, end);
        return fail(err, err_len,
                    "segment %#x..%#llx overlaps the %s %#llx..%#llx, which is not "
                    "available RAM",
                    dst, (unsigned long long)end, r ? r->name : "unmapped space",
                    (unsigned long long)(r ? r->base : dst),
                    (unsigned long long)(r ? r->base + r->size : end));
    }
    p->seg[p->n++] = (struct segment){.dst = dst, .off = off, .filesz = filesz, .memsz = memsz};
    return 0;
}

/* Multiboot 3.1.3: the a.out kludge.  header_addr is where the header
 * itself is loaded, so the file offset of load_addr is hdr_off -
 * (header_addr - load_addr); load_end_addr 0 means "to the end of the
 * file", bss_end_addr 0 means "no bss". */
static int plan_kludge(struct plan *p, const struct guest_mem *mem, const struct memmap *map,
                       const uint8_t *img, size_t size, long hdr_off, char *err, size_t err_len)
{
    struct mb_header h;
    /* The kludge adds five fields (header_addr .. entry_addr) to the
     * first three: 32 bytes in all must be in the file. */
    if ((size_t)hdr_off + 32 > size)
        return fail(err, err_len,
                    "truncated image: the a.out kludge fields of the Multiboot "
                    "header are cut off");
    memcpy(&h, img + hdr_off, 32);
    /* The header is part of the loaded text, so the text must start at or
     * before it (3.1.3, load_addr). */
    if (h.load_addr > h.header_addr)
        return fail(err, err_len, "a.out kludge: load_addr %#x is above header_addr %#x",
                    h.load_addr, h.header_addr);
    /* How many bytes of the image precede the header in memory; the same
     * number must precede it in the file. */
    uint32_t before = h.header_addr - h.load_addr;
    if (before > (uint32_t)hdr_off)
        return fail(err, err_len,
                    "a.out kludge: load_addr %#x would start %#x bytes before the file begins",
                    h.load_addr, before - (uint32_t)hdr_off);
    /* The file offset that goes to load_addr. */
    uint32_t file_off = (uint32_t)hdr_off - before;
    /* 64 bits: size - file_off cannot wrap (file_off <= hdr_off < size)
     * and the UINT32_MAX check below stays meaningful. */
    uint64_t filesz;
    /* load_end_addr 0: the text and data run to the end of the file. */
    if (h.load_end_addr == 0)
        filesz = size - file_off;
    else if (h.load_end_addr < h.load_addr)
        return fail(err, err_len, "a.out kludge: load_end_addr %#x is below load_addr %#x",
                    h.load_end_addr, h.load_addr);
    else
        filesz = h.load_end_addr - h.load_addr;
    if (filesz > UINT32_MAX)
        return fail(err, err_len, "a.out kludge: image too large");
    /* Without bss_end_addr there is no bss: memory size = file size. */
    uint64_t memsz = filesz;
    if (h.bss_end_addr) {
        if (h.bss_end_addr < h.load_addr + filesz)
            return fail(err, err_len,
                        "a.out kludge: bss_end_addr %#x is below the loaded "
                        "data's end %#llx",
                        h.bss_end_addr, (unsigned long long)(h.load_addr + filesz));
        memsz = h.bss_end_addr - h.load_addr;
    }
    /* One segment: text, data and bss are contiguous in this format.
     * add_segment() checks it against the file and guest RAM. */
    if (add_segment(p, mem, map, size, h.load_addr, file_off, (uint32_t)filesz, (uint32_t)memsz,
                    err, err_len) < 0)
        return -1;
    /* entry_addr, not the ELF header's e_entry, even for an ELF file: with
     * the kludge the header's fields are the whole truth (3.1.3). */
    p->entry = h.entry_addr;
    return 0;
}

/* An ELF32 executable: every PT_LOAD segment at its physical address. */
static int plan_elf32(struct plan *p, const struct guest_mem *mem, const struct memmap *map,
                      const uint8_t *img, size_t size, char *err, size_t err_len)
{
    /* The ELF header: copied out, since the image need not be aligned. */
    struct elf32_ehdr eh;
    /* 52 bytes: anything shorter cannot be an ELF32 executable. */
    if (size < sizeof(eh))
        return fail(err, err_len, "truncated image: %zu bytes is too short for an ELF header",
                    size);
    memcpy(&eh, img, sizeof(eh));
    /* Little-endian i386 code: what a Multiboot loader can start. */
    if (eh.ident[5] != ELFDATA2LSB || eh.machine != EM_386)
        return fail(err, err_len, "ELF32 image is not for i386 (machine %u)", eh.machine);
    /* An object file (.o) has no program headers: it was never linked. */
    if (eh.phentsize < sizeof(struct elf32_phdr) || eh.phnum == 0)
        return fail(err, err_len, "ELF image has no usable program headers");
    /* The whole program header table must be inside the file. */
    if ((uint64_t)eh.phoff + (uint64_t)eh.phnum * eh.phentsize > size)
        return fail(err, err_len, "truncated image: the ELF program headers end past the file");
    /* Each program header; only PT_LOAD segments with memory matter.  The
     * physical address (p_paddr) is where a Multiboot loader puts them, as
     * GRUB and QEMU do. */
    for (unsigned i = 0; i < eh.phnum; i++) {
        struct elf32_phdr ph;
        /* phentsize may exceed our struct (a newer ABI); the fields we
         * read are always at the start of each entry. */
        memcpy(&ph, img + eh.phoff + (size_t)i * eh.phentsize, sizeof(ph));
        /* PT_NOTE, PT_GNU_STACK and the like describe, they do not load. */
        if (ph.type != PT_LOAD || ph.memsz == 0)
            continue;
        if (add_segment(p, mem, map, size, ph.paddr, ph.offset, ph.filesz, ph.memsz, err, err_len) <
            0)
            return -1;
    }
    if (p->n == 0)
        return fail(err, err_len, "ELF image has no loadable segment");
    /* e_entry is used as a physical address: Multiboot guests start with
     * paging off, so there is no other kind. */
    p->entry = eh.entry;
    return 0;
}

/* The entry point must be inside something we load.  Starting the guest at an
 * address where nothing was loaded would run zeroes or garbage and fail far
 * from the cause; refuse it here instead. */
static int check_entry(const struct plan *p, char *err, size_t err_len)
{
    /* Inside segment i: dst <= entry < dst + memsz, written without the
     * addition so that it cannot overflow. */
    for (unsigned i = 0; i < p->n; i++)
        if (p->entry >= p->seg[i].dst && p->entry - p->seg[i].dst < p->seg[i].memsz)
            return 0;
    return fail(err, err_len, "entry point %#x is outside every loaded segment", p->entry);
}

/* Does [at, at + MB_INFO_AREA_SIZE) overlap a segment of the plan? */
static bool over_segment(const struct plan *p, uint64_t at)
{
    for (unsigned i = 0; i < p->n; i++)
        if (p->seg[i].memsz && at < (uint64_t)p->seg[i].dst + p->seg[i].memsz &&
            p->seg[i].dst < at + MB_INFO_AREA_SIZE)
            return true;
    return false;
}

/* A place for the info area that the guest is told is available RAM and no
 * segment overlaps: MB_INFO_AREA first, where it always was, then just
 * above each segment (4 KiB aligned), as QEMU puts its information after
 * the kernel.  Returns 0 with *at, or -1 when no candidate fits. */
static int place_info(const struct plan *p, const struct memmap *map, uint32_t *at)
{
    for (unsigned i = 0; i <= p->n; i++) {
        /* Candidate 0 is the usual place, candidate i the end of segment i-1. */
        uint64_t c = i == 0
                         ? MB_INFO_AREA
                         : ((uint64_t)p->seg[i - 1].dst + p->seg[i - 1].memsz + 0xfff) & ~0xfffull;
        /* The info is found through 32-bit addresses (3.3). */
        if (c + MB_INFO_AREA_SIZE > UINT32_MAX)
            continue;
        if (memmap_reported_as(map, c, MB_INFO_AREA_SIZE, MEM_REPORT_AVAILABLE) &&
            !over_segment(p, c)) {
            *at = (uint32_t)c;
            return 0;
        }
    }
    return -1;
}

/* Multiboot 3.3: mem_lower is the KiB of memory from 0, mem_upper the KiB
 * from 1 MiB up to the first hole: the lengths of the available entries of
 * the map that start at 0 and at 1 MiB (0 when there are none). */
static uint32_t available_kib_at(const struct memmap_report_entry *e, unsigned n, uint64_t addr)
{
    for (unsigned i = 0; i < n; i++)
        if (e[i].addr == addr && e[i].type == MEM_REPORT_AVAILABLE)
            return (uint32_t)(e[i].len >> 10);
    return 0;
}

/* Multiboot information (3.3), written into the info area at `info_at`: the
 * structure itself, the memory map, the boot loader name and the command
 * line. */
static int build_info(struct guest_mem *mem, const struct memmap *map, uint32_t info_at,
                      const char *cmdline, char *err, size_t err_len)
{
    /* What the guest finds at boot_loader_name (GRUB and QEMU put their
     * own names there): lets a guest print what started it. */
    static const char loader_name[] = "hvkit hv";
    /* No command line gives an empty string, which is still valid. */
    size_t cmd_len = cmdline ? strlen(cmdline) : 0;
    /* The memory map as the firmware of a PC reports it (memmap.h). */
    struct memmap_report_entry rep[MEMMAP_MAX];
    unsigned n = memmap_report(map, rep, MEMMAP_MAX);
    /* The layout of the area, in this order: the structure, the map
     * entries, the loader name, the command line (the only part of
     * unbounded size, so it goes last and is the only thing that can run
     * out of room).  The structures have only 4- and 8-byte fields, so
     * every part stays 4-byte aligned. */
    uint32_t mmap_at = info_at + (uint32_t)sizeof(struct mb_info);
    uint32_t name_at = mmap_at + n * (uint32_t)sizeof(struct mb_mmap_entry);
    uint32_t cmd_at = name_at + (uint32_t)sizeof(loader_name);
    /* The command line and its NUL must fit before the end of the area. */
    if (cmd_len + 1 > info_at + MB_INFO_AREA_SIZE - cmd_at)
        return fail(err, err_len, "guest command line too long (%zu bytes, at most %u)", cmd_len,
                    info_at + MB_INFO_AREA_SIZE - cmd_at - 1);
    /* place_info() chose available RAM, so this cannot fail; the check
     * keeps the function safe on its own. */
    uint8_t *area = gmem_ptr(mem, info_at, MB_INFO_AREA_SIZE);
    if (!area)
        return fail(err, err_len, "no guest RAM for the Multiboot information at %#x", info_at);

    /* The structure, with a flag for each field group that is valid (3.3):
     * memory sizes, command line, memory map, boot loader name.  No modules,
     * boot device, symbols, drives or video: their flags stay 0 and their
     * fields 0.  Built on the stack and copied in below with the rest of the
     * area.  Addresses in it are guest-physical, as the guest sees them with
     * paging off. */
    struct mb_info info;
    memset(&info, 0, sizeof(info));
    info.flags = MB_INFO_MEMORY | MB_INFO_CMDLINE | MB_INFO_MEM_MAP | MB_INFO_BOOT_LOADER_NAME;
    info.mem_lower = available_kib_at(rep, n, 0);
    info.mem_upper = available_kib_at(rep, n, 0x100000);
    info.cmdline = cmd_at;
    info.mmap_addr = mmap_at;
    /* The map's length in bytes, not entries (3.3). */
    info.mmap_length = n * (uint32_t)sizeof(struct mb_mmap_entry);
    info.boot_loader_name = name_at;

    /* Write the area in one go.  Zero first: unused bytes of the area are
     * 0, not stale memory. */
    memset(area, 0, MB_INFO_AREA_SIZE);
    memcpy(area, &info, sizeof(info));
    for (unsigned i = 0; i < n; i++) {
        /* 'size' excludes the size field itself (3.3); the types are the
         * map's report types, which are Multiboot's numbers. */
        struct mb_mmap_entry e = {
            .size = 20, .addr = rep[i].addr, .len = rep[i].len, .type = (uint32_t)rep[i].type};
        memcpy(area + (mmap_at - info_at) + i * sizeof(e), &e, sizeof(e));
    }
    memcpy(area + (name_at - info_at), loader_name, sizeof(loader_name));
    if (cmd_len)
        memcpy(area + (cmd_at - info_at), cmdline, cmd_len);
    /* Multiboot strings are NUL-terminated C strings (3.3). */
    area[cmd_at - info_at + cmd_len] = '\0';
    return 0;
}

int mb_load(struct guest_mem *mem, const struct memmap *map, const void *image, size_t size,
            const char *cmdline, struct mb_load_result *res, char *err, size_t err_len)
{
    /* Bytes, for offsets; the image is only read, never modified. */
    const uint8_t *img = image;
    struct plan plan;
    memset(&plan, 0, sizeof(plan));
    /* Images larger than 4 GiB cannot be addressed by the 32-bit Multiboot
     * fields: refuse them before any arithmetic. */
    if ((uint64_t)size > UINT32_MAX)
        return fail(err, err_len, "image too large (%zu bytes)", size);
    /* Pass 1: read and check; nothing is written to guest RAM yet. */
    long hdr = find_header(img, size, err, err_len);
    if (hdr < 0)
        return -1;
    /* Re-read the mandatory fields: find_header() only returned where. */
    struct mb_header h;
    memcpy(&h, img + hdr, 12);
    /* Bits 2-15 are requirements we cannot meet (2: a video mode).  Bits 16-31
     * are optional features a loader may ignore; only the kludge (bit 16) is
     * used, below. */
    uint32_t unsupported = h.flags & 0xffffu & ~MB_SUPPORTED_REQUIRED;
    if (unsupported)
        return fail(err, err_len,
                    "the Multiboot header requires features hv does not provide (flags %#x%s)",
                    unsupported, (unsupported & MB_HF_VIDEO_MODE) ? ": a video mode" : "");
    /* Choose how to load, as QEMU's Multiboot loader does: the a.out kludge
     * wins when present (whatever the file format), otherwise the file must be
     * an ELF32 executable.  The ELF magic 0x7f 'E' 'L' 'F' at the start of
     * e_ident. */
    bool is_elf = size >= 16 && img[0] == 0x7f && img[1] == 'E' && img[2] == 'L' && img[3] == 'F';
    /* The plan's result; the refusals below return directly. */
    int rc;
    if (h.flags & MB_HF_AOUT_KLUDGE)
        rc = plan_kludge(&plan, mem, map, img, size, hdr, err, err_len);
    else if (is_elf && img[4] == ELFCLASS32)
        rc = plan_elf32(&plan, mem, map, img, size, err, err_len);
    /* The same refusal QEMU gives (docs/emulators.md): a Multiboot loader
     * starts 32-bit code and cannot load an ELF64 on its own. */
    else if (is_elf && img[4] == ELFCLASS64)
        return fail(err, err_len,
                    "64-bit ELF without the Multiboot a.out kludge (header flag bit 16): "
                    "link it as ELF32 (objcopy -O elf32-i386) or set the address fields");
    else if (is_elf)
        return fail(err, err_len, "unknown ELF class %u", img[4]);
    else
        return fail(err, err_len,
                    "not an ELF file, and the Multiboot header has no a.out kludge (flag bit 16) "
                    "saying where to load it");
    /* A plan that failed has already filled err. */
    if (rc < 0 || check_entry(&plan, err, err_len) < 0)
        return -1;

    /* A place for the information that no segment overlaps. */
    uint32_t info_addr;
    if (place_info(&plan, map, &info_addr) < 0)
        return fail(err, err_len,
                    "no room for the Multiboot information (%u bytes) in available RAM "
                    "beside the image",
                    MB_INFO_AREA_SIZE);
    /* Everything checked: now write guest memory.  The info first, because
     * it can still fail (a command line too long) and must leave RAM as it
     * was; it only touches the info area, which no segment overlaps. */
    if (build_info(mem, map, info_addr, cmdline, err, err_len) < 0)
        return -1;
    /* Pass 2: copy each segment's file bytes and zero the rest of it
     * (the bss), noting the lowest and highest address for the log. */
    uint32_t lo = UINT32_MAX, hi = 0;
    /* Segments are copied in program-header order; of two overlapping
     * segments (which linkers do not produce) the later one wins. */
    for (unsigned i = 0; i < plan.n; i++) {
        const struct segment *s = &plan.seg[i];
        /* Safe without further checks: add_segment() verified both the
         * source range (in the file) and the destination (in RAM). */
        memcpy(mem->host + s->dst, img + s->off, s->filesz);
        /* The bss must be zero: C code relies on it.  hv's guest RAM
         * starts zeroed, but the loader does not count on its caller
         * (a hosted caller's buffer may hold anything). */
        memset(mem->host + s->dst + s->filesz, 0, s->memsz - s->filesz);
        /* The load range for the log line in main.c. */
        if (s->dst < lo)
            lo = s->dst;
        if (s->dst + s->memsz > hi)
            hi = s->dst + s->memsz;
    }
    /* What main.c needs to start the guest and to log the load. */
    res->entry = plan.entry;
    res->info_addr = info_addr;
    res->load_lo = lo;
    res->load_hi = hi;
    return 0;
}
