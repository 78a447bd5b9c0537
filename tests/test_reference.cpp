// Self-consistency tests of the reference implementation (reference/scan_reference.h):
// every gradient entry is checked against central finite differences in float64,
// plus structural properties from spec §1 and §3.
#include "reference/scan_reference.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace {

using statemix::ref::Norm;
namespace ref = statemix::ref;

const Norm kAllNorms[] = {Norm::softmax, Norm::sigmoid_l1, Norm::relu_l1,
                          Norm::tanh_l1, Norm::lin_l1,     Norm::none};

const char *norm_name(Norm n) {
    switch (n) {
    case Norm::softmax: return "softmax";
    case Norm::sigmoid_l1: return "sigmoid_l1";
    case Norm::relu_l1: return "relu_l1";
    case Norm::tanh_l1: return "tanh_l1";
    case Norm::lin_l1: return "lin_l1";
    case Norm::none: return "none";
    }
    return "?";
}

// Variants whose normalization has a kink at z = 0 (relu, |.|): keep the logits
// at least 0.05 away from 0 so central differences are valid.
bool has_kink_at_zero(Norm n) {
    return n == Norm::relu_l1 || n == Norm::tanh_l1 || n == Norm::lin_l1;
}

std::vector<double> randn(std::mt19937 &rng, size_t n, double scale = 1.0) {
    std::normal_distribution<double> d(0.0, 1.0);
    std::vector<double> x(n);
    for (auto &e : x) e = scale * d(rng);
    return x;
}

std::vector<double> random_logits(std::mt19937 &rng, size_t n, Norm norm) {
    std::vector<double> z = randn(rng, n);
    if (has_kink_at_zero(norm))
        for (auto &e : z)
            if (std::abs(e) < 0.05) e = e >= 0 ? e + 0.05 : e - 0.05;
    return z;
}

double dot(const std::vector<double> &a, const std::vector<double> &b) {
    double s = 0;
    for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
}

bool close(double a, double b) { return std::abs(a - b) <= 1e-6 + 1e-5 * std::abs(b); }

struct Problem {
    int B, T, N, m;
    Norm norm;
    bool hlru;
    std::vector<double> z, v, h0, g, g_final;

    size_t zsize() const { return hlru ? size_t(B) * T * N * (m + 1) : size_t(B) * T * N * m * (m + 1); }
    size_t vsize() const { return hlru ? size_t(B) * T * N : size_t(B) * T * N * m; }
    size_t hsize() const { return size_t(B) * N * m; }

    void forward(const std::vector<double> &z_, const std::vector<double> &v_,
                 const std::vector<double> &h0_, std::vector<double> &out,
                 std::vector<double> &hf) const {
        out.assign(vsize(), 0.0);
        hf.assign(hsize(), 0.0);
        if (hlru)
            ref::hlru_forward<double>(B, T, N, m, norm, z_.data(), v_.data(), h0_.data(), out.data(), hf.data());
        else
            ref::bdlru_forward<double>(B, T, N, m, norm, z_.data(), v_.data(), h0_.data(), out.data(), hf.data());
    }

    double loss(const std::vector<double> &z_, const std::vector<double> &v_,
                const std::vector<double> &h0_) const {
        std::vector<double> out, hf;
        forward(z_, v_, h0_, out, hf);
        return dot(g, out) + dot(g_final, hf);
    }

    void backward(std::vector<double> &dz, std::vector<double> &dv, std::vector<double> &dh0) const {
        dz.assign(zsize(), 0.0);
        dv.assign(vsize(), 0.0);
        dh0.assign(hsize(), 0.0);
        if (hlru)
            ref::hlru_backward<double>(B, T, N, m, norm, z.data(), v.data(), h0.data(), g.data(),
                                       g_final.data(), dz.data(), dv.data(), dh0.data());
        else
            ref::bdlru_backward<double>(B, T, N, m, norm, z.data(), v.data(), h0.data(), g.data(),
                                        g_final.data(), dz.data(), dv.data(), dh0.data());
    }
};

