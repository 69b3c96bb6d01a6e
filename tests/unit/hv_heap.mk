# hv/core/heap.c: the allocator with free behind page_alloc/kmalloc,
# compiled hosted over a malloc'ed arena.
UNIT_TESTS += hv_heap
hv_heap_SRCS := $(TOP)/tests/unit/test_hv_heap.c $(TOP)/hv/core/heap.c $(KLIB_HOSTED_SRCS)
hv_heap_CFLAGS := -I$(TOP)/hv
