# Unit tests of the imgtool library (hosted build of imgtool/lib).
IMGLIB_SRCS := $(sort $(wildcard $(TOP)/imgtool/lib/*.c) $(wildcard $(TOP)/imgtool/lib/hosted/*.c))

UNIT_TESTS += img_basic
img_basic_SRCS := $(TOP)/tests/unit/test_img_basic.c $(TOP)/tests/unit/test_img_util.c \
                  $(IMGLIB_SRCS) $(KLIB_HOSTED_SRCS)
img_basic_CFLAGS := -I$(TOP)/imgtool/lib -I$(TOP)/tests/unit
img_basic_LIBS := -ldeflate -lisal -lz -llzma -lzstd

UNIT_TESTS += img_features
img_features_SRCS := $(TOP)/tests/unit/test_img_features.c $(TOP)/tests/unit/test_img_util.c \
                     $(IMGLIB_SRCS) $(KLIB_HOSTED_SRCS)
img_features_CFLAGS := -I$(TOP)/imgtool/lib -I$(TOP)/tests/unit
img_features_LIBS := -ldeflate -lisal -lz -llzma -lzstd

UNIT_TESTS += img_interop
img_interop_SRCS := $(TOP)/tests/unit/test_img_interop.c $(TOP)/tests/unit/test_img_util.c \
                    $(IMGLIB_SRCS) $(KLIB_HOSTED_SRCS)
img_interop_CFLAGS := -I$(TOP)/imgtool/lib -I$(TOP)/tests/unit
img_interop_LIBS := -ldeflate -lisal -lz -llzma -lzstd

UNIT_TESTS += img_crash
img_crash_SRCS := $(TOP)/tests/unit/test_img_crash.c $(TOP)/tests/unit/test_img_util.c \
                  $(IMGLIB_SRCS) $(KLIB_HOSTED_SRCS)
img_crash_CFLAGS := -I$(TOP)/imgtool/lib -I$(TOP)/tests/unit
img_crash_LIBS := -ldeflate -lisal -lz -llzma -lzstd