Problem make_problem(bool hlru, int B, int T, int N, int m, Norm norm, unsigned seed) {
    std::mt19937 rng(seed);
    Problem P{B, T, N, m, norm, hlru, {}, {}, {}, {}, {}};
    P.z = random_logits(rng, P.zsize(), norm);
    P.v = randn(rng, P.vsize());
    P.h0 = randn(rng, P.hsize());
    P.g = randn(rng, P.vsize());
    P.g_final = randn(rng, P.hsize());
    return P;
}

// Checks every entry of the analytic gradient of `which` (0: z, 1: v, 2: h0)
// against a central finite difference of the loss.
void check_fd(const Problem &P) {
    std::vector<double> dz, dv, dh0;
    P.backward(dz, dv, dh0);
    const double eps = 1e-6;
    const char *names[] = {"dz", "dv", "dh0"};
    const std::vector<double> *grads[] = {&dz, &dv, &dh0};
    for (int which = 0; which < 3; ++which) {
        std::vector<double> z = P.z, v = P.v, h0 = P.h0;
        std::vector<double> &x = which == 0 ? z : (which == 1 ? v : h0);
        const std::vector<double> &grad = *grads[which];
        ASSERT_EQ(grad.size(), x.size());
        int failures = 0;
        for (size_t i = 0; i < x.size(); ++i) {
            const double x0 = x[i];
            x[i] = x0 + eps;
            const double lp = P.loss(z, v, h0);
            x[i] = x0 - eps;
            const double lm = P.loss(z, v, h0);
            x[i] = x0;
            const double fd = (lp - lm) / (2 * eps);
            if (!close(grad[i], fd) && failures++ < 5)
                ADD_FAILURE() << names[which] << "[" << i << "]: analytic " << grad[i] << " vs FD " << fd;
        }
        EXPECT_EQ(failures, 0) << names[which] << ": " << failures << " mismatching entries of " << x.size();
    }
}

std::string trace(const char *layer, int T, int m, Norm norm) {
    return std::string(layer) + " T=" + std::to_string(T) + " m=" + std::to_string(m) +
           " norm=" + norm_name(norm);
}

// ---------------------------------------------------------------------------
// normalize_row
// ---------------------------------------------------------------------------

TEST(ReferenceNormalize, SoftmaxSumsToOne) {
    std::mt19937 rng(1);
    for (int K : {2, 3, 5, 9}) {
        for (int rep = 0; rep < 20; ++rep) {
            std::vector<double> z = randn(rng, K, 5.0), p(K);
            ref::normalize_row(z.data(), K, Norm::softmax, p.data());
            double s = 0;
            for (double e : p) {
                EXPECT_GT(e, 0.0);
                s += e;
            }
            EXPECT_NEAR(s, 1.0, 1e-12);
        }
    }
    // Large logits: the row-max shift keeps it finite.
    std::vector<double> z = {1000.0, 999.0, -1000.0}, p(3);
    ref::normalize_row(z.data(), 3, Norm::softmax, p.data());
    EXPECT_NEAR(p[0] + p[1] + p[2], 1.0, 1e-12);
    EXPECT_NEAR(p[0] / p[1], std::exp(1.0), 1e-9);
    // float32 too.
    std::vector<float> zf = {0.3f, -1.2f, 2.0f}, pf(3);
    ref::normalize_row(zf.data(), 3, Norm::softmax, pf.data());
    EXPECT_NEAR(pf[0] + pf[1] + pf[2], 1.0f, 1e-6f);
}

TEST(ReferenceNormalize, AbsSumAtMostOne) {
    std::mt19937 rng(2);
    for (Norm norm : kAllNorms) {
        if (norm == Norm::none) continue;
        for (int K : {2, 3, 5}) {
            for (int rep = 0; rep < 20; ++rep) {
                std::vector<double> z = random_logits(rng, K, norm), p(K);
                ref::normalize_row(z.data(), K, norm, p.data());
                double s = 0;
                for (double e : p) s += std::abs(e);
                EXPECT_LE(s, 1.0 + 1e-12) << norm_name(norm);
                if (norm != Norm::relu_l1) {
                    EXPECT_NEAR(s, 1.0, 1e-12) << norm_name(norm);
                }
            }
        }
    }
}

