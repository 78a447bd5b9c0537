// CUDA GPU schedules for the nonlinear recurrences (WCRNN, Elman, LSTM), forward and backward.
//
// The scan: one block per batch row, `tile` threads over the hidden units (a thread runs unit i's
// whole dot product, k innermost, then units i + tile, ...), and the whole time loop inside the
// one launch with barriers between steps (see scan_update for how they get there). W is read from
// global memory every step (coalesced: M(i, k) is contiguous in i) and stays in L2 for H up to
// ~2K; h_{t-1}[k] is the same address for every thread of a block (an L1 broadcast).
// Measured on the H200 (tile=512, k_unroll=8; M tokens/s forward / backward, incl. launch):
//   H=256,  B=32,  T=784: elman 3.4 / 2.1, wcrnn rotation 3.1 / 1.9, orthogonal 2.7 / 1.5, lstm 1.1 / 0.70
//   H=256,  B=256, T=100: elman 21.6 / 4.8, wcrnn rotation 21.8 / 4.6, lstm 7.9 / 1.8
//   H=1024, B=16,  T=256: elman 0.21 / 0.17, wcrnn rotation 0.21 / 0.16, lstm 0.074 / 0.042
// (cuDNN on the same GPU, ../shared/notes: tanh RNN H=1024 0.96 / 0.47, LSTM 0.97 / 0.40.)
// With one block per batch row, small batches use few SMs and each block streams all of W from L2
// every step; that is the gap at H=1024. What a faster schedule would do (not done here): keep W
// on chip, split over a cluster of blocks per batch row (a 1024² fp32 W is 4 MB: ~32 blocks ×
// 128 KB of shared memory, or bf16 in registers), exchange h_t through distributed shared memory,
// and process several batch rows per block so W is read once per step for all of them; h_{t-1}
// staged in shared memory (Halide cannot stage the scan's own previous row: a Func may not wrap
// itself, and a separate Func reading the state would be a cycle).
// The other stages are plain 2-D tiles, one thread per output element.
#pragma once

#include "Halide.h"
#include "../generators/rnn_pipelines.h"

