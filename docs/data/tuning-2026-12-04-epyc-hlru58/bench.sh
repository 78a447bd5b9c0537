set -x
cd /work/main
for i in 1 2; do
 for v in old new; do
  if [ $v = old ]; then B=/tmp/new_statemix; else B=/tmp/bh/statemix_new; fi
  $B bench --layers hlru --devices cpu --algorithms sequential --no-peers --no-reference --reps 3 --orders 5 6 7 8 --batch 16 --seq 2048 --width 2048 --json /tmp/bh/${v}_$i.json > /tmp/bh/${v}_$i.log 2>&1
 done
done
