#!/bin/bash
# run_pairs.sh: each pair of mk_pairs.sh at the bench's shape (B 16, T 2048, state 1024: H-LRU N = 1024/m
# channels), 2 threads, A and B called alternately N times, min and median of each
cd /tmp/mb
for spec in "hlru 1 f 1024 12" "hlru 2 f 512 12" "hlru 3 f 341 10" "hlru 4 f 256 10" "hlru 5 f 204 8" "hlru 8 f 128 6" \
            "hlru 1 b 1024 8" "hlru 2 b 512 6" "hlru 3 b 341 6" "hlru 4 b 256 6" "hlru 5 b 204 5" "hlru 8 b 128 4" \
            "bdlru 1 f 1024 12" "bdlru 2 f 512 8" "bdlru 3 f 341 6" "bdlru 4 f 256 5" "bdlru 5 f 204 4" "bdlru 8 f 128 4" \
            "bdlru 1 b 1024 8" "bdlru 2 b 1024 5" "bdlru 3 b 1023 4" "bdlru 4 b 1024 4" "bdlru 5 b 1020 3" "bdlru 8 b 1024 3"; do
  set -- $spec; L=$1; M=$2; D=$3; C=$4; R=$5; tag=v_${L}${M}${D}
  [ -x $tag/run ] || { echo "$L $M $D: not built"; continue; }
  if [ $D = b ] && [ $L = hlru ]; then out=$(NT=2 $tag/run $M 16 2048 $C $R h); else out=$(NT=2 $tag/run $M 16 2048 $C $R); fi
  echo "$L $M $D | $out"
done
