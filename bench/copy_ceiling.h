// The bandwidth ceiling a benchmark reports its kernels against (issue #11), shared by
// `statemix bench` (tools/cmd_bench.cpp) and the autotuner (autotune/).
#pragma once

#include "statemix.h"

#include "HalideRuntime.h"
#include "HalideRuntimeCuda.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

namespace statemix {

// The bandwidth ceiling of a device (issue #11): what the machine can give, measured the way the
// kernels move data. CPU: the stream b[i] = 1.0001f * a[i] over two buffers 8x the last-level
// cache (64 MiB to 1 GiB each), ordinary (not non-temporal) stores, on as many threads as the kernels use; CUDA: a
// device-to-device copy of 512 MiB. This shared machine's bandwidth moves over minutes, so the
// bench takes a sample between kernel runs (interleaved) and uses the best sample of the whole
// run as every row's ceiling, printing the spread of the samples next to it.
class Ceiling {
public:
    explicit Ceiling(Device dev) : dev_(dev) {
        int64_t bytes = 512ll << 20;  // per buffer
        if (dev == Device::cpu) {
            const long llc = sysconf(_SC_LEVEL3_CACHE_SIZE);
            bytes = std::clamp<int64_t>(8 * (int64_t)(llc > 0 ? llc : 32l << 20), 64ll << 20, 1ll << 30);
            const char *env = std::getenv("HL_NUM_THREADS");
            threads_ = env && std::atoi(env) > 0 ? std::atoi(env) : (int)std::max(1u, std::thread::hardware_concurrency());
        }
        n_ = bytes / 4;
        src_ = Tensor::zeros({n_}, dev);
        dst_ = Tensor::zeros({n_}, dev);
        pass();  // first touch / JIT, untimed
    }
    void sample() {
        auto t0 = std::chrono::steady_clock::now();
        pass();
        samples_.push_back(2.0 * (double)n_ * 4 /
                           std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / 1e9);
    }
    double best() const { return samples_.empty() ? 0 : *std::max_element(samples_.begin(), samples_.end()); }
    // The best of the samples taken since the count was `from` (0 if none).
    double best_since(size_t from) const {
        return from >= samples_.size() ? 0 : *std::max_element(samples_.begin() + (long)from, samples_.end());
    }
    double worst() const { return samples_.empty() ? 0 : *std::min_element(samples_.begin(), samples_.end()); }
    size_t count() const { return samples_.size(); }
    int64_t buffer_bytes() const { return n_ * 4; }
    int threads() const { return threads_; }

private:
    void pass() {
        if (dev_ == Device::cpu) {
            const float *a = src_.data();
            float *b = dst_.data();
            std::vector<std::thread> th;
            for (int i = 0; i < threads_; i++) {
                th.emplace_back([=, n = n_, nt = threads_] {
                    const int64_t lo = n * i / nt, hi = n * (i + 1) / nt;
                    for (int64_t k = lo; k < hi; k++) b[k] = 1.0001f * a[k];
                });
            }
            for (auto &t : th) t.join();
        } else {
            if (halide_buffer_copy(nullptr, src_.raw(), halide_cuda_device_interface(), dst_.raw()) != 0) {
                throw Error("bench: device-to-device copy failed");
            }
            dst_.sync();
        }
    }
    Device dev_;
    int64_t n_ = 0;
    int threads_ = 1;
    Tensor src_, dst_;
    std::vector<double> samples_;
};

// Bytes that must move per token (spec §6), fp32: inputs read once, outputs written once.
inline int64_t bytes_per_token(Layer layer, int64_t N, int m, bool backward) {
    const int64_t zc = layer == Layer::bdlru ? (int64_t)m * (m + 1) : m + 1;  // logits
    const int64_t vc = layer == Layer::bdlru ? m : 1;                         // v, h, g, dv
    // forward: z, v in; h out.  backward: z, v, h, g in; dz, dv out.
    return 4 * N * (backward ? 2 * zc + 4 * vc : zc + 2 * vc);
}

}  // namespace statemix
