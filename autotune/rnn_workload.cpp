// The RNN cores' side of the search (Elman, WCRNN, LSTM on the CPU; spec §7-§8): one problem per
// (layer, m, bucket) whose op runs with a candidate in place of the build's kernel
// (dispatch::ScopedKernelOverride: the op's automatic choice takes the candidate, step kernel or
// one launch), and the float64 check of a candidate (reference/rnn_reference.h).
#include "search.h"

#include "reference/rnn_reference.h"
#include "rnn_stepped.h"
#include "statemix.h"

#include <cmath>
#include <cstring>
#include <random>

namespace statemix::tune {

namespace {

std::vector<double> host_doubles(const Tensor &t) { return std::vector<double>(t.data(), t.data() + t.numel()); }

Tensor normal_tensor(const Shape &s, std::mt19937 &rng, float stddev) {
    Tensor t = Tensor::empty(s);
    std::normal_distribution<float> nd(0.f, stddev);
    for (int64_t i = 0; i < t.numel(); i++) t.data()[i] = nd(rng);
    return t;
}

ref::RnnResidual<double> to_ref(const Residual &r) {
    ref::RnnResidual<double> out;
    out.kind = (ref::Residual)((int)r.kind + 1);
    if (r.a.defined()) out.a = host_doubles(r.a);
    if (r.theta.defined()) out.theta = host_doubles(r.theta);
    if (r.Q.defined()) out.Q = host_doubles(r.Q);
    return out;
}

// The problem: inputs, a forward's results (for the backward) and the outputs, on the CPU.
class RnnWorkload : public Workload {
public:
    RnnWorkload(const KernelKey &k, int64_t B, int64_t T, int64_t H, unsigned seed) : key_(k), B_(B), T_(T), H_(H) {
        const int64_t G = k.layer == "lstm" ? 4 : 1;
        std::mt19937 rng(seed);
        u_ = normal_tensor({B, T, G * H}, rng, 1.f);
        W_ = normal_tensor({G * H, H}, rng, 0.9f / std::sqrt((float)H));
        h0_ = normal_tensor({B, H}, rng, 0.5f);
        c0_ = normal_tensor({B, H}, rng, 0.5f);
        g_ = normal_tensor({B, T, H}, rng, 1.f);
        gf_ = normal_tensor({B, H}, rng, 1.f);
        gcf_ = normal_tensor({B, H}, rng, 1.f);
        if (k.layer == "wcrnn") {
            ResidualInit init;
            init.kind = k.m == 2 ? ResidualKind::rotation : ResidualKind::orthogonal;
            init.a = 0.95;
            cfg_.residual = make_residual(init, H, seed + 1);
            coeffs_ = residual_coeffs(cfg_.residual, H, Device::cpu);
        }
        // The forward's results with the build's kernels (the backward reads them).
        if (k.layer == "lstm") {
            lstm_ = lstm_forward(u_, W_, &h0_, &c0_);
        } else {
            h_ = Tensor::empty({B, T, H});
            hf_ = Tensor::empty({B, H});
            forward_once();
        }
        if (k.layer == "lstm" && k.direction == "backward") lstm_grads_ = lstm_backward(lstm_.z, W_, &h0_, &c0_, lstm_.h, lstm_.c, g_, &gf_, &gcf_);
        if (k.layer == "elman" && k.direction == "backward") elman_grads_ = elman_backward(u_, W_, &h0_, h_, g_, &gf_);
        // Bytes a run must move: its inputs and outputs once; the multiply-adds: the mat-vecs
        // (a backward's adjoint mat-vec and weight gradient: twice the forward's).
        // The WCRNN with a dense residual multiplies by W and by R every step.
        const double mats = k.layer == "wcrnn" && k.m == 0 ? 2 : (double)G;
        const double elems = (double)B * T * H, mv = 2.0 * B * T * H * H * mats;
        const bool bwd = k.direction == "backward";
        if (k.layer == "lstm") {
            bytes = 4 * elems * (bwd ? 4 + 2 + 1 + 4 : 4 + 2 + (k.direction == "forward_train" ? 4 : 0));
        } else {
            bytes = 4 * elems * (bwd ? 3 + 1 : 2);
        }
        flops = bwd ? 2 * mv : mv;
    }

    void run(const KernelEntry &k) override {
        dispatch::ScopedKernelOverride use(k);
        stepped::set_cpu_impl(stepped::Impl::automatic);
        const char *dir = stepped::op_direction(k.direction);
        if (key_.layer == "lstm") {
            if (!std::strcmp(dir, "backward")) {
                lstm_backward(lstm_.z, W_, &h0_, &c0_, lstm_.h, lstm_.c, g_, &gf_, &gcf_, lstm_grads_);
            } else {
                LstmForwardResult &r = lstm_;
                if (std::strcmp(dir, "forward_train")) {  // inference: no z
                    LstmForwardResult inf{r.h, r.c, r.h_final, r.c_final, Tensor()};
                    lstm_forward(u_, W_, &h0_, &c0_, inf);
                } else {
                    lstm_forward(u_, W_, &h0_, &c0_, r);
                }
            }
        } else if (!std::strcmp(dir, "backward")) {
            elman_backward(u_, W_, &h0_, h_, g_, &gf_, elman_grads_);
        } else {
            forward_once();
        }
        stepped::clear_cpu_impl();
    }

