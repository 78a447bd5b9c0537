// Helpers shared by the kernel tests: float64 vectors to and from Tensors, random inputs, the
// closeness check of a float32 kernel against the float64 reference, and the bad-input check.
#pragma once

#include "runtime/error.h"
#include "runtime/tensor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace statemix::test {

using Vec = std::vector<double>;

inline Vec randn(size_t n, std::mt19937 &rng, double scale = 1.0) {
    std::normal_distribution<double> nd(0.0, scale);
    Vec out(n);
    for (auto &x : out) x = nd(rng);
    return out;
}

// NaN everywhere: an output a kernel must overwrite entirely.
inline Vec poison(size_t n) { return Vec(n, NAN); }

inline double dot(const Vec &a, const Vec &b) {
    double s = 0;
    for (size_t i = 0; i < a.size(); i++) s += a[i] * b[i];
    return s;
}

inline Tensor to_tensor(const Shape &shape, const Vec &x, Device dev = Device::cpu) {
    std::vector<float> f(x.begin(), x.end());
    Tensor t = Tensor::from_host(shape, f.data());
    return dev == Device::cpu ? t : t.to(dev);
}

inline Vec to_vec(const Tensor &t) {
    Tensor c = t.device() == Device::cpu ? t : t.to(Device::cpu);
    return Vec(c.data(), c.data() + c.numel());
}

// float32 kernels vs float64 reference: a tolerance relative to the array's scale, tight enough
// that a wrong lag, a transposed matrix, a missing term or an off-by-one step (O(1) errors)
// cannot pass. NaN fails.
inline void expect_close(const Vec &got, const Vec &want, const std::string &what, double rtol = 2e-4) {
    ASSERT_EQ(got.size(), want.size()) << what;
    double scale = 0;
    for (double w : want) scale = std::max(scale, std::abs(w));
    const double tol = rtol * (1.0 + scale);
    size_t bad = 0, first = 0;
    double worst = 0;
    for (size_t i = 0; i < got.size(); i++) {
        const double e = std::abs(got[i] - want[i]);
        if (!(e <= tol)) {
            if (!bad) first = i;
            bad++;
            worst = std::max(worst, e);
        }
    }
    EXPECT_EQ(bad, 0u) << what << ": " << bad << " of " << got.size() << " entries off by more than " << tol
                       << " (worst " << worst << "); first at " << first << ": got " << got[first] << ", want "
                       << want[first];
}

// Bad input: a clear Error whose message holds every phrase, never a crash or a silent result.
template <typename F>
void expect_error(F f, const std::vector<std::string> &phrases) {
    try {
        f();
        ADD_FAILURE() << "no error thrown; expected one mentioning " << phrases[0];
    } catch (const Error &e) {
        for (const auto &ph : phrases) EXPECT_NE(std::string(e.what()).find(ph), std::string::npos) << e.what();
    }
}

}  // namespace statemix::test
