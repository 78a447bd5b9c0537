#!/bin/bash
# The final build (forward: last vector shifted in the same pass; backward: two calls, as before)
# against the build before the session (c24ae7f's binaries in /tmp/s42/old), alternating.
OLD=/tmp/s42/old/statemix; NEW=/work/main/build/tools/statemix; D=$(dirname "$0")
common="--devices cpu --algorithms sequential --no-peers --no-reference"
for r in 3 4; do
  $OLD bench --layers bdlru hlru $common --reps 3 --json $D/old_$r.json > $D/old_$r.txt 2>&1
  $NEW bench --layers bdlru hlru $common --reps 3 --json $D/final_$((r - 2)).json > $D/final_$((r - 2)).txt 2>&1
done
