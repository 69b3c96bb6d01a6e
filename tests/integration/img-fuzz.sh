#!/usr/bin/env bash
# Fuzz regression: build imgtool's libFuzzer target (imgtool/fuzz: opening
# and metadata parsing of qcow2, raw and .xz images, under ASan and UBSan)
# and run it for about FUZZ_SECONDS (15) from its seed corpus, which
# qemu-img generates at build time; fuzz.bash says what passes.
. "$(dirname "$0")/fuzz.bash"
fuzz_suite img-fuzz "$BUILD/imgtool/fuzz/fuzz_open" "$BUILD/imgtool/fuzz/corpus" 262144 \
    -C "$TOP/imgtool" fuzz
