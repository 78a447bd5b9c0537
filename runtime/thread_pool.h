// Threads of the two pools a process runs: Halide's (the generated kernels) and OpenMP's (oneDNN,
// the dense products).
//
// Routing Halide's parallel loops onto OpenMP's workers (halide_set_custom_do_par_for) was tried
// and measured: the BD-LRU m = 2 sequential forward at B = 128, T = 256, N·m = 256 took 1166 ms
// instead of 34 ms with Halide's own pool (2-core dev machine, 2026-11-29), so each library keeps
// its own pool; see dense_ops.h for how OpenMP's idle workers are kept from spinning.
#pragma once

namespace statemix {

// Threads for both the kernels and the dense products (n <= 0: leave the defaults, every core).
void set_num_threads(int n);

}  // namespace statemix
