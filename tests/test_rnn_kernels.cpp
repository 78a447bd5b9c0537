// The nonlinear recurrences (WCRNN with every residual type, Elman, LSTM; spec §7-§8): the float64
// reference against finite differences, every compiled kernel variant against the reference on
// ragged shapes, the float32 kernels' own gradients by finite differences, chunked = one pass,
// CUDA = CPU, bad input and NaN propagation, the initialisation helpers and the Lyapunov spectrum.
#include "reference/rnn_reference.h"
#include "runtime/lyapunov.h"
#include "runtime/rnn_init.h"
#include "runtime/rnn_ops.h"
#include "runtime/rnn_stepped.h"
#include "runtime/scratch.h"
#include "tests/test_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace statemix {
namespace {

using namespace statemix::test;
constexpr double kTwoPi = 6.283185307179586;

// ---------------------------------------------------------------------------------------------
// Problems

constexpr ResidualKind kPerUnitKinds[] = {ResidualKind::identity, ResidualKind::scalar, ResidualKind::diagonal,
                                          ResidualKind::rotation, ResidualKind::nonlinear};

Residual test_residual(ResidualKind kind, int64_t H, unsigned seed, bool per_unit_nonlinear = false) {
    ResidualInit init;
    init.kind = kind;
    init.a = kind == ResidualKind::nonlinear ? 0.9 : 0.95;
    init.tau_min = 2;
    init.tau_max = 50;
    Residual r = make_residual(init, H, seed);
    if (per_unit_nonlinear) r.a = diagonal_from_timescales(H, 2, 50, seed + 1);
    return r;
}

ref::RnnResidual<double> to_ref(const Residual &r) {
    ref::RnnResidual<double> out;
    out.kind = (ref::Residual)((int)r.kind + 1);
    if (r.a.defined()) out.a = to_vec(r.a);
    if (r.theta.defined()) out.theta = to_vec(r.theta);
    if (r.Q.defined()) out.Q = to_vec(r.Q);
    return out;
}

// One problem for any of the three layers: layer "wcrnn" | "elman" | "lstm".
struct Problem {
    std::string layer = "wcrnn";
    WcrnnConfig cfg;
    int64_t B = 1, T = 1, H = 1;
    Vec u, W, h0, c0, g, g_final, gc_final;
    int64_t gates() const { return layer == "lstm" ? 4 : 1; }
    Shape u_shape() const { return {B, T, gates() * H}; }
    Shape W_shape() const { return {gates() * H, H}; }
    Shape seq() const { return {B, T, H}; }
    Shape state() const { return {B, H}; }
};

Problem make_problem(const std::string &layer, ResidualKind kind, Activation act, int64_t B, int64_t T, int64_t H,
                     unsigned seed) {
    Problem p;
    p.layer = layer;
    p.B = B;
    p.T = T;
    p.H = H;
    p.cfg.residual = test_residual(kind, H, seed);
    p.cfg.eps = layer == "wcrnn" ? 0.3f : 1.0f;
    p.cfg.act = act;
    p.cfg.train_residual = true;
    std::mt19937 rng(seed);
    const size_t G = (size_t)p.gates();
    p.u = randn((size_t)(B * T * H) * G, rng);
    p.W = randn(G * (size_t)(H * H), rng, 0.9 / std::sqrt((double)H));
    p.h0 = randn((size_t)(B * H), rng, 0.5);
    p.c0 = randn((size_t)(B * H), rng, 0.5);
    p.g = randn((size_t)(B * T * H), rng);
    p.g_final = randn((size_t)(B * H), rng);
    p.gc_final = randn((size_t)(B * H), rng);
    return p;
}

struct Result {
    Vec h, h_final, c, c_final, z;         // forward (z: LSTM's gate pre-activations [4,B,T,H])
    Vec du, dW, dh0, dc0, da, dtheta;      // backward
};

Result reference(const Problem &p, bool backward) {
    Result r;
    const int B = (int)p.B, T = (int)p.T, H = (int)p.H;
    const size_t seq = (size_t)(B * T * H), st = (size_t)(B * H);
    r.h.resize(seq);
    r.h_final.resize(st);
    const auto res = to_ref(p.cfg.residual);
    const auto act = (ref::Activation)(int)p.cfg.act;
    if (p.layer == "wcrnn") {
        ref::wcrnn_forward(B, T, H, res, (double)p.cfg.eps, act, p.u.data(), p.W.data(), p.h0.data(), r.h.data(),
                           r.h_final.data());
    } else if (p.layer == "elman") {
        ref::elman_forward(B, T, H, p.u.data(), p.W.data(), p.h0.data(), r.h.data(), r.h_final.data());
    } else {
        r.c.resize(seq);
        r.c_final.resize(st);
        r.z.resize(4 * seq);
        ref::lstm_forward(B, T, H, p.u.data(), p.W.data(), p.h0.data(), p.c0.data(), r.h.data(), r.c.data(),
                          r.h_final.data(), r.c_final.data(), r.z.data());
    }
    if (!backward) return r;
    r.du.resize(p.u.size());
    r.dW.resize(p.W.size());
    r.dh0.resize(st);
    if (p.layer == "wcrnn") {
        r.da.resize(res.a.size());
        r.dtheta.resize(res.theta.size());
        ref::wcrnn_backward(B, T, H, res, (double)p.cfg.eps, act, p.u.data(), p.W.data(), p.h0.data(), p.g.data(),
                            p.g_final.data(), r.du.data(), r.dW.data(), r.dh0.data(), r.da.data(), r.dtheta.data());
    } else if (p.layer == "elman") {
        ref::elman_backward(B, T, H, p.u.data(), p.W.data(), p.h0.data(), p.g.data(), p.g_final.data(), r.du.data(),
                            r.dW.data(), r.dh0.data());
    } else {
        r.dc0.resize(st);
        ref::lstm_backward(B, T, H, p.u.data(), p.W.data(), p.h0.data(), p.c0.data(), p.g.data(), p.g_final.data(),
                           p.gc_final.data(), r.du.data(), r.dW.data(), r.dh0.data(), r.dc0.data());
    }
    return r;
}

// The runtime (the AOT kernels) on `dev`, outputs poisoned with NaN so every element must be written.
// Outputs are read back from the very Tensor objects the kernels wrote: a copy of a CUDA Tensor
// shares its device memory but not its "device is newer" flag, so reading through a copy made
// before the kernel ran returns the stale host contents.
// lstm_workspace = false runs the LSTM's inference forward (no z; forward only).
Result run(const Problem &p, Device dev, bool backward, bool lstm_workspace = true) {
    Tensor u = to_tensor(p.u_shape(), p.u, dev), W = to_tensor(p.W_shape(), p.W, dev);
    Tensor h0 = to_tensor(p.state(), p.h0, dev), c0 = to_tensor(p.state(), p.c0, dev);
    const size_t seq = (size_t)(p.B * p.T * p.H), st = (size_t)(p.B * p.H);
    Tensor h = to_tensor(p.seq(), poison(seq), dev), hf = to_tensor(p.state(), poison(st), dev);
    Tensor c = to_tensor(p.seq(), poison(seq), dev), cf = to_tensor(p.state(), poison(st), dev);
    Tensor z;  // LSTM: the forward's gate pre-activations, the backward's workspace
    Result r;
    if (p.layer == "wcrnn") {
        Residual res = p.cfg.residual;
        WcrnnConfig cfg = p.cfg;
        cfg.residual.a = res.a.defined() ? res.a.to(dev) : Tensor();
        cfg.residual.theta = res.theta.defined() ? res.theta.to(dev) : Tensor();
        cfg.residual.Q = res.Q.defined() ? res.Q.to(dev) : Tensor();
        wcrnn_forward(cfg, u, W, &h0, h, hf);
    } else if (p.layer == "elman") {
        elman_forward(u, W, &h0, h, hf);
    } else {
        LstmForwardResult o{h, c, hf, cf, lstm_workspace ? to_tensor({4, p.B, p.T, p.H}, poison(4 * seq), dev) : Tensor()};
        lstm_forward(u, W, &h0, &c0, o);
        h = o.h;
        hf = o.h_final;
        c = o.c;
        z = o.z;
        r.c = to_vec(o.c);
        r.c_final = to_vec(o.c_final);
        if (lstm_workspace) r.z = to_vec(o.z);
    }
    r.h = to_vec(h);
    r.h_final = to_vec(hf);
    if (!backward) return r;
    Tensor g = to_tensor(p.seq(), p.g, dev), gf = to_tensor(p.state(), p.g_final, dev);
    Tensor du = to_tensor(p.u_shape(), poison(p.u.size()), dev), dW = to_tensor(p.W_shape(), poison(p.W.size()), dev);
    Tensor dh0 = to_tensor(p.state(), poison(st), dev);
    if (p.layer == "wcrnn") {
        WcrnnGrads o{du, dW, dh0, Tensor(), Tensor()};
        wcrnn_backward(p.cfg, u, W, &h0, h, g, &gf, o);
        if (o.da.defined()) r.da = to_vec(o.da);
        if (o.dtheta.defined()) r.dtheta = to_vec(o.dtheta);
        r.du = to_vec(o.du);
        r.dW = to_vec(o.dW);
        r.dh0 = to_vec(o.dh0);
    } else if (p.layer == "elman") {
        ElmanGrads o{du, dW, dh0};
        elman_backward(u, W, &h0, h, g, &gf, o);
        r.du = to_vec(o.du);
        r.dW = to_vec(o.dW);
        r.dh0 = to_vec(o.dh0);
    } else {
        Tensor gcf = to_tensor(p.state(), p.gc_final, dev), dc0 = to_tensor(p.state(), poison(st), dev);
        LstmGrads o{du, dW, dh0, dc0};
        lstm_backward(z, W, &h0, &c0, h, c, g, &gf, &gcf, o);
        r.du = to_vec(o.du);
        r.dW = to_vec(o.dW);
        r.dh0 = to_vec(o.dh0);
        r.dc0 = to_vec(o.dc0);
    }
    return r;
}

void compare(const Result &got, const Result &want, const std::string &what, bool backward, double rtol = 2e-4) {
    expect_close(got.h, want.h, what + " h", rtol);
    expect_close(got.h_final, want.h_final, what + " h_final", rtol);
    if (!want.c.empty()) {
        expect_close(got.c, want.c, what + " c", rtol);
        expect_close(got.c_final, want.c_final, what + " c_final", rtol);
    }
    if (!want.z.empty()) expect_close(got.z, want.z, what + " z", rtol);
    if (!backward) return;
    expect_close(got.du, want.du, what + " du", 2.5 * rtol);
    expect_close(got.dW, want.dW, what + " dW", 2.5 * rtol);
    expect_close(got.dh0, want.dh0, what + " dh0", 2.5 * rtol);
    if (!want.dc0.empty()) expect_close(got.dc0, want.dc0, what + " dc0", 2.5 * rtol);
    if (!want.da.empty()) expect_close(got.da, want.da, what + " da", 2.5 * rtol);
    if (!want.dtheta.empty()) expect_close(got.dtheta, want.dtheta, what + " dtheta", 2.5 * rtol);
}

// ---------------------------------------------------------------------------------------------
// The float64 reference against finite differences of its own forward:
// L = Σ g·h + Σ g_final·h_final (+ Σ gc_final·c_final); (L(x+εd) − L(x−εd)) / 2ε = ⟨∇L, d⟩.

double loss(const Problem &p) {
    Result r = reference(p, false);
    double L = dot(p.g, r.h) + dot(p.g_final, r.h_final);
    if (p.layer == "lstm") L += dot(p.gc_final, r.c_final);
    return L;
}

void check_reference_gradients(Problem p, const std::string &what) {
    Result an = reference(p, true);
    std::mt19937 rng(99);
    const Vec du = randn(p.u.size(), rng), dW = randn(p.W.size(), rng), dh = randn(p.h0.size(), rng),
              dc = randn(p.c0.size(), rng);
    const ref::RnnResidual<double> res = to_ref(p.cfg.residual);
    const Vec da = randn(res.a.size(), rng), dth = randn(res.theta.size(), rng);
    auto perturbed = [&](double e) {
        Problem q = p;
        for (size_t i = 0; i < q.u.size(); i++) q.u[i] += e * du[i];
        for (size_t i = 0; i < q.W.size(); i++) q.W[i] += e * dW[i];
        for (size_t i = 0; i < q.h0.size(); i++) q.h0[i] += e * dh[i];
        if (p.layer == "lstm")
            for (size_t i = 0; i < q.c0.size(); i++) q.c0[i] += e * dc[i];
        if (p.layer == "wcrnn") {
            Vec a = res.a, th = res.theta;
            for (size_t i = 0; i < a.size(); i++) a[i] += e * da[i];
            for (size_t i = 0; i < th.size(); i++) th[i] += e * dth[i];
            if (!a.empty()) q.cfg.residual.a = to_tensor(p.cfg.residual.a.shape(), a);
            if (!th.empty()) q.cfg.residual.theta = to_tensor(p.cfg.residual.theta.shape(), th);
        }
        return q;
    };
    // The residual's parameters go through float32 tensors: perturb them in float64 directly.
    auto loss_at = [&](double e) {
        Problem q = perturbed(e);
        if (p.layer != "wcrnn") return loss(q);
        ref::RnnResidual<double> r2 = res;
        for (size_t i = 0; i < r2.a.size(); i++) r2.a[i] += e * da[i];
        for (size_t i = 0; i < r2.theta.size(); i++) r2.theta[i] += e * dth[i];
        Vec h((size_t)(p.B * p.T * p.H)), hf((size_t)(p.B * p.H));
        ref::wcrnn_forward((int)p.B, (int)p.T, (int)p.H, r2, (double)p.cfg.eps, (ref::Activation)(int)p.cfg.act,
                           q.u.data(), q.W.data(), q.h0.data(), h.data(), hf.data());
        return dot(p.g, h) + dot(p.g_final, hf);
    };
    const double eps = 1e-6;
    const double fd = (loss_at(eps) - loss_at(-eps)) / (2 * eps);
    double dir = dot(an.du, du) + dot(an.dW, dW) + dot(an.dh0, dh);
    if (p.layer == "lstm") dir += dot(an.dc0, dc);
    if (p.layer == "wcrnn") dir += dot(an.da, da) + dot(an.dtheta, dth);
    EXPECT_NEAR(fd, dir, 1e-6 * (1 + std::abs(dir))) << what;
}

TEST(RnnReference, WcrnnGradientsMatchFiniteDifferences) {
    unsigned seed = 1;
    for (ResidualKind kind : {ResidualKind::identity, ResidualKind::scalar, ResidualKind::diagonal,
                              ResidualKind::rotation, ResidualKind::orthogonal, ResidualKind::nonlinear}) {
        for (Activation act : {Activation::tanh, Activation::relu}) {
            Problem p = make_problem("wcrnn", kind, act, 2, 6, 4, seed++);
            check_reference_gradients(p, std::string("wcrnn ") + residual_name(kind) + " " + activation_name(act));
        }
    }
    Problem p = make_problem("wcrnn", ResidualKind::nonlinear, Activation::tanh, 2, 6, 4, 77);
    p.cfg.residual.a = diagonal_from_timescales(4, 2, 50, 5);
    check_reference_gradients(p, "wcrnn nonlinear per-unit a");
}

TEST(RnnReference, ElmanAndLstmGradientsMatchFiniteDifferences) {
    check_reference_gradients(make_problem("elman", ResidualKind::identity, Activation::tanh, 2, 6, 5, 3), "elman");
    check_reference_gradients(make_problem("lstm", ResidualKind::identity, Activation::tanh, 2, 6, 3, 4), "lstm");
}

// ---------------------------------------------------------------------------------------------
// Every compiled kernel variant against the reference.

bool is_rnn_layer(const char *layer) {
    return !std::strcmp(layer, "wcrnn") || !std::strcmp(layer, "elman") || !std::strcmp(layer, "lstm");
}

std::vector<const KernelEntry *> rnn_kernels_on(const char *device) {
    std::vector<const KernelEntry *> out;
    for (int i = 0; i < kKernelTableSize; i++) {
        const KernelEntry &k = kKernelTable[i];
        if (is_rnn_layer(k.layer) && !std::strcmp(k.device, device) && dispatch::runs_here(k)) out.push_back(&k);
    }
    return out;
}

// B = 1, T = 1, prime T, H not a multiple of any vector width (or of k_unroll), H = 2 for rotation.
std::vector<std::array<int64_t, 3>> shapes_for(ResidualKind kind) {
    if (kind == ResidualKind::rotation) return {{1, 1, 2}, {2, 13, 18}, {3, 5, 2}, {1, 7, 34}};
    return {{1, 1, 1}, {2, 13, 19}, {3, 5, 8}, {1, 7, 2}, {2, 3, 33}};
}

// Selects the CPU forward (scan or stepped) for one scope (the choice is process-wide).
struct ScopedCpuImpl {
    explicit ScopedCpuImpl(stepped::Impl impl) { stepped::set_cpu_impl(impl); }
    ~ScopedCpuImpl() { stepped::clear_cpu_impl(); }
};

void check_kernel_entry(const KernelEntry &k) {
    const Device dev = parse_device(k.device);
    // Step kernels (one step of a forward or an adjoint, called per step, and the stepped
    // backward's weight gradient: runtime/rnn_stepped.cpp) run when the stepped CPU forward and
    // backward are selected, the one-launch kernels otherwise.
    const bool step = std::strstr(k.direction, "step") || !std::strcmp(k.direction, "weight_grad");
    const bool backward = !std::strcmp(k.direction, "backward") || !std::strncmp(k.direction, "bstep", 5) ||
                          !std::strcmp(k.direction, "weight_grad");
    ScopedCpuImpl impl(step ? stepped::Impl::stepped : stepped::Impl::scan);
    // lstm: "forward"/"step" are the inference kernels (h, c only), "forward_train"/"step_train"
    // also write z.
    const bool inference =
        !std::strcmp(k.layer, "lstm") && (!std::strcmp(k.direction, "forward") || !std::strcmp(k.direction, "step"));
    std::vector<ResidualKind> kinds = {ResidualKind::identity};
    if (!std::strcmp(k.layer, "wcrnn")) {
        if (k.m == 0) kinds = {ResidualKind::orthogonal};
        else kinds.assign(std::begin(kPerUnitKinds), std::end(kPerUnitKinds));
    }
    std::vector<Activation> acts = {Activation::tanh};
    if (!std::strcmp(k.layer, "wcrnn")) acts.push_back(Activation::relu);
    unsigned seed = 10;
    for (ResidualKind kind : kinds) {
        for (Activation act : acts) {
            auto shapes = shapes_for(kind);
            // Step kernels: several unit tiles of 32 with a ragged last one, more rows than a batch tile.
            if (step) shapes.push_back({9, 3, kind == ResidualKind::rotation ? 70 : 71});
            for (const auto &s : shapes) {
                Problem p = make_problem(k.layer, kind, act, s[0], s[1], s[2], seed++);
                const std::string what = std::string(k.name) + " " + residual_name(kind) + " " + activation_name(act) +
                                         " B=" + std::to_string(s[0]) + " T=" + std::to_string(s[1]) +
                                         " H=" + std::to_string(s[2]);
                Result want = reference(p, backward);
                if (inference) want.z.clear();
                compare(run(p, dev, backward, !inference), want, what, backward);
                if (::testing::Test::HasFailure()) return;  // one clear failure, not hundreds
            }
        }
    }
    if (!std::strcmp(k.layer, "wcrnn") && k.m == 2) {  // the nonlinear residual with a per-unit a
        Problem p = make_problem("wcrnn", ResidualKind::nonlinear, Activation::tanh, 2, 9, 11, 5);
        p.cfg.residual.a = diagonal_from_timescales(11, 2, 50, 6);
        compare(run(p, dev, backward), reference(p, backward), std::string(k.name) + " nonlinear per-unit a", backward);
    }
}

class RnnCpuKernel : public ::testing::TestWithParam<const KernelEntry *> {};
TEST_P(RnnCpuKernel, MatchesFloat64Reference) { check_kernel_entry(*GetParam()); }
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(RnnCpuKernel);
INSTANTIATE_TEST_SUITE_P(AllVariants, RnnCpuKernel, ::testing::ValuesIn(rnn_kernels_on("cpu")),
                         [](const auto &info) { return std::string(info.param->name); });

// Sets the CUDA forward implementation for one scope (the option is process-wide).
struct ScopedRnnCuda {
    RnnCudaOptions saved = rnn_cuda_options();
    explicit ScopedRnnCuda(const RnnCudaOptions &o) { set_rnn_cuda_options(o); }
    ~ScopedRnnCuda() { set_rnn_cuda_options(saved); }
};

RnnCudaOptions with_impl(RnnCudaImpl impl, cuda_persistent::Knobs knobs = {}) {
    RnnCudaOptions o;
    o.impl = impl;
    o.knobs = knobs;
    return o;
}

class RnnCudaKernel : public ::testing::TestWithParam<const KernelEntry *> {};
TEST_P(RnnCudaKernel, MatchesFloat64Reference) {
    if (!cuda_available()) GTEST_SKIP() << cuda_unavailable_reason();
    ScopedRnnCuda halide_only(with_impl(RnnCudaImpl::halide));  // this entry, not the persistent kernel
    check_kernel_entry(*GetParam());
}
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(RnnCudaKernel);
INSTANTIATE_TEST_SUITE_P(AllVariants, RnnCudaKernel, ::testing::ValuesIn(rnn_kernels_on("cuda")),
                         [](const auto &info) { return std::string(info.param->name); });

// Directional finite differences on the float32 kernels themselves.
TEST(RnnKernels, KernelGradientsMatchFiniteDifferences) {
    struct C {
        const char *layer;
        ResidualKind kind;
    };
    for (C c : {C{"wcrnn", ResidualKind::rotation}, C{"wcrnn", ResidualKind::orthogonal},
                C{"wcrnn", ResidualKind::nonlinear}, C{"elman", ResidualKind::identity},
                C{"lstm", ResidualKind::identity}}) {
        Problem p = make_problem(c.layer, c.kind, Activation::tanh, 2, 11, 6, 31);
        Result an = run(p, Device::cpu, true);
        std::mt19937 rng(7);
        const Vec du = randn(p.u.size(), rng), dW = randn(p.W.size(), rng), dh = randn(p.h0.size(), rng);
        auto L = [&](double e) {
            Problem q = p;
            for (size_t i = 0; i < q.u.size(); i++) q.u[i] += e * du[i];
            for (size_t i = 0; i < q.W.size(); i++) q.W[i] += e * dW[i];
            for (size_t i = 0; i < q.h0.size(); i++) q.h0[i] += e * dh[i];
            Result r = run(q, Device::cpu, false);
            double v = dot(p.g, r.h) + dot(p.g_final, r.h_final);
            if (p.layer == "lstm") v += dot(p.gc_final, r.c_final);
            return v;
        };
        const double e = 2e-3;
        const double fd = (L(e) - L(-e)) / (2 * e);
        const double dir = dot(an.du, du) + dot(an.dW, dW) + dot(an.dh0, dh);
        EXPECT_NEAR(fd, dir, 2e-3 * (1 + std::abs(dir))) << c.layer << " " << residual_name(c.kind);
    }
}

// The kernels' scratch cache (runtime/scratch.h): the Elman backward's adjoint state (a Tuple of 3
// buffers of B x (T+1) x H floats, 616 KB each here) is kept after a call and served again by the
// next, with equal results.
TEST(ScratchCache, ReusesLargeKernelScratchWithEqualResults) {
    const char *env = std::getenv("STATEMIX_SCRATCH_CACHE_MB");
    if (env && *env) GTEST_SKIP() << "STATEMIX_SCRATCH_CACHE_MB is set (" << env << "): this test checks the default";
    const int64_t B = 8, T = 300, H = 64;
    std::mt19937 rng(5);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    auto rand_tensor = [&](const Shape &shape, float scale) {
        Tensor t = Tensor::empty(shape);
        for (int64_t n = 0; n < t.numel(); n++) t.data()[n] = scale * nd(rng);
        return t;
    };
    Tensor u = rand_tensor({B, T, H}, 1.0f), W = rand_tensor({H, H}, 0.9f / std::sqrt((float)H)),
           g = rand_tensor({B, T, H}, 1.0f);
    RnnForwardResult f = elman_forward(u, W);
    ElmanGrads first = elman_backward(u, W, nullptr, f.h, g);
    const ScratchStats s1 = scratch_stats();
    EXPECT_GT(s1.limit_bytes, 0u);
    EXPECT_GE(s1.cached_bytes, (size_t)(3 * B * (T + 1) * H * 4)) << "the adjoint block is kept after the call";
    ElmanGrads second = elman_backward(u, W, nullptr, f.h, g);
    const ScratchStats s2 = scratch_stats();
    EXPECT_GT(s2.hits, s1.hits) << "the second call reuses the cached block";
    for (auto [a, b] : {std::pair{&first.du, &second.du}, std::pair{&first.dW, &second.dW}}) {
        ASSERT_EQ(a->numel(), b->numel());
        EXPECT_EQ(0, std::memcmp(a->data(), b->data(), (size_t)a->numel() * sizeof(float)));
    }
    release_scratch_cache();
    EXPECT_EQ(scratch_stats().cached_bytes, 0u);
}

// A sequence processed in two pieces (final state -> initial state, and the second piece's dh0
// as the first piece's g_final) equals one pass, forward and backward.
TEST(RnnKernels, TwoPiecesEqualOnePass) {
    for (stepped::Impl impl : {stepped::Impl::scan, stepped::Impl::stepped}) {
        ScopedCpuImpl forward(impl);
        for (const char *layer : {"wcrnn", "lstm"}) {
            const int64_t B = 2, T = 23, H = 10, T1 = 9;
            Problem whole = make_problem(layer, ResidualKind::rotation, Activation::tanh, B, T, H, 12);
            whole.cfg.train_residual = false;
            Result one = run(whole, Device::cpu, true);
            auto cut = [&](const Vec &x, int64_t t0, int64_t len, size_t per_t) {
                Vec out;
                for (int64_t b = 0; b < B; b++) {
                    auto begin = x.begin() + (size_t)(b * T + t0) * per_t;
                    out.insert(out.end(), begin, begin + (size_t)len * per_t);
                }
                return out;
            };
            const size_t pu = (size_t)(whole.gates() * H), ph = (size_t)H;
            auto piece = [&](int64_t t0, int64_t len) {
                Problem p = whole;
                p.T = len;
                p.u = cut(whole.u, t0, len, pu);
                p.g = cut(whole.g, t0, len, ph);
                return p;
            };
            Problem a = piece(0, T1), b = piece(T1, T - T1);
            Result fa = run(a, Device::cpu, false);
            b.h0 = fa.h_final;
            if (whole.layer == "lstm") b.c0 = fa.c_final;
            Result rb = run(b, Device::cpu, true);
            a.g_final = rb.dh0;
            if (whole.layer == "lstm") a.gc_final = rb.dc0;
            else std::fill(a.gc_final.begin(), a.gc_final.end(), 0.0);
            Result ra = run(a, Device::cpu, true);
            auto join = [&](const Vec &x1, const Vec &x2, size_t per_t) {
                Vec out;
                for (int64_t bb = 0; bb < B; bb++) {
                    out.insert(out.end(), x1.begin() + bb * T1 * per_t, x1.begin() + (bb + 1) * T1 * per_t);
                    out.insert(out.end(), x2.begin() + bb * (T - T1) * per_t, x2.begin() + (bb + 1) * (T - T1) * per_t);
                }
                return out;
            };
            const std::string what = std::string(layer) + (impl == stepped::Impl::scan ? " scan" : " stepped") + " two pieces";
            expect_close(join(fa.h, rb.h, ph), one.h, what + " h");
            expect_close(rb.h_final, one.h_final, what + " h_final");
            expect_close(join(ra.du, rb.du, pu), one.du, what + " du", 5e-4);
            Vec dW(one.dW.size());
            for (size_t i = 0; i < dW.size(); i++) dW[i] = ra.dW[i] + rb.dW[i];
            expect_close(dW, one.dW, what + " dW", 5e-4);
            expect_close(ra.dh0, one.dh0, what + " dh0", 5e-4);
        }
    }
}

// The automatic CPU choice (rnn_stepped.cpp: step kernels from H = 512, the LSTM forward's from
// H = 256 at B <= 16), and both choices against the float64 reference around H = 256 and 512
// (ragged last unit tiles).
TEST(RnnKernels, AutomaticCpuForwardPicksStepKernelsByShape) {
    ScopedCpuImpl automatic(stepped::Impl::automatic);
    // T = 16 and B·H < 4096 (except the LSTM's inference forward, which has no database entry):
    // outside the tuning database's buckets, so the rule of thumb decides.
    auto picks = [](const char *layer, int64_t B, int64_t H) { return stepped::describe(layer, 0, B, H, 16); };
    EXPECT_NE(picks("elman", 4, 512).find("stepped"), std::string::npos);
    EXPECT_NE(picks("elman", 4, 511).find("scan"), std::string::npos);
    EXPECT_NE(picks("lstm", 16, 256).find("stepped"), std::string::npos);
    EXPECT_NE(picks("lstm", 16, 255).find("scan"), std::string::npos);
    EXPECT_NE(picks("lstm", 17, 256).find("scan"), std::string::npos);
    EXPECT_NE(stepped::describe_backward("lstm", 0, 4, 511, 16).find("one launch"), std::string::npos);
    EXPECT_NE(stepped::describe_backward("elman", 0, 4, 512, 16).find("stepped"), std::string::npos);
    EXPECT_NE(stepped::describe_backward("wcrnn", 2, 4, 1024, 16).find("one launch"), std::string::npos);
    unsigned seed = 40;
    for (auto [layer, kind] : std::vector<std::pair<const char *, ResidualKind>>{
             {"elman", ResidualKind::identity}, {"lstm", ResidualKind::identity},
             {"wcrnn", ResidualKind::rotation}, {"wcrnn", ResidualKind::orthogonal}}) {
        for (int64_t H : {254, 258, 514}) {
            Problem p = make_problem(layer, kind, Activation::tanh, 3, 4, H, seed++);
            compare(run(p, Device::cpu, true), reference(p, true),
                    std::string(layer) + " " + residual_name(kind) + " automatic H=" + std::to_string(H), true);
        }
    }
    // Forced: the WCRNN stepped backward, which the automatic choice never picks.
    stepped::set_cpu_impl(stepped::Impl::stepped);
    EXPECT_NE(stepped::describe_backward("wcrnn", 2, 4, 8, 16).find("sm_wcrnn_bstep_m2_cpu"), std::string::npos);
    EXPECT_NE(stepped::describe_backward("wcrnn", 0, 4, 8, 16).find("sm_wcrnn_bstep_m0_cpu"), std::string::npos);
}

TEST(RnnCuda, MatchesCpu) {
    if (!cuda_available()) GTEST_SKIP() << cuda_unavailable_reason();
    struct C {
        const char *layer;
        ResidualKind kind;
        Activation act;
    };
    for (C c : {C{"wcrnn", ResidualKind::rotation, Activation::tanh}, C{"wcrnn", ResidualKind::diagonal, Activation::relu},
                C{"wcrnn", ResidualKind::orthogonal, Activation::tanh}, C{"elman", ResidualKind::identity, Activation::tanh},
                C{"lstm", ResidualKind::identity, Activation::tanh}}) {
        Problem p = make_problem(c.layer, c.kind, c.act, 3, 200, 130, 11);
        if (p.layer == "wcrnn") p.cfg.eps = 0.05f;  // keeps relu's state bounded over 200 steps
        Result cpu = run(p, Device::cpu, true), gpu = run(p, Device::cuda, true);
        compare(gpu, cpu, std::string(c.layer) + " " + residual_name(c.kind) + " cuda vs cpu", true, 1e-4);
    }
}


// ---------------------------------------------------------------------------------------------
// The persistent CUDA forward (runtime/cuda/rnn_persistent.h), every group kind and knob family,
// against the float64 reference on ragged shapes: H = 1, odd, prime, not a multiple of 32, of a
// cluster rank's slice or of a warp's rows; B = 1 and B not a multiple of the batch per CTA;
// T = 1; H = 1024 (the largest W it holds).

struct PersistentCase {
    const char *name;
    cuda_persistent::Knobs knobs;
};

class RnnPersistentCuda : public ::testing::TestWithParam<PersistentCase> {};

TEST_P(RnnPersistentCuda, MatchesFloat64Reference) {
    if (!cuda_available()) GTEST_SKIP() << cuda_unavailable_reason();
    if (!cuda_persistent::available()) GTEST_SKIP() << cuda_persistent::plan(1, 1, {}).why_not;
    const PersistentCase &pc = GetParam();
    ScopedRnnCuda persistent(with_impl(RnnCudaImpl::persistent, pc.knobs));
    const bool automatic = pc.knobs.group == 0 && pc.knobs.rows_per_warp == 0 && pc.knobs.rows_per_cta == 0 &&
                           pc.knobs.batch_per_cta == 0 && pc.knobs.batch_split == 0;
    const std::array<int64_t, 3> shapes[] = {{1, 1, 1},    {2, 13, 19}, {3, 5, 34},  {1, 7, 2},   {2, 4, 256},
                                             {17, 3, 100}, {5, 3, 1000}, {16, 3, 1024}, {3, 2, 512}, {4, 6, 64}};
    struct Layer {
        const char *layer;
        ResidualKind kind;
        Activation act;
        bool per_unit = false;
    };
    const Layer layers[] = {{"elman", ResidualKind::identity, Activation::tanh},
                            {"wcrnn", ResidualKind::rotation, Activation::tanh},
                            {"wcrnn", ResidualKind::diagonal, Activation::relu},
                            {"wcrnn", ResidualKind::nonlinear, Activation::tanh, true}};
    unsigned seed = 40;
    int ran = 0;
    for (const auto &s : shapes) {
        const cuda_persistent::Plan plan = cuda_persistent::plan(s[0], s[2], pc.knobs);
        if (automatic) {
            EXPECT_TRUE(plan.ok) << "automatic plan for B=" << s[0] << " H=" << s[2] << ": " << plan.why_not;
        }
        if (!plan.ok) continue;  // e.g. one CTA cannot hold H = 1024 rows
        for (const Layer &l : layers) {
            if (l.kind == ResidualKind::rotation && s[2] % 2) continue;
            Problem p = make_problem(l.layer, l.kind, l.act, s[0], s[1], s[2], seed++);
            if (l.per_unit) p.cfg.residual.a = diagonal_from_timescales(s[2], 2, 50, seed++);
            const std::string what = std::string(pc.name) + " " + l.layer + " " + residual_name(l.kind) + " " +
                                     activation_name(l.act) + " B=" + std::to_string(s[0]) + " T=" +
                                     std::to_string(s[1]) + " H=" + std::to_string(s[2]) + " (" + plan.describe() + ")";
            compare(run(p, Device::cuda, false), reference(p, false), what, false);
            if (::testing::Test::HasFailure()) return;
            ran++;
        }
    }
    EXPECT_GT(ran, 0) << "no shape could run with " << pc.name;
}

cuda_persistent::Knobs knobs(int group, int rows_per_warp = 0, int batch_per_cta = 0, int batch_split = 0,
                             int rows_per_cta = 0) {
    cuda_persistent::Knobs k;
    k.group = group;
    k.rows_per_warp = rows_per_warp;
    k.batch_per_cta = batch_per_cta;
    k.batch_split = batch_split;
    k.rows_per_cta = rows_per_cta;
    return k;
}

INSTANTIATE_TEST_SUITE_P(Knobs, RnnPersistentCuda,
                         ::testing::Values(PersistentCase{"automatic", {}},
                                           PersistentCase{"cluster1_r4", knobs(1, 4)},
                                           PersistentCase{"cluster2_r1_b3", knobs(2, 1, 3)},
                                           PersistentCase{"cluster4_r2_b2_split2", knobs(4, 2, 2, 2)},
                                           PersistentCase{"cluster8_r4", knobs(8, 4)},
                                           PersistentCase{"cluster8_r1_b5", knobs(8, 1, 5)},
                                           PersistentCase{"grid_r1", knobs(-1, 1)},
                                           PersistentCase{"grid_r2_rows6_b3_split2", knobs(-1, 2, 3, 2, 6)},
                                           PersistentCase{"grid_r4_rows16", knobs(-1, 4, 0, 0, 16)}),
                         [](const auto &info) { return std::string(info.param.name); });

// The persistent kernel against the Halide CUDA kernel over many steps (errors that grow with T).
TEST(RnnPersistentCuda, MatchesHalideKernelOverLongSequences) {
    if (!cuda_available()) GTEST_SKIP() << cuda_unavailable_reason();
    if (!cuda_persistent::available()) GTEST_SKIP() << cuda_persistent::plan(1, 1, {}).why_not;
    for (int64_t H : {256, 1024}) {
        Problem p = make_problem("wcrnn", ResidualKind::rotation, Activation::tanh, 16, 300, H, 77);
        p.cfg.eps = 0.05f;
        Result halide, persistent;
        {
            ScopedRnnCuda o(with_impl(RnnCudaImpl::halide));
            halide = run(p, Device::cuda, false);
        }
        {
            ScopedRnnCuda o(with_impl(RnnCudaImpl::persistent));
            persistent = run(p, Device::cuda, false);
        }
        compare(persistent, halide, "persistent vs halide H=" + std::to_string(H), false, 1e-4);
    }
}

TEST(RnnCudaOptions, ParsesAndRejects) {
    RnnCudaOptions o = parse_rnn_cuda_options("impl=persistent,group=-1,rows_per_warp=2,batch_per_cta=3");
    EXPECT_EQ(o.impl, RnnCudaImpl::persistent);
    EXPECT_EQ(o.knobs.group, -1);
    EXPECT_EQ(o.knobs.rows_per_warp, 2);
    EXPECT_EQ(o.knobs.batch_per_cta, 3);
    EXPECT_EQ(o.knobs.batch_split, 0);
    EXPECT_EQ(parse_rnn_cuda_options("impl=halide").impl, RnnCudaImpl::halide);
    EXPECT_EQ(parse_rnn_cuda_options("").impl, RnnCudaImpl::automatic);
    expect_error([] { parse_rnn_cuda_options("impl=fast"); }, {"impl", "automatic, halide or persistent", "fast"});
    expect_error([] { parse_rnn_cuda_options("group=x"); }, {"group", "integer", "'x'"});
    expect_error([] { parse_rnn_cuda_options("warps=4"); }, {"unknown key", "warps"});
    // Without a GPU (or without nvcc at build time) the plan says why, and the CUDA forward falls
    // back to the Halide kernel.
    if (!cuda_persistent::available()) {
        const cuda_persistent::Plan p = cuda_persistent::plan(16, 256, {});
        EXPECT_FALSE(p.ok);
        EXPECT_FALSE(p.why_not.empty());
        EXPECT_NE(rnn_cuda_forward_plan(16, 256).find("Halide kernel"), std::string::npos);
    } else {
        EXPECT_NE(rnn_cuda_forward_plan(16, 256).find("persistent kernel"), std::string::npos);
        // Bad knobs are refused with the knob's name.
        EXPECT_NE(cuda_persistent::plan(16, 256, knobs(3)).why_not.find("group"), std::string::npos);
        EXPECT_NE(cuda_persistent::plan(16, 256, knobs(0, 3)).why_not.find("rows_per_warp"), std::string::npos);
        EXPECT_NE(cuda_persistent::plan(16, 2048, {}).why_not.find("H = 2048"), std::string::npos);
    }
}

// ---------------------------------------------------------------------------------------------
// Bad input: a clear Error naming the argument, never a crash or a silent result.


// Tensor::slice (how the LSTM forward hands the kernel z's gate slices): a view of the first
// dimension's entry that shares memory, and clear errors for a bad index or a 1-D tensor.
TEST(RnnErrors, TensorSliceIsAViewAndChecksItsIndex) {
    Tensor t = Tensor::zeros({3, 2, 4});
    Tensor s1 = t.slice(1);
    EXPECT_EQ(s1.shape(), (Shape{2, 4}));
    s1.fill(7.0f);
    for (int64_t n = 0; n < t.numel(); n++) EXPECT_EQ(t.data()[n], (n >= 8 && n < 16) ? 7.0f : 0.0f) << n;
    expect_error([&] { t.slice(3); }, {"slice", "index 3", "[0, 3)"});
    expect_error([&] { t.slice(-1); }, {"slice", "index -1"});
    expect_error([&] { Tensor::zeros({5}).slice(0); }, {"slice", "2 dimensions"});
}

TEST(RnnErrors, BadShapesAndArguments) {
    WcrnnConfig cfg;
    Tensor u = Tensor::zeros({2, 5, 4}), W = Tensor::zeros({4, 4});
    expect_error([&] { wcrnn_forward(cfg, u, Tensor::zeros({4, 3})); }, {"'W'", "square", "[4, 4]", "[4, 3]"});
    expect_error([&] { wcrnn_forward(cfg, u, Tensor::zeros({5, 5})); }, {"'W'", "[4, 4]", "[5, 5]"});
    expect_error([&] { wcrnn_forward(cfg, Tensor::zeros({2, 5}), W); }, {"'u'", "[B,T,H]"});
    expect_error([&] { wcrnn_forward(cfg, Tensor::zeros({2, 0, 4}), W); }, {"'u'", ">= 1"});
    Tensor bad_h0 = Tensor::zeros({2, 5});
    expect_error([&] { wcrnn_forward(cfg, u, W, &bad_h0); }, {"'h0'", "[2, 4]", "[2, 5]"});

    WcrnnConfig rot;
    rot.residual = make_residual({ResidualKind::rotation, 0.9}, 4, 1);
    Tensor u5 = Tensor::zeros({1, 3, 5}), W5 = Tensor::zeros({5, 5});
    expect_error([&] { wcrnn_forward(rot, u5, W5); }, {"rotation", "even H", "H = 5"});
    rot.residual.theta = Tensor::zeros({3});
    expect_error([&] { wcrnn_forward(rot, u, W); }, {"'theta'", "[H/2]", "[2]", "[3]"});
    WcrnnConfig diag;
    diag.residual.kind = ResidualKind::diagonal;
    diag.residual.a = Tensor::zeros({3});
    expect_error([&] { wcrnn_forward(diag, u, W); }, {"diagonal", "'a'", "[4]", "[3]"});
    WcrnnConfig scal;
    scal.residual.kind = ResidualKind::scalar;
    expect_error([&] { wcrnn_forward(scal, u, W); }, {"scalar", "'a'", "one value"});
    WcrnnConfig orth;
    orth.residual = make_residual({ResidualKind::orthogonal, 0.9}, 4, 1);
    orth.residual.Q = Tensor::zeros({4, 3});
    expect_error([&] { wcrnn_forward(orth, u, W); }, {"'Q'", "[4, 4]", "[4, 3]"});
    WcrnnConfig bad_eps;
    bad_eps.eps = NAN;
    expect_error([&] { wcrnn_forward(bad_eps, u, W); }, {"'eps'", "finite"});

    auto fwd = wcrnn_forward(cfg, u, W);
    expect_error([&] { wcrnn_backward(cfg, u, W, nullptr, fwd.h, Tensor::zeros({2, 5, 3})); }, {"'g'", "[2, 5, 4]"});
    expect_error([&] { elman_forward(u, Tensor::zeros({4, 2})); }, {"elman", "'W'", "square"});
    expect_error([&] { lstm_forward(u, Tensor::zeros({4, 4})); }, {"lstm", "'W'", "[4H,H]"});
    expect_error([&] { lstm_forward(Tensor::zeros({2, 5, 7}), Tensor::zeros({8, 2})); }, {"lstm", "'u'", "[2, 5, 8]"});
    {
        Tensor lu = Tensor::zeros({2, 5, 8}), lW = Tensor::zeros({8, 2});
        auto lf = lstm_forward(lu, lW);
        EXPECT_EQ(lf.z.shape(), (Shape{4, 2, 5, 2}));
        LstmForwardResult small{lf.h, lf.c, lf.h_final, lf.c_final, Tensor::zeros({4, 2, 5, 3})};
        expect_error([&] { lstm_forward(lu, lW, nullptr, nullptr, small); }, {"lstm forward", "'z'", "[4, 2, 5, 2]"});
        expect_error([&] { lstm_backward(lu, lW, nullptr, nullptr, lf.h, lf.c, lf.h); }, {"lstm backward", "'z'", "[4,B,T,H]"});
        expect_error([&] { lstm_backward(Tensor::zeros({4, 2, 5, 3}), lW, nullptr, nullptr, lf.h, lf.c, lf.h); },
                     {"'z'", "H = 2", "[4, 2, 5, 3]"});
    }
    expect_error([] { parse_residual("spiral"); }, {"residual", "rotation", "spiral"});
    expect_error([] { parse_activation("gelu"); }, {"act", "relu", "gelu"});
    LyapunovOptions lo;
    lo.warmup = 5;
    expect_error([&] { lyapunov_spectrum(cfg, u, W, nullptr, lo); }, {"warmup", "T = 5"});
}

// Documented NaN propagation (runtime/rnn_ops.h): a NaN in u at (b, t, i) makes h_t[i] NaN, every
// unit of that batch row NaN from t+1 on, and leaves the other rows and earlier steps untouched.
TEST(RnnErrors, BadCpuImplementationIsNamed) {
    ::setenv("STATEMIX_RNN_CPU", "fast", 1);
    Tensor u = Tensor::zeros({1, 2, 4}), W = Tensor::zeros({4, 4});
    expect_error([&] { elman_forward(u, W, nullptr); }, {"STATEMIX_RNN_CPU", "'fast'", "automatic, scan or stepped"});
    ::unsetenv("STATEMIX_RNN_CPU");
    EXPECT_NO_THROW(elman_forward(u, W, nullptr));
}

TEST(RnnErrors, NanInInputPropagates) {
    for (const char *layer : {"wcrnn", "elman"}) {
        for (Activation act : {Activation::tanh, Activation::relu}) {
            if (!std::strcmp(layer, "elman") && act == Activation::relu) continue;
            Problem p = make_problem(layer, ResidualKind::diagonal, act, 2, 6, 9, 3);
            const int64_t t0 = 3, i0 = 4;
            p.u[(size_t)((0 * p.T + t0) * p.H + i0)] = NAN;
            Result r = run(p, Device::cpu, false);
            for (int64_t t = 0; t < p.T; t++) {
                for (int64_t i = 0; i < p.H; i++) {
                    const double v0 = r.h[(size_t)((0 * p.T + t) * p.H + i)], v1 = r.h[(size_t)((1 * p.T + t) * p.H + i)];
                    const bool want_nan = t > t0 || (t == t0 && i == i0);
                    EXPECT_EQ(std::isnan(v0), want_nan) << layer << " " << activation_name(act) << " t=" << t << " i=" << i;
                    EXPECT_FALSE(std::isnan(v1)) << layer << " other batch row t=" << t << " i=" << i;
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Initialisation helpers.

TEST(RnnInit, ResidualsAreSeededAndWellFormed) {
    const int64_t H = 24;
    Vec Q = to_vec(random_orthogonal(H, 5));
    EXPECT_EQ(Q, to_vec(random_orthogonal(H, 5)));
    EXPECT_NE(Q, to_vec(random_orthogonal(H, 6)));
    for (int64_t i = 0; i < H; i++) {
        for (int64_t j = 0; j < H; j++) {
            double s = 0;
            for (int64_t k = 0; k < H; k++) s += Q[(size_t)(k * H + i)] * Q[(size_t)(k * H + j)];
            EXPECT_NEAR(s, i == j ? 1.0 : 0.0, 1e-5) << i << "," << j;
        }
    }
    Vec a = to_vec(diagonal_from_timescales(H, 4, 400, 1));
    for (double x : a) {
        const double tau = -1.0 / std::log(x);
        EXPECT_GE(tau, 4 * (1 - 1e-4));
        EXPECT_LE(tau, 400 * (1 + 1e-4));
    }
    Vec th = to_vec(rotation_angles_from_period(H, 28));
    ASSERT_EQ(th.size(), (size_t)H / 2);
    EXPECT_NEAR(th[0], kTwoPi / 28, 1e-6);
    EXPECT_NEAR(th[2], 3 * kTwoPi / 28, 1e-6);
    // The rotation residual's matrix is a times an orthogonal matrix.
    Residual rot = make_residual({ResidualKind::rotation, 0.8}, H, 3);
    Vec R = to_vec(residual_matrix(rot, H));
    for (int64_t i = 0; i < H; i++) {
        double s = 0;
        for (int64_t k = 0; k < H; k++) s += R[(size_t)(k * H + i)] * R[(size_t)(k * H + i)];
        EXPECT_NEAR(s, 0.64, 1e-5);
    }
    // Elman init: W = R + eps·W0, W0 entries ~ N(0, 1/H).
    Vec W = to_vec(elman_init_weights(rot, 0.1, H, 9));
    double ss = 0;
    for (size_t q = 0; q < W.size(); q++) ss += (W[q] - R[q]) * (W[q] - R[q]);
    EXPECT_NEAR(ss / (double)W.size(), 0.01 / H, 0.3 * 0.01 / H);
    EXPECT_EQ(W, to_vec(elman_init_weights(rot, 0.1, H, 9)));
}

// ---------------------------------------------------------------------------------------------
// Lyapunov spectrum (spec §7's two checks).

TEST(Lyapunov, EpsZeroGivesLogAbsEigenvalues) {
    const int64_t B = 2, T = 300, H = 10;
    std::mt19937 rng(1);
    Tensor u = to_tensor({B, T, H}, randn((size_t)(B * T * H), rng));
    Tensor W = to_tensor({H, H}, randn((size_t)(H * H), rng, 0.5));
    for (ResidualKind kind : {ResidualKind::identity, ResidualKind::scalar, ResidualKind::diagonal,
                              ResidualKind::rotation, ResidualKind::orthogonal}) {
        WcrnnConfig cfg;
        cfg.residual = make_residual({kind, 0.9, 2.0, 30.0}, H, 4);
        cfg.eps = 0.0f;
        LyapunovSpectrum s = lyapunov_spectrum(cfg, u, W);
        Vec want;
        if (kind == ResidualKind::diagonal) {
            for (double a : to_vec(cfg.residual.a)) want.push_back(std::log(std::abs(a)));
        } else {
            const double a = kind == ResidualKind::identity ? 1.0 : to_vec(cfg.residual.a)[0];
            want.assign((size_t)H, std::log(std::abs(a)));
        }
        std::sort(want.begin(), want.end(), std::greater<double>());
        ASSERT_EQ(s.exponents.size(), (size_t)H);
        // Exact up to rounding, but for a·Q: Q is orthogonal only to float32 precision.
        const double tol = kind == ResidualKind::orthogonal ? 1e-6 : 1e-12;
        for (int64_t i = 0; i < H; i++) {
            EXPECT_NEAR(s.exponents[(size_t)i], want[(size_t)i], tol) << residual_name(kind) << " i=" << i;
            if (want[(size_t)i] < -1e-9) EXPECT_NEAR(s.timescales[(size_t)i], -1.0 / want[(size_t)i], 1e-6);
        }
    }
}

double spectral_norm(const Vec &W, int64_t H) {
    Vec v((size_t)H, 1.0), w((size_t)H);
    double s = 0;
    for (int it = 0; it < 500; it++) {  // power iteration on WᵀW
        for (int64_t i = 0; i < H; i++) {
            w[(size_t)i] = 0;
            for (int64_t k = 0; k < H; k++) w[(size_t)i] += W[(size_t)(i * H + k)] * v[(size_t)k];
        }
        Vec z((size_t)H, 0.0);
        for (int64_t k = 0; k < H; k++)
            for (int64_t i = 0; i < H; i++) z[(size_t)k] += W[(size_t)(i * H + k)] * w[(size_t)i];
        s = std::sqrt(dot(z, z));
        for (int64_t k = 0; k < H; k++) v[(size_t)k] = z[(size_t)k] / s;
    }
    return std::sqrt(s);
}

// Elman h = tanh(W h + u) at the fixed point h = 0 (u = 0): J_t = tanh'(0)·W = W for every step,
// so a diagonal W gives log|W_ii| exactly (a residual or ε left in the mapping would shift them).
TEST(Lyapunov, ElmanAtFixedPointGivesLogOfDiagonal) {
    const int64_t H = 4;
    const Vec diag = {0.9, -0.5, 0.2, 0.05};
    Vec W(H * H, 0.0);
    for (int64_t i = 0; i < H; i++) W[(size_t)(i * H + i)] = diag[(size_t)i];
    Tensor u = Tensor::zeros({1, 60, H});
    LyapunovOptions opt;
    opt.warmup = 10;
    LyapunovSpectrum sp = elman_lyapunov_spectrum(Activation::tanh, u, to_tensor({H, H}, W), nullptr, opt);
    ASSERT_EQ(sp.exponents.size(), diag.size());
    for (size_t i = 0; i < diag.size(); i++) {  // W is stored in float32
        EXPECT_NEAR(sp.exponents[i], std::log(std::abs((double)(float)diag[i])), 1e-9) << i;
    }
}

TEST(Lyapunov, OrthogonalResidualWithinCouplingBounds) {
    const int64_t B = 1, T = 400, H = 12;
    std::mt19937 rng(2);
    Tensor u = to_tensor({B, T, H}, randn((size_t)(B * T * H), rng));
    const Vec Wv = randn((size_t)(H * H), rng, 1.0 / std::sqrt((double)H));
    Tensor W = to_tensor({H, H}, Wv);
    const double wn = spectral_norm(to_vec(W), H);
    for (Activation act : {Activation::tanh, Activation::relu}) {
        WcrnnConfig cfg;
        cfg.residual = make_residual({ResidualKind::orthogonal, 0.95}, H, 8);
        cfg.eps = 0.1f;
        cfg.act = act;
        LyapunovSpectrum s = lyapunov_spectrum(cfg, u, W, nullptr, {50, 0});
        const double a = to_vec(cfg.residual.a)[0], e = (double)cfg.eps;
        for (double l : s.exponents) {
            EXPECT_GE(l, std::log(a - e * wn) - 1e-9) << activation_name(act);
            EXPECT_LE(l, std::log(a + e * wn) + 1e-9) << activation_name(act);
        }
        // and ε > 0 does move them off log a
        EXPECT_GT(s.exponents.front() - s.exponents.back(), 1e-4);
    }
}

}  // namespace
}  // namespace statemix
