// `statemix bench`: the H-LRU / BD-LRU kernels the dispatch picks for each algorithm (with
// --variants also every other compiled kernel of the layer and m), forward, backward and
// forward+backward, on the CPU and (where present) the GPU. For each row it prints
//   ms | M tokens/s | GB/s of the bytes that must move (spec §6) | the device's bandwidth ceiling
//   (class Ceiling: the best of samples interleaved with the kernel runs) | % of it | the plain C++
//   reference loop (-O3 -march=native, CPU) | speed-up over it.
// A table for people; --json FILE writes the same rows for machines.
//
// The nonlinear cores (--layers elman,wcrnn,lstm; spec §7-§8) are timed through the runtime API
// at batch B, length T, hidden size H = --width, and next to them, in the same run, the peer
// libraries' own RNN layers at the same shape: the executables statemix_peer_onednn (CPU rows)
// and statemix_peer_cudnn (CUDA rows) found next to this executable or in --peers DIR
// (bench/peer_common.h). statemix never links those libraries.
#include "commands.h"
#include "arith_ceiling.h"
#include "copy_ceiling.h"
#include "dispatch.h"
#include "kernel_registry.h"
#include "json_file.h"
#include "reference_native.h"
#include "statemix.h"
#include "rnn_stepped.h"
#include "cuda/launch_trace.h"

#include "HalideRuntime.h"
#include "HalideRuntimeCuda.h"

#include <fmt/core.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <functional>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace statemix::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct BenchOptions {
    std::vector<std::string> layers = {"hlru", "bdlru"};
    std::vector<int> orders;  // empty: every compiled order
    std::vector<std::string> devices = {"cpu", "cuda"};
    std::vector<std::string> algorithms = {"sequential", "chunked"};
    int64_t batch = 16, seq = 2048, width = 1024;
    int reps = 5;
    bool reference = true;
    bool peers = true;
    std::string peers_dir;  // where to look for the peer executables first
    std::string json;
    bool variants = false;  // also every other compiled variant of each layer and m (one row each)
};

bool is_rnn_core(const std::string &layer) { return layer == "elman" || layer == "wcrnn" || layer == "lstm"; }

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// Median seconds of `reps` runs of f after one warm-up (which also absorbs the CUDA JIT), with a
// ceiling sample after each run. With STATEMIX_CUDA_TRACE=1, the timed runs' Halide CUDA kernels
// are tabled under `trace_label` (runtime/cuda/launch_trace.h; each launch is synchronized then,
// so the medians are not throughput figures).
template <typename F>
double time_median(int reps, Ceiling &ceiling, F f, const std::string &trace_label = {}) {
    f();
    const bool trace = cuda_trace::enabled() && !trace_label.empty();
    if (trace) cuda_trace::reset();
    std::vector<double> ts;
    for (int i = 0; i < reps; i++) {
        auto t0 = Clock::now();
        f();
        ts.push_back(seconds_since(t0));
        ceiling.sample();
    }
    if (trace) {
        cuda_trace::report(fmt::format("{}, {} runs", trace_label, reps));
        cuda_trace::reset();
    }
    return median(ts);
}

Tensor random_tensor(const Shape &shape, std::mt19937 &rng, Device dev, float stddev = 1.f) {
    Tensor t = Tensor::empty(shape);
    std::normal_distribution<float> nd(0.f, stddev);
    float *p = t.data();
    for (int64_t i = 0; i < t.numel(); i++) p[i] = nd(rng);
    return dev == Device::cpu ? t : t.to(dev);
}


// One row. The scan layers fill the first two lines; the RNN cores' rows have N = H, m = 0,
// algorithm "sequential" and no reference loop; a peer's rows name it in `peer` (empty for
// statemix's own rows), its variant in `algorithm`, the time of its input GEMM alone where it
// measured it, and statemix's speed relative to it (peer ms / statemix ms, same core and direction).
struct Row {
    std::string device, layer, algorithm, direction, kernel;
    int m = 0;
    int64_t B = 0, T = 0, N = 0;
    double ms = 0, mtok_s = 0, gbps = 0, copy_gbps = 0, ref_ms = 0;
    // CPU scans: the step count and operation counts of the arithmetic bound (bench/arith_ceiling.h),
    // and the bound itself at the run's best FMA and exp rates (set at the end of the run).
    double steps = 0;
    OpCounts ops;
    double arith_ms = 0, fma_gflops = 0, exp_gps = 0;
    std::string peer;
    double input_gemm_ms = 0, statemix_over_peer = 0;
};

Row timed_row(const std::string &device, const std::string &layer, const std::string &algorithm, const char *dir,
              const std::string &kernel, int m, int64_t B, int64_t T, int64_t N, double sec, int64_t bytes,
              double copy) {
    Row r{device, layer, algorithm, dir, kernel, m, B, T, N};
    r.ms = sec * 1e3;
    r.mtok_s = B * T / sec / 1e6;
    r.gbps = bytes / sec / 1e9;
    r.copy_gbps = copy;  // the best ceiling sample so far; run_bench sets the whole run's best at the end
    return r;
}

