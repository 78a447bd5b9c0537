// `statemix bench`: every compiled H-LRU / BD-LRU variant, forward, backward and
// forward+backward, on the CPU and (where present) the GPU. For each row it prints
//   ms | M tokens/s | GB/s of the bytes that must move (spec §6) | the GB/s of a copy of as many
//   bytes measured in the same run on the same device | % of that copy | the plain C++ reference
//   loop (-O3 -march=native, CPU) | speed-up over it.
// A table for people; --json FILE writes the same rows for machines.
#include "commands.h"
#include "json_file.h"
#include "reference_native.h"
#include "statemix.h"

#include "HalideRuntime.h"
#include "HalideRuntimeCuda.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
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
    std::string json;
};

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// Median seconds of `reps` runs of f after one warm-up (which also absorbs the CUDA JIT).
template <typename F>
double time_median(int reps, F f) {
    f();
    std::vector<double> ts;
    for (int i = 0; i < reps; i++) {
        auto t0 = Clock::now();
        f();
        ts.push_back(seconds_since(t0));
    }
    return median(ts);
}

// The ceiling: GB/s of copying bytes/2 bytes (so bytes move: read + write) on the device.
// On the CPU with every core (as the kernels use), on the GPU device to device.
double copy_gbps(Device dev, int64_t bytes_moved, int reps) {
    const int64_t n = std::max<int64_t>(1, bytes_moved / 2 / 4);
    Tensor src = Tensor::zeros({n}, dev), dst = Tensor::zeros({n}, dev);
    double s;
    if (dev == Device::cpu) {
        const int nt = std::max(1u, std::thread::hardware_concurrency());
        const float *a = src.data();
        float *b = dst.data();
        s = time_median(reps, [&] {
            std::vector<std::thread> th;
            for (int i = 0; i < nt; i++) {
                th.emplace_back([=] {
                    int64_t lo = n * i / nt, hi = n * (i + 1) / nt;
                    std::memcpy(b + lo, a + lo, (hi - lo) * sizeof(float));
                });
            }
            for (auto &t : th) t.join();
        });
    } else {
        s = time_median(reps, [&] {
            if (halide_buffer_copy(nullptr, src.raw(), halide_cuda_device_interface(), dst.raw()) != 0) {
                throw Error("bench: device-to-device copy failed");
            }
            dst.sync();
        });
    }
    return 2.0 * n * 4 / s / 1e9;
}

Tensor random_tensor(const Shape &shape, std::mt19937 &rng, Device dev) {
    Tensor t = Tensor::empty(shape);
    std::normal_distribution<float> nd(0.f, 1.f);
    float *p = t.data();
    for (int64_t i = 0; i < t.numel(); i++) p[i] = nd(rng);
    return dev == Device::cpu ? t : t.to(dev);
}

// Bytes that must move per token (spec §6), fp32: inputs read once, outputs written once.
int64_t bytes_per_token(Layer layer, int64_t N, int m, bool backward) {
    const int64_t zc = layer == Layer::bdlru ? (int64_t)m * (m + 1) : m + 1;  // logits
    const int64_t vc = layer == Layer::bdlru ? m : 1;                         // v, h, g, dv
    // forward: z, v in; h out.  backward: z, v, h, g in; dz, dv out.
    return 4 * N * (backward ? 2 * zc + 4 * vc : zc + 2 * vc);
}

struct Row {
    std::string device, layer, algorithm, direction, kernel;
    int m = 0;
    int64_t B = 0, T = 0, N = 0;
    double ms = 0, mtok_s = 0, gbps = 0, copy_gbps = 0, ref_ms = 0;
};

