# old (57f0298 build) vs new, alternating; wide shape (issue #11) and #9's training shape (time-major)
cd /work/main
O=statemix_old (a copy of build/tools/statemix built from 57f0298); N=build/tools/statemix; D=docs/data/bench-2026-12-01-gates-default
for i in 1 2 3; do
  for v in old new; do
    B=$O; [ $v = new ] && B=$N
    echo "== $(date -u +%H:%M:%S) pair $i $v wide"
    $B bench --layers bdlru --orders 1 2 3 4 --devices cpu --algorithms sequential --no-reference --no-peers --reps 3 --json $D/wide_${v}_$i.json
    echo "== $(date -u +%H:%M:%S) pair $i $v train-tm"
    $B bench --layers bdlru --orders 1 2 3 4 --devices cpu --algorithms time_major --no-reference --no-peers --reps 5 --batch 128 --seq 256 --width 256 --json $D/tm_${v}_$i.json
  done
done
echo DONE
