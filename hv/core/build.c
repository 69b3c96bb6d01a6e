/*
 * build.c - making a domain: its RAM, memory map and second-level tables,
 * the guest image loaded in, its vCPU's control structure, its devices;
 * and making it again from the same image, for a reset or a restart.
 *
 * hv makes every domain at start-up (main.c) and makes one again when the
 * host resets it or its on_reboot / on_crash action is "restart" (run.c).
 * Both go through here, so a rebuilt domain is exactly a new one: the same
 * image and command line (kept in struct domain), fresh RAM, fresh device
 * models, the vCPU at the Multiboot entry state.  What a domain keeps
 * across a rebuild is what belongs to the domain rather than to one boot of
 * its machine: its number, its place in the host's list, its policies, its
 * statistics and how often it was rebuilt.  That is what Xen's reboot of a
 * domain (a new domain from the same configuration) and QEMU's
 * system_reset (the same machine, every device reset) have in common.
 */
#include "hvkit/multiboot.h"
#include "klib.h"

#include "alloc.h"
#include "cdrom.h"
#include "dev/acpi_tables.h"
#include "cpu.h"
#include "cpuid.h"
#include "hv.h"
#include "loader/mbload.h"
#include "log.h"
#include "msr.h"
#include "vcpustate.h"
#include "vdev.h"
#include "vdev_hot.h"

/* guestmem.h's allocator: zeroed pages from hv's allocator, 4 KiB
 * aligned, identity-mapped (alloc.h). */
static void *guest_alloc(size_t bytes)
{
    return page_alloc(bytes, 4096);
}

/* CPUID 0 EBX of AMD CPUs: "Auth" of "AuthenticAMD". */
#define CPUID_AMD_EBX 0x68747541u

/* The firmware-facing devices of a PC: fw_cfg describes one CPU and the
 * guest's RAM as QEMU describes the same machine (QEMU adds its AMD
 * HyperTransport hole when the CPU, which the guest sees as it is, is an
 * AMD one with 40 or more physical address bits: CPUID 0x80000008 EAX
 * bits 7:0), and port 0x92. */
static void firmware_devices(struct domain *d)
{
    bool amd = cpuid(0).ebx == CPUID_AMD_EBX;
    bool wide = cpuid(0x80000000u).eax >= 0x80000008u && (cpuid(0x80000008u).eax & 0xff) >= 40;
    fwcfg_init(&d->fwcfg, &(struct fwcfg_machine){.cpus = d->nr_vcpus,
                                                  .ram_bytes = d->mem.size,
                                                  .amd_ht_hole = amd && wide});
    port92_init(&d->port92);
    iobus_add(&d->io, &d->fwcfg.dev);
    iobus_add(&d->io, &d->port92.dev);
}

/* RAM, the memory map and the second-level tables over it.  Returns 0, or
 * -1 with the reason in err. */
static int build_memory(struct host *h, struct domain *d, struct vcpu *v, char *err, size_t err_len)
{
    const struct backend *be = h->be;
    /* Guest RAM: contiguous and 2 MiB aligned for 2 MiB nested pages.
     * Contiguous means guest-physical X is host-physical base + X, so the
     * nested page tables are a simple linear map and gmem.h can translate
     * with one addition. */
    uint64_t ram = d->ram_bytes ? d->ram_bytes : h->opt.mem;
    d->mem.host = page_alloc(ram, 2u << 20);
    if (!d->mem.host) {
        ksnprintf(err, err_len,
                  "not enough host memory for %lluM of guest RAM: give the outer machine "
                  "more (-m) or the guest less",
                  (unsigned long long)(ram >> 20));
        return -1;
    }
    d->mem.size = ram;
    /* What lies where in the guest's physical address space: the PC
     * layout (core/memmap.h), from which the guest's memory map comes.
     * Refused, the RAM goes back at once: the tables that would give it
     * back on teardown (guestmem.free) do not exist yet. */
    if (guestmem_layout(&d->map, ram, err, err_len) < 0) {
        page_free(d->mem.host);
        d->mem.host = NULL;
        return -1;
    }
    /* The second-level tables, built from the map in the backend's entry
     * format: all RAM now, or with npt=lazy each page at its first touch
     * (core/guestmem.h).  The vCPU's control structure points at them. */
    if (guestmem_init(&d->guestmem, &d->mem, &d->map, h->opt.lazy, be->slat_format, be->slat_caps(),
                      guest_alloc, page_free, err, err_len) < 0)
        return -1;
    v->slat_root = virt_to_phys(d->guestmem.slat.root);
    /* From now on hv's own stores into the guest's RAM keep its read-only
     * pages so and reach the dirty log, as the guest's stores do. */
    d->mem.before_write = guestmem_hv_write;
    d->mem.write_ctx = &d->guestmem;
    return 0;
}

