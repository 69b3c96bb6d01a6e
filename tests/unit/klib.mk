UNIT_TESTS += klib
klib_SRCS := $(TOP)/tests/unit/test_klib.c $(KLIB_HOSTED_SRCS)
