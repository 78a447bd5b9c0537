// One tuning candidate compiled in this process with Halide's JIT from the same generators the
// build uses (no AOT rebuild or link per candidate), wrapped as a KernelEntry so that it runs
// through the runtime's own ops (scan_forward / scan_backward with ScanConfig::kernel), with the
// same argument binding, views and scratch allocator as the AOT kernels.
#pragma once

#include "kernel_registry.h"
#include "space.h"

#include "Halide.h"
#include "HalideRuntime.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace statemix::tune {

// A candidate's generator with its GeneratorParams set; for an autoscheduler candidate also the
// pipeline the autoscheduler scheduled (with the bucket's estimates) and its input arguments.
struct Prepared {
    std::unique_ptr<Halide::Internal::AbstractGenerator> gen;
    std::optional<Halide::Pipeline> autoscheduled;
    std::vector<Halide::Argument> inputs;
};
Prepared prepare(const KernelKey &k, const Params &params, const Halide::Target &target);

// The same candidate compiled ahead of time into an object file (the bundles).
void compile_candidate_object(const KernelKey &k, const Params &params, const Halide::Target &target,
                              const std::string &function, const std::string &object_file);

class JitKernel {
public:
    // Compiles generator k.generator() with `params` (algorithm and knobs; m is set from k) for
    // `target`. Error with Halide's message if the generator refuses the params or fails to
    // compile.
    JitKernel(const KernelKey &k, const Params &params, const Halide::Target &target);
    JitKernel(const JitKernel &) = delete;
    JitKernel &operator=(const JitKernel &) = delete;

    const KernelEntry &entry() const { return entry_; }
    double compile_seconds() const { return compile_s_; }

private:
    static int call(const void *self, void **args);

    Halide::Callable callable_;
    std::string name_, layer_, direction_, algorithm_, device_, params_str_;
    std::vector<std::string> arg_names_;
    std::vector<halide_filter_argument_t> args_;
    halide_filter_metadata_t metadata_{};
    KernelEntry entry_{};
    double compile_s_ = 0;
};

}  // namespace statemix::tune
