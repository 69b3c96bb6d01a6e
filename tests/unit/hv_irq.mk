UNIT_TESTS += hv_irq
hv_irq_SRCS := $(TOP)/tests/unit/test_hv_irq.c $(TOP)/hv/dev/iobus.c $(TOP)/hv/dev/pic8259.c \
               $(TOP)/hv/dev/pit8254.c $(KLIB_HOSTED_SRCS)
hv_irq_CFLAGS := -I$(TOP)/hv
