// Initialisation of the WCRNN residuals and the Elman baseline (../shared/spec/layers.md §7),
// deterministic from a seed. Every function returns CPU tensors (copy them with Tensor::to).
#pragma once

#include "rnn_ops.h"

#include <cstdint>

namespace statemix {

// a_i = exp(−1/τ_i) with timescales τ_i log-uniform in [tau_min, tau_max] (spec §7, diagonal).
Tensor diagonal_from_timescales(int64_t H, double tau_min, double tau_max, uint64_t seed);
// Rotation angles [H/2], uniform in [0, 2π).
Tensor rotation_angles_random(int64_t H, uint64_t seed);
// Rotation angles [H/2] matched to a data period P: θ_k = 2π·(k+1)/P (harmonic k+1 of the period,
// e.g. P = 28 for the rows of a 28×28 image scanned pixel by pixel).
Tensor rotation_angles_from_period(int64_t H, double period);
// A random orthogonal matrix [H,H], Haar-distributed: QR of a standard Gaussian matrix
// (Householder, float64), with the signs fixed so that diag(R) > 0.
Tensor random_orthogonal(int64_t H, uint64_t seed);

// How to build a residual of a given kind.
struct ResidualInit {
    ResidualKind kind = ResidualKind::identity;
    double a = 1.0;                        // scalar, rotation, orthogonal, nonlinear
    double tau_min = 1.0, tau_max = 100.0;  // diagonal: timescale range (steps)
    double period = 0.0;                   // rotation: > 0 matches the angles to it, 0 draws them
};
Residual make_residual(const ResidualInit &init, int64_t H, uint64_t seed);

// The residual as a dense matrix [H,H] (for the nonlinear residual: its Jacobian at h = 0, a·I).
Tensor residual_matrix(const Residual &r, int64_t H);

// The weakly-coupled Elman initialisation (spec §7, our reading): W_hh = R + ε·W_0 with R the
// residual's matrix and W_0 ~ N(0, w0_std²) entries (w0_std <= 0: 1/√H, so ‖W_0‖₂ ≈ 2).
Tensor elman_init_weights(const Residual &r, double eps, int64_t H, uint64_t seed, double w0_std = 0.0);

}  // namespace statemix
