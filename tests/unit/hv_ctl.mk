# hv/core/ctl*.c: the control protocol's dispatcher, commands and events,
# compiled hosted over real domains (domain.c) and guest RAM (gva.c).
UNIT_TESTS += hv_ctl
hv_ctl_SRCS := $(TOP)/tests/unit/test_hv_ctl.c $(TOP)/tests/unit/ctl_harness.c $(TOP)/hv/core/ctl.c $(TOP)/hv/core/ctl_cmds.c \
               $(TOP)/hv/core/ctl_inspect.c $(TOP)/hv/core/ctl_event.c $(TOP)/hv/core/domain.c \
               $(TOP)/hv/core/ctl_blk.c $(TOP)/hv/dev/blkacct.c $(TOP)/hv/core/ctl_console.c \
               $(TOP)/hv/core/nmi.c $(TOP)/hv/dev/lapic.c $(TOP)/hv/dev/lapic_timer.c $(TOP)/hv/dev/lapic_msr.c \
               $(TOP)/hv/core/gva.c $(TOP)/hv/dev/iobus.c $(TOP)/hv/dev/uart16550.c \
               $(TOP)/hv/dev/debug_exit.c $(TOP)/hv/dev/mmiobus.c $(TOP)/hv/core/memmap.c \
               $(JSON_SRCS) $(KLIB_HOSTED_SRCS)
hv_ctl_CFLAGS := -I$(TOP)/hv
