#define HLRU3
// A/B microbench: two builds of one scan backward (AOT objects fa, fb from mk.sh, no_asserts), called
// alternately in one process, one thread (NT=k for more), min and median of N calls; checks that
// dz and dv agree. Usage: run M B T WIDTH REPS [h]   (h: H-LRU, else BD-LRU; WIDTH = N*m)
// (2026-12-02: dh0 compared too, each build writing its own.)
#include "HalideBuffer.h"
#include "HalideRuntime.h"
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>
#include <algorithm>
#include <cmath>
#include "a.h"
#include "b.h"
using Halide::Runtime::Buffer;
static float frand() { return (float)rand() / RAND_MAX - 0.5f; }
int main(int argc, char **argv) {
    const int M = atoi(argv[1]), B = atoi(argv[2]), T = atoi(argv[3]), W = atoi(argv[4]), reps = atoi(argv[5]);
    const bool hl = argc > 6 && argv[6][0] == 'h';
    const int N = W / M;
    halide_set_num_threads(atoi(getenv("NT") ? getenv("NT") : "1"));
    auto rnd = [](Buffer<float> &b) { b.for_each_value([](float &x) { x = frand(); }); };
    Buffer<float> z, v, h0, h, g, gf, dh0, dh0b;
    std::vector<Buffer<float>> ga(4), gb(4);
    auto mk_adj = [&](std::vector<halide_dimension_t> d) { std::vector<float> *s = new std::vector<float>(M * N * B + N * (M + 1) * B + 64); return Buffer<float>(s->data(), (int)d.size(), d.data()); };
    if (!hl) {
        z = Buffer<float>(M + 1, M, N, T, B); v = Buffer<float>(M, N, T, B); h = Buffer<float>(M, N, T, B); g = Buffer<float>(M, N, T, B);
        h0 = Buffer<float>(M, N, B); gf = Buffer<float>(M, N, B); dh0 = Buffer<float>(M, N, B); dh0b = Buffer<float>(M, N, B);
        for (auto *gg : {&ga, &gb}) {
            (*gg)[0] = Buffer<float>(M + 1, M, N, T, B);
            std::vector<float> *s1 = new std::vector<float>((size_t)M * N * T * B);
            halide_dimension_t d1[5] = {{0, M + 1, 0}, {0, M, 1}, {0, N, M}, {0, T, M * N}, {0, B, M * N * T}};
            (*gg)[1] = Buffer<float>(s1->data(), 5, d1);
            for (int q : {2, 3}) (*gg)[q] = mk_adj({{0, M + 1, 0}, {0, M, N}, {0, N, 1}, {0, T, 0}, {0, B, M * N}});
        }
    } else {
        // Time-major ([T,B,...] in memory): the same dims (.., t, b), b's stride inside t's.
        const int C = W;  // channels
        auto tm = [&](int K, int ks) {  // (K?, C, T, B) time-major; K = 0: no k dim
            std::vector<halide_dimension_t> d;
            const int kk = K ? K : 1;
            if (K) d.push_back({0, K, ks});
            d.push_back({0, C, ks ? kk : 1});
            if (!K) d.back().stride = 1;
            const int row = (ks ? kk : 1) * C;
            d.push_back({0, T, row * B});
            d.push_back({0, B, row});
            std::vector<float> *st = new std::vector<float>((size_t)row * T * B + 64);
            return Buffer<float>(st->data(), (int)d.size(), d.data());
        };
        z = tm(M + 1, 1); v = tm(0, 0); h = tm(0, 0); g = tm(0, 0);
        h0 = Buffer<float>(M, C, B); gf = Buffer<float>(M, C, B); dh0 = Buffer<float>(M, C, B); dh0b = Buffer<float>(M, C, B);
        for (auto *gg : {&ga, &gb}) {
            (*gg)[0] = tm(M + 1, 1);
            std::vector<float> *s1 = new std::vector<float>((size_t)C * T * B);
            halide_dimension_t d1[4] = {{0, M + 1, 0}, {0, C, 1}, {0, T, C * B}, {0, B, C}};
            (*gg)[1] = Buffer<float>(s1->data(), 4, d1);
            for (int q : {2, 3}) { halide_dimension_t d[4] = {{0, M + 1, C}, {0, C, 1}, {0, T, 0}, {0, B, (M + 1) * C}}; (*gg)[q] = Buffer<float>((new std::vector<float>((size_t)(M + 1) * C * B + 64))->data(), 4, d); }
        }
    }
    for (auto *b : {&z, &v, &h0, &h, &g, &gf}) rnd(*b);
    auto run = [&](bool a) {
        auto &gg = a ? ga : gb;
#ifdef HLRU3
        return a ? fa(z, v, h0, h, g, gf, 0, dh0, gg[0], gg[1], gg[2]) : fb(z, v, h0, h, g, gf, 0, dh0b, gg[0], gg[1], gg[2]);
#else
        return a ? fa(z, v, h0, h, g, gf, 0, dh0, gg[0], gg[1], gg[2], gg[3]) : fb(z, v, h0, h, g, gf, 0, dh0b, gg[0], gg[1], gg[2], gg[3]);
#endif
    };
    if (run(true) || run(false)) { printf("kernel error\n"); return 1; }
    // agreement
    double md = 0, mx = 0;
    for (int q : {0, 1}) ga[q].for_each_element([&](const int *p) { double x = ga[q](p), y = gb[q](p); md = std::max(md, std::fabs(x - y)); mx = std::max(mx, std::fabs(x)); });
    dh0.for_each_element([&](const int *p) { md = std::max(md, (double)std::fabs(dh0(p) - dh0b(p))); });
    std::vector<double> ta, tb;
    for (int r = 0; r < reps; r++) for (bool a : {true, false}) {
        auto t0 = std::chrono::steady_clock::now(); run(a); auto t1 = std::chrono::steady_clock::now();
        (a ? ta : tb).push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    std::sort(ta.begin(), ta.end()); std::sort(tb.begin(), tb.end());
    printf("TM %s m=%d B=%d T=%d W=%d  old min %.4f med %.4f | new min %.4f med %.4f ms | old/new min %.2fx med %.2fx | max|diff| %.2e of %.2e\n", hl ? "hlru" : "bdlru", M, B, T, W,
           ta[0], ta[reps / 2], tb[0], tb[reps / 2], ta[0] / tb[0], ta[reps / 2] / tb[reps / 2], md, mx);
}
