#!/bin/bash
# mk.sh GENERATOR M "PARAMS" TAG -> /tmp/mb/TAG/run, the driver linked with the kernel from two
# generator binaries: /tmp/gen_old (fa) and /tmp/gen_new (fb), copies of build/generators/
# statemix_scan_generators built from the two sources. Run from /tmp/mb with ab_driver.cpp as ../drv.cpp.
G=$1; M=$2; P=$3; TAG=$4
T=x86-64-linux-avx-avx2-avx512-avx512_skylake-f16c-fma-sse41-no_asserts
cd /tmp/mb && rm -rf $TAG && mkdir $TAG && cd $TAG
/tmp/gen_old -n fa -d 0 -g $G -f fa -e static_library,h -o . target=$T m=$M $P || exit 1
/tmp/gen_new -n fb -d 0 -g $G -f fb -e static_library,h -o . target=$T-no_runtime m=$M $P || exit 1
cp fa.h a.h; cp fb.h b.h
g++ -O2 -std=c++17 -I. -I/work/main/.venv/lib/python3.11/site-packages/halide/include ../drv.cpp fa.a fb.a -o run -lpthread -ldl
