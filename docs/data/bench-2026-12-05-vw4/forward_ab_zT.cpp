// A/B microbench of two builds of the H-LRU forward (fa, fb), one thread, min of N calls.
// Usage: run M B T C REPS
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
    const int M = atoi(argv[1]), B = atoi(argv[2]), T = atoi(argv[3]), C = atoi(argv[4]), reps = atoi(argv[5]);
    halide_set_num_threads(atoi(getenv("NT") ? getenv("NT") : "1"));
    Buffer<float> z(M + 1, C, T, B), zb(C, M + 1, T, B), v(C, T, B), h0(M, C, B), sa(C, T, B), sb(C, T, B), fa_(M, C, B), fb_(M, C, B);
    for (auto *b : {&z, &zb, &v, &h0}) b->for_each_value([](float &x) { x = (float)rand() / RAND_MAX - 0.5f; });
    auto run = [&](bool a) { return a ? fa(z, v, h0, 0, sa, fa_) : fb(zb, v, h0, 0, sb, fb_); };
    if (run(true) || run(false)) { printf("kernel error\n"); return 1; }
    double md = 0;
    sa.for_each_element([&](const int *p) { md = std::max(md, (double)std::fabs(sa(p) - sb(p))); });
    std::vector<double> ta, tb;
    for (int r = 0; r < reps; r++) for (bool a : {true, false}) {
        auto t0 = std::chrono::steady_clock::now(); run(a); auto t1 = std::chrono::steady_clock::now();
        (a ? ta : tb).push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    std::sort(ta.begin(), ta.end()); std::sort(tb.begin(), tb.end());
    const double vsteps = (double)B * T * C / 16;
    printf("hlru fwd m=%d B=%d T=%d C=%d  a min %.4f med %.4f | b min %.4f med %.4f ms | a/b min %.2fx | ns/vector-step a %.2f b %.2f | max|diff| %.2e\n",
           M, B, T, C, ta[0], ta[reps / 2], tb[0], tb[reps / 2], ta[0] / tb[0], ta[0] * 1e6 / vsteps, tb[0] * 1e6 / vsteps, md);
}
