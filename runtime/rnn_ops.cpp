#include "rnn_ops.h"

#include "dispatch.h"
#include "rnn_stepped.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace statemix {

using dispatch::check_device;
using dispatch::check_shape;
using dispatch::KernelArg;

namespace {

const char *const kResidualNames[] = {"identity", "scalar", "diagonal", "rotation", "orthogonal", "nonlinear"};

std::vector<double> host_values(const Tensor &t) {
    Tensor c = t.device() == Device::cpu ? t : t.to(Device::cpu);
    return std::vector<double>(c.data(), c.data() + c.numel());
}

Tensor host_tensor(const Shape &shape, const std::vector<double> &x, Device device) {
    std::vector<float> f(x.begin(), x.end());
    Tensor t = Tensor::from_host(shape, f.data());
    return device == Device::cpu ? t : t.to(device);
}

void check_scalar_param(const std::string &op, const char *arg, const Tensor &t, const char *kind) {
    if (!t.defined() || t.numel() != 1 || t.ndim() > 1) {
        throw Error(op + ": residual " + kind + ": argument '" + arg + "' must be one value ([] or [1]), got " +
                    (t.defined() ? shape_str(t.shape()) : std::string("nothing")));
    }
}

}  // namespace

const char *residual_name(ResidualKind k) { return kResidualNames[(int)k]; }
const char *activation_name(Activation a) { return a == Activation::relu ? "relu" : "tanh"; }

ResidualKind parse_residual(const std::string &s) {
    for (int i = 0; i < 6; i++) {
        if (s == kResidualNames[i]) return (ResidualKind)i;
    }
    throw Error("residual: expected identity, scalar, diagonal, rotation, orthogonal or nonlinear, got '" + s + "'");
}

Activation parse_activation(const std::string &s) {
    if (s == "tanh") return Activation::tanh;
    if (s == "relu") return Activation::relu;
    throw Error("act: expected tanh or relu, got '" + s + "'");
}

void check_residual(const std::string &op, const Residual &r, int64_t H) {
    if ((int)r.kind < 0 || (int)r.kind > 5) throw Error(op + ": residual kind " + std::to_string((int)r.kind) + " is unknown");
    const char *kind = residual_name(r.kind);
    switch (r.kind) {
    case ResidualKind::identity: break;
    case ResidualKind::scalar:
    case ResidualKind::orthogonal: check_scalar_param(op, "a", r.a, kind); break;
    case ResidualKind::diagonal: check_shape(op + ": residual diagonal", "a", r.a, {H}, "[H]"); break;
    case ResidualKind::nonlinear:
        if (!(r.a.defined() && r.a.ndim() == 1 && r.a.dim(0) == H)) check_scalar_param(op, "a", r.a, "nonlinear (or [H])");
        break;
    case ResidualKind::rotation:
        if (H % 2 != 0) {
            throw Error(op + ": residual rotation acts on pairs of units (2x2 blocks) and needs an even H, got H = " +
                        std::to_string(H));
        }
        check_scalar_param(op, "a", r.a, kind);
        check_shape(op + ": residual rotation", "theta", r.theta, {H / 2}, "[H/2]");
        break;
    }
    if (r.kind == ResidualKind::orthogonal) check_shape(op + ": residual orthogonal", "Q", r.Q, {H, H}, "[H,H]");
}

ResidualCoeffs residual_coeffs(const Residual &r, int64_t H, Device device) {
    check_residual("wcrnn", r, H);
    ResidualCoeffs c;
    if (r.kind == ResidualKind::orthogonal) {
        c.m = 0;
        const double a = host_values(r.a)[0];
        std::vector<double> q = host_values(r.Q);
        for (double &x : q) x *= a;
        c.R = host_tensor({H, H}, q, device);
        return c;
    }
    std::vector<double> d((size_t)H, 0.0), up((size_t)H, 0.0), lo((size_t)H, 0.0);
    std::vector<double> a = r.a.defined() ? host_values(r.a) : std::vector<double>{1.0};
    auto a_at = [&](int64_t i) { return a.size() == 1 ? a[0] : a[(size_t)i]; };
    switch (r.kind) {
    case ResidualKind::identity: std::fill(d.begin(), d.end(), 1.0); break;
    case ResidualKind::scalar:
    case ResidualKind::diagonal:
        for (int64_t i = 0; i < H; i++) d[(size_t)i] = a_at(i);
        break;
    case ResidualKind::nonlinear:
        for (int64_t i = 0; i < H; i++) d[(size_t)i] = a_at(i);
        c.rho_act = 1;
        break;
    case ResidualKind::rotation: {
        std::vector<double> th = host_values(r.theta);
        for (int64_t k = 0; k < H / 2; k++) {
            const double co = std::cos(th[(size_t)k]), si = std::sin(th[(size_t)k]);
            d[(size_t)(2 * k)] = d[(size_t)(2 * k + 1)] = a[0] * co;
            up[(size_t)(2 * k)] = -a[0] * si;
            lo[(size_t)(2 * k + 1)] = a[0] * si;
        }
        break;
    }
    case ResidualKind::orthogonal: break;
    }
    c.d = host_tensor({H}, d, device);
    c.up = host_tensor({H}, up, device);
    c.lo = host_tensor({H}, lo, device);
    return c;
}

