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
    const char *params = "";   // the GeneratorParams it was compiled with ("tile=256 two_pass=true")
    // A kernel compiled at run time (the autotuner's JIT candidates, autotune/): when set, it is
    // called as call(ctx, args) instead of argv(args).
    int (*call)(const void *ctx, void **args) = nullptr;
    const void *ctx = nullptr;
    const halide_filter_metadata_t *jit_metadata = nullptr;  // used instead of metadata() when set

    const halide_filter_metadata_t *meta() const { return jit_metadata ? jit_metadata : metadata(); }
};

// The variant the build chose for one (layer, direction, device, m) and shape bucket: lanes =
// B·N and T in [min, max]. Generated from the tuning database (autotune/db/, cmake/
// StatemixTuning.cmake); select_kernel (scan_ops.h) dispatches through it.
struct KernelChoice {
    const char *layer, *direction, *device;
    int m;
    const char *bucket;
    long long lanes_min, lanes_max, t_min, t_max;
    const char *kernel;  // a name in kKernelTable
    bool tuned;          // false: no database entry, the build's default
};
extern const KernelChoice kKernelChoices[];
extern const int kKernelChoicesSize;

extern const KernelEntry kKernelTable[];
extern const int kKernelTableSize;

}  // namespace statemix
