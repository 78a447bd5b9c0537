#!/bin/bash
# Old/new side by side, alternating twice: OLD = the build of 670fabb (the AVX2 tier's entries of
# 2026-11-30/12-02), NEW = the build with this session's re-tuned entries. Batch-major only (the
# time-major kernels have fixed knobs, not tuned). Each run measures its own copy ceiling.
# From the repository root:
#   OLD=/tmp/old/statemix NEW=build/tools/statemix OUT=docs/data/bench-2026-12-03-epyc-avx2 bash docs/data/bench-2026-12-03-epyc-avx2/bench.sh
set -e
for i in 1 2; do
  for side in old new; do
    bin=$OLD; [ $side = new ] && bin=$NEW
    $bin bench --layers bdlru hlru --devices cpu --algorithms sequential --no-peers --no-reference \
      --reps 3 --json $OUT/${side}_$i.json > $OUT/${side}_$i.txt 2>&1
  done
done