/* The vCPU at the Multiboot entry state (Multiboot 3.2), the rest of which
 * the backend's vcpu_init adds.  Returns 0, or -1 with the reason. */
static int build_vcpu(struct host *h, struct vcpu *v, const struct mb_load_result *res, char *err,
                      size_t err_len)
{
    const struct backend *be = h->be;
    /* The same EAX/EBX contract hv itself was started with. */
    v->regs.rax = MB_BOOTLOADER_MAGIC;
    v->regs.rbx = res->info_addr;
    /* The entry point from the ELF header or the a.out-kludge field. */
    v->rip = res->entry;
    v->rflags = 2; /* bit 1 is reserved and always 1; IF = 0 */
    /* The guest starts in 32-bit protected mode without long mode. */
    v->efer = 0;
    /* The core's copy is the whole truth before the first entry, and all
     * of it goes in then (core/vcpu.h "Lazy guest state"). */
    v->loaded = VCPU_STATE_ALL;
    v->dirty = VCPU_STATE_ALL;
    /* IA32_MISC_ENABLE as QEMU resets it (core/msr.c), and XCR0's reset
     * value: x87 state only (SDM vol 1 13.3 "Enabling the XSAVE
     * Feature Set and XSAVE-Enabled Features"). */
    v->misc_enable = msr_misc_enable_reset(cpuid(1).ecx);
    v->xcr0 = 1;
    /* hv executes XSETBV for a VT-x guest (dispatch.c), which needs
     * CR4.OSXSAVE in hv's own CR4, the one VT-x loads at every exit
     * (vcpu_init copies it into the VMCS). */
    if (cpuid(1).ecx & CPUID1_ECX_XSAVE)
        write_cr4(read_cr4() | CR4_OSXSAVE);
    /* vcpu_init makes the new control structure the loaded one (VT-x:
     * VMPTRLD): put away the vCPU that was, as a switch would. */
    host_unload_vcpu(h);
    /* The backend fills its control structure: segments (flat 4 GiB, CS
     * 32-bit), CR0 = PE|ET, intercepts and nested paging. */
    if (be->vcpu_init(v) < 0) {
        ksnprintf(err, err_len, "could not set up the %s vCPU", be->name);
        return -1;
    }
    /* vcpu_init leaves it loaded (backend.h): the run loop knows, and
     * the CPU gets the new vCPU's x87/SSE reset state (vcpustate.h). */
    vcpu_cpu_regs_load(v);
    h->loaded = v;
    return 0;
}

/* The application processors, vCPUs 1 and up of a domain built with
 * smp=N (core/smp.c): each in a struct the domain's maker gave
 * (domain->ap_store), with its own control structure over the domain's
 * second-level tables.  They wait for the guest's STARTUP IPI, so the
 * entry state build_vcpu() gives them is never used.  Returns 0, or -1
 * with the reason. */
static int build_aps(struct host *h, struct domain *d, const struct mb_load_result *res, char *err,
                     size_t err_len)
{
    unsigned n = d->smp ? d->smp : 1;
    for (unsigned i = 1; i < n; i++) {
        struct vcpu *ap = d->ap_store[i];
        if (!ap || domain_add_vcpu(d, ap) < 0) {
            ksnprintf(err, err_len, "no room for vCPU %u of domain %u", i, d->id);
            return -1;
        }
        ap->slat_root = d->vcpu[0]->slat_root;
        if (build_vcpu(h, ap, res, err, err_len) < 0)
            return -1;
    }
    return 0;
}

