// Persistent CUDA kernels for the forward of the mat-vec recurrences (Elman, WCRNN with an
// elementwise or 2x2-block residual): h_t = ρ(h_{t-1}) + ε·f(W h_{t-1} + u_t).
//
// Why hand-written (the one place statemix leaves Halide): keeping W on chip for H ≥ 256 needs W
// split over several SMs, and then every step ends with a barrier across thread blocks (a Hopper
// thread-block cluster exchanging h_t through distributed shared memory, or a grid-wide barrier of
// a cooperative launch). Halide has no cross-block synchronization, so its schedule
// (schedules/cuda_rnn_schedules.h) keeps one block per batch row that streams W from L2 every step.
//
// Layout (rnn_persistent.cu): the CTAs of a group own consecutive row slices of W, held in
// registers for the whole sequence (each warp R rows × H/32 columns per lane); every step each
// CTA gathers h_{t-1} of its batch rows into shared memory, computes its rows, and the group
// synchronizes. Two group kinds:
//   cluster  C ≤ 8 CTAs of one thread-block cluster (sm_90+), h exchanged in distributed shared
//            memory, one cluster barrier per step; batch rows split over clusters.
//   grid     every CTA of a cooperative launch, h exchanged through global memory (L2), one grid
//            barrier per step; for W too large for 8 SMs' registers (H > 512).
// The host side (this header's functions) picks the group kind and sizes from (B, H) and the
// device, or from Knobs (`statemix tune` sweeps them; STATEMIX_RNN_CUDA sets them).
#pragma once

#include <cstdint>
#include <string>

namespace statemix::cuda_persistent {

// Overrides of the automatic choice; 0 means "choose".
struct Knobs {
    int group = 0;          // cluster size C in {1, 2, 4, 8}; -1: grid-wide group
    int rows_per_warp = 0;  // R in {1, 2, 4} (R · ceil(H/32 rounded to a power of 2) ≤ 64)
    int rows_per_cta = 0;   // rows of W per CTA (grid groups; cluster groups use ceil(H/C))
    int batch_per_cta = 0;  // batch rows a CTA processes per step (per chunk for grid groups)
    int batch_split = 0;    // warps sharing the same rows, splitting the batch rows
};

// The launch a call will use (for logs, the benchmark and the tests).
struct Plan {
    bool ok = false;
    std::string why_not;  // when !ok: why the persistent kernel cannot run this call
    bool cluster = false;
    int C = 0, R = 0, kpl = 0, rows_per_cta = 0, warps_rows = 0, batch_split = 0, batch_per_cta = 0;
    int ctas = 0, threads = 0, smem_bytes = 0;
    std::string describe() const;
};

// Raw device pointers (CUdeviceptr values) of one forward call; rho_* null for Elman (ε = 1,
// f = tanh, no residual).
struct ForwardArgs {
    const float *u = nullptr, *W = nullptr, *h0 = nullptr;
    const float *rho_d = nullptr, *rho_u = nullptr, *rho_l = nullptr;
    float *h = nullptr, *h_final = nullptr;
    int64_t B = 0, T = 0, H = 0;
    float eps = 1.0f;
    int act = 0;      // 0 tanh, 1 relu
    int rho_act = 0;  // 0 identity, 1 tanh
};

// True when this binary holds the kernels (built with nvcc) and a GPU that runs them is present.
bool available();
Plan plan(int64_t B, int64_t H, const Knobs &knobs);
// Launches on the current CUDA context's default stream (asynchronous). Error on failure.
void forward(const ForwardArgs &a, const Plan &p);

}  // namespace statemix::cuda_persistent
