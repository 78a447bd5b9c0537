// The arithmetic ceiling of `statemix bench` (bench/arith_ceiling.h, issue #11 item 3): its exp is
// the softmax kernels' exp (gate_norm.h's exp_nonpositive), its rates are real measurements, its
// op counts are the scans' per-step arithmetic.
#include "bench/arith_ceiling.h"

#include <gtest/gtest.h>

#include <cmath>

namespace statemix {
namespace {

TEST(ArithCeiling, ExpIsTheKernelsExp) {
    using namespace arith_detail;
    // e^x for x <= 0 to ~1e-5 relative (the float32 k·ln 2 of its range reduction; the polynomial
    // alone is within 7.5e-8), exactly 0 under float32's smallest normal, as gate_norm.h's
    // exp_nonpositive that the softmax kernels run (and the scan kernel tests check).
    for (double x = -100; x <= 0; x += 0.0371) {
        v4f in = (v4f){} + (float)x, out;
        kernel_exp<v4f, v4i>(in, out);
        const double want = std::exp((double)(float)x);
        if (want < 1.2e-38) {
            EXPECT_LE(out[0], 1.2e-38f) << x;  // under the smallest normal: 0 or the smallest normals
        } else {
            EXPECT_NEAR(out[0] / want, 1.0, 1e-5) << x;
        }
        for (int l = 1; l < 4; l++) EXPECT_EQ(out[l], out[0]);
    }
    v4f zero = (v4f){}, one;
    kernel_exp<v4f, v4i>(zero, one);
    EXPECT_NEAR(one[0], 1.0f, 2e-7f);
}

TEST(ArithCeiling, MeasuresPositiveRatesAndBounds) {
    ArithCeiling a(1);
    a.sample();
    EXPECT_EQ(a.count(), 2u);
    // Any x86-64 does at least 1 GFLOP/s and 0.05 G exps/s on one core; none 10 TFLOP/s.
    EXPECT_GT(a.fma_gflops(), 1.0);
    EXPECT_LT(a.fma_gflops(), 1e4);
    EXPECT_GT(a.exp_gps(), 0.05);
    EXPECT_LT(a.exp_gps(), 1e3);
    // The bound is linear in the steps and in each count.
    const OpCounts c{10, 4};
    EXPECT_NEAR(a.bound_seconds(c, 2e6), 2 * a.bound_seconds(c, 1e6), 1e-12);
    EXPECT_NEAR(a.bound_seconds(c, 1e6), 1e6 * (20 / (a.fma_gflops() * 1e9) + 4 / (a.exp_gps() * 1e9)), 1e-12);
}

TEST(ArithCeiling, OpCountsOfTheScans) {
    // BD-LRU, m = 8, forward: 8 rows x 9 logits = 72 exps; per row 2·9 (sum, scale) + 8 + 1 (mix).
    OpCounts f = scan_op_counts(true, 8, false);
    EXPECT_EQ(f.exps, 72);
    EXPECT_EQ(f.fma, 8 * 18 + 64 + 8);
    // The backward adds the adjoint (m² per block), dz (3 per logit) and dv (1 per row).
    OpCounts b = scan_op_counts(true, 8, true);
    EXPECT_EQ(b.exps, 72);
    EXPECT_EQ(b.fma, f.fma + 64 + 8 * 27 + 8);
    // H-LRU: one row per channel, m lags.
    OpCounts h = scan_op_counts(false, 4, false);
    EXPECT_EQ(h.exps, 5);
    EXPECT_EQ(h.fma, 10 + 4 + 1);
    // m = 1 (both families): one exponential per row of two logits, e^{-|z0 - z1|}.
    EXPECT_EQ(scan_op_counts(false, 1, false).exps, 1);
    EXPECT_EQ(scan_op_counts(true, 1, true).exps, 1);
    // m = 2: two exponentials per row of three, e^{-|z0 - z1|} and e^{-|max(z0, z1) - z2|}.
    EXPECT_EQ(scan_op_counts(false, 2, false).exps, 2);
    EXPECT_EQ(scan_op_counts(true, 2, true).exps, 4);
}

}  // namespace
}  // namespace statemix
