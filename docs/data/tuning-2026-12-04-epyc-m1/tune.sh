#!/bin/bash
# Re-tuning on the 2-core AMD EPYC (CPU family 23, Zen 1; AVX2 tier), thirty-second session, after
# the m = 1 kernels changed to one exponential per row (generators/gate_norm.h): the wide bucket's
# m = 1 entries of both families and directions, and the BD-LRU forward entries at m = 2, 4, which
# dated from 2026-11-30/12-01 (before the batch-parallel schedule). One invocation per line, so a
# stop between them leaves every finished entry complete (--force starts an entry over; an
# interrupted one is left incomplete and the build ignores it).
# From the repository root:
#   bash docs/data/tuning-2026-12-04-epyc-m1/tune.sh [N] 2>&1 | tee -a docs/data/tuning-2026-12-04-epyc-m1/tune.log
# (N: one step; steps 1-3 ran first, 07:05-07:12 UTC, into tune.log; steps 4-6 at 07:31 beside a
# compile, tune_round2_perturbed.log, not used, and again at 08:18-08:41 on a quiet machine into
# tune_round2.log, the entries kept. README.md.)
cd "$(dirname "$0")/../../.."
T="build/tools/statemix_tune run --autoschedulers '' --quiet"
run() { echo "== $(date -u +%H:%M:%S) $*"; eval "$T $*"; }
case ${1:-all} in
  1|all) run --layers hlru --orders 1 --directions forward backward --buckets wide --force ;;&
  2|all) run --layers bdlru --orders 1 --directions forward backward --buckets wide --force ;;&
  3|all) run --layers bdlru --orders 2 4 --directions forward --buckets wide --force ;;&
  # The second round, entries the bench's shape takes that date from before the
  # batch-parallel schedule (2026-12-02) or are missing: the mid bucket's H-LRU m = 5, 7, 8 (the
  # bench's H-LRU m >= 5 has B·N < 4096 lanes, so mid; m = 7 forward had no entry) and m = 6
  # forward; the wide BD-LRU m = 3 both directions (2026-11-30 / 12-01, forward at tile 64).
  4|all) run --layers hlru --orders 5 7 8 --directions forward backward --buckets mid --force ;;&
  5|all) run --layers hlru --orders 6 --directions forward --buckets mid --force ;;&
  6|all) run --layers bdlru --orders 3 --directions forward backward --buckets wide --force ;;
esac
echo "== $(date -u +%H:%M:%S) done"
