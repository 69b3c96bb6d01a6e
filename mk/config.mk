# Shared build settings, included by every component Makefile.
#
# Two kinds of code are built here:
#  - hosted: normal Linux programs and unit tests (imgtool, tests/unit);
#  - freestanding: bare-metal code with no libc (hv, guestkit), linked with klib.
# Code that needs no hardware (loaders, device models, parsers, qcow2) is written
# once and compiled both ways.

TOP   := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
BUILD ?= $(TOP)/build

CC      ?= gcc
LD      ?= ld
OBJCOPY ?= objcopy

WARN  := -Wall -Wextra -Werror
CSTD  := -std=gnu11

# Hosted programs and tests.
HOST_CFLAGS  := $(CSTD) $(WARN) -O2 -g -I$(TOP)/include -I$(TOP)/klib/include -MMD -MP

# Bare-metal x86-64 (hv and 64-bit guests): no libc, no red zone (interrupts
# and exits would clobber it), no SSE (we never save its state), no PIC.
FREE_CFLAGS := $(CSTD) $(WARN) -O2 -g -ffreestanding -fno-stack-protector -fno-pic -fno-pie \
               -fno-asynchronous-unwind-tables -mno-red-zone -mno-mmx -mno-sse -mno-sse2 \
               -mcmodel=small -nostdinc -isystem $(shell $(CC) -print-file-name=include) \
               -I$(TOP)/include -I$(TOP)/klib/include -DHVKIT_FREESTANDING -MMD -MP
FREE_LDFLAGS := -nostdlib -static -z max-page-size=0x1000 --no-warn-rwx-segments

# klib: the freestanding mini C library shared by hv and the guests.
KLIB_SRCS := $(TOP)/klib/string.c $(TOP)/klib/format.c
# The part of klib that is also compiled hosted (libc provides the rest).
KLIB_HOSTED_SRCS := $(TOP)/klib/format.c
# klib's JSON reader and writer (klib/include/json.h), for the control
# protocol: compiled into hv and, hosted, into the manager, the front-ends,
# the unit tests and the fuzz target; not into the guests, which have no use
# for it.
JSON_SRCS := $(TOP)/klib/json_read.c $(TOP)/klib/json_write.c
