// Plain, obviously-correct reference implementation of the nonlinear recurrences: WCRNN with
// every residual type, the Elman RNN and the LSTM, forward and backward (BPTT), written straight
// from /work/shared/spec/layers.md §7-§8.
//
// Header-only, templated on the scalar type (float64 in tests and in the Lyapunov analysis).
// Nothing here is fast: loops follow the equations, the backward recomputes the forward.
//
// Layouts (row-major, contiguous):
//   WCRNN / Elman: u [B,T,H] (the drive U x_t + b), W [H,H], h0 [B,H], h [B,T,H], h_final [B,H];
//                  backward: g [B,T,H] = dL/dh, g_final [B,H] = dL/dh_final;
//                  du / dW / dh0 shaped like u / W / h0.
//   LSTM:          u [B,T,4H] (gate drives, order i, f, g, o), W [4H,H], h0, c0 [B,H],
//                  h, c [B,T,H], h_final, c_final [B,H]; backward adds gc_final = dL/dc_final.
// Optional pointers: h0, c0, g_final, gc_final may be nullptr (zeros); h_final, c_final, dh0,
// dc0, da, dtheta may be nullptr (not written).
#pragma once

#include <cmath>
#include <cstddef>
#include <vector>

namespace statemix {
namespace ref {

// `none` is the Elman RNN's (ρ = 0); the others are spec §7's table.
enum class Residual { none, identity, scalar, diagonal, rotation, orthogonal, nonlinear };
enum class Activation { tanh = 0, relu = 1 };

template <typename T>
T act_f(Activation act, T a) {
    if (act == Activation::relu) return a < T(0) ? T(0) : a;  // NaN stays NaN
    return std::tanh(a);
}

template <typename T>
T act_df(Activation act, T a) {
    if (act == Activation::relu) return a > T(0) ? T(1) : T(0);
    T th = std::tanh(a);
    return T(1) - th * th;
}

// The residual ρ and its derivatives.
//   scalar, rotation, orthogonal: a has 1 entry; diagonal: H; nonlinear: 1 or H.
//   rotation: theta [H/2], block k acts on (h_{2k}, h_{2k+1}) as a·[[cos, −sin], [sin, cos]].
//   orthogonal: Q [H,H] row-major, ρ(h) = a·Q·h.   nonlinear: ρ(h)_i = a_i·tanh(h_i).
template <typename T>
struct RnnResidual {
    Residual kind = Residual::identity;
    std::vector<T> a, theta, Q;

    T a_at(int i) const { return a.size() == 1 ? a[0] : a[static_cast<size_t>(i)]; }

    // out = Jρ(h)·v (for the linear residuals, ρ(v)).
    void jvp(int H, const T *h, const T *v, T *out) const {
        for (int i = 0; i < H; ++i) {
            switch (kind) {
            case Residual::none: out[i] = T(0); break;
            case Residual::identity: out[i] = v[i]; break;
            case Residual::scalar:
            case Residual::diagonal: out[i] = a_at(i) * v[i]; break;
            case Residual::rotation: {
                const int k = i / 2;
                const T c = std::cos(theta[k]), s = std::sin(theta[k]);
                out[i] = i % 2 == 0 ? a[0] * (c * v[i] - s * v[i + 1]) : a[0] * (s * v[i - 1] + c * v[i]);
                break;
            }
            case Residual::orthogonal: {
                T acc = T(0);
                for (int k = 0; k < H; ++k) acc += Q[static_cast<size_t>(i) * H + k] * v[k];
                out[i] = a[0] * acc;
                break;
            }
            case Residual::nonlinear: {
                const T th = std::tanh(h[i]);
                out[i] = a_at(i) * (T(1) - th * th) * v[i];
                break;
            }
            }
        }
    }

    // out = ρ(h).
    void apply(int H, const T *h, T *out) const {
        if (kind == Residual::nonlinear) {
            for (int i = 0; i < H; ++i) out[i] = a_at(i) * std::tanh(h[i]);
        } else {
            jvp(H, h, h, out);
        }
    }

