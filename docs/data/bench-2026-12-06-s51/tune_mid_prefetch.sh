#!/bin/bash
T=/tmp/s51/tune
cd /work/main
for m in 8 7 6 5; do
  echo "=== hlru m=$m mid: every prefetch=1 candidate ($(date -u +%H:%M:%S))"
  timeout 480 $T/statemix_tune run --layers hlru --orders $m --directions forward --buckets mid --search halving \
    --autoschedulers none --force --only prefetch=1 --compile-limit 60 --db $T/db2.json --quiet 2>&1 | grep -E "<- chosen|kernel it replaces|search:|rror"
done
echo "done $(date -u +%H:%M:%S)"
