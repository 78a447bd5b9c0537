#!/bin/bash
# Re-tuning on the 2-core AMD EPYC (Zen 1; AVX2 tier), thirty-eighth session, after the scans'
# space gained half the natural vector width (vector_width=4 on AVX2; autotune/space.cpp). The
# wide bucket's entries where an in-process A/B of the database's winner against the same knobs at
# width 4 read 1.05x or more in two runs (docs/data/bench-2026-12-05-vw4/ab_*.txt), most first.
# One invocation per line, so a stop between them leaves every finished entry complete (--force
# starts an entry over). Run as: step 1, then 3, 4, 5 and 2 (tune.log); step 2 (BD-LRU m = 8, whose
# candidates compile slowest) was stopped after 21 minutes for the session's time, its entry
# unchanged, and step 6 was not run: both for a later session. Step 7 ran last (08:05-08:15).
# The thirty-ninth session ran 6, 8 and 2 (tune.log, 09:33-10:35). Its new winners were then
# checked at the bench's shape by the A/B driver (../bench-2026-12-05-vw4/ab_s39_*.txt) and through
# the runtime's own path (`statemix_tune measure`, ../bench-2026-12-05-s39/measure_*.txt); six
# entries went back to their text of 77bb720 in autotune/db/tuning.json: BD-LRU m = 3 backward and
# H-LRU m = 7, 8 forward (a wider tile only, 1.00-1.03x: not worth a kernel variant), H-LRU m = 5
# and 7 backward (slower through the runtime's path: 0.69-0.99x) and H-LRU m = 8 backward (the
# same knobs as before). Kept: BD-LRU m = 8 backward, H-LRU m = 5, 6 forward, m = 6 backward.
# From the repository root:
#   bash docs/data/tuning-2026-12-05-epyc-vw4/tune.sh [N] 2>&1 | tee -a docs/data/tuning-2026-12-05-epyc-vw4/tune.log
cd "$(dirname "$0")/../../.."
T="build/tools/statemix_tune run --autoschedulers '' --quiet"
run() { echo "== $(date -u +%H:%M:%S) $*"; eval "$T $*"; }
case ${1:-all} in
  1|all) run --layers bdlru --orders 5 --directions backward --buckets wide --force ;;&
  2|all) run --layers bdlru --orders 8 --directions backward --buckets wide --force ;;&
  3|all) run --layers hlru --orders 3 --directions forward backward --buckets wide --force ;;&
  4|all) run --layers hlru --orders 4 --directions forward --buckets wide --force ;;&
  5|all) run --layers bdlru --orders 4 5 --directions forward --buckets wide --force ;;&
  6|all) run --layers bdlru --orders 3 --directions backward --buckets wide --force ;;&
  # Run at 08:05 instead of 2 and 6 (a quick one; #11's m = 2 backward goal): width 4 read
  # 1.05-1.15x in the A/B.
  7) run --layers bdlru --orders 2 --directions backward --buckets wide --force ;;
  # Thirty-ninth session (2026-12-05, from 09:33): step 6, then 8 (the H-LRU m >= 5 entries of the
  # `mid` bucket, where the bench's shape falls for m >= 5: width 4 read 1.07-1.26x in the A/B at
  # m = 5 and 8 backward and m = 5 forward), then 2.
  8) run --layers hlru --orders 5 6 7 8 --directions forward backward --buckets mid --force ;;
esac
echo "== $(date -u +%H:%M:%S) done"
