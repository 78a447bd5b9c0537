// The arithmetic ceiling of the CPU scans (issue #11 item 3): at large m a BD-LRU step does m²
// FMAs and m(m+1) exponentials per block, so the kernels can be bound by the FMA units rather than
// by memory. Measured here in the same run as the kernels, on as many threads as they use:
//  - FMA throughput: independent chains of vector FMAs held in registers (no memory traffic);
//  - exp throughput: the float32 exp the softmax kernels evaluate (gate_norm.h's exp_nonpositive,
//    with fast_math on: a degree-5 polynomial after the ln 2 range reduction, 2^k built in the
//    exponent bits, an underflow clamp), over a vector in L1. (Before 2026-12-04 this timed
//    Halide's fast_exp, which has a floor in its reduction and overflow selects.)
// Both are compiled for AVX-512, AVX2+FMA and SSE and the widest the CPU has is run, as the
// kernels' multi-target libraries do (STATEMIX_CPU_TARGETS).
// A kernel's arithmetic bound is then  fma_ops / fma_rate + exps / exp_rate  (the exponentials'
// polynomials run on the same FMA ports, so the two add); scan_op_counts() gives the counts.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "../generators/exp_poly.h"

namespace statemix {

namespace arith_detail {

typedef float v4f __attribute__((vector_size(16)));
typedef float v8f __attribute__((vector_size(32)));
typedef float v16f __attribute__((vector_size(64)));
typedef int32_t v4i __attribute__((vector_size(16)));
typedef int32_t v8i __attribute__((vector_size(32)));
typedef int32_t v16i __attribute__((vector_size(64)));

// `Chains` independent chains of vector FMAs, `iters` steps each (registers only).
template<typename V, int Chains>
__attribute__((always_inline)) inline float fma_chains(int64_t iters, float seed) {
    V a[Chains];
    for (int i = 0; i < Chains; i++) a[i] = (V){} + (seed + (float)i * 1e-3f);
    const V mul = (V){} + 0.999999f, add = (V){} + 1e-7f;
    for (int64_t it = 0; it < iters; it++) {
        for (int i = 0; i < Chains; i++) a[i] = a[i] * mul + add;  // contracted to FMA (gnu++17)
    }
    V s = a[0];
    for (int i = 1; i < Chains; i++) s += a[i];
    float out = 0;
    for (size_t i = 0; i < sizeof(V) / 4; i++) out += s[i];
    return out;
}

// The softmax kernels' e^x for x <= 0 (generators/gate_norm.h, detail::exp_nonpositive; its
// constants in generators/exp_poly.h), lane-wise: clamp, truncating k, reduction, degree-5
// Horner, 2^k from the exponent bits. (Vectors by reference: no ABI notes for the wide types
// outside their target functions.)
template<typename V, typename VI>
__attribute__((always_inline)) inline void kernel_exp(const V &x, V &res) {
    using namespace statemix::gen;
    const V xc = x < kExpClamp ? (V){} + kExpClamp : x;
    const VI k = __builtin_convertvector(xc * kLog2e - 0.5f, VI);  // truncates: rounds for xc <= 0
    const V r = xc - __builtin_convertvector(k, V) * kLn2;
    V p = (V){} + kExpPoly[0];
    for (int i = 1; i < 6; i++) p = p * r + kExpPoly[i];
    const VI bits = (k + 127) << 23;
    V two_k;
    std::memcpy(&two_k, &bits, sizeof(bits));
    res = p * two_k;
}

// `passes` passes of exp over n floats in L1 (n a multiple of 16): passes·n exponentials.
template<typename V, typename VI>
__attribute__((always_inline)) inline float exp_passes(const float *buf, int64_t n, int64_t passes) {
    constexpr int W = sizeof(V) / 4;
    float acc = 0;
    for (int64_t p = 0; p < passes; p++) {
        V sum0 = {}, sum1 = {};
        for (int64_t i = 0; i < n; i += 2 * W) {
            V x0, x1;
            std::memcpy(&x0, buf + i, sizeof(V));
            std::memcpy(&x1, buf + i + W, sizeof(V));
            V e0, e1;
            kernel_exp<V, VI>(x0, e0);
            kernel_exp<V, VI>(x1, e1);
            sum0 += e0;
            sum1 += e1;
        }
        for (int i = 0; i < W; i++) acc += sum0[i] + sum1[i];
    }
    return acc;
}

// One build per vector ISA, picked at run time: the widest the CPU has, as the kernels' targets.
__attribute__((target("avx512f"), noinline)) inline float fma_avx512(int64_t it) { return fma_chains<v16f, 12>(it, 1.0f); }
__attribute__((target("avx2,fma"), noinline)) inline float fma_avx2(int64_t it) { return fma_chains<v8f, 10>(it, 1.0f); }
__attribute__((noinline)) inline float fma_sse(int64_t it) { return fma_chains<v4f, 8>(it, 1.0f); }
__attribute__((target("avx512f"), noinline)) inline float exp_avx512(const float *b, int64_t n, int64_t p) {
    return exp_passes<v16f, v16i>(b, n, p);
}
__attribute__((target("avx2,fma"), noinline)) inline float exp_avx2(const float *b, int64_t n, int64_t p) {
    return exp_passes<v8f, v8i>(b, n, p);
}
__attribute__((noinline)) inline float exp_sse(const float *b, int64_t n, int64_t p) { return exp_passes<v4f, v4i>(b, n, p); }

// Floats per FMA instruction on this CPU: 16 (AVX-512), 8 (AVX2+FMA) or 4.
inline int isa_lanes() {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 16;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 8;
    return 4;
}
inline float fma_run(int64_t it) {
    const int w = isa_lanes();
    return w == 16 ? fma_avx512(it) : w == 8 ? fma_avx2(it) : fma_sse(it);
}
inline float exp_run(const float *b, int64_t n, int64_t p) {
    const int w = isa_lanes();
    return w == 16 ? exp_avx512(b, n, p) : w == 8 ? exp_avx2(b, n, p) : exp_sse(b, n, p);
}
inline int fma_chains_count() {
    const int w = isa_lanes();
    return w == 16 ? 12 : w == 8 ? 10 : 8;
}

}  // namespace arith_detail

// Operation counts of one scan step (per block for BD-LRU, per channel for H-LRU), softmax gates:
// exponentials, and FMA-unit operations (FMAs, multiplies, adds), counting what the math needs,
// not what a compiler emits (so the bound is a lower bound on time).
struct OpCounts {
    double fma = 0, exps = 0;
};
inline OpCounts scan_op_counts(bool bdlru, int m, bool backward) {
    const double rows = bdlru ? m : 1, logits = m + 1;
    OpCounts c;
    // φ of every logit; a row of two: e^{-|z0-z1|} only; a row of three: two (gate_norm.h)
    c.exps = rows * (m == 1 ? 1 : m == 2 ? 2 : logits);
    c.fma = rows * (2 * logits)                // row sum S, p = φ/S
            + rows * m + rows;                 // the mix: m previous states and the input per row
    if (backward) {
        c.fma += rows * m                      // the adjoint: Aᵀλ
                 + rows * (3 * logits)         // dz_k = λ·c_k·(u_k − s_k·o)
                 + rows;                       // dv = λ·p_m
    }
    return c;
}

// Samples FMA and exp throughput; the best sample of a run is its ceiling (like Ceiling).
class ArithCeiling {
public:
    explicit ArithCeiling(int threads) : threads_(std::max(1, threads)) { sample(); }
    void sample() {
        // ~10-30 ms each on one core of the development machine.
        const int64_t fma_iters = 1 << 20, exp_passes = 4000, n = 1024;
        const double fma_flops = 2.0 * arith_detail::isa_lanes() * arith_detail::fma_chains_count() * (double)fma_iters;
        fma_.push_back(fma_flops * threads_ / run([&](int) { return arith_detail::fma_run(fma_iters); }) / 1e9);
        std::vector<float> buf(n);
        for (int64_t i = 0; i < n; i++) buf[i] = (float)i / (float)n - 1.0f;  // [-1, 0): softmax's shifted logits
        exp_.push_back((double)n * exp_passes * threads_ /
                       run([&](int) { return arith_detail::exp_run(buf.data(), n, exp_passes); }) / 1e9);
    }
    double fma_gflops() const { return *std::max_element(fma_.begin(), fma_.end()); }  // flops: 2 per FMA
    double exp_gps() const { return *std::max_element(exp_.begin(), exp_.end()); }     // 1e9 exps per second
    size_t count() const { return fma_.size(); }
    int threads() const { return threads_; }
    // Seconds the arithmetic of `steps` scan steps needs at the best rates seen.
    double bound_seconds(const OpCounts &c, double steps) const {
        return steps * (2.0 * c.fma / (fma_gflops() * 1e9) + c.exps / (exp_gps() * 1e9));
    }

private:
    template<typename F>
    double run(F body) {
        std::vector<std::thread> th;
        std::vector<float> sink(threads_);
        auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < threads_; i++) th.emplace_back([&, i] { sink[i] = body(i); });
        for (auto &t : th) t.join();
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        volatile float keep = sink[0];
        (void)keep;
        return s;
    }
    int threads_;
    std::vector<double> fma_, exp_;
};

}  // namespace statemix
