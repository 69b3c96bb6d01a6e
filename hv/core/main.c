/*
 * main.c - hv's start: read what the Multiboot loader gave us, pick and
 * enable a backend, load the guest, then run it exit after exit.
 *
 * Multiboot 0.6.96 3.3: EBX points at the information structure; we use its
 * command line (hv's options), the memory size (where our allocator may
 * go) and the modules (the first one is the guest image, its string the
 * guest's command line).
 */
#include "hvkit/abi.h"
#include "hvkit/multiboot.h"
#include "klib.h"

#include "alloc.h"
#include "cpu.h"
#include "ending.h"
#include "guestmem.h"
#include "hv.h"
#include "loader/mbload.h"
#include "cpuid.h"
#include "ctl.h"
#include "disk/outer.h"
#include "log.h"
#include "msr.h"
#include "trap.h"
#include "vdev.h"
#include "vmsave.h"

/* The host, and the domains hv makes (from the first boot module; more
 * than one with domains=N), each with smp=N vCPUs.  Only start-up code here
 * and end_error's statistics use these names; everything else receives a
 * pointer (handlers reach the domain and host through vcpu->dom). */
static struct host host;
static struct domain doms[HV_DOMAINS_MAX];
static struct vcpu vcpus[HV_DOMAINS_MAX][DOMAIN_MAX_VCPUS];

/* The VT-x backend is linked in when hv/vmx/ provides it.  A weak reference
 * resolves to NULL when nothing defines the symbol, so `make NO_VMX=1` links
 * without hv/vmx/ and choose_backend() says why. */
extern const struct backend vmx_backend __attribute__((weak));

/* From the linker script: the end of hv's own image. */
extern char hv_image_end[];

/* Declared here rather than in a header: only hv_main() calls them, once,
 * and entry.S calls hv_main() by name. */
void alloc_init(uint64_t start, uint64_t end);
__attribute__((noreturn)) void hv_main(uint32_t magic, uint32_t info_pa);

/* For ending.c's end_error(): the statistics of whatever has run. */
void hv_print_stats(void)
{
    host_print_stats(&host);
}

/* UART and bus callbacks: guest lines pass through, bus notes get "[hv] ".
 * The context is the domain; with one domain, lines need no name. */
