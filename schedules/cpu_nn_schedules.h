// x86 SIMD CPU schedules for the training runtime's pointwise, normalization, loss and optimizer
// ops (generators/nn_generator.cpp; stages in generators/nn_pipelines.h).
//
// Every op is memory-bound: vectors over the contiguous dim, a parallel task per chunk of
// `rows` rows (or 16K elements of a flat op), and one pass over memory where Halide allows it:
// - Row statistics (LayerNorm's mean/rstd, cross-entropy's max / Σexp / argmax) are computed
//   per row inside the output's loop over rows (the row is still in L1 when the output reads it
//   again), as vector partial sums (rfactor over SIMD lanes, then the lanes added: a fixed order,
//   so the same bits every run).
// - Outputs that come out of the same rows (LayerNorm's y, mean, rstd; cross-entropy's dlogits,
//   loss, pred) share one loop over rows, and LayerNorm backward's dx and dgamma/dbeta partials
//   one loop over chunks of rows (compute_with), instead of one pass each.
// - Tails use GuardWithIf everywhere: several ops run in place (add, scale, AdamW, LayerNorm
//   backward with accumulate), where ShiftInwards would apply an element twice.
#pragma once

#include "Halide.h"
#include "../generators/nn_pipelines.h"

namespace statemix::sched::cpu {

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

constexpr TailStrategy kNnTail = TailStrategy::GuardWithIf;
// Elements per parallel task of a flat op: 64 KB, a few tasks per core at the training sizes.
constexpr int kFlatChunk = 16384;

inline std::vector<RVar> nn_rvars(Stage s) {
    std::vector<RVar> out;
    for (const auto &rv : s.get_schedule().rvars()) out.push_back(RVar(rv.var));
    return out;
}

// A reduction over a row's contiguous dim (pure init + one update over one RVar), computed per
// row at `level` of `at` (its loop over rows): factored into one vector of vw lane partials
// (`intm`: vectorized loads, no horizontal op per element), then the lanes added in order.
// Partials and sum stay in registers: the loop over the row is partitioned (a masked store for
// the ragged last vector kept the partials on the stack, and the loop ran at the store-to-load
// latency: ~2x slower LayerNorm forward), and the row's results live in one-row buffers (with
// chunk-wide ones the lane additions went through memory).
// One vector of partials, not several: 4 (and 2) independent vectors were slower (LayerNorm
// forward, one thread, R = 32K, D = 128: 3.6 ms with 1, 4.2 with 2, 5.1 with 4 vectors).
inline void row_reduce(Func f, Func at, Var level, int vw) {
    Var r = f.args()[0], lane("lane");
    f.compute_at(at, level).bound_storage(r, 1).store_in(MemoryType::Register);
    Stage st = f.update(0);
    RVar rj = nn_rvars(st)[0], rjo("rjo"), rji("rji");
    Func intm = st.split(rj, rjo, rji, vw, kNnTail).rfactor(rji, lane);
    intm.compute_at(f, r).vectorize(lane).store_in(MemoryType::Register);
    intm.update(0).partition(rjo, Partition::Always).vectorize(lane);
}

// `out` (one value per row) computed in the loop over rows `ri` of `base`: same split of r into
// chunks `ro` of rows, same parallel loop; the row statistics of a row are computed once there,
// for every output that reads them.
inline void fuse_rows(Func out, Func base, Var r, Var ro, Var ri, const NnKnobs &kn) {
    out.split(r, ro, ri, kn.rows, kNnTail).parallel(ro);
    out.compute_with(base, ri);
}

inline void schedule(LayerNormForward &P, const NnKnobs &kn) {
    const int vw = kn.vector_width;
    Var r = P.r, ro("ro"), ri("ri");
    P.y.split(r, ro, ri, kn.rows, kNnTail).parallel(ro).vectorize(P.d, vw, kNnTail);
    fuse_rows(P.mean_out, P.y, r, ro, ri, kn);
    fuse_rows(P.rstd_out, P.y, r, ro, ri, kn);
    P.mean.compute_at(P.y, ri).bound_storage(r, 1).store_in(MemoryType::Register);
    P.stats.compute_at(P.y, ri).bound_storage(r, 1).store_in(MemoryType::Register);
    row_reduce(P.sum, P.y, ri, vw);
    row_reduce(P.sq, P.y, ri, vw);
}

// dx and the dgamma/dbeta partials of a chunk in one loop: part's chunk index is its Var r, split
// by 1 so its loop carries the name dx's chunk loop has (compute_with matches loops by name).
inline void schedule(LayerNormBackward &P, const NnKnobs &kn) {
    const int vw = kn.vector_width;
    Var d = P.d, r = P.r, ro("ro"), ri("ri"), ri1("ri1");
    P.dx.split(r, ro, ri, kn.rows, kNnTail).parallel(ro).vectorize(d, vw, kNnTail);
    row_reduce(P.sums, P.dx, ri, vw);
    P.part.compute_root().vectorize(d, vw, kNnTail).parallel(r);
    Stage pu = P.part.update(0);
    RVar rc = nn_rvars(pu)[0];
    pu.split(r, ro, ri1, 1).reorder(d, rc, ri1, ro).vectorize(d, vw, kNnTail).parallel(ro);
    pu.compute_with(P.dx, ro);
    // The partials in chunk order: D columns, serial over chunks.
    P.colsum.compute_root().vectorize(d, vw, kNnTail);
    P.colsum.update(0).vectorize(d, vw, kNnTail);
    P.dgamma.vectorize(d, vw, kNnTail);
    P.dbeta.vectorize(d, vw, kNnTail);
}

inline void schedule(Pointwise &P, const NnKnobs &kn) {
    Var io("io"), ii("ii");
    P.out.split(P.i, io, ii, kFlatChunk, kNnTail).parallel(io).vectorize(ii, kn.vector_width, kNnTail);
}

inline void schedule(RowPointwise &P, const NnKnobs &kn) {
    Var ro("ro"), ri("ri");
    P.out.split(P.r, ro, ri, kn.rows, kNnTail).parallel(ro).vectorize(P.c, kn.vector_width, kNnTail);
}

// σ(a) once per element of a row, read by both halves (da, db) of the unrolled half loop.
inline void schedule(SwiGluBackward &P, const NnKnobs &kn) {
    const int vw = kn.vector_width;
    Var ro("ro"), ri("ri");
    P.dab.split(P.r, ro, ri, kn.rows, kNnTail).parallel(ro).vectorize(P.f, vw, kNnTail).unroll(P.half);
    P.sig.store_at(P.dab, ro).compute_at(P.dab, ri).vectorize(P.f, vw, kNnTail);  // one allocation per task
}

// The scatter-add: a task per block of 16 columns (a cache line, or two vectors) walks the rows of
// each chunk in order, so every column's sum has one fixed order whatever the thread count (and
// no two tasks write one element). CPU kernels use one chunk (rows = 0).
inline void schedule(EmbeddingBackward &P, const NnKnobs &kn) {
    const int vw = kn.vector_width;
    Var d = P.d, v = P.v, p = P.p, dO("dO"), dI("dI");
    const int block = vw >= 16 ? vw : 2 * vw;
    P.part.compute_root().vectorize(d, vw, kNnTail).parallel(v);
    Stage su = P.part.update(0);
    RVar rc = nn_rvars(su)[0];
    su.split(d, dO, dI, block, kNnTail).reorder(dI, rc, P.u, dO).vectorize(dI, vw, kNnTail).parallel(dO);
    P.dtable.vectorize(d, vw, kNnTail).parallel(v);
    Stage tu = P.dtable.update(0);
    tu.reorder(d, nn_rvars(tu)[0], v).vectorize(d, vw, kNnTail).parallel(v);
    if (P.dpos.defined()) {
        P.dpos.vectorize(d, vw, kNnTail).parallel(p);
        P.pos_sum.compute_at(P.dpos, p).vectorize(d, vw, kNnTail);
        Stage ps = P.pos_sum.update(0);
        ps.reorder(d, nn_rvars(ps)[0]).vectorize(d, vw, kNnTail);
    }
}

// exp(l - max) is stored per row (`e`) and read by Σexp and by dlogits: one exp per element.
inline void schedule(CrossEntropy &P, const NnKnobs &kn) {
    const int vw = kn.vector_width;
    Var c = P.c, r = P.r, ro("ro"), ri("ri");
    P.dlogits.split(r, ro, ri, kn.rows, kNnTail).parallel(ro).vectorize(c, vw, kNnTail);
    fuse_rows(P.loss, P.dlogits, r, ro, ri, kn);
    fuse_rows(P.pred, P.dlogits, r, ro, ri, kn);
    P.stats.compute_at(P.dlogits, ri).bound_storage(r, 1).store_in(MemoryType::Register);
    P.e.store_at(P.dlogits, ro).compute_at(P.dlogits, ri).vectorize(c, vw, kNnTail);  // one allocation per task
    row_reduce(P.mx, P.dlogits, ri, vw);
    row_reduce(P.se, P.dlogits, ri, vw);
    row_reduce(P.idx, P.dlogits, ri, vw);
}

// float64 lanes (two or four vectors of the float width per lane group), a task per chunk.
inline void schedule(SumSquares &P, const NnKnobs &kn) {
    const int vw = kn.vector_width;
    P.part.vectorize(P.l, vw, kNnTail).parallel(P.u);
    P.acc.compute_at(P.part, P.u).vectorize(P.l, vw, kNnTail);
    Stage su = P.acc.update(0);
    su.reorder(P.l, nn_rvars(su)[0]).vectorize(P.l, vw, kNnTail);
}

inline void schedule(LagStackForward &P, const NnKnobs &kn) {
    const int vw = kn.vector_width;
    Var to("to"), ti("ti"), tb("tb");
    P.lags.split(P.t, to, ti, kn.rows, kNnTail).reorder(P.n, P.k, ti, to, P.b).fuse(to, P.b, tb).parallel(tb)
        .vectorize(P.n, vw, kNnTail);
    Stage up = P.lags.update(0);
    auto rz = nn_rvars(up);
    up.reorder(P.n, rz[0], rz[1], P.b).vectorize(P.n, vw, kNnTail).parallel(P.b);
}

inline void schedule(LagStackBackward &P, const NnKnobs &kn) {
    const int vw = kn.vector_width;
    Var to("to"), ti("ti"), tb("tb");
    P.ds.split(P.t, to, ti, kn.rows, kNnTail).reorder(P.n, ti, to, P.b).fuse(to, P.b, tb).parallel(tb)
        .vectorize(P.n, vw, kNnTail);
    P.acc.store_at(P.ds, tb).compute_at(P.ds, ti).vectorize(P.n, vw, kNnTail);  // one allocation per task
    Stage au = P.acc.update(0);
    au.reorder(P.n, nn_rvars(au)[0]).vectorize(P.n, vw, kNnTail);
}

}  // namespace statemix::sched::cpu
