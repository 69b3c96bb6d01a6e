# hv/dev/virtio/virtq.c alone: the device's half of a split virtqueue,
# called directly on queues in the harness's guest RAM (no transport), one
# test case for the chains and one for the used ring and interrupts, so
# that labs/03-virtio can grade its exercises apart.  virtio_harness.c
# refers to the transport, hence virtio_mmio.c.
UNIT_TESTS += hv_virtq
hv_virtq_SRCS := $(TOP)/tests/unit/test_hv_virtq.c $(TOP)/tests/unit/virtio_harness.c \
                 $(TOP)/hv/dev/virtio/virtio_mmio.c $(TOP)/hv/dev/virtio/virtq.c \
                 $(KLIB_HOSTED_SRCS)
hv_virtq_CFLAGS := -I$(TOP)/hv -I$(TOP)/tests/unit
