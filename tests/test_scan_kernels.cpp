// Every compiled H-LRU / BD-LRU kernel variant (kernel table × norm × shape) against the float64
// reference (reference/scan_reference.h, itself checked by finite differences), plus the
// properties of spec §1–§5 on the kernels themselves: chunked = one pass, the state bound,
// directional finite differences of the float32 kernels, CUDA = CPU, and bad input.
#include "reference/scan_reference.h"
#include "runtime/dispatch.h"
#include "statemix.h"
#include "tests/test_util.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
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

constexpr Norm kAllNorms[] = {Norm::softmax, Norm::sigmoid_l1, Norm::relu_l1,
                              Norm::tanh_l1, Norm::lin_l1,     Norm::none};

struct Problem {
    ScanConfig cfg;
    ScanDims d;
    ScanShapes s;
    std::vector<double> z, v, h0, g, g_final;
};


size_t numel(const Shape &s) {
    size_t n = 1;
    for (auto e : s) n *= (size_t)e;
    return n;
}

// Random inputs. Logits are N(0, 1) (kept 0.05 away from 0, where relu/abs have kinks);
// with norm = none they are scaled so the transition stays contractive over long sequences.
Problem make_problem(Layer layer, int m, Norm norm, int64_t B, int64_t T, int64_t N, unsigned seed,
                     bool with_h0 = true) {
    Problem p;
    p.cfg.layer = layer;
    p.cfg.m = m;
    p.cfg.norm = norm;
    p.d = {B, T, N, m};
    p.s = scan_shapes(layer, p.d);
    std::mt19937 rng(seed);
    p.z = randn(numel(p.s.z), rng, norm == Norm::none ? 0.6 / (m + 1) : 1.0);
    for (auto &x : p.z) {
        if (std::abs(x) < 0.05) x = x < 0 ? -0.05 : 0.05;
    }
    p.v = randn(numel(p.s.v), rng);
    p.h0 = with_h0 ? randn(numel(p.s.state), rng) : std::vector<double>(numel(p.s.state), 0.0);
    p.g = randn(numel(p.s.v), rng);
    p.g_final = randn(numel(p.s.state), rng);
    return p;
}

struct Ref {
    std::vector<double> h, h_final, dz, dv, dh0;
};

Ref reference(const Problem &p, bool backward) {
    Ref r;
    r.h.resize(p.v.size());
    r.h_final.resize(p.h0.size());
    auto rn = (ref::Norm)p.cfg.norm;
    const int B = (int)p.d.B, T = (int)p.d.T, N = (int)p.d.N, m = p.d.m;
    if (p.cfg.layer == Layer::bdlru) {
        ref::bdlru_forward(B, T, N, m, rn, p.z.data(), p.v.data(), p.h0.data(), r.h.data(), r.h_final.data());
    } else {
        ref::hlru_forward(B, T, N, m, rn, p.z.data(), p.v.data(), p.h0.data(), r.h.data(), r.h_final.data());
    }
    if (backward) {
        r.dz.resize(p.z.size());
        r.dv.resize(p.v.size());
        r.dh0.resize(p.h0.size());
        if (p.cfg.layer == Layer::bdlru) {
            ref::bdlru_backward(B, T, N, m, rn, p.z.data(), p.v.data(), p.h0.data(), p.g.data(), p.g_final.data(),
                                r.dz.data(), r.dv.data(), r.dh0.data());
        } else {
            ref::hlru_backward(B, T, N, m, rn, p.z.data(), p.v.data(), p.h0.data(), p.g.data(), p.g_final.data(),
                               r.dz.data(), r.dv.data(), r.dh0.data());
        }
    }
    return r;
}


struct Outputs {
    std::vector<double> h, h_final, dz, dv, dh0;
};

// Whether the build has a kernel for cfg's algorithm in this direction.
bool compiled(const ScanConfig &cfg, const char *direction, Device dev, const ScanDims &d) {
    try {
        select_kernel(cfg, direction, dev, d);
        return true;
    } catch (const Error &) {
        return false;
    }
}

// [B,T,rest] <-> [T,B,rest] (from_bt: the input is [B,T,rest]).
std::vector<double> swap_bt(const std::vector<double> &x, int64_t B, int64_t T, bool from_bt) {
    const size_t rest = x.size() / (size_t)(B * T);
    std::vector<double> out(x.size());
    for (int64_t b = 0; b < B; b++) {
        for (int64_t t = 0; t < T; t++) {
            const size_t bt = (size_t)(b * T + t) * rest, tb = (size_t)(t * B + b) * rest;
            std::copy_n(x.begin() + (from_bt ? bt : tb), rest, out.begin() + (from_bt ? tb : bt));
        }
    }
    return out;
}

// A time-major config (p.cfg.time_major) runs on the same problem transposed to [T,B,...]; its
// outputs are transposed back, so they compare with the batch-major reference as they are.
Outputs run_time_major(const Problem &p, Device dev, bool backward);

