#!/bin/bash
# Twenty-fourth session: the H-LRU one-pass backward before (OLD: tools/statemix built from 0189a0b)
# and after (NEW: this commit's build) its rewrite (one adjoint buffer, edge steps peeled), old and
# new alternating twice; the forward rows (unchanged kernels) show the host's drift.
# Run from the repository root: OLD=/path/to/old/statemix bash docs/data/bench-2026-12-02-s24/bench_ab.sh
OUT=docs/data/bench-2026-12-02-s24
NEW=${NEW:-build/tools/statemix}
for r in 1 2; do for w in old new; do
  if [ $w = old ]; then BIN=$OLD; else BIN=$NEW; fi
  # The bench's shape (B 16, T 2048, width N·m 1024), batch-major.
  $BIN bench --layers hlru --orders 1 2 3 4 5 6 7 8 --devices cpu --algorithms sequential --no-reference --no-peers \
    --reps 3 --json $OUT/bm_${w}_$r.json > $OUT/bm_${w}_$r.txt
  # A training shape (B 128, T 256, width 256), time-major: the training runtime's kernels.
  $BIN bench --layers hlru --orders 1 2 3 4 5 6 7 8 --devices cpu --algorithms time_major --batch 128 --seq 256 --width 256 \
    --no-reference --no-peers --reps 5 --json $OUT/tm_${w}_$r.json > $OUT/tm_${w}_$r.txt
done; done
