# guestkit's split virtqueue (driver side) and the virtio-mmio command-line
# parser, compiled hosted; the test plays the device.
UNIT_TESTS += guestkit_virtq
guestkit_virtq_SRCS := $(TOP)/tests/unit/test_guestkit_virtq.c $(TOP)/guestkit/runtime/virtq.c \
                       $(TOP)/guestkit/runtime/parse.c
guestkit_virtq_CFLAGS := -I$(TOP)/guestkit/include