RnnDims wcrnn_dims(const std::string &op, const Tensor &u, const Tensor &W) {
    if (!u.defined()) throw Error(op + ": argument 'u' is undefined; expected [B,T,H]");
    if (u.ndim() != 3) throw Error(op + ": argument 'u' must have shape [B,T,H], got " + shape_str(u.shape()));
    RnnDims d{u.dim(0), u.dim(1), u.dim(2)};
    if (d.B < 1 || d.T < 1 || d.H < 1) throw Error(op + ": argument 'u' must have B, T, H >= 1, got " + shape_str(u.shape()));
    if (!W.defined()) throw Error(op + ": argument 'W' is undefined; expected [H,H] = " + shape_str({d.H, d.H}));
    if (W.ndim() != 2 || W.dim(0) != W.dim(1)) {
        throw Error(op + ": argument 'W' must be square, [H,H] = " + shape_str({d.H, d.H}) + " (H from u), got " +
                    shape_str(W.shape()));
    }
    check_shape(op, "W", W, {d.H, d.H}, "[H,H] (H from u)");
    check_device(op, "W", W, u.device(), "u");
    return d;
}

// The backward's z [4,B,T,H] (the forward's gate pre-activations) against W [4H,H].
RnnDims lstm_z_dims(const std::string &op, const Tensor &z, const Tensor &W) {
    if (!W.defined() || W.ndim() != 2 || W.dim(0) != 4 * W.dim(1)) {
        throw Error(op + ": argument 'W' must have shape [4H,H], got " + (W.defined() ? shape_str(W.shape()) : "nothing"));
    }
    const int64_t H = W.dim(1);
    if (!z.defined() || z.ndim() != 4 || z.dim(0) != 4 || z.dim(3) != H || z.dim(1) < 1 || z.dim(2) < 1) {
        throw Error(op + ": argument 'z' (the forward's gate pre-activations) must have shape [4,B,T,H] with H = " +
                    std::to_string(H) + " (from W), got " + (z.defined() ? shape_str(z.shape()) : "nothing"));
    }
    check_device(op, "W", W, z.device(), "z");
    return RnnDims{z.dim(1), z.dim(2), H};
}

RnnDims lstm_dims(const Tensor &u, const Tensor &W) {
    const std::string op = "lstm";
    if (!u.defined() || u.ndim() != 3) {
        throw Error(op + ": argument 'u' must have shape [B,T,4H], got " + (u.defined() ? shape_str(u.shape()) : "nothing"));
    }
    if (!W.defined() || W.ndim() != 2 || W.dim(0) != 4 * W.dim(1)) {
        throw Error(op + ": argument 'W' must have shape [4H,H], got " + (W.defined() ? shape_str(W.shape()) : "nothing"));
    }
    RnnDims d{u.dim(0), u.dim(1), W.dim(1)};
    if (u.dim(2) != 4 * d.H) {
        throw Error(op + ": argument 'u' must have shape [B,T,4H] = " + shape_str({d.B, d.T, 4 * d.H}) +
                    " (H from W), got " + shape_str(u.shape()));
    }
    if (d.B < 1 || d.T < 1 || d.H < 1) throw Error(op + ": argument 'u' must have B, T, H >= 1, got " + shape_str(u.shape()));
    check_device(op, "W", W, u.device(), "u");
    return d;
}

