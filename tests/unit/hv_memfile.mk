UNIT_TESTS += hv_memfile
hv_memfile_SRCS := $(TOP)/tests/unit/test_hv_memfile.c $(TOP)/hv/core/memfile.c \
                   $(TOP)/hv/core/gva.c $(KLIB_HOSTED_SRCS)
hv_memfile_CFLAGS := -I$(TOP)/hv -I$(TOP)/imgtool/lib
