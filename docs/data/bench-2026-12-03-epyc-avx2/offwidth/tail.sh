#!/bin/bash
# H-LRU at N on and off the vector width (per-byte rate). Usage: OUT=dir bash tail.sh
B=build/tools/statemix  # run from the repository root with OUT=docs/data/bench-2026-12-03-epyc-avx2/offwidth
for rep in 1 2; do
for spec in "5 960" "5 1020" "5 1040" "6 960" "6 1020" "6 1056" "7 1008" "7 1022" "7 1120" "3 1008" "3 1023" "3 1056"; do
  set -- $spec
  $B bench --layers hlru --orders $1 --width $2 --devices cpu --algorithms sequential --no-peers --no-reference --reps 5 \
     --json $OUT/m$1_w$2_r$rep.json > $OUT/m$1_w$2_r$rep.txt 2>&1
done
done
