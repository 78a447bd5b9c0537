#!/bin/bash
# The bench's shape, batch-major, both scans: OLD (the build before this session's tuning: the
# AVX-512 tier's Xeon entries and the AVX2 tier's winners) and NEW (built with the Zen 5 entries
# and the per-machine choice), alternating twice (the twenty-fourth session's script). From the
# repository root:
OLD=${OLD:-/tmp/old/statemix} NEW=${NEW:-build/tools/statemix} OUT=docs/data/tuning-2026-12-02-zen5/bench \
  bash docs/data/bench-2026-12-02-s24/bench_fuse.sh