    // out += Jρ(h)ᵀ·lam.
    void add_vjp(int H, const T *h, const T *lam, T *out) const {
        switch (kind) {
        case Residual::none: break;
        case Residual::rotation:
            for (int k = 0; k < H / 2; ++k) {
                const T c = std::cos(theta[k]), s = std::sin(theta[k]);
                out[2 * k] += a[0] * (c * lam[2 * k] + s * lam[2 * k + 1]);
                out[2 * k + 1] += a[0] * (-s * lam[2 * k] + c * lam[2 * k + 1]);
            }
            break;
        case Residual::orthogonal:
            for (int k = 0; k < H; ++k) {
                T acc = T(0);
                for (int i = 0; i < H; ++i) acc += Q[static_cast<size_t>(i) * H + k] * lam[i];
                out[k] += a[0] * acc;
            }
            break;
        default: {  // elementwise: Jρ is diagonal
            std::vector<T> e(static_cast<size_t>(H), T(0)), d(static_cast<size_t>(H));
            for (int i = 0; i < H; ++i) {
                e[i] = T(1);
                jvp(H, h, e.data(), d.data());
                out[i] += d[i] * lam[i];
                e[i] = T(0);
            }
        }
        }
    }

    // da += ∂(lamᵀ ρ(h))/∂a (shaped like a), dtheta += ∂(lamᵀ ρ(h))/∂θ (rotation).
    void add_param_grads(int H, const T *h, const T *lam, T *da, T *dtheta) const {
        switch (kind) {
        case Residual::none:
        case Residual::identity: break;
        case Residual::scalar:
        case Residual::diagonal:
            for (int i = 0; i < H; ++i) da[a.size() == 1 ? 0 : i] += lam[i] * h[i];
            break;
        case Residual::nonlinear:
            for (int i = 0; i < H; ++i) da[a.size() == 1 ? 0 : i] += lam[i] * std::tanh(h[i]);
            break;
        case Residual::rotation:
            for (int k = 0; k < H / 2; ++k) {
                const T c = std::cos(theta[k]), s = std::sin(theta[k]);
                const T x = h[2 * k], y = h[2 * k + 1], l0 = lam[2 * k], l1 = lam[2 * k + 1];
                if (da) da[0] += l0 * (c * x - s * y) + l1 * (s * x + c * y);
                if (dtheta) dtheta[k] += a[0] * (l0 * (-s * x - c * y) + l1 * (c * x - s * y));
            }
            break;
        case Residual::orthogonal:
            for (int i = 0; i < H; ++i) {
                T acc = T(0);
                for (int k = 0; k < H; ++k) acc += Q[static_cast<size_t>(i) * H + k] * h[k];
                if (da) da[0] += lam[i] * acc;
            }
            break;
        }
    }
};

// a_t = W h_{t-1} + u_t;  h_t = ρ(h_{t-1}) + eps·f(a_t);  h_{-1} = h0.
// pre (optional, [B,T,H]) receives a_t.
template <typename T>
void wcrnn_forward(int B, int T_, int H, const RnnResidual<T> &res, T eps, Activation act, const T *u,
                   const T *W, const T *h0, T *h, T *h_final, T *pre = nullptr) {
    std::vector<T> prev(static_cast<size_t>(H)), rho(static_cast<size_t>(H));
    for (int b = 0; b < B; ++b) {
        for (int i = 0; i < H; ++i) prev[i] = h0 ? h0[static_cast<size_t>(b) * H + i] : T(0);
        for (int t = 0; t < T_; ++t) {
            const size_t bt = (static_cast<size_t>(b) * T_ + t) * H;
            res.apply(H, prev.data(), rho.data());
            for (int i = 0; i < H; ++i) {
                T a = u[bt + i];
                for (int k = 0; k < H; ++k) a += W[static_cast<size_t>(i) * H + k] * prev[k];
                if (pre) pre[bt + i] = a;
                h[bt + i] = rho[i] + eps * act_f(act, a);
            }
            for (int i = 0; i < H; ++i) prev[i] = h[bt + i];
        }
        if (h_final)
            for (int i = 0; i < H; ++i) h_final[static_cast<size_t>(b) * H + i] = prev[i];
    }
}

// BPTT (spec §7): λ_{T-1} = g_{T-1} + g_final, δ_t = eps·f'(a_t)⊙λ_t,
// λ_{t-1} = g_{t-1} + Jρ(h_{t-1})ᵀλ_t + Wᵀδ_t;  du_t = δ_t, dW = Σ δ_t h_{t-1}ᵀ, dh0 = λ_{-1}.
// da / dtheta (shaped like res.a / res.theta, zeroed here) get the residual's parameter gradients.
template <typename T>
void wcrnn_backward(int B, int T_, int H, const RnnResidual<T> &res, T eps, Activation act, const T *u,
                    const T *W, const T *h0, const T *g, const T *g_final, T *du, T *dW, T *dh0,
                    T *da = nullptr, T *dtheta = nullptr) {
    const size_t n = static_cast<size_t>(B) * T_ * H;
    std::vector<T> h(n), pre(n);
    wcrnn_forward(B, T_, H, res, eps, act, u, W, h0, h.data(), static_cast<T *>(nullptr), pre.data());
    for (size_t q = 0; q < static_cast<size_t>(H) * H; ++q) dW[q] = T(0);
    std::vector<T> da_acc(res.a.size(), T(0)), dth_acc(res.theta.size(), T(0));
    std::vector<T> lam(static_cast<size_t>(H)), next(static_cast<size_t>(H)), delta(static_cast<size_t>(H));
    std::vector<T> hprev(static_cast<size_t>(H));
    for (int b = 0; b < B; ++b) {
        for (int i = 0; i < H; ++i) lam[i] = g_final ? g_final[static_cast<size_t>(b) * H + i] : T(0);
        for (int t = T_ - 1; t >= 0; --t) {
            const size_t bt = (static_cast<size_t>(b) * T_ + t) * H;
            for (int i = 0; i < H; ++i) lam[i] += g[bt + i];  // λ_t complete
            for (int i = 0; i < H; ++i) {
                hprev[i] = t > 0 ? h[bt - H + i] : (h0 ? h0[static_cast<size_t>(b) * H + i] : T(0));
                delta[i] = eps * act_df(act, pre[bt + i]) * lam[i];
                du[bt + i] = delta[i];
            }
            for (int i = 0; i < H; ++i)
                for (int k = 0; k < H; ++k) dW[static_cast<size_t>(i) * H + k] += delta[i] * hprev[k];
            res.add_param_grads(H, hprev.data(), lam.data(), da_acc.data(), dth_acc.data());
            for (int k = 0; k < H; ++k) {
                T acc = T(0);
                for (int i = 0; i < H; ++i) acc += W[static_cast<size_t>(i) * H + k] * delta[i];
                next[k] = acc;
            }
            res.add_vjp(H, hprev.data(), lam.data(), next.data());
            lam = next;  // λ_{t-1} without g_{t-1}
        }
        if (dh0)
            for (int i = 0; i < H; ++i) dh0[static_cast<size_t>(b) * H + i] = lam[i];
    }
    if (da)
        for (size_t q = 0; q < da_acc.size(); ++q) da[q] = da_acc[q];
    if (dtheta)
        for (size_t q = 0; q < dth_acc.size(); ++q) dtheta[q] = dth_acc[q];
}

// Elman RNN (spec §8): h_t = tanh(W h_{t-1} + u_t), the WCRNN with ρ = 0 and ε = 1.
template <typename T>
void elman_forward(int B, int T_, int H, const T *u, const T *W, const T *h0, T *h, T *h_final) {
    RnnResidual<T> none;
    none.kind = Residual::none;
    wcrnn_forward(B, T_, H, none, T(1), Activation::tanh, u, W, h0, h, h_final);
}

template <typename T>
void elman_backward(int B, int T_, int H, const T *u, const T *W, const T *h0, const T *g, const T *g_final,
                    T *du, T *dW, T *dh0) {
    RnnResidual<T> none;
    none.kind = Residual::none;
    wcrnn_backward(B, T_, H, none, T(1), Activation::tanh, u, W, h0, g, g_final, du, dW, dh0);
}

template <typename T>
T sigmoid(T x) {
    return T(1) / (T(1) + std::exp(-x));
}

// LSTM (spec §8): z_t = u_t + W h_{t-1} (4H, gate order i, f, g, o),
// c_t = σ(z_f)⊙c_{t-1} + σ(z_i)⊙tanh(z_g),  h_t = σ(z_o)⊙tanh(c_t).
// zs (optional): the pre-activations z as [4,B,T,H].
template <typename T>
void lstm_forward(int B, int T_, int H, const T *u, const T *W, const T *h0, const T *c0, T *h, T *c,
                  T *h_final, T *c_final, T *zs = nullptr) {
    std::vector<T> hp(static_cast<size_t>(H)), cp(static_cast<size_t>(H)), z(static_cast<size_t>(4) * H);
    for (int b = 0; b < B; ++b) {
        for (int i = 0; i < H; ++i) {
            hp[i] = h0 ? h0[static_cast<size_t>(b) * H + i] : T(0);
            cp[i] = c0 ? c0[static_cast<size_t>(b) * H + i] : T(0);
        }
        for (int t = 0; t < T_; ++t) {
            const size_t bt = static_cast<size_t>(b) * T_ + t;
            for (int j = 0; j < 4 * H; ++j) {
                T a = u[bt * 4 * H + j];
                for (int k = 0; k < H; ++k) a += W[static_cast<size_t>(j) * H + k] * hp[k];
                z[j] = a;
                if (zs) zs[(static_cast<size_t>(j / H) * B * T_ + bt) * H + j % H] = a;
            }
            for (int i = 0; i < H; ++i) {
                const T ig = sigmoid(z[i]), fg = sigmoid(z[H + i]), gg = std::tanh(z[2 * H + i]),
                        og = sigmoid(z[3 * H + i]);
                cp[i] = fg * cp[i] + ig * gg;
                hp[i] = og * std::tanh(cp[i]);
                h[bt * H + i] = hp[i];
                c[bt * H + i] = cp[i];
            }
        }
        for (int i = 0; i < H; ++i) {
            if (h_final) h_final[static_cast<size_t>(b) * H + i] = hp[i];
            if (c_final) c_final[static_cast<size_t>(b) * H + i] = cp[i];
        }
    }
}

// Backward: du = dL/dz [B,T,4H], dW = Σ dz_t h_{t-1}ᵀ, dh0, dc0.
template <typename T>
void lstm_backward(int B, int T_, int H, const T *u, const T *W, const T *h0, const T *c0, const T *g,
                   const T *g_final, const T *gc_final, T *du, T *dW, T *dh0, T *dc0) {
    const size_t n = static_cast<size_t>(B) * T_ * H;
    std::vector<T> h(n), c(n);
    lstm_forward(B, T_, H, u, W, h0, c0, h.data(), c.data(), static_cast<T *>(nullptr), static_cast<T *>(nullptr));
    for (size_t q = 0; q < static_cast<size_t>(4) * H * H; ++q) dW[q] = T(0);
    std::vector<T> lh(static_cast<size_t>(H)), lc(static_cast<size_t>(H)), z(static_cast<size_t>(4) * H),
        dz(static_cast<size_t>(4) * H), hprev(static_cast<size_t>(H)), cprev(static_cast<size_t>(H));
    for (int b = 0; b < B; ++b) {
        for (int i = 0; i < H; ++i) {
            lh[i] = g_final ? g_final[static_cast<size_t>(b) * H + i] : T(0);
            lc[i] = gc_final ? gc_final[static_cast<size_t>(b) * H + i] : T(0);
        }
        for (int t = T_ - 1; t >= 0; --t) {
            const size_t bt = static_cast<size_t>(b) * T_ + t;
            for (int i = 0; i < H; ++i) {
                hprev[i] = t > 0 ? h[(bt - 1) * H + i] : (h0 ? h0[static_cast<size_t>(b) * H + i] : T(0));
                cprev[i] = t > 0 ? c[(bt - 1) * H + i] : (c0 ? c0[static_cast<size_t>(b) * H + i] : T(0));
            }
            for (int j = 0; j < 4 * H; ++j) {
                T a = u[bt * 4 * H + j];
                for (int k = 0; k < H; ++k) a += W[static_cast<size_t>(j) * H + k] * hprev[k];
                z[j] = a;
            }
            for (int i = 0; i < H; ++i) {
                lh[i] += g[bt * H + i];
                const T ig = sigmoid(z[i]), fg = sigmoid(z[H + i]), gg = std::tanh(z[2 * H + i]),
                        og = sigmoid(z[3 * H + i]);
                const T tc = std::tanh(c[bt * H + i]);
                lc[i] += lh[i] * og * (T(1) - tc * tc);
                dz[i] = lc[i] * gg * ig * (T(1) - ig);
                dz[H + i] = lc[i] * cprev[i] * fg * (T(1) - fg);
                dz[2 * H + i] = lc[i] * ig * (T(1) - gg * gg);
                dz[3 * H + i] = lh[i] * tc * og * (T(1) - og);
                lc[i] *= fg;  // the part of dL/dc_{t-1} that flows through c_t
            }
            for (int j = 0; j < 4 * H; ++j) {
                du[bt * 4 * H + j] = dz[j];
                for (int k = 0; k < H; ++k) dW[static_cast<size_t>(j) * H + k] += dz[j] * hprev[k];
            }
            for (int k = 0; k < H; ++k) {
                T acc = T(0);
                for (int j = 0; j < 4 * H; ++j) acc += W[static_cast<size_t>(j) * H + k] * dz[j];
                lh[k] = acc;
            }
        }
        for (int i = 0; i < H; ++i) {
            if (dh0) dh0[static_cast<size_t>(b) * H + i] = lh[i];
            if (dc0) dc0[static_cast<size_t>(b) * H + i] = lc[i];
        }
    }
}

}  // namespace ref
}  // namespace statemix
