#!/bin/bash
# The bench after both width-4 re-tunes (thirty-eighth and thirty-ninth sessions), NEW alternating
# with OLD = the build of f5d9333 (before either), twice. Batch-major, every m. PREFIX names the set:
# a_ = NEW the build of 5e5b26c (10:53-11:04 UTC); b_ = NEW the build after two of its entries went
# back (H-LRU m = 5, 7 backward, mid), the commit after 5e5b26c.
# From the repository root:
#   PREFIX=b_ OLD=/tmp/s38/statemix_old NEW=build/tools/statemix OUT=docs/data/bench-2026-12-05-s39 bash $OUT/bench.sh
set -e
for i in 1 2; do
  for side in new old; do
    bin=$OLD; [ $side = new ] && bin=$NEW
    $bin bench --layers bdlru hlru --devices cpu --algorithms sequential --no-peers --no-reference \
      --reps 3 --json $OUT/${PREFIX}${side}_$i.json > $OUT/${PREFIX}${side}_$i.txt 2>&1
  done
done
