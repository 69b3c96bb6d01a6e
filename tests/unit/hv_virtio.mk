# hv/dev/virtio: the virtio-mmio transport and split virtqueues, compiled
# hosted, with a test driver (virtio_harness.c) and hostile drivers.
VIRTIO_CORE_SRCS := $(TOP)/hv/dev/virtio/virtio_mmio.c $(TOP)/hv/dev/virtio/virtq.c

UNIT_TESTS += hv_virtio
hv_virtio_SRCS := $(TOP)/tests/unit/test_hv_virtio.c $(TOP)/tests/unit/virtio_harness.c \
                  $(VIRTIO_CORE_SRCS) $(KLIB_HOSTED_SRCS)
hv_virtio_CFLAGS := -I$(TOP)/hv -I$(TOP)/tests/unit

# The devices (console, blk) over the transport; blk's disk is imgtool's
# library, hosted (IMGLIB_SRCS from imgtool.mk, included after this file:
# hence "=" rather than ":="), with its memory images.
UNIT_TESTS += hv_virtio_dev
hv_virtio_dev_SRCS = $(TOP)/tests/unit/test_hv_virtio_dev.c $(TOP)/tests/unit/virtio_harness.c \
                      $(TOP)/tests/unit/test_img_util.c $(VIRTIO_CORE_SRCS) \
                      $(TOP)/hv/dev/virtio/console.c $(TOP)/hv/dev/virtio/blk.c \
                      $(TOP)/hv/dev/blkacct.c \
                      $(IMGLIB_SRCS) $(KLIB_HOSTED_SRCS)
hv_virtio_dev_CFLAGS := -I$(TOP)/hv -I$(TOP)/tests/unit -I$(TOP)/imgtool/lib
hv_virtio_dev_LIBS := -ldeflate -lisal -lz -llzma -lzstd

# hv's DEFLATE decoder (compressed qcow2 clusters in hv), zlib the oracle.
UNIT_TESTS += hv_inflate
hv_inflate_SRCS := $(TOP)/tests/unit/test_hv_inflate.c $(TOP)/hv/core/inflate.c $(KLIB_HOSTED_SRCS)
hv_inflate_CFLAGS := -I$(TOP)/hv
hv_inflate_LIBS := -lz
