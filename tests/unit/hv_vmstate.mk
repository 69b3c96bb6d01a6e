# hvkit's vmstate, hosted: the framing (hv/core/vms.c), the whole-domain
# save and two-pass load (vms_domain.c), the CPU section (cpustate.c) and
# the device models' serialisers with the models themselves.
UNIT_TESTS += hv_vmstate
hv_vmstate_SRCS := $(TOP)/tests/unit/test_hv_vmstate.c $(TOP)/hv/core/vms.c \
                   $(TOP)/hv/core/vms_domain.c $(TOP)/hv/core/vms_config.c $(TOP)/hv/core/cpustate.c $(TOP)/hv/core/domain.c \
                   $(TOP)/hv/core/memmap.c $(TOP)/hv/core/pv_state.c $(TOP)/hv/core/pv_grant.c \
                   $(TOP)/hv/dev/pc_state.c $(TOP)/hv/dev/apic_state.c \
                   $(TOP)/hv/dev/cd_state.c $(TOP)/hv/dev/ide_cd.c $(TOP)/hv/dev/atapi.c $(TOP)/hv/dev/atapi_disc.c \
                   $(TOP)/hv/dev/virtio/virtio_state.c $(TOP)/hv/dev/iobus.c \
                   $(TOP)/hv/dev/mmiobus.c $(TOP)/hv/dev/uart16550.c $(TOP)/hv/dev/debug_exit.c \
                   $(TOP)/hv/dev/pic8259.c $(TOP)/hv/dev/pit8254.c $(TOP)/hv/dev/ioapic.c \
                   $(TOP)/hv/dev/lapic.c $(TOP)/hv/dev/lapic_timer.c $(TOP)/hv/dev/lapic_msr.c \
                   $(TOP)/hv/dev/fwcfg.c $(TOP)/hv/dev/port92.c \
                   $(TOP)/hv/dev/virtio/virtio_mmio.c $(TOP)/hv/dev/virtio/virtq.c \
                   $(TOP)/hv/dev/virtio/console.c $(KLIB_HOSTED_SRCS)
hv_vmstate_CFLAGS := -I$(TOP)/hv
hv_vmstate_LIBS := -lz
