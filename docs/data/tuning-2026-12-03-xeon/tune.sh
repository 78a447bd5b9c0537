#!/bin/bash
# Tuning the AVX-512 tier's scan kernels on the 2-core Intel Xeon (Sapphire Rapids class,
# twenty-seventh session): its forward entries (it had none; the Zen 5's or the AVX2 machine's
# were built in) first, then its backward entries again (--force: they were ranked before the
# batch-parallel schedule and the new H-LRU backward). Entries merge into autotune/db/tuning.json
# after every candidate. From the repository root: bash docs/data/tuning-2026-12-03-xeon/tune.sh
T="build/tools/statemix_tune run --autoschedulers '' --quiet"
run() { echo "== $(date -u +%H:%M:%S) $*"; eval "$T $*"; }
run --layers bdlru --orders 1 2 3 4 5 --directions forward --buckets wide
run --layers hlru --orders 1 2 3 4 --directions forward --buckets wide
run --layers hlru --orders 5 6 7 8 --directions forward --buckets mid
run --layers hlru --orders 1 2 3 4 --directions backward --buckets wide --force
run --layers bdlru --orders 1 2 3 --directions backward --buckets wide --force
run --layers hlru --orders 5 6 7 8 --directions backward --buckets mid
echo "== $(date -u +%H:%M:%S) done"
