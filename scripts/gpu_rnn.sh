#!/usr/bin/env bash
# Device-machine check of the persistent CUDA RNN forward (runtime/cuda/rnn_persistent.h): its
# tests against the float64 reference, then `statemix tune` at the issue's shapes (every knob
# configuration next to the Halide kernel). Binaries come from .gpu/ (built here, carried).
# Usage on the device: bash scripts/gpu_rnn.sh   (writes logs and JSON under $OUT)
set -uo pipefail
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
for f in statemix statemix_tests; do
  [ -x .gpu/$f ] && continue
  xz -dkf .gpu/$f.xz 2>/dev/null || python3 -c "import lzma,sys; open(sys.argv[2],'wb').write(lzma.open(sys.argv[1]).read())" .gpu/$f.xz .gpu/$f
  chmod +x .gpu/$f
done
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv | tee "$OUT/gpu.txt"
timeout 150 .gpu/statemix_tests --gtest_filter='RnnPersistent*:RnnCuda*:RnnCudaOptions*' --gtest_brief=1 2>&1 | tail -40 | tee "$OUT/rnn_cuda_tests.log"
for H in 256 1024; do
  timeout 120 .gpu/statemix tune --layer elman --batch 16 --seq 2048 --width $H --reps 5 \
    --json "$OUT/tune_elman_B16_T2048_H$H.json" 2>&1 | tee "$OUT/tune_elman_B16_T2048_H$H.log" | sort -n | head -12
  tail -1 "$OUT/tune_elman_B16_T2048_H$H.log"
  grep -E "impl=halide|impl=automatic" "$OUT/tune_elman_B16_T2048_H$H.log"
done
timeout 60 .gpu/statemix tune --layer wcrnn --batch 16 --seq 2048 --width 256 --reps 5 \
  --json "$OUT/tune_wcrnn_B16_T2048_H256.json" > "$OUT/tune_wcrnn_B16_T2048_H256.log" 2>&1
tail -1 "$OUT/tune_wcrnn_B16_T2048_H256.log"
timeout 60 .gpu/statemix tune --layer elman --batch 256 --seq 256 --width 256 --reps 3 \
  --json "$OUT/tune_elman_B256_T256_H256.json" > "$OUT/tune_elman_B256_T256_H256.log" 2>&1
tail -1 "$OUT/tune_elman_B256_T256_H256.log"; grep -E "impl=halide|impl=automatic" "$OUT/tune_elman_B256_T256_H256.log"
