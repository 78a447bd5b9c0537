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
#include "exp_poly.h"
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
    Halide::Expr shift, inv;  // softmax: row max (two logits: e^{-|z_0 - z_1|}); 1/S
};

namespace detail {
// e^x for x <= 0 (softmax's shifted logits), in the fast-math build. Halide's fast_exp takes the
// floor of x·log2(e), which Halide 21 emits on AVX-512 as two 256-bit vroundps with an extract and
// an insert per vector. Here k = round(x·log2(e)) is a truncating conversion of x·log2(e) - 1/2
// (x <= 0), r = x - k·ln2 lies in [-ln2/2, ln2/2], a degree-5 minimax polynomial (one FMA fewer
// than the degree-6 Taylor polynomial it replaced, as accurate) gives e^r, and 2^k is k's bits
// shifted into the exponent: the constants and error are in exp_poly.h. x below -88 (e^x under
// the smallest normal float) gives 0; the clamp is a select, so NaN stays NaN.
inline Halide::Expr exp_nonpositive(const Halide::Expr &x) {
    using namespace Halide;
    Expr xc = select(x < kExpClamp, kExpClamp, x);
    Expr k = cast<int32_t>(xc * kLog2e - 0.5f);  // in [-127, 0]
    Expr r = xc - cast<float>(k) * kLn2;
    Expr p = kExpPoly[0];
    for (int i = 1; i < 6; i++) p = p * r + kExpPoly[i];
    return p * reinterpret<float>((k + 127) << 23);
}

// φ(z_k) given softmax's value `e` of it (e^{z_k - max}, however computed).
inline Halide::Expr phi_given_softmax(const Halide::Expr &z, const Halide::Expr &e, const Halide::Expr &norm) {
    using namespace Halide;
    return select(norm == kSoftmax, e, norm == kSigmoidL1, 1.0f / (1.0f + exp(-z)),
                  norm == kReluL1, max(z, 0.0f), norm == kTanhL1, tanh_f32(z), z);
}
// φ(z_k). A row of two softmax logits (m = 1) takes `other`, the row's other logit, and
// `shift` = e^{-|z_0 - z_1|} (norm_shift): φ is 1 for the larger logit and that exponential for
// the smaller, the same values as e^{z_k - max}, with one exponential per row instead of two.
inline Halide::Expr phi(const Halide::Expr &z, const Halide::Expr &shift, const Halide::Expr &norm, bool fast,
                        const Halide::Expr &other) {
    using namespace Halide;
    Expr e = other.defined() ? select(z >= other, 1.0f, shift) : fast ? exp_nonpositive(z - shift) : exp(z - shift);
    return phi_given_softmax(z, e, norm);
}
inline Halide::Expr exp_le0(const Halide::Expr &x, bool fast) { return fast ? exp_nonpositive(x) : Halide::exp(x); }

// Softmax's e^{z_k - max} of a row of three logits (m = 2) with two exponentials instead of
// three: a = max(z_0, z_1), e1 = e^{-|z_0 - z_1|}, e2 = e^{-|a - z_2|}. Relative to a, the larger
// of z_0, z_1 has 1 and the smaller e1; if z_2 > a, both are scaled by e2 and z_2 has 1, else z_2
// has e2. Ties give 1 to each tied maximum, as e^0 does (z_0 = z_1 = -inf too, where z_0 - z_1 is
// NaN: the row then gives z_2 the whole weight, as e^{z_k - max} does); a NaN logit makes S (and
// so every p of the row) NaN; one +inf logit takes the whole weight (as at m = 1).
inline std::vector<Halide::Expr> softmax3_phi(const std::vector<Halide::Expr> &z, bool fast) {
    using namespace Halide;
    Expr a = max(z[0], z[1]);
    Expr d01 = select(z[0] == z[1], 0.0f, z[0] - z[1]);
    Expr e1 = exp_le0(-abs(d01), fast), e2 = exp_le0(-abs(a - z[2]), fast);
    Expr first = z[0] >= z[1], top = a >= z[2];
    Expr sc = select(top, 1.0f, e2), lo = e1 * sc;
    return {select(first, sc, lo), select(first, lo, sc), select(top, e2, 1.0f)};
}
// φ of every logit of a row of three, for every norm (softmax: softmax3_phi).
inline std::vector<Halide::Expr> phi3(const std::vector<Halide::Expr> &z, const Halide::Expr &norm, bool fast) {
    std::vector<Halide::Expr> e = softmax3_phi(z, fast), ph;
    for (size_t i = 0; i < 3; i++) ph.push_back(phi_given_softmax(z[i], e[i], norm));
    return ph;
}
inline Halide::Expr magnitude(const Halide::Expr &ph, const Halide::Expr &norm) {
    using namespace Halide;
    return select(norm == kTanhL1 || norm == kLinL1, abs(ph), norm == kReluL1, ph + 1e-3f, ph);
}
}  // namespace detail

