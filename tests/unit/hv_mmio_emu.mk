# The MMIO emulator on a vCPU (hv/core/mmio_emu.c): instruction fetch and
# operands through the guest's page tables, the domain's memory map, RAM and
# MMIO bus, compiled hosted.
UNIT_TESTS += hv_mmio_emu
hv_mmio_emu_SRCS := $(TOP)/tests/unit/test_hv_mmio_emu.c $(TOP)/hv/core/mmio_emu.c \
                    $(sort $(wildcard $(TOP)/hv/core/emu*.c)) $(TOP)/hv/core/gva.c \
                    $(TOP)/hv/core/memmap.c $(TOP)/hv/dev/mmiobus.c $(KLIB_HOSTED_SRCS)
hv_mmio_emu_CFLAGS := -I$(TOP)/hv
