// The stepped CPU forward of the nonlinear recurrences (Elman, WCRNN, LSTM): W packed once
// (rnn_step_layout.h), then the step kernel (generators/rnn_pipelines.h: RnnStep) called once
// per step with views of u_t, h_{t-1} (h0 first) and the outputs at t. rnn_ops.cpp picks it or
// the single-launch scan kernel per call (STATEMIX_RNN_CPU; automatic by shape).
#pragma once

#include "dispatch.h"
#include "kernel_registry.h"
#include "rnn_ops.h"
#include "tensor.h"

#include <string>
#include <vector>

namespace statemix::stepped {

// Which CPU forward and backward run: set_cpu_impl's value if set, else STATEMIX_RNN_CPU:
// "automatic" (or unset: by shape), "scan" (the one-launch kernels) or "stepped" (step kernels,
// every core and direction); anything else is an Error naming the variable.
enum class Impl { automatic, scan, stepped };
Impl cpu_impl();
void set_cpu_impl(Impl impl);  // process-wide, overrides the environment
void clear_cpu_impl();         // back to the environment
Impl parse_cpu_impl(const std::string &s);  // Error unless automatic|scan|stepped

// The step kernel to use for a CPU forward of (layer, direction, m) at this shape, or nullptr for
// the scan kernel. direction: "step" or "step_train" (the LSTM's, writing z). Automatic: the
// tuning database's choice for the shape's bucket (autotune/; it may name a step kernel variant
// or the one-launch kernel), else the rule of thumb below.
const KernelEntry *choose(const std::string &op, const char *layer, const char *direction, int m, int64_t B,
                          int64_t H, int64_t T);
// The one-launch CPU kernel of (layer, direction, m) when choose() returned nullptr: the tuning
// database's variant for the bucket, else the build's default (Error if none is compiled).
const KernelEntry &one_launch_kernel(const std::string &op, const char *layer, const char *direction, int m,
                                     int64_t B, int64_t H, int64_t T);
// The rule of thumb (where no tuning database entry decides): whether the automatic CPU choice
// of op_direction ("forward", "forward_train", "backward") at B, H is the step kernels.
bool rule_picks_stepped(const char *layer, const char *op_direction, int64_t B, int64_t H);
// The op a kernel direction serves: step -> forward, step_train -> forward_train, bstep -> backward.
const char *op_direction(const char *kernel_direction);
// What choose() / choose_backward() pick, in words (for `statemix bench`); direction as choose()'s.
std::string describe(const char *layer, int m, int64_t B, int64_t H, int64_t T, const char *direction = "step");
std::string describe_backward(const char *layer, int m, int64_t B, int64_t H, int64_t T);

// The stepped CPU backward of Elman and the LSTM: its adjoint step kernel (direction "bstep") and
// the weight-gradient kernel ("elman"/"weight_grad"), or nullptr for the one-launch backward
// kernel (always for the WCRNN: choose_wcrnn_backward).
struct BackwardKernels {
    const KernelEntry *step = nullptr, *plain = nullptr, *weight_grad = nullptr;  // plain: Elman's bstep (dh0)
};
BackwardKernels choose_backward(const std::string &op, const char *layer, int64_t B, int64_t H, int64_t T);

// W_q blocks packed as Wp [ceil(H/tile), H, G, tile] (tile = step_unit_tile(G)): gates[q] points at gate q's [H,H] rows.
Tensor pack(const std::vector<const float *> &gates, int64_t H);
// Wᵀ packed for the adjoint steps (G = 1): Wp [ceil(H/tile), K, 1, tile] (tile = step_unit_tile(1)), Wp[j][k][0][ii] =
// W[k][j·tile + ii] for W [K,H] (Elman K = H, LSTM K = 4H).
Tensor pack_transposed(const float *W, int64_t K, int64_t H);

// Elman / WCRNN: h [B,T,H], h_final [B,H] from u [B,T,H], h0 [B,H]. `extra`: the scalars and
// residual vectors (rho_*) the kernel takes besides Wp, u, h_prev, h.
void run_elman_wcrnn(const KernelEntry &k, const Tensor &Wp, const Tensor &u, const Tensor &h0,
                     const std::vector<dispatch::KernelArg> &extra, Tensor &h, Tensor &h_final);
// LSTM: h, c [B,T,H], h_final, c_final [B,H], and z [4,B,T,H] when defined (step_train kernel).
void run_lstm(const KernelEntry &k, const Tensor &Wp, const Tensor &u, const Tensor &h0, const Tensor &c0, Tensor &h,
              Tensor &c, Tensor &h_final, Tensor &c_final, Tensor *z);

// Elman: du = δ [B,T,H], dW [H,H], dh0 [B,H] from h [B,T,H], g [B,T,H], g_final, h0 [B,H].
void run_elman_backward(const BackwardKernels &k, const Tensor &W, const Tensor &h0, const Tensor &h, const Tensor &g,
                        const Tensor &g_final, Tensor &du, Tensor &dW, Tensor &dh0);
// LSTM: du = dz [B,T,4H], dW [4H,H], dh0, dc0 [B,H] from the forward's z [4,B,T,H], h, c.
void run_lstm_backward(const BackwardKernels &k, const Tensor &W, const Tensor &z, const Tensor &h0, const Tensor &c0,
                       const Tensor &h, const Tensor &c, const Tensor &g, const Tensor &g_final,
                       const Tensor &gc_final, Tensor &du, Tensor &dW, Tensor &dh0, Tensor &dc0);

// The WCRNN's stepped backward: ε f'(a_t) for all steps (bstep_pre), the adjoint step per
// residual path (bstep, m), the paired residual's gradients (bstep_rho), dW/dR (weight_grad).
struct WcrnnBackwardKernels {
    const KernelEntry *pre = nullptr, *step = nullptr, *rho = nullptr, *weight_grad = nullptr;
};
WcrnnBackwardKernels choose_wcrnn_backward(int m, int64_t B, int64_t H);
// Where the residual's gradients go (null: not wanted): dR [H,H] (m = 0) or d, up, lo [H] (m = 2).
struct WcrnnResidualGrads {
    Tensor *dR = nullptr, *d = nullptr, *up = nullptr, *lo = nullptr;
};
void run_wcrnn_backward(const WcrnnBackwardKernels &k, const ResidualCoeffs &c, float eps, int act,
                        bool residual_grad, const Tensor &u, const Tensor &W, const Tensor &h0, const Tensor &h,
                        const Tensor &g, const Tensor &g_final, Tensor &du, Tensor &dW, Tensor &dh0,
                        const WcrnnResidualGrads &rg);

}  // namespace statemix::stepped
