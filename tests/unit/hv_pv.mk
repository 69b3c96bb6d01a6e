# The pure parts of hv's paravirtual interface (hv/core/pv.h): the
# hypercall page's layout (run on the CPU), the grant check, the console
# ring's consumer and the PV clock's scale, compiled hosted.
UNIT_TESTS += hv_pv
hv_pv_SRCS := $(TOP)/tests/unit/test_hv_pv.c $(TOP)/hv/core/pv_hcpage.c $(TOP)/hv/core/pv_grant.c \
              $(TOP)/hv/core/pv_console.c $(TOP)/hv/core/pv_clock.c $(KLIB_HOSTED_SRCS)
hv_pv_CFLAGS := -I$(TOP)/hv
