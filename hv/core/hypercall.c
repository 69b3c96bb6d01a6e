/*
 * hypercall.c - hvkit's hypercalls (include/hvkit/abi.h): the guest puts the
 * call number in RAX and arguments in RBX, RCX, RDX, executes VMMCALL (AMD)
 * or VMCALL (Intel), and finds the result in RAX.
 *
 * Every call is one row of the table below: its number, its name, the least
 * privileged ring allowed to make it, and the function that does it.  A
 * call from a ring with less privilege is refused with HC_EPERM before its
 * handler runs, as KVM and Xen refuse hypercalls from ring 3: VMMCALL and
 * VMCALL exit to the hypervisor from any ring (neither checks CPL before
 * the exit), so the check is hv's to make, and without it a guest's user
 * programs could end the guest (HC_EXIT) or write to hv's log (HC_PUTS).
 */
#include "hvkit/abi.h"
#include "klib.h"

#include "hv.h"
#include "log.h"
#include "pv.h"

/* HC_PUTS strings longer than this are refused (EINVAL): the call is for
 * log messages, not bulk data. */
#define HC_PUTS_MAX 4096u

/* The kernel's ring: the only one allowed to make hvkit's calls today. */
#define RING_KERNEL 0

/* One hypercall.  The handler takes the arguments from the guest's
 * registers and returns the result for RAX (negative = error, abi.h). */
struct hypercall {
    uint64_t nr;
    const char *name;
    /* The highest CPL (least privilege) allowed to call: 0 = ring 0 only,
     * 3 = any ring. */
    uint8_t max_cpl;
    long (*handler)(struct vcpu *v, const struct gprs *r);
};

/* HC_VERSION: the ABI the guest is talking to (include/hvkit/abi.h). */
static long hc_version(struct vcpu *v, const struct gprs *r)
{
    (void)v;
    (void)r;
    return HVKIT_ABI_VERSION;
}

/* HC_PUTS: RBX = guest-physical address of the text, RCX = its length.
 * Print it as whole lines, one per '\n'-separated piece (a final piece
 * without '\n' is a line too).  Any partial UART line is passed on first so
 * the two outputs do not mix within a line. */
static long hc_puts(struct vcpu *v, const struct gprs *r)
{
    struct domain *d = v->dom;
    uint64_t gpa = r->rbx, len = r->rcx;
    /* Checked before the address, so a huge length cannot make the range
     * check below wrap around. */
    if (len > HC_PUTS_MAX)
        return HC_EINVAL;
    /* The whole range [gpa, gpa + len) must be guest RAM; the pointer is
     * hv's view of it (guest RAM is one contiguous host block, gmem.h). */
    const char *s = gmem_ptr(&d->mem, gpa, len);
    if (!s)
        return HC_EFAULT;
    uart_flush(&d->com1);
    /* The string is not NUL-terminated: len says where it ends, and a NUL
     * inside it is printed like any other byte. */
    uint64_t start = 0;
    for (uint64_t i = 0; i < len; i++) {
        if (s[i] == '\n') {
            log_guest_line(s + start, (size_t)(i - start));
            start = i + 1;
        }
    }
    if (start < len)
        log_guest_line(s + start, (size_t)(len - start));
    return HC_OK;
}

/* HC_EXIT: RBX = exit code.  The domain stops (domain.h); RAX gets
 * HC_OK, which nobody will read. */
static long hc_exit(struct vcpu *v, const struct gprs *r)
{
    /* The guest's unfinished UART line goes out before the last line. */
    uart_flush(&v->dom->com1);
    /* Same as a write to port 0xf4: the code is a 32-bit value. */
    domain_shutdown(v->dom, (uint32_t)r->rbx);
    return HC_OK;
}

/* HC_EXIT_COUNT: exits so far, including this one.  Lets a guest measure
 * what an operation costs in world switches. */
static long hc_exit_count(struct vcpu *v, const struct gprs *r)
{
    (void)r;
    return (long)v->exit_count;
}

/* HC_ECHO: proves the three argument registers arrive intact. */
static long hc_echo(struct vcpu *v, const struct gprs *r)
{
    (void)v;
    return (long)(r->rbx + r->rcx + r->rdx);
}

/* HC_DIRTY_START: log the first write to every page of guest RAM from now
 * on (core/dirty.h): all RAM is write-protected in the second-level tables,
 * so the translations the CPU holds must go. */
