// Scratch memory of the generated kernels. Halide allocates a kernel's intermediate buffers
// (compute_root stages: the RNN backward's adjoint states, for instance, tens of MB) with
// halide_malloc on every call and frees them on return; large blocks then come from fresh mmaps
// whose pages fault in again on every call (measured: 4-5% page-fault time in the CPU backward
// profiles, more with clearing and kernel locks). The cache keeps freed blocks of at least
// 256 KiB and hands them out again, like oneDNN's scratchpads and the caching allocators of
// training frameworks. It is installed when the program starts (and again, idempotently, by
// every kernel call in dispatch.cpp); STATEMIX_SCRATCH_CACHE_MB
// sets its limit (default 1024; 0 turns it off). On CUDA it turns on Halide's own reuse of device
// allocations (halide_reuse_device_allocations).
#pragma once

#include <cstddef>

namespace statemix {

void install_scratch_cache();   // idempotent, thread-safe
// The cache's allocator itself, with Halide's custom-malloc signature (for kernels that do not
// go through halide_malloc of the AOT runtime: the autotuner's JIT candidates).
void *scratch_malloc(void *user_context, size_t size);
void scratch_free(void *user_context, void *ptr);
void release_scratch_cache();   // frees every cached block (the cache stays installed)

struct ScratchStats {
    size_t cached_bytes = 0;   // held for reuse now
    size_t limit_bytes = 0;    // 0: the cache is off
    size_t hits = 0, misses = 0;  // large allocations served from the cache / by the system
};
ScratchStats scratch_stats();

}  // namespace statemix
