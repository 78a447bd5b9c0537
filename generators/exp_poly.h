// The constants of the softmax kernels' e^x for x <= 0 (gate_norm.h, detail::exp_nonpositive), in
// a header without Halide so the bench's arithmetic ceiling (bench/arith_ceiling.h) times the
// same arithmetic the kernels run:
//   x' = max(x, kExpClamp);  k = int(x'·kLog2e - 1/2)  (truncating: round to nearest for x' <= 0);
//   r = x' - k·kLn2 ∈ [-ln2/2, ln2/2];  e^x ≈ P(r)·2^k,  P(r) = Σ kExpPoly[i]·r^(5-i) (Horner).
// P is the degree-5 minimax polynomial of e^r on [-ln2/2, ln2/2] for the relative error (Remez;
// 7.5e-8 in exact arithmetic); evaluated in float32 the whole is within 1.2e-6 relative on
// [-20, 0], the float32 k·ln2 of the reduction dominating. x' <= -88 gives k = -127 and 2^k's
// bits 0, so e^x = 0 there (under float32's smallest normal).
#pragma once

namespace statemix::gen {

constexpr float kExpClamp = -88.0f;
constexpr float kLog2e = 1.44269504f;
constexpr float kLn2 = 0.693147182f;
constexpr float kExpPoly[6] = {0.008297654800117016f, 0.04191538318991661f, 0.16667574644088745f,
                               0.49998894333839417f,  0.9999997019767761f,  1.0000001192092896f};

}  // namespace statemix::gen
