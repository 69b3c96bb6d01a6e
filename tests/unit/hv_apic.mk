UNIT_TESTS += hv_apic
hv_apic_SRCS := $(TOP)/tests/unit/test_hv_apic.c $(TOP)/hv/dev/lapic.c $(TOP)/hv/dev/lapic_timer.c \
                $(TOP)/hv/dev/lapic_msr.c $(TOP)/hv/dev/apic_ipi.c $(TOP)/hv/dev/ioapic.c $(KLIB_HOSTED_SRCS)
hv_apic_CFLAGS := -I$(TOP)/hv