TEST(ReferenceNormalize, ExplicitValues) {
    std::vector<double> z = {0.5, -2.0, 1.5}, p(3);
    ref::normalize_row(z.data(), 3, Norm::relu_l1, p.data());
    EXPECT_NEAR(p[0], 0.5 / (2.0 + 3e-3), 1e-15);
    EXPECT_NEAR(p[1], 0.0, 1e-15);
    EXPECT_NEAR(p[2], 1.5 / (2.0 + 3e-3), 1e-15);
    ref::normalize_row(z.data(), 3, Norm::lin_l1, p.data());
    EXPECT_NEAR(p[1], -2.0 / 4.0, 1e-15);
    ref::normalize_row(z.data(), 3, Norm::tanh_l1, p.data());
    const double S = std::tanh(0.5) + std::tanh(2.0) + std::tanh(1.5);
    EXPECT_NEAR(p[1], -std::tanh(2.0) / S, 1e-15);
    ref::normalize_row(z.data(), 3, Norm::sigmoid_l1, p.data());
    auto sig = [](double x) { return 1 / (1 + std::exp(-x)); };
    EXPECT_NEAR(p[2], sig(1.5) / (sig(0.5) + sig(-2.0) + sig(1.5)), 1e-15);
    ref::normalize_row(z.data(), 3, Norm::none, p.data());
    EXPECT_EQ(p, z);
}

TEST(ReferenceNormalize, BackwardMatchesFiniteDifferences) {
    std::mt19937 rng(3);
    const double eps = 1e-6;
    for (Norm norm : kAllNorms) {
        for (int K : {2, 3, 5}) {
            std::vector<double> z = random_logits(rng, K, norm), dp = randn(rng, K), dz(K);
            ref::normalize_row_backward(z.data(), K, norm, dp.data(), dz.data());
            for (int j = 0; j < K; ++j) {
                std::vector<double> zp = z, zm = z, pp(K), pm(K);
                zp[j] += eps;
                zm[j] -= eps;
                ref::normalize_row(zp.data(), K, norm, pp.data());
                ref::normalize_row(zm.data(), K, norm, pm.data());
                const double fd = (dot(dp, pp) - dot(dp, pm)) / (2 * eps);
                EXPECT_TRUE(close(dz[j], fd)) << norm_name(norm) << " K=" << K << " j=" << j
                                              << ": " << dz[j] << " vs " << fd;
            }
        }
    }
}

// Spec §5's softmax shortcut dL/dz_k = lambda p_k (u_k - o) agrees with the
// explicit-Jacobian backward (which does not use it).
TEST(ReferenceNormalize, SoftmaxShortcutAgrees) {
    std::mt19937 rng(4);
    for (int K : {2, 3, 5}) {
        std::vector<double> z = randn(rng, K), u = randn(rng, K), p(K), dp(K), dz(K);
        const double lam = randn(rng, 1)[0];
        ref::normalize_row(z.data(), K, Norm::softmax, p.data());
        const double o = dot(p, u);
        for (int k = 0; k < K; ++k) dp[k] = lam * u[k];
        ref::normalize_row_backward(z.data(), K, Norm::softmax, dp.data(), dz.data());
        for (int k = 0; k < K; ++k) EXPECT_NEAR(dz[k], lam * p[k] * (u[k] - o), 1e-12);
    }
}

// ---------------------------------------------------------------------------
// Gradients by finite differences
// ---------------------------------------------------------------------------

TEST(ReferenceBDLRU, GradientsMatchFiniteDifferences) {
    unsigned seed = 100;
    for (int m : {1, 2, 3}) {
        for (Norm norm : kAllNorms) {
            for (int T : {5, 1}) {
                SCOPED_TRACE(trace("bdlru", T, m, norm));
                Problem P = make_problem(false, 2, T, 3, m, norm, seed++);
                check_fd(P);
            }
        }
    }
}

TEST(ReferenceHLRU, GradientsMatchFiniteDifferences) {
    unsigned seed = 200;
    struct Case { int T, m; };
    const Case cases[] = {{5, 1}, {5, 2}, {5, 4}, {1, 4}, {3, 4}, {1, 1}, {2, 2}};
    for (const Case &c : cases) {
        for (Norm norm : kAllNorms) {
            SCOPED_TRACE(trace("hlru", c.T, c.m, norm));
            Problem P = make_problem(true, 2, c.T, 3, c.m, norm, seed++);
            check_fd(P);
        }
    }
}

