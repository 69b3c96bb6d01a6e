# hv/core/teardown.c: a stopped domain gives its vCPUs' structures, its
# device models' memory, its second-level tables, dirty bitmaps and RAM back
# to a heap (hv/core/heap.c), compiled hosted.
UNIT_TESTS += hv_teardown
hv_teardown_SRCS := $(TOP)/tests/unit/test_hv_teardown.c $(TOP)/hv/core/teardown.c \
                    $(TOP)/hv/core/domain.c $(TOP)/hv/core/heap.c $(TOP)/hv/core/guestmem.c \
                    $(TOP)/hv/core/dirty.c $(TOP)/hv/core/slat.c $(TOP)/hv/core/memmap.c \
                    $(TOP)/hv/svm/paging.c $(TOP)/hv/vmx/paging.c $(TOP)/hv/dev/iobus.c \
                    $(TOP)/hv/dev/uart16550.c $(TOP)/hv/dev/debug_exit.c \
                    $(TOP)/hv/dev/mmiobus.c $(KLIB_HOSTED_SRCS)
hv_teardown_CFLAGS := -I$(TOP)/hv