namespace {

struct Opt {
    const char *name;
    const Tensor *t;
};

// Checks shape and device of every present tensor in `args` against `want`.
void check_all(const std::string &op, const std::vector<std::pair<Opt, std::pair<Shape, const char *>>> &args, Device dev,
               const char *device_of = "u") {
    for (const auto &[a, want] : args) {
        if (!a.t) continue;
        check_shape(op, a.name, *a.t, want.first, want.second);
        check_device(op, a.name, *a.t, dev, device_of);
    }
}

void check_eps(const std::string &op, const WcrnnConfig &cfg) {
    if (!std::isfinite(cfg.eps)) throw Error(op + ": argument 'eps' must be finite, got " + std::to_string(cfg.eps));
    if (cfg.act != Activation::tanh && cfg.act != Activation::relu) {
        throw Error(op + ": argument 'act' must be tanh or relu, got " + std::to_string((int)cfg.act));
    }
}

// The residual arguments of a wcrnn kernel.
void residual_args(const ResidualCoeffs &c, std::vector<KernelArg> &args) {
    if (c.m == 0) {
        args.push_back({"R", (void *)c.R.raw()});
    } else {
        args.push_back({"rho_d", (void *)c.d.raw()});
        args.push_back({"rho_u", (void *)c.up.raw()});
        args.push_back({"rho_l", (void *)c.lo.raw()});
        args.push_back({"rho_act", (void *)&c.rho_act});
    }
}

void check_coeffs(const std::string &op, const ResidualCoeffs &c, int64_t H, Device dev) {
    if (c.m == 0) {
        check_shape(op, "R", c.R, {H, H}, "[H,H]");
        check_device(op, "R", c.R, dev, "u");
    } else {
        for (Opt o : {Opt{"d", &c.d}, Opt{"up", &c.up}, Opt{"lo", &c.lo}}) {
            check_shape(op + ": residual coefficients", o.name, *o.t, {H}, "[H]");
            check_device(op, o.name, *o.t, dev, "u");
        }
    }
}

std::mutex g_options_mutex;
constexpr int64_t kPersistentMaxBatch = 64;  // automatic: the persistent kernel up to this B

RnnCudaOptions &options_storage() {
    static RnnCudaOptions opts = [] {
        const char *env = std::getenv("STATEMIX_RNN_CUDA");
        return env ? parse_rnn_cuda_options(env) : RnnCudaOptions{};
    }();
    return opts;
}

// The CUDA forward through the persistent kernel when the options allow and it applies; false:
// the caller runs the Halide kernel. rho: null for Elman.
bool persistent_forward(const std::string &op, const RnnDims &d, const Tensor &u, const Tensor &W, const Tensor &h0,
                        const ResidualCoeffs *rho, float eps, int act, Tensor &h, Tensor &h_final) {
    if (u.device() != Device::cuda) return false;
    RnnCudaOptions o = rnn_cuda_options();
    // Automatic: the tuning database's choice for the shape's bucket where one exists
    // (`statemix tune --layer elman|wcrnn ... --db`: the fastest of the sweep), else the rule below.
    if (o.impl == RnnCudaImpl::automatic) {
        const char *layer = rho ? "wcrnn" : "elman";
        if (const char *spec = dispatch::tuned_choice(layer, "forward", Device::cuda, rho ? rho->m : 0, d.B * d.H, d.T)) {
            const RnnCudaOptions tuned = parse_rnn_cuda_options(spec);
            if (tuned.impl == RnnCudaImpl::halide) return false;
            if (tuned.impl == RnnCudaImpl::persistent && cuda_persistent::plan(d.B, d.H, tuned.knobs).ok &&
                (!rho || rho->m == 2)) {
                o = tuned;  // its plan applies (checked), so forcing it cannot fail
            }
        }
    }
    if (o.impl == RnnCudaImpl::halide) return false;
    // Large batches: the Halide kernel (a block per batch row, W streamed from L2) fills the GPU
    // by itself, and was faster on the H200 at B = 256 (docs/gpu-notes.md).
    if (o.impl == RnnCudaImpl::automatic && d.B > kPersistentMaxBatch) return false;
    cuda_persistent::Plan plan;
    if (rho && rho->m != 2) {
        plan.why_not = "the orthogonal residual (a dense R) is not supported by the persistent kernel";
    } else {
        plan = cuda_persistent::plan(d.B, d.H, o.knobs);
    }
    if (!plan.ok) {
        if (o.impl == RnnCudaImpl::persistent) throw Error(op + ": impl=persistent: " + plan.why_not);
        return false;
    }
    cuda_persistent::ForwardArgs a;
    a.u = u.device_data();
    a.W = W.device_data();
    a.h0 = h0.device_data();
    if (rho) {
        a.rho_d = rho->d.device_data();
        a.rho_u = rho->up.device_data();
        a.rho_l = rho->lo.device_data();
        a.rho_act = rho->rho_act;
        a.eps = eps;
    }
    a.act = act;
    a.h = h.device_data();
    a.h_final = h_final.device_data();
    a.B = d.B;
    a.T = d.T;
    a.H = d.H;
    cuda_persistent::forward(a, plan);
    h.mark_device_written();
    h_final.mark_device_written();
    return true;
}

}  // namespace

