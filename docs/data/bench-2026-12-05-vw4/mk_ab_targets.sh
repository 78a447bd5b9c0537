#!/bin/bash
# mk_ab.sh GENERATOR M "PARAMS_A" "PARAMS_B" TAG DRIVER [GEN_A [GEN_B]]
# Builds /tmp/mb/TAG/run: DRIVER (../bench-2026-12-01-interleave/ab_driver.cpp for a backward,
# forward_ab_driver.cpp for the H-LRU forward, ../bench-2026-12-01-s20/bdlru_forward_ab_driver.cpp for the BD-LRU forward; copied into /tmp/mb) linked with kernel a (PARAMS_A,
# from GEN_A) and kernel b (PARAMS_B, from GEN_B). The generators default to the build's; give two
# copies of build/generators/statemix_scan_generators built from two sources to compare code changes.
G=$1; M=$2; PA=$3; PB=$4; TAG=$5; DRV=$6
GA=${7:-/work/main/build/generators/statemix_scan_generators}; GB=${8:-$GA}
# TARGET (env): the Halide target; default AVX-512 (an AVX2 machine: TARGET=x86-64-linux-avx-avx2-f16c-fma-sse41-no_asserts)
T=${TARGET:-x86-64-linux-avx-avx2-avx512-avx512_skylake-f16c-fma-sse41-no_asserts}
cd /tmp/mb && rm -rf $TAG && mkdir $TAG && cd $TAG
$GA -n fa -d 0 -g $G -f fa -e static_library,h,assembly -o . target=${TA:-$T} m=$M $PA || exit 1
$GB -n fb -d 0 -g $G -f fb -e static_library,h,assembly -o . target=${TB:-$T}-no_runtime m=$M $PB || exit 1
cp fa.h a.h; cp fb.h b.h
g++ -O2 -std=c++17 -I. -I/work/main/.venv/lib/python3.11/site-packages/halide/include ../$DRV fa.a fb.a -o run -lpthread -ldl