static void guest_line(void *ctx, const char *line, size_t len)
{
    const struct domain *d = ctx;
    /* Domain 0's lines are the guest's console as bin/hvrun knows it;
     * another domain's get its number in front, so the two can be told
     * apart (the guest cannot forge the prefix of domain 0: it has none). */
    if (d->id == 0) {
        log_guest_line(line, len);
        return;
    }
    char buf[UART_LINE_MAX + 16];
    int n = ksnprintf(buf, sizeof(buf), "[d%u] %.*s", d->id, (int)len, line);
    log_guest_line(buf, n < 0 ? 0 : (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* The port bus's notes (an unknown port, once per port) are hv's words
 * about the guest, so they get the "[hv] " prefix. */
static void bus_note(void *ctx, const char *line)
{
    (void)ctx;
    hv_log("%s", line);
}

/*
 * Choose the backend as the vendor= option says: the one asked for, or with
 * vendor=auto the first whose probe() succeeds (SVM, then VT-x).  When none
 * can run, `why` gets every backend's own reason, since "no
 * virtualization" alone would not tell the user what to change (a CPU
 * model, a BIOS setting, the emulator).  Returns NULL then.
 */
static const struct backend *choose_backend(enum hv_vendor want, char *why, size_t why_len)
{
    const struct backend *cands[2] = {&svm_backend, &vmx_backend};
    /* One reason per candidate, kept until we know none of them works. */
    char reason[2][BACKEND_WHY_LEN];
    for (unsigned i = 0; i < 2; i++) {
        const struct backend *b = cands[i];
        reason[i][0] = '\0';
        /* Skip the one not asked for. */
        if ((want == VENDOR_SVM && i != 0) || (want == VENDOR_VMX && i != 1))
            continue;
        /* A weak reference to an absent backend is NULL. */
        if (!b) {
            ksnprintf(reason[i], sizeof(reason[i]), "this hv was built without the %s backend",
                      i ? "vmx" : "svm");
            continue;
        }
        /* probe() changes nothing: trying one and then the other is safe. */
        if (b->probe(reason[i], sizeof(reason[i])))
            return b;
    }
    /* Nothing usable: one message with the reasons that apply. */
    if (want == VENDOR_SVM)
        ksnprintf(why, why_len, "no usable AMD SVM: %s", reason[0]);
    else if (want == VENDOR_VMX)
        ksnprintf(why, why_len, "no usable Intel VT-x: %s", reason[1]);
    else
        ksnprintf(why, why_len, "no hardware virtualization: svm: %s; vmx: %s", reason[0],
                  reason[1]);
    return NULL;
}

/* One past the NUL of the string at physical address `pa`: the first byte
 * the allocator may hand out without overwriting that string.  The boot
 * code's identity map makes the physical address a usable pointer. */
static uint64_t string_end(uint32_t pa)
{
    return (uint64_t)pa + strlen((const char *)(uintptr_t)pa) + 1;
}

/* The larger of two addresses (klib has no MAX for 64-bit values). */
static uint64_t max_u64(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

/*
 * The end of everything the loader left in memory that hv still needs: its
 * own image, its command line, the modules and their strings.  Multiboot
 * says where each is (3.3) but not that they are in any order, so take the
 * highest end.  The allocator starts above it.  (The info structure itself
 * sits in low memory, below hv, where QEMU and GRUB put it.)
 */
static uint64_t loader_data_end(const struct mb_info *info)
{
    /* hv's image, including .bss (its stack and page tables). */
    uint64_t end = (uint64_t)(uintptr_t)hv_image_end;
    /* Each info field is valid only when its flag is set (Multiboot 3.3). */
    if (info->flags & MB_INFO_CMDLINE)
        end = max_u64(end, string_end(info->cmdline));
    if (info->flags & MB_INFO_MODS) {
        /* mods_addr points at mods_count module descriptors; each module
         * occupies mod_start..mod_end (end exclusive) and has an optional
         * string, which for us is the guest's command line. */
        const struct mb_module *m = (const struct mb_module *)(uintptr_t)info->mods_addr;
        for (uint32_t i = 0; i < info->mods_count; i++) {
            end = max_u64(end, m[i].mod_end);
            if (m[i].string)
                end = max_u64(end, string_end(m[i].string));
        }
    }
    return end;
}

/*
 * Make domain `id` in d with its vCPU v, running the guest of boot module
 * `mod` with command line `guest_cmd` (build.c does the work, which a
 * reset does again) and the virtio devices of `vdevs` (NULL: none).  Any
 * failure ends hv (end_error): at start-up a domain is all or nothing.
 */
static void make_domain(struct domain *d, struct vcpu *v, unsigned id, const struct mb_module *mod,
                        const char *guest_cmd, const struct vdev_plan *vdevs)
{
    char err[256];
    /* An empty guest machine with its console and exit port (domain.c). */
    domain_init(d, &host, id, bus_note, guest_line);
    /* Its vCPUs: v (the BSP, vCPU 0) and smp=N - 1 application processors
     * in the structs beside it (build.c, core/smp.c); with maxcpus=M
     * above N, M - 1 of them, of which the first N - 1 are available to
     * the guest at its start (include/hvkit/pv.h "vCPU hot-plug"). */
    unsigned n = host.opt.maxcpus > host.opt.smp ? host.opt.maxcpus : host.opt.smp;
    d->smp = n;
    d->vcpu_avail = domain_vcpu_mask(host.opt.smp);
    for (unsigned i = 1; i < n; i++)
        d->ap_store[i] = v + i;
    host_add_domain(&host, d);
    /* What it is made of, kept for a reset: the module stays where the
     * loader put it (the allocator starts above it, loader_data_end). */
    d->image = (const void *)(uintptr_t)mod->mod_start;
    d->image_len = mod->mod_end - mod->mod_start;
    d->cmdline = guest_cmd;
    d->vdevs = vdevs;
    /* name= (QEMU's -name) names domain 0, for front-ends and save files. */
    if (id == 0 && host.opt.name[0])
        d->name = host.opt.name;
    /* What becomes of it when it ends (cmdline.h). */
    d->on_poweroff = host.opt.on_poweroff;
    d->on_reboot = host.opt.on_reboot;
    d->on_crash = host.opt.on_crash;
    if (domain_build(&host, d, v, err, sizeof(err)) < 0)
        end_error("%s", err);
}

/*
 * hv's C entry point, called by boot/entry.S in 64-bit mode with the
 * Multiboot magic and info address the loader left in EAX and EBX.  It
 * never returns: every way out ends the outer machine (ending.c).  The
 * order matters: the console first (so every later failure can be told),
 * then options, memory, the backend, the guest image, the vCPU, the
 * devices, and the run loop.
 */

void hv_main(uint32_t magic, uint32_t info_pa)
{
    /* COM1 first: every message below, including errors, goes there. */
    serial_init();
    /* From here on a fault in hv is reported, not a silent reset. */
    trap_init();
    /* hv polls and never takes the outer machine's interrupts: mask both
     * legacy PICs (8259A OCW1) so the firmware's timer tick cannot reach a
     * guest running with IF = 1 (Bochs delivered it to the guest under both
     * SVM and VMX). */
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
    hv_log("hvkit hv starting");
    /* Multiboot 3.2: EAX = 0x2BADB002 tells us a Multiboot loader started
     * us.  Anything else means EBX is not an info pointer, and reading it
     * would give garbage options and a garbage memory map. */
    if (magic != MB_BOOTLOADER_MAGIC)
        end_error("not started by a Multiboot loader (EAX = %#x, expected %#x)", magic,
                  MB_BOOTLOADER_MAGIC);
    /* Physical = virtual below 4 GiB (boot/entry.S), so the loader's
     * physical address is our pointer. */
    const struct mb_info *info = (const struct mb_info *)(uintptr_t)info_pa;

    /* Our options; the first word is our own file name (QEMU and GRUB put
     * it there). */
    const char *cmdline =
        (info->flags & MB_INFO_CMDLINE) ? (const char *)(uintptr_t)info->cmdline : "";
    /* One buffer for every "why" below; each failure ends hv, so it is
     * never needed twice.  `true`: skip the first word (our file name). */
    char err[256];
    if (hv_parse_cmdline(cmdline, true, &host.opt, err, sizeof(err)) < 0)
        end_error("bad hv option: %s", err);

    /* Host memory: from our image's end to the end of RAM below 4 GiB
     * (the boot code maps 4 GiB). */
    if (!(info->flags & MB_INFO_MEMORY))
        end_error("the boot loader gave no memory size (Multiboot info flag 0)");
    /* mem_upper is the KiB of memory starting at 1 MiB, up to the first
     * hole (Multiboot 3.3), so this is a contiguous range hv may use. */
    uint64_t ram_end = 0x100000ull + (uint64_t)info->mem_upper * 1024;
    /* Beyond 4 GiB our identity map ends: a pointer there would fault. */
    if (ram_end > (4ull << 30))
        ram_end = 4ull << 30;
    alloc_init(loader_data_end(info), ram_end);

    /* The guest images: one module per domain (domain N runs module N;
     * with domains=N beyond the modules, the others run copies of the
     * first). */
    if (!(info->flags & MB_INFO_MODS) || info->mods_count == 0)
        end_error("no guest image: give one as a Multiboot module (QEMU: -initrd "
                  "\"guest.elf args\")");
    if (info->mods_count > HV_DOMAINS_MAX)
        end_error("%u guest modules given: hv runs at most %u domains", info->mods_count,
                  HV_DOMAINS_MAX);
    if (info->mods_count > host.opt.domains)
        host.opt.domains = info->mods_count;
    /* The modules were loaded by the outer loader as raw bytes: mb_load()
     * (build.c) reads the ELF or a.out-kludge images from there. */
    const struct mb_module *mods = (const struct mb_module *)(uintptr_t)info->mods_addr;
    /* The guest's virtio devices (core/vdev.h): the disks of the drive=
     * words and the virtio-console option; its command line lists them. */
    static struct vdev_plan plan;
    if (vdev_plan(&plan, &host.opt, err, sizeof(err)) < 0)
        end_error("%s", err);
    /* With domains=N every domain gets the same devices, each its own
     * models over the same files: a read-only disk can be shared, a
     * writable one cannot (two domains' image libraries would each
     * allocate clusters in one file and corrupt it). */
    for (unsigned i = 0; i < plan.n; i++)
        if (plan.spec[i].kind == VDEV_BLK && !plan.spec[i].readonly && host.opt.domains > 1)
            end_error("disk %s: a writable virtio disk needs domains=1 (one image file, one "
                      "writer); use readonly=on to share it",
                      plan.spec[i].path);
    /* The backend. */
    const struct backend *be = choose_backend(host.opt.vendor, err, sizeof(err));
    if (!be)
        end_error("%s", err);
    /* The core calls the backend only through this ops table. */
    host.be = be;
    hv_log("backend %s, guest RAM %llu MiB%s", be->name, (unsigned long long)(host.opt.mem >> 20),
           host.opt.trace ? ", tracing every exit" : "");
    /* Turn the extension on: EFER.SVME and VM_HSAVE_PA, or CR4.VMXE and
     * VMXON.  Until now nothing about the CPU has been changed. */
    if (be->enable() < 0)
        end_error("could not enable %s", be->name);

    /* disk-test: the outer disks' driver on its own, before any guest runs. */
    if (host.opt.disk_test)
        outer_disk_selftest();

    /* The domains: domain 0, and more with domains=N or more modules, each
     * in a machine of its own.  What the heap holds before them comes back
     * when they are torn down (ending.c says so with several). */
    host.heap_free_before = alloc_free_bytes();
    for (unsigned id = 0; id < host.opt.domains; id++) {
        /* Its own module, or a copy of the first, with its own command
         * line plus the virtio devices' words (each domain has them). */
        static char lines[HV_DOMAINS_MAX][2048];
        const struct mb_module *m = id < info->mods_count ? &mods[id] : &mods[0];
        const char *cmd = m->string ? (const char *)(uintptr_t)m->string : "";
        if (plan.n) {
            ksnprintf(lines[id], sizeof(lines[id]), "%s", cmd);
            if (vdev_cmdline(&plan, lines[id], sizeof(lines[id])) < 0)
                end_error("guest %u's command line is too long for its virtio devices", id);
            cmd = lines[id];
        }
        make_domain(&doms[id], vcpus[id], id, m, cmd, plan.n ? &plan : NULL);
    }
    /* The PIC and the PIT: the host's clock for them (measured once), and
     * interrupt delivery if the backend can; then each domain's models and
     * its virtio devices. */
    irq_clock_init(&host);
    for (struct domain *d = host.domains; d; d = d->next)
        if (domain_build_devices(d, err, sizeof(err)) < 0)
            end_error("%s", err);

    /* With `ctl`: the control channel on COM2, polled by the run loop
     * (core/com2.c), greeting the manager once the domains exist. */
    if (host.opt.ctl)
        com2_ctl_init(&host);
    /* The savevm=, loadvm=, delvm=, save= and restore= options: carried
     * out between exits (core/vmsave.c), unless something else already
     * polls (a control channel then carries those commands), which is
     * said rather than the options silently dropped. */
    if (host.opt.nvmevents && !host.poll)
        host.poll = vmsave_poll;
    else if (host.opt.nvmevents)
        hv_log("savevm=, loadvm=, delvm=, save= and restore= are ignored: the control channel "
               "polls between exits");
    /* Run every domain until all have stopped (run.c), then report how
     * they ended and end the outer machine (ending.c). */
    host_run(&host);
    host_end(&host);
}