RnnCudaOptions parse_rnn_cuda_options(const std::string &spec) {
    RnnCudaOptions o;
    size_t pos = 0;
    while (pos < spec.size()) {
        size_t end = spec.find(',', pos);
        if (end == std::string::npos) end = spec.size();
        const std::string item = spec.substr(pos, end - pos);
        pos = end + 1;
        if (item.empty()) continue;
        const size_t eq = item.find('=');
        const std::string key = item.substr(0, eq), val = eq == std::string::npos ? "" : item.substr(eq + 1);
        if (key == "impl") {
            if (val == "automatic" || val == "auto") o.impl = RnnCudaImpl::automatic;
            else if (val == "halide") o.impl = RnnCudaImpl::halide;
            else if (val == "persistent") o.impl = RnnCudaImpl::persistent;
            else throw Error("STATEMIX_RNN_CUDA: impl must be automatic, halide or persistent, got '" + val + "'");
            continue;
        }
        int *slot = key == "group"           ? &o.knobs.group
                    : key == "rows_per_warp" ? &o.knobs.rows_per_warp
                    : key == "rows_per_cta"  ? &o.knobs.rows_per_cta
                    : key == "batch_per_cta" ? &o.knobs.batch_per_cta
                    : key == "batch_split"   ? &o.knobs.batch_split
                                             : nullptr;
        if (!slot) {
            throw Error("STATEMIX_RNN_CUDA: unknown key '" + key +
                        "' (expected impl, group, rows_per_warp, rows_per_cta, batch_per_cta, batch_split)");
        }
        char *stop = nullptr;
        const long v = std::strtol(val.c_str(), &stop, 10);
        if (val.empty() || *stop != '\0' || v < -1 || v > 4096) {
            throw Error("STATEMIX_RNN_CUDA: " + key + " must be an integer in -1..4096, got '" + val + "'");
        }
        *slot = (int)v;
    }
    return o;
}

void set_rnn_cuda_options(const RnnCudaOptions &o) {
    std::lock_guard<std::mutex> lock(g_options_mutex);
    options_storage() = o;
}

RnnCudaOptions rnn_cuda_options() {
    std::lock_guard<std::mutex> lock(g_options_mutex);
    return options_storage();
}

std::string rnn_cuda_forward_plan(int64_t B, int64_t H) {
    const RnnCudaOptions o = rnn_cuda_options();
    if (o.impl == RnnCudaImpl::halide) return "Halide kernel (impl=halide)";
    if (o.impl == RnnCudaImpl::automatic && B > kPersistentMaxBatch) {
        return "Halide kernel (automatic: B > " + std::to_string(kPersistentMaxBatch) + ")";
    }
    cuda_persistent::Plan p = cuda_persistent::plan(B, H, o.knobs);
    return p.ok ? "persistent kernel: " + p.describe() : "Halide kernel (" + p.describe() + ")";
}

void wcrnn_forward(const WcrnnConfig &cfg, const Tensor &u, const Tensor &W, const Tensor *h0, Tensor &h,
                   Tensor &h_final, const ResidualCoeffs *coeffs) {
    const std::string op = "wcrnn forward";
    RnnDims d = wcrnn_dims(op, u, W);
    const Device dev = u.device();
    check_eps(op, cfg);
    check_all(op, {{{"h0", h0}, {{d.B, d.H}, "[B,H]"}}, {{"h", &h}, {{d.B, d.T, d.H}, "[B,T,H]"}},
                   {{"h_final", &h_final}, {{d.B, d.H}, "[B,H]"}}}, dev);
    ResidualCoeffs own;
    if (!coeffs) own = residual_coeffs(cfg.residual, d.H, dev);
    const ResidualCoeffs &c = coeffs ? *coeffs : own;
    check_coeffs(op, c, d.H, dev);
    Tensor zero;
    if (!h0) zero = Tensor::zeros({d.B, d.H}, dev);
    if (persistent_forward(op, d, u, W, h0 ? *h0 : zero, &c, cfg.eps, (int)cfg.act, h, h_final)) return;
    float eps = cfg.eps;
    int act = (int)cfg.act;
    if (dev == Device::cpu) {
        if (const KernelEntry *sk = stepped::choose(op, "wcrnn", "step", c.m, d.B, d.H, d.T)) {
            std::vector<KernelArg> extra = {{"eps", &eps}, {"act", &act}};
            std::vector<const float *> gates = {W.data()};
            if (c.m == 0) gates.push_back(c.R.data());
            else residual_args(c, extra);
            stepped::run_elman_wcrnn(*sk, stepped::pack(gates, d.H), u, h0 ? *h0 : zero, extra, h, h_final);
            return;
        }
    }
    const KernelEntry &k = dev == Device::cpu ? stepped::one_launch_kernel(op, "wcrnn", "forward", c.m, d.B, d.H, d.T)
                                              : dispatch::find_kernel(op, "wcrnn", "forward", dev, c.m);
    std::vector<KernelArg> args = {{"u", (void *)u.raw()},      {"W", (void *)W.raw()},
                                   {"h0", (void *)(h0 ? h0->raw() : zero.raw())},
                                   {"eps", &eps},               {"act", &act},
                                   {"h", h.raw()},              {"h_final", h_final.raw()}};
    residual_args(c, args);
    dispatch::run_kernel(k, args);
}

