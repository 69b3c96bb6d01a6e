#!/usr/bin/env bash
# Seed corpus for fuzz_virtq: a few well-formed queues in the input layout
# fuzz_virtq.c describes (QueueNum, flags, then guest RAM with the
# descriptor table at 0, the available ring at 0x1000, the used ring at
# 0x1400), so the fuzzer starts from chains the device accepts.
set -eu
out=$1
# le16 / le32 / le64 VALUE: the value's little-endian bytes as \x escapes.
le() {
    local v=$1 n=$2 s='' i
    for ((i = 0; i < n; i++)); do
        s+=$(printf '\\x%02x' $(((v >> (8 * i)) & 255)))
    done
    printf '%s' "$s"
}
# desc ADDR LEN FLAGS NEXT: one 16-byte descriptor.
desc() { printf '%s%s%s%s' "$(le "$1" 8)" "$(le "$2" 4)" "$(le "$3" 2)" "$(le "$4" 2)"; }
# seed NAME QSIZE FLAGS TABLE-ESCAPES HEADS...: the table at 0, the given
# heads on the available ring, zeros elsewhere up to 0x1400.
seed() {
    local name=$1 qsize=$2 flags=$3 table=$4 f=$out/$1
    shift 4
    {
        printf '%b' "$(le "$qsize" 2)$(printf '\\x%02x' "$flags")"
        printf '%b' "$table"
    } >"$f"
    local len
    len=$(stat -c %s "$f")
    # Pad to the available ring at guest 0x1000 (file offset 3 + 0x1000).
    head -c $((3 + 0x1000 - len)) /dev/zero >>"$f"
    local ring="$(le 0 2)$(le $# 2)" h
    for h in "$@"; do ring+=$(le "$h" 2); done
    printf '%b' "$ring" >>"$f"
}
# One readable and one writable piece, heads 0 and 2.
seed two-piece 8 0x10 "$(desc 0x1800 16 1 1)$(desc 0x1900 64 2 0)$(desc 0x1810 8 0 0)" 0 2
# Descriptor 0 points at an indirect table of three pieces at guest 0x100
# (past the 8-entry table, so 15 empty descriptors come first).
zeros=''
for _ in $(seq 15); do zeros+=$(desc 0 0 0 0); done
seed indirect 8 0x02 "$(desc 0x100 48 4 0)$zeros$(desc 0x1800 16 1 1)$(desc 0x1810 8 1 2)$(desc 0x1900 32 2 0)" 0
# Event indexes, four chains.
seed event-idx 16 0x31 "$(desc 0x1a00 4 0 0)$(desc 0x1a04 4 0 0)$(desc 0x1a08 4 2 0)" 0 1 2 0
# A loop, for the fuzzer to vary.
seed loop 4 0x00 "$(desc 0x1800 4 1 1)$(desc 0x1800 4 1 0)" 0