void print_rows(const std::vector<Row> &rows) {
    fmt::print("{:<5} {:<6} {:>3} {:<10} {:<8} {:>9} {:>9} {:>8} {:>9} {:>7} {:>9} {:>7} {:>10} {:>8}  {}\n", "dev",
               "layer", "m", "algorithm", "dir", "ms", "Mtok/s", "GB/s", "copyGB/s", "%copy", "arith ms", "%arith",
               "ref ms", "x ref", "kernel");
    for (const Row &r : rows) {
        std::string ref = r.ref_ms > 0 ? fmt::format("{:.1f}", r.ref_ms) : "-";
        std::string x = r.ref_ms > 0 ? fmt::format("{:.1f}", r.ref_ms / r.ms) : "-";
        std::string am = r.arith_ms > 0 ? fmt::format("{:.3f}", r.arith_ms) : "-";
        std::string ap = r.arith_ms > 0 ? fmt::format("{:.0f}%", 100 * r.arith_ms / r.ms) : "-";
        // The kernel last: --variants prints several rows of one layer, m and direction, told
        // apart only by it (fwd+bwd rows name both kernels, joined by '+').
        fmt::print("{:<5} {:<6} {:>3} {:<10} {:<8} {:>9.3f} {:>9.2f} {:>8.1f} {:>9.1f} {:>6.0f}% {:>9} {:>7} {:>10} {:>8}  {}\n",
                   r.device, r.layer, r.m, r.algorithm, r.direction, r.ms, r.mtok_s, r.gbps, r.copy_gbps,
                   100 * r.gbps / r.copy_gbps, am, ap, ref, x, !r.kernel.empty() ? r.kernel : !r.peer.empty() ? r.peer : "-");
    }
}

// ---- The nonlinear cores (spec §7-§8) and their peers ----

// Bytes that must move (fp32), the API's tensors each read or written once:
//   forward   u in, h out (LSTM: u [B,T,4H] in, h, c and the gate pre-activations z [4,B,T,H] out), W read;
//   backward  u, h, g in, du out (LSTM: z, h, c, g in, du out), W read, dW written.
// (The states h0, h_final, g_final, dh0 are O(B·H) and left out.) These cores are compute bound
// (H² or 4H² multiply-adds per token), so the copy ceiling is far away; it is here to show how far.
int64_t rnn_bytes(const std::string &layer, int64_t B, int64_t T, int64_t H, bool backward) {
    const int64_t tok = B * T * H, w = H * H;
    if (layer == "lstm") return 4 * (backward ? 11 * tok + 8 * w : 10 * tok + 4 * w);
    return 4 * (backward ? 4 * tok + 2 * w : 2 * tok + w);
}

