#!/bin/bash
# Re-tuning on the 2-core AMD EPYC (Zen 1; AVX2 tier), thirty-seventh session, after the m = 2
# kernels changed to two exponentials per row of three logits (generators/gate_norm.h,
# softmax3_phi): the wide bucket's m = 2 entries of both families and directions (the bench's
# shape: B = 16, N = 512 channels / blocks). One invocation per line, so a stop between them leaves
# every finished entry complete (--force starts an entry over).
# From the repository root:
#   bash docs/data/tuning-2026-12-05-epyc-m2/tune.sh [N] 2>&1 | tee -a docs/data/tuning-2026-12-05-epyc-m2/tune.log
cd "$(dirname "$0")/../../.."
T="build/tools/statemix_tune run --autoschedulers '' --quiet"
run() { echo "== $(date -u +%H:%M:%S) $*"; eval "$T $*"; }
case ${1:-all} in
  1|all) run --layers hlru --orders 2 --directions forward backward --buckets wide --force ;;&
  2|all) run --layers bdlru --orders 2 --directions forward backward --buckets wide --force ;;
esac
echo "== $(date -u +%H:%M:%S) done"
