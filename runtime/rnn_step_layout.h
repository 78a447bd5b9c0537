// What the step kernels (generators/rnn_pipelines.h: RnnStep) and the runtime that calls them
// (runtime/rnn_stepped.cpp) must agree on, with no Halide dependency: the packed weight layout.
//
// Wp [ceil(H/kStepUnitTile), H, G, kStepUnitTile] (row-major; Halide dims (ii, q, k, j)):
//   Wp[j][k][q][ii] = W_q[j·kStepUnitTile + ii][k], zero for rows past H,
// where W_q is gate q's [H,H] block (G = 1 Elman/WCRNN, 2 WCRNN with a dense residual: W then R,
// 4 LSTM: rows q·H.. of its [4H,H] W). One value for every x86 target the CPU library holds
// (Halide picks the target at run time, so the layout cannot depend on the vector width):
// 2 vectors on AVX-512, 4 on AVX2.
#pragma once

namespace statemix {

constexpr int kStepUnitTile = 32;

}  // namespace statemix