// One core on one device: fwd, bwd, fwd+bwd rows. Every output is preallocated and the "into"
// overloads are called with every optional state given, so no timed call allocates a tensor (but
// the WCRNN backward's three [H] residual-gradient scratch tensors, inside the runtime).
void bench_rnn_core(const BenchOptions &o, const std::string &dname, Device dev, Ceiling &ceiling, const std::string &layer,
                    std::mt19937 &rng, std::vector<Row> &rows) {
    const int64_t B = o.batch, T = o.seq, H = o.width, G = layer == "lstm" ? 4 : 1;
    const float w_std = 1.f / std::sqrt((float)H);
    const Shape seq{B, T, H}, state{B, H};
    Tensor u = random_tensor({B, T, G * H}, rng, dev), W = random_tensor({G * H, H}, rng, dev, w_std);
    Tensor g = random_tensor(seq, rng, dev), zero = Tensor::zeros(state, dev);
    Tensor h = Tensor::empty(seq, dev), hf = Tensor::empty(state, dev);
    Tensor du = Tensor::empty(u.shape(), dev), dW = Tensor::empty(W.shape(), dev), dh0 = Tensor::empty(state, dev);
    std::function<void()> fwd, bwd;
    std::string what;
    // The WCRNN: a rotation residual (a = 1, random angles), ε = 0.05, tanh; its coefficients
    // prepared once, as a training loop does per parameter update.
    WcrnnConfig wcfg;
    ResidualCoeffs coeffs;
    WcrnnGrads wg{du, dW, dh0, Tensor(), Tensor()};
    ElmanGrads eg{du, dW, dh0};
    LstmForwardResult lf{h, Tensor::empty(seq, dev), hf, Tensor::empty(state, dev), Tensor()};
    if (layer == "lstm") lf.z = Tensor::empty({4, B, T, H}, dev);
    LstmGrads lg{du, dW, dh0, Tensor::empty(state, dev)};
    if (layer == "elman") {
        what = "elman_forward / elman_backward";
        fwd = [&] { elman_forward(u, W, &zero, h, hf); };
        bwd = [&] { elman_backward(u, W, &zero, h, g, &zero, eg); };
    } else if (layer == "wcrnn") {
        wcfg.residual = make_residual(ResidualInit{ResidualKind::rotation, 1.0}, H, 7);
        wcfg.eps = 0.05f;
        wcfg.act = Activation::tanh;
        coeffs = residual_coeffs(wcfg.residual, H, dev);
        what = "wcrnn_forward / wcrnn_backward (rotation, eps 0.05, tanh)";
        fwd = [&] { wcrnn_forward(wcfg, u, W, &zero, h, hf, &coeffs); };
        bwd = [&] { wcrnn_backward(wcfg, u, W, &zero, h, g, &zero, wg, &coeffs); };
    } else {
        what = "lstm_forward / lstm_backward";
        fwd = [&] { lstm_forward(u, W, &zero, &zero, lf); };
        bwd = [&] { lstm_backward(lf.z, W, &zero, &zero, lf.h, lf.c, g, &zero, &zero, lg); };
    }
    const double t_fwd = time_median(o.reps, ceiling, [&] {
        fwd();
        h.sync();
    });
    const double t_bwd = time_median(o.reps, ceiling, [&] {  // h (and c) from the forward above
        bwd();
        du.sync();
    });
    const double t_both = time_median(o.reps, ceiling, [&] {
        fwd();
        bwd();
        du.sync();
    });
    const int64_t fb = rnn_bytes(layer, B, T, H, false), bb = rnn_bytes(layer, B, T, H, true);
    // Which CPU forward ran: the stepped one (a step kernel per step) or the one-launch scan.
    const std::string fwd_alg =
        dev != Device::cpu ? "sequential"
                           : stepped::describe(layer.c_str(), layer == "wcrnn" ? 2 : 0, B, H, T, layer == "lstm" ? "step_train" : "step").rfind("stepped", 0) == 0
                                 ? "stepped"
                                 : "scan";
    rows.push_back(timed_row(dname, layer, fwd_alg, "fwd", what, 0, B, T, H, t_fwd, fb, ceiling.best()));
    const std::string bwd_alg =
        dev != Device::cpu ? "sequential"
                           : stepped::describe_backward(layer.c_str(), layer == "wcrnn" ? 2 : 0, B, H, T).rfind("stepped", 0) == 0 ? "stepped"
                                                                                                     : "scan";
    const std::string both_alg = fwd_alg == bwd_alg ? fwd_alg : fwd_alg + "+" + bwd_alg;
    rows.push_back(timed_row(dname, layer, bwd_alg, "bwd", what, 0, B, T, H, t_bwd, bb, ceiling.best()));
    rows.push_back(timed_row(dname, layer, both_alg, "fwd+bwd", what, 0, B, T, H, t_both, fb + bb, ceiling.best()));
    if (layer == "lstm") {  // the inference forward: no workspace z (the rows above train)
        LstmForwardResult li{lf.h, lf.c, lf.h_final, lf.c_final, Tensor()};
        const double t_inf = time_median(o.reps, ceiling, [&] {
            lstm_forward(u, W, &zero, &zero, li);
            h.sync();
        });
        const int64_t ib = rnn_bytes(layer, B, T, H, false) - 4 * 4 * B * T * H;  // z not written
        rows.push_back(timed_row(dname, layer, fwd_alg, "fwd-infer", "lstm_forward (inference, no z)", 0, B, T,
                                 H, t_inf, ib, ceiling.best()));
    }
}

