#!/bin/bash
# Re-tuning on the 2-core AMD EPYC (CPU family 23, Zen 1; AVX2 tier), thirty-second session, after
# the m = 1 kernels changed to one exponential per row (generators/gate_norm.h): the wide bucket's
# m = 1 entries of both families and directions, and the BD-LRU forward entries at m = 2, 4, which
# dated from 2026-11-30/12-01 (before the batch-parallel schedule). One invocation per line, so a
# stop between them leaves every finished entry complete (--force starts an entry over; an
# interrupted one is left incomplete and the build ignores it).
# From the repository root:
#   bash docs/data/tuning-2026-12-04-epyc-m1/tune.sh [N] 2>&1 | tee -a docs/data/tuning-2026-12-04-epyc-m1/tune.log
cd "$(dirname "$0")/../../.."
T="build/tools/statemix_tune run --autoschedulers '' --quiet"
run() { echo "== $(date -u +%H:%M:%S) $*"; eval "$T $*"; }
case ${1:-all} in
  1|all) run --layers hlru --orders 1 --directions forward backward --buckets wide --force ;;&
  2|all) run --layers bdlru --orders 1 --directions forward backward --buckets wide --force ;;&
  3|all) run --layers bdlru --orders 2 4 --directions forward --buckets wide --force ;;
esac
echo "== $(date -u +%H:%M:%S) done"
