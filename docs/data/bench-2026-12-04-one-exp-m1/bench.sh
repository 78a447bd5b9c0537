#!/bin/bash
# Old/new side by side, alternating twice: OLD = the build of 2e103db (two exponentials per row
# of two logits, the degree-6 Taylor exp), NEW = the build with one exponential per row at m = 1
# and the degree-5 minimax exp (generators/gate_norm.h). Batch-major at every m, then time-major
# at m = 1, 2. Each run measures its own copy and arithmetic ceilings.
# NEWNAME (default new) names the new build's files: `tuned` for the second set, the build after the
# m = 1 entries were re-tuned (56ff66d); `final` for the third, after the second tuning round.
# From the repository root:
#   OLD=/tmp/old/statemix NEW=build/tools/statemix OUT=docs/data/bench-2026-12-04-one-exp-m1 bash $OUT/bench.sh
#   OLD=... NEW=... OUT=... NEWNAME=tuned OLDNAME=old2 bash $OUT/bench.sh
set -e
for i in 1 2; do
  for side in ${OLDNAME:-old} ${NEWNAME:-new}; do
    bin=$OLD; [ $side = ${NEWNAME:-new} ] && bin=$NEW
    $bin bench --layers bdlru hlru --devices cpu --algorithms sequential --no-peers --no-reference \
      --reps 3 --json $OUT/${side}_$i.json > $OUT/${side}_$i.txt 2>&1
    $bin bench --layers bdlru hlru --devices cpu --algorithms time_major --orders 1 2 --no-peers --no-reference \
      --reps 3 --json $OUT/${side}_tm_$i.json > $OUT/${side}_tm_$i.txt 2>&1
  done
done
