#include "thread_pool.h"

#include "HalideRuntime.h"

#include <omp.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace statemix {

namespace {

// Halide's parallel loop on OpenMP: every task once, in any order (Halide's contract). Dynamic
// scheduling, as Halide's own pool hands out tasks, since a schedule's tasks may be uneven.
int openmp_do_par_for(void *user_context, halide_task_t f, int min, int size, uint8_t *closure) {
    std::atomic<int> result{0};
    if (size == 1 || omp_in_parallel()) {
        for (int i = min; i < min + size; i++) {
            if (int r = f(user_context, i, closure)) result.store(r);
        }
        return result.load();
    }
#pragma omp parallel for schedule(dynamic, 1)
    for (int i = min; i < min + size; i++) {
        if (int r = f(user_context, i, closure)) result.store(r);
    }
    return result.load();
}

}  // namespace

void install_thread_pool() {
    static const bool installed = [] {
        const char *env = std::getenv("STATEMIX_HALIDE_POOL");
        if (env && std::strcmp(env, "halide") == 0) return false;
        halide_set_custom_do_par_for(openmp_do_par_for);
        return true;
    }();
    (void)installed;
}

void set_num_threads(int n) {
    if (n <= 0) return;
    omp_set_num_threads(n);
    halide_set_num_threads(n);  // for STATEMIX_HALIDE_POOL=halide
}

int num_threads() { return omp_get_max_threads(); }

namespace {
const bool g_installed_at_start = (install_thread_pool(), true);
}  // namespace

}  // namespace statemix
