// One thread pool for the whole process. The generated kernels use Halide's own pool and the dense
// products use oneDNN's, which Debian builds on OpenMP. Two pools on the same cores fight: OpenMP's
// workers spin for a while after each product (GOMP's default active wait) while Halide's workers
// want the same cores, and the other way round. Measured on the 2-core dev machine (the main job's
// model, 20 steps): 10.9K tokens/s with both pools, 36.9K with OMP_WAIT_POLICY=passive.
// So Halide's parallel loops run on OpenMP's threads instead (halide_set_custom_do_par_for): one
// set of workers, kept warm for whichever library calls next. Installed at program start (and
// again, idempotently, by every kernel call); STATEMIX_HALIDE_POOL=halide keeps Halide's own pool.
#pragma once

namespace statemix {

void install_thread_pool();  // idempotent
// Threads for both the kernels and the dense products (0: OpenMP's default, every core).
void set_num_threads(int n);
// The threads a parallel region gets now.
int num_threads();

}  // namespace statemix
