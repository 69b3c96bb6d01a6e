# hv/core/domain.c: a domain's set-up (console and exit port on its port
# bus, vCPUs) and its run-state changes, compiled hosted.
UNIT_TESTS += hv_domain
hv_domain_SRCS := $(TOP)/tests/unit/test_hv_domain.c $(TOP)/hv/core/domain.c \
                  $(TOP)/hv/dev/iobus.c $(TOP)/hv/dev/uart16550.c $(TOP)/hv/dev/debug_exit.c \
                  $(TOP)/hv/dev/mmiobus.c $(TOP)/hv/core/memmap.c \
                  $(KLIB_HOSTED_SRCS)
hv_domain_CFLAGS := -I$(TOP)/hv
