# hv/dev's CD-ROM drive (ide_cd.c, atapi.c) on a port bus, driven as a
# guest's ATAPI driver drives it, over a medium in memory.
UNIT_TESTS += hv_cd
hv_cd_SRCS := $(TOP)/tests/unit/test_hv_cd.c $(TOP)/hv/dev/iobus.c $(TOP)/hv/dev/ide_cd.c \
              $(TOP)/hv/dev/atapi.c $(TOP)/hv/dev/atapi_disc.c $(KLIB_HOSTED_SRCS)
hv_cd_CFLAGS := -I$(TOP)/hv