inline Halide::Expr norm_shift(const std::vector<Halide::Expr> &z, const Halide::Expr &norm, bool fast);
inline Halide::Expr norm_inv(const std::vector<Halide::Expr> &ph, const Halide::Expr &norm);

// The row's other logit where the row has two (m = 1: the one-exponential softmax of detail::phi),
// else undefined. `zk(i)` is logit i of the row; k may be symbolic (then k ∈ {0, 1}).
template<typename F>
Halide::Expr two_logit_other(int logits, const Halide::Expr &k, F zk) {
    return logits == 2 ? zk(1 - k) : Halide::Expr();
}

inline NormStats norm_stats(const std::vector<Halide::Expr> &z, const Halide::Expr &norm, bool fast) {
    Halide::Expr shift = norm_shift(z, norm, fast);
    std::vector<Halide::Expr> ph;
    for (size_t k = 0; k < z.size(); k++) {
        ph.push_back(detail::phi(z[k], shift, norm, fast, z.size() == 2 ? z[1 - k] : Halide::Expr()));
    }
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

// `other`: two_logit_other (the row's other logit where it has two), with st from norm_stats.
inline NormElem norm_elem(const Halide::Expr &z, const NormStats &st, const Halide::Expr &norm, bool fast,
                          const Halide::Expr &other) {
    return norm_elem_from_phi(detail::phi(z, st.shift, norm, fast, other), st.inv, norm);
}

// Per-row pieces for kernels that keep φ of one step in a buffer: the shift (softmax: the row
// max; for a row of two logits e^{-|z_0 - z_1|}, see detail::phi), φ(z_k) and 1/S from the φ of
// the whole row.
inline Halide::Expr norm_shift(const std::vector<Halide::Expr> &z, const Halide::Expr &norm, bool fast) {
    using namespace Halide;
    if (z.size() == 2) {
        Expr d = -abs(z[0] - z[1]);
        return select(norm == kSoftmax, fast ? detail::exp_nonpositive(d) : exp(d), 0.0f);
    }
    Expr mx = z[0];
    for (size_t k = 1; k < z.size(); k++) mx = max(mx, z[k]);
    return select(norm == kSoftmax, mx, 0.0f);
}
// `other`: two_logit_other, with the shift of norm_shift.
inline Halide::Expr norm_phi(const Halide::Expr &z, const Halide::Expr &shift, const Halide::Expr &norm, bool fast,
                             const Halide::Expr &other) {
    return detail::phi(z, shift, norm, fast, other);
}
inline Halide::Expr norm_inv(const std::vector<Halide::Expr> &ph, const Halide::Expr &norm) {
    using namespace Halide;
    Expr S = 0.0f;
    for (const Expr &p : ph) S = S + detail::magnitude(p, norm);
    return select(norm == kNone, 1.0f, 1.0f / S);
}

// The whole row (all m+1 elements), for kernels that unroll over k. A row of three logits (m = 2)
// takes two exponentials (detail::softmax3_phi), a row of two one (detail::phi).
inline std::vector<NormElem> norm_row(const std::vector<Halide::Expr> &z, const Halide::Expr &norm, bool fast) {
    std::vector<Halide::Expr> ph;
    if (z.size() == 3) {
        ph = detail::phi3(z, norm, fast);
    } else {
        Halide::Expr shift = norm_shift(z, norm, fast);
        for (size_t k = 0; k < z.size(); k++) {
            ph.push_back(detail::phi(z[k], shift, norm, fast, z.size() == 2 ? z[1 - k] : Halide::Expr()));
        }
    }
    Halide::Expr inv = norm_inv(ph, norm);
    std::vector<NormElem> out;
    for (const Halide::Expr &p : ph) out.push_back(norm_elem_from_phi(p, inv, norm));
    return out;
}

// A row's statistics as a Tuple, for kernels that compute each element with a symbolic logit
// index k (the pointwise pass of the two-pass and chunked backwards); norm_elem_of_row reads them.
// A row of three logits keeps its three φ and 1/S (detail::softmax3_phi, two exponentials), other
// rows their shift and 1/S (norm_stats).
inline Halide::Tuple norm_row_stats(const std::vector<Halide::Expr> &z, const Halide::Expr &norm, bool fast) {
    if (z.size() == 3) {
        std::vector<Halide::Expr> ph = detail::phi3(z, norm, fast);
        return Halide::Tuple(ph[0], ph[1], ph[2], norm_inv(ph, norm));
    }
    NormStats st = norm_stats(z, norm, fast);
    return Halide::Tuple(st.shift, st.inv);
}
// Element k of a row of `logits` logits from its norm_row_stats `r`; `zk` is logit k, `other`
// two_logit_other's.
inline NormElem norm_elem_of_row(const Halide::FuncRef &r, int logits, const Halide::Expr &k, const Halide::Expr &zk,
                                 const Halide::Expr &other, const Halide::Expr &norm, bool fast) {
    if (logits == 3) return norm_elem_from_phi(Halide::mux(k, {r[0], r[1], r[2]}), r[3], norm);
    return norm_elem(zk, NormStats{r[0], r[1]}, norm, fast, other);
}

// One step's gates as a backward reads them (StepGates, scan_pipelines.h), one row per `row`
// point: G.rstat(row), G.pstep(k, row...) = φ(z_k), G.rinv(row) = 1/S. `zk` is logit k of the
// row (k symbolic), `other` two_logit_other's. A row of two logits keeps e^{-|z_0 - z_1|} in
// rstat (detail::phi); a row of three keeps its three φ (detail::softmax3_phi, two exponentials)
// and pstep, left inline (phi_in_rstat), picks one out; longer rows keep the row max.
template<typename Gates>
void define_step_gates(Gates &G, const std::vector<Halide::Var> &row, const Halide::Var &k,
                       const std::vector<Halide::Expr> &logits, const Halide::Expr &zk, const Halide::Expr &other,
                       const Halide::Expr &norm, bool fast) {
    using namespace Halide;
    std::vector<Var> krow{k};
    krow.insert(krow.end(), row.begin(), row.end());
    std::vector<Expr> phis;
    if (logits.size() == 3) {
        G.rstat(row) = Tuple(detail::phi3(logits, norm, fast));
        FuncRef r = G.rstat(row);
        G.pstep(krow) = mux(k, {r[0], r[1], r[2]});
        G.phi_in_rstat = true;
        phis = {r[0], r[1], r[2]};
    } else {
        G.rstat(row) = norm_shift(logits, norm, fast);
        G.pstep(krow) = norm_phi(zk, G.rstat(row), norm, fast, other);
        for (size_t kk = 0; kk < logits.size(); kk++) {
            std::vector<Expr> a{(int)kk};
            a.insert(a.end(), row.begin(), row.end());
            phis.push_back(G.pstep(a));
        }
    }
    G.rinv(row) = norm_inv(phis, norm);
}

inline std::vector<Halide::Expr> norm_row_p(const std::vector<Halide::Expr> &z, const Halide::Expr &norm, bool fast) {
    std::vector<Halide::Expr> p;
    for (const auto &e : norm_row(z, norm, fast)) p.push_back(e.p);
    return p;
}

}  // namespace statemix::gen
