// The stepped CPU forward of the nonlinear recurrences (Elman, WCRNN, LSTM): W packed once
// (rnn_step_layout.h), then the step kernel (generators/rnn_pipelines.h: RnnStep) called once
// per step with views of u_t, h_{t-1} (h0 first) and the outputs at t. rnn_ops.cpp picks it or
// the single-launch scan kernel per call (STATEMIX_RNN_CPU; automatic by shape).
#pragma once

#include "dispatch.h"
#include "kernel_registry.h"
#include "tensor.h"

#include <string>
#include <vector>

namespace statemix::stepped {

// Which CPU forward runs: set_cpu_impl's value if set, else STATEMIX_RNN_CPU: "automatic" (or
// unset), "scan" or "stepped"; anything else is an Error naming the variable.
enum class Impl { automatic, scan, stepped };
Impl cpu_impl();
void set_cpu_impl(Impl impl);  // process-wide, overrides the environment
void clear_cpu_impl();         // back to the environment
Impl parse_cpu_impl(const std::string &s);  // Error unless automatic|scan|stepped

// The step kernel to use for a CPU forward of (layer, direction, m) at this shape, or nullptr for
// the scan kernel. direction: "step" or "step_train" (the LSTM's, writing z).
const KernelEntry *choose(const std::string &op, const char *layer, const char *direction, int m, int64_t B,
                          int64_t H);
// What choose() picks, in words (for `statemix bench`).
std::string describe(const char *layer, int m, int64_t B, int64_t H);

// W_q blocks packed as Wp [ceil(H/tile), H, G, tile]: gates[q] points at gate q's [H,H] rows.
Tensor pack(const std::vector<const float *> &gates, int64_t H);

// Elman / WCRNN: h [B,T,H], h_final [B,H] from u [B,T,H], h0 [B,H]. `extra`: the scalars and
// residual vectors (rho_*) the kernel takes besides Wp, u, h_prev, h.
void run_elman_wcrnn(const KernelEntry &k, const Tensor &Wp, const Tensor &u, const Tensor &h0,
                     const std::vector<dispatch::KernelArg> &extra, Tensor &h, Tensor &h_final);
// LSTM: h, c [B,T,H], h_final, c_final [B,H], and z [4,B,T,H] when defined (step_train kernel).
void run_lstm(const KernelEntry &k, const Tensor &Wp, const Tensor &u, const Tensor &h0, const Tensor &c0, Tensor &h,
              Tensor &c, Tensor &h_final, Tensor &c_final, Tensor *z);

}  // namespace statemix::stepped
