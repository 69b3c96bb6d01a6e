UNIT_TESTS += hv_core
hv_core_SRCS := $(TOP)/tests/unit/test_hv_core.c $(TOP)/hv/core/cmdline.c $(TOP)/hv/core/stats.c \
                $(TOP)/hv/core/cpuid.c $(TOP)/hv/core/msr.c $(TOP)/hv/core/cr.c $(TOP)/hv/core/xcr.c $(KLIB_HOSTED_SRCS)
hv_core_CFLAGS := -I$(TOP)/hv
