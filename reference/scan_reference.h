// Plain, obviously-correct reference implementation of the H-LRU and BD-LRU
// layers (forward and backward), written straight from the spec
// /work/shared/spec/layers.md sections 1-5.
//
// Header-only, templated on the scalar type (float64 in tests, float32 in
// benchmarks). Nothing here is fast: loops are written in the order of the
// definitions and every backward call recomputes what it needs.
//
// Layouts (row-major / C order, contiguous):
//   BD-LRU: z [B,T,N,m,m+1], v [B,T,N,m], h0 [B,N,m],
//           h [B,T,N,m], h_final [B,N,m];
//           backward: g [B,T,N,m] = dL/dh, g_final [B,N,m] = dL/dh_final,
//           dz / dv / dh0 shaped like z / v / h0.
//   H-LRU:  z [B,T,N,m+1], v [B,T,N], h0 [B,N,m] with h0[b,n,i] = s_{-1-i}
//           (0-indexed time, s_{-1} is the most recent value before s_0),
//           s [B,T,N], h_final [B,N,m] with h_final[b,n,i] = s_{T-1-i}
//           (taken from h0 when T-1-i < 0);
//           backward: g [B,T,N] = dL/ds, g_final [B,N,m] = dL/dh_final,
//           dz / dv / dh0 shaped like z / v / h0.
//
// Optional pointers: h0 and g_final may be nullptr (meaning zeros); h_final
// and dh0 may be nullptr (not written).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace statemix {
namespace ref {

enum class Norm { softmax = 0, sigmoid_l1 = 1, relu_l1 = 2, tanh_l1 = 3, lin_l1 = 4, none = 5 };

namespace detail {

// Every variant except `none` has the form
//     p_k = f(z_k) / S,   S = sum_j w(z_j)
// The functions below give f, f', w, w' for each variant (softmax uses the
// row max M as a constant shift: exp(z - M); p does not depend on M, so
// treating it as a constant in the Jacobian is exact).
template <typename T>
T f_val(Norm norm, T z, T M) {
    switch (norm) {
    case Norm::softmax: return std::exp(z - M);
    case Norm::sigmoid_l1: return T(1) / (T(1) + std::exp(-z));
    case Norm::relu_l1: return z > T(0) ? z : T(0);
    case Norm::tanh_l1: return std::tanh(z);
    case Norm::lin_l1: return z;
    case Norm::none: return z;
    }
    return z;
}

template <typename T>
T f_der(Norm norm, T z, T M) {
    switch (norm) {
    case Norm::softmax: return std::exp(z - M);
    case Norm::sigmoid_l1: {
        T s = T(1) / (T(1) + std::exp(-z));
        return s * (T(1) - s);
    }
    case Norm::relu_l1: return z > T(0) ? T(1) : T(0);
    case Norm::tanh_l1: {
        T th = std::tanh(z);
        return T(1) - th * th;
    }
    case Norm::lin_l1: return T(1);
    case Norm::none: return T(1);
    }
    return T(1);
}

template <typename T>
T sgn(T x) {
    return x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0));
}

template <typename T>
T w_val(Norm norm, T z, T M) {
    switch (norm) {
    case Norm::softmax: return std::exp(z - M);
    case Norm::sigmoid_l1: return T(1) / (T(1) + std::exp(-z));
    case Norm::relu_l1: return (z > T(0) ? z : T(0)) + T(1e-3);
    case Norm::tanh_l1: return std::abs(std::tanh(z));
    case Norm::lin_l1: return std::abs(z);
    case Norm::none: return T(1);
    }
    return T(1);
}

template <typename T>
T w_der(Norm norm, T z, T M) {
    switch (norm) {
    case Norm::softmax: return std::exp(z - M);
    case Norm::sigmoid_l1: {
        T s = T(1) / (T(1) + std::exp(-z));
        return s * (T(1) - s);
    }
    case Norm::relu_l1: return z > T(0) ? T(1) : T(0);
    case Norm::tanh_l1: {
        T th = std::tanh(z);
        return sgn(th) * (T(1) - th * th);
    }
    case Norm::lin_l1: return sgn(z);
    case Norm::none: return T(0);
    }
    return T(0);
}

template <typename T>
T row_max(const T *z, int K) {
    T M = z[0];
    for (int k = 1; k < K; ++k) M = std::max(M, z[k]);
    return M;
}

}  // namespace detail

// p = norm(z), one row of K = m+1 logits.
template <typename T>
void normalize_row(const T *z, int K, Norm norm, T *p) {
    if (norm == Norm::none) {
        for (int k = 0; k < K; ++k) p[k] = z[k];
        return;
    }
    const T M = norm == Norm::softmax ? detail::row_max(z, K) : T(0);
    T S = T(0);
    for (int j = 0; j < K; ++j) S += detail::w_val(norm, z[j], M);
    for (int k = 0; k < K; ++k) p[k] = detail::f_val(norm, z[k], M) / S;
}

