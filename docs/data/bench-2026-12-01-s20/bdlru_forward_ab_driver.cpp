// A/B microbench of two builds of the BD-LRU forward (fa, fb): min and median of REPS calls each,
// interleaved; NT threads (env, default 1); TM=1 (env): time-major sequences ([T,B,...], for kernels
// built with time_major=true). Usage: run M B T NBLOCKS REPS
#include "HalideBuffer.h"
#include "HalideRuntime.h"
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>
#include "a.h"
#include "b.h"
using Halide::Runtime::Buffer;
int main(int argc, char **argv) {
    if (argc < 6) { printf("usage: run M B T NBLOCKS REPS\n"); return 2; }
    const int M = atoi(argv[1]), B = atoi(argv[2]), T = atoi(argv[3]), N = atoi(argv[4]), reps = atoi(argv[5]);
    halide_set_num_threads(atoi(getenv("NT") ? getenv("NT") : "1"));
    const bool tm = getenv("TM") && atoi(getenv("TM"));
    auto seq = [&](std::vector<int> inner) {  // [.., T, B] dims, stored [B,T,..] or [T,B,..]
        std::vector<int> ext = inner;
        ext.push_back(tm ? B : T);
        ext.push_back(tm ? T : B);
        Buffer<float> buf(ext);
        const int d = (int)inner.size();
        if (tm) buf.transpose(d, d + 1);
        return buf;
    };
    Buffer<float> z = seq({M + 1, M, N}), v = seq({M, N}), sa = seq({M, N}), sb = seq({M, N});
    Buffer<float> h0(M, N, B), fa_(M, N, B), fb_(M, N, B);
    for (auto *b : {&z, &v, &h0}) b->for_each_value([](float &x) { x = (float)rand() / RAND_MAX - 0.5f; });
    auto run = [&](bool a) { return a ? fa(z, v, h0, 0, sa, fa_) : fb(z, v, h0, 0, sb, fb_); };
    if (run(true) || run(false)) { printf("kernel error\n"); return 1; }
    double md = 0;
    sa.for_each_element([&](const int *p) { md = std::max(md, (double)std::fabs(sa(p) - sb(p))); });
    std::vector<double> ta, tb;
    for (int r = 0; r < reps; r++) for (bool a : {true, false}) {
        auto t0 = std::chrono::steady_clock::now(); run(a); auto t1 = std::chrono::steady_clock::now();
        (a ? ta : tb).push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    std::sort(ta.begin(), ta.end()); std::sort(tb.begin(), tb.end());
    const double bytes = 4.0 * B * T * N * M * (M + 3);  // z, v in, h out (spec §6)
    printf("bdlru fwd%s m=%d B=%d T=%d N=%d  a min %.3f med %.3f | b min %.3f med %.3f ms | a/b min %.2fx | GB/s a %.2f b %.2f | max|diff| %.2e\n",
           tm ? " (time-major)" : "", M, B, T, N, ta[0], ta[reps / 2], tb[0], tb[reps / 2], ta[0] / tb[0], bytes / ta[0] / 1e6, bytes / tb[0] / 1e6, md);
}
