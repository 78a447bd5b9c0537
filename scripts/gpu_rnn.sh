#!/usr/bin/env bash
# Device-machine run for the nonlinear cores (issue #3): the CUDA tests (incl. the persistent
# forward against the float64 reference), the RNN benchmark with cuDNN side by side
# (scripts/gpu_check.sh rnn), and `statemix tune` of the persistent forward at the issue's shapes
# and at larger batches. Binaries come from .gpu/ (built on the dev machine, carried).
# Everything lands in $OUT/gpu_rnn_run.tgz (the device tool returns at most 8 files).
# Usage on the device: bash scripts/gpu_rnn.sh
set -uo pipefail
OUT=${OUT:-/tmp/out}
W=$(mktemp -d)
mkdir -p "$OUT"
OUT="$W" bash scripts/gpu_check.sh rnn > "$W/gpu_check_rnn.stdout" 2>&1
timeout 80 .gpu/statemix_tests --gtest_filter='*Cuda*:*Persistent*' --gtest_brief=1 > "$W/cuda_tests.log" 2>&1
echo "tests exit $?" >> "$W/cuda_tests.log"
tune() {  # layer B T H reps timeout
  timeout "$6" .gpu/statemix tune --layer "$1" --batch "$2" --seq "$3" --width "$4" --reps "$5" \
    --json "$W/tune_$1_B$2_T$3_H$4.json" > "$W/tune_$1_B$2_T$3_H$4.log" 2>&1
}
tune elman 16 2048 256 5 30
tune elman 16 2048 1024 5 45
tune wcrnn 16 2048 256 5 30
tune elman 64 512 256 3 30
tune elman 256 256 256 3 30
tar czf "$OUT/gpu_rnn_run.tgz" -C "$W" .
tail -3 "$W/cuda_tests.log"; grep -h "fastest\|impl=halide\|impl=automatic" "$W"/tune_*.log | cut -c1-160
grep -A4 "cuDNN\|statemix/" "$W/gpu_rnn.log" 2>/dev/null | head -60
