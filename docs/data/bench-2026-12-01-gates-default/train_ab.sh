cd /work/main
for i in 1 2; do
 for v in old new; do
  B=statemix_old; [ $v = new ] && B=build/tools/statemix
  rm -rf /tmp/run_$v
  echo "== $(date -u +%H:%M:%S) $i $v"
  OMP_WAIT_POLICY=passive $B train configs/selective_copy_bdlru.json --out /tmp/run_$v --set train.steps=60 --set train.warmup=10 --set train.eval_every=1000 --set train.checkpoint_every=1000 --profile 2>&1 | grep -E "tokens/s|bdlru m=" 
 done
done
