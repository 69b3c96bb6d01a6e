# hv/vmx pure code, compiled hosted: the control-settings arithmetic
# (ctls.c), the Multiboot entry state (gstate.c) and the VM-entry failure
# explainer (explain.c, SDM Vol. 3C 27.2 "Checks on VMX Controls and Host-State
# Area" / 27.3.1 "Checks on the Guest State Area" / 31.4 "VM Instruction Error
# Numbers").
UNIT_TESTS += hv_vmx_explain
hv_vmx_explain_SRCS := $(TOP)/tests/unit/test_hv_vmx_explain.c $(TOP)/hv/vmx/explain.c \
	$(TOP)/hv/vmx/ctls.c $(TOP)/hv/vmx/gstate.c $(KLIB_HOSTED_SRCS)
hv_vmx_explain_CFLAGS := -I$(TOP)/hv/vmx
