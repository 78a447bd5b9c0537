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
    // CPU: the last tier (an index in kCpuTiers) the variant holds code for. A tuning database
    // winner is compiled for the tiers that can take it (its machines' tier and the ones above),
    // so it does not run on a CPU below that tier (dispatch::runs_here). -1: every tier.
    int max_cpu_tier = -1;

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
    // The CPU tier (an index in kCpuTiers) whose machine the entry was tuned on; -1: any (CUDA,
    // or a build told to use one target's entries everywhere). dispatch::tuned_choice prefers the
    // running CPU's tier (dispatch::choice_rank).
    int cpu_tier = -1;
    // The machine the entry was tuned on (its Halide target string and features; null: none
    // recorded, as for CUDA) and how many features it has beyond its tier's. Machines of one tier
    // rank kernels differently (an Intel and an AMD AVX-512 CPU), so among a tier's choices
    // dispatch::tuned_choice takes the one of a machine whose features this CPU has, else the one
    // with the fewest features beyond the tier's (dispatch::choice_order).
    const char *machine = nullptr;
    const int *machine_features = nullptr;
    int n_machine_features = 0;
    int machine_extra = 0;
    // The kernel's KernelEntry::max_cpu_tier: a CPU below it does not take this choice.
    int kernel_max_tier = -1;
};
extern const KernelChoice kKernelChoices[];
extern const int kKernelChoicesSize;

// The CPU targets the kernels are compiled for (STATEMIX_CPU_TARGETS), most capable first: the
// first whose features the CPU has is the code that runs (Halide's multi-target dispatch), and its
// index is the running CPU's tier (dispatch::cpu_tier).
struct CpuTier {
    const char *target;   // the Halide target string
    const int *features;  // its halide_target_feature_t values (none: a host build's single target)
    int n_features;
};
extern const CpuTier kCpuTiers[];
extern const int kCpuTiersSize;

extern const KernelEntry kKernelTable[];
extern const int kKernelTableSize;

}  // namespace statemix
