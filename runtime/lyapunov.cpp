#include "lyapunov.h"

#include "dispatch.h"
#include "reference/rnn_reference.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace statemix {

namespace {

std::vector<double> host_values(const Tensor &t) {
    Tensor c = t.device() == Device::cpu ? t : t.to(Device::cpu);
    return std::vector<double>(c.data(), c.data() + c.numel());
}

ref::RnnResidual<double> reference_residual(const Residual &r) {
    ref::RnnResidual<double> out;
    out.kind = (ref::Residual)((int)r.kind + 1);  // ref::Residual starts with `none`
    if (r.a.defined()) out.a = host_values(r.a);
    if (r.theta.defined()) out.theta = host_values(r.theta);
    if (r.Q.defined()) out.Q = host_values(r.Q);
    if (out.a.empty()) out.a = {1.0};
    return out;
}

}  // namespace

LyapunovSpectrum lyapunov_spectrum(const WcrnnConfig &cfg, const Tensor &u, const Tensor &W, const Tensor *h0,
                                   const LyapunovOptions &opt) {
    const std::string op = "lyapunov";
    RnnDims d = wcrnn_dims(op, u, W);
    check_residual(op, cfg.residual, d.H);
    if (h0) dispatch::check_shape(op, "h0", *h0, {d.B, d.H}, "[B,H]");
    if (opt.warmup < 0 || opt.warmup >= d.T) {
        throw Error(op + ": argument 'warmup' must be in [0, T) with T = " + std::to_string(d.T) + ", got " +
                    std::to_string(opt.warmup));
    }
    const int64_t k = opt.num_exponents > 0 ? opt.num_exponents : d.H;
    if (k > d.H) {
        throw Error(op + ": argument 'num_exponents' must be <= H = " + std::to_string(d.H) + ", got " + std::to_string(k));
    }
    const ref::RnnResidual<double> res = reference_residual(cfg.residual);
    const ref::Activation act = (ref::Activation)(int)cfg.act;
    const double eps = cfg.eps;
    const std::vector<double> uh = host_values(u), Wh = host_values(W);
    const std::vector<double> h0h = h0 ? host_values(*h0) : std::vector<double>((size_t)(d.B * d.H), 0.0);
    const size_t H = (size_t)d.H, K = (size_t)k;

    std::vector<double> sum(K, 0.0);
    std::vector<double> h(H), hn(H), rho(H), a(H), fp(H), Q(K * H), JQ(K * H), Wq(H);
    for (int64_t b = 0; b < d.B; b++) {
        std::copy(h0h.begin() + b * d.H, h0h.begin() + (b + 1) * d.H, h.begin());
        std::fill(Q.begin(), Q.end(), 0.0);
        for (size_t c = 0; c < K; c++) Q[c * H + c] = 1.0;  // column c is Q[c*H .. c*H+H)
        for (int64_t t = 0; t < d.T; t++) {
            const double *ut = uh.data() + (size_t)(b * d.T + t) * H;
            for (size_t i = 0; i < H; i++) {
                double acc = ut[i];
                for (size_t j = 0; j < H; j++) acc += Wh[i * H + j] * h[j];
                a[i] = acc;
                fp[i] = eps * ref::act_df(act, acc);
            }
            res.apply((int)H, h.data(), rho.data());
            for (size_t i = 0; i < H; i++) hn[i] = rho[i] + eps * ref::act_f(act, a[i]);
            // JQ = Jρ(h_{t-1})·Q + diag(ε f'(a_t))·W·Q
            for (size_t c = 0; c < K; c++) {
                const double *q = Q.data() + c * H;
                double *out = JQ.data() + c * H;
                res.jvp((int)H, h.data(), q, out);
                for (size_t i = 0; i < H; i++) {
                    double acc = 0;
                    for (size_t j = 0; j < H; j++) acc += Wh[i * H + j] * q[j];
                    out[i] += fp[i] * acc;
                }
            }
            // Modified Gram-Schmidt, two passes; r_cc > 0 by construction.
            for (size_t c = 0; c < K; c++) {
                double *v = JQ.data() + c * H;
                for (int pass = 0; pass < 2; pass++) {
                    for (size_t p = 0; p < c; p++) {
                        const double *qp = JQ.data() + p * H;
                        double dot = 0;
                        for (size_t i = 0; i < H; i++) dot += qp[i] * v[i];
                        for (size_t i = 0; i < H; i++) v[i] -= dot * qp[i];
                    }
                }
                double nrm = 0;
                for (size_t i = 0; i < H; i++) nrm += v[i] * v[i];
                nrm = std::sqrt(nrm);
                if (t >= opt.warmup) sum[c] += std::log(nrm);
                for (size_t i = 0; i < H; i++) v[i] /= nrm;
            }
            std::swap(Q, JQ);
            std::swap(h, hn);
        }
    }
    LyapunovSpectrum s;
    s.steps = d.T - opt.warmup;
    s.batch_rows = d.B;
    for (double x : sum) s.exponents.push_back(x / (double)(s.steps * d.B));
    std::sort(s.exponents.begin(), s.exponents.end(), std::greater<double>());
    for (double l : s.exponents) s.timescales.push_back(l < 0 ? -1.0 / l : std::numeric_limits<double>::infinity());
    return s;
}

LyapunovSpectrum elman_lyapunov_spectrum(Activation act, const Tensor &u, const Tensor &W, const Tensor *h0,
                                         const LyapunovOptions &opt) {
    WcrnnConfig cfg;
    cfg.residual.kind = ResidualKind::scalar;
    const float zero = 0.0f;
    cfg.residual.a = Tensor::from_host({1}, &zero);
    cfg.eps = 1.0f;
    cfg.act = act;
    return lyapunov_spectrum(cfg, u, W, h0, opt);
}

}  // namespace statemix
