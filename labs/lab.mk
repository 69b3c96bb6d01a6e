# lab.mk: the rules every lab shares; a lab's Makefile sets three variables
# and includes this file:
#
#     LAB       := 01                     the number in its LAB NN: markers
#     LAB_PATHS := hv klib include ...    what the skeleton copies (top-relative)
#     include ../lab.mk
#
# and provides grade.sh (called as `grade.sh SRC OUT`: grade the tree SRC,
# building into OUT; one PASS/FAIL line per exercise, a score line, exit
# status 0 only when every exercise passes).
#
#   make skeleton          work/ = LAB_PATHS with the marked regions removed
#                          (refuses to overwrite an existing work/: FORCE=1)
#   make grade             build work/ and grade it
#   make reference-grade   build the untouched repository and grade it
#   make clean             remove this lab's build directory (not work/)

include $(dir $(lastword $(MAKEFILE_LIST)))../mk/config.mk

LAB_DIR   := $(abspath $(dir $(firstword $(MAKEFILE_LIST))))
LAB_NAME  := $(notdir $(LAB_DIR))
WORK      := $(LAB_DIR)/work
# Every lab builds into a directory of its own, so grading never touches
# (or is confused by) the main build/.
LAB_BUILD ?= $(BUILD)/labs/$(LAB_NAME)

.PHONY: skeleton grade reference-grade clean

skeleton:
	@if [ -e '$(WORK)' ] && [ -z '$(FORCE)' ]; then \
	    echo 'labs: $(WORK) already exists: it may hold your work.' >&2; \
	    echo 'labs: move it away, or run "make -C labs/$(LAB_NAME) skeleton FORCE=1" to replace it.' >&2; \
	    exit 1; \
	fi
	@bash $(TOP)/labs/tools/mkskeleton.sh $(LAB) '$(WORK)' $(LAB_PATHS)
	@echo 'labs: now edit $(WORK) and run "make -C labs/$(LAB_NAME) grade"'

grade:
	@if [ ! -d '$(WORK)' ]; then \
	    echo 'labs: no $(WORK) yet: run "make -C labs/$(LAB_NAME) skeleton" first.' >&2; \
	    exit 1; \
	fi
	@TOP='$(TOP)' bash '$(LAB_DIR)/grade.sh' '$(WORK)' '$(LAB_BUILD)/work'

reference-grade:
	@TOP='$(TOP)' bash '$(LAB_DIR)/grade.sh' '$(TOP)' '$(LAB_BUILD)/reference'

clean:
	rm -rf '$(LAB_BUILD)'