// dz = J^T dp with J[k][j] = d p_k / d z_j, built explicitly from the quotient
// rule on p_k = f(z_k) / S:
//     J[k][j] = [k == j] f'(z_k) / S  -  f(z_k) w'(z_j) / S^2
// (for `none`, J is the identity). Deliberately not the softmax shortcut.
template <typename T>
void normalize_row_backward(const T *z, int K, Norm norm, const T *dp, T *dz) {
    if (norm == Norm::none) {
        for (int k = 0; k < K; ++k) dz[k] = dp[k];
        return;
    }
    const T M = norm == Norm::softmax ? detail::row_max(z, K) : T(0);
    T S = T(0);
    for (int j = 0; j < K; ++j) S += detail::w_val(norm, z[j], M);
    std::vector<T> J(static_cast<size_t>(K) * K);
    for (int k = 0; k < K; ++k) {
        const T fk = detail::f_val(norm, z[k], M);
        for (int j = 0; j < K; ++j) {
            T d = -fk * detail::w_der(norm, z[j], M) / (S * S);
            if (j == k) d += detail::f_der(norm, z[k], M) / S;
            J[static_cast<size_t>(k) * K + j] = d;
        }
    }
    for (int j = 0; j < K; ++j) {
        T acc = T(0);
        for (int k = 0; k < K; ++k) acc += J[static_cast<size_t>(k) * K + j] * dp[k];
        dz[j] = acc;
    }
}

// ---------------------------------------------------------------------------
// BD-LRU
// ---------------------------------------------------------------------------

// h_t[n,j] = sum_i p_t[n,j,i] h_{t-1}[n,i] + p_t[n,j,m] v_t[n,j],
// p_t[n,j,:] = norm(z_t[n,j,:]), h_{-1} = h0, h_final = h_{T-1}.
template <typename T>
void bdlru_forward(int B, int T_, int N, int m, Norm norm, const T *z, const T *v, const T *h0,
                   T *h, T *h_final) {
    const int K = m + 1;
    std::vector<T> prev(static_cast<size_t>(N) * m), cur(static_cast<size_t>(N) * m);
    std::vector<T> p(K);
    for (int b = 0; b < B; ++b) {
        for (int q = 0; q < N * m; ++q) prev[q] = h0 ? h0[static_cast<size_t>(b) * N * m + q] : T(0);
        for (int t = 0; t < T_; ++t) {
            const size_t bt = static_cast<size_t>(b) * T_ + t;
            for (int n = 0; n < N; ++n) {
                for (int j = 0; j < m; ++j) {
                    const T *zr = z + ((bt * N + n) * m + j) * K;
                    normalize_row(zr, K, norm, p.data());
                    T acc = T(0);
                    for (int i = 0; i < m; ++i) acc += p[i] * prev[static_cast<size_t>(n) * m + i];
                    acc += p[m] * v[(bt * N + n) * m + j];
                    cur[static_cast<size_t>(n) * m + j] = acc;
                }
            }
            for (int q = 0; q < N * m; ++q) {
                h[bt * N * m + q] = cur[q];
                prev[q] = cur[q];
            }
        }
        if (h_final)
            for (int q = 0; q < N * m; ++q) h_final[static_cast<size_t>(b) * N * m + q] = prev[q];
    }
}

// Reverse-mode BPTT. lambda_{T-1} = g_{T-1} + g_final,
// lambda_{t} = g_t + A_{t+1}^T lambda_{t+1}, dh0 = A_0^T lambda_0.
template <typename T>
void bdlru_backward(int B, int T_, int N, int m, Norm norm, const T *z, const T *v, const T *h0,
                    const T *g, const T *g_final, T *dz, T *dv, T *dh0) {
    const int K = m + 1;
    const size_t NM = static_cast<size_t>(N) * m;
    // Forward states, recomputed.
    std::vector<T> h(static_cast<size_t>(B) * T_ * NM);
    bdlru_forward<T>(B, T_, N, m, norm, z, v, h0, h.data(), nullptr);

    std::vector<T> lam(NM), lam_prev(NM), hprev(NM);
    std::vector<T> p(K), dp(K), dzr(K);
    for (int b = 0; b < B; ++b) {
        // Contribution of h_final = h_{T-1}.
        for (size_t q = 0; q < NM; ++q) lam[q] = g_final ? g_final[b * NM + q] : T(0);
        for (int t = T_ - 1; t >= 0; --t) {
            const size_t bt = static_cast<size_t>(b) * T_ + t;
            for (size_t q = 0; q < NM; ++q) lam[q] += g[bt * NM + q];  // lam = dL/dh_t (total)
            // h_{t-1}
            for (size_t q = 0; q < NM; ++q)
                hprev[q] = t > 0 ? h[(bt - 1) * NM + q] : (h0 ? h0[b * NM + q] : T(0));
            std::fill(lam_prev.begin(), lam_prev.end(), T(0));
            for (int n = 0; n < N; ++n) {
                for (int j = 0; j < m; ++j) {
                    const size_t row = (bt * N + n) * m + j;
                    const T *zr = z + row * K;
                    normalize_row(zr, K, norm, p.data());
                    const T l = lam[static_cast<size_t>(n) * m + j];
                    // h_t[n,j] = sum_i p_i hprev[n,i] + p_m v
                    for (int i = 0; i < m; ++i) dp[i] = l * hprev[static_cast<size_t>(n) * m + i];
                    dp[m] = l * v[row];
                    normalize_row_backward(zr, K, norm, dp.data(), dzr.data());
                    for (int k = 0; k < K; ++k) dz[row * K + k] = dzr[k];
                    dv[row] = l * p[m];
                    for (int i = 0; i < m; ++i) lam_prev[static_cast<size_t>(n) * m + i] += l * p[i];
                }
            }
            lam.swap(lam_prev);  // now lam = A_t^T lambda_t (contribution to dL/dh_{t-1})
        }
        if (dh0)
            for (size_t q = 0; q < NM; ++q) dh0[b * NM + q] = lam[q];
    }
}

