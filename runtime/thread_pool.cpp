#include "thread_pool.h"

#include "error.h"

#include "HalideRuntime.h"

#include <omp.h>

#include <cstdlib>
#include <cstring>
#include <string>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#define STATEMIX_HAVE_MXCSR 1
#endif

namespace statemix {

void set_num_threads(int n) {
    if (n <= 0) return;
    omp_set_num_threads(n);
    halide_set_num_threads(n);
}

namespace {
#ifdef STATEMIX_HAVE_MXCSR
constexpr unsigned kFtzDaz = 0x8040;  // MXCSR bit 15 (flush to zero) and bit 6 (denormals are zero)
void set_this_thread(bool on) {
    const unsigned csr = _mm_getcsr();
    _mm_setcsr(on ? (csr | kFtzDaz) : (csr & ~kFtzDaz));
}
#endif
}  // namespace

bool flush_denormals_enabled() {
#ifdef STATEMIX_HAVE_MXCSR
    return (_mm_getcsr() & kFtzDaz) == kFtzDaz;
#else
    return false;
#endif
}

bool set_flush_denormals(bool on) {
#ifdef STATEMIX_HAVE_MXCSR
    set_this_thread(on);
    // OpenMP's workers persist between parallel regions: set it in each. Workers created later
    // (a larger team) are started by this thread and inherit its mode.
#pragma omp parallel
    set_this_thread(on);
    // Halide's workers inherit the mode of the thread that starts them (the first parallel loop
    // after this): restart the pool. The thread count set by halide_set_num_threads is kept.
    halide_shutdown_thread_pool();
    return flush_denormals_enabled() == on;
#else
    return !on;
#endif
}

bool flush_denormals_from_env() {
    const char *v = std::getenv("STATEMIX_DENORMALS");
    bool on = true;
    if (v && *v) {
        if (!std::strcmp(v, "keep")) {
            on = false;
        } else if (std::strcmp(v, "flush") != 0) {
            throw Error(std::string("environment variable STATEMIX_DENORMALS must be 'flush' or 'keep', got '") + v + "'");
        }
    }
    return set_flush_denormals(on) && on;
}

}  // namespace statemix
