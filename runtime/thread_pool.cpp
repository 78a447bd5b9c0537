#include "thread_pool.h"

#include "HalideRuntime.h"

#include <omp.h>

namespace statemix {

void set_num_threads(int n) {
    if (n <= 0) return;
    omp_set_num_threads(n);
    halide_set_num_threads(n);
}

}  // namespace statemix