namespace statemix::sched::cuda {

using namespace Halide;
using statemix::gen::MatVecScan;
using statemix::gen::RnnBackward;
using statemix::gen::RnnForward;
using statemix::gen::RnnKnobs;

inline std::vector<RVar> rnn_rvars_of(Stage s) {
    std::vector<RVar> out;
    for (const auto &rv : s.get_schedule().rvars()) out.push_back(RVar(rv.var));
    return out;
}

// A thread per (x, y) in 32 × 8 tiles; every other pure dim of the stage is fused into y.
inline void tile2d(Stage s, Var x, Var y) {
    Var xo("xo"), yo("yo"), xi("xi"), yi("yi");
    s.gpu_tile(x, y, xo, yo, xi, yi, 32, 8, TailStrategy::GuardWithIf);
}

inline void weights(const std::vector<Func> &ws, const MatVecScan &S) {
    for (Func w : ws) {
        Var kq("kq");
        w.compute_root();
        if (w.dimensions() == 3) {  // LSTM: (i, k, gate)
            w.fuse(S.k, S.q, kq);
            tile2d(w, S.i, kq);
        } else {
            tile2d(w, S.i, S.k);
        }
    }
}

// Units of one step are independent (see cpu_rnn_schedules.h): declared, as Halide cannot prove it.
//
// The per-step inputs are staged in shared memory at the step loop, by the block's threads. Besides
// saving global reads, this is what makes the step loop correct: Halide puts barriers only
// between sibling statements that disagree about memory, so with the scan as the step loop's
// only statement there was no barrier between steps at all (the PTX had no bar.sync, and the
// units of step t read h_{t-1} written by other threads). With the staging before it, Halide puts
// one after the staging and, the step loop now having internal synchronization, one at the end
// of every step.
inline void scan_update(MatVecScan &S, const RnnKnobs &kn) {
    RVar rio("rio"), rii("rii");
    S.state.update(S.scan_update)
        .allow_race_conditions()
        .partition(S.rk, Partition::Always)  // see cpu_rnn_schedules.h
        .split(S.ri, rio, rii, kn.tile, TailStrategy::GuardWithIf)
        .gpu_threads(rii)
        .gpu_blocks(S.b);
    for (Func f : S.step_inputs) {
        Var io("io"), ii("ii");
        f.compute_at(S.state, S.rt).split(S.i, io, ii, kn.tile, TailStrategy::GuardWithIf).gpu_threads(ii);
    }
}

inline void rnn_forward(RnnForward &P, const RnnKnobs &kn) {
    MatVecScan &S = P.scan;
    weights(S.weights, S);
    Var sb("sb"), tb("tb");
    S.state.compute_root().fuse(S.s, S.b, sb);
    tile2d(S.state, S.i, sb);
    scan_update(S, kn);
    Var t = P.seq.args()[1];
    P.seq.fuse(t, S.b, tb);
    tile2d(P.seq, S.i, tb);
    tile2d(P.final_state, S.i, S.b);
}

inline void rnn_backward(RnnBackward &P, const RnnKnobs &kn) {
    MatVecScan &S = P.scan;
    weights(S.weights, S);
    weights(P.pre_weights, S);
    if (P.pre_first.defined()) {
        Func f = P.pre_first;
        Var i = f.args()[0], qb("qb");
        f.compute_root().fuse(f.args()[1], f.args()[2], qb);
        tile2d(f, i, qb);
        Stage u = f.update(0);
        u.fuse(f.args()[1], f.args()[2], qb);
        tile2d(u, i, qb);
    }
    if (P.pre.defined()) {
        Var i = S.i, q = S.q, t = P.pre.args()[2], b = S.b, tb("tb"), qtb("qtb");
        P.pre.compute_root().fuse(t, b, tb).fuse(q, tb, qtb);
        tile2d(P.pre, i, qtb);
        Stage u = P.pre.update(0);
        u.fuse(t, b, tb).fuse(q, tb, qtb);
        tile2d(u, i, qtb);
    }
    {
        Var sb("sb");
        S.state.compute_root().fuse(S.s, S.b, sb);
        tile2d(S.state, S.i, sb);
        for (int u = 0; u < S.scan_update; u++) {
            Stage st = S.state.update(u);
            auto rv = rnn_rvars_of(st);
            Var io("io"), ii("ii");
            if (rv.empty()) tile2d(st, S.i, S.b);
            else {
                RVar o("o"), in("in");
                st.split(rv[0], o, in, 64, TailStrategy::GuardWithIf).gpu_threads(in).gpu_blocks(o).gpu_blocks(S.b);
            }
        }
        scan_update(S, kn);
    }
    for (Func f : P.pointwise) {
        std::vector<Var> a = f.args();
        if (a.size() == 3) {
            Var tb("tb");
            f.fuse(a[1], a[2], tb);
            tile2d(f, a[0], tb);
        } else {
            tile2d(f, a[0], a[1]);
        }
    }
    for (Func f : P.scattered) {
        std::vector<Var> a = f.args();
        for (int u = 0; u < f.num_update_definitions(); u++) {
            Stage st = f.update(u);
            RVar o("o"), in("in");
            Var tb("tb");
            st.fuse(a[1], a[2], tb).split(rnn_rvars_of(st)[0], o, in, 32, TailStrategy::GuardWithIf)
                .gpu_threads(in).gpu_blocks(o).gpu_blocks(tb);
        }
    }
    for (size_t n = 0; n < P.outer.size(); n++) {
        Func f = P.outer[n], out = P.outer_out[n];
        f.compute_root();
        tile2d(f, f.args()[0], f.args()[1]);
        tile2d(f.update(0), f.args()[0], f.args()[1]);
        tile2d(f.update(1), f.args()[0], f.args()[1]);  // the t = 0 terms (rnn_pipelines.h: outer_sum)
        tile2d(out, out.args()[0], out.args()[1]);
    }
    // Per-unit sums over (t, b): H threads alone were too few (35 ms vs 8 ms for the whole dense
    // backward at B=256, T=100, H=256), so the sum over b is factored out: a thread per (i, b)
    // sums over t, then a thread per i sums the B partials.
    for (Func f : P.sums) {
        Var i = f.args()[0], v("v"), io("io"), ii("ii");
        auto rv = rnn_rvars_of(f.update(0));
        Func part = f.update(0).rfactor(rv[1], v);
        part.compute_root();
        tile2d(part, i, v);
        tile2d(part.update(0), i, v);
        f.compute_root().gpu_tile(i, io, ii, 64, TailStrategy::GuardWithIf);
        f.update(0).gpu_tile(i, io, ii, 64, TailStrategy::GuardWithIf);
    }
    for (Func f : P.sum_inputs) {
        std::vector<Var> a = f.args();
        Var sb("sb");
        f.compute_root().fuse(a[1], a[2], sb);
        tile2d(f, a[0], sb);
    }
    for (Func f : P.sum_outputs) {
        Var io("io"), ii("ii");
        f.gpu_tile(f.args()[0], io, ii, 64, TailStrategy::GuardWithIf);
    }
}

}  // namespace statemix::sched::cuda
