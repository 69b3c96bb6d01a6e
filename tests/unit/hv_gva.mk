UNIT_TESTS += hv_gva
hv_gva_SRCS := $(TOP)/tests/unit/test_hv_gva.c $(TOP)/hv/core/gva.c $(KLIB_HOSTED_SRCS)
hv_gva_CFLAGS := -I$(TOP)/hv
