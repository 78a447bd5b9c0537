#!/bin/bash
# Old knobs against new through the runtime's own path (`statemix_tune measure`: JIT-compiled
# kernels called as the runtime calls them, a channel count off the vector width as two calls), at
# the bench's shape, two threads, median of N runs, the copy ceiling sampled between them.
# measure_1.txt (11:06 UTC; its last line failed on a doubled --reps, rerun in measure_2.txt),
# measure_2.txt (11:09; also the thirty-eighth session's entries), measure_3.txt (11:13; the
# contested ones again). From the repository root:
M="build/tools/statemix_tune measure --reps 9"; P="algorithm=sequential"
$M --layers hlru --orders 5 --directions forward --shape 16x2048x204 --params "$P tile=1024 vector_width=0" --params "$P tile=256 vector_width=4"
$M --layers hlru --orders 6 --directions forward --shape 16x2048x170 --params "$P tile=512 vector_width=0" --params "$P tile=512 vector_width=4"
$M --layers hlru --orders 5 --directions backward --shape 16x2048x204 --params "$P tile=1024 vector_width=16" --params "$P tile=128 vector_width=4"
$M --layers hlru --orders 6 --directions backward --shape 16x2048x170 --params "$P tile=1024 vector_width=0" --params "$P tile=1024 vector_width=4"
$M --layers hlru --orders 7 --directions backward --shape 16x2048x146 --params "$P tile=256 vector_width=0" --params "$P tile=512 vector_width=4"
M="build/tools/statemix_tune measure --reps 5"
$M --layers bdlru --orders 8 --directions backward --shape 16x2048x1024 --params "$P tile=256 vector_width=0" --params "$P tile=1024 vector_width=4"
$M --layers bdlru --orders 5 --directions forward --shape 16x2048x1020 --params "$P tile=512 vector_width=0" --params "$P tile=1024 vector_width=4"
$M --layers bdlru --orders 5 --directions backward --shape 16x2048x1020 --params "$P tile=256 vector_width=0" --params "$P tile=64 vector_width=4"
M="build/tools/statemix_tune measure --reps 7"
$M --layers hlru --orders 3 --directions forward --shape 16x2048x341 --params "$P tile=1024 vector_width=16" --params "$P tile=1024 vector_width=4"
$M --layers hlru --orders 3 --directions backward --shape 16x2048x341 --params "$P tile=1024 vector_width=16" --params "$P tile=1024 vector_width=4"
$M --layers hlru --orders 4 --directions forward --shape 16x2048x256 --params "$P tile=1024 vector_width=16" --params "$P tile=1024 vector_width=4"
# measure_tm.txt (11:27-11:34 UTC): the time-major kernels (the training runtime's CPU layout; fixed
# knobs tile 512, width 0 for every tier in generators/CMakeLists.txt) at a training shape, width 0
# against width 4; not built into the product.
P="algorithm=sequential time_major=true tile=512"; M="build/tools/statemix_tune measure --reps 9"
$M --layers hlru --orders 3 --directions forward --shape 128x256x256 --params "$P vector_width=0" --params "$P vector_width=4"
$M --layers hlru --orders 3 --directions backward --shape 128x256x256 --params "$P vector_width=0" --params "$P vector_width=4"
$M --layers hlru --orders 4 --directions forward --shape 128x256x256 --params "$P vector_width=0" --params "$P vector_width=4"
$M --layers bdlru --orders 4 --directions forward --shape 128x256x256 --params "$P vector_rows=true vector_width=0" --params "$P vector_width=4" --params "$P vector_rows=true vector_width=4"
$M --layers bdlru --orders 4 --directions backward --shape 128x256x256 --params "$P vector_width=0" --params "$P vector_width=4"
M="build/tools/statemix_tune measure --reps 7"
$M --layers bdlru --orders 3 --directions backward --shape 128x256x255 --params "$P vector_width=0" --params "$P vector_width=4"
$M --layers bdlru --orders 8 --directions backward --shape 128x256x256 --params "$P vector_width=0" --params "$P vector_width=4"
$M --layers hlru --orders 8 --directions backward --shape 128x256x256 --params "$P vector_width=0" --params "$P vector_width=4"
