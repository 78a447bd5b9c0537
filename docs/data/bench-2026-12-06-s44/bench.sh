#!/bin/bash
# Alternates the build before this session's changes (old, 43b8a58) with the new one, twice each.
cd /work/main
A="--layers bdlru hlru --orders 1 5 6 7 8 16 --devices cpu --algorithms sequential --no-peers --no-reference --reps 3"
for i in 1 2; do
  OLD_STATEMIX bench $A --json OUT/old_$i.json > OUT/old_$i.log 2>&1
  build/tools/statemix bench $A --json OUT/new_$i.json > OUT/new_$i.log 2>&1
done
echo done > OUT/DONE
