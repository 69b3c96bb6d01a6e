#!/usr/bin/env bash
# Seed corpus for fuzz_json: control-protocol lines of every kind
# (docs/control-protocol.md), so the fuzzer starts from the texts hv and
# the manager really read.
set -eu
out=$1
n=0
seed() {
    n=$((n + 1))
    printf '%s' "$1" >"$out/seed$n"
}
seed '{"execute": "query-status", "arguments": {"domain": 0}, "id": 1}'
seed '{"execute": "x-read-memory", "arguments": {"addr": 18446744073709551615, "size": 4096, "physical": true}, "id": "a\"b"}'
seed '{"return": {"status": "running", "running": true, "singlestep": false}, "id": [1, null]}'
seed '{"error": {"class": "GenericError", "desc": "JSON parse error: \u0041\n"}}'
seed '{"event": "STOP", "data": {"domain": 0}, "timestamp": {"seconds": 1, "microseconds": -0}}'
seed '{"execute": "x-read-memory", "arguments": {"domain": 1, "addr": 4092, "size": 16}}'
seed '{"execute": "x-read-memory", "arguments": {"domain": 1, "addr": 0, "size": 4096, "physical": false}}'
seed '{"execute": "x-query-registers", "arguments": {"domain": 1, "cpu": 0}, "id": {"a": 1}}'
seed '{"execute": "stop", "arguments": {"domain": 1}}'
seed '{"execute": "quit"}'
seed '{"execute": "system_powerdown", "arguments": {"domain": 0}}'
seed '{"execute": "query-domains", "id": "x"}'
seed '{"execute": "x-console-write", "arguments": {"domain": 1, "data": "68656c6c6f0d0a1d00ff"}}'
seed '[1.5e-3, -0, true, false, null, "", {}, [[[]]]]'
seed '{"hvkit": {"version": {"major": 0, "minor": 1}, "package": "hvkit 0.1", "protocol": 1, "domains": 1}}'