Outputs run(const Problem &p, Device dev, bool backward, const Tensor *h_for_backward = nullptr) {
    if (p.cfg.time_major) return run_time_major(p, dev, backward);
    Tensor z = to_tensor(p.s.z, p.z, dev), v = to_tensor(p.s.v, p.v, dev), h0 = to_tensor(p.s.state, p.h0, dev);
    // Poison the outputs: every element must be written.
    Tensor h = to_tensor(p.s.v, std::vector<double>(p.v.size(), NAN), dev);
    Tensor hf = to_tensor(p.s.state, std::vector<double>(p.h0.size(), NAN), dev);
    // p.cfg.kernel (a variant under test) applies to its own direction only.
    ScanConfig fcfg = p.cfg;
    if (fcfg.kernel && std::strcmp(fcfg.kernel->direction, "forward") != 0) fcfg.kernel = nullptr;
    scan_forward(fcfg, z, v, &h0, h, hf);
    Outputs o{to_vec(h), to_vec(hf), {}, {}, {}};
    if (backward) {
        Tensor g = to_tensor(p.s.v, p.g, dev), gf = to_tensor(p.s.state, p.g_final, dev);
        Tensor dz = to_tensor(p.s.z, std::vector<double>(p.z.size(), NAN), dev);
        Tensor dv = to_tensor(p.s.v, std::vector<double>(p.v.size(), NAN), dev);
        Tensor dh0 = to_tensor(p.s.state, std::vector<double>(p.h0.size(), NAN), dev);
        // A config that asks for the chunked forward runs the chunked backward where the build
        // has one (generators/CMakeLists.txt), else the default backward.
        ScanConfig bcfg = p.cfg;
        if (bcfg.algorithm == Algorithm::chunked && !compiled(bcfg, "backward", dev, p.d)) {
            bcfg.algorithm = Algorithm::automatic;
        }
        if (bcfg.kernel && std::strcmp(bcfg.kernel->direction, "backward") != 0) bcfg.kernel = nullptr;
        scan_backward(bcfg, z, v, &h0, h_for_backward ? *h_for_backward : h, g, &gf, dz, dv, dh0);
        o.dz = to_vec(dz);
        o.dv = to_vec(dv);
        o.dh0 = to_vec(dh0);
    }
    return o;
}

Outputs run_time_major(const Problem &p, Device dev, bool backward) {
    const int64_t B = p.d.B, T = p.d.T;
    const ScanShapes ts = scan_shapes(p.cfg.layer, p.d, true);
    Tensor z = to_tensor(ts.z, swap_bt(p.z, B, T, true), dev), v = to_tensor(ts.v, swap_bt(p.v, B, T, true), dev);
    Tensor h0 = to_tensor(p.s.state, p.h0, dev);
    Tensor h = to_tensor(ts.v, std::vector<double>(p.v.size(), NAN), dev);
    Tensor hf = to_tensor(p.s.state, std::vector<double>(p.h0.size(), NAN), dev);
    ScanConfig fcfg = p.cfg;
    if (fcfg.kernel && std::strcmp(fcfg.kernel->direction, "forward") != 0) fcfg.kernel = nullptr;
    scan_forward(fcfg, z, v, &h0, h, hf);
    Outputs o{swap_bt(to_vec(h), B, T, false), to_vec(hf), {}, {}, {}};
    if (backward) {
        Tensor g = to_tensor(ts.v, swap_bt(p.g, B, T, true), dev), gf = to_tensor(p.s.state, p.g_final, dev);
        Tensor dz = to_tensor(ts.z, std::vector<double>(p.z.size(), NAN), dev);
        Tensor dv = to_tensor(ts.v, std::vector<double>(p.v.size(), NAN), dev);
        Tensor dh0 = to_tensor(p.s.state, std::vector<double>(p.h0.size(), NAN), dev);
        ScanConfig bcfg = p.cfg;
        if (bcfg.kernel && std::strcmp(bcfg.kernel->direction, "backward") != 0) bcfg.kernel = nullptr;
        scan_backward(bcfg, z, v, &h0, h, g, &gf, dz, dv, dh0);
        o.dz = swap_bt(to_vec(dz), B, T, false);
        o.dv = swap_bt(to_vec(dv), B, T, false);
        o.dh0 = to_vec(dh0);
    }
    return o;
}

