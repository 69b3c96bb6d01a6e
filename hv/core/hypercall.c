/*
 * hypercall.c - hvkit's hypercalls (include/hvkit/abi.h): the guest puts the
 * call number in RAX and arguments in RBX, RCX, RDX, executes VMMCALL (AMD)
 * or VMCALL (Intel), and finds the result in RAX.
 */
#include "hvkit/abi.h"
#include "klib.h"

#include "ending.h"
#include "hv.h"
#include "log.h"

/* HC_PUTS strings longer than this are refused (EINVAL): the call is for
 * log messages, not bulk data. */
#define HC_PUTS_MAX 4096u

/* Print a guest string as whole lines, one per '\n'-separated piece (a
 * final piece without '\n' is a line too).  Any partial UART line is
 * passed on first so the two outputs do not mix within a line. */
static long hc_puts(struct hv *h, uint64_t gpa, uint64_t len)
{
    /* Checked before the address, so a huge length cannot make the range
     * check below wrap around. */
    if (len > HC_PUTS_MAX)
        return HC_EINVAL;
    /* The whole range [gpa, gpa + len) must be guest RAM; the pointer is
     * hv's view of it (guest RAM is one contiguous host block, gmem.h). */
    const char *s = gmem_ptr(&h->vcpu.mem, gpa, len);
    if (!s)
        return HC_EFAULT;
    uart_flush(&h->com1);
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

/*
 * Run the call the guest asked for.  The dispatcher has already moved RIP
 * past VMMCALL/VMCALL, so the guest resumes after it with the result in
 * RAX.  Arguments come from the registers; guest addresses are
 * guest-physical and checked against guest RAM, so a bad pointer gets
 * HC_EFAULT, never a fault in hv.
 */
void hypercall(struct hv *h)
{
    struct gprs *r = &h->vcpu.regs;
    /* Results are signed: errors are small negative numbers (abi.h). */
    long ret;
    /* The full 64-bit RAX is the number.  hv starts the guest with the
     * upper halves at 0 and 32-bit code has no way to write them, so for
     * a 32-bit guest this is simply EAX. */
    switch (r->rax) {
    case HC_VERSION:
        /* The ABI the guest is talking to (include/hvkit/abi.h). */
        ret = HVKIT_ABI_VERSION;
        break;
    case HC_PUTS:
        /* RBX = guest-physical address of the text, RCX = its length. */
        ret = hc_puts(h, r->rbx, r->rcx);
        break;
    case HC_EXIT:
        /* The guest's unfinished UART line goes out before the last line. */
        uart_flush(&h->com1);
        /* Same as a write to port 0xf4: the code is a 32-bit value. */
        end_guest_exit((uint32_t)r->rbx);
    case HC_EXIT_COUNT:
        /* Exits so far, including this one: lets a guest measure what an
         * operation costs in world switches. */
        ret = (long)h->vcpu.exit_count;
        break;
    case HC_ECHO:
        /* Proves the three argument registers arrive intact. */
        ret = (long)(r->rbx + r->rcx + r->rdx);
        break;
    default:
        /* An unknown call is an error result, not a fault: like a system
         * call, the caller can probe for newer calls. */
        ret = HC_ENOSYS;
        break;
    }
    /* Sign-extended: -1 reads as -1 in RAX and in EAX alike. */
    r->rax = (uint64_t)ret;
}
