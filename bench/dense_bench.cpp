// statemix_dense_bench: GFLOP/s of the dense products (runtime/dense_ops.h) at the main model's
// shapes, and the cost of alternating them with a Halide kernel (OpenMP's spinning threads vs
// Halide's thread pool).
//
//   statemix_dense_bench [--rows R] [--reps N] [--device cpu|cuda] [IxO ...]
//       forward (with bias), dx, dW, db for each Linear [I -> O] at R rows, best of N
//       (default: R = 32768 = batch 128 x L 256, N = 5, the six Linears of the D = 128 model).
//       linear_backward computes dx, dW and db in one call: dx is timed as the difference of
//       calls with and without it, db alone as a call with I = 0 (empty x, W, dW).
//   statemix_dense_bench --alternate [--reps N]
//       N times: a forward at R = 32768, 128 -> 256, then a BD-LRU m = 2 scan_forward at
//       B = 128, T = 256, N = 128; each alone, then alternating; and the CPU time the process
//       burns in 20 ms of idle right after a product (threads left spinning). Run it under
//       different OMP_WAIT_POLICY / GOMP_SPINCOUNT settings to compare.
// Like statemix, it runs with OMP_WAIT_POLICY=passive unless the environment says otherwise
// (use_passive_openmp_wait, dense_ops.h); GOMP_SPINCOUNT=300000 gives libgomp's default.
#include "runtime/dense_ops.h"
#include "runtime/scan_ops.h"
#include "runtime/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace statemix;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

Tensor random(const Shape &shape, std::mt19937 &rng, float scale, Device device) {
    Tensor t = Tensor::empty(shape);
    std::uniform_real_distribution<float> ud(-scale, scale);
    for (int64_t i = 0; i < t.numel(); i++) t.data()[i] = ud(rng);
    return device == Device::cpu ? t : t.to(device);
}

// Best of `reps` timed calls of f (after one untimed call), in ms.
template <typename F>
double best_ms(int reps, Tensor &sync_on, F f) {
    f();
    sync_on.sync();
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        auto t0 = Clock::now();
        f();
        sync_on.sync();
        best = std::min(best, ms_since(t0));
    }
    return best;
}

