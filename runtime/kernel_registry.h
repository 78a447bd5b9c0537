// The table of AOT-compiled kernels, one row per statemix_kernel() line in
// generators/CMakeLists.txt (the table itself is generated into the build tree). The runtime
// dispatches through it by (layer, direction, m, algorithm, device); nothing else knows kernel
// names.
#pragma once

struct halide_filter_metadata_t;

namespace statemix {

struct KernelEntry {
    const char *name;       // e.g. "sm_bdlru_fwd_seq_m4_cpu"
    const char *layer;      // "bdlru" | "hlru"
    const char *direction;  // "forward" | "backward"
    const char *algorithm;  // "sequential" | "chunked"
    int m;
    const char *device;     // "cpu" | "cuda"
    int chunk;              // chunk length (chunked kernels), else 0
    int (*argv)(void **args);  // Halide's uniform entry point: buffers and scalar pointers in order
    const halide_filter_metadata_t *(*metadata)();
};

extern const KernelEntry kKernelTable[];
extern const int kKernelTableSize;

}  // namespace statemix
