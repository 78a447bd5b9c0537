#!/bin/bash
# Old/new side by side, alternating: OLD = the build of c8ab392 (a channel count off the vector
# width ran its last vector masked), NEW = this session's (two calls: the second a full vector
# ending at N). Both binaries on the same machine, one after the other, twice; each run measures
# its own copy ceiling between its kernels. The bench's shape: B 16, T 2048, state width 1024
# (1023 at m = 3, 5, 6, 7: N = 341, 204, 170, 146 there, off the vector width).
# Usage: OLD=/tmp/old/statemix NEW=build/tools/statemix OUT=docs/data/bench-2026-12-03-channel-split bash bench.sh
set -e
for i in 1 2; do
  for side in old new; do
    bin=$OLD; [ $side = new ] && bin=$NEW
    $bin bench --layers bdlru hlru --devices cpu --algorithms sequential time_major --no-peers --no-reference \
      --reps 3 --json $OUT/${side}_$i.json > $OUT/${side}_$i.txt 2>&1
  done
done
