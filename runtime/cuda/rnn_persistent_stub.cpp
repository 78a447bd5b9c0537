// Built instead of rnn_persistent.cu when no CUDA compiler was found: the persistent kernels are
// absent and every CUDA forward runs the Halide kernels.
#include "rnn_persistent.h"

#include "../error.h"

namespace statemix::cuda_persistent {

std::string Plan::describe() const { return ok ? "persistent kernel" : "persistent kernel not used: " + why_not; }

bool available() { return false; }

Plan plan(int64_t, int64_t, const Knobs &) {
    Plan p;
    p.why_not = "this build has no persistent CUDA kernels (no CUDA compiler was found at configure time)";
    return p;
}

void forward(const ForwardArgs &, const Plan &p) { throw Error("rnn persistent forward: " + p.why_not); }

}  // namespace statemix::cuda_persistent
