#!/bin/bash
# usage: build.sh "name:m:GENBIN:params" ...   (then k/bench REPS)
# Builds each bdlru_forward variant with the named generator binary (a copy of
# build/generators/statemix_scan_generators), one Halide runtime, and bench.cpp into /tmp/exp/k.
set -e
T=${TARGET:-x86-64-linux-avx-avx2-avx512-avx512_cannonlake-avx512_sapphirerapids-avx512_skylake-avxvnni-f16c-fma-sse41}
D=/tmp/exp/k; rm -rf $D; mkdir -p $D
INC=$(ls -d /work/main/.venv/lib/python3*/site-packages/halide/include)
${RUNTIME_GEN:-/work/main/build/generators/statemix_scan_generators} -r halide_rt -o $D -e static_library target=$T
echo > $D/kernels.h; list=""
pids=()
for spec in "$@"; do
  IFS=: read name m gen params nn <<< "$spec"; nn=${nn:-$((1024 / m))}
  ( $gen -g bdlru_forward -f $name -o $D -e static_library,h,stmt,assembly target=$T-no_runtime m=$m $params ) &
  pids+=($!)
  echo "#include \"$name.h\"" >> $D/kernels.h
  list="$list {\"$name\", $m, $nn, $name},"
done
for p in ${pids[@]}; do wait $p; done
echo "#define KERNELS $list" >> $D/kernels.h
g++ -O2 -std=c++17 -I$INC -I$D $(dirname $0)/bench.cpp $(ls $D/*.a | grep -v halide_rt) $D/halide_rt.a -o $D/bench -lpthread -ldl
echo built
