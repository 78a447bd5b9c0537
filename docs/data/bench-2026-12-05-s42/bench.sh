#!/bin/bash
# Forty-second session (2026-12-05), the 2-core Intel Xeon (AVX-512 tier): the build before
# (OLD, c24ae7f's binaries copied to /tmp/s42/old) and after (NEW, build/tools/statemix) the
# in-pass shifted last vector for every CPU kernel (44e9f66, the "all-shift" build; its outputs
# were renamed new_* -> allshift_*), alternating. Every H-LRU and BD-LRU row at the bench's shape,
# then the off-vector widths against widths on the vector.
OLD=/tmp/s42/old/statemix; NEW=/work/main/build/tools/statemix; D=$(dirname "$0")
common="--devices cpu --algorithms sequential --no-peers --no-reference"
for r in 1 2; do
  for side in old new; do
    bin=$OLD; [ $side = new ] && bin=$NEW
    $bin bench --layers bdlru hlru $common --reps 3 --json $D/${side}_$r.json > $D/${side}_$r.txt 2>&1
  done
done
for side in old new; do
  bin=$OLD; [ $side = new ] && bin=$NEW
  for lm in "hlru 5 960 1020 1040 1120" "hlru 7 896 1022 1120" "bdlru 3 1008 1023 1056" "bdlru 5 960 1020 1120"; do
    set -- $lm; L=$1; M=$2; shift 2
    for w in "$@"; do
      $bin bench --layers $L --orders $M --width $w $common --reps 5 --json $D/w_${side}_${L}${M}_$w.json > $D/w_${side}_${L}${M}_$w.txt 2>&1
    done
  done
done
