# hv/core/sched.c: the scheduler's decisions (round-robin pick, deadlines,
# CPU time in nanoseconds), compiled hosted.
UNIT_TESTS += hv_sched
hv_sched_SRCS := $(TOP)/tests/unit/test_hv_sched.c $(TOP)/hv/core/sched.c \
                 $(TOP)/hv/core/domain.c $(TOP)/hv/dev/iobus.c $(TOP)/hv/dev/uart16550.c \
                 $(TOP)/hv/dev/debug_exit.c $(TOP)/hv/dev/mmiobus.c $(TOP)/hv/core/memmap.c \
                 $(KLIB_HOSTED_SRCS)
hv_sched_CFLAGS := -I$(TOP)/hv
