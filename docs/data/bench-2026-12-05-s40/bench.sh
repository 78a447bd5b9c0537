#!/bin/bash
# The bench with the reversed channel walk (fortieth session), NEW alternating with OLD = the build
# of 3f47da7 (the commit before), twice. Batch-major, every m.
# From the repository root:
#   OLD=/tmp/s40/statemix_old NEW=build/tools/statemix OUT=docs/data/bench-2026-12-05-s40 bash $OUT/bench.sh
set -e
for i in 1 2; do
  for side in new old; do
    bin=$OLD; [ $side = new ] && bin=$NEW
    $bin bench --layers bdlru hlru --devices cpu --algorithms sequential --no-peers --no-reference \
      --reps 3 --json $OUT/${side}_$i.json > $OUT/${side}_$i.txt 2>&1
  done
done
