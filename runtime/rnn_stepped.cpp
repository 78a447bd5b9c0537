#include "rnn_stepped.h"

#include "dispatch.h"
#include "rnn_step_layout.h"

#include "HalideRuntime.h"

#include <atomic>
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

// The automatic choice, from interleaved scan/stepped runs of `statemix bench` on the 2-core dev
// machine (T = 128, docs/benchmarks.md "2026-11-29: the stepped forward"):
// - H >= 512: stepped for every core (H = 1024: Elman 1.5-1.7x, LSTM 1.7-2.5x the scan's speed;
//   H = 512, B = 16: 1.0-1.4x).
// - H = 128-256, B <= 16: stepped for Elman/WCRNN (1.0-2.4x), the scan for the LSTM (its gates
//   are summed one after another in the step: 0.6-1.0x there).
// - B = 64, H = 256: the scan (stepped 0.6-0.95x): a step's 8 unit tiles are too few tasks for
//   the per-step parallel loop and barrier to pay off against one launch per sequence.
// Below H = 128 a step's work is too small for a kernel call per step.
bool automatic_picks_stepped(const char *layer, int64_t B, int64_t H) {
    if (H >= 512) return true;
    return std::strcmp(layer, "lstm") != 0 && H >= 128 && B <= 16;
}

}  // namespace

const KernelEntry *choose(const std::string &op, const char *layer, const char *direction, int m, int64_t B,
                          int64_t H) {
    const Impl impl = cpu_impl();
    if (impl == Impl::scan) return nullptr;
    const KernelEntry *k = dispatch::find_kernel_or_null(layer, direction, Device::cpu, m);
    if (impl == Impl::stepped) {
        if (!k) throw Error(op + ": STATEMIX_RNN_CPU=stepped, but this build has no " + direction + " kernel for " + layer);
        return k;
    }
    return k && automatic_picks_stepped(layer, B, H) ? k : nullptr;
}

std::string describe(const char *layer, int m, int64_t B, int64_t H) {
    const KernelEntry *k = choose(layer, layer, "step", m, B, H);
    return k ? std::string("stepped (") + k->name + " per step)" : std::string("scan (one launch)");
}

Tensor pack(const std::vector<const float *> &gates, int64_t H) {
    const int64_t G = (int64_t)gates.size(), tw = kStepUnitTile, nj = (H + tw - 1) / tw;
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

namespace {

// A 2-D float view (i, b) of n units × B rows, rows `row_stride` floats apart, for a step
// kernel's argument; at() moves it.
struct View {
    halide_dimension_t dim[2];
    halide_buffer_t buf;
    View(int64_t n, int64_t B, int64_t row_stride) {
        std::memset(&buf, 0, sizeof buf);
        dim[0] = halide_dimension_t(0, (int32_t)n, 1);
        dim[1] = halide_dimension_t(0, (int32_t)B, (int32_t)row_stride);
        buf.type = halide_type_t(halide_type_float, 32);
        buf.dimensions = 2;
        buf.dim = dim;
    }
    View(const View &) = delete;
    View &operator=(const View &) = delete;
    void at(const float *p) { buf.host = (uint8_t *)p; }
};

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
    const halide_filter_metadata_t *md = k.metadata();
    size_t prev_slot = 0;
    for (int i = 0; i < md->num_arguments; i++) {
        if (!std::strcmp(md->arguments[i].name, "h_prev")) prev_slot = (size_t)i;
    }
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
    const halide_filter_metadata_t *md = k.metadata();
    size_t h_slot = 0, c_slot = 0;
    for (int i = 0; i < md->num_arguments; i++) {
        if (!std::strcmp(md->arguments[i].name, "h_prev")) h_slot = (size_t)i;
        if (!std::strcmp(md->arguments[i].name, "c_prev")) c_slot = (size_t)i;
    }
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

}  // namespace statemix::stepped
