#!/bin/bash
# A/B of 1/S in the softmax gates: DIV = a tuner built with the division, RCP = one built with
# the reciprocal estimate and a Newton step (gate_norm.h norm_inv). `statemix_tune measure` of each
# kernel's knobs at the bench's shape, 7 runs each, the two tuners alternating twice.
# From the repository root:  DIV=/tmp/tune_div RCP=build/tools/statemix_tune bash $0 > recip_ab.txt
run() {  # layer dir m shape params
  for i in 1 2; do
    for side in DIV RCP; do
      bin=${!side}
      printf '%s %s %s m=%s %s [%s] ' $side $1 $2 $3 $4 "$5"
      $bin measure --layers $1 --directions $2 --orders $3 --shape $4 --reps 7 --quiet --params "$5" 2>&1 | grep -E ' ms ' | head -1
    done
  done
}
run hlru forward 1 16x2048x1024 "tile=1024 vector_width=16"
run bdlru forward 1 16x2048x1024 "tile=1024 vector_width=16"
run hlru forward 2 16x2048x512 "tile=1024"
run bdlru forward 2 16x2048x1024 "tile=512 vector_rows=true"
run hlru forward 8 16x2048x128 "tile=512"
run hlru backward 1 16x2048x1024 "tile=1024 vector_width=16"
run bdlru backward 2 16x2048x1024 "tile=512"
