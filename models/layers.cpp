#include "layers.h"

#include "runtime/dense_ops.h"
#include "runtime/nn_ops.h"
#include "runtime/rnn_init.h"

#include <chrono>
#include <cmath>

namespace statemix::models {

namespace {

using Clock = std::chrono::steady_clock;

// Times a recurrence kernel call for --profile (a sync first, so CUDA time lands here).
template <class F>
void timed(BranchLayer &l, const Tensor &sync_on, F &&f) {
    if (!l.profile) {
        f();
        return;
    }
    auto t0 = Clock::now();
    f();
    const_cast<Tensor &>(sync_on).sync();
    l.scan_seconds += std::chrono::duration<double>(Clock::now() - t0).count();
}

ParamSpec weight(const std::string &name, Shape shape, double std = 0.02) {
    return ParamSpec{name, std::move(shape), Init::normal, std, true, true, {}};
}
ParamSpec bias(const std::string &name, int64_t n) { return ParamSpec{name, {n}, Init::zeros, 0.0, false, true, {}}; }
// PyTorch's RNN initialisation: U(-1/√H, 1/√H) for the input and recurrent weights.
ParamSpec rnn_weight(const std::string &name, Shape shape, int64_t H) {
    return ParamSpec{name, std::move(shape), Init::uniform, 1.0 / std::sqrt((double)H), true, true, {}};
}
ParamSpec given(const std::string &name, const Tensor &t, bool trainable, bool decay) {
    Tensor c = t.to(Device::cpu);
    return ParamSpec{name, t.shape(), Init::given, 0.0, decay, trainable,
                     std::vector<float>(c.data(), c.data() + c.numel())};
}

// ---------------------------------------------------------------------------------------------
// BD-LRU (spec §2) and H-LRU (§3): x -> v = W_v x, z = W_g x + b_g -> scan -> W_o · (h or lags).
//
// Time-major on the CPU (where the build has time-major kernels for the layer and m): the layer swaps
// its input to [T,B,D] once, runs its products and the scan there ([T,B,...] sequences, whose
// every step is one contiguous stretch: the scans ran 1.7-2.7x faster backward, docs/benchmarks.md),
// and swaps its output (and, backward, dx) back; the rest of the model stays [B,T,D]. The
// products do not care about the order of their rows; only their weight gradients' sums run
// over the rows in another order.
class ScanMixer : public BranchLayer {
public:
    ScanMixer(const MixerConfig &c, int64_t D, ParamStore &ps, const std::string &prefix) : ps_(ps), D_(D) {
        cfg_.layer = parse_layer(c.kind);
        cfg_.m = c.m;
        cfg_.norm = parse_norm(c.norm);
        N_ = c.n;
        const int64_t m = c.m;
        // Per token: BD-LRU v [N,m], z [N,m,m+1]; H-LRU v [N], z [N,m+1]; W_o reads N·m values.
        nv_ = cfg_.layer == Layer::bdlru ? N_ * m : N_;
        nz_ = cfg_.layer == Layer::bdlru ? N_ * m * (m + 1) : N_ * (m + 1);
        W_v_ = ps.add(weight(prefix + ".W_v", {nv_, D}));
        W_g_ = ps.add(weight(prefix + ".W_g", {nz_, D}));
        b_g_ = ps.add(bias(prefix + ".b_g", nz_));
        W_o_ = ps.add(weight(prefix + ".W_o", {D, N_ * m}));
    }

