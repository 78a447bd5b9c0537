#!/bin/bash
# The bench's shape, batch-major, both scans: OLD (the build of a81d23a, before this session's
# tuning: the AVX-512 tier's Xeon entries of 2026-12-01, else the Zen 5's or the AVX2 machine's)
# and NEW (built with the Xeon's entries of 2026-12-03), alternating twice (the twenty-fourth
# session's script). From the repository root:
OLD=${OLD:-/tmp/old/statemix} NEW=${NEW:-build/tools/statemix} OUT=docs/data/tuning-2026-12-03-xeon/bench \
  bash docs/data/bench-2026-12-02-s24/bench_fuse.sh
# Second set (bench-own/), after the dispatch fix that lets the Xeon take its own entries
# (dispatch::cpu_has_undetected_feature): the same command into another folder.
#   OUT=docs/data/tuning-2026-12-03-xeon/bench-own bash docs/data/bench-2026-12-02-s24/bench_fuse.sh
#   (OLD=/tmp/old/statemix NEW=build/tools/statemix). The tables, in this folder:
#   python3 ../tuning-2026-12-02-zen5/cmp.py bench > bench/cmp.txt (and bench-own)
