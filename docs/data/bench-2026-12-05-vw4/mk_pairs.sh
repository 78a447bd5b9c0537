#!/bin/bash
# Thirty-eighth session (2026-12-05), AMD EPYC (Zen 1, AVX2): builds in /tmp/mb an A/B pair per AVX2
# `wide` entry of autotune/db/tuning.json (as of f5d9333): A = the entry's knobs, B = the same
# at vector_width=4, both from the build's generator of f5d9333 (copied to /tmp/s38/gen/old), with
# ../bench-2026-12-01-s19/mk_ab.sh and its drivers (forward_ab_driver.cpp,
# bdlru_forward_ab_driver.cpp, ab_driver.cpp; ab_h.cpp = ab_driver.cpp with
# ../bench-2026-12-05-softmax3/ab_driver_hlru.patch). run_pairs.sh times them: ab_1.txt, ab_2.txt
# (ab_2.txt ran while a build used one core: both sides alike, the ratios noisier).
export TARGET=x86-64-linux-avx-avx2-f16c-fma-sse41-no_asserts
S=/work/main/docs/data/bench-2026-12-01-s19/mk_ab.sh; G=/tmp/s38/gen/old
while read L M D P; do
  P=${P//,/ }
  PB=$(echo "$P" | sed 's/vector_width=[0-9]*//')" vector_width=4"
  PA="$P"; echo "$PA" | grep -q vector_width || PA="$PA vector_width=0"
  case $L$D in hlruf) G_=hlru_forward; DRV=forward_ab_driver.cpp;; hlrub) G_=hlru_backward; DRV=ab_h.cpp;; bdlruf) G_=bdlru_forward; DRV=bdlru_forward_ab_driver.cpp;; bdlrub) G_=bdlru_backward; DRV=ab_driver.cpp;; esac
  bash $S $G_ $M "$PA" "$PB" v_${L}${M}${D} $DRV $G $G > /tmp/s38/vw4/build_${L}${M}${D}.log 2>&1 && echo "built $L $M $D: A=[$PA] B=[$PB]" || echo "FAILED $L $M $D"
done <<'LIST'
hlru 1 f tile=1024,vector_width=16
hlru 2 f tile=1024,vector_width=16
hlru 3 f tile=1024,vector_width=16
hlru 4 f tile=1024,vector_width=16
hlru 5 f tile=512
hlru 8 f tile=256
hlru 1 b tile=1024,vector_width=16
hlru 2 b tile=1024
hlru 3 b tile=1024,vector_width=16
hlru 4 b tile=1024,vector_width=16
hlru 5 b tile=512
hlru 8 b tile=512
bdlru 1 f tile=1024,vector_width=16
bdlru 2 f tile=1024,vector_rows=true
bdlru 3 f tile=1024
bdlru 4 f tile=256,vector_rows=true
bdlru 5 f tile=512
bdlru 8 f tile=128
bdlru 1 b tile=1024,vector_width=16
bdlru 2 b tile=512
bdlru 3 b tile=512
bdlru 4 b tile=512
bdlru 5 b tile=256
bdlru 8 b tile=256
LIST