std::string shell_quote(const std::string &s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

std::string own_directory() {
    std::array<char, PATH_MAX> buf{};
    const ssize_t n = readlink("/proc/self/exe", buf.data(), buf.size() - 1);
    if (n <= 0) return ".";
    std::string p(buf.data(), (size_t)n);
    const size_t slash = p.rfind('/');
    return slash == std::string::npos ? "." : p.substr(0, slash);
}

// The peer executable `name` in --peers DIR, else next to this executable; "" if neither.
std::string find_peer(const std::string &name, const std::string &peers_dir) {
    for (const std::string &dir : {peers_dir, own_directory()}) {
        if (dir.empty()) continue;
        const std::string path = dir + "/" + name;
        if (access(path.c_str(), X_OK) == 0) return path;
    }
    return "";
}

// Runs a peer at the bench's shape for the given cells and returns its rows (layer: tanh ->
// elman, lstm -> lstm). A peer that fails prints why; the rows it did write are kept.
std::vector<Row> run_peer(const std::string &path, const std::vector<std::string> &cells, const BenchOptions &o) {
    const char *tmpdir = std::getenv("TMPDIR");
    std::string json = std::string(tmpdir && *tmpdir ? tmpdir : "/tmp") + "/statemix_peer_XXXXXX";
    const int fd = mkstemp(json.data());
    if (fd < 0) throw Error("bench: cannot create a temporary file for the peer's rows in " + json);
    close(fd);
    std::string cell_list;
    for (const std::string &c : cells) cell_list += (cell_list.empty() ? "" : ",") + c;
    const std::string cmd = fmt::format("{} --cell {} --batch {} --seq {} --hidden {} --reps {} --json {} 2>&1",
                                        shell_quote(path), cell_list, o.batch, o.seq, o.width, o.reps,
                                        shell_quote(json));
    fmt::print("peer: {}\n", cmd);
    std::fflush(stdout);
    std::string output;
    int status = -1;
    if (FILE *p = popen(cmd.c_str(), "r")) {
        std::array<char, 512> buf;
        while (fgets(buf.data(), (int)buf.size(), p)) output += buf.data();
        status = pclose(p);
    }
    std::vector<Row> rows;
    try {
        std::ifstream f(json);
        nlohmann::json j;
        if (f.peek() != std::ifstream::traits_type::eof()) f >> j;
        for (const auto &r : j) {
            Row row = timed_row(r.at("device"), r.at("cell") == "lstm" ? "lstm" : "elman", r.at("variant"),
                                r.at("direction") == "fwd" ? "fwd" : r.at("direction") == "bwd" ? "bwd" : "fwd+bwd",
                                r.at("peer"), 0, r.at("B"), r.at("T"), r.at("H"), r.at("ms").get<double>() * 1e-3, 0,
                                0);
            row.peer = r.at("peer");
            row.input_gemm_ms = r.value("input_gemm_ms", 0.0);
            rows.push_back(row);
        }
    } catch (const std::exception &e) {
        output += fmt::format("(its JSON rows could not be read: {})\n", e.what());
        status = status == 0 ? 1 : status;
    }
    std::remove(json.c_str());
    if (status != 0) {
        const int code = status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        fmt::print("peer {} failed (exit status {}){}:\n{}", path, code,
                   rows.empty() ? "" : fmt::format(", {} rows kept", rows.size()), output);
    }
    return rows;
}

// The peers for the RNN cores measured on `dev` (statemix_peer_onednn for the CPU,
// statemix_peer_cudnn for CUDA), appended to rows, each with the copy ceiling and bytes of the
// statemix core it is compared with (Elman and, when Elman was not measured, WCRNN for the tanh
// RNN; LSTM for the LSTM) and statemix's speed relative to it.
void bench_peers(const BenchOptions &o, const std::string &dname, Device dev, std::vector<Row> &rows) {
    auto measured = [&](const std::string &layer) {
        return std::any_of(rows.begin(), rows.end(),
                           [&](const Row &r) { return r.device == dname && r.layer == layer && r.peer.empty(); });
    };
    std::vector<std::string> cells;
    if (measured("elman") || measured("wcrnn")) cells.push_back("tanh");
    if (measured("lstm")) cells.push_back("lstm");
    if (cells.empty() || !o.peers) return;
    const std::string name = dev == Device::cpu ? "statemix_peer_onednn" : "statemix_peer_cudnn";
    const std::string path = find_peer(name, o.peers_dir);
    if (path.empty()) {
        fmt::print("peer {}: not found (next to statemix{}); no peer rows for {}\n", name,
                   o.peers_dir.empty() ? "" : " or in " + o.peers_dir, dname);
        return;
    }
    std::vector<Row> peer_rows = run_peer(path, cells, o);
    for (Row &p : peer_rows) {
        const std::string core = p.layer == "elman" && !measured("elman") ? "wcrnn" : p.layer;
        for (const Row &s : rows) {
            if (s.peer.empty() && s.device == p.device && s.layer == core && s.direction == p.direction) {
                p.copy_gbps = s.copy_gbps;
                p.gbps = s.gbps * s.ms / p.ms;
                p.statemix_over_peer = p.ms / s.ms;
            }
        }
    }
    rows.insert(rows.end(), peer_rows.begin(), peer_rows.end());
}

void print_rnn_rows(const std::vector<Row> &rows) {
    fmt::print("{:<5} {:<6} {:<51} {:<9} {:>9} {:>9} {:>8} {:>9} {:>7} {:>8} {:>8}\n", "dev", "core",
               "implementation", "dir", "ms", "Mtok/s", "GB/s", "copyGB/s", "%copy", "inGEMMms", "sm/peer");
    for (const Row &r : rows) {
        // The CPU RNN cores name how they ran: "stepped" (a step kernel per step) or "scan".
        const std::string impl = !r.peer.empty()              ? r.peer + " (" + r.algorithm + ")"
                                 : r.algorithm == "sequential" ? "statemix"
                                                               : "statemix (" + r.algorithm + ")";
        const std::string gemm = r.input_gemm_ms > 0 ? fmt::format("{:.2f}", r.input_gemm_ms) : "-";
        const std::string ratio = r.statemix_over_peer > 0 ? fmt::format("{:.2f}x", r.statemix_over_peer) : "-";
        const std::string pct = r.copy_gbps > 0 ? fmt::format("{:.1f}%", 100 * r.gbps / r.copy_gbps) : "-";
        fmt::print("{:<5} {:<6} {:<51} {:<9} {:>9.3f} {:>9.3f} {:>8.2f} {:>9.1f} {:>7} {:>8} {:>8}\n", r.device,
                   r.layer, impl, r.direction, r.ms, r.mtok_s, r.gbps, r.copy_gbps, pct, gemm, ratio);
    }
}

void print_rnn_footer() {
    fmt::print(
        "Cores: statemix times the recurrence only: it takes the drive u = U x + b precomputed ([B,T,H], LSTM "
        "[B,T,4H]).\nThe peers' layers also compute that input projection (a C = H GEMM over all steps, and its "
        "two GEMMs in\nthe backward), so they do more work: inGEMMms is oneDNN's time for that GEMM alone "
        "(measured apart, to\nsubtract); cuDNN's 'skip input' variants have no input GEMM (x is added as is) and "
        "are the like-for-like rows.\nsm/peer = peer ms / statemix ms (> 1: statemix faster). GB/s and %copy of a "
        "peer row use the bytes and\ncopy ceiling of the statemix core it is compared with (tanh RNN: Elman; "
        "LSTM: LSTM).\n");
}

void run_bench(const BenchOptions &o) {
    if (o.batch < 1 || o.seq < 1 || o.width < 1) throw Error("bench: --batch, --seq and --width must be >= 1");
    if (o.reps < 1) throw Error("bench: --reps must be >= 1");
    // Every --orders value must be compiled for some scan layer and device asked for, else the
    // bench would time nothing and say nothing.
    if (!o.orders.empty()) {
        std::vector<std::string> scans;
        std::vector<int> known;
        for (const std::string &lname : o.layers) {
            if (is_rnn_core(lname)) continue;
            scans.push_back(lname);
            for (const std::string &dname : o.devices) {
                for (int k : supported_orders(parse_layer(lname), parse_device(dname))) known.push_back(k);
            }
        }
        if (scans.empty()) throw Error("bench: --orders applies to the scan layers (hlru, bdlru); --layers names none");
        std::sort(known.begin(), known.end());
        known.erase(std::unique(known.begin(), known.end()), known.end());
        for (int m : o.orders) {
            if (!std::binary_search(known.begin(), known.end(), m)) {
                throw Error(fmt::format("bench: --orders: m = {} is not compiled for {}; compiled: {}", m,
                                        fmt::join(scans, ", "), fmt::join(known, ", ")));
            }
        }
    }
    std::vector<Row> rows;
    std::mt19937 rng(1234);
    unsigned threads = std::max(1u, std::thread::hardware_concurrency());
    fmt::print("statemix bench: B={} T={} state width N*m~{} (RNN cores: H={}) float32, {} CPU threads, median of {} "
               "runs\n",
               o.batch, o.seq, o.width, o.width, threads, o.reps);
    {
        const int tier = dispatch::cpu_tier();
        fmt::print("CPU tier {} ({}): its tuned choices first (a machine with this CPU's features first), "
                   "then the nearest tier's{}\n",
                   tier, kCpuTiers[tier].target,
                   tier == dispatch::running_cpu_tier() ? "" : " (STATEMIX_TUNED_TIER; the code that runs is tier " +
                                                                   std::to_string(dispatch::running_cpu_tier()) + "'s)");
    }
    for (const std::string &dname : o.devices) {
        const Device dev = parse_device(dname);
        if (dev == Device::cuda && !cuda_available()) {
            fmt::print("cuda: skipped ({})\n", cuda_unavailable_reason());
            continue;
        }
        Ceiling ceiling(dev);
        // CPU: the FMA and exp throughput, sampled once per scan shape between the kernels.
        std::unique_ptr<ArithCeiling> arith;
        if (dev == Device::cpu) arith = std::make_unique<ArithCeiling>(ceiling.threads());
        for (const std::string &lname : o.layers) {
            if (is_rnn_core(lname)) {
                bench_rnn_core(o, dname, dev, ceiling, lname, rng, rows);
                print_rnn_rows(std::vector<Row>(rows.end() - 3, rows.end()));
                continue;
            }
            const Layer layer = parse_layer(lname);
            for (int m : supported_orders(layer, dev)) {
                if (!o.orders.empty() && std::find(o.orders.begin(), o.orders.end(), m) == o.orders.end()) continue;
                ScanDims d{o.batch, o.seq, std::max<int64_t>(1, o.width / m), m};
                ScanShapes s = scan_shapes(layer, d);
                Tensor z_all = random_tensor(s.z, rng, dev), v_all = random_tensor(s.v, rng, dev);
                Tensor g_all = random_tensor(s.v, rng, dev), gf = Tensor::zeros(s.state, dev);
                Tensor h0 = Tensor::zeros(s.state, dev);
                Tensor h_all = Tensor::empty(s.v, dev), hf = Tensor::empty(s.state, dev);
                Tensor dz_all = Tensor::empty(s.z, dev), dv_all = Tensor::empty(s.v, dev), dh0 = Tensor::empty(s.state, dev);

                // The reference loop (CPU, float32), once per shape: it is slow by design.
                double ref_f = 0, ref_b = 0;
                if (o.reference && dev == Device::cpu) {
                    std::vector<float> rh(h_all.numel()), rhf(hf.numel()), rdz(dz_all.numel()), rdv(dv_all.numel()),
                        rdh(dh0.numel());
                    auto t0 = Clock::now();
                    reference_forward(layer, d, Norm::softmax, z_all.data(), v_all.data(), h0.data(), rh.data(), rhf.data());
                    ref_f = seconds_since(t0);
                    t0 = Clock::now();
                    reference_backward(layer, d, Norm::softmax, z_all.data(), v_all.data(), h0.data(), g_all.data(), gf.data(),
                                       rdz.data(), rdv.data(), rdh.data());
                    ref_b = seconds_since(t0);
                }
                const int64_t fwd_bytes = bytes_per_token(layer, d.N, m, false) * d.B * d.T;
                const int64_t bwd_bytes = bytes_per_token(layer, d.N, m, true) * d.B * d.T;
                ScanConfig acfg{layer, m, Norm::softmax, Algorithm::automatic};
                scan_forward(acfg, z_all, v_all, &h0, h_all, hf);  // the backward reads a real forward's h
                std::map<std::string, double> bwd_sec;  // each backward kernel timed once
                std::vector<std::string> timed;         // the kernels the rows above ran (--variants skips them)
                const size_t rows_before = rows.size();
                for (const std::string &aname : o.algorithms) {
                    // time_major: the sequential scan on [T,B,...] sequences (the same buffers seen
                    // as time-major: random inputs either way), where the build has its kernels.
                    const bool tm = aname == "time_major";
                    ScanConfig cfg{layer, m, Norm::softmax, tm ? Algorithm::sequential : parse_algorithm(aname)};
                    cfg.time_major = tm;
                    if (tm && !has_time_major(layer, m, dev)) continue;
                    const ScanShapes ts = scan_shapes(layer, d, tm);
                    Tensor z = z_all.reshape(ts.z), v = v_all.reshape(ts.v), g = g_all.reshape(ts.v);
                    Tensor h = h_all.reshape(ts.v), dz = dz_all.reshape(ts.z), dv = dv_all.reshape(ts.v);
                    if (tm) scan_forward(cfg, z, v, &h0, h, hf);  // the backward reads a real forward's h
                    const KernelEntry *fk = nullptr;
                    try {
                        fk = &select_kernel(cfg, "forward", dev, d);
                    } catch (const Error &) {
                        continue;  // this algorithm is not compiled for this m
                    }
                    // The same algorithm's backward where the build has one, else the automatic one.
                    ScanConfig bcfg = cfg;
                    try {
                        select_kernel(bcfg, "backward", dev, d);
                    } catch (const Error &) {
                        bcfg = acfg;
                    }
                    const KernelEntry &bk = select_kernel(bcfg, "backward", dev, d);
                    if (!bwd_sec.count(bk.name)) {
                        bwd_sec[bk.name] = time_median(
                            o.reps, ceiling,
                            [&] {
                                scan_backward(bcfg, z, v, &h0, h, g, &gf, dz, dv, dh0);
                                dz.sync();
                            },
                            bk.name);
                    }
                    const double t_bwd = bwd_sec[bk.name];
                    double t_fwd = time_median(
                        o.reps, ceiling,
                        [&] {
                            scan_forward(cfg, z, v, &h0, h, hf);
                            h.sync();
                        },
                        fk->name);
                    auto add = [&](const char *dir, const std::string &kname, double sec, int64_t bytes, double ref_sec,
                                   OpCounts ops) {
                        rows.push_back(timed_row(dname, lname, aname, dir, kname, m, d.B, d.T, d.N, sec, bytes, ceiling.best()));
                        rows.back().ref_ms = ref_sec * 1e3;
                        if (arith) {
                            rows.back().steps = (double)(d.B * d.T * d.N);
                            rows.back().ops = ops;
                        }
                    };
                    const bool bd = layer == Layer::bdlru;
                    const OpCounts of = scan_op_counts(bd, m, false), ob = scan_op_counts(bd, m, true);
                    add("fwd", fk->name, t_fwd, fwd_bytes, ref_f, of);
                    add("bwd", bk.name, t_bwd, bwd_bytes, ref_b, ob);
                    timed.push_back(fk->name);
                    timed.push_back(bk.name);
                    add("fwd+bwd", std::string(fk->name) + "+" + bk.name, t_fwd + t_bwd, fwd_bytes + bwd_bytes,
                        ref_f + ref_b, {of.fma + ob.fma, of.exps + ob.exps});
                }
                // --variants: every other kernel the build compiled for this layer, device and m (the
                // defaults, the tuning database's winners of every CPU tier, the two-pass and
                // time-major forms), run through the same op with ScanConfig::kernel, same inputs.
                if (o.variants) {
                    for (int i = 0; i < kKernelTableSize; i++) {
                        const KernelEntry &k = kKernelTable[i];
                        if (lname != k.layer || dname != k.device || k.m != m ||
                            std::find(timed.begin(), timed.end(), k.name) != timed.end()) {
                            continue;
                        }
                        if (!dispatch::runs_here(k)) {  // a bigger CPU tier's winner, compiled for those tiers only
                            fmt::print(stderr, "{}: compiled for bigger CPU tiers only, not run here\n", k.name);
                            continue;
                        }
                        const bool tm = is_time_major(k), bwd = std::strcmp(k.direction, "backward") == 0;
                        ScanConfig cfg{layer, m, Norm::softmax, parse_algorithm(k.algorithm)};
                        cfg.time_major = tm;
                        const ScanShapes ts = scan_shapes(layer, d, tm);
                        Tensor z = z_all.reshape(ts.z), v = v_all.reshape(ts.v), g = g_all.reshape(ts.v);
                        Tensor h = h_all.reshape(ts.v), dz = dz_all.reshape(ts.z), dv = dv_all.reshape(ts.v);
                        if (bwd) scan_forward(cfg, z, v, &h0, h, hf);  // a real forward's h, in this layout
                        cfg.kernel = &k;
                        const double sec = time_median(
                            o.reps, ceiling,
                            [&] {
                                if (bwd) {
                                    scan_backward(cfg, z, v, &h0, h, g, &gf, dz, dv, dh0);
                                    dz.sync();
                                } else {
                                    scan_forward(cfg, z, v, &h0, h, hf);
                                    h.sync();
                                }
                            },
                            k.name);
                        rows.push_back(timed_row(dname, lname, tm ? "time_major" : k.algorithm, bwd ? "bwd" : "fwd", k.name,
                                                 m, d.B, d.T, d.N, sec, bwd ? bwd_bytes : fwd_bytes, ceiling.best()));
                        if (arith) {
                            rows.back().steps = (double)(d.B * d.T * d.N);
                            rows.back().ops = scan_op_counts(layer == Layer::bdlru, m, bwd);
                        }
                    }
                }
                if (arith) {
                    arith->sample();
                    for (Row &r : rows) {
                        if (r.steps > 0) r.arith_ms = arith->bound_seconds(r.ops, r.steps) * 1e3;
                    }
                }
                print_rows(std::vector<Row>(rows.begin() + (std::ptrdiff_t)rows_before, rows.end()));
            }
        }
        const size_t before = rows.size();
        bench_peers(o, dname, dev, rows);
        if (rows.size() > before) print_rnn_rows(std::vector<Row>(rows.begin() + (std::ptrdiff_t)before, rows.end()));
        // Every row of this device against the best ceiling sample of the whole run.
        for (Row &r : rows) {
            if (r.device == dname) r.copy_gbps = ceiling.best();
        }
        fmt::print("{} ceiling: {:.1f} GB/s (best of {} samples interleaved with the kernels; spread {:.1f}-{:.1f} "
                   "GB/s; {}{} MiB per buffer)\n",
                   dname, ceiling.best(), ceiling.count(), ceiling.worst(), ceiling.best(),
                   dev == Device::cpu ? fmt::format("stream b = 1.0001*a, ordinary stores, {} threads, ", ceiling.threads())
                                      : std::string("device-to-device copy, "),
                   ceiling.buffer_bytes() >> 20);
        if (arith) {
            for (Row &r : rows) {
                if (r.device == dname && r.steps > 0) {
                    r.arith_ms = arith->bound_seconds(r.ops, r.steps) * 1e3;
                    r.fma_gflops = arith->fma_gflops();
                    r.exp_gps = arith->exp_gps();
                }
            }
            fmt::print("{} arithmetic ceiling: FMA {:.1f} GFLOP/s, exp {:.2f} G/s (the softmax kernels' exp), {}-float vectors, "
                       "best of {} samples on {} threads; \"arith ms\" is the time the scan's FMAs and exponentials "
                       "need at those rates (bench/arith_ceiling.h)\n",
                       dname, arith->fma_gflops(), arith->exp_gps(), arith_detail::isa_lanes(), arith->count(),
                       arith->threads());
        }
    }
    std::vector<Row> scan_rows, rnn_rows;
    for (const Row &r : rows) (is_rnn_core(r.layer) ? rnn_rows : scan_rows).push_back(r);
    fmt::print("\nAll rows:\n");
    if (!scan_rows.empty()) print_rows(scan_rows);
    if (!rnn_rows.empty()) {
        // Each core's rows, then its peers' rows, per device.
        std::stable_sort(rnn_rows.begin(), rnn_rows.end(), [&](const Row &a, const Row &b) {
            auto key = [&](const Row &r) {
                const size_t dev = std::find(o.devices.begin(), o.devices.end(), r.device) - o.devices.begin();
                const int core = r.layer == "elman" ? 0 : r.layer == "wcrnn" ? 1 : 2;
                return std::make_tuple(dev, core, !r.peer.empty());
            };
            return key(a) < key(b);
        });
        if (!scan_rows.empty()) fmt::print("\n");
        print_rnn_rows(rnn_rows);
        print_rnn_footer();
    }
    if (!o.json.empty()) {
        nlohmann::json j = nlohmann::json::array();
        for (const Row &r : rows) {
            j.push_back({{"device", r.device}, {"layer", r.layer}, {"m", r.m}, {"algorithm", r.algorithm},
                         {"direction", r.direction}, {"kernel", r.kernel}, {"B", r.B}, {"T", r.T}, {"N", r.N},
                         {"ms", r.ms}, {"mtokens_per_s", r.mtok_s}, {"gbps", r.gbps}, {"copy_gbps", r.copy_gbps},
                         {"fraction_of_copy", r.copy_gbps > 0 ? r.gbps / r.copy_gbps : 0.0}, {"reference_ms", r.ref_ms},
                         {"implementation", r.peer.empty() ? "statemix" : r.peer}, {"peer", r.peer},
                         {"input_gemm_ms", r.input_gemm_ms}, {"statemix_over_peer", r.statemix_over_peer},
                         {"arith_bound_ms", r.arith_ms}, {"fraction_of_arith", r.arith_ms > 0 ? r.arith_ms / r.ms : 0.0},
                         {"fma_ops_per_step", r.ops.fma}, {"exps_per_step", r.ops.exps},
                         {"fma_gflops", r.fma_gflops}, {"exp_gps", r.exp_gps}});
        }
        write_json_atomically(o.json, j);
        fmt::print("wrote {}\n", o.json);
    }
}

}  // namespace

