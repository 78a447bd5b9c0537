#!/usr/bin/env bash
# The prepared device-machine run (see docs/gpu-notes.md): binaries built on the dev machine
# travel in .gpu/ (carried), then: CUDA tests, then the GPU benchmark at the shape.
# Writes logs and JSON under $OUT. Usage on the device: bash scripts/gpu_check.sh
set -uo pipefail
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv | tee "$OUT/gpu.txt"
ldd .gpu/statemix | grep -i "not found" && echo "missing libraries" | tee -a "$OUT/gpu.txt"
timeout 240 .gpu/statemix_tests --gtest_filter='*Cuda*' --gtest_brief=1 2>&1 | tail -25 | tee "$OUT/cuda_tests.log"
timeout 300 .gpu/statemix bench --devices cuda --batch 16 --seq 2048 --width 1024 --reps 10 --no-reference \
  --json "$OUT/gpu_bench_B16.json" 2>&1 | tee "$OUT/gpu_bench_B16.log" | tail -70
