#!/bin/bash
# A = reverse_channels=0, B = reverse_channels=1, same generator (/tmp/s40/gen_exp), AVX2 target
export TARGET=x86-64-linux-avx-avx2-f16c-fma-sse41-no_asserts
S=/work/main/docs/data/bench-2026-12-01-s19/mk_ab.sh; G=/tmp/s40/gen_exp
while read L M P; do
  P=${P//,/ }
  case $L in hlru) G_=hlru_backward; DRV=ab_h.cpp;; bdlru) G_=bdlru_backward; DRV=ab_driver.cpp;; esac
  bash $S $G_ $M "$P reverse_channels=0" "$P reverse_channels=1" r_${L}${M}b_${P//[ =]/_} $DRV $G $G > /dev/null 2>&1 && echo "built $L $M [$P]" || echo "FAILED $L $M [$P]"
done
