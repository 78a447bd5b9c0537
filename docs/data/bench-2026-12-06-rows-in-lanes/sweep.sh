#!/bin/bash
# sweep.sh M N "PA" "PB"...  : builds A vs each B, runs NT=2 bench shape, 5 reps
M=$1; N=$2; PA=$3; shift 3
i=0
for PB in "$@"; do
  i=$((i+1)); TAG=sw_m${M}_$i
  bash /work/main/docs/data/bench-2026-12-01-s19/mk_ab.sh bdlru_forward $M "$PA" "$PB" $TAG bdlru_forward_ab_driver.cpp >/dev/null 2>&1 || { echo "build fail $PB"; continue; }
  echo "A=[$PA] B=[$PB]"; (cd /tmp/mb/$TAG && NT=2 ./run $M 16 2048 $N 5)
done
