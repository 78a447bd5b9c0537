// CUDA schedules for the training runtime's pointwise, normalization, loss and optimizer ops
// (generators/nn_generator.cpp; stages in generators/nn_pipelines.h).
//
// Plain and deterministic: a thread per output element (2-D tiles of 32 columns × 8 rows, the
// columns contiguous so a warp's loads coalesce), and every reduction serial inside one thread in
// a fixed order, never atomics:
// - row statistics (LayerNorm's mean/rstd and its backward's row sums, cross-entropy's max,
//   Σexp, argmax): one kernel, a thread per row looping over the row (the row's later elements
//   come from L1), before the elementwise kernel that reads them;
// - reductions over rows (dgamma/dbeta, the embedding gradient, Σx²): a thread per (column,
//   chunk of `rows` rows) sums its chunk in row order; a second kernel adds the chunks in order.
// Rows go to the grid's x dimension (2^31 - 1 blocks) and columns to y (65535), so no row count
// of a training step overflows the grid.
// What a faster schedule would do (not done; nothing here has been measured on a GPU yet): a warp
// per row with shuffle reductions for the row statistics, and the row statistics fused into the
// elementwise kernel (Halide's compute_with across GPU kernels was not tried).
#pragma once

#include "Halide.h"
#include "../generators/nn_pipelines.h"

