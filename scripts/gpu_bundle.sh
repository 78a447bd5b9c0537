#!/usr/bin/env bash
# Packs what scripts/gpu_check.sh runs on a lent GPU machine (docs/gpu-notes.md, "Start here"):
# the stripped statemix, statemix_tests and statemix_peer_cudnn of build/, plus the shared
# libraries the device image lacks (Debian's oneDNN, for the CPU dense ops, and its OpenCL
# loader), as one solid archive .gpu/bundle.tar.xz (the binaries share most of their bytes:
# 34 MiB on 2026-12-04, where one .xz per file was 56 MiB; the device tool carries 64 MiB in all,
# the working tree included). With --tune BUCKETS..., also a CUDA tuner bundle of those buckets
# for m = 1, 2, 4 of both scans, as .gpu/tune.tar.xz (gpu_check.sh's `tune` step runs it).
# xz -9e takes 4-6 minutes here (6 on 2026-12-07, 27 MiB): run this before asking for the device.
# Usage: bash scripts/gpu_bundle.sh [--tune mid narrow]
# Then, with the device tool: run(command="bash scripts/gpu_check.sh", carry=[".gpu"], timeout_s=480)
set -euo pipefail
cd "$(dirname "$0")/.."
tune_buckets=()
if [ "${1:-}" = "--tune" ]; then
  shift
  tune_buckets=("$@")
  [ ${#tune_buckets[@]} -gt 0 ] || { echo "gpu_bundle.sh: --tune needs bucket names (wide, mid, narrow)" >&2; exit 2; }
elif [ $# -gt 0 ]; then
  echo "gpu_bundle.sh: unknown argument '$1' (expected: --tune BUCKET...)" >&2
  exit 2
fi
for f in build/tools/statemix build/tests/statemix_tests build/tools/statemix_peer_cudnn; do
  [ -x "$f" ] || { echo "gpu_bundle.sh: $f is missing: build first (bash scripts/build.sh)" >&2; exit 1; }
done
libs=()
for lib in libdnnl.so.2 libOpenCL.so.1; do
  path=$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64/ {print $NF; exit}')
  [ -n "$path" ] || { echo "gpu_bundle.sh: $lib not found (ldconfig -p)" >&2; exit 1; }
  libs+=("$path")
done
mkdir -p .gpu
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo /.gpu/ >> .git/info/exclude
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
strip -o "$stage/statemix" build/tools/statemix
strip -o "$stage/statemix_tests" build/tests/statemix_tests
strip -o "$stage/statemix_peer_cudnn" build/tools/statemix_peer_cudnn
for path in "${libs[@]}"; do cp -L "$path" "$stage/"; done
(cd "$stage" && tar cf - statemix statemix_tests statemix_peer_cudnn libdnnl.so.2 libOpenCL.so.1 |
  xz -9e --lzma2=preset=9e,dict=256MiB -T1 > bundle.tar.xz)
mv "$stage/bundle.tar.xz" .gpu/bundle.tar.xz
rm -f .gpu/tune.tar.xz
if [ ${#tune_buckets[@]} -gt 0 ]; then
  build/tools/statemix_tune bundle --device cuda --layers bdlru hlru --orders 1 2 4 \
    --buckets "${tune_buckets[@]}" --out "$stage/tune"
  (cd "$stage" && tar cf - tune | xz -9e -T1 > tune.tar.xz)
  mv "$stage/tune.tar.xz" .gpu/tune.tar.xz
fi
total=$(du -cm .gpu/*.tar.xz | tail -1 | cut -f1)
tree=$(git ls-files -z | du -cm --files0-from=- | tail -1 | cut -f1)
echo "gpu_bundle.sh: .gpu holds ${total} MiB ($(ls .gpu)); the working tree ${tree} MiB; the device tool carries 64 MiB in all"
if [ $((total + tree)) -gt 60 ]; then
  echo "gpu_bundle.sh: over 60 MiB with the tree: leave out the tuner bundle or statemix_peer_cudnn" >&2
  exit 1
fi
