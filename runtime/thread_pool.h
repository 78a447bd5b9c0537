// Threads of the two pools a process runs: Halide's (the generated kernels) and OpenMP's (oneDNN,
// the dense products).
//
// Routing Halide's parallel loops onto OpenMP's workers (halide_set_custom_do_par_for) was tried
// and measured on the 2-core dev machine (2026-11-29), BD-LRU m = 2 sequential forward at
// B = 128, T = 256, N·m = 256: 1166 ms with OpenMP's default spinning wait, about 40 ms with
// OMP_WAIT_POLICY=passive, against 29-34 ms on Halide's own pool. So each library keeps its own
// pool, and OpenMP's idle workers are kept from spinning (use_passive_openmp_wait, dense_ops.h).
#pragma once

namespace statemix {

// Threads for both the kernels and the dense products (n <= 0: leave the defaults, every core).
void set_num_threads(int n);

}  // namespace statemix
