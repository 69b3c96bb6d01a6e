# The MMIO instruction emulator (hv/core/emu*.c), compiled hosted and checked
# against the CPU running the tests (tests/unit/emu_native.c executes each
# case natively).  x86-64 only, like hv.
UNIT_TESTS += hv_emu
hv_emu_SRCS := $(TOP)/tests/unit/test_hv_emu.c $(TOP)/tests/unit/emu_native.c \
               $(sort $(wildcard $(TOP)/hv/core/emu*.c)) $(KLIB_HOSTED_SRCS)
hv_emu_CFLAGS := -I$(TOP)/hv -I$(TOP)/tests/unit
