#!/bin/bash
# A = reverse_channels=0, B = reverse_channels=1, same generator, AVX-512 target (mk_ab.sh's default)
S=/work/main/docs/data/bench-2026-12-01-s19/mk_ab.sh; G=/tmp/mb/gen
while read L M P; do
  P=${P//,/ }
  case $L in hlru) G_=hlru_backward; DRV=ab_h.cpp;; bdlru) G_=bdlru_backward; DRV=ab_driver.cpp;; esac
  bash $S $G_ $M "$P reverse_channels=0" "$P reverse_channels=1" r_${L}${M} $DRV $G $G > /tmp/mb/build_r_${L}${M}.log 2>&1 && echo "built $L $M [$P]" || echo "FAILED $L $M [$P]"
done <<'LIST'
hlru 1 tile=1024,vector_width=32
hlru 2 tile=1024,vector_width=32
hlru 3 tile=1024,vector_width=32
hlru 4 tile=1024,vector_width=32
bdlru 1 tile=1024,vector_width=32
bdlru 2 tile=512,vector_width=0
LIST
