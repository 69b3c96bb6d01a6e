# guestkit's hardware-free runtime code (command line splitting, Multiboot
# memory map walking), compiled hosted.
UNIT_TESTS += guestkit
guestkit_SRCS := $(TOP)/tests/unit/test_guestkit.c $(TOP)/guestkit/runtime/parse.c
guestkit_CFLAGS := -I$(TOP)/guestkit/include