    void plan(Stores &s, int64_t B, int64_t T) override {
        B_ = B;
        T_ = T;
        const int64_t R = B * T, m = cfg_.m;
        Arena &a = *s.acts;
        a_v_ = a.add("v", {R, nv_});
        a_z_ = a.add("z", {R, nz_});
        a_h_ = a.add("h", {R, nv_});
        a_hf_ = a.add("h_final", {B, N_, m});
        if (is_hlru()) a_lags_ = a.add("lags", {R, N_ * m});
        can_tm_ = has_time_major(cfg_.layer, (int)m, Device::cpu);
        if (can_tm_) {
            a_xt_ = a.add("x_tm", {R, D_});
            a_yt_ = a.add("y_tm", {R, D_});
        }
        Arena &sc = *s.scratch;
        sc.rewind();
        if (can_tm_) s_dt_ = sc.add("dout_dx_tm", {R, D_});  // dout, then dx, time-major
        s_dh_ = sc.add("dh", {R, nv_});
        s_dz_ = sc.add("dz", {R, nz_});
        s_dv_ = sc.add("dv", {R, nv_});
        s_dh0_ = sc.add("dh0", {B, N_, m});
        if (is_hlru()) s_dlags_ = sc.add("dlags", {R, N_ * m});
    }

    void bind(Stores &s) override {
        Arena &a = *s.acts, &sc = *s.scratch;
        const int64_t m = cfg_.m;
        cfg_.time_major = can_tm_ && a[a_v_].device() == Device::cpu;
        // The sequences' leading dims: [B,T,...], or [T,B,...] time-major.
        const int64_t d0 = cfg_.time_major ? T_ : B_, d1 = cfg_.time_major ? B_ : T_;
        const Shape zs = is_hlru() ? Shape{d0, d1, N_, m + 1} : Shape{d0, d1, N_, m, m + 1};
        const Shape vs = is_hlru() ? Shape{d0, d1, N_} : Shape{d0, d1, N_, m};
        if (cfg_.time_major) {
            xt_ = a[a_xt_];
            yt_ = a[a_yt_];
            dt_ = sc[s_dt_];
        }
        v_ = a[a_v_];
        z_ = a[a_z_];
        h_ = a[a_h_];
        hf_ = a[a_hf_];
        v4_ = v_.reshape(vs);
        z4_ = z_.reshape(zs);
        h4_ = h_.reshape(vs);
        dh_ = sc[s_dh_];
        dz_ = sc[s_dz_];
        dv_ = sc[s_dv_];
        dh0_ = sc[s_dh0_];
        dh4_ = dh_.reshape(vs);
        dz4_ = dz_.reshape(zs);
        dv4_ = dv_.reshape(vs);
        if (is_hlru()) {
            lags_ = a[a_lags_];
            dlags_ = sc[s_dlags_];
            lags3_ = lags_.reshape({d0, d1, N_ * m});
            dlags3_ = dlags_.reshape({d0, d1, N_ * m});
        }
    }

    void forward(const Tensor &x, Tensor &out, bool accumulate) override {
        if (cfg_.time_major) {
            Tensor xt3 = xt_.reshape({T_, B_, D_});
            swap_leading_dims(x.reshape({B_, T_, D_}), xt3);
            dense_forward(xt_, ps_.param(W_v_), nullptr, v_);
            dense_forward(xt_, ps_.param(W_g_), &ps_.param(b_g_), z_);
            timed(*this, h_, [&] { scan_forward(cfg_, z4_, v4_, nullptr, h4_, hf_); });
            if (is_hlru()) {
                lag_stack_forward(h4_, cfg_.m, nullptr, lags3_, true);
                dense_forward(lags_, ps_.param(W_o_), nullptr, yt_);
            } else {
                dense_forward(h_, ps_.param(W_o_), nullptr, yt_);
            }
            Tensor out3 = out.reshape({B_, T_, D_});
            swap_leading_dims(yt_.reshape({T_, B_, D_}), out3, accumulate);
            return;
        }
        dense_forward(x, ps_.param(W_v_), nullptr, v_);
        dense_forward(x, ps_.param(W_g_), &ps_.param(b_g_), z_);
        timed(*this, h_, [&] { scan_forward(cfg_, z4_, v4_, nullptr, h4_, hf_); });
        if (is_hlru()) {
            // y_t = W_o [s_t, s_{t-1}, ..., s_{t-m+1}] (spec §3): the lag stack, then one product.
            lag_stack_forward(h4_, cfg_.m, nullptr, lags3_);
            dense_forward(lags_, ps_.param(W_o_), nullptr, out, accumulate);
        } else {
            dense_forward(h_, ps_.param(W_o_), nullptr, out, accumulate);
        }
    }

