/*
 * pvcon: the same text through the 16550 UART and through the PV console
 * ring, and what each costs in VM exits -- the reason paravirtual devices
 * exist.  Arguments:
 *   mode=uart|pv|both   where the text goes (default both)
 *   bytes=N             how much text, in 64-byte lines (default 65536)
 * With mode=both the guest counts the exits of each half itself
 * (HC_EXIT_COUNT) and checks that the PV console needs fewer than a tenth
 * of the UART's; tests/integration/pv.sh runs mode=uart and mode=pv
 * separately and compares hv's own exit statistics and the two outputs.
 * Skipped outside hv.
 */
#include "guestkit/guestkit.h"
#include "guestkit/parse.h"
#include "guestkit/pv.h"

#define LINE         64
#define EVT_VECTOR   0x70
#define PORT_CONSOLE 3

/* Line i: "pvcon NNNNNNNN " and a pattern that changes with i, 63 bytes
 * and the newline. */
static void print_lines(unsigned long bytes)
{
    for (unsigned long i = 0; i < bytes / LINE; i++) {
        char pat[LINE - 15];
        for (unsigned j = 0; j < sizeof(pat); j++)
            pat[j] = (char)('a' + (i + j) % 26);
        pat[sizeof(pat) - 1] = '\0';
        printf("pvcon %08lu %s\n", i, pat);
    }
}

/* Through the UART (printf's default output). */
static long run_uart(unsigned long bytes)
{
    long e0 = hypercall(HC_EXIT_COUNT, 0, 0, 0);
    print_lines(bytes);
    serial_flush();
    return hypercall(HC_EXIT_COUNT, 0, 0, 0) - e0;
}

/* Through the ring: printf's output into it, one notification when it is
 * full and one at the end. */
static long run_pv(unsigned long bytes)
{
    long e0 = hypercall(HC_EXIT_COUNT, 0, 0, 0);
    console_set_output(pv_console_putc);
    print_lines(bytes);
    pv_console_flush();
    console_set_output(NULL);
    return hypercall(HC_EXIT_COUNT, 0, 0, 0) - e0;
}

int main(int argc, char **argv)
{
    const char *mode = gk_arg_value(argc, argv, "mode");
    const char *b = gk_arg_value(argc, argv, "bytes");
    unsigned long bytes = b ? (unsigned long)kstrtoull(b, NULL, 0) : 65536;
    if (!mode)
        mode = "both";
    if (!pv_available()) {
        report_skip("PV console: not under hvkit with HVKIT_FEATURE_PV");
        report_skip("exits: not under hvkit with HVKIT_FEATURE_PV");
        return report_summary();
    }
    pv_hcpage_init();
    long rc = pv_evtchn_init(EVT_VECTOR);
    if (rc == HC_OK)
        rc = pv_grant_init();
    if (rc == HC_OK)
        rc = pv_console_init(PORT_CONSOLE);
    report(rc == HC_OK, "PV console: set up (%ld)", rc);
    long uart = 0, pv = 0;
    if (strcmp(mode, "pv") != 0)
        uart = run_uart(bytes);
    if (strcmp(mode, "uart") != 0)
        pv = run_pv(bytes);
    printf("pvcon: %lu bytes: %ld exits through the UART, %ld through the PV console\n", bytes,
           uart, pv);
    if (strcmp(mode, "both") == 0)
        report(pv * 10 < uart,
               "exits: the PV console needs fewer than a tenth of the UART's "
               "exits (%ld vs %ld)",
               pv, uart);
    return report_summary();
}