namespace statemix::sched::cuda {

using namespace Halide;
using statemix::gen::CrossEntropy;
using statemix::gen::EmbeddingBackward;
using statemix::gen::LagStackBackward;
using statemix::gen::LagStackForward;
using statemix::gen::LayerNormBackward;
using statemix::gen::LayerNormForward;
using statemix::gen::NnKnobs;
using statemix::gen::Pointwise;
using statemix::gen::RowPointwise;
using statemix::gen::SumSquares;
using statemix::gen::SwiGluBackward;

constexpr TailStrategy kNnGpuTail = TailStrategy::GuardWithIf;

inline std::vector<RVar> nn_gpu_rvars(Stage s) {
    std::vector<RVar> out;
    for (const auto &rv : s.get_schedule().rvars()) out.push_back(RVar(rv.var));
    return out;
}

// A thread per i, `tile` per block; returns the thread Var (for compute_at).
inline Var gpu_1d(Stage s, Var i, int tile) {
    Var io(i.name() + "_blk"), ii(i.name() + "_thr");
    s.split(i, io, ii, tile, kNnGpuTail).gpu_blocks(io).gpu_threads(ii);
    return ii;
}

// A thread per (x, y) in 32 × 8 tiles, blocks of y on the grid's x dimension. `inner`: RVars
// (serial loops) to keep inside the thread. Returns the thread Var of x.
inline Var gpu_2d(Stage s, Var x, Var y, const std::vector<RVar> &inner = {}) {
    Var xo(x.name() + "_blk"), xi(x.name() + "_thr"), yo(y.name() + "_blk"), yi(y.name() + "_thr");
    s.split(x, xo, xi, 32, kNnGpuTail).split(y, yo, yi, 8, kNnGpuTail);
    std::vector<VarOrRVar> order(inner.begin(), inner.end());
    for (Var v : {xi, yi, yo, xo}) order.push_back(v);
    s.reorder(order).gpu_threads(xi, yi).gpu_blocks(yo, xo);
    return xi;
}

// `f` (a reduction) computed by its own kernel, a thread per element of its pure dims: a wrapper
// holds the results, f's loops run inside the thread.
inline void per_thread_reduction(Func f, int tile) {
    Func w = f.in();
    w.compute_root();
    std::vector<Var> a = w.args();
    Var t = a.size() == 1 ? gpu_1d(w, a[0], tile) : gpu_2d(w, a[0], a[1]);
    f.compute_at(w, t);
}

inline void schedule(LayerNormForward &P, const NnKnobs &kn) {
    P.stats.compute_root();
    Var t = gpu_1d(P.stats, P.r, kn.tile);
    for (Func f : {P.sum, P.mean, P.sq}) f.compute_at(P.stats, t);
    gpu_2d(P.y, P.d, P.r);
    gpu_1d(P.mean_out, P.r, kn.tile);
    gpu_1d(P.rstd_out, P.r, kn.tile);
}

inline void schedule(LayerNormBackward &P, const NnKnobs &kn) {
    per_thread_reduction(P.sums, kn.tile);
    gpu_2d(P.dx, P.d, P.r);
    per_thread_reduction(P.part, kn.tile);    // a thread per (column, chunk)
    per_thread_reduction(P.colsum, kn.tile);  // a thread per column, chunks in order
    gpu_1d(P.dgamma, P.d, kn.tile);
    gpu_1d(P.dbeta, P.d, kn.tile);
}

inline void schedule(Pointwise &P, const NnKnobs &kn) { gpu_1d(P.out, P.i, kn.tile); }

inline void schedule(RowPointwise &P, const NnKnobs &) { gpu_2d(P.out, P.c, P.r); }

inline void schedule(SwiGluBackward &P, const NnKnobs &) {
    P.dab.reorder(P.half, P.f, P.r).unroll(P.half);
    Var t = gpu_2d(P.dab, P.f, P.r, {});
    P.sig.compute_at(P.dab, t);
}

// The scatter-add: a thread per (column, chunk) walks its chunk's rows in order, adding into its
// column of the chunk's partial table (no two threads write one element).
inline void schedule(EmbeddingBackward &P, const NnKnobs &) {
    Var d = P.d, v = P.v, u = P.u, vu("vu");
    P.part.compute_root();
    P.part.fuse(v, u, vu);
    gpu_2d(P.part, d, vu);
    Stage su = P.part.update(0);
    gpu_2d(su, d, u, nn_gpu_rvars(su));
    gpu_2d(P.dtable, d, v);
    Stage tu = P.dtable.update(0);
    gpu_2d(tu, d, v, nn_gpu_rvars(tu));
    if (P.dpos.defined()) {
        Var t = gpu_2d(P.dpos, d, P.p);
        P.pos_sum.compute_at(P.dpos, t);
    }
}

// Row statistics: the max in one kernel (dlogits reads it too, through exp(l - max)), Σexp and
// the argmax in a second, a thread per row; exp(l - max) is recomputed by dlogits (on the GPU an
// exp is cheaper than storing and re-reading it).
inline void schedule(CrossEntropy &P, const NnKnobs &kn) {
    per_thread_reduction(P.mx, kn.tile);
    P.stats.compute_root();
    Var t = gpu_1d(P.stats, P.r, kn.tile);
    for (Func f : {P.se, P.idx}) f.compute_at(P.stats, t);
    gpu_2d(P.dlogits, P.c, P.r);
    gpu_1d(P.loss, P.r, kn.tile);
    gpu_1d(P.pred, P.r, kn.tile);
}

// A thread per lane l of a chunk (L = tile lanes: the runtime passes part [chunks, tile]), so a
// warp's loads are consecutive floats.
inline void schedule(SumSquares &P, const NnKnobs &kn) {
    Var lo("lo"), li("li");
    P.part.split(P.l, lo, li, kn.tile, kNnGpuTail).reorder(li, P.u, lo).gpu_threads(li).gpu_blocks(P.u, lo);
    P.acc.compute_at(P.part, li);
}

inline void schedule(LagStackForward &P, const NnKnobs &) {
    Var kt("kt"), ktb("ktb");
    P.lags.fuse(P.k, P.t, kt).fuse(kt, P.b, ktb);
    gpu_2d(P.lags, P.n, ktb);
    Stage up = P.lags.update(0);
    gpu_2d(up, P.n, P.b, nn_gpu_rvars(up));
}

inline void schedule(LagStackBackward &P, const NnKnobs &) {
    Var tb("tb");
    P.ds.fuse(P.t, P.b, tb);
    Var t = gpu_2d(P.ds, P.n, tb);
    P.acc.compute_at(P.ds, t);
}

}  // namespace statemix::sched::cuda
