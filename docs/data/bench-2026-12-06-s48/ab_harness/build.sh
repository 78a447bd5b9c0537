#!/bin/bash
# usage: build.sh "name:m:layout:GENBIN:params" ...   then $OUT/bench REPS [B T norm N] (TM=1: time-major)
# layout: the adjoint buffers' layout, 0 [B,m,N] (channels in the lanes), 1 [B,N,m] (vector_rows),
# 2 [B,N,m+1] (vector_logits). Builds bdlru_backward variants from generator binaries (copies of
# build/generators/statemix_scan_generators) into one program; the first kernel is the reference.
set -e
T=${TARGET:-x86-64-linux-avx-avx2-avx512-avx512_cannonlake-avx512_sapphirerapids-avx512_skylake-avxvnni-f16c-fma-sse41}
D=${OUT:-/tmp/s48/hk}; mkdir -p $D; rm -f $D/kernels.h
INC=/work/main/.venv/lib/python3.11/site-packages/halide/include
[ -f $D/halide_rt.a ] || ${RUNTIME_GEN:-/work/main/build/generators/statemix_scan_generators} -r halide_rt -o $D -e static_library target=$T
list=""; pids=()
for spec in "$@"; do
  IFS=: read name m layout gen params <<< "$spec"
  if [ ! -f $D/$name.a ] || [ -n "$FORCE" ]; then ( $gen -g bdlru_backward -f $name -o $D -e static_library,h,stmt,assembly target=$T-no_runtime m=$m $params ) & pids+=($!); fi
  echo "#include \"$name.h\"" >> $D/kernels.h
  list="$list {\"$name\", $m, $layout, $name},"
done
for p in ${pids[@]}; do wait $p; done
echo "#define KERNELS $list" >> $D/kernels.h
objs=""; for spec in "$@"; do IFS=: read name rest <<< "$spec"; objs="$objs $D/$name.a"; done
g++ -O2 -std=c++17 -I$INC -I$D $(dirname $0)/bench_bwd.cpp $objs $D/halide_rt.a -o $D/bench -lpthread -ldl
echo built
