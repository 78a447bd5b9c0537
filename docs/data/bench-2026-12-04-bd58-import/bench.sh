set -x
cd /work/main
for i in 1 2; do
 for v in old new; do
  if [ $v = old ]; then B=/tmp/old/statemix; else B=/tmp/new_statemix; fi
  $B bench --layers bdlru --devices cpu --algorithms sequential --no-peers --no-reference --reps 3 --orders 4 5 8 --json /tmp/b58/${v}_$i.json > /tmp/b58/${v}_$i.log 2>&1
 done
done
