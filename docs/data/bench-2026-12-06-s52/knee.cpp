// Copy-stream bandwidth against buffer size: b[i] = 1.0001f * a[i], 2 threads, ordinary stores,
// the same loop as bench/copy_ceiling.h. Sizes per buffer in MiB; rounds interleaved; best and
// worst per size. Shows where the last-level cache stops helping.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>
#include <algorithm>
#include <cstring>
int main(int argc, char **argv) {
    std::vector<long> mib = {8, 16, 32, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 2048};
    const int rounds = argc > 1 ? atoi(argv[1]) : 5, nt = 2;
    std::vector<float *> A, B;
    for (long m : mib) {
        size_t n = (size_t)m << 18;
        float *a = (float *)aligned_alloc(64, n * 4), *b = (float *)aligned_alloc(64, n * 4);
        memset(a, 0, n * 4); memset(b, 0, n * 4);
        A.push_back(a); B.push_back(b);
    }
    std::vector<std::vector<double>> gbs(mib.size());
    for (int r = 0; r < rounds; r++) {
        for (size_t s = 0; s < mib.size(); s++) {
            const size_t n = (size_t)mib[s] << 18;
            float *a = A[s], *b = B[s];
            // a few passes so small buffers are measured warm (in cache) as the kernels would be
            const int passes = std::max<long>(1, 1024 / mib[s]);
            auto t0 = std::chrono::steady_clock::now();
            for (int p = 0; p < passes; p++) {
                std::vector<std::thread> th;
                for (int i = 0; i < nt; i++) th.emplace_back([=] {
                    const size_t lo = n * i / nt, hi = n * (i + 1) / nt;
                    for (size_t k = lo; k < hi; k++) b[k] = 1.0001f * a[k];
                });
                for (auto &t : th) t.join();
            }
            double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            gbs[s].push_back(2.0 * n * 4 * passes / dt / 1e9);
        }
    }
    printf("MiB/buffer  best GB/s  worst GB/s  (%d rounds, %d threads)\n", rounds, nt);
    for (size_t s = 0; s < mib.size(); s++)
        printf("%10ld  %9.1f  %10.1f\n", mib[s], *std::max_element(gbs[s].begin(), gbs[s].end()), *std::min_element(gbs[s].begin(), gbs[s].end()));
}