// The shapes every variant is checked on: T = 1, prime T, B = 1, N not a multiple of any
// vector width, and (for chunked kernels) several chunks with a ragged last one; time-major
// kernels also several groups of batch rows with a ragged last one (B = 37, 16 rows a group).
std::vector<ScanDims> shapes_for(const KernelEntry &k) {
    // Odd and even T: the one-pass backward's two adjoint buffers alternate with the step's
    // parity, and dh0 is in the one step 0 wrote.
    // N = 37 is past two vectors of 16 lanes and off every width: a CPU forward's last vector
    // runs shifted inwards (schedules/cpu_scan_schedules.h, split_channels), N below its width
    // on zero-padded copies (scan_forward); a backward runs as two calls (channel_calls).
    std::vector<ScanDims> out = {{1, 1, 1, k.m}, {2, 13, 19, k.m}, {3, 5, 8, k.m},  {2, 12, 7, k.m},
                                 {1, 2, 3, k.m}, {2, 6, 37, k.m}};
    if (is_time_major(k)) out.push_back({37, 7, 11, k.m});
    if (k.chunk > 0) {
        out.push_back({2, 2 * (int64_t)k.chunk + 37, 5, k.m});  // 3 chunks, last one ragged
        out.push_back({1, (int64_t)k.chunk, 3, k.m});           // exactly one chunk
    }
    return out;
}

std::string label(const KernelEntry &k, Norm norm, const ScanDims &d) {
    return std::string(k.name) + " norm=" + norm_name(norm) + " B=" + std::to_string(d.B) +
           " T=" + std::to_string(d.T) + " N=" + std::to_string(d.N);
}

// `edit` (optional) changes a problem's inputs before it runs.
void check_kernel_entry(const KernelEntry &k, const std::vector<Norm> &norms = {std::begin(kAllNorms), std::end(kAllNorms)},
                        const std::function<void(Problem &)> &edit = nullptr) {
    const Device dev = parse_device(k.device);
    const bool backward = std::strcmp(k.direction, "backward") == 0;
    const Layer layer = parse_layer(k.layer);
    unsigned seed = 1;
    for (Norm norm : norms) {
        for (const ScanDims &d : shapes_for(k)) {
            Problem p = make_problem(layer, k.m, norm, d.B, d.T, d.N, seed++);
            if (edit) edit(p);
            p.cfg.algorithm = parse_algorithm(k.algorithm);
            p.cfg.kernel = &k;  // this variant, whatever the tuning database chose for the shape
            p.cfg.time_major = is_time_major(k);
            ASSERT_STREQ(select_kernel(p.cfg, k.direction, dev, p.d).name, k.name);
            Ref r = reference(p, backward);
            Outputs o = run(p, dev, backward);
            const std::string what = label(k, norm, d);
            expect_close(o.h, r.h, what + " h");
            expect_close(o.h_final, r.h_final, what + " h_final");
            if (backward) {
                expect_close(o.dz, r.dz, what + " dz", 5e-4);
                expect_close(o.dv, r.dv, what + " dv", 5e-4);
                expect_close(o.dh0, r.dh0, what + " dh0", 5e-4);
            }
            if (::testing::Test::HasFailure()) return;  // one clear failure, not hundreds
        }
    }
}

std::vector<const KernelEntry *> kernels_on(const char *device) {
    std::vector<const KernelEntry *> out;
    for (int i = 0; i < kKernelTableSize; i++) {
        const KernelEntry &k = kKernelTable[i];
        const bool scan_layer = !std::strcmp(k.layer, "hlru") || !std::strcmp(k.layer, "bdlru");
        // A tuned variant compiled only for bigger CPU tiers than this one has no code to test here.
        if (scan_layer && std::strcmp(k.device, device) == 0 && dispatch::runs_here(k)) out.push_back(&k);
    }
    return out;
}

class CpuKernel : public ::testing::TestWithParam<const KernelEntry *> {};
TEST_P(CpuKernel, MatchesFloat64Reference) { check_kernel_entry(*GetParam()); }

// Softmax rows whose logits tie, lie 40 or 100 apart (a weight under float32's smallest normal),
// or hold -inf (weight 0), one kind per row in turn. At m = 1 the kernels take one exponential per
// row, e^{-|z0 - z1|}, and give the larger logit weight 1/(1 + e) by a comparison; at m = 2 two,
// e^{-|z0 - z1|} and e^{-|max(z0, z1) - z2|}, and comparisons say which logit gets which
// (gate_norm.h): ties and every order must land on the right logit.
void softmax_edge_logits(Problem &p) {
    const size_t w = (size_t)p.d.m + 1;
    for (size_t row = 0; row * w < p.z.size(); row++) {
        double *z = &p.z[row * w];
        switch (row % 10) {
            case 0: for (size_t i = 1; i < w; i++) z[i] = z[0]; break;  // a tie
            case 1: z[0] += 40; break;                                   // the first far ahead
            case 2: z[w - 1] += 100; break;                              // the input gate far ahead
            case 3: z[0] = -INFINITY; break;                             // weight exactly 0
            case 4: z[w - 1] -= 100; break;                              // the input gate far behind
            case 5: z[w - 1] = z[0] + 30; z[1] = z[0] + 5; break;        // increasing, far apart
            case 6: z[1] = z[0]; z[w - 1] = z[0] + 1; break;             // the first two tie below the last
            case 7: z[w - 1] = std::max(z[0], z[1]); break;              // the last ties the larger of the first two
            case 8: z[0] = z[w - 2] = -INFINITY; break;                  // m >= 2: two weights exactly 0
            default: break;
        }
    }
}
class CpuKernelLowOrder : public ::testing::TestWithParam<const KernelEntry *> {};
TEST_P(CpuKernelLowOrder, SoftmaxEdgeLogitsMatchFloat64Reference) {
    check_kernel_entry(*GetParam(), {Norm::softmax}, softmax_edge_logits);
}
std::vector<const KernelEntry *> low_order(std::vector<const KernelEntry *> ks) {
    ks.erase(std::remove_if(ks.begin(), ks.end(), [](const KernelEntry *k) { return k->m > 2; }), ks.end());
    return ks;
}
INSTANTIATE_TEST_SUITE_P(AllVariants, CpuKernelLowOrder, ::testing::ValuesIn(low_order(kernels_on("cpu"))),
                         [](const auto &info) { return std::string(info.param->name); });
