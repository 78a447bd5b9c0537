#!/bin/bash
# In-process A/B, old (c8a019d) against new (7dfd1c6) generator, the dispatched kernels' knobs, AVX2, 2 threads, bench shape.
export TARGET=x86-64-linux-avx-avx2-f16c-fma-sse41-no_asserts NT=2
MK=/work/main/docs/data/bench-2026-12-01-s19/mk_ab.sh; OLD=/tmp/old/statemix_scan_generators; NEW=/work/main/build/generators/statemix_scan_generators
cd /tmp/mb  # holds ab_driver.cpp (../bench-2026-12-01-interleave/ab_driver.cpp)
run() { G=$1; M=$2; P=$3; TAG=$4; W=$5; H=$6
  bash $MK $G $M "$P" "$P" $TAG ab_driver.cpp $OLD $NEW >/dev/null 2>&1 || { echo "build $TAG failed"; return; }
  echo "[$G m=$M $P]"; ./$TAG/run $M 16 2048 $W 7 $H; ./$TAG/run $M 3 255 40 21 $H; }
run bdlru_backward 1 "tile=512 vector_width=0" x_b1 1024
run bdlru_backward 2 "tile=128 vector_rows=true vector_width=0" x_b2 1024
run bdlru_backward 3 "tile=256 vector_width=0" x_b3 1023
run bdlru_backward 4 "tile=64 vector_width=0" x_b4 1024
run hlru_backward 1 "tile=512 vector_width=0" x_h1 1024 h
run hlru_backward 2 "tile=512 vector_width=0" x_h2 512 h
run hlru_backward 3 "tile=512 vector_width=16" x_h3 341 h
run hlru_backward 4 "tile=512 vector_width=0" x_h4 256 h