// nullptr h0 / g_final mean zeros; nullptr h_final / dh0 are allowed.
TEST(ReferenceBoth, NullOptionalPointersMeanZeros) {
    for (bool hlru : {false, true}) {
        Problem P = make_problem(hlru, 2, 4, 3, 3, Norm::softmax, 7);
        std::fill(P.h0.begin(), P.h0.end(), 0.0);
        std::fill(P.g_final.begin(), P.g_final.end(), 0.0);
        std::vector<double> out1, hf1, out2(P.vsize()), dz1, dv1, dh01, dz2(P.zsize()), dv2(P.vsize());
        P.forward(P.z, P.v, P.h0, out1, hf1);
        P.backward(dz1, dv1, dh01);
        if (hlru) {
            ref::hlru_forward<double>(P.B, P.T, P.N, P.m, P.norm, P.z.data(), P.v.data(), nullptr, out2.data(), nullptr);
            ref::hlru_backward<double>(P.B, P.T, P.N, P.m, P.norm, P.z.data(), P.v.data(), nullptr, P.g.data(),
                                       nullptr, dz2.data(), dv2.data(), nullptr);
        } else {
            ref::bdlru_forward<double>(P.B, P.T, P.N, P.m, P.norm, P.z.data(), P.v.data(), nullptr, out2.data(), nullptr);
            ref::bdlru_backward<double>(P.B, P.T, P.N, P.m, P.norm, P.z.data(), P.v.data(), nullptr, P.g.data(),
                                        nullptr, dz2.data(), dv2.data(), nullptr);
        }
        EXPECT_EQ(out1, out2);
        EXPECT_EQ(dz1, dz2);
        EXPECT_EQ(dv1, dv2);
    }
}

// ---------------------------------------------------------------------------
// Structural properties
// ---------------------------------------------------------------------------

// Spec §3: at m = 1 H-LRU and BD-LRU are the same layer (same array layouts too).
TEST(ReferenceBoth, M1LayersAreIdentical) {
    for (Norm norm : kAllNorms) {
        SCOPED_TRACE(norm_name(norm));
        Problem P = make_problem(false, 2, 6, 3, 1, norm, 300 + int(norm));
        Problem Q = P;
        Q.hlru = true;
        ASSERT_EQ(P.zsize(), Q.zsize());
        ASSERT_EQ(P.vsize(), Q.vsize());
        std::vector<double> hb, hfb, hh, hfh;
        P.forward(P.z, P.v, P.h0, hb, hfb);
        Q.forward(Q.z, Q.v, Q.h0, hh, hfh);
        for (size_t i = 0; i < hb.size(); ++i) EXPECT_NEAR(hb[i], hh[i], 1e-14);
        for (size_t i = 0; i < hfb.size(); ++i) EXPECT_NEAR(hfb[i], hfh[i], 1e-14);
        std::vector<double> dzb, dvb, dh0b, dzh, dvh, dh0h;
        P.backward(dzb, dvb, dh0b);
        Q.backward(dzh, dvh, dh0h);
        for (size_t i = 0; i < dzb.size(); ++i) EXPECT_NEAR(dzb[i], dzh[i], 1e-12);
        for (size_t i = 0; i < dvb.size(); ++i) EXPECT_NEAR(dvb[i], dvh[i], 1e-12);
        for (size_t i = 0; i < dh0b.size(); ++i) EXPECT_NEAR(dh0b[i], dh0h[i], 1e-12);
    }
}

// Spec §3: at m = 1 under softmax it is h_t = a h_{t-1} + (1 - a) v_t, a = sigmoid(z0 - z1).
TEST(ReferenceBoth, M1SoftmaxIsDiagonalSelectiveLRU) {
    Problem P = make_problem(true, 2, 6, 3, 1, Norm::softmax, 11);
    std::vector<double> s, hf;
    P.forward(P.z, P.v, P.h0, s, hf);
    for (int b = 0; b < P.B; ++b)
        for (int n = 0; n < P.N; ++n) {
            double h = P.h0[b * P.N + n];
            for (int t = 0; t < P.T; ++t) {
                const size_t i = (size_t(b) * P.T + t) * P.N + n;
                const double a = 1 / (1 + std::exp(-(P.z[2 * i] - P.z[2 * i + 1])));
                h = a * h + (1 - a) * P.v[i];
                EXPECT_NEAR(s[i], h, 1e-13);
            }
            EXPECT_NEAR(hf[b * P.N + n], h, 1e-13);
        }
}

