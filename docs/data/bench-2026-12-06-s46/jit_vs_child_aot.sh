#!/bin/bash
# JIT (old build, 02:27) against the child-compiled AOT candidates (new), same params, alternating.
P1="tile=1024 vector_rows=true vector_width=0"
for i in 1 2; do
 for b in old new; do
  if [ $b = old ]; then T=OLD_TUNER; else T=NEW_TUNER; fi
  echo "== $b $i"; $T measure --layers bdlru --orders 4 --directions forward --shape 16x2048x1024 --reps 5 --quiet --params "$P1" --params "tile=256 vector_width=4" 2>&1 | tail -3
  $T measure --layers hlru --orders 2 --directions backward --shape 16x2048x1024 --reps 5 --quiet --params "" 2>&1 | tail -2
 done
done