/* See hv.h. */
int domain_build(struct host *h, struct domain *d, struct vcpu *v, char *err, size_t err_len)
{
    /* Cannot fail: the domain is empty. */
    domain_add_vcpu(d, v);
    if (build_memory(h, d, v, err, err_len) < 0)
        return -1;
    /* Load the guest.  Nothing runs if the image is refused.  mb_load()
     * does what a Multiboot loader does for us (Multiboot 3.1-3.3): it
     * checks the header, copies the segments into guest RAM and builds the
     * info structure, command line and memory map there. */
    struct mb_load_result res;
    char why[200];
    if (mb_load(&d->mem, &d->map, d->image, d->image_len, d->cmdline, &res, why, sizeof(why)) < 0) {
        ksnprintf(err, err_len, "bad guest image: %s", why);
        return -1;
    }
    hv_log("guest '%s': %zu bytes loaded at %#x..%#x, entry %#x", d->cmdline, d->image_len,
           res.load_lo, res.load_hi, res.entry);
    /* The ACPI tables in the BIOS area, where a guest scans for the RSDP
     * (dev/acpi_tables.h), as a PC's firmware leaves them: the FADT is how
     * a guest finds the power button's registers. */
    uint8_t *acpi = gmem_ptr(&d->mem, ACPI_TABLES_GPA, ACPI_TABLES_SIZE);
    unsigned n = d->smp ? d->smp : 1;
    /* Every vCPU available unless the maker said otherwise (maxcpus=);
     * the BSP always is. */
    if (!d->vcpu_avail)
        d->vcpu_avail = domain_vcpu_mask(n);
    d->vcpu_avail = (d->vcpu_avail & domain_vcpu_mask(n)) | 1u;
    if (acpi)
        acpi_tables_build(acpi, ACPI_TABLES_GPA, n, d->vcpu_avail);
    if (build_vcpu(h, v, &res, err, err_len) < 0 || build_aps(h, d, &res, err, err_len) < 0)
        return -1;
    /* What guests written for QEMU's PC machine ask the firmware device
     * (hv/dev/fwcfg.h) and the fast-reset/A20 port. */
    firmware_devices(d);
    return 0;
}

/* See hv.h.  After irq_clock_init(): the PIT counts with the host clock. */
int domain_build_devices(struct domain *d, char *err, size_t err_len)
{
    /* The PIC, the PIT and the I/O APIC, then each vCPU's local APIC
     * (wired to the others for IPIs, core/smp.c). */
    irq_domain_init(d);
    for (unsigned i = 0; i < d->nr_vcpus; i++)
        irq_vcpu_init(d->vcpu[i]);
    /* The virtio devices it was made with, on its MMIO bus. */
    if (d->vdevs && vdev_attach(d, d->vdevs, err, err_len) < 0)
        return -1;
    /* The windows left, for disks attached at run time (and those it had
     * before a rebuild). */
    if (vdev_hot_build(d, err, err_len) < 0)
        return -1;
    /* The CD-ROM drive, on its port bus (IRQ 15 needs the PIC above). */
    return cdrom_attach(d, err, err_len);
}

/* See hv.h. */
int domain_rebuild(struct domain *d, char *err, size_t err_len)
{
    struct host *h = d->host;
    /* Give back what the machine held: teardown works on a stopped domain
     * only, and nothing of the old machine is used again. */
    if (!d->torn_down) {
        if (!domain_stopped(d))
            d->state = DOMAIN_DYING;
        domain_teardown(d);
    }
    /* What the domain keeps (see the top of this file); the rest starts
     * from zero as in a new domain. */
    struct domain keep = *d;
    struct vcpu *v = d->vcpu[0];
    domain_init(d, h, keep.id, keep.io.note, keep.com1.out);
    d->next = keep.next;
    d->image = keep.image;
    d->image_len = keep.image_len;
    d->cmdline = keep.cmdline;
    d->vdevs = keep.vdevs;
    d->ram_bytes = keep.ram_bytes;
    d->name = keep.name;
    d->serial = keep.serial;
    d->release = keep.release;
    d->on_poweroff = keep.on_poweroff;
    d->on_reboot = keep.on_reboot;
    d->on_crash = keep.on_crash;
    d->stats = keep.stats;
    memcpy(d->disk_stats, keep.disk_stats, sizeof(d->disk_stats));
    d->restarts = keep.restarts + 1;
    d->smp = keep.smp;
    d->vcpu_avail = keep.vcpu_avail;
    memcpy(d->ap_store, keep.ap_store, sizeof(d->ap_store));
    /* The vCPUs from zero too, but for their CPU time, which a front-end
     * shows for the domain's whole life. */
    for (unsigned i = 0; i < keep.nr_vcpus; i++) {
        struct vcpu *w = keep.vcpu[i];
        uint64_t run_tsc = w->run_tsc;
        memset(w, 0, sizeof(*w));
        w->run_tsc = run_tsc;
    }
    if (domain_build(h, d, v, err, err_len) < 0 || domain_build_devices(d, err, err_len) < 0)
        return -1;
    /* A new machine starts running: the run loop enters it next. */
    d->state = DOMAIN_RUNNING;
    return 0;
}