RnnForwardResult wcrnn_forward(const WcrnnConfig &cfg, const Tensor &u, const Tensor &W, const Tensor *h0) {
    RnnDims d = wcrnn_dims("wcrnn forward", u, W);
    RnnForwardResult r{Tensor::empty({d.B, d.T, d.H}, u.device()), Tensor::empty({d.B, d.H}, u.device())};
    wcrnn_forward(cfg, u, W, h0, r.h, r.h_final);
    return r;
}

void wcrnn_backward(const WcrnnConfig &cfg, const Tensor &u, const Tensor &W, const Tensor *h0, const Tensor &h,
                    const Tensor &g, const Tensor *g_final, WcrnnGrads &out, const ResidualCoeffs *coeffs) {
    const std::string op = "wcrnn backward";
    RnnDims d = wcrnn_dims(op, u, W);
    const Device dev = u.device();
    check_eps(op, cfg);
    const Shape seq{d.B, d.T, d.H}, state{d.B, d.H};
    check_all(op, {{{"h0", h0}, {state, "[B,H]"}}, {{"h", &h}, {seq, "[B,T,H]"}}, {{"g", &g}, {seq, "[B,T,H]"}},
                   {{"g_final", g_final}, {state, "[B,H]"}}, {{"du", &out.du}, {seq, "[B,T,H]"}},
                   {{"dW", &out.dW}, {{d.H, d.H}, "[H,H]"}}, {{"dh0", &out.dh0}, {state, "[B,H]"}}}, dev);
    ResidualCoeffs own;
    if (!coeffs) own = residual_coeffs(cfg.residual, d.H, dev);
    const ResidualCoeffs &c = coeffs ? *coeffs : own;
    check_coeffs(op, c, d.H, dev);
    Tensor zero;
    if (!h0 || !g_final) zero = Tensor::zeros(state, dev);
    float eps = cfg.eps;
    int act = (int)cfg.act;
    const bool want = cfg.train_residual && cfg.residual.kind != ResidualKind::identity;
    int residual_grad = want ? 1 : 0;
    Tensor dR, dd, dup, dlo;
    if (c.m == 0) {
        dR = Tensor::empty({d.H, d.H}, dev);
    } else {
        dd = Tensor::empty({d.H}, dev);
        dup = Tensor::empty({d.H}, dev);
        dlo = Tensor::empty({d.H}, dev);
    }
    const stepped::WcrnnBackwardKernels sk =
        dev == Device::cpu ? stepped::choose_wcrnn_backward(c.m, d.B, d.H) : stepped::WcrnnBackwardKernels{};
    if (sk.step) {
        stepped::WcrnnResidualGrads rg;
        if (want && c.m == 0) rg.dR = &dR;
        if (want && c.m == 2) rg = {nullptr, &dd, &dup, &dlo};
        stepped::run_wcrnn_backward(sk, c, eps, act, want, u, W, h0 ? *h0 : zero, h, g, g_final ? *g_final : zero,
                                    out.du, out.dW, out.dh0, rg);
    } else {
        const KernelEntry &k = dispatch::find_kernel(op, "wcrnn", "backward", dev, c.m);
        std::vector<KernelArg> args = {{"u", (void *)u.raw()},
                                       {"W", (void *)W.raw()},
                                       {"h0", (void *)(h0 ? h0->raw() : zero.raw())},
                                       {"h", (void *)h.raw()},
                                       {"g", (void *)g.raw()},
                                       {"g_final", (void *)(g_final ? g_final->raw() : zero.raw())},
                                       {"eps", &eps},
                                       {"act", &act},
                                       {"du", out.du.raw()},
                                       {"dW", out.dW.raw()},
                                       {"dh0", out.dh0.raw()}};
        residual_args(c, args);
        if (c.m == 0) {
            args.push_back({"residual_grad", &residual_grad});
            args.push_back({"dR", dR.raw()});
        } else {
            args.push_back({"d_rho_d", dd.raw()});
            args.push_back({"d_rho_u", dup.raw()});
            args.push_back({"d_rho_l", dlo.raw()});
        }
        dispatch::run_kernel(k, args);
    }
    out.da = Tensor();
    out.dtheta = Tensor();
    if (!want) return;

    // The kernel's coefficient gradients, mapped back to the residual's parameters (float64).
    const Residual &r = cfg.residual;
    const Shape a_shape = r.a.shape();
    std::vector<double> da(r.a.numel(), 0.0);
    if (r.kind == ResidualKind::orthogonal) {
        std::vector<double> gR = host_values(dR), q = host_values(r.Q);
        for (size_t i = 0; i < q.size(); i++) da[0] += gR[i] * q[i];
    } else {
        std::vector<double> gd = host_values(dd), gu = host_values(dup), gl = host_values(dlo);
        if (r.kind == ResidualKind::rotation) {
            const double a = host_values(r.a)[0];
            std::vector<double> th = host_values(r.theta), dth((size_t)d.H / 2);
            for (int64_t k2 = 0; k2 < d.H / 2; k2++) {
                const size_t e = (size_t)(2 * k2), o = e + 1;
                const double co = std::cos(th[(size_t)k2]), si = std::sin(th[(size_t)k2]);
                // d = a·cos θ (both units), up_{2k} = −a·sin θ, lo_{2k+1} = a·sin θ.
                da[0] += (gd[e] + gd[o]) * co - gu[e] * si + gl[o] * si;
                dth[(size_t)k2] = a * (-(gd[e] + gd[o]) * si - gu[e] * co + gl[o] * co);
            }
            out.dtheta = host_tensor(r.theta.shape(), dth, Device::cpu);
        } else {  // scalar, diagonal, nonlinear: d_i = a (or a_i)
            for (int64_t i = 0; i < d.H; i++) da[da.size() == 1 ? 0 : (size_t)i] += gd[(size_t)i];
        }
    }
    out.da = host_tensor(a_shape, da, Device::cpu);
}

