# The front-ends' save image (mgmt/common/saveimage.c): the header in
# front of a saved state, hosted, with the vmstate's CRC-32 (hv/core/vms.c).
UNIT_TESTS += mgmt_saveimage
mgmt_saveimage_SRCS := $(TOP)/tests/unit/test_mgmt_saveimage.c $(TOP)/mgmt/common/saveimage.c \
    $(TOP)/hv/core/vms.c $(KLIB_HOSTED_SRCS)