INSTANTIATE_TEST_SUITE_P(AllVariants, CpuKernel, ::testing::ValuesIn(kernels_on("cpu")),
                         [](const auto &info) { return std::string(info.param->name); });

// Channels [0, n) of every tensor with a channel dim ([B,T,N,...] sequences, [B,N,m] states).
Problem first_channels(const Problem &p, int64_t n) {
    Problem q = p;
    q.d.N = n;
    q.s = scan_shapes(p.cfg.layer, q.d);
    auto cut = [&](const std::vector<double> &x, int64_t outer) {
        const size_t inner = x.size() / (size_t)(outer * p.d.N);
        std::vector<double> out;
        for (int64_t o = 0; o < outer; o++) {
            auto from = x.begin() + (ptrdiff_t)((size_t)o * p.d.N * inner);
            out.insert(out.end(), from, from + (ptrdiff_t)((size_t)n * inner));
        }
        return out;
    };
    const int64_t BT = p.d.B * p.d.T;
    q.z = cut(p.z, BT);
    q.v = cut(p.v, BT);
    q.g = cut(p.g, BT);
    q.h0 = cut(p.h0, p.d.B);
    q.g_final = cut(p.g_final, p.d.B);
    return q;
}

// A channel count off the vector width (a forward's last vector shifted inwards in the same pass;
// a backward's, or a shifted one alone in a parallel tile, a second call: channel_calls) or below
// it (a forward on zero-padded copies):
// every output equals what one call over a count on every vector width (N = 96) computes for the
// same channels, to float32 rounding (not bit for bit: the same lane's arithmetic can round
// differently in another copy of a loop Halide peeled), so no channel is skipped (the outputs
// start as NaN), shifted or mixed with another. N = 69 puts a forward's shifted vector alone in
// its tile for the kernels of 64-channel tiles and 16 or 8 lanes (two calls).
TEST_P(CpuKernel, ChannelsOffTheVectorWidthAsInOneCall) {
    const KernelEntry &k = *GetParam();
    const bool backward = std::strcmp(k.direction, "backward") == 0;
    Problem whole = make_problem(parse_layer(k.layer), k.m, Norm::softmax, 2, k.chunk > 0 ? 2 * k.chunk + 3 : 9, 96, 5);
    whole.cfg.algorithm = parse_algorithm(k.algorithm);
    whole.cfg.kernel = &k;
    whole.cfg.time_major = is_time_major(k);
    ASSERT_EQ(channel_calls(k, Device::cpu, 96).size(), 1u);
    const Outputs w = run(whole, Device::cpu, backward);
    for (int64_t n : {37, 19, 47, 69, 5}) {
        const Problem part = first_channels(whole, n);
        const Outputs o = run(part, Device::cpu, backward);
        auto expect_same = [&](const std::vector<double> &got, const std::vector<double> &all, int64_t outer,
                               const char *what) {
            const size_t inner = all.size() / (size_t)(outer * 96);
            std::vector<double> want;
            for (int64_t o2 = 0; o2 < outer; o2++) {
                auto from = all.begin() + (ptrdiff_t)((size_t)o2 * 96 * inner);
                want.insert(want.end(), from, from + (ptrdiff_t)((size_t)n * inner));
            }
            expect_close(got, want, std::string(k.name) + " N=" + std::to_string(n) + " (" +
                                        std::to_string(channel_calls(k, Device::cpu, n).size()) + " calls) " + what, 1e-5);
        };
        const int64_t BT = whole.d.B * whole.d.T;
        expect_same(o.h, w.h, BT, "h");
        expect_same(o.h_final, w.h_final, whole.d.B, "h_final");
        if (backward) {
            expect_same(o.dz, w.dz, BT, "dz");
            expect_same(o.dv, w.dv, BT, "dv");
            expect_same(o.dh0, w.dh0, whole.d.B, "dh0");
        }
    }
}

