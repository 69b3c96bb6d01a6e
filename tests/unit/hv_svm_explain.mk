UNIT_TESTS += hv_svm_explain
hv_svm_explain_SRCS := $(TOP)/tests/unit/test_hv_svm_explain.c $(TOP)/hv/svm/explain.c \
                       $(KLIB_HOSTED_SRCS)
hv_svm_explain_CFLAGS := -I$(TOP)/hv
