# The pure parts of hv's paravirtual interface (hv/core/pv.h): the
# hypercall page's layout (run on the CPU), the grant check, the console
# ring's consumer and the PV clock's scale, compiled hosted.
UNIT_TESTS += hv_pv
hv_pv_SRCS := $(TOP)/tests/unit/test_hv_pv.c $(TOP)/hv/core/pv_hcpage.c $(TOP)/hv/core/pv_grant.c \
              $(TOP)/hv/core/pv_console.c $(TOP)/hv/core/pv_clock.c $(KLIB_HOSTED_SRCS)
hv_pv_CFLAGS := -I$(TOP)/hv

# The PV block back-end (hv/core/pv_blk.c) over a qcow2 image in memory
# (imgtool's library hosted: IMGLIB_SRCS from imgtool.mk, included after
# this file, hence "="), with qemu-img's rules checked by img_check.
UNIT_TESTS += hv_pv_blk
hv_pv_blk_SRCS = $(TOP)/tests/unit/test_hv_pv_blk.c $(TOP)/tests/unit/test_img_util.c \
                 $(TOP)/hv/core/pv_blk.c $(TOP)/hv/core/pv_grant.c $(IMGLIB_SRCS) \
                 $(KLIB_HOSTED_SRCS)
hv_pv_blk_CFLAGS := -I$(TOP)/hv -I$(TOP)/tests/unit -I$(TOP)/imgtool/lib
hv_pv_blk_LIBS := -ldeflate -lisal -lz -llzma -lzstd
