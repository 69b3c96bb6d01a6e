# The QEMU monitor front-end's pure parts (mgmt/hmp), hosted: every source
# but the program's main and its control-protocol connection and backend.
UNIT_TESTS += mgmt_hmp
mgmt_hmp_SRCS := $(TOP)/tests/unit/test_mgmt_hmp.c \
    $(filter-out $(addprefix $(TOP)/mgmt/hmp/,main.c ctlback.c ctlconn.c), \
                 $(wildcard $(TOP)/mgmt/hmp/*.c))