double process_cpu_ms() {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

const char *env_or(const char *name, const char *dflt) {
    const char *v = std::getenv(name);
    return v && *v ? v : dflt;
}

void print_settings() {
    std::printf("# threads: hardware %u, OMP_NUM_THREADS=%s, OMP_WAIT_POLICY=%s, GOMP_SPINCOUNT=%s\n",
                std::thread::hardware_concurrency(), env_or("OMP_NUM_THREADS", "(unset)"),
                env_or("OMP_WAIT_POLICY", "(unset)"), env_or("GOMP_SPINCOUNT", "(unset)"));
}

int run_products(int64_t R, int reps, Device device, const std::vector<std::pair<int64_t, int64_t>> &shapes) {
    print_settings();
    std::printf("# R = %lld rows, best of %d, %s; GFLOP/s = 2*R*I*O / time (db: GB/s of dy read)\n", (long long)R, reps,
                device_name(device));
    std::printf("%6s %6s | %9s %8s | %9s %8s | %9s %8s | %8s %7s\n", "I", "O", "fwd ms", "GFLOP/s", "dx ms", "GFLOP/s",
                "dW ms", "GFLOP/s", "db ms", "GB/s");
    std::mt19937 rng(1);
    for (auto [I, O] : shapes) {
        Tensor x = random({R, I}, rng, 1.0f, device), W = random({O, I}, rng, 0.1f, device);
        Tensor b = random({O}, rng, 0.1f, device), dy = random({R, O}, rng, 1.0f, device);
        Tensor y = Tensor::empty({R, O}, device), dx = Tensor::empty({R, I}, device);
        Tensor dW = Tensor::empty({O, I}, device), db = Tensor::empty({O}, device);
        const double fwd = best_ms(reps, y, [&] { linear_forward(x, W, &b, y); });
        const double w = best_ms(reps, dW, [&] { linear_backward(x, W, dy, nullptr, false, dW, nullptr); });
        const double wx = best_ms(reps, dW, [&] { linear_backward(x, W, dy, &dx, false, dW, nullptr); });
        Tensor x0 = Tensor::empty({R, 0}, device), W0 = Tensor::empty({O, 0}, device);
        Tensor dW0 = Tensor::empty({O, 0}, device);
        const double dbm = best_ms(reps, db, [&] { linear_backward(x0, W0, dy, nullptr, false, dW0, &db); });
        const double flop = 2.0 * R * I * O, dxm = std::max(wx - w, 1e-6);
        std::printf("%6lld %6lld | %9.3f %8.1f | %9.3f %8.1f | %9.3f %8.1f | %8.3f %7.1f\n", (long long)I,
                    (long long)O, fwd, flop / fwd * 1e-6, dxm, flop / dxm * 1e-6, w, flop / w * 1e-6, dbm,
                    R * O * 4.0 / dbm * 1e-6);
    }
    return 0;
}

int run_alternate(int reps) {
    print_settings();
    const int64_t B = 128, T = 256, N = 128, m = 2, R = B * T, I = 128, O = 256;
    std::mt19937 rng(2);
    Tensor x = random({R, I}, rng, 1.0f, Device::cpu), W = random({O, I}, rng, 0.1f, Device::cpu);
    Tensor y = Tensor::empty({R, O});
    ScanConfig cfg;
    cfg.layer = Layer::bdlru;
    cfg.m = (int)m;
    cfg.algorithm = Algorithm::sequential;
    Tensor z = random({B, T, N, m, m + 1}, rng, 1.0f, Device::cpu), v = random({B, T, N, m}, rng, 1.0f, Device::cpu);
    Tensor h = Tensor::empty({B, T, N, m}), hf = Tensor::empty({B, N, m});
    const auto product = [&] { linear_forward(x, W, nullptr, y); };
    const auto scan = [&] { scan_forward(cfg, z, v, nullptr, h, hf); };
    product();
    scan();

    // Each alone, back to back (best of reps).
    const double p_alone = best_ms(reps, y, product), s_alone = best_ms(reps, h, scan);
    // Alternating: the scan right after a product, the product right after a scan.
    double p_alt = 1e30, s_alt = 1e30, pair = 1e30;
    for (int r = 0; r < reps; r++) {
        auto t0 = Clock::now();
        product();
        const double p = ms_since(t0);
        auto t1 = Clock::now();
        scan();
        const double s = ms_since(t1);
        p_alt = std::min(p_alt, p), s_alt = std::min(s_alt, s), pair = std::min(pair, ms_since(t0));
    }
    // Spinning: CPU time burnt by the process during 20 ms of sleep right after a product.
    double spin = 0;
    for (int r = 0; r < 3; r++) {
        product();
        const double c0 = process_cpu_ms();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        spin += (process_cpu_ms() - c0) / 3;
    }
    std::printf("product (R=%lld, %lld -> %lld) alone %.2f ms, after a scan %.2f ms\n", (long long)R, (long long)I,
                (long long)O, p_alone, p_alt);
    std::printf("scan (BD-LRU m=2, B=%lld T=%lld N=%lld) alone %.2f ms, after a product %.2f ms\n", (long long)B,
                (long long)T, (long long)N, s_alone, s_alt);
    std::printf("product + scan: %.2f ms (sum of the two alone: %.2f ms)\n", pair, p_alone + s_alone);
    std::printf("CPU time burnt in 20 ms of idle after a product: %.2f ms\n", spin);
    return 0;
}

}  // namespace

int main(int argc, char **argv) {
    use_passive_openmp_wait(argv);
    int64_t R = 32768;
    int reps = 5;
    bool alternate = false;
    Device device = Device::cpu;
    std::vector<std::pair<int64_t, int64_t>> shapes;
    try {
        flush_denormals_from_env();  // as `statemix` does (thread_pool.h)
        for (int a = 1; a < argc; a++) {
            const std::string s = argv[a];
            if (s == "--rows" && a + 1 < argc) {
                R = std::stoll(argv[++a]);
            } else if (s == "--reps" && a + 1 < argc) {
                reps = std::stoi(argv[++a]);
            } else if (s == "--device" && a + 1 < argc) {
                device = parse_device(argv[++a]);
            } else if (s == "--alternate") {
                alternate = true;
            } else if (s.find('x') != std::string::npos) {
                shapes.emplace_back(std::stoll(s.substr(0, s.find('x'))), std::stoll(s.substr(s.find('x') + 1)));
            } else {
                std::fprintf(stderr,
                             "usage: %s [--rows R] [--reps N] [--device cpu|cuda] [IxO ...] | --alternate [--reps N]\n",
                             argv[0]);
                return 2;
            }
        }
        if (alternate) return run_alternate(reps);
        if (shapes.empty()) shapes = {{128, 256}, {128, 768}, {256, 128}, {128, 704}, {352, 128}, {128, 16}};
        return run_products(R, reps, device, shapes);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
