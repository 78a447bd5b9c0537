// The nonlinear recurrent cores (../shared/spec/layers.md §7-§8): WCRNN with every residual type,
// the plain Elman RNN and the LSTM, forward and backward (BPTT), on CPU or CUDA, dispatched to
// the AOT kernels (generators/wcrnn_generator.cpp, lstm_generator.cpp).
//
// Shapes (row-major), every tensor float32 and on the same device as u:
//   WCRNN / Elman  u [B,T,H] (the drive U x_t + b)  W [H,H]  h0, h_final, g_final [B,H]  h, g [B,T,H]
//   LSTM           u [B,T,4H] (gate drives, order i, f, g, o)  W [4H,H]  h0, c0 [B,H]  h, c [B,T,H]
// Gradients have the shapes of what they differentiate (du like u, dW like W, dh0 like h0).
// Optional arguments (h0, c0, g_final, gc_final) may be null: zeros.
//
// NaN: a NaN in u, W or h0 propagates: it makes h NaN from the step it enters on, for that batch
// row (W mixes every unit into every other at the next step). It is never turned into a number
// (relu passes NaN through) and never raises an error.
#pragma once

#include "cuda/rnn_persistent.h"
#include "kernel_registry.h"
#include "tensor.h"

#include <string>
#include <vector>

