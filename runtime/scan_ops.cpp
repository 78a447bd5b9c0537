#include "scan_ops.h"

#include "dispatch.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

namespace statemix {

const char *layer_name(Layer l) { return l == Layer::hlru ? "hlru" : "bdlru"; }

const char *norm_name(Norm n) {
    static const char *names[] = {"softmax", "sigmoid_l1", "relu_l1", "tanh_l1", "lin_l1", "none"};
    return names[(int)n];
}

const char *algorithm_name(Algorithm a) {
    return a == Algorithm::automatic ? "auto" : a == Algorithm::sequential ? "sequential" : "chunked";
}

Layer parse_layer(const std::string &s) {
    if (s == "hlru") return Layer::hlru;
    if (s == "bdlru") return Layer::bdlru;
    throw Error("layer: expected hlru or bdlru, got '" + s + "'");
}

Norm parse_norm(const std::string &s) {
    for (int i = 0; i < 6; i++) {
        if (s == norm_name((Norm)i)) return (Norm)i;
    }
    throw Error("norm: expected softmax, sigmoid_l1, relu_l1, tanh_l1, lin_l1 or none, got '" + s + "'");
}

Algorithm parse_algorithm(const std::string &s) {
    if (s == "auto") return Algorithm::automatic;
    if (s == "sequential") return Algorithm::sequential;
    if (s == "chunked") return Algorithm::chunked;
    throw Error("algorithm: expected auto, sequential or chunked, got '" + s + "'");
}

namespace {

std::string op_name(const ScanConfig &cfg, const char *direction) {
    return std::string(layer_name(cfg.layer)) + " " + direction;
}

using dispatch::check_shape;
void check_device(const std::string &op, const char *arg, const Tensor &t, Device d) {
    dispatch::check_device(op, arg, t, d, "v");
}

// Shape heuristic for Algorithm::automatic. The sequential scan is the fastest whenever there
// are enough independent (batch, channel) lanes to fill the machine; the chunked one reads the
// inputs twice (the backward three times) but adds parallelism over time (spec §6). The CPU's
// chunked backward measured slower than the sequential one at every shape tried on the 2-core
// development machine (docs/benchmarks.md), so there it runs only when asked or tuned.
bool prefer_chunked(Device device, const char *direction, const ScanDims &d, int chunk) {
    const int64_t lanes = d.B * d.N;
    if (d.T < 4 * chunk) return false;
    if (device == Device::cuda) return lanes < 32768;  // ~ 132 SMs x 256 threads
    if (std::strcmp(direction, "backward") == 0) return false;
    const int64_t cores = std::max(1u, std::thread::hardware_concurrency());
    return lanes < 16 * 8 * cores;  // fewer than 8 vectors of 16 lanes per core
}

}  // namespace

// A CPU kernel runs its channels in vectors of kernel_lanes(k) (its vector_width, else this CPU's
// natural width). A count N off that width (r = N mod lanes):
// - forward: the kernel runs its last vector shifted inwards to end at N, in the same pass
//   (schedules/cpu_scan_schedules.h, split_channels), so it needs N >= the width (scan_forward pads
//   a smaller N). Tiles of `tile` channels run in parallel, and a shifted vector alone in its tile
//   would share lanes with the tile before it while another thread writes them: that count runs
//   as the two calls below. (Until 2026-12-05 every forward did: the second call, one vector per
//   step over the whole sequence, cost the H-LRU m = 5-7 forwards 1.3-1.4x; docs/benchmarks.md.)
// - backward: the kernel's last vector is masked (per lane and logit a strided load of z, about
//   10 full vectors' time: the BD-LRU m = 3 backward took 1.5x as long at N = 341 as at N = 336),
//   so past one vector it runs as two calls: channels [0, N - r) and one full vector
//   [N - lanes, N), which computes lanes - r channels of the first call again and writes the same
//   values (each channel's recurrence is independent, each lane's arithmetic the same).
// CUDA: one call.
int64_t kernel_lanes(const KernelEntry &k) {
    if (const char *p = std::strstr(k.params, "vector_width=")) {
        if (int w = std::atoi(p + 13); w > 0) return w;
    }
    return dispatch::cpu_float_lanes();
}

std::vector<ChannelCall> channel_calls(const KernelEntry &k, Device device, int64_t N) {
    if (device != Device::cpu) return {{0, N}};
    // A BD-LRU backward with a row's logits in the lanes (vector_logits) runs one block at a time:
    // any count in one call.
    if (std::strstr(k.params, "vector_logits=true")) return {{0, N}};
    const bool forward = std::strcmp(k.direction, "forward") == 0;
    // The backward's second call needs only a multiple of the kernel's lanes: the CPU's natural
    // width or more.
    const int64_t lanes = forward ? kernel_lanes(k) : std::max<int64_t>(kernel_lanes(k), dispatch::cpu_float_lanes());
    const int64_t r = N % lanes;
    if (r == 0 || N < lanes) return {{0, N}};  // a forward below one vector: scan_forward pads
    if (!forward) return {{0, N - r}, {N - lanes, lanes}};
    // Every compiled CPU scan names its tile; without one, assume a vector per tile (two calls
    // whenever the count is off the width: always safe).
    int64_t tile = lanes;
    if (const char *p = std::strstr(k.params, "tile=")) tile = std::atoi(p + 5);
    const int64_t vectors = (N + lanes - 1) / lanes, per_tile = std::max<int64_t>(1, tile / lanes);
    if (vectors > per_tile && (vectors - 1) % per_tile == 0) return {{0, N - r}, {N - lanes, lanes}};
    return {{0, N}};
}

namespace {

// One call's buffers cropped to its channels: the channel dim of a sequence is its third Halide
// dim from the last (z (k, j, n, t, b), v (j, n, t, b); H-LRU (k, n, t, b), (n, t, b); time-major
// views alike), of a state [B,N,m] the second (j, n, b). The generators leave the time and batch
// strides free (generators/scan_pipelines.h, require_dense), so a crop is a view in place.
class ChannelCrop {
public:
    ChannelCrop(ChannelCall c, int64_t N) : c_(c), whole_(c.n0 == 0 && c.n == N) {}
    void *seq(const void *buf) { return crop(buf, 3); }
    void *state(const void *buf) { return crop(buf, 2); }

private:
    void *crop(const void *buf, int from_last) {
        if (whole_) return const_cast<void *>(buf);
        const halide_buffer_t *src = (const halide_buffer_t *)buf;
        std::vector<halide_dimension_t> &d = dims_.emplace_back(src->dim, src->dim + src->dimensions);
        const int cd = src->dimensions - from_last;
        halide_buffer_t &b = bufs_.emplace_back(*src);
        b.host = src->host + c_.n0 * d[cd].stride * src->type.bytes();
        d[cd].extent = (int32_t)c_.n;
        b.dim = d.data();
        return &b;
    }
    ChannelCall c_;
    bool whole_;
    std::deque<std::vector<halide_dimension_t>> dims_;  // deques: the views stay where they are
    std::deque<halide_buffer_t> bufs_;
};

const char *seq_layout(const ScanConfig &cfg, bool z) {
    const bool bd = cfg.layer == Layer::bdlru;
    if (cfg.time_major) return z ? (bd ? "[T,B,N,m,m+1]" : "[T,B,N,m+1]") : (bd ? "[T,B,N,m]" : "[T,B,N]");
    return z ? (bd ? "[B,T,N,m,m+1]" : "[B,T,N,m+1]") : (bd ? "[B,T,N,m]" : "[B,T,N]");
}

Shape with_channels(Shape s, int dim, int64_t n) {
    s[dim] = n;
    return s;
}
// CPU tensors with a channel dim `dim` (2 of a sequence, 1 of a state): the first dst.dim(dim)
// channels of src into dst (copy_channels); `x` with n channels, its own first, zeros after.
void copy_channels(const Tensor &src, Tensor &dst, int dim) {
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < dim; i++) outer *= src.dim(i);
    for (int i = dim + 1; i < src.ndim(); i++) inner *= src.dim(i);
    const int64_t ns = src.dim(dim), nd = dst.dim(dim), n = std::min(ns, nd);
    const float *from = src.data();
    float *to = dst.data();
    for (int64_t o = 0; o < outer; o++) std::memcpy(to + o * nd * inner, from + o * ns * inner, sizeof(float) * n * inner);
}
Tensor padded_channels(const Tensor &x, int dim, int64_t n) {
    Tensor y = Tensor::zeros(with_channels(x.shape(), dim, n));
    copy_channels(x, y, dim);
    return y;
}
}  // namespace