// H-LRU layout of h0 / h_final: h0[i] = s_{-1-i}, h_final[i] = s_{T-1-i}
// (from h0 when T-1-i < 0): h_final is a window over [h0 reversed, s].
TEST(ReferenceHLRU, FinalStateLayout) {
    for (int T : {1, 2, 3, 7}) {
        const int m = 4;
        Problem P = make_problem(true, 2, T, 3, m, Norm::softmax, 400 + T);
        std::vector<double> s, hf;
        P.forward(P.z, P.v, P.h0, s, hf);
        for (int b = 0; b < P.B; ++b)
            for (int n = 0; n < P.N; ++n)
                for (int i = 0; i < m; ++i) {
                    const int tau = T - 1 - i;
                    const double want = tau >= 0 ? s[(size_t(b) * T + tau) * P.N + n]
                                                 : P.h0[(size_t(b) * P.N + n) * m + (i - T)];
                    EXPECT_EQ(hf[(size_t(b) * P.N + n) * m + i], want);
                }
    }
    // A pure delay: with norm none and p = e_{k-1} (only lag k), s_t = s_{t-k}.
    const int m = 3, T = 6, k = 3;
    std::vector<double> z(size_t(T) * (m + 1), 0.0), v(T, 5.0), h0 = {1.0, 2.0, 3.0}, s(T), hf(m);
    for (int t = 0; t < T; ++t) z[size_t(t) * (m + 1) + (k - 1)] = 1.0;
    ref::hlru_forward<double>(1, T, 1, m, Norm::none, z.data(), v.data(), h0.data(), s.data(), hf.data());
    // s_0 = s_{-3} = h0[2], s_1 = s_{-2} = h0[1], s_2 = s_{-1} = h0[0], then repeats.
    const std::vector<double> want = {3.0, 2.0, 1.0, 3.0, 2.0, 1.0};
    EXPECT_EQ(s, want);
    EXPECT_EQ(hf, (std::vector<double>{1.0, 2.0, 3.0}));
}

// BD-LRU forward by hand (norm none, so p = z): row j of the block is the OUTPUT
// index, h_t[j] = z[j][0] h[0] + z[j][1] h[1] + z[j][2] v[j].
TEST(ReferenceBDLRU, HandComputedForward) {
    const int m = 2;
    // z [1,2,1,2,3]
    const std::vector<double> z = {1.0, 2.0, 0.5, /*j=1*/ 3.0, 4.0, -1.0,
                                   /*t=1*/ 0.0, 1.0, 1.0, /*j=1*/ -2.0, 0.0, 2.0};
    const std::vector<double> v = {10.0, 20.0, 1.0, 2.0}, h0 = {1.0, -1.0};
    std::vector<double> h(4), hf(2);
    ref::bdlru_forward<double>(1, 2, 1, m, Norm::none, z.data(), v.data(), h0.data(), h.data(), hf.data());
    // t=0: h = [1*1 + 2*(-1) + 0.5*10, 3*1 + 4*(-1) - 1*20] = [4, -21]
    // t=1: h = [0*4 + 1*(-21) + 1*1, -2*4 + 0*(-21) + 2*2] = [-20, -4]
    EXPECT_EQ(h, (std::vector<double>{4.0, -21.0, -20.0, -4.0}));
    EXPECT_EQ(hf, (std::vector<double>{-20.0, -4.0}));
}

