#!/bin/bash
# usage: [LAYER=hlru] build.sh "name:m:GENBIN:params[:N]" ...   (then /tmp/exp/k/bench REPS)
# Builds each bdlru_forward (LAYER=hlru: hlru_forward) variant with the named generator binary (a
# copy of build/generators/statemix_scan_generators, or one from mkgen.sh), one Halide runtime, and
# bench.cpp into /tmp/exp/k. N: blocks (channels), default 1024/m.
set -e
T=${TARGET:-x86-64-linux-avx-avx2-avx512-avx512_cannonlake-avx512_sapphirerapids-avx512_skylake-avxvnni-f16c-fma-sse41}
D=/tmp/exp/k; rm -rf $D; mkdir -p $D
INC=$(ls -d /work/main/.venv/lib/python3*/site-packages/halide/include)
${RUNTIME_GEN:-/work/main/build/generators/statemix_scan_generators} -r halide_rt -o $D -e static_library target=$T
echo > $D/kernels.h; list=""
pids=()
for spec in "$@"; do
  IFS=: read name m gen params nn <<< "$spec"; nn=${nn:-$((1024 / m))}
  ( $gen -g ${LAYER:-bdlru}_forward -f $name -o $D -e static_library,h,stmt,assembly target=$T-no_runtime m=$m $params ) &
  pids+=($!)
  echo "#include \"$name.h\"" >> $D/kernels.h
  list="$list {\"$name\", $m, $nn, $name},"
done
for p in ${pids[@]}; do wait $p; done
echo "#define KERNELS $list" >> $D/kernels.h
g++ -O2 -std=c++17 -I$INC -I$D $([ "${LAYER:-bdlru}" = hlru ] && echo -DHLRU) $(dirname $0)/bench.cpp $(ls $D/*.a | grep -v halide_rt) $D/halide_rt.a -o $D/bench -lpthread -ldl
echo built
