# hvkit top-level Makefile.
#
#   make         build everything (installs missing Debian packages first)
#   make run     boot the demo guest under hv, nested in QEMU
#   make test    build and run every test; ends with "N passed, N failed"
#   make docs    render the Graphviz diagrams in docs/
#   make iso     a bootable GRUB ISO of hv with the demo guest (build/hvkit-demo.iso)
#   make clean   remove build/
#
# Each component has its own Makefile (hv/, guestkit/, imgtool/, mgmt/, tests/) that
# includes mk/config.mk and writes only below build/.

TOP   := $(CURDIR)
BUILD := $(TOP)/build
export BUILD

COMPONENTS := guestkit hv imgtool mgmt docs

.PHONY: all deps run test docs iso clean $(COMPONENTS) unit-tests

all: deps
	@$(MAKE) --no-print-directory build-all

.PHONY: build-all
build-all: $(COMPONENTS)

deps:
	@bash mk/deps.sh build run

$(COMPONENTS):
	@$(MAKE) --no-print-directory -C $@

# The management front-ends link imgtool's library.
mgmt: imgtool

unit-tests: guestkit hv imgtool
	@$(MAKE) --no-print-directory -C tests

run: all
	@bin/hvrun -kernel build/guestkit/hello.elf -append "world"

test:
	@bash mk/deps.sh build run test iso bochs fuzz
	@$(MAKE) --no-print-directory build-all
	@$(MAKE) --no-print-directory unit-tests
	@bash tests/run

iso: all
	@bash mk/deps.sh iso
	@bash mk/iso/mkiso.sh build/hv/hv.elf build/guestkit/hello.elf "world" "" $(BUILD)/hvkit-demo.iso
	@echo "hvkit: wrote build/hvkit-demo.iso"

clean:
	rm -rf $(BUILD)
