# The QEMU monitor front-end's pure parts (mgmt/hmp), hosted: every source
# but the program's main and its control-protocol connection and backend.
UNIT_TESTS += mgmt_hmp
mgmt_hmp_SRCS := $(TOP)/tests/unit/test_mgmt_hmp.c \
    $(filter-out $(addprefix $(TOP)/mgmt/hmp/,main.c ctlback.c ctlconn.c), \
                 $(wildcard $(TOP)/mgmt/hmp/*.c))
# `info snapshots` prints its table with imgtool's img_snapshot_line
# (imgtool/lib/hosted/qemu_text.c, shared with qemu-img's snapshot -l).
mgmt_hmp_SRCS += $(TOP)/imgtool/lib/hosted/qemu_text.c
# The files the monitor writes are guarded (mgmt/common/guard.c).
mgmt_hmp_SRCS += $(TOP)/mgmt/common/guard.c
mgmt_hmp_CFLAGS := -I$(TOP)/imgtool/lib
mgmt_hmp_LIBS := -lm