static long hc_dirty_start(struct vcpu *v, const struct gprs *r)
{
    (void)r;
    int rc = guestmem_dirty_start(&v->dom->guestmem);
    vcpu_backend(v)->flush_slat(v, 0, v->dom->mem.size);
    return rc ? HC_ENOMEM : HC_OK;
}

/* HC_DIRTY_HARVEST: RBX = first page's guest-physical address, RCX =
 * pages, RDX = where the bitmap goes (abi.h).  The pages reported are
 * write-protected again, so their next write is recorded anew; hv also
 * names them in its log, for tests to compare with what the guest saw. */
static long hc_dirty_harvest(struct vcpu *v, const struct gprs *r)
{
    uint64_t gpa = r->rbx, n = r->rcx;
    if ((gpa & 0xfff) || n == 0 || n > HC_DIRTY_MAX_PAGES)
        return HC_EINVAL;
    /* The bitmap is built here and copied out whole: the guest's buffer
     * need not be 8-byte aligned. */
    uint64_t bits[HC_DIRTY_MAX_PAGES / 64];
    size_t bytes = (size_t)((n + 63) / 64 * 8);
    /* The bitmap's place must take hv's store (RAM, not made read-only)
     * before the harvest clears the log: a refusal then loses nothing. */
    if (!guestmem_hv_may_write(&v->dom->guestmem, r->rdx, bytes))
        return HC_EFAULT;
    uint64_t count = guestmem_dirty_harvest(&v->dom->guestmem, gpa / 4096, n, bits, true);
    /* hv's own store into the guest, made after the harvest: logged dirty
     * like the guest's, so the next harvest names the bitmap's page. */
    uint8_t *out = gmem_write_ptr(&v->dom->mem, r->rdx, bytes);
    if (!out)
        return HC_EFAULT;
    memcpy(out, bits, bytes);
    vcpu_backend(v)->flush_slat(v, gpa, n * 4096);
    /* The first few pages by address, enough for a test to check. */
    char list[200] = "";
    size_t len = 0;
    for (uint64_t i = 0, shown = 0; i < n && shown < 8; i++)
        if ((bits[i / 64] >> (i % 64)) & 1) {
            len += (size_t)ksnprintf(list + len, sizeof(list) - len, " %#llx",
                                     (unsigned long long)(gpa + i * 4096));
            shown++;
        }
    hv_log("dirty log: %llu of %llu pages from %#llx written:%s%s", (unsigned long long)count,
           (unsigned long long)n, (unsigned long long)gpa, count ? list : " none",
           count > 8 ? " ..." : "");
    return (long)count;
}

/* HC_DIRTY_STOP: every page is writable again; nothing more is recorded. */
static long hc_dirty_stop(struct vcpu *v, const struct gprs *r)
{
    (void)r;
    guestmem_dirty_stop(&v->dom->guestmem);
    vcpu_backend(v)->flush_slat(v, 0, v->dom->mem.size);
    return HC_OK;
}

/* HC_MEM_PROTECT: RBX = address, RCX = length, RDX = HC_PROT_* (abi.h).
 * The bits are slat.h's SLAT_R/W/X, so they pass straight through. */
static long hc_mem_protect(struct vcpu *v, const struct gprs *r)
{
    _Static_assert(HC_PROT_R == SLAT_R && HC_PROT_W == SLAT_W && HC_PROT_X == SLAT_X,
                   "HC_PROT_* are SLAT_*");
    if (r->rdx == 0 || r->rdx > SLAT_RWX)
        return HC_EINVAL;
    int rc = guestmem_protect(&v->dom->guestmem, r->rbx, r->rcx, (unsigned)r->rdx);
    if (rc == SLAT_EPERM)
        return HC_ENOTSUP;
    if (rc)
        return HC_EINVAL;
    vcpu_backend(v)->flush_slat(v, r->rbx, r->rcx);
    return HC_OK;
}