void print_rows(const std::vector<Row> &rows) {
    fmt::print("{:<5} {:<6} {:>3} {:<10} {:<8} {:>9} {:>9} {:>8} {:>9} {:>7} {:>10} {:>8}\n", "dev", "layer", "m",
               "algorithm", "dir", "ms", "Mtok/s", "GB/s", "copyGB/s", "%copy", "ref ms", "x ref");
    for (const Row &r : rows) {
        std::string ref = r.ref_ms > 0 ? fmt::format("{:.1f}", r.ref_ms) : "-";
        std::string x = r.ref_ms > 0 ? fmt::format("{:.1f}", r.ref_ms / r.ms) : "-";
        fmt::print("{:<5} {:<6} {:>3} {:<10} {:<8} {:>9.3f} {:>9.2f} {:>8.1f} {:>9.1f} {:>6.0f}% {:>10} {:>8}\n",
                   r.device, r.layer, r.m, r.algorithm, r.direction, r.ms, r.mtok_s, r.gbps, r.copy_gbps,
                   100 * r.gbps / r.copy_gbps, ref, x);
    }
}

void run_bench(const BenchOptions &o) {
    if (o.batch < 1 || o.seq < 1 || o.width < 1) throw Error("bench: --batch, --seq and --width must be >= 1");
    if (o.reps < 1) throw Error("bench: --reps must be >= 1");
    std::vector<Row> rows;
    std::mt19937 rng(1234);
    unsigned threads = std::max(1u, std::thread::hardware_concurrency());
    fmt::print("statemix bench: B={} T={} state width N*m~{} float32, {} CPU threads, median of {} runs\n", o.batch,
               o.seq, o.width, threads, o.reps);
    for (const std::string &dname : o.devices) {
        const Device dev = parse_device(dname);
        if (dev == Device::cuda && !cuda_available()) {
            fmt::print("cuda: skipped ({})\n", cuda_unavailable_reason());
            continue;
        }
        for (const std::string &lname : o.layers) {
            const Layer layer = parse_layer(lname);
            for (int m : supported_orders(layer, dev)) {
                if (!o.orders.empty() && std::find(o.orders.begin(), o.orders.end(), m) == o.orders.end()) continue;
                ScanDims d{o.batch, o.seq, std::max<int64_t>(1, o.width / m), m};
                ScanShapes s = scan_shapes(layer, d);
                Tensor z = random_tensor(s.z, rng, dev), v = random_tensor(s.v, rng, dev);
                Tensor g = random_tensor(s.v, rng, dev), gf = Tensor::zeros(s.state, dev);
                Tensor h0 = Tensor::zeros(s.state, dev);
                Tensor h = Tensor::empty(s.v, dev), hf = Tensor::empty(s.state, dev);
                Tensor dz = Tensor::empty(s.z, dev), dv = Tensor::empty(s.v, dev), dh0 = Tensor::empty(s.state, dev);

                // The reference loop (CPU, float32), once per shape: it is slow by design.
                double ref_f = 0, ref_b = 0;
                if (o.reference && dev == Device::cpu) {
                    std::vector<float> rh(h.numel()), rhf(hf.numel()), rdz(dz.numel()), rdv(dv.numel()), rdh(dh0.numel());
                    auto t0 = Clock::now();
                    reference_forward(layer, d, Norm::softmax, z.data(), v.data(), h0.data(), rh.data(), rhf.data());
                    ref_f = seconds_since(t0);
                    t0 = Clock::now();
                    reference_backward(layer, d, Norm::softmax, z.data(), v.data(), h0.data(), g.data(), gf.data(),
                                       rdz.data(), rdv.data(), rdh.data());
                    ref_b = seconds_since(t0);
                }
                const int64_t fwd_bytes = bytes_per_token(layer, d.N, m, false) * d.B * d.T;
                const int64_t bwd_bytes = bytes_per_token(layer, d.N, m, true) * d.B * d.T;
                const double copy_f = copy_gbps(dev, fwd_bytes, o.reps), copy_b = copy_gbps(dev, bwd_bytes, o.reps);
                ScanConfig bcfg{layer, m, Norm::softmax, Algorithm::automatic};
                const KernelEntry &bk = select_kernel(bcfg, "backward", dev, d);
                double t_bwd = time_median(o.reps, [&] {
                    scan_backward(bcfg, z, v, &h0, h, g, &gf, dz, dv, dh0);
                    dz.sync();
                });
                for (const std::string &aname : o.algorithms) {
                    ScanConfig cfg{layer, m, Norm::softmax, parse_algorithm(aname)};
                    const KernelEntry *fk = nullptr;
                    try {
                        fk = &select_kernel(cfg, "forward", dev, d);
                    } catch (const Error &) {
                        continue;  // this algorithm is not compiled for this m
                    }
                    double t_fwd = time_median(o.reps, [&] {
                        scan_forward(cfg, z, v, &h0, h, hf);
                        h.sync();
                    });
                    auto add = [&](const char *dir, const std::string &kname, double sec, int64_t bytes, double copy,
                                   double ref_sec) {
                        Row r{dname, lname, aname, dir, kname, m, d.B, d.T, d.N};
                        r.ms = sec * 1e3;
                        r.mtok_s = d.B * d.T / sec / 1e6;
                        r.gbps = bytes / sec / 1e9;
                        r.copy_gbps = copy;
                        r.ref_ms = ref_sec * 1e3;
                        rows.push_back(r);
                    };
                    add("fwd", fk->name, t_fwd, fwd_bytes, copy_f, ref_f);
                    add("bwd", bk.name, t_bwd, bwd_bytes, copy_b, ref_b);
                    const double copy_fb = (double)(fwd_bytes + bwd_bytes) / (fwd_bytes / copy_f + bwd_bytes / copy_b);
                    add("fwd+bwd", std::string(fk->name) + "+" + bk.name, t_fwd + t_bwd, fwd_bytes + bwd_bytes, copy_fb,
                        ref_f + ref_b);
                }
                print_rows(std::vector<Row>(rows.end() - std::min<size_t>(rows.size(), 3 * o.algorithms.size()), rows.end()));
            }
        }
    }
    fmt::print("\nAll rows:\n");
    print_rows(rows);
    if (!o.json.empty()) {
        nlohmann::json j = nlohmann::json::array();
        for (const Row &r : rows) {
            j.push_back({{"device", r.device}, {"layer", r.layer}, {"m", r.m}, {"algorithm", r.algorithm},
                         {"direction", r.direction}, {"kernel", r.kernel}, {"B", r.B}, {"T", r.T}, {"N", r.N},
                         {"ms", r.ms}, {"mtokens_per_s", r.mtok_s}, {"gbps", r.gbps}, {"copy_gbps", r.copy_gbps},
                         {"fraction_of_copy", r.gbps / r.copy_gbps}, {"reference_ms", r.ref_ms}});
        }
        write_json_atomically(o.json, j);
        fmt::print("wrote {}\n", o.json);
    }
}

}  // namespace

