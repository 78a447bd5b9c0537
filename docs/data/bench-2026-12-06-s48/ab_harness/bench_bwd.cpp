// A/B harness for bdlru_backward variants (one-pass): B=16, T=2048, m given, N=1024/m, softmax.
// The first kernel is the reference for the others (max |diff| relative to max |value|).
#include "HalideBuffer.h"
#include "HalideRuntime.h"
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cmath>
#include <random>
#include <vector>
#include <string>
#include <algorithm>
#include "kernels.h"
using Halide::Runtime::Buffer;
static double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }
typedef int (*Fn)(halide_buffer_t*, halide_buffer_t*, halide_buffer_t*, halide_buffer_t*, halide_buffer_t*, halide_buffer_t*, int,
                  halide_buffer_t*, halide_buffer_t*, halide_buffer_t*, halide_buffer_t*, halide_buffer_t*);
struct K { const char *name; int m; int layout; Fn fn; };  // layout: 0 [B,m,N] adj, 1 [B,N,m] (vector_rows), 2 [B,N,m+1] (vector_logits)
int main(int argc, char **argv) {
    int reps = argc > 1 ? atoi(argv[1]) : 3;
    int B = argc > 2 ? atoi(argv[2]) : 16, T = argc > 3 ? atoi(argv[3]) : 2048;
    int norm = argc > 4 ? atoi(argv[4]) : 0;
    std::vector<K> ks = {KERNELS};
    const int m = ks[0].m, N = argc > 5 ? atoi(argv[5]) : 1024 / m, K1 = m + 1;
    std::mt19937 rng(1); std::normal_distribution<float> nd(0, 1);
    const bool tm = getenv("TM") != nullptr;
    auto seq = [&](std::vector<int> inner) {  // (inner..., N, T, B) with t outer when time-major
        std::vector<int> sz = inner; sz.push_back(N); sz.push_back(T); sz.push_back(B);
        if (!tm) return Buffer<float>(sz);
        std::vector<int> szt = inner; szt.push_back(N); szt.push_back(B); szt.push_back(T);
        Buffer<float> a(szt); a.transpose(inner.size() + 1, inner.size() + 2); return a;
    };
    Buffer<float> z = seq({K1, m}), v = seq({m}), h0(m, N, B), h = seq({m}), g = seq({m}), gf(m, N, B);
    for (auto *b : {&z, &v, &h, &g, &gf, &h0}) b->for_each_value([&](float &x) { x = nd(rng); });
    struct Out { Buffer<float> dz, dvb, dh0, adjA, adjB; };
    std::vector<Out> outs;
    for (auto &k : ks) {
        Out o{seq({K1, m}), seq({m}), Buffer<float>(m, N, B),
              Buffer<float>(std::vector<int>{B * K1 * N}), Buffer<float>(std::vector<int>{B * K1 * N})};
        outs.push_back(std::move(o));
    }
    auto run = [&](size_t i) {
        auto &o = outs[i];
        halide_dimension_t dvd[5] = {{0, K1, 0}, {0, m, 1}, {0, N, m}, {0, T, tm ? m * N * B : m * N}, {0, B, tm ? m * N : m * N * T}};
        Buffer<float> dv(o.dvb.data(), 5, dvd);
        halide_dimension_t ad[5];
        if (ks[i].layout == 0) { halide_dimension_t a[5] = {{0, K1, 0}, {0, m, N}, {0, N, 1}, {0, T, 0}, {0, B, m * N}}; memcpy(ad, a, sizeof a); }
        else if (ks[i].layout == 1) { halide_dimension_t a[5] = {{0, K1, 0}, {0, m, 1}, {0, N, m}, {0, T, 0}, {0, B, m * N}}; memcpy(ad, a, sizeof a); }
        else { halide_dimension_t a[5] = {{0, K1, 1}, {0, m, 0}, {0, N, K1}, {0, T, 0}, {0, B, K1 * N}}; memcpy(ad, a, sizeof a); }
        Buffer<float> A(o.adjA.data(), 5, ad), Bb(o.adjB.data(), 5, ad);
        int e = ks[i].fn(z, v, h0, h, g, gf, norm, o.dh0, o.dz, dv, A, Bb);
        if (e) { printf("%s error %d\n", ks[i].name, e); exit(1); }
    };
    for (size_t i = 0; i < ks.size(); i++) run(i);
    auto cmp = [&](const Buffer<float> &a, const Buffer<float> &b) {
        double mx = 0, md = 0; size_t n = a.size_in_bytes() / 4; const float *pa = a.begin(), *pb = b.begin();
        for (size_t q = 0; q < n; q++) { mx = std::max(mx, (double)std::fabs(pa[q])); double d = std::fabs((double)pa[q] - pb[q]); if (!(d <= md)) md = d; }
        return md / mx;
    };
    for (size_t i = 1; i < ks.size(); i++)
        printf("%-24s vs %s: dz %.2e dv %.2e dh0 %.2e (max |diff| / max |value|)\n", ks[i].name, ks[0].name,
               cmp(outs[0].dz, outs[i].dz), cmp(outs[0].dvb, outs[i].dvb), cmp(outs[0].dh0, outs[i].dh0));
    std::vector<double> best(ks.size(), 1e9);
    for (int r = 0; r < reps; r++)
        for (size_t i = 0; i < ks.size(); i++) { double t0 = now(); run(i); best[i] = std::min(best[i], now() - t0); }
    double bytes = 4.0 * B * T * N * (2.0 * m * (m + 1) + 5 * m);
    for (size_t i = 0; i < ks.size(); i++)
        printf("%-24s m=%d %9.2f ms %6.1f GB/s  %.2fx the first\n", ks[i].name, m, best[i] * 1e3, bytes / best[i] / 1e9, best[0] / best[i]);
}