bool is_time_major(const KernelEntry &k) { return std::strstr(k.params, "time_major=true") != nullptr; }

bool has_time_major(Layer layer, int m, Device device) {
    bool fwd = false, bwd = false;
    for (int i = 0; i < kKernelTableSize; i++) {
        const KernelEntry &k = kKernelTable[i];
        if (std::strcmp(k.layer, layer_name(layer)) || std::strcmp(k.device, device_name(device)) || k.m != m ||
            !is_time_major(k)) {
            continue;
        }
        (std::strcmp(k.direction, "forward") == 0 ? fwd : bwd) = true;
    }
    return fwd && bwd;
}

std::vector<int> supported_orders(Layer layer, Device device) {
    std::vector<int> out;
    for (int i = 0; i < kKernelTableSize; i++) {
        const KernelEntry &k = kKernelTable[i];
        if (std::strcmp(k.layer, layer_name(layer)) == 0 && std::strcmp(k.device, device_name(device)) == 0 &&
            std::find(out.begin(), out.end(), k.m) == out.end()) {
            out.push_back(k.m);
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

int64_t bucket_lanes(Layer layer, const ScanDims &d) { return d.B * d.N * (layer == Layer::bdlru ? d.m : 1); }

const KernelEntry &select_kernel(const ScanConfig &cfg, const char *direction, Device device,
                                 const ScanDims &dims) {
    if (cfg.kernel) {
        const KernelEntry &k = *cfg.kernel;
        if (std::strcmp(k.layer, layer_name(cfg.layer)) || std::strcmp(k.direction, direction) ||
            std::strcmp(k.device, device_name(device)) || k.m != cfg.m) {
            throw Error(op_name(cfg, direction) + ": the kernel '" + k.name + "' asked for is a " + k.layer + " " +
                        k.direction + " kernel for " + k.device + " with m = " + std::to_string(k.m) + ", not " +
                        layer_name(cfg.layer) + " " + direction + " for " + device_name(device) + " with m = " +
                        std::to_string(cfg.m));
        }
        if (is_time_major(k) != cfg.time_major) {
            throw Error(op_name(cfg, direction) + ": the kernel '" + k.name + "' asked for reads " +
                        (is_time_major(k) ? "time-major [T,B,...]" : "batch-major [B,T,...]") +
                        " sequences, but the call's are " + (cfg.time_major ? "time-major" : "batch-major"));
        }
        return k;
    }
    const KernelEntry *seq = nullptr, *chunked = nullptr;
    for (int i = 0; i < kKernelTableSize; i++) {
        const KernelEntry &k = kKernelTable[i];
        if (std::strcmp(k.layer, layer_name(cfg.layer)) || std::strcmp(k.direction, direction) ||
            std::strcmp(k.device, device_name(device)) || k.m != cfg.m || is_time_major(k) != cfg.time_major) {
            continue;
        }
        const KernelEntry *&slot = std::strcmp(k.algorithm, "chunked") == 0 ? chunked : seq;
        if (!slot) slot = &k;  // the first of each algorithm: the build's default variant
    }
    if (!seq && !chunked && cfg.time_major) {
        std::string avail;
        for (int m : supported_orders(cfg.layer, device)) {
            if (has_time_major(cfg.layer, m, device)) avail += (avail.empty() ? "" : ", ") + std::to_string(m);
        }
        throw Error(op_name(cfg, direction) + ": no time-major kernel is compiled for m = " + std::to_string(cfg.m) +
                    " on " + device_name(device) + "; compiled for m: " + (avail.empty() ? "none" : avail) +
                    " (pass [B,T,...] sequences instead)");
    }
    if (!seq && !chunked) {
        std::string avail;
        for (int m : supported_orders(cfg.layer, device)) avail += (avail.empty() ? "" : ", ") + std::to_string(m);
        if (device == Device::cuda && avail.empty()) {
            throw Error(op_name(cfg, direction) + ": this build has no CUDA kernels (configure with -DSTATEMIX_CUDA=ON)");
        }
        throw Error(op_name(cfg, direction) + ": argument 'm' = " + std::to_string(cfg.m) + " is not compiled for " +
                    device_name(device) + "; supported: " + avail);
    }
    // The tuning database's choice for this shape's bucket.
    const KernelEntry *tuned = dispatch::tuned_kernel(layer_name(cfg.layer), direction, device, cfg.m,
                                                      bucket_lanes(cfg.layer, dims), dims.T);
    if (tuned && is_time_major(*tuned) != cfg.time_major) tuned = nullptr;
    switch (cfg.algorithm) {
    case Algorithm::sequential:
        if (tuned && std::strcmp(tuned->algorithm, "sequential") == 0) return *tuned;
        if (seq) return *seq;
        break;
    case Algorithm::chunked:
        if (tuned && std::strcmp(tuned->algorithm, "chunked") == 0) return *tuned;
        if (chunked) return *chunked;
        break;
    case Algorithm::automatic:
        if (tuned) return *tuned;
        if (chunked && (!seq || prefer_chunked(device, direction, dims, chunked->chunk))) return *chunked;
        return seq ? *seq : *chunked;
    }
    throw Error(op_name(cfg, direction) + ": no " + algorithm_name(cfg.algorithm) + " kernel for m = " +
                std::to_string(cfg.m) + " on " + device_name(device));
}

ScanShapes scan_shapes(Layer layer, const ScanDims &d, bool time_major) {
    ScanShapes s;
    const int64_t outer = time_major ? d.T : d.B, inner = time_major ? d.B : d.T;
    if (layer == Layer::bdlru) {
        s.z = {outer, inner, d.N, d.m, d.m + 1};
        s.v = {outer, inner, d.N, d.m};
    } else {
        s.z = {outer, inner, d.N, d.m + 1};
        s.v = {outer, inner, d.N};
    }
    s.state = {d.B, d.N, d.m};
    return s;
}

ScanDims scan_dims(const ScanConfig &cfg, const Tensor &v) {
    const std::string op = std::string(layer_name(cfg.layer));
    if (cfg.m < 1) throw Error(op + ": argument 'm' must be >= 1, got " + std::to_string(cfg.m));
    if (!v.defined()) throw Error(op + ": argument 'v' is undefined");
    const bool bd = cfg.layer == Layer::bdlru;
    const char *layout = seq_layout(cfg, false);
    if (v.ndim() != (bd ? 4 : 3) || (bd && v.dim(3) != cfg.m)) {
        throw Error(op + ": argument 'v' must have shape " + layout + " with m = " + std::to_string(cfg.m) +
                    ", got " + shape_str(v.shape()));
    }
    ScanDims d{cfg.time_major ? v.dim(1) : v.dim(0), cfg.time_major ? v.dim(0) : v.dim(1), v.dim(2), cfg.m};
    if (d.B < 1 || d.T < 1 || d.N < 1) {
        throw Error(op + ": argument 'v' must have B, T, N >= 1, got " + shape_str(v.shape()));
    }
    return d;
}

void scan_forward(const ScanConfig &cfg, const Tensor &z, const Tensor &v, const Tensor *h0,
                  Tensor &h, Tensor &h_final) {
    const std::string op = op_name(cfg, "forward");
    const bool bd = cfg.layer == Layer::bdlru;
    ScanDims d = scan_dims(cfg, v);
    ScanShapes s = scan_shapes(cfg.layer, d, cfg.time_major);
    const Device dev = v.device();
    check_shape(op, "z", z, s.z, seq_layout(cfg, true));
    check_device(op, "z", z, dev);
    if (h0) {
        check_shape(op, "h0", *h0, s.state, "[B,N,m]");
        check_device(op, "h0", *h0, dev);
    }
    check_shape(op, bd ? "h" : "s", h, s.v, seq_layout(cfg, false));
    check_device(op, bd ? "h" : "s", h, dev);
    check_shape(op, "h_final", h_final, s.state, "[B,N,m]");
    check_device(op, "h_final", h_final, dev);
    const KernelEntry &k = select_kernel(cfg, "forward", dev, d);
    if (dev == Device::cpu && d.N < kernel_lanes(k)) {
        // Fewer channels than one vector (channel_calls): the kernel runs on copies padded with
        // zero channels (each channel's recurrence is independent), its first N written back.
        const int64_t L = kernel_lanes(k);
        Tensor zp = padded_channels(z, 2, L), vp = padded_channels(v, 2, L), h0p;
        if (h0) h0p = padded_channels(*h0, 1, L);
        Tensor hp = Tensor::empty(with_channels(h.shape(), 2, L));
        Tensor fp = Tensor::empty(with_channels(h_final.shape(), 1, L));
        scan_forward(cfg, zp, vp, h0 ? &h0p : nullptr, hp, fp);
        copy_channels(hp, h, 2);
        copy_channels(fp, h_final, 1);
        return;
    }
    Tensor zero_h0;
    if (!h0) zero_h0 = Tensor::zeros(s.state, dev);
    int norm = (int)cfg.norm;
    const char *out = bd ? "h" : "s";
    const bool tm = cfg.time_major;
    dispatch::KernelView zk(z, tm), vk(v, tm), hk(h, tm);
    for (const ChannelCall &c : channel_calls(k, dev, d.N)) {
        ChannelCrop x(c, d.N);
        dispatch::run_kernel(k, {{"z", x.seq(zk.arg())}, {"v", x.seq(vk.arg())},
                                 {"h0", x.state(h0 ? h0->raw() : zero_h0.raw())}, {"norm", &norm},
                                 {out, x.seq(hk.arg())}, {"h_final", x.state(h_final.raw())}});
    }
    hk.written();
}

ScanForwardResult scan_forward(const ScanConfig &cfg, const Tensor &z, const Tensor &v, const Tensor *h0) {
    ScanDims d = scan_dims(cfg, v);
    ScanShapes s = scan_shapes(cfg.layer, d, cfg.time_major);
    ScanForwardResult r{Tensor::empty(s.v, v.device()), Tensor::empty(s.state, v.device())};
    scan_forward(cfg, z, v, h0, r.h, r.h_final);
    return r;
}

void scan_backward(const ScanConfig &cfg, const Tensor &z, const Tensor &v, const Tensor *h0,
                   const Tensor &h, const Tensor &g, const Tensor *g_final, Tensor &dz, Tensor &dv,
                   Tensor &dh0) {
    const std::string op = op_name(cfg, "backward");
    const bool bd = cfg.layer == Layer::bdlru;
    ScanDims d = scan_dims(cfg, v);
    ScanShapes s = scan_shapes(cfg.layer, d, cfg.time_major);
    const Device dev = v.device();
    const char *zl = seq_layout(cfg, true);
    const char *vl = seq_layout(cfg, false);
    struct Arg {
        const char *name;
        const Tensor *t;
        const Shape *shape;
        const char *layout;
    };
    const Arg args[] = {{"z", &z, &s.z, zl},       {bd ? "h" : "s", &h, &s.v, vl}, {"g", &g, &s.v, vl},
                        {"h0", h0, &s.state, "[B,N,m]"}, {"g_final", g_final, &s.state, "[B,N,m]"},
                        {"dz", &dz, &s.z, zl},     {"dv", &dv, &s.v, vl},         {"dh0", &dh0, &s.state, "[B,N,m]"}};
    for (const Arg &a : args) {
        if (!a.t) continue;
        check_shape(op, a.name, *a.t, *a.shape, a.layout);
        check_device(op, a.name, *a.t, dev);
    }
    const KernelEntry &k = select_kernel(cfg, "backward", dev, d);
    Tensor zero_state;
    if (!h0 || !g_final) zero_state = Tensor::zeros(s.state, dev);
    int norm = (int)cfg.norm;
    const bool tm = cfg.time_major;
    dispatch::KernelView zk(z, tm), vk(v, tm), hk(h, tm), gk(g, tm), dzk(dz, tm);
    const std::vector<ChannelCall> calls = channel_calls(k, dev, d.N);
    auto inputs = [&](ChannelCrop &x) {
        return std::vector<dispatch::KernelArg>{
            {"z", x.seq(zk.arg())}, {"v", x.seq(vk.arg())}, {"h0", x.state(h0 ? h0->raw() : zero_state.raw())},
            {bd ? "h" : "s", x.seq(hk.arg())}, {"g", x.seq(gk.arg())},
            {"g_final", x.state(g_final ? g_final->raw() : zero_state.raw())}, {"norm", &norm},
            {"dh0", x.state(dh0.raw())}};
    };
    // Every backward kernel's output is a Tuple over dz's dims (generators/scan_pipelines.h,
    // ScanBackward): (dz, dv) for the two-pass and chunked forms; the one-pass form adds its
    // adjoint buffers, (dz, dv, adj_a, adj_b) for BD-LRU, (dz, dv, adj) for H-LRU. dv is seen with
    // stride 0 along dz's logit index k; the adjoint buffers have stride 0 along time (BD-LRU: one
    // slot per row, stride 0 along k, [B, N, m] with vector_rows else [B, m, N]; H-LRU:
    // [B, m+1, N], one slot per lag along k and a copy of the first), laid out for each call's
    // channel count (the calls run one after the other and share them).
    const int64_t B = d.B, T = d.T, N = d.N, m = d.m, K = m + 1;
    // BD-LRU with a row's logits in the lanes (vector_logits): one slot per logit k (the last
    // unused), stride 0 along the rows, [B, N, m+1].
    const bool logits_in_lanes = bd && std::strstr(k.params, "vector_logits=true") != nullptr;
    const int64_t slots = bd && !logits_in_lanes ? m : K;
    const bool adjoints = dispatch::has_argument(k, "grad.2");
    const bool two_adjoints = dispatch::has_argument(k, "grad.3");
    Tensor adj_a = adjoints ? Tensor::empty({B, slots, N}, dev) : Tensor();
    Tensor adj_b = two_adjoints ? Tensor::empty({B, slots, N}, dev) : Tensor();
    std::vector<halide_dimension_t> dv_dims;
    // Time-major: t strides over the whole batch, b over one row.
    const int64_t ts = tm ? B : 1, bs = tm ? 1 : T;
    const bool rows_in_lanes = std::strstr(k.params, "vector_rows=true") != nullptr;
    if (bd) {
        dv_dims = {{0, (int32_t)K, 0}, {0, (int32_t)m, 1}, {0, (int32_t)N, (int32_t)m},
                   {0, (int32_t)T, (int32_t)(m * N * ts)}, {0, (int32_t)B, (int32_t)(m * N * bs)}};
    } else {
        dv_dims = {{0, (int32_t)K, 0}, {0, (int32_t)N, 1}, {0, (int32_t)T, (int32_t)(N * ts)},
                   {0, (int32_t)B, (int32_t)(N * bs)}};
    }
    halide_buffer_t dv_view = dispatch::strided_view(dv, dv_dims);
    for (const ChannelCall &c : calls) {
        ChannelCrop x(c, d.N);
        const int32_t n = (int32_t)c.n;
        std::vector<halide_dimension_t> adj_dims;
        if (logits_in_lanes) {
            adj_dims = {{0, (int32_t)K, 1}, {0, (int32_t)m, 0}, {0, n, (int32_t)K}, {0, (int32_t)T, 0},
                        {0, (int32_t)B, (int32_t)(K * n)}};
        } else if (bd) {
            // The kernel's layout (bdlru_generator.cpp): [B, N, m] when a block's rows share the
            // SIMD lanes (vector_rows), else [B, m, N].
            adj_dims = {{0, (int32_t)K, 0},
                        {0, (int32_t)m, rows_in_lanes ? 1 : n},
                        {0, n, rows_in_lanes ? (int32_t)m : 1},
                        {0, (int32_t)T, 0},
                        {0, (int32_t)B, (int32_t)(m * n)}};
        } else {
            adj_dims = {{0, (int32_t)K, n}, {0, n, 1}, {0, (int32_t)T, 0}, {0, (int32_t)B, (int32_t)(K * n)}};
        }
        halide_buffer_t a_view{}, b_view{};
        std::vector<dispatch::KernelArg> kargs = inputs(x);
        kargs.push_back({"grad.0", x.seq(dzk.arg())});
        kargs.push_back({"grad.1", x.seq(&dv_view)});
        if (adjoints) {
            a_view = dispatch::strided_view(adj_a, adj_dims);
            kargs.push_back({"grad.2", &a_view});
        }
        if (two_adjoints) {
            b_view = dispatch::strided_view(adj_b, adj_dims);
            kargs.push_back({"grad.3", &b_view});
        }
        dispatch::run_kernel(k, kargs);
    }
    dzk.written();
    dv.mark_device_written();  // written through a view (a no-op on the CPU)
}

ScanBackwardResult scan_backward(const ScanConfig &cfg, const Tensor &z, const Tensor &v, const Tensor *h0,
                                 const Tensor &h, const Tensor &g, const Tensor *g_final) {
    ScanDims d = scan_dims(cfg, v);
    ScanShapes s = scan_shapes(cfg.layer, d, cfg.time_major);
    const Device dev = v.device();
    ScanBackwardResult r{Tensor::empty(s.z, dev), Tensor::empty(s.v, dev), Tensor::empty(s.state, dev)};
    scan_backward(cfg, z, v, h0, h, g, g_final, r.dz, r.dv, r.dh0);
    return r;
}

}  // namespace statemix