void add_bench_command(CLI::App &app, std::function<void()> &run) {
    auto o = std::make_shared<BenchOptions>();
    CLI::App *cmd = app.add_subcommand("bench", "Time every kernel variant against the copy ceiling and the reference loop");
    cmd->add_option("--layers", o->layers, "hlru, bdlru")->delimiter(',')->check(CLI::IsMember({"hlru", "bdlru"}));
    cmd->add_option("--orders", o->orders, "m values (default: every compiled one)")->delimiter(',');
    cmd->add_option("--devices", o->devices, "cpu, cuda (cuda is skipped when absent)")->delimiter(',')
        ->check(CLI::IsMember({"cpu", "cuda"}));
    cmd->add_option("--algorithms", o->algorithms, "forward algorithms: sequential, chunked")->delimiter(',')
        ->check(CLI::IsMember({"sequential", "chunked"}));
    cmd->add_option("--batch", o->batch, "B")->capture_default_str();
    cmd->add_option("--seq", o->seq, "T")->capture_default_str();
    cmd->add_option("--width", o->width, "state width N*m (N = width/m)")->capture_default_str();
    cmd->add_option("--reps", o->reps, "timed runs per kernel (median)")->capture_default_str();
    cmd->add_flag("!--no-reference", o->reference, "skip the plain C++ reference loop");
    cmd->add_option("--json", o->json, "also write the rows as JSON to this file");
    cmd->callback([o, &run] { run = [o] { run_bench(*o); }; });
}

}  // namespace statemix::cli