// How a channel count splits into calls. A CPU forward: one, unless its shifted last vector
// would be alone in a parallel tile of `tile` channels (then the full vectors, and the last one
// ending at N); below one vector one call too (scan_forward pads). A CPU backward: two past one
// vector and off the width. CUDA: always one.
TEST(ScanDispatch, ChannelCallsSplitABackwardOffTheWidthAndAForwardsVectorAloneInItsTile) {
    ScanConfig cfg;
    cfg.layer = Layer::bdlru;
    cfg.m = 3;
    using V = std::vector<std::pair<int64_t, int64_t>>;
    auto calls = [&](const KernelEntry &k, int64_t N, Device d = Device::cpu) {
        V out;
        for (const ChannelCall &c : channel_calls(k, d, N)) out.push_back({c.n0, c.n});
        return out;
    };
    const KernelEntry &f = select_kernel(cfg, "forward", Device::cpu, {16, 2048, 341, 3});
    const int64_t lanes = kernel_lanes(f);
    const char *tile_param = std::strstr(f.params, "tile=");
    ASSERT_NE(tile_param, nullptr) << f.name << " names no tile: " << f.params;
    const int64_t tile = std::atoi(tile_param + 5);
    const int64_t per_tile = std::max<int64_t>(1, tile / lanes);
    ASSERT_GE(lanes, 4);
    EXPECT_EQ(calls(f, 8 * lanes), (V{{0, 8 * lanes}}));
    EXPECT_EQ(calls(f, lanes), (V{{0, lanes}}));
    EXPECT_EQ(calls(f, lanes - 1), (V{{0, lanes - 1}}));
    EXPECT_EQ(calls(f, 1), (V{{0, 1}}));
    // The last vector, off the width, starts a tile of its own (5 past the tiles, or fewer where
    // the width is 5 or less: the Intel Xeon's m = 3 forward runs 5 blocks per vector).
    const int64_t alone = per_tile * lanes + std::min<int64_t>(5, lanes - 1);
    EXPECT_EQ(calls(f, alone), (V{{0, per_tile * lanes}, {alone - lanes, lanes}}));
    if (per_tile > 1) {
        EXPECT_EQ(calls(f, lanes + 1), (V{{0, lanes + 1}}));
        EXPECT_EQ(calls(f, alone + lanes), (V{{0, alone + lanes}}));
    }
    EXPECT_EQ(calls(f, alone, Device::cuda), (V{{0, alone}}));

    const KernelEntry &b = select_kernel(cfg, "backward", Device::cpu, {16, 2048, 341, 3});
    const int64_t bl = std::max<int64_t>(kernel_lanes(b), dispatch::cpu_float_lanes());
    EXPECT_EQ(calls(b, 8 * bl), (V{{0, 8 * bl}}));
    EXPECT_EQ(calls(b, bl - 1), (V{{0, bl - 1}}));
    EXPECT_EQ(calls(b, 8 * bl + 5), (V{{0, 8 * bl}, {7 * bl + 5, bl}}));
    EXPECT_EQ(calls(b, bl + 1), (V{{0, bl}, {1, bl}}));
    EXPECT_EQ(calls(b, 8 * bl + 5, Device::cuda), (V{{0, 8 * bl + 5}}));
}

// A CPU forward kernel needs N at least its vector width (its last vector shifts inwards): called
// directly with fewer channels it fails with Halide's bounds error naming an input, not a crash
// or a read before the buffer; through scan_forward the same N runs on padded copies.
TEST(ScanDispatch, AForwardKernelCalledDirectlyBelowOneVectorIsRefusedByName) {
    ScanConfig cfg;
    cfg.layer = Layer::hlru;
    cfg.m = 2;
    const KernelEntry &k = select_kernel(cfg, "forward", Device::cpu, {16, 2048, 512, 2});
    const int64_t B = 2, T = 5, N = kernel_lanes(k) - 3;
    ASSERT_GE(N, 1);
    Tensor z = Tensor::zeros({B, T, N, 3}), v = Tensor::zeros({B, T, N}), h0 = Tensor::zeros({B, N, 2});
    Tensor s = Tensor::empty({B, T, N}), hf = Tensor::empty({B, N, 2});
    int norm = (int)Norm::softmax;
    try {
        dispatch::run_kernel(k, {{"z", z.raw()}, {"v", v.raw()}, {"h0", h0.raw()}, {"norm", &norm},
                                 {"s", s.raw()}, {"h_final", hf.raw()}});
        FAIL() << k.name << " ran with N = " << N << " below its " << kernel_lanes(k) << " lanes";
    } catch (const Error &e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("accessed at"), std::string::npos) << what;
    }
    cfg.kernel = &k;
    ScanForwardResult r = scan_forward(cfg, z, v, nullptr);
    for (int64_t i = 0; i < r.h.numel(); i++) ASSERT_EQ(r.h.data()[i], 0.0f);  // v = 0: every state 0
}

