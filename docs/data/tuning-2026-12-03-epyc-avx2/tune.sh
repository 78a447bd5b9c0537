#!/bin/bash
# Re-tuning the AVX2 tier's stale scan entries (wide bucket, and the mid H-LRU m = 6, 7 backward) on the 2-core AMD EPYC (CPU family 23, Zen 1;
# AVX2, no AVX-512), thirty-first session. Those entries were searched on 2026-11-30, before the
# batch-parallel schedule (2026-12-02: tiles and batch rows are the parallel tasks; before, only
# tiles, so small tiles won), the per-vector gates of the one-pass backward (2026-12-03), the
# floor-free exponential and the channel split. One invocation per line, so a stop between them
# leaves every finished entry complete (--force starts an entry over; an interrupted one is left
# incomplete and the build ignores it). The mid bucket's H-LRU m = 6 (2026-12-02) and m = 7 (none:
# the default served) backward ran at 14-15% of the copy, against 25-26% at m = 5 and 8.
# From the repository root:
#   bash docs/data/tuning-2026-12-03-epyc-avx2/tune.sh [N] 2>&1 | tee -a docs/data/tuning-2026-12-03-epyc-avx2/tune.log
cd "$(dirname "$0")/../../.."
T="build/tools/statemix_tune run --autoschedulers '' --quiet"
run() { echo "== $(date -u +%H:%M:%S) $*"; eval "$T $*"; }
case ${1:-all} in
  1|all) run --layers hlru --orders 1 2 3 4 --directions forward --buckets wide --force ;;&
  2|all) run --layers hlru --orders 1 2 3 4 --directions backward --buckets wide --force ;;&
  3|all) run --layers hlru --orders 6 7 --directions backward --buckets mid --force ;;&
  4|all) run --layers bdlru --orders 1 2 --directions backward --buckets wide --force ;;&
  5|all) run --layers bdlru --orders 4 --directions backward --buckets wide --force ;;
esac
echo "== $(date -u +%H:%M:%S) done"
