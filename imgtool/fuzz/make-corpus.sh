#!/usr/bin/env bash
# Seed corpus for fuzz_open: small images written by qemu-img in many
# option combinations (each a real, valid starting point for mutations).
set -eu
out=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# A little data: random, text and zeros, so images hold normal, compressed
# and zero clusters.
head -c 24k /dev/urandom >"$tmp/data"
yes corpus | head -c 24k >>"$tmp/data"
truncate -s 64k "$tmp/data"
n=0
seed() { # qemu-img create/convert options...
    n=$((n + 1))
    qemu-img convert -f raw -O qcow2 "$@" "$tmp/data" "$out/seed$n.qcow2" >/dev/null
}
seed -o cluster_size=512
seed -o cluster_size=512 -c
seed -o cluster_size=512,refcount_bits=1
seed -o cluster_size=512,refcount_bits=64
seed -o cluster_size=4096,compat=0.10
seed -o cluster_size=16k,extended_l2=on
seed -o cluster_size=4096,lazy_refcounts=on
seed -o cluster_size=4096,compression_type=zstd -c
# Backing file reference and an internal snapshot.
qemu-img create -f qcow2 -o cluster_size=512 -b base.img -F raw -u "$out/seed-backing.qcow2" 64k >/dev/null
qemu-img convert -f raw -O qcow2 -o cluster_size=512 "$tmp/data" "$out/seed-snap.qcow2"
qemu-img snapshot -c snap1 "$out/seed-snap.qcow2"
qemu-io -c "write -P 9 0 4k" -c "write -z 8k 4k" "$out/seed-snap.qcow2" >/dev/null
cp "$tmp/data" "$out/seed-raw.img"
# xz: a single-block raw image and a multi-block qcow2 image.
xz -c "$tmp/data" >"$out/seed-raw.img.xz"
xz -c --block-size=16KiB "$out/seed1.qcow2" >"$out/seed-qcow2.xz"
