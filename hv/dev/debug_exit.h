/*
 * debug_exit.h - the guest's view of QEMU's isa-debug-exit device at port
 * 0xf4 (include/hvkit/abi.h): writing N ends the guest with exit code N.
 * hv passes N on to the outer machine's own isa-debug-exit, so running a
 * guest under hv ends with the status it would have on QEMU alone.
 * Compiled hosted too.
 */
#ifndef HV_DEV_DEBUG_EXIT_H
#define HV_DEV_DEBUG_EXIT_H

#include <stdbool.h>
#include <stdint.h>

#include "iobus.h"

struct debug_exit {
    bool requested; /* the guest wrote the port */
    uint32_t code;  /* what it wrote (zero-extended from the access size) */
    struct io_device dev;
};

void debug_exit_init(struct debug_exit *d, uint16_t port);

#endif
