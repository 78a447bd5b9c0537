#!/bin/bash
# Tuning the AVX-512 tier's scan kernels on the 2-core Zen 5 EPYC (twenty-fifth session), the
# keys of #11's goal rows, most important first; entries merge into autotune/db/tuning.json after
# every candidate. From the repository root: bash docs/data/tuning-2026-12-02-zen5/tune.sh
T="build/tools/statemix_tune run --autoschedulers '' --quiet"
run() { echo "== $(date -u +%H:%M:%S) $*"; eval "$T $*"; }
run --layers bdlru --orders 3 --directions backward --buckets wide
run --layers hlru --orders 1 2 3 4 --directions forward --buckets wide
run --layers hlru --orders 5 6 7 8 --directions forward --buckets mid
run --layers hlru --orders 1 2 3 4 --directions backward --buckets wide
run --layers hlru --orders 5 6 7 8 --directions backward --buckets mid
run --layers bdlru --orders 1 2 3 4 5 --directions forward --buckets wide
run --layers bdlru --orders 1 2 4 --directions backward --buckets wide
echo "== $(date -u +%H:%M:%S) done"