    void backward(const Tensor &x, const Tensor &dout, Tensor &dx) override {
        if (cfg_.time_major) {
            Tensor dt3 = dt_.reshape({T_, B_, D_}), dx3 = dx.reshape({B_, T_, D_});
            swap_leading_dims(dout.reshape({B_, T_, D_}), dt3);
            if (is_hlru()) {
                dense_backward(lags_, ps_.param(W_o_), dt_, &dlags_, false, ps_.grad(W_o_), nullptr);
                lag_stack_backward(dlags3_, cfg_.m, dh4_, true);
            } else {
                dense_backward(h_, ps_.param(W_o_), dt_, &dh_, false, ps_.grad(W_o_), nullptr);
            }
            timed(*this, dz_, [&] { scan_backward(cfg_, z4_, v4_, nullptr, h4_, dh4_, nullptr, dz4_, dv4_, dh0_); });
            dense_backward(xt_, ps_.param(W_g_), dz_, &dt_, false, ps_.grad(W_g_), &ps_.grad(b_g_));
            dense_backward(xt_, ps_.param(W_v_), dv_, &dt_, true, ps_.grad(W_v_), nullptr);
            swap_leading_dims(dt3, dx3);
            return;
        }
        if (is_hlru()) {
            dense_backward(lags_, ps_.param(W_o_), dout, &dlags_, false, ps_.grad(W_o_), nullptr);
            lag_stack_backward(dlags3_, cfg_.m, dh4_);
        } else {
            dense_backward(h_, ps_.param(W_o_), dout, &dh_, false, ps_.grad(W_o_), nullptr);
        }
        timed(*this, dz_, [&] { scan_backward(cfg_, z4_, v4_, nullptr, h4_, dh4_, nullptr, dz4_, dv4_, dh0_); });
        dense_backward(x, ps_.param(W_g_), dz_, &dx, false, ps_.grad(W_g_), &ps_.grad(b_g_));
        dense_backward(x, ps_.param(W_v_), dv_, &dx, true, ps_.grad(W_v_), nullptr);
    }

    std::string describe() const override {
        return std::string(layer_name(cfg_.layer)) + " m=" + std::to_string(cfg_.m) + " N=" + std::to_string(N_);
    }

private:
    bool is_hlru() const { return cfg_.layer == Layer::hlru; }
    ParamStore &ps_;
    ScanConfig cfg_;
    int64_t D_, N_, nv_, nz_, B_ = 0, T_ = 0;
    int W_v_, W_g_, b_g_, W_o_;
    int a_v_, a_z_, a_h_, a_hf_, a_lags_ = -1, s_dh_, s_dz_, s_dv_, s_dh0_, s_dlags_ = -1;
    bool can_tm_ = false;  // time-major kernels exist (the CPU path uses them)
    int a_xt_ = -1, a_yt_ = -1, s_dt_ = -1;
    Tensor xt_, yt_, dt_;
    Tensor v_, z_, h_, hf_, v4_, z4_, h4_, lags_, lags3_, dh_, dz_, dv_, dh0_, dh4_, dz4_, dv4_, dlags_, dlags3_;
};

// The residual of kind `kind` with the mixer config's parameters (the WCRNN's ρ, or the R of the
// Elman weakly coupled initialisation).
ResidualInit residual_init(const MixerConfig &c, const std::string &kind) {
    ResidualInit ri;
    ri.kind = parse_residual(kind);
    ri.a = c.a;
    ri.tau_min = c.tau_min;
    ri.tau_max = c.tau_max;
    ri.period = c.period;
    return ri;
}

// ---------------------------------------------------------------------------------------------
// WCRNN (spec §7), Elman and LSTM (§8): u = U x + b for all steps (one product), the recurrent
// core, y = W_o h.
class RnnMixer : public BranchLayer {
public:
    enum class Core { wcrnn, elman, lstm };

