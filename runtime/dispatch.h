// What every op family's dispatch to the generated kernels shares: argument checks that name the
// argument, the expected and the actual shape, and running a kernel with its arguments matched by
// name against the kernel's own metadata (so no call site depends on the generator's argument
// order, which configure()-added inputs make easy to get wrong).
#pragma once

#include "kernel_registry.h"
#include "tensor.h"

#include <string>
#include <vector>

namespace statemix::dispatch {

// Error "<op>: argument '<arg>' must have shape <layout> = [..], got [..]" (or "is undefined").
void check_shape(const std::string &op, const char *arg, const Tensor &t, const Shape &want, const char *layout);
// Error unless t is on `device` (the device of argument `device_arg`).
void check_device(const std::string &op, const char *arg, const Tensor &t, Device device, const char *device_arg);

// One kernel argument: a buffer (Tensor or raw halide_buffer_t) or a pointer to a scalar.
struct KernelArg {
    std::string name;
    void *value;
};

// Runs k with `args` placed in the order of its metadata; Error if an argument is missing or
// unknown, or if the kernel fails (the message carries Halide's).
void run_kernel(const KernelEntry &k, const std::vector<KernelArg> &args);

// The argument vector of k for `args`, matched by name as run_kernel does (same errors), for
// calling one kernel many times (call_kernel) after changing the buffers' contents in place: the
// stepped forward calls its step kernel once per step with views moved along t.
std::vector<void *> bind_args(const KernelEntry &k, const std::vector<KernelArg> &args);
// Both throw an Error naming the tiers when k holds no code for this CPU (runs_here).
void call_kernel(const KernelEntry &k, std::vector<void *> &argv);

// Whether k has code for this CPU: a tuned variant compiled for the bigger CPU tiers only
// (KernelEntry::max_cpu_tier) does not run on a CPU below them. Every other kernel: true, on a CPU
// that runs one of the build's CPU targets (cpu_tier_in; else call_kernel refuses every CPU kernel).
bool runs_here(const KernelEntry &k);
// The first of the n tiers whose features this CPU has (Halide's multi-target dispatch's pick), or
// -1 when it has none of them: a CPU without AVX2 and FMA under the default targets (AVX-512, AVX2).
// A tier without features (a host build's) runs anywhere.
int cpu_tier_in(const CpuTier *tiers, int n);
// The Error message for a CPU that runs none of the n tiers: the tiers, and how to build for it.
std::string unsupported_cpu_message(const CpuTier *tiers, int n);
// The same for a kernel whose last tier is max_cpu_tier (-1: every tier) on a CPU of hw_tier.
bool runs_on_tier(int max_cpu_tier, int hw_tier);

// For kernels with their own error handler (the autotuner's JIT candidates): the message the
// Error of a failing call_kernel carries. Call it from inside the kernel call, on its thread.
void set_kernel_error_message(const char *msg);

// Whether k has an argument of this name (a kernel variant's outputs can differ).
bool has_argument(const KernelEntry &k, const char *name);

// A buffer over t's memory with other dims (min, extent, stride in elements; Halide order,
// innermost first): a strided or broadcast (stride 0) view for a kernel output. `dims` must
// outlive the returned buffer. For a CUDA tensor it is a view of the device allocation, and the
// caller marks t written on the device after the kernel (Tensor::mark_device_written).
halide_buffer_t strided_view(Tensor &t, const std::vector<halide_dimension_t> &dims);

// A kernel's view of a time-major tensor ([T,B,...]): t's Halide dims with the outer two swapped,
// so a kernel that indexes (..., t, b) reads it in place. `dims` receives the view's dims and
// must outlive the returned buffer (as for strided_view).
halide_buffer_t time_major_view(Tensor &t, std::vector<halide_dimension_t> &dims);

// A sequence tensor as a kernel reads it: a time-major tensor ([T,B,...], Halide dims (..., b, t))
// is passed as its time_major_view, anything else as it is. arg() is the kernel argument; call
// written() after a kernel that wrote it (a view's CUDA memory is marked written on the device).
class KernelView {
public:
    KernelView(Tensor &t, bool time_major) : t_(t), swap_(time_major) {
        if (swap_) buf_ = time_major_view(t, dims_);
    }
    KernelView(const Tensor &t, bool time_major) : KernelView(const_cast<Tensor &>(t), time_major) {}
    KernelView(const KernelView &) = delete;
    KernelView &operator=(const KernelView &) = delete;
    void *arg() { return swap_ ? (void *)&buf_ : (void *)t_.raw(); }
    void written() {
        if (swap_) t_.mark_device_written();
    }

private:
    Tensor &t_;
    bool swap_;
    std::vector<halide_dimension_t> dims_;
    halide_buffer_t buf_{};
};

// While one is alive, `k` stands in for the build's kernel of its (layer, direction, device, m):
// find_kernel, find_kernel_or_null, tuned_kernel and the ops' automatic choices return it. This
// is how the autotuner runs a JIT candidate through the runtime's own ops (autotune/search.cpp)
// where no per-call config can name a kernel (the RNN ops). Process-wide; one at a time.
class ScopedKernelOverride {
public:
    explicit ScopedKernelOverride(const KernelEntry &k);
    ~ScopedKernelOverride();
    ScopedKernelOverride(const ScopedKernelOverride &) = delete;
    ScopedKernelOverride &operator=(const ScopedKernelOverride &) = delete;

private:
    const KernelEntry *prev_;
};
// The override for (layer, device, m) whatever its direction, or nullptr.
const KernelEntry *kernel_override(const char *layer, Device device, int m);

// The variant the tuning database chose (kKernelChoices) for the op (layer, op_direction, device,
// m) at a shape in a bucket (lanes: B·state width; T), or nullptr when no entry covers it. The
// variant's own direction can differ from op_direction: an RNN forward's choice may be a step
// kernel (direction "step") or the one-launch kernel ("forward").
const KernelEntry *tuned_kernel(const char *layer, const char *op_direction, Device device, int m, int64_t lanes,
                                int64_t T);

// The tuning database's choice for the op in the bucket as it was recorded: a kernel's name, or
// for choices of run-time knobs rather than compiled variants (the persistent CUDA RNN forward)
// the knobs as a spec ("impl=persistent,group=2,..."); nullptr when no entry covers the shape.
const char *tuned_choice(const char *layer, const char *op_direction, Device device, int m, int64_t lanes, int64_t T);
// The same as one CPU tier would take it (an index in kCpuTiers; CUDA: -1).
const char *tuned_choice(const char *layer, const char *op_direction, Device device, int m, int64_t lanes, int64_t T,
                         int tier);

// The CPU tier whose tuned choices the CPU ops take: the first of kCpuTiers (the build's CPU targets,
// most capable first) whose features this CPU has, as Halide's multi-target dispatch picks the code
// that runs; STATEMIX_TUNED_TIER=i takes tier i's choices instead (to compare them on one machine;
// a value off the table is an Error listing the tiers). Computed once.
int cpu_tier();
// The CPU tier Halide's dispatch runs here (the environment aside).
int running_cpu_tier();
// STATEMIX_TUNED_TIER's value as cpu_tier reads it: null or empty -> running_cpu_tier().
int parse_tuned_tier(const char *value);
// How far a choice tuned on tier choice_tier is from the running tier (lower is better): 0 for its
// own tier or an untiered (-1) choice, then the tiers below it (machines with fewer features, whose
// winners run here: the nearest first), then the tiers above it (tuned on bigger machines).
int choice_rank(int choice_tier, int running_tier);
// Whether this CPU has every feature of the machine a choice was tuned on (true when none is
// recorded).
bool on_tuning_machine(const KernelChoice &c);
// Halide 21's runtime (halide_can_use_target_features) reads the x86 features up to
// avx512_sapphirerapids from cpuid and takes every other as present, so an Intel Sapphire Rapids
// CPU "has" avx512_zen5 and took an AMD Zen 5's winners over its own (more features named). This
// checks, by cpuid, the instructions each processor feature adds in Halide's Target docs:
// avxvnni; avx512_zen4 (AVX512-VNNI, -BF16, -VBMI2, -BITALG, -VPOPCNTDQ over Cannonlake's);
// avx512_zen5 (Zen 4's, AVX-VNNI and AVX512-VP2INTERSECT or an AMD family 1Ah CPU);
// avx512_sapphirerapids (Zen 4's, AVX-VNNI and AMX-TILE or AVX512-FP16). Any other feature: true
// (Halide's runtime answers for it).
bool cpu_has_undetected_feature(int feature);
// The order of one (layer, direction, device, m, bucket)'s choices for the running tier, lower
// first: choice_rank of its tier, then, within a tier, the tier's own machines before a smaller
// machine's, and of those the choices tuned on a machine whose features this CPU has (the machine
// with the most features first) before those tuned on another machine (the fewest features
// beyond the tier's first). tuned_choice takes the first; a tie keeps the earlier row.
int64_t choice_order(const KernelChoice &c, int running_tier);
// tuned_choice over a given table of choices (tests). A CPU choice whose kernel has no code for
// hw_tier (runs_on_tier; -1: the running CPU's tier) is never taken, whatever `tier` asks for.
const char *tuned_choice_in(const KernelChoice *choices, int n, const char *layer, const char *op_direction,
                            Device device, int m, int64_t lanes, int64_t T, int tier, int hw_tier = -1);

// The float lanes of a Halide target's natural vector (what a scan kernel's vector_width 0 means
// there), from its string: 16 with avx512, 8 with avx or avx2, else 4 (SSE, NEON).
int natural_float_lanes(const std::string &target);

// The natural float lanes of the CPU code Halide's dispatch runs here (its tier's target); 16 for
// a tier that names no features (a host build's single target).
int cpu_float_lanes();

// The kernel compiled for (layer, direction, device, m), else an Error naming what is compiled.
const KernelEntry &find_kernel(const std::string &op, const char *layer, const char *direction, Device device, int m);
// The same, or nullptr when this build has none (for optional variants such as step kernels).
const KernelEntry *find_kernel_or_null(const char *layer, const char *direction, Device device, int m);

}  // namespace statemix::dispatch