class CudaKernel : public ::testing::TestWithParam<const KernelEntry *> {};
TEST_P(CudaKernel, MatchesFloat64Reference) {
    if (!cuda_available()) GTEST_SKIP() << cuda_unavailable_reason();
    check_kernel_entry(*GetParam());
}
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(CudaKernel);
INSTANTIATE_TEST_SUITE_P(AllVariants, CudaKernel, ::testing::ValuesIn(kernels_on("cuda")),
                         [](const auto &info) { return std::string(info.param->name); });
// The edge logits of CpuKernelLowOrder on the CUDA kernels at m <= 2.
class CudaKernelLowOrder : public ::testing::TestWithParam<const KernelEntry *> {};
TEST_P(CudaKernelLowOrder, SoftmaxEdgeLogitsMatchFloat64Reference) {
    if (!cuda_available()) GTEST_SKIP() << cuda_unavailable_reason();
    check_kernel_entry(*GetParam(), {Norm::softmax}, softmax_edge_logits);
}
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(CudaKernelLowOrder);
INSTANTIATE_TEST_SUITE_P(AllVariants, CudaKernelLowOrder, ::testing::ValuesIn(low_order(kernels_on("cuda"))),
                         [](const auto &info) { return std::string(info.param->name); });

// Processing a sequence in two pieces (final state -> initial state) equals one pass, forward
// and backward (the backward of the second piece hands dh0 to the first as g_final).
void check_two_pieces(Layer layer, int m, Algorithm alg, Device dev) {
    const int64_t B = 2, T = 300, N = 7, T1 = 131;
    Problem whole = make_problem(layer, m, Norm::softmax, B, T, N, 77);
    whole.cfg.algorithm = alg;
    Outputs one = run(whole, dev, true);

    auto piece = [&](int64_t t0, int64_t len) {
        Problem p = whole;
        p.d.T = len;
        p.s = scan_shapes(layer, p.d);
        auto cut = [&](const std::vector<double> &x, const Shape &full) {
            const size_t per_t = numel(full) / (size_t)(B * T);
            std::vector<double> out;
            for (int64_t b = 0; b < B; b++) {
                auto begin = x.begin() + (size_t)(b * T + t0) * per_t;
                out.insert(out.end(), begin, begin + (size_t)len * per_t);
            }
            return out;
        };
        p.z = cut(whole.z, whole.s.z);
        p.v = cut(whole.v, whole.s.v);
        p.g = cut(whole.g, whole.s.v);
        return p;
    };
    Problem a = piece(0, T1), b = piece(T1, T - T1);
    std::fill(a.g_final.begin(), a.g_final.end(), 0.0);
    Outputs oa = run(a, dev, false);
    b.h0 = oa.h_final;
    b.g_final = whole.g_final;
    Outputs ob = run(b, dev, true);
    a.g_final = ob.dh0;
    Outputs oa2 = run(a, dev, true);

    auto join = [&](const std::vector<double> &x1, const std::vector<double> &x2, size_t per_t) {
        std::vector<double> out;
        for (int64_t bb = 0; bb < B; bb++) {
            out.insert(out.end(), x1.begin() + bb * T1 * per_t, x1.begin() + (bb + 1) * T1 * per_t);
            out.insert(out.end(), x2.begin() + bb * (T - T1) * per_t, x2.begin() + (bb + 1) * (T - T1) * per_t);
        }
        return out;
    };
    const size_t pv = numel(whole.s.v) / (B * T), pz = numel(whole.s.z) / (B * T);
    expect_close(join(oa.h, ob.h, pv), one.h, "two pieces h");
    expect_close(ob.h_final, one.h_final, "two pieces h_final");
    expect_close(join(oa2.dz, ob.dz, pz), one.dz, "two pieces dz", 5e-4);
    expect_close(join(oa2.dv, ob.dv, pv), one.dv, "two pieces dv", 5e-4);
    expect_close(oa2.dh0, one.dh0, "two pieces dh0", 5e-4);
}

TEST(ScanProperties, TwoPiecesEqualOnePass) {
    for (Layer layer : {Layer::bdlru, Layer::hlru}) {
        for (int m : supported_orders(layer, Device::cpu)) {
            if (m > 4) continue;
            SCOPED_TRACE(std::string(layer_name(layer)) + " m=" + std::to_string(m));
            check_two_pieces(layer, m, Algorithm::sequential, Device::cpu);
            check_two_pieces(layer, m, Algorithm::chunked, Device::cpu);
        }
    }
}

