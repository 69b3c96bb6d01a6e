/*
 * port92.h - System Control Port A at port 0x92, the "fast A20 and reset"
 * port of PC chipsets (Intel 82371AB PIIX4 data sheet, "PORT92--Port 92
 * Register"): bit 0 written from 0 to 1 resets the machine, bit 1 is the
 * A20 gate.  hv's guests always have A20 enabled (guest memory is mapped
 * flat), so bit 1 only reads back what was written; a reset request is
 * recorded for the core, which ends the guest as QEMU's -no-reboot ends
 * the machine.  Compiled hosted too (tests/unit/test_hv_dev.c).
 */
#ifndef HV_DEV_PORT92_H
#define HV_DEV_PORT92_H

#include <stdbool.h>
#include <stdint.h>

#include "iobus.h"

#define PORT92_FAST_RESET 0x01
#define PORT92_A20        0x02

struct port92 {
    uint8_t value;
    bool reset_requested;
    struct io_device dev;
};

/* As the firmware leaves it: A20 enabled (bit 1 set), no reset. */
void port92_init(struct port92 *p);

#endif
