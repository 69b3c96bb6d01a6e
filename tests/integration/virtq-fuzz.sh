#!/usr/bin/env bash
# Fuzz regression for hv's split virtqueues: the libFuzzer target
# tests/fuzz/fuzz_virtq.c (hv/dev/virtio/virtq.c under ASan and UBSan, with
# a guest RAM block of exact size and checks of every promise virtq.h makes
# about the chains it hands out) for about FUZZ_SECONDS (15) from its seed
# corpus; fuzz.bash says what passes.
. "$(dirname "$0")/fuzz.bash"
fuzz_suite virtq-fuzz "$BUILD/tests/fuzz/fuzz_virtq" "$BUILD/tests/fuzz/corpus-virtq" 8200 -C "$TOP/tests/fuzz"
