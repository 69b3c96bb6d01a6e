/*
 * fuzz_ctl.c - libFuzzer target for hv's control-protocol dispatcher
 * (hv/core/ctl*.c): every line a front-end can send reaches ctl_handle(),
 * so no line may crash hv, read outside guest RAM or leave a reply that is
 * not one JSON object with exactly one of "return" and "error".
 *
 * Each input is one request line against a fresh host of two domains (a
 * vCPU each, 1 MiB of RAM whose first page is guest page tables pointing
 * at RAM, holes and beyond), so that stop, cont, quit, x-read-memory with
 * any address and size, x-query-registers and x-console-write (into each
 * domain's 16550 receiver) all run for real.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/ctl.h"
#include "core/hv.h"

#define RAM (1u << 20)

/* tests/unit/ctl_harness.c: host_load_vcpu() and a backend with nothing
 * to load. */
extern const struct backend ctl_test_backend;
static struct host h;
static struct domain d[2];
static struct vcpu v[2];
static uint8_t *ram[2];

/* Two running domains; domain 1's vCPU in 4-level paging over tables at
 * 0x1000 whose entries the input cannot change but which map RAM, a page
 * past RAM and nothing. */
static void fresh_host(void)
{
    memset(&h, 0, sizeof(h));
    h.be = &ctl_test_backend;
    for (unsigned i = 0; i < 2; i++) {
        if (!ram[i])
            ram[i] = malloc(RAM);
        memset(ram[i], 0, RAM);
        domain_init(&d[i], &h, i, NULL, NULL);
        memset(&v[i], 0, sizeof(v[i]));
        v[i].loaded = VCPU_STATE_ALL;
        domain_add_vcpu(&d[i], &v[i]);
        d[i].mem.size = RAM;
        d[i].mem.host = ram[i];
        d[i].state = DOMAIN_RUNNING;
    }
    h.domains = &d[0];
    d[0].next = &d[1];
    h.nr_domains = 2;
    uint64_t *t = (uint64_t *)(void *)ram[1];
    /* PML4 at 0x1000 -> PDPT 0x2000 -> PD 0x3000 -> PT 0x4000. */
    t[0x1000 / 8] = 0x2003;
    t[0x2000 / 8] = 0x3003;
    t[0x3000 / 8] = 0x4003;
    t[0x3000 / 8 + 1] = 0x200083;          /* a 2 MiB page past RAM */
    t[0x4000 / 8] = 0x5003;                /* virtual 0 -> 0x5000 */
    t[0x4000 / 8 + 1] = 0xfff000 | 3;      /* virtual 0x1000 -> past RAM */
    t[0x4000 / 8 + 2] = 0x80000000000003u; /* a reserved bit */
    v[1].cr0 = 0x80000011;
    v[1].cr4 = 0x20;
    v[1].efer = 0x500;
    v[1].cr3 = 0x1000;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char reply[16384];
    static struct json_tok tok[1024];
    struct ctl_after after;
    struct json_doc doc;
    char err[96];
    if (size > CTL_LINE_MAX)
        return 0;
    fresh_host();
    char *line = malloc(size ? size : 1);
    memcpy(line, data, size);
    size_t n = ctl_handle(&h, line, size, reply, sizeof(reply), &after);
    free(line);
    /* One object, with "return" or "error" and not both. */
    if (n >= sizeof(reply) ||
        json_parse(&doc, reply, n, tok, 1024, CTL_DEPTH_MAX, err, sizeof(err)) < 0 ||
        doc.tok[0].type != JSON_OBJECT)
        abort();
    bool ret = json_get(&doc, 0, CTL_KEY_RETURN) >= 0;
    bool error = json_get(&doc, 0, CTL_KEY_ERROR) >= 0;
    if (ret == error)
        abort();
    /* A refused request has nothing to follow. */
    if (error && (after.quit || after.event))
        abort();
    return 0;
}
