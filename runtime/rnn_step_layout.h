// What the step kernels (generators/rnn_pipelines.h: RnnStep) and the runtime that calls them
// (runtime/rnn_stepped.cpp) must agree on, with no Halide dependency: the packed weight layout.
//
// Wp [ceil(H/tile), H, G, tile] (row-major; Halide dims (ii, q, k, j)), tile = step_unit_tile(G):
//   Wp[j][k][q][ii] = W_q[j·tile + ii][k], zero for rows past H,
// where W_q is gate q's [H,H] block (G = 1 Elman/WCRNN, 2 WCRNN with a dense residual: W then R,
// 4 LSTM: rows q·H.. of its [4H,H] W). One value for every x86 target the CPU library holds
// (Halide picks the target at run time, so the layout cannot depend on the vector width).
// 32 units (2 AVX-512 vectors) for one or two gates; 16 for the LSTM's four, so that all four
// gates of 4 batch rows fit in 16 accumulators.
#pragma once

namespace statemix {

constexpr int step_unit_tile(int gates) { return gates >= 4 ? 16 : 32; }

}  // namespace statemix
