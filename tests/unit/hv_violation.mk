# hv/core/violation.c: the core's answer to a second-level
# violation (MMIO emulated against a device on the bus, anything else a
# crash naming the access, address and RIP), compiled hosted with the
# emulator, the guest-memory walker, the domain and a fake backend.
UNIT_TESTS += hv_violation
hv_violation_SRCS := $(TOP)/tests/unit/test_hv_violation.c $(TOP)/hv/core/violation.c \
                     $(TOP)/hv/core/mmio_emu.c $(TOP)/hv/core/gva.c $(TOP)/hv/core/domain.c \
                     $(TOP)/hv/core/memmap.c $(TOP)/hv/core/guestmem.c \
                     $(TOP)/hv/core/dirty.c $(TOP)/hv/core/slat.c $(TOP)/hv/svm/paging.c $(sort $(wildcard $(TOP)/hv/core/emu*.c)) \
                     $(TOP)/hv/dev/mmiobus.c $(TOP)/hv/dev/iobus.c $(TOP)/hv/dev/uart16550.c \
                     $(TOP)/hv/dev/debug_exit.c $(KLIB_HOSTED_SRCS)
hv_violation_CFLAGS := -I$(TOP)/hv
