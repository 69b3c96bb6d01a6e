#!/usr/bin/env bash
# Fuzz regression for hv's MMIO instruction emulator: its libFuzzer target
# (tests/fuzz: hv/core/emu*.c under ASan and UBSan, with callbacks that
# check every promise emu.h makes) for about FUZZ_SECONDS (15) from its seed
# corpus; fuzz.bash says what passes.
. "$(dirname "$0")/fuzz.bash"
fuzz_suite emu-fuzz "$BUILD/tests/fuzz/fuzz_emu" "$BUILD/tests/fuzz/corpus" 256 -C "$TOP/tests/fuzz"
