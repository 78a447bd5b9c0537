#!/bin/bash
# Time-major forward: the build's default knobs vs the same with the vector loop unrolled, two shapes.
cd /tmp/s49
M() { # layer m params_old params_new
  for shape in 16x2048x1024 64x512x512; do
    ./statemix_tune measure --layers $1 --orders $2 --directions forward --shape $shape --reps 5 --quiet --params "$3" --params "$4" 2>&1 | grep -v "^$"
  done
}
M bdlru 2 "tile=512 vector_rows=true vector_width=0 time_major=true" "tile=512 vector_rows=true vector_width=8 unroll=4 time_major=true"
M bdlru 3 "tile=512 vector_rows=true vector_width=0 time_major=true" "tile=512 vector_rows=true vector_width=5 unroll=4 time_major=true"
M bdlru 4 "tile=512 vector_rows=true vector_width=0 time_major=true" "tile=512 vector_rows=true vector_width=4 unroll=4 time_major=true"
M bdlru 5 "tile=512 vector_rows=true vector_width=0 time_major=true" "tile=512 vector_rows=true vector_width=6 unroll=2 time_major=true"
M bdlru 8 "tile=64 vector_rows=true vector_width=4 time_major=true" "tile=64 vector_rows=true vector_width=2 unroll=4 time_major=true"
M bdlru 16 "tile=32 vector_rows=true vector_width=1 transpose_logits=true time_major=true" "tile=32 vector_rows=true vector_width=1 transpose_logits=true unroll=2 time_major=true"
M hlru 1 "tile=512 vector_width=0 time_major=true" "tile=512 vector_width=0 unroll=4 time_major=true"
M hlru 4 "tile=512 vector_width=0 time_major=true" "tile=512 vector_width=0 unroll=4 time_major=true"
M hlru 8 "tile=512 vector_width=0 time_major=true" "tile=512 vector_width=0 unroll=4 time_major=true"
