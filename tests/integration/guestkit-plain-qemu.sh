#!/usr/bin/env bash
# guestkit's own check: every guest of guestkit/tests/guests.list on plain
# QEMU (no hv).  The logic lives with the guests, in tests/guests/plain-qemu.sh.
exec bash "$(dirname "$0")/../guests/plain-qemu.sh"
