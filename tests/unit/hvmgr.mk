# mgmt/hvmgr: the manager's routing and line framing over socket pairs.
UNIT_TESTS += hvmgr
hvmgr_SRCS := $(TOP)/tests/unit/test_hvmgr.c $(TOP)/mgmt/hvmgr/conn.c $(TOP)/mgmt/hvmgr/relay.c \
              $(TOP)/mgmt/hvmgr/stage.c $(TOP)/mgmt/hvmgr/stagesave.c $(TOP)/mgmt/hvmgr/console.c \
              $(TOP)/mgmt/hvmgr/stage_media.c $(TOP)/mgmt/hvmgr/stage_disk.c \
              $(TOP)/mgmt/hvmgr/stage_commit.c $(TOP)/mgmt/hvmgr/machine.c \
              $(TOP)/hv/disk/diskio.c \
              $(TOP)/mgmt/hvmgr/stagemem.c $(TOP)/mgmt/hvmgr/stageout.c \
              $(JSON_SRCS) $(KLIB_HOSTED_SRCS)
hvmgr_CFLAGS := -I$(TOP)/mgmt -I$(TOP)/hv -I$(TOP)/imgtool/lib
