#!/bin/bash
# BD-LRU m = 16 only, the old and new binaries alternating four times; then the H-LRU m = 5-8
# kernels with every compiled variant (--variants) in one run of the new binary, twice.
cd /work/main
A="--layers bdlru --orders 16 --devices cpu --algorithms sequential --no-peers --no-reference --reps 5"
for i in 1 2 3 4; do
  OLD_STATEMIX bench $A --json OUT/m16_old_$i.json > /dev/null 2>&1
  build/tools/statemix bench $A --json OUT/m16_new_$i.json > /dev/null 2>&1
done
for i in 1 2; do
  build/tools/statemix bench --layers hlru --orders 5 6 7 8 --devices cpu --algorithms sequential --no-peers --no-reference --reps 5 --variants --json OUT/hlru_variants_$i.json > /dev/null 2>&1
done
echo done > OUT/DONE2