namespace statemix {

// ρ, spec §7's table.
enum class ResidualKind { identity, scalar, diagonal, rotation, orthogonal, nonlinear };
// Values are the kernels' `act` argument.
enum class Activation { tanh = 0, relu = 1 };

const char *residual_name(ResidualKind k);
const char *activation_name(Activation a);
ResidualKind parse_residual(const std::string &s);  // Error names the accepted values
Activation parse_activation(const std::string &s);

// A residual and its parameters (read on the host; tiny but for Q).
//   identity    -
//   scalar      a: one value ([] or [1])                   ρ(h) = a·h
//   diagonal    a: [H]                                     ρ(h)_i = a_i·h_i
//   rotation    a: one value, theta: [H/2], H even         2×2 blocks on (h_{2k}, h_{2k+1}):
//                                                          a·[[cos θ_k, −sin θ_k], [sin θ_k, cos θ_k]]
//   orthogonal  a: one value, Q: [H,H]                     ρ(h) = a·Q·h
//   nonlinear   a: one value or [H]                        ρ(h)_i = a_i·tanh(h_i)  (our choice)
struct Residual {
    ResidualKind kind = ResidualKind::identity;
    Tensor a, theta, Q;
};

struct WcrnnConfig {
    Residual residual;
    float eps = 0.05f;                 // coupling ε
    Activation act = Activation::tanh;
    bool train_residual = false;       // backward also returns da (and dtheta for rotation)
};

// The residual in the kernels' form, on a device: three diagonals (m = 2 kernels: identity,
// scalar, diagonal, rotation, nonlinear) or a dense R = a·Q (m = 0 kernels: orthogonal).
// Prepare it once per parameter update to keep the per-call work at zero; the forward/backward
// below build it themselves when given none.
struct ResidualCoeffs {
    int m = 2;
    Tensor d, up, lo;  // [H]: ρ(h)_i = d_i·φ(h_i) + up_i·φ(h_{i+1}) + lo_i·φ(h_{i-1})
    int rho_act = 0;   // φ: 0 identity, 1 tanh
    Tensor R;          // [H,H] (m = 0)
};
ResidualCoeffs residual_coeffs(const Residual &r, int64_t H, Device device);

// Error unless the residual's parameters fit H (names the argument, expected and actual shape).
void check_residual(const std::string &op, const Residual &r, int64_t H);

struct RnnDims {
    int64_t B = 0, T = 0, H = 0;
};
// Reads B, T, H from u (and H from W) and checks u, W: Error naming the argument otherwise.
RnnDims wcrnn_dims(const std::string &op, const Tensor &u, const Tensor &W);
RnnDims lstm_dims(const Tensor &u, const Tensor &W);

// WCRNN forward: h [B,T,H], h_final [B,H] (preallocated; nothing else is allocated but the
// zero h0 when h0 is null and the coefficients when `coeffs` is null).
void wcrnn_forward(const WcrnnConfig &cfg, const Tensor &u, const Tensor &W, const Tensor *h0, Tensor &h,
                   Tensor &h_final, const ResidualCoeffs *coeffs = nullptr);
struct RnnForwardResult {
    Tensor h, h_final;
};
RnnForwardResult wcrnn_forward(const WcrnnConfig &cfg, const Tensor &u, const Tensor &W, const Tensor *h0 = nullptr);

// WCRNN backward from the forward's h and g = ∂L/∂h (g_final = ∂L/∂h_final).
// With cfg.train_residual: da shaped like residual.a (scalar, diagonal, rotation, orthogonal,
// nonlinear) and dtheta [H/2] (rotation), on the CPU; else they are left undefined.
struct WcrnnGrads {
    Tensor du, dW, dh0;
    Tensor da, dtheta;
};
void wcrnn_backward(const WcrnnConfig &cfg, const Tensor &u, const Tensor &W, const Tensor *h0, const Tensor &h,
                    const Tensor &g, const Tensor *g_final, WcrnnGrads &out, const ResidualCoeffs *coeffs = nullptr);
WcrnnGrads wcrnn_backward(const WcrnnConfig &cfg, const Tensor &u, const Tensor &W, const Tensor *h0,
                          const Tensor &h, const Tensor &g, const Tensor *g_final = nullptr);

// Which implementation runs the CUDA forward of Elman and of WCRNN with an m = 2 residual
// (every kind but orthogonal):
//   automatic   the persistent kernel (runtime/cuda/rnn_persistent.h: W on chip for the whole
//               sequence, one launch) where it applies (H <= 1024, a device that runs it), else
//               the Halide kernel
//   halide      always the Halide kernel (schedules/cuda_rnn_schedules.h)
//   persistent  always the persistent kernel; Error where it does not apply
// The backward and the LSTM always run the Halide kernels.
enum class RnnCudaImpl { automatic, halide, persistent };
struct RnnCudaOptions {
    RnnCudaImpl impl = RnnCudaImpl::automatic;
    cuda_persistent::Knobs knobs;  // 0 = choose (see rnn_persistent.h)
};
// Process-wide. The initial value comes from the environment variable STATEMIX_RNN_CUDA, a comma
// list of key=value: impl=automatic|halide|persistent, group=C (1, 2, 4, 8 or -1 for a grid-wide
// group), rows_per_warp, rows_per_cta, batch_per_cta, batch_split (Error on anything else).
void set_rnn_cuda_options(const RnnCudaOptions &o);
RnnCudaOptions rnn_cuda_options();
RnnCudaOptions parse_rnn_cuda_options(const std::string &spec);
// What a CUDA Elman / WCRNN forward of this shape runs with the current options, in words.
std::string rnn_cuda_forward_plan(int64_t B, int64_t H);

// Elman RNN (spec §8): h_t = tanh(W h_{t-1} + u_t).
void elman_forward(const Tensor &u, const Tensor &W, const Tensor *h0, Tensor &h, Tensor &h_final);
RnnForwardResult elman_forward(const Tensor &u, const Tensor &W, const Tensor *h0 = nullptr);
struct ElmanGrads {
    Tensor du, dW, dh0;
};
void elman_backward(const Tensor &u, const Tensor &W, const Tensor *h0, const Tensor &h, const Tensor &g,
                    const Tensor *g_final, ElmanGrads &out);
ElmanGrads elman_backward(const Tensor &u, const Tensor &W, const Tensor *h0, const Tensor &h, const Tensor &g,
                          const Tensor *g_final = nullptr);

// LSTM (spec §8): standard gates, zero initial state unless h0 / c0 are given.
// z [4,B,T,H]: the gate pre-activations z_t = u_t + W h_{t-1} (gates i, f, g, o), which the
// backward reads (its workspace, as in cuDNN's and oneDNN's training forwards). Given (defined),
// the training kernel fills it; left undefined, the inference kernel runs and writes h and c only
// (1-9% faster on the CPU in min-of-4 runs). The allocating overload fills z.
struct LstmForwardResult {
    Tensor h, c, h_final, c_final, z;
};
void lstm_forward(const Tensor &u, const Tensor &W, const Tensor *h0, const Tensor *c0, LstmForwardResult &out);
LstmForwardResult lstm_forward(const Tensor &u, const Tensor &W, const Tensor *h0 = nullptr, const Tensor *c0 = nullptr);
struct LstmGrads {
    Tensor du, dW, dh0, dc0;
};
// z, h, c: the forward's outputs; gc_final = ∂L/∂c_final. du [B,T,4H] is ∂L/∂u (= ∂L/∂z).
void lstm_backward(const Tensor &z, const Tensor &W, const Tensor *h0, const Tensor *c0, const Tensor &h,
                   const Tensor &c, const Tensor &g, const Tensor *g_final, const Tensor *gc_final, LstmGrads &out);
LstmGrads lstm_backward(const Tensor &z, const Tensor &W, const Tensor *h0, const Tensor *c0, const Tensor &h,
                        const Tensor &c, const Tensor &g, const Tensor *g_final = nullptr,
                        const Tensor *gc_final = nullptr);

}  // namespace statemix
