#!/bin/bash
# Old/new side by side, alternating: OLD = the build of 229476b (gates once per tile), NEW = this
# session's (gates per vector of channels, the one-pass backward). Both binaries on the same
# machine, one after the other, twice; each run measures its own copy ceiling between its kernels.
# Usage: OLD=/tmp/old/statemix NEW=build/tools/statemix OUT=docs/data/bench-2026-12-03-gates-per-vector bash bench.sh
set -e
for i in 1 2; do
  for side in old new; do
    bin=$OLD; [ $side = new ] && bin=$NEW
    $bin bench --layers bdlru hlru --devices cpu --algorithms sequential time_major --no-peers --no-reference \
      --reps 3 --json $OUT/${side}_$i.json > $OUT/${side}_$i.txt 2>&1
  done
done
