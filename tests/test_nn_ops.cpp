// The training runtime's pointwise, normalization, loss and optimizer ops (runtime/nn_ops.h):
// every op against a plain float64 reference written here, on odd shapes (one row, prime rows and
// columns, widths that are not a multiple of the vector width, D = 128); every float64 backward
// against central finite differences of its forward, and every kernel backward against the float64
// backward; bitwise determinism (twice, and with one thread against many); bad input; CUDA = CPU.
#include "runtime/dense_ops.h"
#include "runtime/nn_ops.h"
#include "runtime/thread_pool.h"
#include "tests/test_util.h"

#include "HalideRuntime.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <functional>
#include <random>
#include <mutex>
#include <set>
#include <thread>
#include <string>
#include <vector>

namespace statemix {
namespace {

using namespace statemix::test;

// ---------------------------------------------------------------------------------------------
// Helpers

// |got - want| <= rtol·(|want_i| + max|want|) + atol elementwise: relative to the entry and to the
// array's scale (so an all-zero reference demands exact zeros unless atol says otherwise). NaN fails.
void expect_rel(const Vec &got, const Vec &want, const std::string &what, double rtol = 1e-5, double atol = 0.0) {
    ASSERT_EQ(got.size(), want.size()) << what;
    double scale = 0;
    for (double w : want) scale = std::max(scale, std::abs(w));
    size_t bad = 0, first = 0;
    double worst = 0;
    for (size_t i = 0; i < got.size(); i++) {
        const double tol = rtol * (std::abs(want[i]) + scale) + atol;
        const double e = std::abs(got[i] - want[i]);
        if (!(e <= tol)) {
            if (!bad) first = i;
            bad++;
            worst = std::max(worst, e);
        }
    }
    EXPECT_EQ(bad, 0u) << what << ": " << bad << " of " << got.size() << " entries off (worst " << worst
                       << ", scale " << scale << "); first at " << first << ": got " << got[first] << ", want "
                       << want[first];
}

void expect_bitwise(const Tensor &a, const Tensor &b, const std::string &what) {
    Vec x = to_vec(a), y = to_vec(b);
    ASSERT_EQ(x.size(), y.size());
    Tensor ca = a.device() == Device::cpu ? a : a.to(Device::cpu), cb = b.device() == Device::cpu ? b : b.to(Device::cpu);
    EXPECT_EQ(std::memcmp(ca.data(), cb.data(), sizeof(float) * (size_t)ca.numel()), 0) << what << " differs bitwise";
}

// Central differences of a scalar function at every entry of x (float64).
Vec finite_diff(const std::function<double(const Vec &)> &L, Vec x, double h = 1e-6) {
    Vec g(x.size());
    for (size_t i = 0; i < x.size(); i++) {
        const double x0 = x[i];
        x[i] = x0 + h;
        const double lp = L(x);
        x[i] = x0 - h;
        const double lm = L(x);
        x[i] = x0;
        g[i] = (lp - lm) / (2 * h);
    }
    return g;
}

// The values of a float32 tensor made from x, back in float64 (what the kernel actually saw).
Vec rounded(const Vec &x) {
    Vec r(x.size());
    for (size_t i = 0; i < x.size(); i++) r[i] = (double)(float)x[i];
    return r;
}

Tensor poisoned(const Shape &shape, Device dev = Device::cpu) {
    int64_t n = 1;
    for (auto e : shape) n *= e;
    return to_tensor(shape, poison((size_t)n), dev);
}

// Runs f with Halide's thread pool at n threads, then restores it.
template <typename F> void with_threads(int n, F f) {
    const int old = halide_set_num_threads(n);
    f();
    halide_set_num_threads(old);
}

struct RD {
    int64_t R, D;
};
// One row, prime rows and columns, widths off the vector width, D = 128, a row count past one
// chunk of 64 rows with a ragged last chunk.
const RD kShapes[] = {{1, 1}, {1, 128}, {7, 13}, {31, 128}, {67, 37}, {130, 29}, {13, 131}};

// ---------------------------------------------------------------------------------------------
// float64 references

struct LnRef {
    Vec y, mean, rstd;
};

LnRef ln_forward_ref(const Vec &x, const Vec &g, const Vec &b, int64_t R, int64_t D, double eps) {
    LnRef o{Vec((size_t)(R * D)), Vec((size_t)R), Vec((size_t)R)};
    for (int64_t r = 0; r < R; r++) {
        const double *xr = &x[(size_t)(r * D)];
        double mu = 0, var = 0;
        for (int64_t d = 0; d < D; d++) mu += xr[d];
        mu /= (double)D;
        for (int64_t d = 0; d < D; d++) var += (xr[d] - mu) * (xr[d] - mu);
        var /= (double)D;
        const double rs = 1.0 / std::sqrt(var + eps);
        o.mean[(size_t)r] = mu;
        o.rstd[(size_t)r] = rs;
        for (int64_t d = 0; d < D; d++) o.y[(size_t)(r * D + d)] = (xr[d] - mu) * rs * g[(size_t)d] + b[(size_t)d];
    }
    return o;
}

struct LnGrads {
    Vec dx, dgamma, dbeta;
};

// The analytic backward, from x itself (mean and rstd recomputed in float64).
LnGrads ln_backward_ref(const Vec &dy, const Vec &x, const Vec &g, int64_t R, int64_t D, double eps) {
    LnRef f = ln_forward_ref(x, g, Vec((size_t)D, 0.0), R, D, eps);
    LnGrads o{Vec((size_t)(R * D)), Vec((size_t)D, 0.0), Vec((size_t)D, 0.0)};
    for (int64_t r = 0; r < R; r++) {
        double s1 = 0, s2 = 0;
        const double mu = f.mean[(size_t)r], rs = f.rstd[(size_t)r];
        for (int64_t d = 0; d < D; d++) {
            const size_t i = (size_t)(r * D + d);
            const double xh = (x[i] - mu) * rs, gg = dy[i] * g[(size_t)d];
            s1 += gg;
            s2 += gg * xh;
            o.dgamma[(size_t)d] += dy[i] * xh;
            o.dbeta[(size_t)d] += dy[i];
        }
        for (int64_t d = 0; d < D; d++) {
            const size_t i = (size_t)(r * D + d);
            const double xh = (x[i] - mu) * rs, gg = dy[i] * g[(size_t)d];
            o.dx[i] = rs * (gg - s1 / (double)D - xh * s2 / (double)D);
        }
    }
    return o;
}

double silu(double a) { return a / (1.0 + std::exp(-a)); }

Vec swiglu_ref(const Vec &ab, int64_t R, int64_t F) {
    Vec h((size_t)(R * F));
    for (int64_t r = 0; r < R; r++) {
        for (int64_t f = 0; f < F; f++) {
            h[(size_t)(r * F + f)] = silu(ab[(size_t)(r * 2 * F + f)]) * ab[(size_t)(r * 2 * F + F + f)];
        }
    }
    return h;
}

Vec swiglu_backward_ref(const Vec &ab, const Vec &dh, int64_t R, int64_t F) {
    Vec dab((size_t)(R * 2 * F));
    for (int64_t r = 0; r < R; r++) {
        for (int64_t f = 0; f < F; f++) {
            const double a = ab[(size_t)(r * 2 * F + f)], b = ab[(size_t)(r * 2 * F + F + f)], g = dh[(size_t)(r * F + f)];
            const double s = 1.0 / (1.0 + std::exp(-a));
            dab[(size_t)(r * 2 * F + f)] = g * b * (s + a * s * (1 - s));
            dab[(size_t)(r * 2 * F + F + f)] = g * a * s;
        }
    }
    return dab;
}

constexpr double kBeta = 0.7978845608028654, kKappa = 0.044715;
double gelu(double x) { return 0.5 * x * (1 + std::tanh(kBeta * (x + kKappa * x * x * x))); }
double gelu_grad(double x) {
    const double t = std::tanh(kBeta * (x + kKappa * x * x * x));
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * kBeta * (1 + 3 * kKappa * x * x);
}

Vec embedding_ref(const std::vector<int> &ids, const Vec &table, const Vec *pos, int64_t T, int64_t D) {
    const int64_t R = (int64_t)ids.size();
    Vec y((size_t)(R * D));
    for (int64_t r = 0; r < R; r++) {
        for (int64_t d = 0; d < D; d++) {
            double v = table[(size_t)(ids[(size_t)r] * D + d)];
            if (pos) v += (*pos)[(size_t)((r % T) * D + d)];
            y[(size_t)(r * D + d)] = v;
        }
    }
    return y;
}

Vec embedding_table_grad_ref(const std::vector<int> &ids, const Vec &dy, int64_t V, int64_t D) {
    Vec g((size_t)(V * D), 0.0);
    for (size_t r = 0; r < ids.size(); r++) {
        for (int64_t d = 0; d < D; d++) g[(size_t)(ids[r] * D + d)] += dy[r * (size_t)D + (size_t)d];
    }
    return g;
}

Vec embedding_pos_grad_ref(const Vec &dy, int64_t T, int64_t P, int64_t D) {
    Vec g((size_t)(P * D), 0.0);
    const int64_t R = (int64_t)dy.size() / D;
    for (int64_t r = 0; r < R; r++) {
        for (int64_t d = 0; d < D; d++) g[(size_t)((r % T) * D + d)] += dy[(size_t)(r * D + d)];
    }
    return g;
}

struct CeRef {
    Vec loss, pred, dlogits;
};

CeRef ce_ref(const Vec &logits, const std::vector<int> &tg, double scale, int64_t R, int64_t V) {
    CeRef o{Vec((size_t)R, 0.0), Vec((size_t)R, 0.0), Vec((size_t)(R * V), 0.0)};
    for (int64_t r = 0; r < R; r++) {
        const double *l = &logits[(size_t)(r * V)];
        double mx = l[0];
        int arg = 0;
        for (int64_t c = 1; c < V; c++) {
            if (l[c] > mx) {
                mx = l[c];
                arg = (int)c;
            }
        }
        o.pred[(size_t)r] = arg;
        double se = 0;
        for (int64_t c = 0; c < V; c++) se += std::exp(l[c] - mx);
        const int t = tg[(size_t)r];
        if (t < 0) continue;
        o.loss[(size_t)r] = std::log(se) + mx - l[t];
        for (int64_t c = 0; c < V; c++) {
            o.dlogits[(size_t)(r * V + c)] = scale * (std::exp(l[c] - mx) / se - (c == t ? 1.0 : 0.0));
        }
    }
    return o;
}

Vec lag_forward_ref(const Vec &s, const Vec *h0, int64_t B, int64_t T, int64_t N, int m) {
    Vec lags((size_t)(B * T * m * N));
    for (int64_t b = 0; b < B; b++) {
        for (int64_t t = 0; t < T; t++) {
            for (int k = 0; k < m; k++) {
                for (int64_t n = 0; n < N; n++) {
                    double v = 0;
                    if (t - k >= 0) v = s[(size_t)((b * T + t - k) * N + n)];
                    else if (h0) v = (*h0)[(size_t)((b * N + n) * m + (k - t - 1))];
                    lags[(size_t)(((b * T + t) * m + k) * N + n)] = v;
                }
            }
        }
    }
    return lags;
}

Vec lag_backward_ref(const Vec &dlags, int64_t B, int64_t T, int64_t N, int m) {
    Vec ds((size_t)(B * T * N), 0.0);
    for (int64_t b = 0; b < B; b++) {
        for (int64_t t = 0; t < T; t++) {
            for (int k = 0; k < m && t + k < T; k++) {
                for (int64_t n = 0; n < N; n++) ds[(size_t)((b * T + t) * N + n)] += dlags[(size_t)(((b * T + t + k) * m + k) * N + n)];
            }
        }
    }
    return ds;
}

Vec ids_vec(const std::vector<int> &ids) { return Vec(ids.begin(), ids.end()); }

std::vector<int> random_ids(size_t n, int V, std::mt19937 &rng, bool allow_ignored = false) {
    std::uniform_int_distribution<int> pick(allow_ignored ? -1 : 0, V - 1);
    std::vector<int> ids(n);
    for (auto &i : ids) i = pick(rng);
    return ids;
}

// ---------------------------------------------------------------------------------------------
// LayerNorm

TEST(NnOps, LayerNormForwardMatchesReference) {
    std::mt19937 rng(1);
    for (const RD s : kShapes) {
        const std::string what = "R=" + std::to_string(s.R) + " D=" + std::to_string(s.D);
        Vec x = randn((size_t)(s.R * s.D), rng, 2.0), g = randn((size_t)s.D, rng), b = randn((size_t)s.D, rng);
        for (auto &v : x) v += 3.0;  // an offset: a one-pass variance would lose digits
        const float eps = 1e-5f;
        Tensor y = poisoned({s.R, s.D}), mean = poisoned({s.R}), rstd = poisoned({s.R});
        layernorm_forward(to_tensor({s.R, s.D}, x), to_tensor({s.D}, g), to_tensor({s.D}, b), eps, y, mean, rstd);
        LnRef want = ln_forward_ref(rounded(x), rounded(g), rounded(b), s.R, s.D, eps);
        expect_rel(to_vec(y), want.y, what + " y");
        expect_rel(to_vec(mean), want.mean, what + " mean");
        expect_rel(to_vec(rstd), want.rstd, what + " rstd");
    }
}

TEST(NnOps, LayerNormBackwardReferenceMatchesFiniteDifferences) {
    std::mt19937 rng(2);
    const int64_t R = 3, D = 7;
    const double eps = 1e-5;
    Vec x = randn(R * D, rng), g = randn(D, rng), b = randn(D, rng), dy = randn(R * D, rng);
    LnGrads an = ln_backward_ref(dy, x, g, R, D, eps);
    expect_rel(an.dx, finite_diff([&](const Vec &v) { return dot(dy, ln_forward_ref(v, g, b, R, D, eps).y); }, x), "dx", 1e-6);
    expect_rel(an.dgamma, finite_diff([&](const Vec &v) { return dot(dy, ln_forward_ref(x, v, b, R, D, eps).y); }, g),
               "dgamma", 1e-6);
    expect_rel(an.dbeta, finite_diff([&](const Vec &v) { return dot(dy, ln_forward_ref(x, g, v, R, D, eps).y); }, b),
               "dbeta", 1e-6);
}

TEST(NnOps, LayerNormBackwardMatchesReference) {
    std::mt19937 rng(3);
    for (const RD s : kShapes) {
        for (bool acc : {false, true}) {
            const std::string what = "R=" + std::to_string(s.R) + " D=" + std::to_string(s.D) + (acc ? " accumulate" : "");
            Vec x = randn((size_t)(s.R * s.D), rng), g = randn((size_t)s.D, rng), dy = randn((size_t)(s.R * s.D), rng);
            const float eps = 1e-5f;
            Tensor xt = to_tensor({s.R, s.D}, x), gt = to_tensor({s.D}, g);
            Tensor y = Tensor::empty({s.R, s.D}), mean = Tensor::empty({s.R}), rstd = Tensor::empty({s.R});
            layernorm_forward(xt, gt, to_tensor({s.D}, Vec((size_t)s.D, 0.0)), eps, y, mean, rstd);
            Vec prev = randn((size_t)(s.R * s.D), rng);
            Tensor dx = acc ? to_tensor({s.R, s.D}, prev) : poisoned({s.R, s.D});
            Tensor dgamma = poisoned({s.D}), dbeta = poisoned({s.D});
            layernorm_backward(to_tensor({s.R, s.D}, dy), xt, gt, mean, rstd, dx, dgamma, dbeta, acc);
            LnGrads want = ln_backward_ref(rounded(dy), rounded(x), rounded(g), s.R, s.D, eps);
            if (acc) {
                Vec p = rounded(prev);
                for (size_t i = 0; i < p.size(); i++) want.dx[i] += p[i];
            }
            // dx = rstd·(g - mean(g) - x̂·mean(g·x̂)) cancels: its float32 error scales with rstd·|g|.
            double term = 0;
            Vec rs = to_vec(rstd);
            for (int64_t r = 0; r < s.R; r++) {
                for (int64_t d = 0; d < s.D; d++) term = std::max(term, std::abs(rs[(size_t)r] * dy[(size_t)(r * s.D + d)] * g[(size_t)d]));
            }
            expect_rel(to_vec(dx), want.dx, what + " dx", 2e-5, 2e-6 * term);
            expect_rel(to_vec(dgamma), want.dgamma, what + " dgamma", 2e-5);
            expect_rel(to_vec(dbeta), want.dbeta, what + " dbeta", 2e-5);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// SwiGLU, GELU, add, scale

TEST(NnOps, SwiGluMatchesReference) {
    std::mt19937 rng(4);
    const RD shapes[] = {{1, 1}, {7, 13}, {31, 128}, {67, 37}, {130, 344}};
    for (const RD s : shapes) {
        const int64_t R = s.R, F = s.D;
        const std::string what = "R=" + std::to_string(R) + " F=" + std::to_string(F);
        Vec ab = randn((size_t)(R * 2 * F), rng, 3.0), dh = randn((size_t)(R * F), rng);
        Tensor abt = to_tensor({R, 2 * F}, ab), h = poisoned({R, F}), dab = poisoned({R, 2 * F});
        swiglu_forward(abt, h);
        swiglu_backward(abt, to_tensor({R, F}, dh), dab);
        expect_rel(to_vec(h), swiglu_ref(rounded(ab), R, F), what + " h");
        expect_rel(to_vec(dab), swiglu_backward_ref(rounded(ab), rounded(dh), R, F), what + " dab");
    }
    // The float64 backward against finite differences.
    const int64_t R = 3, F = 5;
    Vec ab = randn(R * 2 * F, rng, 2.0), dh = randn(R * F, rng);
    expect_rel(swiglu_backward_ref(ab, dh, R, F), finite_diff([&](const Vec &v) { return dot(dh, swiglu_ref(v, R, F)); }, ab),
               "dab vs finite differences", 1e-6);
}

TEST(NnOps, GeluMatchesReference) {
    std::mt19937 rng(5);
    const Shape shapes[] = {{1}, {3, 5, 7}, {31, 128}, {100003}};
    for (const Shape &sh : shapes) {
        int64_t n = 1;
        for (auto e : sh) n *= e;
        Vec x = randn((size_t)n, rng, 3.0), dy = randn((size_t)n, rng);
        x[0] = 0.0;
        if (n > 2) {
            x[1] = -12.0;  // tanh saturated
            x[2] = 9.0;
        }
        Tensor xt = to_tensor(sh, x), y = poisoned(sh), dx = poisoned(sh);
        gelu_forward(xt, y);
        gelu_backward(xt, to_tensor(sh, dy), dx);
        Vec xr = rounded(x), yw(x.size()), dxw(x.size());
        for (size_t i = 0; i < x.size(); i++) {
            yw[i] = gelu(xr[i]);
            dxw[i] = (double)(float)dy[i] * gelu_grad(xr[i]);
        }
        expect_rel(to_vec(y), yw, "gelu " + shape_str(sh));
        expect_rel(to_vec(dx), dxw, "gelu backward " + shape_str(sh));
    }
    Vec x = randn(9, rng, 2.0), dy = randn(9, rng), an(9);
    for (size_t i = 0; i < 9; i++) an[i] = dy[i] * gelu_grad(x[i]);
    expect_rel(an,
               finite_diff(
                   [&](const Vec &v) {
                       double s = 0;
                       for (size_t i = 0; i < v.size(); i++) s += dy[i] * gelu(v[i]);
                       return s;
                   },
                   x),
               "gelu' vs finite differences", 1e-6);
}

TEST(NnOps, AddAndScale) {
    std::mt19937 rng(6);
    const Shape shapes[] = {{1}, {7, 13}, {5, 3, 131}, {70001}};
    for (const Shape &sh : shapes) {
        int64_t n = 1;
        for (auto e : sh) n *= e;
        Vec a = randn((size_t)n, rng), b = randn((size_t)n, rng);
        Tensor at = to_tensor(sh, a), bt = to_tensor(sh, b), y = poisoned(sh);
        add(at, bt, y);
        Vec want(a.size());
        for (size_t i = 0; i < a.size(); i++) want[i] = (double)((float)a[i] + (float)b[i]);
        expect_rel(to_vec(y), want, "add " + shape_str(sh), 0.0);
        add(at, bt, at);  // in place: the residual stream
        expect_rel(to_vec(at), want, "add in place " + shape_str(sh), 0.0);
        scale(at, 0.25f);
        for (auto &w : want) w = (double)((float)w * 0.25f);
        expect_rel(to_vec(at), want, "scale " + shape_str(sh), 0.0);
    }
}

TEST(NnOps, SumSquaresValueAndDeterminism) {
    std::mt19937 rng(7);
    const Shape shapes[] = {{1}, {7, 13}, {16384}, {100003}, {3, 1000, 129}};
    for (const Shape &sh : shapes) {
        int64_t n = 1;
        for (auto e : sh) n *= e;
        Vec x = randn((size_t)n, rng, 5.0);
        Tensor xt = to_tensor(sh, x);
        double want = 0;
        for (double v : rounded(x)) want += v * v;
        const double got = sum_squares(xt);
        EXPECT_NEAR(got, want, 1e-12 * want) << shape_str(sh);
        const double again = sum_squares(xt);
        EXPECT_EQ(std::memcmp(&got, &again, sizeof got), 0) << "sum_squares " << shape_str(sh) << " not bitwise repeatable";
        double one_thread = 0;
        with_threads(1, [&] { one_thread = sum_squares(xt); });
        EXPECT_EQ(std::memcmp(&got, &one_thread, sizeof got), 0) << "sum_squares " << shape_str(sh) << " depends on threads";
    }
    EXPECT_EQ(sum_squares(Tensor::zeros({0, 4})), 0.0);
}

// ---------------------------------------------------------------------------------------------
// AdamW

TEST(NnOps, AdamWMatchesReferenceLoop) {
    std::mt19937 rng(8);
    for (float wd : {0.0f, 0.1f}) {
        const int64_t n = 1031;
        const AdamWArgs base{1e-2f, 0.9f, 0.999f, 1e-8f, wd, 0};
        Vec p = randn(n, rng), m(n, 0.0), v(n, 0.0);
        p = rounded(p);
        Tensor pt = to_tensor({n}, p), mt = Tensor::zeros({n}), vt = Tensor::zeros({n});
        for (int64_t step = 1; step <= 6; step++) {
            Vec g = rounded(randn(n, rng, step == 3 ? 1e-3 : 1.0));
            AdamWArgs a = base;
            a.step = step;
            adamw_update(pt, to_tensor({n}, g), mt, vt, a);
            const double bc1 = 1 - std::pow((double)a.beta1, (double)step), bc2 = 1 - std::pow((double)a.beta2, (double)step);
            for (int64_t i = 0; i < n; i++) {
                m[i] = a.beta1 * (double)m[i] + (1 - (double)a.beta1) * g[i];
                v[i] = a.beta2 * (double)v[i] + (1 - (double)a.beta2) * g[i] * g[i];
                p[i] -= (double)a.lr * ((m[i] / bc1) / (std::sqrt(v[i] / bc2) + (double)a.eps) + (double)wd * p[i]);
            }
            const std::string what = "wd=" + std::to_string(wd) + " step " + std::to_string(step);
            expect_rel(to_vec(pt), p, what + " p", 1e-5);
            expect_rel(to_vec(mt), m, what + " m", 1e-5);
            expect_rel(to_vec(vt), v, what + " v", 1e-5);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Embedding

TEST(NnOps, EmbeddingMatchesReference) {
    std::mt19937 rng(9);
    struct Case {
        int64_t B, T, V, D, P;
        bool pos;
    };
    const Case cases[] = {{1, 1, 1, 1, 1, false}, {1, 7, 16, 13, 7, true},   {3, 31, 16, 128, 40, true},
                          {5, 13, 97, 37, 13, false}, {2, 67, 5, 131, 70, true}, {4, 64, 256, 128, 64, true}};
    for (const Case &c : cases) {
        const int64_t R = c.B * c.T;
        const std::string what = "R=" + std::to_string(R) + " V=" + std::to_string(c.V) + " D=" + std::to_string(c.D) +
                                 (c.pos ? " with pos" : "");
        std::vector<int> ids = random_ids((size_t)R, (int)c.V, rng);
        Vec table = rounded(randn((size_t)(c.V * c.D), rng)), pos = rounded(randn((size_t)(c.P * c.D), rng));
        Vec dy = rounded(randn((size_t)(R * c.D), rng));
        Tensor idt = to_tensor({R}, ids_vec(ids)), post = to_tensor({c.P, c.D}, pos), y = poisoned({R, c.D});
        embedding_forward(idt, to_tensor({c.V, c.D}, table), c.pos ? &post : nullptr, c.T, y);
        expect_rel(to_vec(y), embedding_ref(ids, table, c.pos ? &pos : nullptr, c.T, c.D), what + " y", 1e-7);

        Tensor dtable = poisoned({c.V, c.D}), dpos = poisoned({c.P, c.D});
        embedding_backward(idt, to_tensor({R, c.D}, dy), c.T, dtable, c.pos ? &dpos : nullptr);
        expect_rel(to_vec(dtable), embedding_table_grad_ref(ids, dy, c.V, c.D), what + " dtable", 1e-5);
        if (c.pos) expect_rel(to_vec(dpos), embedding_pos_grad_ref(dy, c.T, c.P, c.D), what + " dpos", 1e-5);
    }
    // The float64 backward is the transpose of the forward: finite differences of Σ dy·y.
    const int64_t B = 2, T = 3, V = 4, D = 3, P = 4, R = B * T;
    std::vector<int> ids = random_ids(R, (int)V, rng);
    Vec table = randn(V * D, rng), pos = randn(P * D, rng), dy = randn(R * D, rng);
    expect_rel(embedding_table_grad_ref(ids, dy, V, D),
               finite_diff([&](const Vec &t) { return dot(dy, embedding_ref(ids, t, &pos, T, D)); }, table), "dtable vs finite differences", 1e-6);
    expect_rel(embedding_pos_grad_ref(dy, T, P, D),
               finite_diff([&](const Vec &pp) { return dot(dy, embedding_ref(ids, table, &pp, T, D)); }, pos), "dpos vs finite differences", 1e-6);
}

TEST(NnOps, EmbeddingBadIdNamesTheRow) {
    Tensor table = Tensor::zeros({4, 3}), y = Tensor::empty({5, 3}), dtable = Tensor::empty({4, 3});
    Tensor ids = Tensor::from_host({5}, std::vector<float>{0, 1, 2, 7, 3}.data());
    expect_error([&] { embedding_forward(ids, table, nullptr, 0, y); }, {"embedding_forward", "ids", "row 3", "7", "[0, 4)"});
    expect_error([&] { embedding_backward(ids, y, 0, dtable, nullptr); }, {"embedding_backward", "row 3"});
    Tensor neg = Tensor::from_host({5}, std::vector<float>{0, -1, 2, 1, 3}.data());
    expect_error([&] { embedding_forward(neg, table, nullptr, 0, y); }, {"ids", "row 1"});
    Tensor frac = Tensor::from_host({5}, std::vector<float>{0, 1, 2.5f, 1, 3}.data());
    expect_error([&] { embedding_forward(frac, table, nullptr, 0, y); }, {"ids", "row 2"});
    Tensor pos = Tensor::zeros({2, 3});
    Tensor y6 = Tensor::empty({6, 3});
    expect_error([&] { embedding_forward(Tensor::zeros({6}), table, &pos, 3, y6); }, {"pos", "P >= T"});
    expect_error([&] { embedding_forward(Tensor::zeros({5}), table, &pos, 2, y); }, {"'T'", "divide"});
}

// ---------------------------------------------------------------------------------------------
// Cross-entropy

TEST(NnOps, CrossEntropyMatchesReference) {
    std::mt19937 rng(10);
    const RD shapes[] = {{1, 1}, {1, 16}, {7, 13}, {67, 16}, {131, 37}, {130, 256}};
    for (const RD s : shapes) {
        const int64_t R = s.R, V = s.D;
        for (int mode = 0; mode < 3; mode++) {  // 0: all counted, 1: some ignored, 2: all ignored
            const std::string what = "R=" + std::to_string(R) + " V=" + std::to_string(V) + " mode " + std::to_string(mode);
            Vec logits = rounded(randn((size_t)(R * V), rng, 4.0));
            std::vector<int> tg = random_ids((size_t)R, (int)V, rng, mode == 1);
            if (mode == 2) std::fill(tg.begin(), tg.end(), -1);
            int counted = 0;
            for (int t : tg) counted += t >= 0;
            const float scale = counted ? 1.0f / (float)counted : 0.0f;
            Tensor loss = poisoned({R}), pred = poisoned({R}), dl = poisoned({R, V});
            cross_entropy(to_tensor({R, V}, logits), to_tensor({R}, ids_vec(tg)), scale, loss, pred, dl);
            CeRef want = ce_ref(logits, tg, scale, R, V);
            expect_rel(to_vec(loss), want.loss, what + " loss");
            expect_rel(to_vec(pred), want.pred, what + " pred", 0.0);
            expect_rel(to_vec(dl), want.dlogits, what + " dlogits");
        }
    }
}

TEST(NnOps, CrossEntropyTiesStabilityAndFiniteDifferences) {
    // Ties: the first maximum wins. Huge logits: max-subtracted, no overflow.
    const int64_t R = 3, V = 5;
    const std::vector<float> logits = {1, 3, 3, 0, 3, 7, 7, 7, 7, 7, 1000, -1000, 999, 1000, 0};
    const std::vector<float> tg = {2, -1, 3};
    Tensor loss = poisoned({R}), pred = poisoned({R}), dl = poisoned({R, V});
    cross_entropy(Tensor::from_host({R, V}, logits.data()), Tensor::from_host({R}, tg.data()), 0.5f, loss, pred, dl);
    EXPECT_EQ(to_vec(pred), (Vec{1, 0, 0}));
    CeRef want = ce_ref(Vec(logits.begin(), logits.end()), {2, -1, 3}, 0.5, R, V);
    expect_rel(to_vec(loss), want.loss, "tied/huge loss");
    expect_rel(to_vec(dl), want.dlogits, "tied/huge dlogits");
    for (double l : to_vec(loss)) EXPECT_TRUE(std::isfinite(l));

    // The float64 gradient against finite differences of scale · Σ loss.
    std::mt19937 rng(11);
    const int64_t R2 = 4, V2 = 6;
    Vec lg = randn(R2 * V2, rng, 2.0);
    std::vector<int> t2 = {1, -1, 5, 0};
    CeRef an = ce_ref(lg, t2, 1.0 / 3.0, R2, V2);
    expect_rel(an.dlogits,
               finite_diff(
                   [&](const Vec &v) {
                       CeRef f = ce_ref(v, t2, 1.0, R2, V2);
                       double s = 0;
                       for (double l : f.loss) s += l;
                       return s / 3.0;
                   },
                   lg),
               "dlogits vs finite differences", 1e-6);
}

// ---------------------------------------------------------------------------------------------
// Lag stack

TEST(NnOps, LagStackMatchesReference) {
    std::mt19937 rng(12);
    struct Case {
        int64_t B, T, N;
        int m;
    };
    const Case cases[] = {{1, 1, 1, 1}, {1, 5, 3, 4}, {2, 2, 13, 3}, {3, 67, 128, 2}, {2, 31, 37, 8}};
    for (const Case &c : cases) {
        for (bool with_h0 : {false, true}) {
            const std::string what = shape_str({c.B, c.T, c.N}) + " m=" + std::to_string(c.m) + (with_h0 ? " h0" : "");
            Vec s = rounded(randn((size_t)(c.B * c.T * c.N), rng)), h0 = rounded(randn((size_t)(c.B * c.N * c.m), rng));
            Vec dl = rounded(randn((size_t)(c.B * c.T * c.m * c.N), rng));
            Tensor h0t = to_tensor({c.B, c.N, c.m}, h0), lags = poisoned({c.B, c.T, c.m * c.N});
            lag_stack_forward(to_tensor({c.B, c.T, c.N}, s), c.m, with_h0 ? &h0t : nullptr, lags);
            expect_rel(to_vec(lags), lag_forward_ref(s, with_h0 ? &h0 : nullptr, c.B, c.T, c.N, c.m), what + " lags", 0.0);
            Tensor ds = poisoned({c.B, c.T, c.N});
            lag_stack_backward(to_tensor({c.B, c.T, c.m * c.N}, dl), c.m, ds);
            Vec want = lag_backward_ref(dl, c.B, c.T, c.N, c.m);
            expect_rel(to_vec(ds), want, what + " ds", 1e-6);
            if (c.T * c.N <= 64) {
                expect_rel(want,
                           finite_diff([&](const Vec &v) { return dot(dl, lag_forward_ref(v, &h0, c.B, c.T, c.N, c.m)); }, s, 0.5),
                           what + " ds vs finite differences", 1e-9);
            }
            // Time-major ([T,B,...]): the same numbers, transposed.
            auto swap_bt = [&](const Vec &x, int64_t d0, int64_t d1) {  // [d0,d1,rest] -> [d1,d0,rest]
                const size_t rest = x.size() / (size_t)(d0 * d1);
                Vec out(x.size());
                for (int64_t i = 0; i < d0; i++)
                    for (int64_t j = 0; j < d1; j++)
                        std::copy_n(x.begin() + (size_t)(i * d1 + j) * rest, rest, out.begin() + (size_t)(j * d0 + i) * rest);
                return out;
            };
            Tensor lags_tm = poisoned({c.T, c.B, c.m * c.N}), ds_tm = poisoned({c.T, c.B, c.N});
            lag_stack_forward(to_tensor({c.T, c.B, c.N}, swap_bt(s, c.B, c.T)), c.m, with_h0 ? &h0t : nullptr, lags_tm, true);
            expect_rel(swap_bt(to_vec(lags_tm), c.T, c.B), to_vec(lags), what + " time-major lags", 0.0);
            lag_stack_backward(to_tensor({c.T, c.B, c.m * c.N}, swap_bt(dl, c.B, c.T)), c.m, ds_tm, true);
            expect_rel(swap_bt(to_vec(ds_tm), c.T, c.B), to_vec(ds), what + " time-major ds", 0.0);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Determinism: the reductions over rows give the same bits twice and with one thread.

// Denormals flushed in every thread that computes (thread_pool.h): a Halide kernel's rows (spread
// over Halide's pool) and a oneDNN product's rows (OpenMP's) all come out 0 from denormal inputs
// with the mode on, and all denormal again with it off.
TEST(NnOps, FlushDenormalsReachesEveryPool) {
#if !(defined(__x86_64__) || defined(__i386__))
    GTEST_SKIP() << "FTZ/DAZ are set in x86's MXCSR; elsewhere set_flush_denormals does nothing";
#endif
    const double tiny = 1e-40;  // a float denormal
    ASSERT_EQ(std::fpclassify((float)tiny), FP_SUBNORMAL);
    const int64_t R = 4096, D = 64, O = 32;  // enough rows for every thread of both pools
    Tensor table = to_tensor({1, D}, Vec((size_t)D, tiny)), pos = Tensor::zeros({R, D}), ids = Tensor::zeros({R});
    Tensor x = to_tensor({R, D}, Vec((size_t)(R * D), tiny)), W = to_tensor({O, D}, Vec((size_t)(O * D), 1.0));
    Tensor emb = Tensor::empty({R, D}), y = Tensor::empty({R, O});
    // Counts of exact zeros and of denormals among the outputs of both ops.
    auto run = [&](size_t &zeros, size_t &denormals) {
        embedding_forward(ids, table, &pos, R, emb);  // tiny + 0 per element (Halide)
        linear_forward(x, W, nullptr, y);             // D·tiny per element (oneDNN)
        zeros = denormals = 0;
        for (const Tensor *t : {&emb, &y}) {
            for (int64_t i = 0; i < t->numel(); i++) {
                zeros += t->data()[i] == 0.0f;
                denormals += std::fpclassify(t->data()[i]) == FP_SUBNORMAL;
            }

        }
    };
    // Each pool's threads, asked directly: how many of them flush, out of how many that ran.
    struct Seen {
        std::mutex mu;
        std::set<std::thread::id> all, flushing;
        void note() {
            std::lock_guard<std::mutex> lock(mu);
            all.insert(std::this_thread::get_id());
            if (flush_denormals_enabled()) flushing.insert(std::this_thread::get_id());
        }
    };
    auto omp_threads = [](Seen &seen) {
#pragma omp parallel
        seen.note();
    };
    auto halide_threads = [](Seen &seen) {  // 64 tasks of 1 ms on Halide's pool: every worker takes some
        auto task = [](void *, int, uint8_t *closure) -> int {
            ((Seen *)closure)->note();
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
            return 0;
        };
        ASSERT_EQ(halide_do_par_for(nullptr, task, 0, 64, (uint8_t *)&seen), 0);
    };
    auto expect_pools = [&](bool on) {
        for (auto pool : {+omp_threads, +halide_threads}) {
            Seen seen;
            pool(seen);
            EXPECT_GE(seen.all.size(), 2u) << "a pool ran on one thread only: the check would say nothing";
            EXPECT_EQ(seen.flushing.size(), on ? seen.all.size() : 0u) << (on ? "flush" : "keep");
        }
    };
    const size_t n = (size_t)(R * D + R * O);
    size_t zeros = 0, denormals = 0;
    ASSERT_TRUE(set_flush_denormals(false));
    run(zeros, denormals);
    EXPECT_EQ(denormals, n) << "denormals kept: every output is a denormal";
    expect_pools(false);
    ASSERT_TRUE(set_flush_denormals(true));
    EXPECT_TRUE(flush_denormals_enabled());
    run(zeros, denormals);
    EXPECT_EQ(zeros, n) << "denormals flushed: every output is 0, whichever thread computed it";
    expect_pools(true);
    ASSERT_TRUE(set_flush_denormals(false));
    EXPECT_FALSE(flush_denormals_enabled());
    run(zeros, denormals);
    EXPECT_EQ(denormals, n) << "kept again: the workers' mode follows";
    expect_pools(false);

    // The CLI's environment switch: "keep", "flush", anything else an Error naming the variable.
    setenv("STATEMIX_DENORMALS", "keep", 1);
    EXPECT_FALSE(flush_denormals_from_env());
    EXPECT_FALSE(flush_denormals_enabled());
    setenv("STATEMIX_DENORMALS", "flush", 1);
    EXPECT_TRUE(flush_denormals_from_env());
    setenv("STATEMIX_DENORMALS", "sometimes", 1);
    expect_error([] { flush_denormals_from_env(); }, {"STATEMIX_DENORMALS", "'flush' or 'keep'", "sometimes"});
    unsetenv("STATEMIX_DENORMALS");
    EXPECT_TRUE(flush_denormals_from_env());
    set_flush_denormals(false);
}

TEST(NnOps, ReductionsAreBitwiseDeterministic) {
    std::mt19937 rng(13);
    const int64_t R = 4099, D = 128, V = 16;
    Tensor x = to_tensor({R, D}, randn(R * D, rng)), g = to_tensor({D}, randn(D, rng)), dy = to_tensor({R, D}, randn(R * D, rng));
    Tensor y = Tensor::empty({R, D}), mean = Tensor::empty({R}), rstd = Tensor::empty({R});
    layernorm_forward(x, g, g, 1e-5f, y, mean, rstd);
    Tensor ids = to_tensor({R}, ids_vec(random_ids(R, (int)V, rng)));
    auto run = [&] {
        std::vector<Tensor> out = {Tensor::empty({R, D}), Tensor::empty({D}), Tensor::empty({D}), Tensor::empty({V, D}),
                                   Tensor::empty({R, D}), Tensor::empty({R}), Tensor::empty({R})};
        layernorm_backward(dy, x, g, mean, rstd, out[0], out[1], out[2], false);
        embedding_backward(ids, dy, 0, out[3], nullptr);
        layernorm_forward(x, g, g, 1e-5f, out[4], out[5], out[6]);
        return out;
    };
    std::vector<Tensor> a = run(), b = run(), c;
    with_threads(1, [&] { c = run(); });
    const char *names[] = {"dx", "dgamma", "dbeta", "dtable", "y", "mean", "rstd"};
    for (size_t i = 0; i < a.size(); i++) {
        expect_bitwise(a[i], b[i], std::string(names[i]) + " (twice)");
        expect_bitwise(a[i], c[i], std::string(names[i]) + " (one thread)");
    }
}

// ---------------------------------------------------------------------------------------------
// Bad input: an Error naming the op, the argument and the shapes.

TEST(NnOps, BadShapesNameTheArgument) {
    Tensor x = Tensor::zeros({4, 6}), d6 = Tensor::zeros({6}), d5 = Tensor::zeros({5}), r4 = Tensor::zeros({4});
    Tensor y = Tensor::empty({4, 6});
    expect_error([&] { layernorm_forward(x, d5, d6, 1e-5f, y, r4, r4); }, {"layernorm_forward", "'gamma'", "[6]", "[5]"});
    expect_error([&] { layernorm_forward(x, d6, d6, 1e-5f, y, d5, r4); }, {"layernorm_forward", "'mean'", "[4]"});
    expect_error([&] { layernorm_forward(Tensor::zeros({24}), d6, d6, 1e-5f, y, r4, r4); }, {"'x'", "[R,D]"});
    expect_error([&] { layernorm_forward(x, d6, d6, NAN, y, r4, r4); }, {"'eps'"});
    Tensor dx = Tensor::empty({4, 5});
    expect_error([&] { layernorm_backward(x, x, d6, r4, r4, dx, d6, d6, false); }, {"layernorm_backward", "'dx'", "[4, 6]", "[4, 5]"});
    Tensor h = Tensor::empty({4, 3});
    expect_error([&] { swiglu_forward(Tensor::zeros({4, 5}), h); }, {"swiglu_forward", "'ab'", "even"});
    expect_error([&] { swiglu_forward(x, y); }, {"swiglu_forward", "'h'", "[4, 3]"});
    expect_error([&] { swiglu_backward(x, h, h); }, {"swiglu_backward", "'dab'"});
    expect_error([&] { gelu_forward(x, h); }, {"gelu_forward", "'y'"});
    expect_error([&] { gelu_backward(x, h, y); }, {"gelu_backward", "'dy'"});
    expect_error([&] { add(x, h, y); }, {"add", "'b'"});
    Tensor lr = Tensor::zeros({4});
    expect_error([&] { cross_entropy(x, d5, 1.0f, r4, r4, y); }, {"cross_entropy", "'targets'", "[4]", "[5]"});
    expect_error([&] { cross_entropy(x, r4, 1.0f, r4, r4, h); }, {"cross_entropy", "'dlogits'"});
    Tensor bad_t = Tensor::from_host({4}, std::vector<float>{0, 6, -1, 1}.data());
    expect_error([&] { cross_entropy(x, bad_t, 1.0f, r4, lr, y); }, {"cross_entropy", "'targets'", "row 1", "[0, 6)"});
    Tensor p = Tensor::zeros({7}), g7 = Tensor::zeros({7}), m6 = Tensor::zeros({6});
    expect_error([&] { adamw_update(p, g7, m6, g7, AdamWArgs{1e-3f, 0.9f, 0.999f, 1e-8f, 0.0f, 1}); }, {"adamw_update", "'m'"});
    expect_error([&] { adamw_update(p, g7, g7, g7, AdamWArgs{1e-3f, 0.9f, 0.999f, 1e-8f, 0.0f, 0}); }, {"adamw_update", "'step'"});
    Tensor s = Tensor::zeros({2, 3, 4});
    Tensor lags = Tensor::empty({2, 3, 7});
    expect_error([&] { lag_stack_forward(s, 2, nullptr, lags); }, {"lag_stack_forward", "'lags'", "[2, 3, 8]"});
    Tensor h0 = Tensor::zeros({2, 4, 3});
    Tensor lags8 = Tensor::empty({2, 3, 8});
    expect_error([&] { lag_stack_forward(s, 2, &h0, lags8); }, {"lag_stack_forward", "'h0'", "[2, 4, 2]"});
    expect_error([&] { lag_stack_forward(s, 0, nullptr, lags8); }, {"'m'"});
    expect_error([&] { lag_stack_backward(lags, 2, s); }, {"lag_stack_backward", "'dlags'"});
    // Time-major: s is [T,B,N] = [2,3,4], so h0 must be [B,N,m] = [3,4,2]; the messages name the layout.
    expect_error([&] { lag_stack_forward(s, 2, nullptr, lags, true); }, {"lag_stack_forward", "'lags'", "[T,B,m·N]", "[2, 3, 8]"});
    Tensor h0_bm = Tensor::zeros({2, 4, 2});
    expect_error([&] { lag_stack_forward(s, 2, &h0_bm, lags8, true); }, {"lag_stack_forward", "'h0'", "[3, 4, 2]"});
    expect_error([&] { lag_stack_backward(lags, 2, s, true); }, {"lag_stack_backward", "'dlags'", "[T,B,m·N]"});
    Tensor table = Tensor::zeros({4, 6}), ids = Tensor::zeros({4});
    expect_error([&] { embedding_forward(ids, table, nullptr, 0, h); }, {"embedding_forward", "'y'", "[4, 6]"});
    expect_error([&] { embedding_backward(ids, h, 0, table, nullptr); }, {"embedding_backward", "'dy'"});
}

// ---------------------------------------------------------------------------------------------
// CUDA = CPU (skipped without a GPU). Same inputs on both devices; results within float32
// rounding (the GPU sums in other chunks and orders), argmax exact.

class NnOpsCuda : public ::testing::Test {
protected:
    void SetUp() override {
        if (!cuda_available()) GTEST_SKIP() << cuda_unavailable_reason();
    }
    std::mt19937 rng{14};
    Tensor cpu(const Shape &s, double scale = 1.0) {
        int64_t n = 1;
        for (auto e : s) n *= e;
        return to_tensor(s, randn((size_t)n, rng, scale));
    }
    static Tensor gpu(const Tensor &t) { return t.to(Device::cuda); }
    static void same(const Tensor &cuda_out, const Tensor &cpu_out, const std::string &what, double rtol = 1e-5) {
        expect_rel(to_vec(cuda_out), to_vec(cpu_out), what, rtol);
    }
};

TEST_F(NnOpsCuda, LayerNorm) {
    for (const RD s : kShapes) {
        const std::string what = "R=" + std::to_string(s.R) + " D=" + std::to_string(s.D);
        Tensor x = cpu({s.R, s.D}), g = cpu({s.D}), b = cpu({s.D}), dy = cpu({s.R, s.D}), prev = cpu({s.R, s.D});
        Tensor y = Tensor::empty({s.R, s.D}), mean = Tensor::empty({s.R}), rstd = Tensor::empty({s.R});
        layernorm_forward(x, g, b, 1e-5f, y, mean, rstd);
        Tensor yc = Tensor::empty({s.R, s.D}, Device::cuda), mc = Tensor::empty({s.R}, Device::cuda),
               rc = Tensor::empty({s.R}, Device::cuda);
        layernorm_forward(gpu(x), gpu(g), gpu(b), 1e-5f, yc, mc, rc);
        same(yc, y, what + " y");
        same(mc, mean, what + " mean");
        same(rc, rstd, what + " rstd");
        for (bool acc : {false, true}) {
            Tensor dx = acc ? prev.to(Device::cpu) : Tensor::empty({s.R, s.D}), dg = Tensor::empty({s.D}), db = Tensor::empty({s.D});
            layernorm_backward(dy, x, g, mean, rstd, dx, dg, db, acc);
            Tensor dxc = acc ? gpu(prev) : Tensor::empty({s.R, s.D}, Device::cuda), dgc = Tensor::empty({s.D}, Device::cuda),
                   dbc = Tensor::empty({s.D}, Device::cuda);
            layernorm_backward(gpu(dy), gpu(x), gpu(g), gpu(mean), gpu(rstd), dxc, dgc, dbc, acc);
            same(dxc, dx, what + " dx");
            same(dgc, dg, what + " dgamma", 2e-5);
            same(dbc, db, what + " dbeta", 2e-5);
        }
    }
}

TEST_F(NnOpsCuda, PointwiseOps) {
    const int64_t R = 67, F = 344;
    Tensor ab = cpu({R, 2 * F}, 3.0), dh = cpu({R, F});
    Tensor h = Tensor::empty({R, F}), dab = Tensor::empty({R, 2 * F});
    swiglu_forward(ab, h);
    swiglu_backward(ab, dh, dab);
    Tensor hc = Tensor::empty({R, F}, Device::cuda), dabc = Tensor::empty({R, 2 * F}, Device::cuda);
    swiglu_forward(gpu(ab), hc);
    swiglu_backward(gpu(ab), gpu(dh), dabc);
    same(hc, h, "swiglu h");
    same(dabc, dab, "swiglu dab");

    Tensor x = cpu({5, 3, 131}, 3.0), dy = cpu({5, 3, 131});
    Tensor y = Tensor::empty(x.shape()), dx = Tensor::empty(x.shape());
    gelu_forward(x, y);
    gelu_backward(x, dy, dx);
    Tensor yc = Tensor::empty(x.shape(), Device::cuda), dxc = Tensor::empty(x.shape(), Device::cuda);
    gelu_forward(gpu(x), yc);
    gelu_backward(gpu(x), gpu(dy), dxc);
    same(yc, y, "gelu");
    same(dxc, dx, "gelu backward");

    Tensor a = cpu({70001}), b = cpu({70001});
    Tensor ac = gpu(a);
    add(a, b, a);
    scale(a, 0.5f);
    add(ac, gpu(b), ac);
    scale(ac, 0.5f);
    same(ac, a, "add + scale in place", 0.0);

    Tensor big = cpu({3, 1000, 129}, 5.0);
    const double s_cpu = sum_squares(big), s_gpu = sum_squares(gpu(big));
    EXPECT_NEAR(s_gpu, s_cpu, 1e-12 * s_cpu);
    const double s_gpu2 = sum_squares(gpu(big));
    EXPECT_EQ(std::memcmp(&s_gpu, &s_gpu2, sizeof s_gpu), 0) << "CUDA sum_squares not bitwise repeatable";
}

TEST_F(NnOpsCuda, AdamW) {
    const int64_t n = 1031;
    Tensor p = cpu({n}), m = Tensor::zeros({n}), v = Tensor::zeros({n});
    Tensor pc = gpu(p), mc = gpu(m), vc = gpu(v);
    for (int64_t step = 1; step <= 4; step++) {
        Tensor g = cpu({n});
        const AdamWArgs a{1e-2f, 0.9f, 0.999f, 1e-8f, 0.1f, step};
        adamw_update(p, g, m, v, a);
        adamw_update(pc, gpu(g), mc, vc, a);
    }
    same(pc, p, "adamw p");
    same(mc, m, "adamw m");
    same(vc, v, "adamw v");
}

TEST_F(NnOpsCuda, EmbeddingAndCrossEntropy) {
    const int64_t B = 4, T = 67, R = B * T, V = 16, D = 131, P = 70;
    Tensor ids = to_tensor({R}, ids_vec(random_ids((size_t)R, (int)V, rng)));
    Tensor table = cpu({V, D}), pos = cpu({P, D}), dy = cpu({R, D});
    for (bool with_pos : {false, true}) {
        Tensor y = Tensor::empty({R, D}), dt = Tensor::empty({V, D}), dp = Tensor::empty({P, D});
        embedding_forward(ids, table, with_pos ? &pos : nullptr, T, y);
        embedding_backward(ids, dy, T, dt, with_pos ? &dp : nullptr);
        Tensor posc = gpu(pos), yc = Tensor::empty({R, D}, Device::cuda), dtc = Tensor::empty({V, D}, Device::cuda),
               dpc = Tensor::empty({P, D}, Device::cuda);
        embedding_forward(gpu(ids), gpu(table), with_pos ? &posc : nullptr, T, yc);
        embedding_backward(gpu(ids), gpu(dy), T, dtc, with_pos ? &dpc : nullptr);
        same(yc, y, "embedding y", 0.0);
        same(dtc, dt, "embedding dtable");
        if (with_pos) same(dpc, dp, "embedding dpos");
    }
    Tensor logits = cpu({R, V}, 4.0);
    Tensor tg = to_tensor({R}, ids_vec(random_ids((size_t)R, (int)V, rng, true)));
    Tensor loss = Tensor::empty({R}), pred = Tensor::empty({R}), dl = Tensor::empty({R, V});
    cross_entropy(logits, tg, 0.01f, loss, pred, dl);
    Tensor lc = Tensor::empty({R}, Device::cuda), pc = Tensor::empty({R}, Device::cuda), dlc = Tensor::empty({R, V}, Device::cuda);
    cross_entropy(gpu(logits), gpu(tg), 0.01f, lc, pc, dlc);
    same(lc, loss, "cross-entropy loss");
    same(pc, pred, "cross-entropy pred", 0.0);
    same(dlc, dl, "cross-entropy dlogits");
}

TEST_F(NnOpsCuda, LagStack) {
    const int64_t B = 3, T = 67, N = 37;
    const int m = 4;
    Tensor s = cpu({B, T, N}), h0 = cpu({B, N, m}), dl = cpu({B, T, m * N});
    for (bool with_h0 : {false, true}) {
        Tensor lags = Tensor::empty({B, T, m * N}), ds = Tensor::empty({B, T, N});
        lag_stack_forward(s, m, with_h0 ? &h0 : nullptr, lags);
        lag_stack_backward(dl, m, ds);
        Tensor h0c = gpu(h0), lc = Tensor::empty({B, T, m * N}, Device::cuda), dsc = Tensor::empty({B, T, N}, Device::cuda);
        lag_stack_forward(gpu(s), m, with_h0 ? &h0c : nullptr, lc);
        lag_stack_backward(gpu(dl), m, dsc);
        same(lc, lags, "lags", 0.0);
        same(dsc, ds, "ds", 1e-6);
    }
}

// ---------------------------------------------------------------------------------------------
// Throughput at the training step's size (R = 32K rows, D = 128, V = 16), against a copy of the
// same bytes in the same run. Not a test: run with --gtest_also_run_disabled_tests.

template <typename F> double best_seconds(F f, int reps = 20) {
    f();
    double best = 1e30;
    for (int i = 0; i < reps; i++) {
        auto t0 = std::chrono::steady_clock::now();
        f();
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return best;
}

TEST(NnOps, DISABLED_Throughput) {
    std::mt19937 rng(15);
    const int64_t R = 32768, D = 128, V = 16;
    Tensor x = to_tensor({R, D}, randn(R * D, rng)), g = to_tensor({D}, randn(D, rng)), dy = to_tensor({R, D}, randn(R * D, rng));
    Tensor y = Tensor::empty({R, D}), mean = Tensor::empty({R}), rstd = Tensor::empty({R}), dx = Tensor::empty({R, D});
    Tensor dg = Tensor::empty({D}), db = Tensor::empty({D});
    Tensor dst = Tensor::empty({R, D});
    const double mb = (double)(R * D * 4) / 1e9;  // one [R,D] tensor, in GB
    const double t_copy = best_seconds([&] { std::memcpy(dst.data(), x.data(), (size_t)(R * D * 4)); });
    const double t_fwd = best_seconds([&] { layernorm_forward(x, g, g, 1e-5f, y, mean, rstd); });
    const double t_bwd = best_seconds([&] { layernorm_backward(dy, x, g, mean, rstd, dx, dg, db, false); });
    const double t_acc = best_seconds([&] { layernorm_backward(dy, x, g, mean, rstd, dx, dg, db, true); });
    Tensor logits = to_tensor({R, V}, randn(R * V, rng)), tg = to_tensor({R}, ids_vec(random_ids(R, (int)V, rng, true)));
    Tensor loss = Tensor::empty({R}), pred = Tensor::empty({R}), dl = Tensor::empty({R, V});
    const double t_ce = best_seconds([&] { cross_entropy(logits, tg, 1.0f / R, loss, pred, dl); });
    const double ce_gb = (double)(R * V * 4 * 2 + R * 4 * 3) / 1e9;
    std::printf("copy [R,D]               %8.3f ms  %6.1f GB/s (read + write)\n", t_copy * 1e3, 2 * mb / t_copy);
    std::printf("layernorm forward        %8.3f ms  %6.1f GB/s (x -> y)\n", t_fwd * 1e3, 2 * mb / t_fwd);
    std::printf("layernorm backward       %8.3f ms  %6.1f GB/s (dy, x -> dx)\n", t_bwd * 1e3, 3 * mb / t_bwd);
    std::printf("layernorm backward acc   %8.3f ms  %6.1f GB/s (dy, x, dx -> dx)\n", t_acc * 1e3, 4 * mb / t_acc);
    std::printf("layernorm fwd + bwd      %8.3f ms  %6.1f GB/s\n", (t_fwd + t_bwd) * 1e3, 5 * mb / (t_fwd + t_bwd));
    std::printf("cross_entropy V=16       %8.3f ms  %6.1f GB/s (logits -> dlogits, loss, pred)\n", t_ce * 1e3, ce_gb / t_ce);
}

}  // namespace
}  // namespace statemix
