#!/bin/bash
# The H-LRU rows at m = 3, 5, 6, 7 (N = 341, 204, 170, 146) again, shorter runs alternating three
# times, 7 reps each: the whole-bench runs (bench.sh) were too noisy there to tell old from new.
# Usage: OLD=/tmp/old/statemix NEW=build/tools/statemix OUT=docs/data/bench-2026-12-03-channel-split bash bench_hlru.sh
set -e
for i in 1 2 3; do
  for side in old new; do
    bin=$OLD; [ $side = new ] && bin=$NEW
    $bin bench --layers hlru --orders 3 5 6 7 --devices cpu --algorithms sequential time_major --no-peers \
      --no-reference --reps 7 --json $OUT/hlru_${side}_$i.json > $OUT/hlru_${side}_$i.txt 2>&1
  done
done
