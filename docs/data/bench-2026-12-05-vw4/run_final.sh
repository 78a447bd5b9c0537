#!/bin/bash
# the pairs of mk_final.sh at the bench's shape, 2 threads, min/median of N alternating calls
cd /tmp/mb
for spec in "hlru 3 f 341 10" "hlru 4 f 256 10" "hlru 3 b 341 6" "bdlru 4 f 256 5" "bdlru 5 f 204 4" "bdlru 5 b 1020 3"; do
  set -- $spec; L=$1; M=$2; D=$3; C=$4; R=$5; tag=f_${L}${M}${D}
  if [ $D = b ] && [ $L = hlru ]; then out=$(NT=2 $tag/run $M 16 2048 $C $R h); else out=$(NT=2 $tag/run $M 16 2048 $C $R); fi
  echo "$L $M $D | $out"
done
