# hv/svm/cpustate.c, hosted: the whole architectural state into a VMCB
# (plain memory under SVM) and back out.
UNIT_TESTS += hv_svm_cpustate
hv_svm_cpustate_SRCS := $(TOP)/tests/unit/test_hv_svm_cpustate.c $(TOP)/hv/svm/cpustate.c $(TOP)/hv/svm/nmi.c \
                        $(KLIB_HOSTED_SRCS)
hv_svm_cpustate_CFLAGS := -I$(TOP)/hv
