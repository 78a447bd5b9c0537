// A/B harness for bdlru_forward (or, built with -DHLRU by LAYER=hlru build.sh, hlru_forward)
// variants built by build.sh from any generator binaries (so a generator change is timed without
// rebuilding the project): B = 16, T = 2048, N blocks (channels) as given, softmax, best of `reps`
// calls per kernel, the kernels interleaved. Relative timings only.
#include "HalideBuffer.h"
#include "HalideRuntime.h"
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>
#include <string>
#include <algorithm>
#include <cmath>
#include "kernels.h"  // generated: KERNELS list
using Halide::Runtime::Buffer;
static double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }
int main(int argc, char **argv) {
    int reps = argc > 1 ? atoi(argv[1]) : 3;
    const int B = getenv("HB") ? atoi(getenv("HB")) : 16, T = getenv("HT") ? atoi(getenv("HT")) : 2048;
    struct K { const char *name; int m; int N; int (*fn)(halide_buffer_t*, halide_buffer_t*, halide_buffer_t*, int, halide_buffer_t*, halide_buffer_t*); };
    std::vector<K> ks = {KERNELS};
    // copy ceiling
    size_t nbig = getenv("HB") ? (1u << 20) : (256u << 20);  // 1 GiB floats
    std::vector<float> a(nbig, 1.0f), bb(nbig, 0.0f);
    std::mt19937 rng(1); std::normal_distribution<float> nd(0, 1);
    std::vector<double> best(ks.size(), 1e9); double bestcopy = 1e9;
    struct Data { Buffer<float> z, v, h0, h, hf; };
    std::vector<Data> data;
    for (auto &k : ks) {
        int m = k.m, N = k.N;
        rng.seed(1000 * m + N);
#ifdef HLRU  // z [B,T,N,m+1], v and s [B,T,N]
        Data d{Buffer<float>(m + 1, N, T, B), Buffer<float>(N, T, B), Buffer<float>(m, N, B), Buffer<float>(N, T, B), Buffer<float>(m, N, B)};
#else
        Data d{Buffer<float>(m + 1, m, N, T, B), Buffer<float>(m, N, T, B), Buffer<float>(m, N, B), Buffer<float>(m, N, T, B), Buffer<float>(m, N, B)};
#endif
        d.z.for_each_value([&](float &x) { x = nd(rng); });
        d.v.for_each_value([&](float &x) { x = nd(rng); });
        d.h0.fill(0.f);
        data.push_back(std::move(d));
    }
    // One warm-up call each (page faults, thread pool start).
    for (size_t i = 0; i < ks.size(); i++) ks[i].fn(data[i].z, data[i].v, data[i].h0, 0, data[i].h, data[i].hf);
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        std::memcpy(bb.data(), a.data(), nbig * 4);  // one thread: a rough reference only, not the bench's ceiling
        double tc = now() - t0; bestcopy = std::min(bestcopy, tc);
        for (size_t i = 0; i < ks.size(); i++) {
            auto &d = data[i];
            double t1 = now();
            ks[i].fn(d.z, d.v, d.h0, 0, d.h, d.hf);
            best[i] = std::min(best[i], now() - t1);
        }
    }
    for (size_t i = 0; i < ks.size(); i++) {
        for (size_t r = 0; r < i; r++) {
            if (ks[r].m != ks[i].m || ks[r].N != ks[i].N) continue;
            double md = 0;
            const float *a0 = data[r].h.data(), *a1 = data[i].h.data();
            for (size_t e = 0; e < data[i].h.number_of_elements(); e++) md = std::max(md, (double)std::fabs(a0[e] - a1[e]));
            printf("check %s vs %s: max |diff| %.3g\n", ks[i].name, ks[r].name, md);
            break;
        }
    }
    printf("copy (1 thread memcpy) %.1f GB/s\n", 2.0 * nbig * 4 / bestcopy / 1e9);
    for (size_t i = 0; i < ks.size(); i++) {
        int m = ks[i].m, N = ks[i].N;
#ifdef HLRU
        double bytes = 4.0 * B * T * N * ((m + 1) + 2);
#else
        double bytes = 4.0 * B * T * N * (m * (m + 1) + 2 * m);
#endif
        printf("%-28s m=%d %8.2f ms %6.1f GB/s  %.3f ns/block-step\n", ks[i].name, m, best[i] * 1e3, bytes / best[i] / 1e9, best[i] * 1e9 / (double(B) * T * N));
    }
}