WcrnnGrads wcrnn_backward(const WcrnnConfig &cfg, const Tensor &u, const Tensor &W, const Tensor *h0,
                          const Tensor &h, const Tensor &g, const Tensor *g_final) {
    RnnDims d = wcrnn_dims("wcrnn backward", u, W);
    const Device dev = u.device();
    WcrnnGrads r{Tensor::empty({d.B, d.T, d.H}, dev), Tensor::empty({d.H, d.H}, dev), Tensor::empty({d.B, d.H}, dev),
                 Tensor(), Tensor()};
    wcrnn_backward(cfg, u, W, h0, h, g, g_final, r);
    return r;
}

void elman_forward(const Tensor &u, const Tensor &W, const Tensor *h0, Tensor &h, Tensor &h_final) {
    const std::string op = "elman forward";
    RnnDims d = wcrnn_dims(op, u, W);
    const Device dev = u.device();
    check_all(op, {{{"h0", h0}, {{d.B, d.H}, "[B,H]"}}, {{"h", &h}, {{d.B, d.T, d.H}, "[B,T,H]"}},
                   {{"h_final", &h_final}, {{d.B, d.H}, "[B,H]"}}}, dev);
    Tensor zero;
    if (!h0) zero = Tensor::zeros({d.B, d.H}, dev);
    if (persistent_forward(op, d, u, W, h0 ? *h0 : zero, nullptr, 1.0f, 0, h, h_final)) return;
    if (dev == Device::cpu) {
        if (const KernelEntry *sk = stepped::choose(op, "elman", "step", 0, d.B, d.H, d.T)) {
            stepped::run_elman_wcrnn(*sk, stepped::pack({W.data()}, d.H), u, h0 ? *h0 : zero, {}, h, h_final);
            return;
        }
    }
    const KernelEntry &k = dev == Device::cpu ? stepped::one_launch_kernel(op, "elman", "forward", 0, d.B, d.H, d.T)
                                              : dispatch::find_kernel(op, "elman", "forward", dev, 0);
    dispatch::run_kernel(k, {{"u", (void *)u.raw()},
                             {"W", (void *)W.raw()},
                             {"h0", (void *)(h0 ? h0->raw() : zero.raw())},
                             {"h", h.raw()},
                             {"h_final", h_final.raw()}});
}

RnnForwardResult elman_forward(const Tensor &u, const Tensor &W, const Tensor *h0) {
    RnnDims d = wcrnn_dims("elman forward", u, W);
    RnnForwardResult r{Tensor::empty({d.B, d.T, d.H}, u.device()), Tensor::empty({d.B, d.H}, u.device())};
    elman_forward(u, W, h0, r.h, r.h_final);
    return r;
}

