#!/bin/bash
# Twenty-fourth session, second change: the batch-parallel CPU scan schedules. OLD: build of d19aff8-7c5e30c's
# code (build/tools/statemix before acfb400), NEW: a fresh clone's build of acfb400 (/tmp/ci/build/tools/statemix).
# The bench's shape, batch-major, both scans, old and new alternating twice.
OUT=${OUT:-docs/data/bench-2026-12-02-s24/fuse}  # (another folder: OUT=..., as the twenty-fifth session's tuning did)
mkdir -p $OUT
for r in 1 2; do for w in old new; do
  if [ $w = old ]; then BIN=$OLD; else BIN=$NEW; fi
  $BIN bench --layers hlru bdlru --devices cpu --algorithms sequential --no-reference --no-peers --reps 3 \
    --json $OUT/${w}_$r.json > $OUT/${w}_$r.txt
done; done
