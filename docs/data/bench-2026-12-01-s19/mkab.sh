#!/bin/bash
# mkab.sh GENERATOR M "PARAMS" TAG DRIVER: a from /tmp/gen_old, b from /tmp/gen_new
G=$1; M=$2; P=$3; TAG=$4; DRV=$5
T=x86-64-linux-avx-avx2-avx512-avx512_skylake-f16c-fma-sse41-no_asserts
cd /tmp/mb && rm -rf $TAG && mkdir $TAG && cd $TAG
/tmp/gen_old -n fa -d 0 -g $G -f fa -e static_library,h,assembly -o . target=$T m=$M $P || exit 1
/tmp/gen_new -n fb -d 0 -g $G -f fb -e static_library,h,assembly -o . target=$T-no_runtime m=$M $P || exit 1
cp fa.h a.h; cp fb.h b.h
g++ -O2 -std=c++17 -I. -I/work/main/.venv/lib/python3.11/site-packages/halide/include ../$DRV fa.a fb.a -o run -lpthread -ldl
