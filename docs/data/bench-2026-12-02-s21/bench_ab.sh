#!/bin/bash
# Old (c8a019d) and new builds of statemix, alternating: old, new, old, new.
set -e
cd /work/main
OUT=/tmp/s21
ARGS="bench --layers bdlru hlru --orders 1 2 3 4 8 --devices cpu --algorithms sequential time_major --no-reference --no-peers --reps 3"
for i in 1 2; do
  /tmp/old/statemix $ARGS --json $OUT/old_$i.json > $OUT/old_$i.txt 2>&1
  build/tools/statemix $ARGS --json $OUT/new_$i.json > $OUT/new_$i.txt 2>&1
done
# train CONFIG TAG: 12 steps of each build, profiled, twice, alternating
train() {
  local TR="train $1 --set train.steps=12 --set train.warmup=2 --set train.eval_every=0 --set train.checkpoint_every=0 --profile"
  for i in 1 2; do
    rm -rf /tmp/s21/tro /tmp/s21/trn
    /tmp/old/statemix $TR --out /tmp/s21/tro > $OUT/$2_old_$i.txt 2>&1
    build/tools/statemix $TR --out /tmp/s21/trn > $OUT/$2_new_$i.txt 2>&1
  done
}
train configs/selective_copy_bdlru.json train
train configs/recall_hlru.json train_hlru
echo done
