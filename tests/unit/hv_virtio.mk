# hv/dev/virtio: the virtio-mmio transport and split virtqueues, compiled
# hosted, with a test driver (virtio_harness.c) and hostile drivers.
VIRTIO_CORE_SRCS := $(TOP)/hv/dev/virtio/virtio_mmio.c $(TOP)/hv/dev/virtio/virtq.c

UNIT_TESTS += hv_virtio
hv_virtio_SRCS := $(TOP)/tests/unit/test_hv_virtio.c $(TOP)/tests/unit/virtio_harness.c \
                  $(VIRTIO_CORE_SRCS) $(KLIB_HOSTED_SRCS)
hv_virtio_CFLAGS := -I$(TOP)/hv -I$(TOP)/tests/unit
