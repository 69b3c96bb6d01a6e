# hvkit top-level Makefile.
#
#   make         build everything (installs missing Debian packages first)
#   make run     boot the demo guest under hv, nested in QEMU
#   make test    build and run every test; ends with "N passed, N failed"
#   make docs    render the Graphviz diagrams in docs/
#   make clean   remove build/
#
# Each component has its own Makefile (hv/, guestkit/, imgtool/, tests/) that
# includes mk/config.mk and writes only below build/.

TOP   := $(CURDIR)
BUILD := $(TOP)/build
export BUILD

COMPONENTS := guestkit hv imgtool docs

.PHONY: all deps run test docs clean $(COMPONENTS) unit-tests check-format

all: deps
	@$(MAKE) --no-print-directory build-all

.PHONY: build-all
build-all: $(COMPONENTS)

deps:
	@bash mk/deps.sh build run

$(COMPONENTS):
	@$(MAKE) --no-print-directory -C $@

unit-tests: guestkit hv imgtool
	@$(MAKE) --no-print-directory -C tests

run: all
	@bin/hvrun -kernel build/guestkit/hello.elf -append "world"

test:
	@bash mk/deps.sh build run test iso bochs
	@$(MAKE) --no-print-directory build-all
	@$(MAKE) --no-print-directory unit-tests
	@bash tests/run

clean:
	rm -rf $(BUILD)
