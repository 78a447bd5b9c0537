#!/bin/bash
# A = the entry's knobs before this session, B = the re-tuned entry's knobs (same generator)
# (thirty-eighth session; built in /tmp/mb by ../bench-2026-12-01-s19/mk_ab.sh from the generator of f5d9333)
export TARGET=x86-64-linux-avx-avx2-f16c-fma-sse41-no_asserts
S=/work/main/docs/data/bench-2026-12-01-s19/mk_ab.sh; G=/tmp/s38/gen/old
while read L M D PA PB; do
  PA=${PA//,/ }; PB=${PB//,/ }
  case $L$D in hlruf) G_=hlru_forward; DRV=forward_ab_driver.cpp;; hlrub) G_=hlru_backward; DRV=ab_h.cpp;; bdlruf) G_=bdlru_forward; DRV=bdlru_forward_ab_driver.cpp;; bdlrub) G_=bdlru_backward; DRV=ab_driver.cpp;; esac
  bash $S $G_ $M "$PA" "$PB" f_${L}${M}${D} $DRV $G $G > /dev/null 2>&1 && echo "built $L $M $D: A=[$PA] B=[$PB]" || echo "FAILED $L $M $D"
done <<'LIST'
hlru 3 f tile=1024,vector_width=16 tile=1024,vector_width=4
hlru 4 f tile=1024,vector_width=16 tile=1024,vector_width=4
hlru 3 b tile=1024,vector_width=16 tile=1024,vector_width=4
bdlru 4 f tile=256,vector_rows=true,vector_width=0 tile=256,vector_width=4
bdlru 5 f tile=512,vector_width=0 tile=1024,vector_width=4
bdlru 5 b tile=256,vector_width=0 tile=64,vector_width=4
LIST
