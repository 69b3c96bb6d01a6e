# xl's configuration reader (mgmt/xl: the xl.cfg syntax, the disk
# specifications, the keys hvkit acts on) and its output formats, hosted.
UNIT_TESTS += mgmt_xl
mgmt_xl_SRCS := $(TOP)/tests/unit/test_mgmt_xl.c $(TOP)/mgmt/xl/cfg.c $(TOP)/mgmt/xl/disk.c \
    $(TOP)/mgmt/xl/domcfg.c $(TOP)/mgmt/xl/fmt.c $(TOP)/mgmt/xl/jsonout.c \
    $(TOP)/mgmt/common/text.c
