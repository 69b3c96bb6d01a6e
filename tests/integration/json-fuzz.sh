#!/usr/bin/env bash
# Fuzz regression for klib's JSON reader and writer (the control protocol's,
# klib/include/json.h): the libFuzzer target tests/fuzz/fuzz_json.c under
# ASan and UBSan for about FUZZ_SECONDS (15) from its seed corpus of
# protocol lines; fuzz.bash says what passes.
. "$(dirname "$0")/fuzz.bash"
fuzz_suite json-fuzz "$BUILD/tests/fuzz/fuzz_json" "$BUILD/tests/fuzz/corpus-json" 4096 -C "$TOP/tests/fuzz" json