void add_bench_command(CLI::App &app, std::function<void()> &run) {
    auto o = std::make_shared<BenchOptions>();
    CLI::App *cmd = app.add_subcommand("bench", "Time every kernel variant against the copy ceiling and the reference loop");
    cmd->add_option("--layers", o->layers, "hlru, bdlru (scans); elman, wcrnn, lstm (RNN cores, H = --width)")
        ->delimiter(',')
        ->check(CLI::IsMember({"hlru", "bdlru", "elman", "wcrnn", "lstm"}));
    cmd->add_option("--orders", o->orders, "m values (default: every compiled one)")->delimiter(',');
    cmd->add_option("--devices", o->devices, "cpu, cuda (cuda is skipped when absent)")->delimiter(',')
        ->check(CLI::IsMember({"cpu", "cuda"}));
    cmd->add_option("--algorithms", o->algorithms, "algorithms: sequential, chunked (the backward of the same algorithm where the build has one), "
                    "time_major (the sequential scan on [T,B,...] sequences, where compiled)")->delimiter(',')
        ->check(CLI::IsMember({"sequential", "chunked", "time_major"}));
    cmd->add_option("--batch", o->batch, "B")->capture_default_str();
    cmd->add_option("--seq", o->seq, "T")->capture_default_str();
    cmd->add_option("--width", o->width, "state width N*m (N = width/m blocks or channels, for H-LRU too, so "
                    "every m moves about the same bytes; the tuner's --shape and buckets count H-LRU's N channels: its "
                    "state 256 at m = 4 is --width 1024 here); hidden size H of the RNN cores")
        ->capture_default_str();
    cmd->add_option("--reps", o->reps, "timed runs per kernel (median)")->capture_default_str();
    cmd->add_flag("!--no-reference", o->reference, "skip the plain C++ reference loop");
    cmd->add_flag("!--no-peers", o->peers, "skip the peer libraries' RNN layers (statemix_peer_onednn / _cudnn)");
    cmd->add_option("--peers", o->peers_dir, "look for the peer executables in this directory first "
                                             "(default: next to statemix)");
    cmd->add_option("--json", o->json, "also write the rows as JSON to this file");
    cmd->add_flag("--variants", o->variants, "also time every other compiled kernel of each layer and m (defaults, "
                  "every CPU tier's tuned winners, two-pass, time-major), one row per kernel and direction");
    cmd->callback([o, &run] { run = [o] { run_bench(*o); }; });
}

}  // namespace statemix::cli
