#!/usr/bin/env bash
# Fuzz regression for hv's control-protocol dispatcher (hv/core/ctl*.c):
# the libFuzzer target tests/fuzz/fuzz_ctl.c, one request line per input
# against two real domains with guest RAM and page tables, under ASan and
# UBSan, for about FUZZ_SECONDS (15) from the protocol's seed lines; every
# reply must be one JSON object with "return" or "error".  fuzz.bash says
# what passes.
. "$(dirname "$0")/fuzz.bash"
fuzz_suite ctl-fuzz "$BUILD/tests/fuzz/fuzz_ctl" "$BUILD/tests/fuzz/corpus-json" 4096 -C "$TOP/tests/fuzz" ctl
