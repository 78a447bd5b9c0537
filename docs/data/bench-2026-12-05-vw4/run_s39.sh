#!/bin/bash
# the pairs of mk.sh at the bench's shape (B 16, T 2048, state 1023-1024), 2 threads, min/median of N alternating calls
cd /tmp/mb
for spec in "bdlru 3 b 1023 4" "bdlru 8 b 1024 3" "hlru 5 f 204 10" "hlru 6 f 170 10" "hlru 7 f 146 10" "hlru 8 f 128 10" "hlru 5 b 204 6" "hlru 6 b 170 6" "hlru 7 b 146 6"; do
  set -- $spec; L=$1; M=$2; D=$3; C=$4; R=$5; tag=g_${L}${M}${D}
  [ -x $tag/run ] || { echo "$L $M $D | not built"; continue; }
  if [ $D = b ] && [ $L = hlru ]; then out=$(NT=2 $tag/run $M 16 2048 $C $R h); else out=$(NT=2 $tag/run $M 16 2048 $C $R); fi
  echo "$L $M $D | $out"
done
