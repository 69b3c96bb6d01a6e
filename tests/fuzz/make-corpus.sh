#!/usr/bin/env bash
# Seed corpus for fuzz_emu: one input per form the emulator handles (and a
# few it refuses), in the input layout fuzz_emu.c describes: a control
# byte, then the instruction.  Registers are left zero (the fuzzer fills
# them in).
set -eu
out=$1
n=0
seed() { # control-byte instruction-bytes (hex, space separated)
    n=$((n + 1))
    local hex
    hex=$(printf '\\x%s' "$@")
    printf '%b' "$hex" >"$out/seed$n"
}
# 64-bit code (control 0x02): MOV store/load, imm, moffs, RIP-relative,
# SIB with REX, ALU, TEST, XCHG, MOVZX/MOVSX, BT, strings with REP.
seed 02 89 03
seed 02 48 8b 84 8b 44 33 22 11
seed 02 c7 05 10 00 00 00 78 56 34 12
seed 02 48 a1 00 10 00 00 00 00 00 00
seed 02 67 8b 04 25 00 20 00 00
seed 02 f0 48 83 0c 24 01
seed 02 66 85 43 08
seed 02 87 03
seed 02 0f b7 03
seed 02 48 63 03
seed 02 0f ba 2b 05
seed 02 f3 48 ab
seed 06 f3 a4
seed 02 64 8b 03
seed 0a ff 03
seed 02 0f ae 3b
# 32-bit (0x01) and 16-bit (0x00) code, with 66/67.
seed 01 89 44 8b 08
seed 01 26 82 45 08 01
seed 00 89 42 fe
seed 00 66 67 89 04 8b
seed 00 f3 ab
# Across a page: RIP 7 bytes below the end (bits 5-7), second page unmapped.
seed f2 48 c7 84 8b 44 33 22 11 78 56 34 12
