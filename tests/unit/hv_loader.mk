UNIT_TESTS += hv_loader
hv_loader_SRCS := $(TOP)/tests/unit/test_hv_loader.c $(TOP)/hv/loader/mbload.c $(TOP)/hv/core/memmap.c \
                  $(KLIB_HOSTED_SRCS)
hv_loader_CFLAGS := -I$(TOP)/hv
