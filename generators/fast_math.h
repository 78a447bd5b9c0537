// Math the generators share, where Halide's own lowering is slow on a target.
#pragma once

#include "Halide.h"

namespace statemix::gen {

// tanh for float32 that vectorizes. Halide's tanh lowers to libm's tanhf, one lane at a time, on
// x86: 40% of the CPU Elman forward + backward went to tanhf/expm1f (perf, 2026-11-28), and the
// scans' generic gate-norm branch evaluated it for every gate element. This is
// Cephes' tanhf: an odd polynomial for |x| < 0.625, else 1 - 2/(e^{2|x|} + 1) with Halide's own
// (vectorized) exp; about 2 ulp. NaN passes through; large |x| gives ±1 (e^{2|x|} = inf).
inline Halide::Expr tanh_f32(const Halide::Expr &x) {
    using namespace Halide;
    Expr ax = abs(x), z = x * x;
    Expr poly = ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z - 5.37397155531e-2f) * z + 1.33314422036e-1f) * z -
                 3.33332819422e-1f) * z * x + x;
    Expr big = 1.0f - 2.0f / (exp(2.0f * ax) + 1.0f);
    Expr r = select(ax < 0.625f, poly, select(x < 0.0f, -big, big));
    return select(is_nan(x), x, r);
}

}  // namespace statemix::gen
