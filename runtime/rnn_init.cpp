#include "rnn_init.h"

#include <cmath>
#include <random>

namespace statemix {

namespace {

constexpr double kTwoPi = 6.283185307179586476925286766559;

Tensor from_doubles(const Shape &shape, const std::vector<double> &x) {
    std::vector<float> f(x.begin(), x.end());
    return Tensor::from_host(shape, f.data());
}

Tensor scalar(double a) { return from_doubles({1}, {a}); }

void check_H(const char *what, int64_t H) {
    if (H < 1) throw Error(std::string(what) + ": argument 'H' must be >= 1, got " + std::to_string(H));
    check_tensor_size({H, H});  // W, Q, the residual matrix: [H,H], built in float64 first
}

}  // namespace

Tensor diagonal_from_timescales(int64_t H, double tau_min, double tau_max, uint64_t seed) {
    check_H("diagonal_from_timescales", H);
    if (!(tau_min > 0 && tau_max >= tau_min)) {
        throw Error("diagonal_from_timescales: need 0 < tau_min <= tau_max, got tau_min = " + std::to_string(tau_min) +
                    ", tau_max = " + std::to_string(tau_max));
    }
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> U(std::log(tau_min), std::log(tau_max));
    std::vector<double> a((size_t)H);
    for (double &x : a) x = std::exp(-1.0 / std::exp(U(rng)));
    return from_doubles({H}, a);
}

Tensor rotation_angles_random(int64_t H, uint64_t seed) {
    check_H("rotation_angles_random", H);
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> U(0.0, kTwoPi);
    std::vector<double> th((size_t)(H / 2));
    for (double &x : th) x = U(rng);
    return from_doubles({H / 2}, th);
}

Tensor rotation_angles_from_period(int64_t H, double period) {
    check_H("rotation_angles_from_period", H);
    if (!(period > 0)) throw Error("rotation_angles_from_period: argument 'period' must be > 0, got " + std::to_string(period));
    std::vector<double> th((size_t)(H / 2));
    for (size_t k = 0; k < th.size(); k++) th[k] = kTwoPi * (double)(k + 1) / period;
    return from_doubles({H / 2}, th);
}

Tensor random_orthogonal(int64_t H, uint64_t seed) {
    check_H("random_orthogonal", H);
    const size_t n = (size_t)H;
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> N(0.0, 1.0);
    std::vector<double> A(n * n), Q(n * n, 0.0);
    for (double &x : A) x = N(rng);
    for (size_t i = 0; i < n; i++) Q[i * n + i] = 1.0;
    // Householder QR of A (row-major, A[i*n+j]); accumulate Q = H_0 H_1 ... H_{n-2}.
    std::vector<double> v(n);
    for (size_t j = 0; j < n; j++) {
        double norm = 0;
        for (size_t i = j; i < n; i++) norm += A[i * n + j] * A[i * n + j];
        norm = std::sqrt(norm);
        const double alpha = A[j * n + j] > 0 ? -norm : norm;
        for (size_t i = 0; i < n; i++) v[i] = i < j ? 0.0 : A[i * n + j];
        v[j] -= alpha;
        double vv = 0;
        for (size_t i = j; i < n; i++) vv += v[i] * v[i];
        if (vv == 0) continue;
        for (size_t c = j; c < n; c++) {  // A <- (I - 2vvᵀ/vᵀv) A
            double s = 0;
            for (size_t i = j; i < n; i++) s += v[i] * A[i * n + c];
            s *= 2 / vv;
            for (size_t i = j; i < n; i++) A[i * n + c] -= s * v[i];
        }
        for (size_t r = 0; r < n; r++) {  // Q <- Q (I - 2vvᵀ/vᵀv)
            double s = 0;
            for (size_t i = j; i < n; i++) s += Q[r * n + i] * v[i];
            s *= 2 / vv;
            for (size_t i = j; i < n; i++) Q[r * n + i] -= s * v[i];
        }
    }
    // Signs: Q·diag(sign(diag R)) makes diag(R) > 0, which makes Q Haar-distributed.
    for (size_t j = 0; j < n; j++) {
        if (A[j * n + j] < 0) {
            for (size_t r = 0; r < n; r++) Q[r * n + j] = -Q[r * n + j];
        }
    }
    return from_doubles({H, H}, Q);
}

Residual make_residual(const ResidualInit &init, int64_t H, uint64_t seed) {
    check_H("make_residual", H);
    Residual r;
    r.kind = init.kind;
    switch (init.kind) {
    case ResidualKind::identity: break;
    case ResidualKind::scalar:
    case ResidualKind::nonlinear: r.a = scalar(init.a); break;
    case ResidualKind::diagonal: r.a = diagonal_from_timescales(H, init.tau_min, init.tau_max, seed); break;
    case ResidualKind::rotation:
        if (H % 2 != 0) throw Error("make_residual: rotation needs an even H, got H = " + std::to_string(H));
        r.a = scalar(init.a);
        r.theta = init.period > 0 ? rotation_angles_from_period(H, init.period) : rotation_angles_random(H, seed);
        break;
    case ResidualKind::orthogonal:
        r.a = scalar(init.a);
        r.Q = random_orthogonal(H, seed);
        break;
    }
    return r;
}

Tensor residual_matrix(const Residual &r, int64_t H) {
    check_H("residual_matrix", H);
    check_residual("residual_matrix", r, H);
    ResidualCoeffs c = residual_coeffs(r, H, Device::cpu);
    if (c.m == 0) return c.R;
    const size_t n = (size_t)H;
    std::vector<double> M(n * n, 0.0);
    const float *d = c.d.data(), *up = c.up.data(), *lo = c.lo.data();
    for (size_t i = 0; i < n; i++) {
        M[i * n + i] = d[i];
        if (i + 1 < n) M[i * n + i + 1] = up[i];
        if (i >= 1) M[i * n + i - 1] = lo[i];
    }
    return from_doubles({H, H}, M);
}

Tensor elman_init_weights(const Residual &r, double eps, int64_t H, uint64_t seed, double w0_std) {
    check_H("elman_init_weights", H);
    Tensor R = residual_matrix(r, H);
    std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ull);
    std::normal_distribution<double> N(0.0, w0_std > 0 ? w0_std : 1.0 / std::sqrt((double)H));
    std::vector<double> W((size_t)(H * H));
    const float *rp = R.data();
    for (size_t i = 0; i < W.size(); i++) W[i] = rp[i] + eps * N(rng);
    return from_doubles({H, H}, W);
}

}  // namespace statemix
