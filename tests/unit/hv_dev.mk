UNIT_TESTS += hv_dev
hv_dev_SRCS := $(TOP)/tests/unit/test_hv_dev.c $(TOP)/hv/dev/iobus.c $(TOP)/hv/dev/uart16550.c \
               $(TOP)/hv/dev/debug_exit.c $(TOP)/hv/dev/fwcfg.c $(TOP)/hv/dev/port92.c \
               $(TOP)/hv/dev/acpi_pm.c $(TOP)/hv/dev/acpi_tables.c \
               $(KLIB_HOSTED_SRCS)
hv_dev_CFLAGS := -I$(TOP)/hv
