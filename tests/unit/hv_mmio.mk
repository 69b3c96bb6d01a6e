# hv/dev/mmiobus.c: the guest's memory-mapped I/O bus, compiled hosted.
UNIT_TESTS += hv_mmio
hv_mmio_SRCS := $(TOP)/tests/unit/test_hv_mmio.c $(TOP)/hv/dev/mmiobus.c $(KLIB_HOSTED_SRCS)
hv_mmio_CFLAGS := -I$(TOP)/hv
