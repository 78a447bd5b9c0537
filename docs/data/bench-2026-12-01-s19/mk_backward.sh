#!/bin/bash
# mk2.sh GENERATOR M "PARAMS_A" "PARAMS_B" TAG: both kernels from the current generator binary.
G=$1; M=$2; PA=$3; PB=$4; TAG=$5
GEN=/work/main/build/generators/statemix_scan_generators
T=x86-64-linux-avx-avx2-avx512-avx512_skylake-f16c-fma-sse41-no_asserts
cd /tmp/mb && rm -rf $TAG && mkdir $TAG && cd $TAG
$GEN -n fa -d 0 -g $G -f fa -e static_library,h -o . target=$T m=$M $PA || exit 1
$GEN -n fb -d 0 -g $G -f fb -e static_library,h -o . target=$T-no_runtime m=$M $PB || exit 1
cp fa.h a.h; cp fb.h b.h
g++ -O2 -std=c++17 -I. -I/work/main/.venv/lib/python3.11/site-packages/halide/include ../drv.cpp fa.a fb.a -o run -lpthread -ldl
