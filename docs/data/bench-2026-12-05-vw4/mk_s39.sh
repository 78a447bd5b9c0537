#!/bin/bash
# Thirty-ninth session: A = the entry's knobs before the re-tune, B = the tuner's new winner (the
# build's generator, 77bb720), built in /tmp/mb by ../bench-2026-12-01-s19/mk_ab.sh; run_s39.sh runs them.
export TARGET=x86-64-linux-avx-avx2-f16c-fma-sse41-no_asserts
S=/work/main/docs/data/bench-2026-12-01-s19/mk_ab.sh; G=/work/main/build/generators/statemix_scan_generators
cp $G /tmp/s39/gen
while read L M D PA PB; do
  PA=${PA//,/ }; PB=${PB//,/ }
  case $L$D in hlruf) G_=hlru_forward; DRV=forward_ab_driver.cpp;; hlrub) G_=hlru_backward; DRV=ab_h.cpp;; bdlruf) G_=bdlru_forward; DRV=bdlru_forward_ab_driver.cpp;; bdlrub) G_=bdlru_backward; DRV=ab_driver.cpp;; esac
  bash $S $G_ $M "$PA" "$PB" g_${L}${M}${D} $DRV /tmp/s39/gen /tmp/s39/gen > /dev/null 2>&1 && echo "built $L $M $D: A=[$PA] B=[$PB]" || echo "FAILED $L $M $D"
done <<'LIST'
bdlru 3 b tile=512,vector_width=0 tile=1024,vector_width=0
bdlru 8 b tile=256,vector_width=0 tile=1024,vector_width=4
hlru 5 b tile=1024,vector_width=16 tile=128,vector_width=4
hlru 6 b tile=1024,vector_width=0 tile=1024,vector_width=4
hlru 7 b tile=256,vector_width=0 tile=512,vector_width=4
hlru 5 f tile=1024,vector_width=0 tile=256,vector_width=4
hlru 6 f tile=512,vector_width=0 tile=512,vector_width=4
hlru 7 f tile=1024,vector_width=0 tile=512,vector_width=0
hlru 8 f tile=1024,vector_width=0 tile=512,vector_width=0
LIST