// Spec §1: with every variant but none, ‖h_t‖∞ ≤ max_{s≤t} ‖v_s‖∞ (h0 = 0).
TEST(ScanProperties, StateBoundedByInputs) {
    for (Layer layer : {Layer::bdlru, Layer::hlru}) {
        for (int m : supported_orders(layer, Device::cpu)) {
            for (Norm norm : kAllNorms) {
                if (norm == Norm::none) continue;
                Problem p = make_problem(layer, m, norm, 2, 97, 6, 5, /*with_h0=*/false);
                for (auto &x : p.z) x *= 3.0;  // sharper gates: closer to the bound
                Outputs o = run(p, Device::cpu, false);
                const size_t per_t = o.h.size() / (2 * 97);
                for (int64_t b = 0; b < 2; b++) {
                    double vmax = 0;
                    for (int64_t t = 0; t < 97; t++) {
                        for (size_t i = 0; i < per_t; i++) {
                            const size_t idx = (size_t)(b * 97 + t) * per_t + i;
                            vmax = std::max(vmax, std::abs(p.v[idx]));
                            ASSERT_LE(std::abs(o.h[idx]), vmax * (1 + 1e-5))
                                << layer_name(layer) << " m=" << m << " norm=" << norm_name(norm) << " t=" << t;
                        }
                    }
                }
            }
        }
    }
}

// Directional finite differences on the float32 kernels themselves (not only the reference):
// L = Σ g·h + Σ g_final·h_final; (L(x + εd) − L(x − εd)) / 2ε must equal ⟨∇L, d⟩.
TEST(ScanProperties, KernelGradientsMatchFiniteDifferences) {
    for (Layer layer : {Layer::bdlru, Layer::hlru}) {
        for (int m : supported_orders(layer, Device::cpu)) {
            if (m > 3) continue;
            for (auto [alg, norm] : {std::pair{Algorithm::sequential, Norm::softmax},
                                     {Algorithm::sequential, Norm::sigmoid_l1},
                                     {Algorithm::sequential, Norm::tanh_l1},
                                     {Algorithm::chunked, Norm::softmax}}) {
                // T = 11 is one ragged chunk of the chunked backward (chunk 64): its summary,
                // carry and re-scan end to end; the float64 variant tests cover several chunks.
                Problem p = make_problem(layer, m, norm, 2, 11, 5, 31 + m);
                p.cfg.algorithm = alg;
                if (!compiled(p.cfg, "backward", Device::cpu, p.d)) continue;
                Outputs o = run(p, Device::cpu, true);
                std::mt19937 rng(7);
                auto dz = randn(p.z.size(), rng), dv = randn(p.v.size(), rng), dh = randn(p.h0.size(), rng);
                auto loss = [&](double eps) {
                    Problem q = p;
                    for (size_t i = 0; i < q.z.size(); i++) q.z[i] += eps * dz[i];
                    for (size_t i = 0; i < q.v.size(); i++) q.v[i] += eps * dv[i];
                    for (size_t i = 0; i < q.h0.size(); i++) q.h0[i] += eps * dh[i];
                    Outputs oq = run(q, Device::cpu, false);
                    double L = 0;
                    for (size_t i = 0; i < oq.h.size(); i++) L += p.g[i] * oq.h[i];
                    for (size_t i = 0; i < oq.h_final.size(); i++) L += p.g_final[i] * oq.h_final[i];
                    return L;
                };
                const double eps = 2e-3;  // logits sit >= 0.05 from the kinks of relu/abs
                const double fd = (loss(eps) - loss(-eps)) / (2 * eps);
                double an = 0;
                for (size_t i = 0; i < dz.size(); i++) an += o.dz[i] * dz[i];
                for (size_t i = 0; i < dv.size(); i++) an += o.dv[i] * dv[i];
                for (size_t i = 0; i < dh.size(); i++) an += o.dh0[i] * dh[i];
                EXPECT_NEAR(fd, an, 2e-3 * (1 + std::abs(an)))
                    << layer_name(layer) << " m=" << m << " norm=" << norm_name(norm) << " " << algorithm_name(alg);
            }
        }
    }
}

TEST(ScanCuda, MatchesCpu) {
    if (!cuda_available()) GTEST_SKIP() << cuda_unavailable_reason();
    for (Layer layer : {Layer::bdlru, Layer::hlru}) {
        for (int m : supported_orders(layer, Device::cuda)) {
            for (Algorithm alg : {Algorithm::sequential, Algorithm::chunked}) {
                Problem p = make_problem(layer, m, Norm::softmax, 3, 200, 67, 11);
                p.cfg.algorithm = alg;
                // Chunked kernels exist only for some m (generators/CMakeLists.txt).
                if (!compiled(p.cfg, "forward", Device::cpu, p.d) || !compiled(p.cfg, "forward", Device::cuda, p.d)) {
                    continue;
                }
                Outputs c = run(p, Device::cpu, true), g = run(p, Device::cuda, true);
                const std::string what = std::string(layer_name(layer)) + " m=" + std::to_string(m) + " " +
                                         algorithm_name(alg);
                expect_close(g.h, c.h, what + " h", 1e-5);
                expect_close(g.h_final, c.h_final, what + " h_final", 1e-5);
                expect_close(g.dz, c.dz, what + " dz", 1e-4);
                expect_close(g.dv, c.dv, what + " dv", 1e-4);
                expect_close(g.dh0, c.dh0, what + " dh0", 1e-4);
            }
        }
    }
}


