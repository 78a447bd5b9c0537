// Lyapunov spectrum of the WCRNN (and the Elman RNN) along a driven trajectory (../shared/spec/layers.md §7): the QR
// method in float64. An orthonormal frame Q (H × k) is propagated by the step Jacobians
//   J_t = Jρ(h_{t-1}) + ε·diag(f'(a_t))·W,   Q ← J_t·Q,
// re-orthonormalised by QR after every step (modified Gram-Schmidt, twice, so diag(R) > 0), and
// log diag(R) is summed after a warm-up and divided by the number of steps summed.
// The trajectory is the float64 reference's (reference/rnn_reference.h), driven by u.
#pragma once

#include "rnn_ops.h"

#include <cstdint>
#include <vector>

namespace statemix {

struct LyapunovOptions {
    int64_t warmup = 100;       // steps run before summing (the frame starts as the identity's columns)
    int64_t num_exponents = 0;  // k leading exponents; 0: all H
};

struct LyapunovSpectrum {
    std::vector<double> exponents;   // per step (natural log), descending
    std::vector<double> timescales;  // −1/λ in steps for λ < 0 (the memory of that direction); +inf otherwise
    int64_t steps = 0;               // steps summed per batch row
    int64_t batch_rows = 0;          // the spectrum is the mean over the rows of u
};

// u [B,T,H] the drive (U x_t + b), W [H,H], h0 [B,H] or null (zeros); needs T > warmup.
// Tensors may live on any device (they are read on the host).
LyapunovSpectrum lyapunov_spectrum(const WcrnnConfig &cfg, const Tensor &u, const Tensor &W, const Tensor *h0 = nullptr,
                                   const LyapunovOptions &opt = {});

// The Elman RNN h_t = f(W h_{t-1} + u_t) (spec §7-§8): the WCRNN with ρ = 0 and ε = 1, so
// J_t = diag(f'(a_t))·W.
LyapunovSpectrum elman_lyapunov_spectrum(Activation act, const Tensor &u, const Tensor &W, const Tensor *h0 = nullptr,
                                         const LyapunovOptions &opt = {});

}  // namespace statemix