// Spec §1: with every variant but `none`, ||h_t||_inf <= max_{s<=t} ||v_s||_inf (h0 = 0).
TEST(ReferenceBoth, StabilityBound) {
    std::mt19937 rng(500);
    const int B = 2, T = 64, N = 3;
    for (Norm norm : kAllNorms) {
        if (norm == Norm::none) continue;
        SCOPED_TRACE(norm_name(norm));
        for (int m : {1, 2, 4}) {
            // BD-LRU: bound holds per block.
            {
                std::vector<double> z = randn(rng, size_t(B) * T * N * m * (m + 1), 3.0);
                std::vector<double> v = randn(rng, size_t(B) * T * N * m), h(v.size()), hf(size_t(B) * N * m);
                ref::bdlru_forward<double>(B, T, N, m, norm, z.data(), v.data(), nullptr, h.data(), hf.data());
                for (int b = 0; b < B; ++b)
                    for (int n = 0; n < N; ++n) {
                        double vmax = 0;
                        for (int t = 0; t < T; ++t) {
                            const size_t base = ((size_t(b) * T + t) * N + n) * m;
                            for (int j = 0; j < m; ++j) vmax = std::max(vmax, std::abs(v[base + j]));
                            for (int j = 0; j < m; ++j) EXPECT_LE(std::abs(h[base + j]), vmax * (1 + 1e-12));
                        }
                    }
            }
            // H-LRU: bound holds per channel.
            {
                std::vector<double> z = randn(rng, size_t(B) * T * N * (m + 1), 3.0);
                std::vector<double> v = randn(rng, size_t(B) * T * N), s(v.size()), hf(size_t(B) * N * m);
                ref::hlru_forward<double>(B, T, N, m, norm, z.data(), v.data(), nullptr, s.data(), hf.data());
                for (int b = 0; b < B; ++b)
                    for (int n = 0; n < N; ++n) {
                        double vmax = 0;
                        for (int t = 0; t < T; ++t) {
                            const size_t i = (size_t(b) * T + t) * N + n;
                            vmax = std::max(vmax, std::abs(v[i]));
                            EXPECT_LE(std::abs(s[i]), vmax * (1 + 1e-12));
                        }
                    }
            }
        }
    }
}

// float32 instantiation compiles and agrees with float64 to float precision.
TEST(ReferenceBoth, Float32AgreesWithFloat64) {
    for (bool hlru : {false, true}) {
        Problem P = make_problem(hlru, 2, 8, 3, 2, Norm::softmax, 600);
        std::vector<double> out, hf, dz, dv, dh0;
        P.forward(P.z, P.v, P.h0, out, hf);
        P.backward(dz, dv, dh0);
        auto f = [](const std::vector<double> &x) { return std::vector<float>(x.begin(), x.end()); };
        std::vector<float> z = f(P.z), v = f(P.v), h0 = f(P.h0), g = f(P.g), gf = f(P.g_final);
        std::vector<float> outf(out.size()), hff(hf.size()), dzf(dz.size()), dvf(dv.size()), dh0f(dh0.size());
        if (hlru) {
            ref::hlru_forward<float>(P.B, P.T, P.N, P.m, P.norm, z.data(), v.data(), h0.data(), outf.data(), hff.data());
            ref::hlru_backward<float>(P.B, P.T, P.N, P.m, P.norm, z.data(), v.data(), h0.data(), g.data(), gf.data(),
                                      dzf.data(), dvf.data(), dh0f.data());
        } else {
            ref::bdlru_forward<float>(P.B, P.T, P.N, P.m, P.norm, z.data(), v.data(), h0.data(), outf.data(), hff.data());
            ref::bdlru_backward<float>(P.B, P.T, P.N, P.m, P.norm, z.data(), v.data(), h0.data(), g.data(), gf.data(),
                                       dzf.data(), dvf.data(), dh0f.data());
        }
        for (size_t i = 0; i < out.size(); ++i) EXPECT_NEAR(outf[i], out[i], 1e-5);
        for (size_t i = 0; i < hf.size(); ++i) EXPECT_NEAR(hff[i], hf[i], 1e-5);
        for (size_t i = 0; i < dz.size(); ++i) EXPECT_NEAR(dzf[i], dz[i], 1e-4);
        for (size_t i = 0; i < dv.size(); ++i) EXPECT_NEAR(dvf[i], dv[i], 1e-4);
        for (size_t i = 0; i < dh0.size(); ++i) EXPECT_NEAR(dh0f[i], dh0[i], 1e-4);
    }
}

}  // namespace
