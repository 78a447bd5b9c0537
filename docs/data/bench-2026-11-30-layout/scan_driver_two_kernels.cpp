// Times two AOT BD-LRU m = 2 backward kernels (bwd_planar, bwd_interleaved: statemix_scan_generators
// -g bdlru_backward -f NAME -e c_header,object m=2 algorithm=sequential tile=128 [layout=planar]) through
// the runtime's scan_backward, best of N. Needs planar-layout.diff applied. Args: B T N reps p|i [offset].
#include "runtime/scan_ops.h"
#include "runtime/kernel_registry.h"
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
extern "C" int bwd_planar_argv(void **); extern "C" const halide_filter_metadata_t *bwd_planar_metadata();
extern "C" int bwd_interleaved_argv(void **); extern "C" const halide_filter_metadata_t *bwd_interleaved_metadata();
using namespace statemix;
int main(int argc, char **argv) {
    int B = atoi(argv[1]), T = atoi(argv[2]), N = atoi(argv[3]), m = 2, reps = atoi(argv[4]);
    bool planar = argv[5][0] == 'p';
    KernelEntry k{planar ? "bwd_planar" : "bwd_interleaved", "bdlru", "backward", "sequential", 2, "cpu", 0,
                  planar ? bwd_planar_argv : bwd_interleaved_argv, planar ? bwd_planar_metadata : bwd_interleaved_metadata,
                  planar ? "layout=planar" : ""};
    ScanConfig cfg; cfg.layer = Layer::bdlru; cfg.m = m;
    ScanDims d{B, T, N, m};
    ScanShapes s = scan_shapes(cfg.layer, d);
    std::mt19937 rng(1); std::normal_distribution<float> nd(0, 1);
    auto rnd = [&](const Shape &sh) { Tensor t = Tensor::empty(sh); for (int64_t i = 0; i < t.numel(); i++) t.data()[i] = nd(rng); return t; };
    Tensor z = rnd(s.z), v = rnd(s.v), g = rnd(s.v);
    auto r = scan_forward(cfg, z, v);
    Tensor dz = Tensor::empty(s.z), dv = Tensor::empty(s.v), dh0 = Tensor::empty(s.state);
    Tensor h = r.h;
    if (planar) { cfg.layout = ScanLayout::planar; z = to_planar(z, 2); v = to_planar(v, 1); g = to_planar(g, 1); h = to_planar(h, 1); dz = to_planar(dz, 2); dv = to_planar(dv, 1); }
    cfg.kernel = &k;
    if (argc > 6) {
        int off = atoi(argv[6]);
        auto shift = [&](Tensor &t, int i) { Tensor big = Tensor::empty({t.numel() + 64 * 8}); Tensor v2 = big.view(t.shape(), (int64_t)i * off); std::copy(t.data(), t.data() + t.numel(), v2.data()); t = v2; };
        shift(z, 1); shift(v, 2); shift(g, 3); shift(h, 4); shift(dz, 5); shift(dv, 6);
    }
    double best = 1e9;
    for (int i = 0; i < reps; i++) {
        auto t0 = std::chrono::steady_clock::now();
        scan_backward(cfg, z, v, nullptr, h, g, nullptr, dz, dv, dh0);
        auto t1 = std::chrono::steady_clock::now();
        best = std::min(best, std::chrono::duration<double>(t1 - t0).count() * 1e3);
    }
    printf("%s best %.2f ms\n", k.name, best);
}
