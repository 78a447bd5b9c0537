// A/B of the H-LRU forward: a (old kernel) as the runtime ran it before, two calls at N off the
// vector width L ([0, N - N mod L) and [N - L, N)); b (new kernel, in-pass shifted tail) one call.
// Usage: run M B T C L REPS   (NT threads, default 2)
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
int main(int argc, char **argv) {
    const int M = atoi(argv[1]), B = atoi(argv[2]), T = atoi(argv[3]), C = atoi(argv[4]), L = atoi(argv[5]), reps = atoi(argv[6]);
    halide_set_num_threads(atoi(getenv("NT") ? getenv("NT") : "2"));
    Buffer<float> z(M + 1, C, T, B), v(C, T, B), h0(M, C, B), sa(C, T, B), sb(C, T, B), fa_(M, C, B), fb_(M, C, B);
    for (auto *b : {&z, &v, &h0}) b->for_each_value([](float &x) { x = (float)rand() / RAND_MAX - 0.5f; });
    const int r = C % L;
    auto call_a = [&](int n0, int n) {
        auto zc = z.cropped(1, n0, n); auto vc = v.cropped(0, n0, n); auto hc = h0.cropped(1, n0, n);
        auto sc = sa.cropped(0, n0, n); auto fc = fa_.cropped(1, n0, n);
        return fa(zc, vc, hc, 0, sc, fc);
    };
    auto run = [&](bool a) {
        if (!a) return fb(z, v, h0, 0, sb, fb_);
        if (r == 0 || C <= L) return call_a(0, C);
        int e = call_a(0, C - r);
        return e ? e : call_a(C - L, L);
    };
    if (run(true) || run(false)) { printf("kernel error\n"); return 1; }
    double md = 0;
    sa.for_each_element([&](const int *p) { md = std::max(md, (double)std::fabs(sa(p) - sb(p))); });
    fa_.for_each_element([&](const int *p) { md = std::max(md, (double)std::fabs(fa_(p) - fb_(p))); });
    std::vector<double> ta, tb;
    for (int q = 0; q < reps; q++) for (bool a : {true, false}) {
        auto t0 = std::chrono::steady_clock::now(); run(a); auto t1 = std::chrono::steady_clock::now();
        (a ? ta : tb).push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    std::sort(ta.begin(), ta.end()); std::sort(tb.begin(), tb.end());
    printf("hlru fwd m=%d B=%d T=%d C=%d L=%d  two calls min %.3f med %.3f | one call min %.3f med %.3f ms | a/b min %.2fx med %.2fx | max|diff| %.2e\n",
           M, B, T, C, L, ta[0], ta[reps / 2], tb[0], tb[reps / 2], ta[0] / tb[0], ta[reps / 2] / tb[reps / 2], md);
}
