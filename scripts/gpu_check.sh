#!/usr/bin/env bash
# The prepared device-machine run (see docs/gpu-notes.md): binaries built on the dev machine
# travel in .gpu/ (carried), then: CUDA tests, then the GPU benchmark at the shape.
# Writes logs and JSON under $OUT. Usage on the device: bash scripts/gpu_check.sh
set -uo pipefail
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
for f in statemix statemix_tests; do
  xz -dkf .gpu/$f.xz 2>/dev/null || python3 -c "import lzma,sys; open(sys.argv[2],'wb').write(lzma.open(sys.argv[1]).read())" .gpu/$f.xz .gpu/$f
  chmod +x .gpu/$f
done
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv | tee "$OUT/gpu.txt"
ldd .gpu/statemix | grep -i "not found" && echo "missing libraries" | tee -a "$OUT/gpu.txt"
timeout 150 .gpu/statemix_tests --gtest_filter='*Cuda*' --gtest_brief=1 2>&1 | tail -25 | tee "$OUT/cuda_tests.log"
timeout 330 .gpu/statemix bench --devices cuda --batch 16 --seq 2048 --width 1024 --reps 5 --no-reference \
  --json "$OUT/gpu_bench_B16.json" 2>&1 | tee "$OUT/gpu_bench_B16.log" | tail -70
