#!/bin/bash
# The kernels the reversed walk changed (H-LRU m = 1-4, BD-LRU m = 1) and BD-LRU m = 2 (unchanged,
# a control), NEW alternating with OLD three times; the full set (bench.sh) was too noisy to read.
#   OLD=/tmp/s40/statemix_old NEW=build/tools/statemix OUT=docs/data/bench-2026-12-05-s40 bash $OUT/bench_focus.sh
set -e
for i in 1 2 3; do
  for side in new old; do
    bin=$OLD; [ $side = new ] && bin=$NEW
    for L in "hlru 1 2 3 4" "bdlru 1 2"; do
      set -- $L; layer=$1; shift
      $bin bench --layers $layer --orders "$@" --devices cpu --algorithms sequential --no-peers --no-reference \
        --reps 3 --json $OUT/f_${side}_${layer}_$i.json > $OUT/f_${side}_${layer}_$i.txt 2>&1
    done
  done
done
