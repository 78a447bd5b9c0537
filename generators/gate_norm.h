// Gate normalization of ../shared/spec/layers.md §1, as Halide expressions, shared by every
// H-LRU and BD-LRU generator. One normalized row has m+1 logits; the first m become transition
// coefficients, the last the input gate.
//
// Every variant has the form  p_k = φ(z_k) / S,  S = Σ_j μ(φ(z_j)),  so its Jacobian is
//   ∂L/∂z_k = c_k · (∂L/∂p_k − s_k · Σ_l p_l ∂L/∂p_l),   c_k = φ'(z_k) / S,  s_k = μ'(φ(z_k)).
// With ∂L/∂p_k = λ·u_k and Σ_l p_l u_l = o (the row's output), that is  λ·c_k·(u_k − s_k·o):
// the backward needs neither A nor the per-row sums in memory (spec §5).
//
// The row is split into per-row statistics (the max shift and 1/S) and per-element terms, so a
// kernel can compute the statistics once per row and the elements with a symbolic index k.
// The variant is the run-time Param `norm`; kernels specialize on norm == softmax (where the
// selects below fold away) and keep one generic branch for the rest.
#pragma once

#include "Halide.h"
#include "fast_math.h"

#include <vector>

namespace statemix::gen {

// Values of the run-time `norm` argument. Keep in sync with runtime/statemix.h (enum Norm).
enum NormId { kSoftmax = 0, kSigmoidL1 = 1, kReluL1 = 2, kTanhL1 = 3, kLinL1 = 4, kNone = 5 };
constexpr int kNumNorms = 6;

struct NormElem {
    Halide::Expr p, c, s;  // p_k, c_k = φ'(z_k)/S, s_k = μ'(φ(z_k))
};

struct NormStats {
    Halide::Expr shift, inv;  // softmax: row max; 1/S
};

namespace detail {
// e^x for x <= 0 (softmax's shifted logits), in the fast-math build. Halide's fast_exp takes the
// floor of x·log2(e), which Halide 21 emits on AVX-512 as two 256-bit vroundps with an extract and
// an insert per vector. Here k = round(x·log2(e)) is a truncating conversion of x·log2(e) - 1/2
// (x <= 0), so r = x - k·ln2 lies in [-ln2/2, ln2/2], where a degree-6 Taylor polynomial is within
// 2e-7 relative, and 2^k is k's bits shifted into the exponent. x below -88 (e^x under the
// smallest normal float) gives 0; the clamp is a select, so NaN stays NaN.
inline Halide::Expr exp_nonpositive(const Halide::Expr &x) {
    using namespace Halide;
    Expr xc = select(x < -88.0f, -88.0f, x);
    Expr k = cast<int32_t>(xc * 1.44269504f - 0.5f);  // in [-127, 0]
    Expr r = xc - cast<float>(k) * 0.693147182f;
    Expr p = 1.0f / 720.0f;
    for (float c : {1.0f / 120.0f, 1.0f / 24.0f, 1.0f / 6.0f, 0.5f, 1.0f, 1.0f}) p = p * r + c;
    return p * reinterpret<float>((k + 127) << 23);
}

inline Halide::Expr phi(const Halide::Expr &z, const Halide::Expr &shift, const Halide::Expr &norm, bool fast) {
    using namespace Halide;
    Expr e = fast ? exp_nonpositive(z - shift) : exp(z - shift);
    return select(norm == kSoftmax, e, norm == kSigmoidL1, 1.0f / (1.0f + exp(-z)),
                  norm == kReluL1, max(z, 0.0f), norm == kTanhL1, tanh_f32(z), z);
}
inline Halide::Expr magnitude(const Halide::Expr &ph, const Halide::Expr &norm) {
    using namespace Halide;
    return select(norm == kTanhL1 || norm == kLinL1, abs(ph), norm == kReluL1, ph + 1e-3f, ph);
}
}  // namespace detail

inline Halide::Expr norm_shift(const std::vector<Halide::Expr> &z, const Halide::Expr &norm);
inline Halide::Expr norm_inv(const std::vector<Halide::Expr> &ph, const Halide::Expr &norm);

inline NormStats norm_stats(const std::vector<Halide::Expr> &z, const Halide::Expr &norm, bool fast) {
    Halide::Expr shift = norm_shift(z, norm);
    std::vector<Halide::Expr> ph;
    for (const auto &zk : z) ph.push_back(detail::phi(zk, shift, norm, fast));
    return {shift, norm_inv(ph, norm)};
}

// The same from φ(z_k) (which carries everything the Jacobian needs: z > 0 ⟺ φ > 0 for relu,
// φ = z for none), so a kernel can compute φ once per logit and step. inv = 1/S (1 for none).
inline NormElem norm_elem_from_phi(const Halide::Expr &ph, const Halide::Expr &inv, const Halide::Expr &norm) {
    using namespace Halide;
    Expr one = 1.0f, zero = 0.0f;
    Expr dphi = select(norm == kSoftmax, ph, norm == kSigmoidL1, ph * (one - ph),
                       norm == kReluL1, select(ph > zero, one, zero), norm == kTanhL1, one - ph * ph, one);
    Expr sgn = select(ph > zero, one, ph < zero, -one, zero);
    Expr s = select(norm == kTanhL1 || norm == kLinL1, sgn, norm == kNone, zero, one);
    return {ph * inv, dphi * inv, s};
}

inline NormElem norm_elem(const Halide::Expr &z, const NormStats &st, const Halide::Expr &norm, bool fast) {
    return norm_elem_from_phi(detail::phi(z, st.shift, norm, fast), st.inv, norm);
}

// Per-row pieces for kernels that keep φ of one step in a buffer: the shift (softmax: the row
// max), φ(z_k) and 1/S from the φ of the whole row.
inline Halide::Expr norm_shift(const std::vector<Halide::Expr> &z, const Halide::Expr &norm) {
    using namespace Halide;
    Expr mx = z[0];
    for (size_t k = 1; k < z.size(); k++) mx = max(mx, z[k]);
    return select(norm == kSoftmax, mx, 0.0f);
}
inline Halide::Expr norm_phi(const Halide::Expr &z, const Halide::Expr &shift, const Halide::Expr &norm, bool fast) {
    return detail::phi(z, shift, norm, fast);
}
inline Halide::Expr norm_inv(const std::vector<Halide::Expr> &ph, const Halide::Expr &norm) {
    using namespace Halide;
    Expr S = 0.0f;
    for (const Expr &p : ph) S = S + detail::magnitude(p, norm);
    return select(norm == kNone, 1.0f, 1.0f / S);
}

// The whole row (all m+1 elements), for kernels that unroll over k.
inline std::vector<NormElem> norm_row(const std::vector<Halide::Expr> &z, const Halide::Expr &norm, bool fast) {
    NormStats st = norm_stats(z, norm, fast);
    std::vector<NormElem> out;
    for (const auto &zk : z) out.push_back(norm_elem(zk, st, norm, fast));
    return out;
}

inline std::vector<Halide::Expr> norm_row_p(const std::vector<Halide::Expr> &z, const Halide::Expr &norm, bool fast) {
    std::vector<Halide::Expr> p;
    for (const auto &e : norm_row(z, norm, fast)) p.push_back(e.p);
    return p;
}

}  // namespace statemix::gen
