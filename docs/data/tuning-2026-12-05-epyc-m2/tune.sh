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
  2|all) run --layers bdlru --orders 2 --directions forward backward --buckets wide --force ;;&
  # Run once more by hand at 03:18 (tune.log, "step 3"): step 1's H-LRU backward was a tie of
  # widths 0 and 16 (136.78 / 136.80 ms). It chose width 0 again (1.14x, 15-21% spread).
  3) run --layers hlru --orders 2 --directions backward --buckets wide --force ;;
esac
echo "== $(date -u +%H:%M:%S) done"
