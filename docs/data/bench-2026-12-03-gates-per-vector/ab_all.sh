#!/bin/bash
export NT=2
MK=/work/main/docs/data/bench-2026-12-01-s19/mk_ab.sh
cd /tmp/mb
run() { G=$1; M=$2; P=$3; TAG=$4; W=$5; H=$6
  bash $MK $G $M "$P" "$P" $TAG ${DRV:-ab_driver.cpp} /tmp/exp/gen_old ${GNEW:-/tmp/exp/gen_nm} >/dev/null 2>&1 || { echo "build $TAG failed"; return; }
  echo "[$G m=$M $P]"; ./$TAG/run $M 16 2048 $W 7 $H; ./$TAG/run $M 16 2048 $W 7 $H; ./$TAG/run $M 3 255 40 21 $H; }
for spec in "$@"; do eval "run $spec"; done