    // The candidate's outputs against float64 (relative to the largest reference value).
    double check(const KernelEntry &k) {
        run(k);
        const int B = (int)B_, T = (int)T_, H = (int)H_;
        const auto u = host_doubles(u_), W = host_doubles(W_), h0 = host_doubles(h0_), c0 = host_doubles(c0_),
                   g = host_doubles(g_), gf = host_doubles(gf_), gcf = host_doubles(gcf_);
        std::vector<double> h((size_t)B * T * H), c(h.size()), hf((size_t)B * H), cf(hf.size());
        const bool bwd = key_.direction == "backward";
        if (key_.layer == "lstm") {
            if (!bwd) {
                ref::lstm_forward(B, T, H, u.data(), W.data(), h0.data(), c0.data(), h.data(), c.data(), hf.data(), cf.data());
                return std::max({rel_error(lstm_.h, h), rel_error(lstm_.c, c), rel_error(lstm_.h_final, hf),
                                 rel_error(lstm_.c_final, cf)});
            }
            std::vector<double> du(u.size()), dW(W.size()), dh0(h0.size()), dc0(c0.size());
            ref::lstm_backward(B, T, H, u.data(), W.data(), h0.data(), c0.data(), g.data(), gf.data(), gcf.data(), du.data(),
                               dW.data(), dh0.data(), dc0.data());
            return std::max({rel_error(lstm_grads_.du, du), rel_error(lstm_grads_.dW, dW), rel_error(lstm_grads_.dh0, dh0),
                             rel_error(lstm_grads_.dc0, dc0)});
        }
        if (bwd) {  // Elman
            std::vector<double> du(u.size()), dW(W.size()), dh0(h0.size());
            ref::elman_backward(B, T, H, u.data(), W.data(), h0.data(), g.data(), gf.data(), du.data(), dW.data(), dh0.data());
            return std::max({rel_error(elman_grads_.du, du), rel_error(elman_grads_.dW, dW), rel_error(elman_grads_.dh0, dh0)});
        }
        if (key_.layer == "elman") {
            ref::elman_forward(B, T, H, u.data(), W.data(), h0.data(), h.data(), hf.data());
        } else {
            ref::wcrnn_forward(B, T, H, to_ref(cfg_.residual), (double)cfg_.eps, ref::Activation::tanh, u.data(), W.data(),
                               h0.data(), h.data(), hf.data());
        }
        return std::max(rel_error(h_, h), rel_error(hf_, hf));
    }

private:
    void forward_once() {
        if (key_.layer == "elman") elman_forward(u_, W_, &h0_, h_, hf_);
        else wcrnn_forward(cfg_, u_, W_, &h0_, h_, hf_, &coeffs_);
    }

    static double rel_error(const Tensor &got, const std::vector<double> &want) {
        double scale = 1, err = 0;
        for (double w : want) scale = std::max(scale, std::abs(w));
        for (size_t i = 0; i < want.size(); i++) {
            const double e = std::abs((double)got.data()[i] - want[i]);
            if (!(e <= err)) err = std::isnan(e) ? INFINITY : e;
        }
        return err / scale;
    }

    KernelKey key_;
    int64_t B_, T_, H_;
    Tensor u_, W_, h0_, c0_, g_, gf_, gcf_, h_, hf_;
    WcrnnConfig cfg_;
    ResidualCoeffs coeffs_;
    LstmForwardResult lstm_;
    ElmanGrads elman_grads_;
    LstmGrads lstm_grads_;
};

}  // namespace

std::unique_ptr<Workload> make_rnn_workload(const KernelKey &k, int64_t B, int64_t T, int64_t H, unsigned seed) {
    return std::make_unique<RnnWorkload>(k, B, T, H, seed);
}

double check_rnn_against_reference(const KernelKey &k, const KernelEntry &kernel) {
    // Ragged shapes: H off the unit tiles (32; the LSTM's 16) and the vector width (even: the
    // WCRNN's rotation residual pairs units), a prime T, B = 1.
    double worst = 0;
    unsigned seed = 11;
    for (auto [B, T, H] : std::vector<std::array<int64_t, 3>>{{3, 13, 38}, {1, 1, 18}, {2, 5, 70}}) {
        RnnWorkload w(k, B, T, H, seed++);
        worst = std::max(worst, w.check(kernel));
    }
    return worst;
}

Params rnn_default_params(const KernelKey &k, int64_t B, int64_t H) {
    // What the runtime runs at this shape without a database entry: the rule's implementation
    // with the build's knobs.
    const bool stepped = stepped::rule_picks_stepped(k.layer.c_str(), k.direction.c_str(), B, H);
    Params want{{"impl", stepped ? "stepped" : "scan"}};
    const std::string dir = generator_name(k, want).substr(k.layer.size() + 1);
    for (int i = 0; i < kKernelTableSize; i++) {
        const KernelEntry &e = kKernelTable[i];
        if (e.layer == k.layer && e.direction == dir && !std::strcmp(e.device, "cpu") && e.m == k.m) {
            Params p = parse_params(e.params);
            p["impl"] = want["impl"];
            return normalize_rnn_params(p);
        }
    }
    return {};
}

}  // namespace statemix::tune
