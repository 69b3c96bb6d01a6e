# hv/disk's image file on an outer disk (diskio.c) over a memory disk, and
# imgtool's library (hosted) writing a qcow2 image through it, which
# qemu-img then checks.  IMGLIB_SRCS comes from imgtool.mk, included after
# this file: hence "=".
UNIT_TESTS += hv_disk
hv_disk_SRCS = $(TOP)/tests/unit/test_hv_disk.c $(TOP)/hv/disk/diskio.c $(IMGLIB_SRCS) \
               $(KLIB_HOSTED_SRCS)
hv_disk_CFLAGS := -I$(TOP)/hv -I$(TOP)/imgtool/lib
hv_disk_LIBS := -ldeflate -lisal -lz -llzma -lzstd
