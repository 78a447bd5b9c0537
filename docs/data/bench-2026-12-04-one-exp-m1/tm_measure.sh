#!/bin/bash
# The time-major m = 1 kernels (sm_*_cpu_tm: fixed knobs tile=512 in generators/CMakeLists.txt,
# not in the tuner's database) against the batch-major m = 1 winners' knobs (tile 1024, vector
# width 16), at the bench's shape and at a training shape. `statemix_tune measure`: JIT-compiled,
# checked against the float64 reference, 7 runs each, the first configuration the baseline.
# From the repository root:  bash docs/data/bench-2026-12-04-one-exp-m1/tm_measure.sh > $OUT/tm_measure.txt
set -e
for shape in 16x2048x1024 128x256x256; do
  for layer in hlru bdlru; do
    for dir in forward backward; do
      echo "== $layer $dir m=1 shape $shape"
      build/tools/statemix_tune measure --layers $layer --orders 1 --directions $dir --shape $shape --reps 7 --quiet \
        --params "time_major=true tile=512" --params "time_major=true tile=1024" \
        --params "time_major=true tile=512 vector_width=16" --params "time_major=true tile=1024 vector_width=16" \
        --params "time_major=true tile=256 vector_width=16"
    done
  done
done