// ---------------------------------------------------------------------------
// H-LRU
// ---------------------------------------------------------------------------

// s_t = sum_{k=1..m} p_t[k-1] s_{t-k} + p_t[m] v_t, with s_{-1-i} = h0[i].
// Internally the sequence is held in an extended array ext[0 .. T+m-1] with
// ext[tau + m] = s_tau for tau = -m .. T-1.
template <typename T>
void hlru_forward(int B, int T_, int N, int m, Norm norm, const T *z, const T *v, const T *h0,
                  T *s, T *h_final) {
    const int K = m + 1;
    std::vector<T> ext(static_cast<size_t>(T_) + m);
    std::vector<T> p(K);
    for (int b = 0; b < B; ++b) {
        for (int n = 0; n < N; ++n) {
            const size_t bn = static_cast<size_t>(b) * N + n;
            for (int i = 0; i < m; ++i) ext[m - 1 - i] = h0 ? h0[bn * m + i] : T(0);
            for (int t = 0; t < T_; ++t) {
                const size_t btn = (static_cast<size_t>(b) * T_ + t) * N + n;
                normalize_row(z + btn * K, K, norm, p.data());
                T acc = T(0);
                for (int k = 1; k <= m; ++k) acc += p[k - 1] * ext[t + m - k];  // s_{t-k}
                acc += p[m] * v[btn];
                ext[t + m] = acc;
                s[btn] = acc;
            }
            if (h_final)
                for (int i = 0; i < m; ++i) h_final[bn * m + i] = ext[T_ - 1 - i + m];  // s_{T-1-i}
        }
    }
}

// Reverse-mode BPTT on the scalar sequence. lam[tau + m] accumulates dL/ds_tau:
// g_tau, the g_final entries that name s_tau, and, from every later step t that
// read s_tau as lag k = t - tau, lam_t * p_t[k-1]. Entries with tau < 0 end up
// in dh0.
template <typename T>
void hlru_backward(int B, int T_, int N, int m, Norm norm, const T *z, const T *v, const T *h0,
                   const T *g, const T *g_final, T *dz, T *dv, T *dh0) {
    const int K = m + 1;
    std::vector<T> ext(static_cast<size_t>(T_) + m), lam(static_cast<size_t>(T_) + m);
    std::vector<T> p(K), dp(K), dzr(K);
    for (int b = 0; b < B; ++b) {
        for (int n = 0; n < N; ++n) {
            const size_t bn = static_cast<size_t>(b) * N + n;
            // Recompute the sequence (same as the forward).
            for (int i = 0; i < m; ++i) ext[m - 1 - i] = h0 ? h0[bn * m + i] : T(0);
            for (int t = 0; t < T_; ++t) {
                const size_t btn = (static_cast<size_t>(b) * T_ + t) * N + n;
                normalize_row(z + btn * K, K, norm, p.data());
                T acc = T(0);
                for (int k = 1; k <= m; ++k) acc += p[k - 1] * ext[t + m - k];
                acc += p[m] * v[btn];
                ext[t + m] = acc;
            }
            // Direct gradients.
            std::fill(lam.begin(), lam.end(), T(0));
            for (int t = 0; t < T_; ++t) lam[t + m] += g[(static_cast<size_t>(b) * T_ + t) * N + n];
            if (g_final)
                for (int i = 0; i < m; ++i) lam[T_ - 1 - i + m] += g_final[bn * m + i];
            // Reverse sweep.
            for (int t = T_ - 1; t >= 0; --t) {
                const size_t btn = (static_cast<size_t>(b) * T_ + t) * N + n;
                const T *zr = z + btn * K;
                normalize_row(zr, K, norm, p.data());
                const T l = lam[t + m];  // complete: all later steps already processed
                for (int k = 1; k <= m; ++k) dp[k - 1] = l * ext[t + m - k];
                dp[m] = l * v[btn];
                normalize_row_backward(zr, K, norm, dp.data(), dzr.data());
                for (int k = 0; k < K; ++k) dz[btn * K + k] = dzr[k];
                dv[btn] = l * p[m];
                for (int k = 1; k <= m; ++k) lam[t + m - k] += l * p[k - 1];
            }
            if (dh0)
                for (int i = 0; i < m; ++i) dh0[bn * m + i] = lam[m - 1 - i];  // dL/ds_{-1-i}
        }
    }
}

}  // namespace ref
}  // namespace statemix