void elman_backward(const Tensor &u, const Tensor &W, const Tensor *h0, const Tensor &h, const Tensor &g,
                    const Tensor *g_final, ElmanGrads &out) {
    const std::string op = "elman backward";
    RnnDims d = wcrnn_dims(op, u, W);
    const Device dev = u.device();
    const Shape seq{d.B, d.T, d.H}, state{d.B, d.H};
    check_all(op, {{{"h0", h0}, {state, "[B,H]"}}, {{"h", &h}, {seq, "[B,T,H]"}}, {{"g", &g}, {seq, "[B,T,H]"}},
                   {{"g_final", g_final}, {state, "[B,H]"}}, {{"du", &out.du}, {seq, "[B,T,H]"}},
                   {{"dW", &out.dW}, {{d.H, d.H}, "[H,H]"}}, {{"dh0", &out.dh0}, {state, "[B,H]"}}}, dev);
    Tensor zero;
    if (!h0 || !g_final) zero = Tensor::zeros(state, dev);
    if (dev == Device::cpu) {
        const stepped::BackwardKernels sk = stepped::choose_backward(op, "elman", d.B, d.H, d.T);
        if (sk.step) {
            stepped::run_elman_backward(sk, W, h0 ? *h0 : zero, h, g, g_final ? *g_final : zero, out.du, out.dW, out.dh0);
            return;
        }
    }
    const KernelEntry &k = dev == Device::cpu ? stepped::one_launch_kernel(op, "elman", "backward", 0, d.B, d.H, d.T)
                                              : dispatch::find_kernel(op, "elman", "backward", dev, 0);
    dispatch::run_kernel(k, {{"u", (void *)u.raw()},
                             {"W", (void *)W.raw()},
                             {"h0", (void *)(h0 ? h0->raw() : zero.raw())},
                             {"h", (void *)h.raw()},
                             {"g", (void *)g.raw()},
                             {"g_final", (void *)(g_final ? g_final->raw() : zero.raw())},
                             {"du", out.du.raw()},
                             {"dW", out.dW.raw()},
                             {"dh0", out.dh0.raw()}});
}

ElmanGrads elman_backward(const Tensor &u, const Tensor &W, const Tensor *h0, const Tensor &h, const Tensor &g,
                          const Tensor *g_final) {
    RnnDims d = wcrnn_dims("elman backward", u, W);
    const Device dev = u.device();
    ElmanGrads r{Tensor::empty({d.B, d.T, d.H}, dev), Tensor::empty({d.H, d.H}, dev), Tensor::empty({d.B, d.H}, dev)};
    elman_backward(u, W, h0, h, g, g_final, r);
    return r;
}

void lstm_forward(const Tensor &u, const Tensor &W, const Tensor *h0, const Tensor *c0, LstmForwardResult &out) {
    const std::string op = "lstm forward";
    RnnDims d = lstm_dims(u, W);
    const Device dev = u.device();
    const Shape seq{d.B, d.T, d.H}, state{d.B, d.H};
    check_all(op, {{{"h0", h0}, {state, "[B,H]"}}, {{"c0", c0}, {state, "[B,H]"}}, {{"h", &out.h}, {seq, "[B,T,H]"}},
                   {{"c", &out.c}, {seq, "[B,T,H]"}}, {{"h_final", &out.h_final}, {state, "[B,H]"}},
                   {{"c_final", &out.c_final}, {state, "[B,H]"}}}, dev);
    const bool training = out.z.defined();
    check_all(op, {{{"z", training ? &out.z : nullptr}, {{4, d.B, d.T, d.H}, "[4,B,T,H]"}}}, dev);
    Tensor zero;
    if (!h0 || !c0) zero = Tensor::zeros(state, dev);
    if (dev == Device::cpu) {
        if (const KernelEntry *sk = stepped::choose(op, "lstm", training ? "step_train" : "step", 0, d.B, d.H, d.T)) {
            const float *w = W.data();
            Tensor Wp = stepped::pack({w, w + d.H * d.H, w + 2 * d.H * d.H, w + 3 * d.H * d.H}, d.H);
            stepped::run_lstm(*sk, Wp, u, h0 ? *h0 : zero, c0 ? *c0 : zero, out.h, out.c, out.h_final, out.c_final,
                              training ? &out.z : nullptr);
            return;
        }
    }
    const char *dir = training ? "forward_train" : "forward";
    const KernelEntry &k = dev == Device::cpu ? stepped::one_launch_kernel(op, "lstm", dir, 0, d.B, d.H, d.T)
                                              : dispatch::find_kernel(op, "lstm", dir, dev, 0);
    std::vector<dispatch::KernelArg> args = {{"u", (void *)u.raw()},
                                             {"W", (void *)W.raw()},
                                             {"h0", (void *)(h0 ? h0->raw() : zero.raw())},
                                             {"c0", (void *)(c0 ? c0->raw() : zero.raw())},
                                             {"hc.0", out.h.raw()},
                                             {"hc.1", out.c.raw()},
                                             {"hc_final.0", out.h_final.raw()},
                                             {"hc_final.1", out.c_final.raw()}};
    std::vector<Tensor> zq;  // the training kernel's Tuple elements 2..5: the gate slices of z
    if (training) {
        for (int q = 0; q < 4; q++) zq.push_back(out.z.slice(q));
        for (int q = 0; q < 4; q++) args.push_back({"hc." + std::to_string(2 + q), zq[(size_t)q].raw()});
    }
    dispatch::run_kernel(k, args);
    if (training) out.z.mark_device_written();  // written through the slices
}

