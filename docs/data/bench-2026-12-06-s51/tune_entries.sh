#!/bin/bash
# The Intel tier's CPU forward entries: each incumbent against itself with prefetch=1 (tuner, --extend).
set -u
T=/tmp/s51/tune
cp /work/main/build/tools/statemix_tune /work/main/build/tools/statemix_tune_runner $T/ 2>/dev/null
cp /work/main/autotune/db/tuning.json $T/db.json
cd /work/main
while IFS='|' read layer m bucket params; do
  [ -z "$layer" ] && continue
  echo "=== $layer m=$m $bucket: $params (and prefetch=1) ($(date -u +%H:%M:%S))"
  $T/statemix_tune run --layers $layer --orders $m --directions forward --buckets $bucket --search auto \
    --autoschedulers none --force --only $params --compile-limit 120 --db $T/db.json --quiet 2>&1 | tail -16
done <<'LIST'
hlru|7|mid|tile=256 vector_width=32
hlru|5|mid|tile=1024 unroll=2 vector_width=32
hlru|6|mid|tile=1024 vector_width=32
hlru|8|mid|tile=1024 unroll=4 vector_width=0
hlru|1|wide|tile=1024 unroll=2 vector_width=32
hlru|2|wide|tile=1024 unroll=4 vector_width=0
hlru|3|wide|tile=1024 unroll=2 vector_width=32
hlru|4|wide|tile=1024 unroll=4 vector_width=0
bdlru|1|wide|tile=1024 unroll=2 vector_width=32
bdlru|2|wide|tile=512 unroll=4 vector_rows=true vector_width=8
bdlru|3|wide|tile=1024 unroll=4 vector_rows=true vector_width=5
bdlru|4|wide|tile=1024 unroll=4 vector_rows=true vector_width=4
bdlru|5|wide|tile=1024 unroll=2 vector_rows=true vector_width=6
bdlru|8|wide|tile=256 unroll=4 vector_rows=true vector_width=2
bdlru|16|wide|tile=256 unroll=2 vector_rows=true vector_width=1
LIST
echo "done $(date -u +%H:%M:%S)"
