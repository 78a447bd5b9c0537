#!/bin/bash
# The build with the new BD-LRU forward entries (m = 5, 8, 16: a block's rows in the lanes at
# 7, 4 and 1 blocks per vector) against the build before (8888355's binary, copied to
# /tmp/statemix_old), alternating, the bench's shape.
OLD=/tmp/statemix_old; NEW=/work/main/build/tools/statemix; D=$(dirname "$0")
common="--devices cpu --algorithms sequential --no-peers --no-reference"
for r in 1 2; do
  $OLD bench --layers bdlru hlru $common --reps 3 --json $D/old_$r.json > $D/old_$r.txt 2>&1
  $NEW bench --layers bdlru hlru $common --reps 3 --json $D/new_$r.json > $D/new_$r.txt 2>&1
done