    RnnMixer(const MixerConfig &c, int64_t D, ParamStore &ps, const std::string &prefix, uint64_t seed)
        : ps_(ps), D_(D), H_(c.hidden) {
        core_ = c.kind == "wcrnn" ? Core::wcrnn : c.kind == "elman" ? Core::elman : Core::lstm;
        G_ = core_ == Core::lstm ? 4 : 1;
        U_ = ps.add(rnn_weight(prefix + ".U", {G_ * H_, D}, H_));
        ParamSpec b = bias(prefix + ".b", G_ * H_);
        if (core_ == Core::lstm) {
            // Forget-gate bias 1 (gates i, f, g, o): the usual start that keeps memory early on.
            b.init = Init::given;
            b.values.assign((size_t)(4 * H_), 0.0f);
            for (int64_t i = H_; i < 2 * H_; i++) b.values[(size_t)i] = 1.0f;
        }
        b_ = ps.add(b);
        if (core_ == Core::wcrnn) {
            const ResidualInit ri = residual_init(c, c.residual);
            wcfg_.residual = make_residual(ri, H_, seed ^ 0x5eedULL);
            wcfg_.eps = (float)c.eps;
            wcfg_.act = parse_activation(c.act);
            wcfg_.train_residual = c.train_residual && ri.kind != ResidualKind::identity;
            const Residual &r = wcfg_.residual;
            // The residual's parameters live in the store too (fixed unless train_residual), so a
            // checkpoint holds the whole model.
            if (r.a.defined()) a_ = ps.add(given(prefix + ".rho_a", r.a, wcfg_.train_residual, false));
            if (r.theta.defined()) theta_ = ps.add(given(prefix + ".rho_theta", r.theta, wcfg_.train_residual, false));
            if (r.Q.defined()) Q_ = ps.add(given(prefix + ".rho_Q", r.Q, false, false));
            W_ = ps.add(rnn_weight(prefix + ".W", {H_, H_}, H_));
        } else if (core_ == Core::elman && c.elman_init != "none") {
            Residual r = make_residual(residual_init(c, c.elman_init), H_, seed ^ 0x5eedULL);
            W_ = ps.add(given(prefix + ".W", elman_init_weights(r, c.eps, H_, seed ^ 0xe1ULL), true, true));
        } else {
            W_ = ps.add(rnn_weight(prefix + ".W", {G_ * H_, H_}, H_));
        }
        W_o_ = ps.add(weight(prefix + ".W_o", {D, H_}));
    }

    void plan(Stores &s, int64_t B, int64_t T) override {
        B_ = B;
        T_ = T;
        const int64_t R = B * T;
        Arena &a = *s.acts;
        a_u_ = a.add("u", {R, G_ * H_});
        a_h_ = a.add("h", {R, H_});
        a_hf_ = a.add("h_final", {B, H_});
        a_zero_ = a.add("zero_state", {B, H_});  // never written: the zero h0 / c0 / final gradients
        if (core_ == Core::lstm) {
            a_c_ = a.add("c", {R, H_});
            a_cf_ = a.add("c_final", {B, H_});
            a_gz_ = a.add("gates", {4, B, T, H_});
        }
        Arena &sc = *s.scratch;
        sc.rewind();
        s_dh_ = sc.add("dh", {R, H_});
        s_du_ = sc.add("du", {R, G_ * H_});
        s_dh0_ = sc.add("dh0", {B, H_});
        if (core_ == Core::lstm) s_dc0_ = sc.add("dc0", {B, H_});
    }

