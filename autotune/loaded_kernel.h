// A candidate compiled ahead of time into a shared object (no Halide runtime of its own: it binds
// to the one this executable exports, as the build's kernels bind to theirs), loaded with dlopen
// and wrapped as a runtime KernelEntry. The bundle runner loads a bundle's candidates this way;
// the tuner its candidates compiled in child processes (tuner.cpp).
#pragma once

#include "search.h"

#include <string>

namespace statemix::tune {

class LoadedKernel : public CandidateKernel {
public:
    // Error naming the file if it does not load or lacks `function`_argv / _metadata.
    LoadedKernel(const std::string &path, const std::string &function, const KernelKey &k, const Params &p,
                 double compile_s = 0);
    LoadedKernel(const LoadedKernel &) = delete;
    LoadedKernel &operator=(const LoadedKernel &) = delete;
    ~LoadedKernel() override;
    const KernelEntry &entry() const override { return entry_; }
    double compile_seconds() const override { return compile_s_; }

private:
    void *handle_ = nullptr;
    std::string function_, layer_, direction_, device_, params_, algorithm_;
    KernelEntry entry_{};
    double compile_s_ = 0;
};

}  // namespace statemix::tune
