#!/bin/bash
# The H-LRU rows again (the host moved more than the change between bench.sh's runs), old and new
# alternating twice, 5 reps. From the repository root:
#   OLD=/tmp/old/statemix NEW=build/tools/statemix OUT=docs/data/bench-2026-12-03-epyc-avx2 bash docs/data/bench-2026-12-03-epyc-avx2/bench_hlru.sh
set -e
for i in 1 2; do
  for side in old new; do
    bin=$OLD; [ $side = new ] && bin=$NEW
    $bin bench --layers hlru --devices cpu --algorithms sequential --no-peers --no-reference \
      --reps 5 --json $OUT/hlru_${side}_$i.json > $OUT/hlru_${side}_$i.txt 2>&1
  done
done