TEST(ScanErrors, BadShapesAndArguments) {
    ScanConfig cfg;
    cfg.layer = Layer::bdlru;
    cfg.m = 2;
    Tensor v = Tensor::zeros({2, 5, 3, 2}), z = Tensor::zeros({2, 5, 3, 2, 3});
    expect_error([&] { scan_forward(cfg, Tensor::zeros({2, 5, 3, 2, 2}), v); }, {"'z'", "[2, 5, 3, 2, 3]", "[2, 5, 3, 2, 2]"});
    expect_error([&] { scan_forward(cfg, z, Tensor::zeros({2, 5, 3})); }, {"'v'", "[B,T,N,m]"});
    Tensor bad_h0 = Tensor::zeros({2, 3, 3});
    expect_error([&] { scan_forward(cfg, z, v, &bad_h0); }, {"'h0'", "[2, 3, 2]"});
    expect_error([&] { scan_forward(cfg, Tensor::zeros({2, 0, 3, 2, 3}), Tensor::zeros({2, 0, 3, 2})); }, {"'v'", ">= 1"});
    ScanConfig odd = cfg;
    odd.m = 7;
    expect_error([&] { scan_forward(odd, Tensor::zeros({1, 2, 3, 7, 8}), Tensor::zeros({1, 2, 3, 7})); }, {"'m' = 7", "supported"});
    auto fwd = scan_forward(cfg, z, v);
    expect_error([&] { scan_backward(cfg, z, v, nullptr, fwd.h, Tensor::zeros({2, 5, 3, 1})); }, {"'g'", "[2, 5, 3, 2]"});
    expect_error([] { parse_norm("softmin"); }, {"norm", "softmax", "softmin"});
    expect_error([] { parse_layer("lstm"); }, {"layer", "bdlru"});
    ScanConfig bad_norm = cfg;
    bad_norm.norm = (Norm)9;
    expect_error([&] { scan_forward(bad_norm, z, v); }, {"norm"});
}

// Time-major calls: the layout is in the messages, a kernel of the other layout is refused, and an
// m without time-major kernels names the ones compiled.
TEST(ScanErrors, TimeMajorLayout) {
    ScanConfig cfg;
    cfg.layer = Layer::bdlru;
    cfg.m = 2;
    cfg.time_major = true;
    if (!has_time_major(cfg.layer, cfg.m, Device::cpu)) GTEST_SKIP() << "no time-major BD-LRU m = 2 kernels in this build";
    Tensor v = Tensor::zeros({5, 2, 3, 2}), z = Tensor::zeros({5, 2, 3, 2, 3});
    expect_error([&] { scan_forward(cfg, Tensor::zeros({2, 5, 3, 2, 3}), v); }, {"'z'", "[T,B,N,m,m+1]", "[5, 2, 3, 2, 3]"});
    expect_error([&] { scan_forward(cfg, z, Tensor::zeros({5, 2, 3})); }, {"'v'", "[T,B,N,m]"});
    ScanConfig batch_major = cfg;
    batch_major.time_major = false;
    batch_major.kernel = &select_kernel(cfg, "forward", Device::cpu, scan_dims(cfg, v));
    expect_error([&] { scan_forward(batch_major, z, v); }, {"time-major", "batch-major"});
    ScanConfig big = cfg;
    big.m = 64;
    expect_error([&] { scan_forward(big, Tensor::zeros({1, 1, 1, 64, 65}), Tensor::zeros({1, 1, 1, 64})); },
                 {"no time-major kernel", "m = 64", "compiled for m: ", "2"});
}

// A shape past the kernels' 32-bit indexing is refused where the tensor is made, naming the limit
// (it used to reach the allocator or the kernel and crash).
TEST(ScanErrors, TooLargeShapeNamesTheLimit) {
    for (const Shape &s : {Shape{100000, 100000, 1024, 2}, Shape{1, 1100000, 4096}, Shape{65536, 32768}}) {
        try {
            Tensor::empty(s);
            ADD_FAILURE() << shape_str(s) << " was accepted";
        } catch (const Error &e) {
            EXPECT_NE(std::string(e.what()).find("2^31 - 1 elements"), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find(shape_str(s)), std::string::npos) << e.what();
        }
    }
    // Just under the limit is allowed (where the machine has the 8 GiB it would take).
    if ((double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE) > 9e9) {
        EXPECT_NO_THROW(check_tensor_size({65536, 32767}));  // 2^31 - 2^16 elements
    }
}

TEST(ScanErrors, CudaAbsentIsAClearError) {
    if (cuda_available()) GTEST_SKIP() << "a GPU is present";
    expect_error([] { Tensor::zeros({2, 3}, Device::cuda); }, {"cuda"});
}

}  // namespace
}  // namespace statemix