/* The calls.  Adding one means a number in abi.h and a row here. */
static const struct hypercall calls[] = {
    {HC_VERSION, "HC_VERSION", RING_KERNEL, hc_version},
    {HC_PUTS, "HC_PUTS", RING_KERNEL, hc_puts},
    {HC_EXIT, "HC_EXIT", RING_KERNEL, hc_exit},
    {HC_EXIT_COUNT, "HC_EXIT_COUNT", RING_KERNEL, hc_exit_count},
    {HC_ECHO, "HC_ECHO", RING_KERNEL, hc_echo},
    {HC_DIRTY_START, "HC_DIRTY_START", RING_KERNEL, hc_dirty_start},
    {HC_DIRTY_HARVEST, "HC_DIRTY_HARVEST", RING_KERNEL, hc_dirty_harvest},
    {HC_DIRTY_STOP, "HC_DIRTY_STOP", RING_KERNEL, hc_dirty_stop},
    {HC_MEM_PROTECT, "HC_MEM_PROTECT", RING_KERNEL, hc_mem_protect},
    /* The paravirtual interface (include/hvkit/pv.h, core/pv_calls.c). */
    {HC_PV_SHARED, "HC_PV_SHARED", RING_KERNEL, pv_hc_shared},
    {HC_EVTCHN_BIND, "HC_EVTCHN_BIND", RING_KERNEL, pv_hc_evtchn_bind},
    {HC_EVTCHN_CLOSE, "HC_EVTCHN_CLOSE", RING_KERNEL, pv_hc_evtchn_close},
    {HC_EVTCHN_SEND, "HC_EVTCHN_SEND", RING_KERNEL, pv_hc_evtchn_send},
    {HC_GRANT_SETUP, "HC_GRANT_SETUP", RING_KERNEL, pv_hc_grant_setup},
    {HC_CONSOLE_SETUP, "HC_CONSOLE_SETUP", RING_KERNEL, pv_hc_console_setup},
    {HC_BLK_SETUP, "HC_BLK_SETUP", RING_KERNEL, pv_hc_blk_setup},
    {HC_BALLOON_TARGET, "HC_BALLOON_TARGET", RING_KERNEL, pv_hc_balloon_target},
    {HC_BALLOON_RELEASE, "HC_BALLOON_RELEASE", RING_KERNEL, pv_hc_balloon_release},
    {HC_BALLOON_RECLAIM, "HC_BALLOON_RECLAIM", RING_KERNEL, pv_hc_balloon_reclaim},
    {HC_VCPU_AVAIL, "HC_VCPU_AVAIL", RING_KERNEL, pv_hc_vcpu_avail},
    {HC_VCPU_DOWN, "HC_VCPU_DOWN", RING_KERNEL, pv_hc_vcpu_down},
};

/* The row for a call number, or NULL for an unknown one.  The full 64-bit
 * RAX is the number: hv starts the guest with the upper halves at 0 and
 * 32-bit code has no way to write them, so for a 32-bit guest this is
 * simply EAX. */
static const struct hypercall *lookup(uint64_t nr)
{
    for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
        if (calls[i].nr == nr)
            return &calls[i];
    return NULL;
}

/* The result of the call in RAX, before any handler runs: HC_EPERM for a
 * caller without the privilege, HC_ENOSYS for an unknown number, HC_OK if
 * the handler may run.  An unknown number is held to ring 0 too, so a
 * user program cannot even learn which calls exist (KVM answers ring 3
 * the same way, whatever the number). */
static long admit(const struct hypercall *c, uint8_t cpl)
{
    if (cpl > (c ? c->max_cpl : RING_KERNEL))
        return HC_EPERM;
    return c ? HC_OK : HC_ENOSYS;
}

const char *hypercall_name(uint64_t nr)
{
    const struct hypercall *c = lookup(nr);
    return c ? c->name : "unknown";
}

bool hypercall_ends_guest(struct vcpu *v)
{
    const struct hypercall *c = lookup(v->regs.rax);
    vcpu_need(v, VCPU_SEGS);
    return c && c->handler == hc_exit && admit(c, v->cpl) == HC_OK;
}

/*
 * Run the call the guest asked for.  The dispatcher has already moved RIP
 * past VMMCALL/VMCALL, so the guest resumes after it with the result in
 * RAX.  Arguments come from the registers; guest addresses are
 * guest-physical and checked against guest RAM, so a bad pointer gets
 * HC_EFAULT, never a fault in hv.  A refused call changes nothing but RAX:
 * like a system call, the caller can probe for newer calls.
 */
void hypercall(struct vcpu *v)
{
    struct gprs *r = &v->regs;
    const struct hypercall *c = lookup(r->rax);
    /* Results are signed: errors are small negative numbers (abi.h). */
    vcpu_need(v, VCPU_SEGS);
    long ret = admit(c, v->cpl);
    if (ret == HC_OK)
        ret = c->handler(v, r);
    /* Sign-extended: -1 reads as -1 in RAX and in EAX alike. */
    r->rax = (uint64_t)ret;
}