    void bind(Stores &s) override {
        Arena &a = *s.acts, &sc = *s.scratch;
        u_ = a[a_u_];
        h_ = a[a_h_];
        u3_ = u_.reshape({B_, T_, G_ * H_});
        h3_ = h_.reshape({B_, T_, H_});
        hf_ = a[a_hf_];
        zero_ = a[a_zero_];
        dh_ = sc[s_dh_];
        dh3_ = dh_.reshape({B_, T_, H_});
        du_ = sc[s_du_];
        du3_ = du_.reshape({B_, T_, G_ * H_});
        dh0_ = sc[s_dh0_];
        if (core_ == Core::lstm) {
            lf_.h = h3_;
            lf_.c = a[a_c_].reshape({B_, T_, H_});
            lf_.h_final = hf_;
            lf_.c_final = a[a_cf_];
            lf_.z = a[a_gz_];
            dc0_ = sc[s_dc0_];
        }
        if (core_ == Core::wcrnn) {
            bind_residual();
            coeffs_ = residual_coeffs(wcfg_.residual, H_, u_.device());
        }
    }

    void forward(const Tensor &x, Tensor &out, bool accumulate) override {
        dense_forward(x, ps_.param(U_), &ps_.param(b_), u_);
        const Tensor &W = ps_.param(W_);
        timed(*this, h_, [&] {
            switch (core_) {
            case Core::wcrnn:
                if (wcfg_.train_residual) coeffs_ = residual_coeffs(wcfg_.residual, H_, u_.device());
                wcrnn_forward(wcfg_, u3_, W, &zero_, h3_, hf_, &coeffs_);
                break;
            case Core::elman: elman_forward(u3_, W, &zero_, h3_, hf_); break;
            case Core::lstm: lstm_forward(u3_, W, &zero_, &zero_, lf_); break;
            }
        });
        dense_forward(h_, ps_.param(W_o_), nullptr, out, accumulate);
    }

    void backward(const Tensor &x, const Tensor &dout, Tensor &dx) override {
        dense_backward(h_, ps_.param(W_o_), dout, &dh_, false, ps_.grad(W_o_), nullptr);
        const Tensor &W = ps_.param(W_);
        timed(*this, du_, [&] {
            switch (core_) {
            case Core::wcrnn: {
                WcrnnGrads g{du3_, ps_.grad(W_), dh0_, Tensor(), Tensor()};
                wcrnn_backward(wcfg_, u3_, W, &zero_, h3_, dh3_, &zero_, g, &coeffs_);
                if (wcfg_.train_residual) {
                    if (g.da.defined()) ps_.grad(a_).copy_from_host(g.da.data());
                    if (g.dtheta.defined()) ps_.grad(theta_).copy_from_host(g.dtheta.data());
                }
                break;
            }
            case Core::elman: {
                ElmanGrads g{du3_, ps_.grad(W_), dh0_};
                elman_backward(u3_, W, &zero_, h3_, dh3_, &zero_, g);
                break;
            }
            case Core::lstm: {
                LstmGrads g{du3_, ps_.grad(W_), dh0_, dc0_};
                lstm_backward(lf_.z, W, &zero_, &zero_, lf_.h, lf_.c, dh3_, &zero_, &zero_, g);
                break;
            }
            }
        });
        dense_backward(x, ps_.param(U_), du_, &dx, false, ps_.grad(U_), &ps_.grad(b_));
    }

    std::string describe() const override {
        std::string s = core_ == Core::wcrnn ? "wcrnn" : core_ == Core::elman ? "elman" : "lstm";
        if (core_ == Core::wcrnn) s += std::string(" ") + residual_name(wcfg_.residual.kind);
        return s + " H=" + std::to_string(H_);
    }

private:
    // The residual reads its parameters from the store (a view), so training them needs no copy.
    void bind_residual() {
        Residual &r = wcfg_.residual;
        if (a_ >= 0) r.a = ps_.param(a_).device() == Device::cpu ? ps_.param(a_) : ps_.param(a_).to(Device::cpu);
        if (theta_ >= 0) r.theta = ps_.param(theta_).device() == Device::cpu ? ps_.param(theta_) : ps_.param(theta_).to(Device::cpu);
        if (Q_ >= 0) r.Q = ps_.param(Q_);
    }

