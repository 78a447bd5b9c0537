// Times the build's BD-LRU backward (or forward with a 7th argument 'f') through the runtime's ops,
// printing every 10th run. Args: B T N m reps [f]. Linked like bench/statemix_dense_bench.
#include "runtime/scan_ops.h"
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
using namespace statemix;
int main(int argc, char **argv) {
    int B = atoi(argv[1]), T = atoi(argv[2]), N = atoi(argv[3]), m = atoi(argv[4]), reps = atoi(argv[5]);
    bool fwd = argc > 6 && argv[6][0] == 'f';
    ScanConfig cfg; cfg.layer = Layer::bdlru; cfg.m = m;
    ScanDims d{B, T, N, m};
    ScanShapes s = scan_shapes(cfg.layer, d);
    std::mt19937 rng(1); std::normal_distribution<float> nd(0, 1);
    auto rnd = [&](const Shape &sh) { Tensor t = Tensor::empty(sh); for (int64_t i = 0; i < t.numel(); i++) t.data()[i] = nd(rng); return t; };
    Tensor z = rnd(s.z), v = rnd(s.v), g = rnd(s.v);
    auto r = scan_forward(cfg, z, v);
    Tensor dz = Tensor::empty(s.z), dv = Tensor::empty(s.v), dh0 = Tensor::empty(s.state);
    for (int i = 0; i < reps; i++) {
        auto t0 = std::chrono::steady_clock::now();
        if (fwd) scan_forward(cfg, z, v, nullptr, r.h, r.h_final);
        else scan_backward(cfg, z, v, nullptr, r.h, g, nullptr, dz, dv, dh0);
        auto t1 = std::chrono::steady_clock::now();
        if (i % 10 == 0) printf("%.2f ms\n", std::chrono::duration<double>(t1 - t0).count() * 1e3);
    }
}