LstmForwardResult lstm_forward(const Tensor &u, const Tensor &W, const Tensor *h0, const Tensor *c0) {
    RnnDims d = lstm_dims(u, W);
    const Device dev = u.device();
    LstmForwardResult r{Tensor::empty({d.B, d.T, d.H}, dev), Tensor::empty({d.B, d.T, d.H}, dev),
                        Tensor::empty({d.B, d.H}, dev), Tensor::empty({d.B, d.H}, dev),
                        Tensor::empty({4, d.B, d.T, d.H}, dev)};
    lstm_forward(u, W, h0, c0, r);
    return r;
}

void lstm_backward(const Tensor &z, const Tensor &W, const Tensor *h0, const Tensor *c0, const Tensor &h,
                   const Tensor &c, const Tensor &g, const Tensor *g_final, const Tensor *gc_final, LstmGrads &out) {
    const std::string op = "lstm backward";
    RnnDims d = lstm_z_dims(op, z, W);
    const Device dev = z.device();
    const Shape seq{d.B, d.T, d.H}, state{d.B, d.H};
    check_all(op, {{{"h0", h0}, {state, "[B,H]"}}, {{"c0", c0}, {state, "[B,H]"}}, {{"h", &h}, {seq, "[B,T,H]"}},
                   {{"c", &c}, {seq, "[B,T,H]"}}, {{"g", &g}, {seq, "[B,T,H]"}},
                   {{"g_final", g_final}, {state, "[B,H]"}}, {{"gc_final", gc_final}, {state, "[B,H]"}},
                   {{"du", &out.du}, {{d.B, d.T, 4 * d.H}, "[B,T,4H]"}}, {{"dW", &out.dW}, {W.shape(), "[4H,H]"}},
                   {{"dh0", &out.dh0}, {state, "[B,H]"}}, {{"dc0", &out.dc0}, {state, "[B,H]"}}}, dev, "z");
    Tensor zero;
    if (!h0 || !c0 || !g_final || !gc_final) zero = Tensor::zeros(state, dev);
    if (dev == Device::cpu) {
        const stepped::BackwardKernels sk = stepped::choose_backward(op, "lstm", d.B, d.H, d.T);
        if (sk.step) {
            auto val = [&](const Tensor *t) -> const Tensor & { return t ? *t : zero; };
            stepped::run_lstm_backward(sk, W, z, val(h0), val(c0), h, c, g, val(g_final), val(gc_final), out.du, out.dW,
                                       out.dh0, out.dc0);
            return;
        }
    }
    const KernelEntry &k = dev == Device::cpu ? stepped::one_launch_kernel(op, "lstm", "backward", 0, d.B, d.H, d.T)
                                              : dispatch::find_kernel(op, "lstm", "backward", dev, 0);
    auto opt = [&](const Tensor *t) { return (void *)(t ? t->raw() : zero.raw()); };
    dispatch::run_kernel(k, {{"z", (void *)z.raw()},
                             {"W", (void *)W.raw()},
                             {"h0", opt(h0)},
                             {"c0", opt(c0)},
                             {"h", (void *)h.raw()},
                             {"c", (void *)c.raw()},
                             {"g", (void *)g.raw()},
                             {"g_final", opt(g_final)},
                             {"gc_final", opt(gc_final)},
                             {"du", out.du.raw()},
                             {"dW", out.dW.raw()},
                             {"dh0", out.dh0.raw()},
                             {"dc0", out.dc0.raw()}});
}

LstmGrads lstm_backward(const Tensor &z, const Tensor &W, const Tensor *h0, const Tensor *c0, const Tensor &h,
                        const Tensor &c, const Tensor &g, const Tensor *g_final, const Tensor *gc_final) {
    RnnDims d = lstm_z_dims("lstm backward", z, W);
    const Device dev = z.device();
    LstmGrads r{Tensor::empty({d.B, d.T, 4 * d.H}, dev), Tensor::empty(W.shape(), dev), Tensor::empty({d.B, d.H}, dev),
                Tensor::empty({d.B, d.H}, dev)};
    lstm_backward(z, W, h0, c0, h, c, g, g_final, gc_final, r);
    return r;
}

}  // namespace statemix
