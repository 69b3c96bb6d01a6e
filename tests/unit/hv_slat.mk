# The second-level table builder (hv/core/slat.c) with both backends' entry
# formats (hv/svm/paging.c, hv/vmx/paging.c), and the guest-physical memory
# map (hv/core/memmap.c), compiled hosted.
UNIT_TESTS += hv_slat
hv_slat_SRCS := $(TOP)/tests/unit/test_hv_slat.c $(TOP)/hv/core/slat.c $(TOP)/hv/core/slatdot.c \
                $(TOP)/hv/core/memmap.c $(TOP)/hv/svm/paging.c $(TOP)/hv/vmx/paging.c \
                $(KLIB_HOSTED_SRCS)
hv_slat_CFLAGS := -I$(TOP)/hv
UNIT_TESTS += hv_memmap
hv_memmap_SRCS := $(TOP)/tests/unit/test_hv_memmap.c $(TOP)/hv/core/memmap.c $(KLIB_HOSTED_SRCS)
hv_memmap_CFLAGS := -I$(TOP)/hv
UNIT_TESTS += hv_dirty
hv_dirty_SRCS := $(TOP)/tests/unit/test_hv_dirty.c $(TOP)/hv/core/dirty.c $(TOP)/hv/core/slat.c \
                 $(TOP)/hv/core/memmap.c $(TOP)/hv/svm/paging.c $(TOP)/hv/vmx/paging.c \
                 $(KLIB_HOSTED_SRCS)
hv_dirty_CFLAGS := -I$(TOP)/hv
UNIT_TESTS += hv_guestmem
hv_guestmem_SRCS := $(TOP)/tests/unit/test_hv_guestmem.c $(TOP)/hv/core/guestmem.c \
                    $(TOP)/hv/core/dirty.c $(TOP)/hv/core/slat.c $(TOP)/hv/core/memmap.c \
                    $(TOP)/hv/svm/paging.c $(TOP)/hv/vmx/paging.c $(KLIB_HOSTED_SRCS)
hv_guestmem_CFLAGS := -I$(TOP)/hv