    ParamStore &ps_;
    Core core_;
    int64_t D_, H_, G_, B_ = 0, T_ = 0;
    WcrnnConfig wcfg_;
    ResidualCoeffs coeffs_;
    int U_, b_, W_, W_o_, a_ = -1, theta_ = -1, Q_ = -1;
    int a_u_, a_h_, a_hf_, a_zero_, a_c_ = -1, a_cf_ = -1, a_gz_ = -1, s_dh_, s_du_, s_dh0_, s_dc0_ = -1;
    Tensor u_, h_, u3_, h3_, hf_, zero_, dh_, dh3_, du_, du3_, dh0_, dc0_;
    LstmForwardResult lf_;
};

// ---------------------------------------------------------------------------------------------
// SwiGLU (tasks spec): W3 (SiLU(W1 x) ⊙ W2 x), W1 and W2 stacked as W12 [2F, D] (one product).
class SwiGlu : public BranchLayer {
public:
    SwiGlu(int64_t D, int64_t F, ParamStore &ps, const std::string &prefix) : ps_(ps), D_(D), F_(F) {
        W12_ = ps.add(weight(prefix + ".W12", {2 * F, D}));
        W3_ = ps.add(weight(prefix + ".W3", {D, F}));
    }
    void plan(Stores &s, int64_t B, int64_t T) override {
        const int64_t R = B * T;
        a_ab_ = s.acts->add("ab", {R, 2 * F_});
        a_h_ = s.acts->add("h", {R, F_});
        s.scratch->rewind();
        s_dh_ = s.scratch->add("dh", {R, F_});
        s_dab_ = s.scratch->add("dab", {R, 2 * F_});
    }
    void bind(Stores &s) override {
        ab_ = (*s.acts)[a_ab_];
        h_ = (*s.acts)[a_h_];
        dh_ = (*s.scratch)[s_dh_];
        dab_ = (*s.scratch)[s_dab_];
    }
    void forward(const Tensor &x, Tensor &out, bool accumulate) override {
        dense_forward(x, ps_.param(W12_), nullptr, ab_);
        swiglu_forward(ab_, h_);
        dense_forward(h_, ps_.param(W3_), nullptr, out, accumulate);
    }
    void backward(const Tensor &x, const Tensor &dout, Tensor &dx) override {
        dense_backward(h_, ps_.param(W3_), dout, &dh_, false, ps_.grad(W3_), nullptr);
        swiglu_backward(ab_, dh_, dab_);
        dense_backward(x, ps_.param(W12_), dab_, &dx, false, ps_.grad(W12_), nullptr);
    }
    std::string describe() const override { return "swiglu F=" + std::to_string(F_); }

private:
    ParamStore &ps_;
    int64_t D_, F_;
    int W12_, W3_, a_ab_, a_h_, s_dh_, s_dab_;
    Tensor ab_, h_, dh_, dab_;
};

// GELU MLP: W2 gelu(W1 x + b1) + b2.
class GeluMlp : public BranchLayer {
public:
    GeluMlp(int64_t D, int64_t F, ParamStore &ps, const std::string &prefix) : ps_(ps), D_(D), F_(F) {
        W1_ = ps.add(weight(prefix + ".W1", {F, D}));
        b1_ = ps.add(bias(prefix + ".b1", F));
        W2_ = ps.add(weight(prefix + ".W2", {D, F}));
        b2_ = ps.add(bias(prefix + ".b2", D));
    }
    void plan(Stores &s, int64_t B, int64_t T) override {
        const int64_t R = B * T;
        a_pre_ = s.acts->add("pre", {R, F_});
        a_h_ = s.acts->add("h", {R, F_});
        s.scratch->rewind();
        s_dh_ = s.scratch->add("dh", {R, F_});
        s_dpre_ = s.scratch->add("dpre", {R, F_});
    }
    void bind(Stores &s) override {
        pre_ = (*s.acts)[a_pre_];
        h_ = (*s.acts)[a_h_];
        dh_ = (*s.scratch)[s_dh_];
        dpre_ = (*s.scratch)[s_dpre_];
    }
    void forward(const Tensor &x, Tensor &out, bool accumulate) override {
        dense_forward(x, ps_.param(W1_), &ps_.param(b1_), pre_);
        gelu_forward(pre_, h_);
        dense_forward(h_, ps_.param(W2_), &ps_.param(b2_), out, accumulate);
    }
    void backward(const Tensor &x, const Tensor &dout, Tensor &dx) override {
        dense_backward(h_, ps_.param(W2_), dout, &dh_, false, ps_.grad(W2_), &ps_.grad(b2_));
        gelu_backward(pre_, dh_, dpre_);
        dense_backward(x, ps_.param(W1_), dpre_, &dx, false, ps_.grad(W1_), &ps_.grad(b1_));
    }
    std::string describe() const override { return "gelu_mlp F=" + std::to_string(F_); }

private:
    ParamStore &ps_;
    int64_t D_, F_;
    int W1_, b1_, W2_, b2_, a_pre_, a_h_, s_dh_, s_dpre_;
    Tensor pre_, h_, dh_, dpre_;
};

}  // namespace

namespace {
bool g_dense_profiling = false;
double g_dense_seconds = 0.0;
}  // namespace

void set_dense_profiling(bool on) { g_dense_profiling = on; }
double dense_seconds() { return g_dense_seconds; }
void reset_dense_seconds() { g_dense_seconds = 0.0; }

void dense_forward(const Tensor &x, const Tensor &W, const Tensor *b, Tensor &y, bool accumulate) {
    if (!g_dense_profiling) return linear_forward(x, W, b, y, accumulate);
    auto t0 = Clock::now();
    linear_forward(x, W, b, y, accumulate);
    y.sync();
    g_dense_seconds += std::chrono::duration<double>(Clock::now() - t0).count();
}

void dense_backward(const Tensor &x, const Tensor &W, const Tensor &dy, Tensor *dx, bool accumulate_dx, Tensor &dW,
                    Tensor *db) {
    if (!g_dense_profiling) return linear_backward(x, W, dy, dx, accumulate_dx, dW, db);
    auto t0 = Clock::now();
    linear_backward(x, W, dy, dx, accumulate_dx, dW, db);
    dW.sync();
    g_dense_seconds += std::chrono::duration<double>(Clock::now() - t0).count();
}

int64_t swiglu_width(int64_t D) { return 16 * ((8 * D / 3 + 15) / 16); }

std::unique_ptr<BranchLayer> make_mixer(const MixerConfig &cfg, int64_t D, ParamStore &ps, const std::string &prefix,
                                        uint64_t seed) {
    if (cfg.kind == "bdlru" || cfg.kind == "hlru") return std::make_unique<ScanMixer>(cfg, D, ps, prefix);
    if (cfg.kind == "wcrnn" || cfg.kind == "elman" || cfg.kind == "lstm") {
        return std::make_unique<RnnMixer>(cfg, D, ps, prefix, seed);
    }
    throw Error("mixer.kind: expected one of bdlru, hlru, wcrnn, elman, lstm, got '" + cfg.kind + "'");
}

std::unique_ptr<BranchLayer> make_swiglu(int64_t D, int64_t F, ParamStore &ps, const std::string &prefix) {
    return std::make_unique<SwiGlu>(D, F, ps, prefix);
}

std::unique_ptr<BranchLayer> make_gelu_mlp(int64_t D, int64_t F, ParamStore &ps, const std::string &prefix) {
    return std::make_unique<GeluMlp>(D, F, ps, prefix);
}

}  // namespace statemix::models
