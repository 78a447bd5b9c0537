// A BD-LRU layer (block size m = 2) forward and backward through the installed statemix package,
// with the gradient of one input checked against a central finite difference of the loss
// L = sum(h * w) for a fixed random w. Exit status 0 when they agree.
#include <statemix.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

using namespace statemix;

int main() {
    const int64_t B = 2, T = 33, N = 24;
    const int m = 2;
    ScanConfig cfg;
    cfg.layer = Layer::bdlru;
    cfg.m = m;
    cfg.norm = Norm::softmax;
    ScanShapes s = scan_shapes(cfg.layer, {B, T, N, m});

    std::mt19937 rng(1);
    std::normal_distribution<float> nd(0.f, 1.f);
    auto random = [&](const Shape &shape) {
        Tensor t = Tensor::empty(shape);
        for (int64_t i = 0; i < t.numel(); i++) t.data()[i] = nd(rng);
        return t;
    };
    Tensor z = random(s.z), v = random(s.v), w = random(s.v);

    auto loss = [&](const Tensor &zz) {
        ScanForwardResult f = scan_forward(cfg, zz, v);
        double l = 0;
        for (int64_t i = 0; i < f.h.numel(); i++) l += (double)f.h.data()[i] * w.data()[i];
        return l;
    };
    ScanForwardResult f = scan_forward(cfg, z, v);
    ScanBackwardResult g = scan_backward(cfg, z, v, nullptr, f.h, w);  // dL/dh = w

    const int64_t probe = z.numel() / 3;
    const float eps = 1e-2f, z0 = z.data()[probe];
    z.data()[probe] = z0 + eps;
    const double lp = loss(z);
    z.data()[probe] = z0 - eps;
    const double lm = loss(z);
    z.data()[probe] = z0;
    const double fd = (lp - lm) / (2 * eps), an = g.dz.data()[probe];
    std::printf("BD-LRU m=%d, B=%lld T=%lld N=%lld: loss %.6f, dL/dz[%lld] analytic %.6f, finite difference %.6f\n", m,
                (long long)B, (long long)T, (long long)N, loss(z), (long long)probe, an, fd);
    const bool ok = std::abs(fd - an) <= 1e-2 * (1 + std::abs(an));
    std::printf("%s\n", ok ? "ok" : "MISMATCH");
    return ok ? 0 : 1;
}
