#include "rnn_stepped.h"

#include "dispatch.h"
#include "rnn_step_layout.h"

#include "HalideRuntime.h"

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace statemix::stepped {

namespace {
std::atomic<int> g_impl{-1};  // -1: read STATEMIX_RNN_CPU
}

Impl parse_cpu_impl(const std::string &s) {
    if (s == "automatic") return Impl::automatic;
    if (s == "scan") return Impl::scan;
    if (s == "stepped") return Impl::stepped;
    throw Error("RNN CPU implementation must be automatic, scan or stepped, got '" + s + "'");
}

Impl cpu_impl() {
    const int set = g_impl.load();
    if (set >= 0) return (Impl)set;
    const char *v = std::getenv("STATEMIX_RNN_CPU");
    if (!v || !*v) return Impl::automatic;
    try {
        return parse_cpu_impl(v);
    } catch (const Error &e) {
        throw Error(std::string("STATEMIX_RNN_CPU: ") + e.what());
    }
}

void set_cpu_impl(Impl impl) { g_impl.store((int)impl); }
void clear_cpu_impl() { g_impl.store(-1); }

namespace {

// The automatic choice, from two interleaved rounds of scan/stepped `statemix bench` runs on the
// 2-core dev machine (T = 128; docs/data/cpu_rnn_stepped_vs_scan_2026-11-29.txt, summarized in
// docs/benchmarks.md "the stepped CPU forward and backward"). Stepped time / scan time:
// - H = 1024 (B = 16, 64): forwards 0.26-0.82x, Elman and LSTM backwards 0.54-0.89x.
// - H = 512, B = 16: LSTM forward 0.51-0.60x; the rest 0.59-1.11x (B = 1: 0.45-1.13x).
// - H = 256: the LSTM forward 0.65-0.87x at B = 16 but 1.01-1.25x at B = 64; the Elman forward
//   1.12-1.63x, WCRNN 0.74-1.94x, the backwards 0.81-1.11x: a tie at best (a step's few unit
//   tiles are few tasks for a parallel loop and a barrier per step, against one launch per
//   sequence).
// So: step kernels from H = 512, and for the LSTM forward from H = 256 at B <= 16; the scan below.
bool automatic_picks_stepped(const char *layer, int64_t B, int64_t H) {
    if (!std::strcmp(layer, "lstm") && H >= 256 && B <= 16) return true;
    return H >= 512;
}

// The WCRNN's stepped backward runs three GEMMs of a forward's size (ε f'(a_t) recomputed for every
// step, the adjoint steps, dW), as its one-launch kernel does, and measured 0.56-1.19x the
// scan's time at H = 1024 and 0.94-1.43x below: never picked automatically. (With the forward's
// a_t kept as a training workspace, as the LSTM keeps z, the first GEMM would go.)
bool automatic_picks_stepped_backward(const char *layer, int64_t /*B*/, int64_t H) {
    return std::strcmp(layer, "wcrnn") != 0 && H >= 512;
}

}  // namespace

bool rule_picks_stepped(const char *layer, const char *op_dir, int64_t B, int64_t H) {
    if (!std::strcmp(op_dir, "backward")) return automatic_picks_stepped_backward(layer, B, H);
    return automatic_picks_stepped(layer, B, H);
}

const char *op_direction(const char *kernel_direction) {
    if (!std::strcmp(kernel_direction, "step")) return "forward";
    if (!std::strcmp(kernel_direction, "step_train")) return "forward_train";
    if (!std::strcmp(kernel_direction, "bstep")) return "backward";
    return kernel_direction;
}

namespace {

// What decides between the step kernels and the one-launch kernel of an op, before the rule of
// thumb: the autotuner's candidate (dispatch::ScopedKernelOverride) when it is one of this op's
// kernels, else the tuning database's choice for the shape's bucket. Returns that kernel, or
// nullptr when neither applies.
const KernelEntry *decided(const char *layer, const char *op_dir, int m, int64_t B, int64_t H, int64_t T) {
    if (const KernelEntry *o = dispatch::kernel_override(layer, Device::cpu, m)) {
        if (!std::strcmp(op_direction(o->direction), op_dir)) return o;
    }
    return dispatch::tuned_kernel(layer, op_dir, Device::cpu, m, B * H, T);
}

}  // namespace

const KernelEntry *choose(const std::string &op, const char *layer, const char *direction, int m, int64_t B,
                          int64_t H, int64_t T) {
    const Impl impl = cpu_impl();
    if (impl == Impl::scan) return nullptr;
    const KernelEntry *k = dispatch::find_kernel_or_null(layer, direction, Device::cpu, m);
    if (impl == Impl::stepped) {
        if (!k) throw Error(op + ": STATEMIX_RNN_CPU=stepped, but this build has no " + direction + " kernel for " + layer);
        if (const KernelEntry *d = decided(layer, op_direction(direction), m, B, H, T); d && !std::strcmp(d->direction, direction)) return d;
        return k;
    }
    if (const KernelEntry *d = decided(layer, op_direction(direction), m, B, H, T)) {
        return std::strcmp(d->direction, direction) == 0 ? d : nullptr;
    }
    return k && automatic_picks_stepped(layer, B, H) ? k : nullptr;
}

const KernelEntry &one_launch_kernel(const std::string &op, const char *layer, const char *direction, int m,
                                     int64_t B, int64_t H, int64_t T) {
    if (const KernelEntry *d = decided(layer, direction, m, B, H, T); d && !std::strcmp(d->direction, direction)) {
        return *d;
    }
    return dispatch::find_kernel(op, layer, direction, Device::cpu, m);
}

BackwardKernels choose_backward(const std::string & /*op*/, const char *layer, int64_t B, int64_t H, int64_t T) {
    const Impl impl = cpu_impl();
    BackwardKernels k;
    if (impl == Impl::scan || !std::strcmp(layer, "wcrnn")) return k;  // the WCRNN: choose_wcrnn_backward
    k.step = dispatch::find_kernel_or_null(layer, "bstep", Device::cpu, 0);
    k.plain = dispatch::find_kernel_or_null("elman", "bstep", Device::cpu, 0);
    k.weight_grad = dispatch::find_kernel_or_null("elman", "weight_grad", Device::cpu, 0);
    const KernelEntry *d = decided(layer, "backward", 0, B, H, T);
    if (d && !std::strcmp(d->direction, "bstep")) k.step = d;
    // "stepped" means wherever step kernels exist: the WCRNN's backward has none (its one-launch
    // kernel runs).
    const bool have = k.step && k.plain && k.weight_grad;
    if (!have) return BackwardKernels{};
    if (impl == Impl::automatic) {
        const bool stepped = d ? !std::strcmp(d->direction, "bstep") : automatic_picks_stepped_backward(layer, B, H);
        if (!stepped) return BackwardKernels{};
    }
    return k;
}

std::string describe_backward(const char *layer, int m, int64_t B, int64_t H, int64_t T) {
    const KernelEntry *step = !std::strcmp(layer, "wcrnn") ? choose_wcrnn_backward(m, B, H).step
                                                           : choose_backward(layer, layer, B, H, T).step;
    if (step) return std::string("stepped (") + step->name + " per step)";
    if (!std::strcmp(layer, "wcrnn")) return "one launch";
    return std::string("one launch (") + one_launch_kernel(layer, layer, "backward", m, B, H, T).name + ")";
}

std::string describe(const char *layer, int m, int64_t B, int64_t H, int64_t T, const char *direction) {
    const KernelEntry *k = choose(layer, layer, direction, m, B, H, T);
    return k ? std::string("stepped (") + k->name + " per step)"
             : std::string("scan (one launch: ") + one_launch_kernel(layer, layer, op_direction(direction), m, B, H, T).name + ")";
}

Tensor pack(const std::vector<const float *> &gates, int64_t H) {
    const int64_t G = (int64_t)gates.size(), tw = step_unit_tile((int)G), nj = (H + tw - 1) / tw;
    Tensor Wp = Tensor::zeros({nj, H, G, tw});
    float *dst = Wp.data();
    // Source rows are read contiguously; a block of 16 columns keeps the tile's destination lines
    // (16 · G · tw floats) in L1 while a tile's rows are written.
    constexpr int64_t kb = 16;
    for (int64_t q = 0; q < G; q++) {
        for (int64_t j = 0; j < nj; j++) {
            const int64_t rows = std::min(tw, H - j * tw);
            for (int64_t k0 = 0; k0 < H; k0 += kb) {
                const int64_t k1 = std::min(H, k0 + kb);
                for (int64_t ii = 0; ii < rows; ii++) {
                    const float *src = gates[(size_t)q] + (j * tw + ii) * H;
                    float *d = dst + ((j * H) * G + q) * tw + ii;
                    for (int64_t k = k0; k < k1; k++) d[k * G * tw] = src[k];
                }
            }
        }
    }
    return Wp;
}

Tensor pack_transposed(const float *W, int64_t K, int64_t H) {
    const int64_t tw = step_unit_tile(1), nj = (H + tw - 1) / tw;
    Tensor Wp = Tensor::zeros({nj, K, 1, tw});
    float *dst = Wp.data();
    for (int64_t k = 0; k < K; k++) {
        for (int64_t j = 0; j < nj; j++) {
            const int64_t n = std::min(tw, H - j * tw);
            std::memcpy(dst + (j * K + k) * tw, W + k * H + j * tw, (size_t)n * sizeof(float));
        }
    }
    return Wp;
}

namespace {

// A 2-D float view (i, b) of n units × B rows, rows `row_stride` floats apart, for a step
// kernel's argument; at() moves it.
struct View {
    halide_dimension_t dim[3];
    halide_buffer_t buf;
    View(int64_t n, int64_t B, int64_t row_stride) : View(n, B, row_stride, 0, 0) {}
    // A 3-D view (i, t, b): n units, T steps `step_stride` apart, B rows `row_stride` apart.
    View(int64_t n, int64_t T, int64_t step_stride, int64_t B, int64_t row_stride) {
        for (int64_t v : {n, T, step_stride, B, row_stride}) {
            if (v > INT32_MAX) {
                throw Error("stepped RNN: a view of " + std::to_string(v) +
                            " elements exceeds Halide's 32-bit extents and strides; use STATEMIX_RNN_CPU=scan or "
                            "split the sequence");
            }
        }
        std::memset(&buf, 0, sizeof buf);
        dim[0] = halide_dimension_t(0, (int32_t)n, 1);
        dim[1] = halide_dimension_t(0, (int32_t)T, (int32_t)step_stride);
        dim[2] = halide_dimension_t(0, (int32_t)B, (int32_t)row_stride);
        buf.type = halide_type_t(halide_type_float, 32);
        buf.dimensions = B > 0 ? 3 : 2;
        buf.dim = dim;
    }
    View(const View &) = delete;
    View &operator=(const View &) = delete;
    void at(const float *p) { buf.host = (uint8_t *)p; }
};

size_t slot_of(const KernelEntry &k, const char *name) {
    const halide_filter_metadata_t *md = k.meta();
    for (int i = 0; i < md->num_arguments; i++) {
        if (!std::strcmp(md->arguments[i].name, name)) return (size_t)i;
    }
    throw Error(std::string("kernel ") + k.name + " has no argument '" + name + "'");
}

void copy_last_step(const float *seq, float *last, int64_t B, int64_t T, int64_t H) {
    for (int64_t b = 0; b < B; b++) std::memcpy(last + b * H, seq + (b * T + T - 1) * H, (size_t)H * sizeof(float));
}

}  // namespace

void run_elman_wcrnn(const KernelEntry &k, const Tensor &Wp, const Tensor &u, const Tensor &h0,
                     const std::vector<dispatch::KernelArg> &extra, Tensor &h, Tensor &h_final) {
    const int64_t B = u.dim(0), T = u.dim(1), H = u.dim(2);
    View ut(H, B, T * H), hp(H, B, T * H), hp0(H, B, H), ht(H, B, T * H);
    hp0.at(h0.data());
    std::vector<dispatch::KernelArg> args = {{"Wp", (void *)Wp.raw()}, {"u", &ut.buf}, {"h_prev", &hp0.buf},
                                             {"h", &ht.buf}};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<void *> argv = dispatch::bind_args(k, args);
    // The argument slot of h_prev: h0 at t = 0, then the previous step's row of h.
    const size_t prev_slot = slot_of(k, "h_prev");
    const float *U = u.data();
    float *Hs = h.data();
    for (int64_t t = 0; t < T; t++) {
        ut.at(U + t * H);
        ht.at(Hs + t * H);
        if (t > 0) {
            hp.at(Hs + (t - 1) * H);
            argv[prev_slot] = &hp.buf;
        }
        dispatch::call_kernel(k, argv);
    }
    copy_last_step(Hs, h_final.data(), B, T, H);
}

void run_lstm(const KernelEntry &k, const Tensor &Wp, const Tensor &u, const Tensor &h0, const Tensor &c0, Tensor &h,
              Tensor &c, Tensor &h_final, Tensor &c_final, Tensor *z) {
    const int64_t B = u.dim(0), T = u.dim(1), H = h.dim(2);
    View ut(4 * H, B, T * 4 * H), hp0(H, B, H), cp0(H, B, H), hp(H, B, T * H), cp(H, B, T * H), ht(H, B, T * H),
        ct(H, B, T * H);
    View zt[4] = {View(H, B, T * H), View(H, B, T * H), View(H, B, T * H), View(H, B, T * H)};
    hp0.at(h0.data());
    cp0.at(c0.data());
    std::vector<dispatch::KernelArg> args = {{"Wp", (void *)Wp.raw()}, {"u", &ut.buf},      {"h_prev", &hp0.buf},
                                             {"c_prev", &cp0.buf},      {"hc.0", &ht.buf}, {"hc.1", &ct.buf}};
    if (z) {
        for (int q = 0; q < 4; q++) args.push_back({"hc." + std::to_string(2 + q), &zt[q].buf});
    }
    std::vector<void *> argv = dispatch::bind_args(k, args);
    const size_t h_slot = slot_of(k, "h_prev"), c_slot = slot_of(k, "c_prev");
    const float *U = u.data();
    float *Hs = h.data(), *Cs = c.data(), *Z = z ? z->data() : nullptr;
    for (int64_t t = 0; t < T; t++) {
        ut.at(U + t * 4 * H);
        ht.at(Hs + t * H);
        ct.at(Cs + t * H);
        for (int q = 0; q < 4 && Z; q++) zt[q].at(Z + q * B * T * H + t * H);
        if (t > 0) {
            hp.at(Hs + (t - 1) * H);
            cp.at(Cs + (t - 1) * H);
            argv[h_slot] = &hp.buf;
            argv[c_slot] = &cp.buf;
        }
        dispatch::call_kernel(k, argv);
    }
    copy_last_step(Hs, h_final.data(), B, T, H);
    copy_last_step(Cs, c_final.data(), B, T, H);
}

namespace {

// g_{T-1} + g_final (the adjoint's input at the last step), [B,H].
Tensor last_step_plus(const Tensor &g, const Tensor &g_final, int64_t B, int64_t T, int64_t H) {
    Tensor out = Tensor::empty({B, H});
    const float *G = g.data(), *F = g_final.data();
    float *o = out.data();
    for (int64_t b = 0; b < B; b++) {
        for (int64_t i = 0; i < H; i++) o[b * H + i] = G[(b * T + T - 1) * H + i] + F[b * H + i];
    }
    return out;
}

// dh = Wᵀ d for d the adjoint at t = 0 (Elman: δ_0, K = H; LSTM: dz_0, K = 4H): the plain
// adjoint step with h = g = 0.
void plain_transpose_step(const KernelEntry &plain, const Tensor &Wp, const float *d0, int64_t K, int64_t row_stride,
                          int64_t B, int64_t H, Tensor &dh0) {
    Tensor zero = Tensor::zeros({B, H});
    View dn(K, B, row_stride), gz(H, B, H), hz(H, B, H), out(H, B, H);
    dn.at(d0);
    gz.at(zero.data());
    hz.at(zero.data());
    out.at(dh0.data());
    dispatch::run_kernel(plain, {{"Wp", (void *)Wp.raw()}, {"d_next", &dn.buf}, {"g", &gz.buf}, {"h", &hz.buf},
                                 {"delta", &out.buf}});
}

}  // namespace

void run_elman_backward(const BackwardKernels &k, const Tensor &W, const Tensor &h0, const Tensor &h, const Tensor &g,
                        const Tensor &g_final, Tensor &du, Tensor &dW, Tensor &dh0) {
    const int64_t B = h.dim(0), T = h.dim(1), H = h.dim(2);
    const Tensor Wp = pack_transposed(W.data(), H, H);
    const Tensor g_last = last_step_plus(g, g_final, B, T, H), zero = Tensor::zeros({B, H});
    View dn0(H, B, H), dn(H, B, T * H), gl(H, B, H), gv(H, B, T * H), hv(H, B, T * H), out(H, B, T * H);
    dn0.at(zero.data());
    gl.at(g_last.data());
    std::vector<void *> argv = dispatch::bind_args(
        *k.step, {{"Wp", (void *)Wp.raw()}, {"d_next", &dn0.buf}, {"g", &gl.buf}, {"h", &hv.buf}, {"delta", &out.buf}});
    const size_t d_slot = slot_of(*k.step, "d_next"), g_slot = slot_of(*k.step, "g");
    const float *G = g.data(), *Hs = h.data();
    float *D = du.data();
    for (int64_t t = T - 1; t >= 0; t--) {
        hv.at(Hs + t * H);
        out.at(D + t * H);
        if (t < T - 1) {
            dn.at(D + (t + 1) * H);
            gv.at(G + t * H);
            argv[d_slot] = &dn.buf;
            argv[g_slot] = &gv.buf;
        }
        dispatch::call_kernel(*k.step, argv);
    }
    plain_transpose_step(*k.plain, Wp, D, H, T * H, B, H, dh0);
    dispatch::run_kernel(*k.weight_grad, {{"y", du.raw()}, {"h", (void *)h.raw()}, {"h0", (void *)h0.raw()},
                                          {"dW", dW.raw()}});
}

void run_lstm_backward(const BackwardKernels &k, const Tensor &W, const Tensor &z, const Tensor &h0, const Tensor &c0,
                       const Tensor &h, const Tensor &c, const Tensor &g, const Tensor &g_final,
                       const Tensor &gc_final, Tensor &du, Tensor &dW, Tensor &dh0, Tensor &dc0) {
    const int64_t B = h.dim(0), T = h.dim(1), H = h.dim(2), H4 = 4 * H;
    const Tensor Wp = pack_transposed(W.data(), H4, H);
    const Tensor g_last = last_step_plus(g, g_final, B, T, H), zero4 = Tensor::zeros({B, H4});
    Tensor lcf[2] = {Tensor::empty({B, H}), Tensor::empty({B, H})};  // λc·f of the last two steps
    View dn0(H4, B, H4), dn(H4, B, T * H4), gl(H, B, H), gv(H, B, T * H), cv(H, B, T * H), cp(H, B, T * H),
        cp0(H, B, H), lin_last(H, B, H), lin(H, B, H), lout(H, B, H);
    View zv[4] = {View(H, B, T * H), View(H, B, T * H), View(H, B, T * H), View(H, B, T * H)};
    View dz[4] = {View(H, B, T * H4), View(H, B, T * H4), View(H, B, T * H4), View(H, B, T * H4)};
    dn0.at(zero4.data());
    gl.at(g_last.data());
    cp0.at(c0.data());
    lin_last.at(gc_final.data());
    std::vector<dispatch::KernelArg> args = {{"Wp", (void *)Wp.raw()}, {"dz_next", &dn0.buf}, {"g", &gl.buf},
                                             {"c", &cv.buf},            {"c_prev", &cp.buf},    {"lcf_next", &lin_last.buf},
                                             {"dz.4", &lout.buf}};
    const char *znames[4] = {"z_i", "z_f", "z_g", "z_o"};
    for (int q = 0; q < 4; q++) {
        args.push_back({znames[q], &zv[q].buf});
        args.push_back({"dz." + std::to_string(q), &dz[q].buf});
    }
    std::vector<void *> argv = dispatch::bind_args(*k.step, args);
    const size_t d_slot = slot_of(*k.step, "dz_next"), g_slot = slot_of(*k.step, "g"),
                 cp_slot = slot_of(*k.step, "c_prev"), l_slot = slot_of(*k.step, "lcf_next");
    const float *G = g.data(), *C = c.data(), *Z = z.data();
    float *D = du.data();
    for (int64_t t = T - 1; t >= 0; t--) {
        cv.at(C + t * H);
        for (int q = 0; q < 4; q++) {
            zv[q].at(Z + q * B * T * H + t * H);
            dz[q].at(D + t * H4 + q * H);
        }
        if (t > 0) {
            cp.at(C + (t - 1) * H);
        } else {
            argv[cp_slot] = &cp0.buf;
        }
        // λc·f: written into lcf[t % 2] (dc0 at t = 0), read back by step t-1.
        lout.at(t == 0 ? dc0.data() : lcf[t % 2].data());
        if (t < T - 1) {
            dn.at(D + (t + 1) * H4);
            gv.at(G + t * H);
            lin.at(lcf[(t + 1) % 2].data());
            argv[d_slot] = &dn.buf;
            argv[g_slot] = &gv.buf;
            argv[l_slot] = &lin.buf;
        }
        dispatch::call_kernel(*k.step, argv);
    }
    plain_transpose_step(*k.plain, Wp, D, H4, T * H4, B, H, dh0);
    dispatch::run_kernel(*k.weight_grad, {{"y", du.raw()}, {"h", (void *)h.raw()}, {"h0", (void *)h0.raw()},
                                          {"dW", dW.raw()}});
}

WcrnnBackwardKernels choose_wcrnn_backward(int m, int64_t B, int64_t H) {
    const Impl impl = cpu_impl();
    WcrnnBackwardKernels k;
    if (impl == Impl::scan || (impl == Impl::automatic && !automatic_picks_stepped_backward("wcrnn", B, H))) return k;
    k.pre = dispatch::find_kernel_or_null("wcrnn", "bstep_pre", Device::cpu, 0);
    k.step = dispatch::find_kernel_or_null("wcrnn", "bstep", Device::cpu, m);
    k.rho = m == 2 ? dispatch::find_kernel_or_null("wcrnn", "bstep_rho", Device::cpu, 2) : nullptr;
    k.weight_grad = dispatch::find_kernel_or_null("elman", "weight_grad", Device::cpu, 0);
    if (!k.pre || !k.step || !k.weight_grad || (m == 2 && !k.rho)) return WcrnnBackwardKernels{};
    return k;
}

void run_wcrnn_backward(const WcrnnBackwardKernels &k, const ResidualCoeffs &c, float eps, int act,
                        bool residual_grad, const Tensor &u, const Tensor &W, const Tensor &h0, const Tensor &h,
                        const Tensor &g, const Tensor &g_final, Tensor &du, Tensor &dW, Tensor &dh0,
                        const WcrnnResidualGrads &rg) {
    const int64_t B = h.dim(0), T = h.dim(1), H = h.dim(2);
    const bool dense = c.m == 0;
    const int64_t K = dense ? 2 * H : H, H2 = 2 * H;

    // ε f'(a_t) for every step: a_t = u_t + W h_{t-1}, as GEMMs over the rows of each batch row's
    // steps t >= 1 (h_{t-1} is the row before), then step 0 of every row from h0.
    const Tensor Wf = pack({W.data()}, H);
    Tensor fp = Tensor::empty({B, T, H});
    {
        const float *U = u.data(), *Hs = h.data();
        float *F = fp.data();
        if (T > 1) {
            View uv(H, T - 1, H), hv(H, T - 1, H), fv(H, T - 1, H);
            for (int64_t b = 0; b < B; b++) {
                uv.at(U + (b * T + 1) * H);
                hv.at(Hs + b * T * H);
                fv.at(F + (b * T + 1) * H);
                dispatch::run_kernel(*k.pre, {{"Wp", (void *)Wf.raw()}, {"u", &uv.buf}, {"h_prev", &hv.buf},
                                              {"eps", &eps}, {"act", &act}, {"fp", &fv.buf}});
            }
        }
        View uv(H, B, T * H), hv(H, B, H), fv(H, B, T * H);
        uv.at(U);
        hv.at(h0.data());
        fv.at(F);
        dispatch::run_kernel(*k.pre, {{"Wp", (void *)Wf.raw()}, {"u", &uv.buf}, {"h_prev", &hv.buf}, {"eps", &eps},
                                      {"act", &act}, {"fp", &fv.buf}});
    }

    // The adjoint: (δ_t, λ_t) side by side per (b, t) in `comb` [B,T,2H], so that the dense path's
    // GEMM source (δ_t, λ_t) is one row of K = 2H.
    Tensor Wb;
    if (dense) {
        std::vector<float> stacked((size_t)(2 * H * H));
        std::memcpy(stacked.data(), W.data(), (size_t)(H * H) * sizeof(float));
        std::memcpy(stacked.data() + H * H, c.R.data(), (size_t)(H * H) * sizeof(float));
        Wb = pack_transposed(stacked.data(), 2 * H, H);
    } else {
        Wb = pack_transposed(W.data(), H, H);
    }
    Tensor comb = Tensor::empty({B, T, H2});
    const Tensor g_last = last_step_plus(g, g_final, B, T, H), zero2 = Tensor::zeros({B, H2}),
                 zero = Tensor::zeros({B, H});
    Tensor scratch = Tensor::empty({B, H});
    View src0(K, B, H2), src(K, B, T * H2), gl(H, B, H), gv(H, B, T * H), fv(H, B, T * H), ln0(H, B, H2),
        ln(H, B, T * H2), hp(H, B, T * H), lam_out(H, B, T * H2), del_out(H, B, T * H2);
    src0.at(zero2.data());
    ln0.at(zero2.data());
    gl.at(g_last.data());
    std::vector<dispatch::KernelArg> args = {{"Wp", (void *)Wb.raw()}, {"src", &src0.buf}, {"g", &gl.buf},
                                             {"fp", &fv.buf},           {"out.0", &lam_out.buf}, {"out.1", &del_out.buf}};
    // The paired path's extra inputs: λ_{t+1} and h_t for Jρ(h_t)ᵀλ_{t+1}, and the coefficients.
    auto paired_args = [&](std::vector<dispatch::KernelArg> &a, View &lam_next, View &h_prev) {
        if (dense) return;
        a.insert(a.end(), {{"lam_next", &lam_next.buf},
                           {"h_prev", &h_prev.buf},
                           {"rho_d", (void *)c.d.raw()},
                           {"rho_u", (void *)c.up.raw()},
                           {"rho_l", (void *)c.lo.raw()},
                           {"rho_act", (void *)&c.rho_act}});
    };
    paired_args(args, ln0, hp);
    std::vector<void *> argv = dispatch::bind_args(*k.step, args);
    const size_t src_slot = slot_of(*k.step, "src"), g_slot = slot_of(*k.step, "g");
    const size_t ln_slot = dense ? 0 : slot_of(*k.step, "lam_next");
    const float *G = g.data(), *Hs = h.data(), *F = fp.data();
    float *C = comb.data();
    for (int64_t t = T - 1; t >= 0; t--) {  // (λ_t, δ_t) from step t+1's
        fv.at(F + t * H);
        hp.at(Hs + t * H);
        lam_out.at(C + t * H2 + H);
        del_out.at(C + t * H2);
        if (t < T - 1) {
            src.at(C + (t + 1) * H2);
            ln.at(C + (t + 1) * H2 + H);
            gv.at(G + t * H);
            argv[src_slot] = &src.buf;
            argv[g_slot] = &gv.buf;
            if (!dense) argv[ln_slot] = &ln.buf;
        }
        dispatch::call_kernel(*k.step, argv);
    }
    // dh0 = λ_{-1}: the same step from step 0 with h_{-1} = h0, g = 0 (its δ is not used).
    {
        View hp0(H, B, H), g0(H, B, H), f0(H, B, H), lam0(H, B, H), del0(H, B, H);
        hp0.at(h0.data());
        g0.at(zero.data());
        f0.at(zero.data());
        lam0.at(dh0.data());
        del0.at(scratch.data());
        src.at(C);
        ln.at(C + H);
        std::vector<dispatch::KernelArg> a0 = {{"Wp", (void *)Wb.raw()}, {"src", &src.buf}, {"g", &g0.buf},
                                               {"fp", &f0.buf},           {"out.0", &lam0.buf}, {"out.1", &del0.buf}};
        paired_args(a0, ln, hp0);
        dispatch::run_kernel(*k.step, a0);
    }

    // du = δ; dW = Σ δ_t h_{t-1}ᵀ; the residual's gradients from λ.
    float *D = du.data();
    for (int64_t r = 0; r < B * T; r++) std::memcpy(D + r * H, C + r * H2, (size_t)H * sizeof(float));
    dispatch::run_kernel(*k.weight_grad, {{"y", du.raw()}, {"h", (void *)h.raw()}, {"h0", (void *)h0.raw()},
                                          {"dW", dW.raw()}});
    View lam_all(H, T, H2, B, T * H2);
    lam_all.at(C + H);
    if (dense && residual_grad && rg.dR) {
        dispatch::run_kernel(*k.weight_grad, {{"y", &lam_all.buf}, {"h", (void *)h.raw()}, {"h0", (void *)h0.raw()},
                                              {"dW", rg.dR->raw()}});
    } else if (!dense && rg.d) {
        dispatch::run_kernel(*k.rho, {{"lam", &lam_all.buf},
                                      {"h", (void *)h.raw()},
                                      {"h0", (void *)h0.raw()},
                                      {"rho_act", (void *)&c.rho_act},
                                      {"d_rho_d", rg.d->raw()},
                                      {"d_rho_u", rg.up->raw()},
                                      {"d_rho_l", rg.lo->raw()}});
    }
}

}  // namespace statemix::stepped
