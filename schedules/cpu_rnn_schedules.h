// x86 SIMD CPU schedules for the nonlinear recurrences (WCRNN, Elman, LSTM), forward and backward.
//
// The scan (generators/rnn_pipelines.h): a batch row per parallel task, time serial inside it,
// and each step's mat-vec as column sweeps: for each chunk of k_unroll columns, every vector of
// hidden units (SIMD lanes over i) is loaded once, gets k_unroll multiply-adds with broadcast
// h_{t-1}[k], and is stored once. The state of one batch row lives in that task only (computed
// inside the copy-out's parallel loop over b), so nothing of size B·T·H is allocated in the
// forward but the output.
// The parallel stages of the backward (pre-activations, weight gradients) are GEMM-like and run
// over (t, b) or over rows of the gradient; they are plain, not blocked for cache (what a faster
// schedule would add first: register tiles of several rows × vectors, and k-blocking of W).
// Every update() is scheduled explicitly: an unscheduled update runs scalar.
#pragma once

#include "Halide.h"
#include "../generators/rnn_pipelines.h"

namespace statemix::sched::cpu {

using namespace Halide;
using statemix::gen::MatVecScan;
using statemix::gen::RnnBackward;
using statemix::gen::RnnForward;
using statemix::gen::RnnKnobs;
using statemix::gen::RnnStep;

inline std::vector<RVar> rvars_of(Stage s) {
    std::vector<RVar> out;
    for (const auto &rv : s.get_schedule().rvars()) out.push_back(RVar(rv.var));
    return out;
}

// Padded weight copies M(i, k): computed once per call, rows of k in parallel.
inline void weights(const std::vector<Func> &ws, const MatVecScan &S, const RnnKnobs &kn) {
    for (Func w : ws) {
        Var ko("ko"), ki("ki");
        w.compute_root().split(S.k, ko, ki, 16, TailStrategy::GuardWithIf).parallel(ko)
            .vectorize(S.i, kn.vector_width, TailStrategy::GuardWithIf);
    }
}

// The scan's update: lanes over the hidden units (ri), k-chunks outside, steps outside those.
// Units of one step are independent (unit i writes only S(i, row) and reads S(i, row) and the
// other row), which Halide's race check cannot prove through the row arithmetic: declare it.
// The k-chunk loop must be partitioned (its last iteration, the nonlinearity, split off so the
// steady state is pure multiply-adds); Partition::Always turns a silent miss into a compile
// error. (A miss was measured: the Elman forward evaluated tanh on every chunk, 10x slower.)
// batch_tile > 1: the batch rows of the state's tile are interleaved innermost (unrolled, outside
// the lanes), so one vector of W serves them all (see rnn_forward).
inline void scan_update(MatVecScan &S, const RnnKnobs &kn, int batch_tile = 1) {
    RVar rio("rio"), rii("rii");
    Stage st = S.state.update(S.scan_update);
    st.allow_race_conditions()
        .partition(S.rk, Partition::Always)
        .split(S.ri, rio, rii, kn.vector_width, TailStrategy::GuardWithIf)
        .vectorize(rii);
    if (batch_tile > 1) {
        Var sbo("sbo"), sbi("sbi");
        st.split(S.b, sbo, sbi, batch_tile, TailStrategy::GuardWithIf)
            .reorder(rii, sbi, rio, S.rk, S.rt, sbo)
            .unroll(sbi);
    }
}

// The forward runs a tile of batch_tile batch rows per task, interleaved inside the step's column
// sweep: for each k-chunk and vector of hidden units, the k_unroll vectors of W are loaded once
// and serve every row of the tile (LLVM shares the loads across the unrolled rows: W and the state
// are different buffers), instead of W streaming from L2 once per batch row.
inline void rnn_forward(RnnForward &P, const RnnKnobs &kn) {
    MatVecScan &S = P.scan;
    const TailStrategy tail = TailStrategy::GuardWithIf;
    weights(S.weights, S, kn);
    Var bo("bo"), bi("bi");
    P.seq.split(S.b, bo, bi, kn.batch_tile, tail).vectorize(S.i, kn.vector_width, tail).parallel(bo);
    S.state.compute_at(P.seq, bo).vectorize(S.i, kn.vector_width, tail);
    scan_update(S, kn, kn.batch_tile);
    P.final_state.vectorize(S.i, kn.vector_width, tail);
}

// The weight gradients' GEMM: acc = outer_sum(...) (rnn_pipelines.h), out its copy (the Output).
// Σ_{t,b} y_j·h_k, a GEMM over K = T·B, blocked like one: the sum over t is split into chunks
// of kChunk steps (rfactor), so the rows of y and h a chunk reads (kChunk·B rows of H) stay in
// L2 while every tile of the output passes over them. A tile is kRows rows j × kVecs vectors
// of k, summed over the chunk into an accumulator of constant size (`part`, kept in registers
// by LLVM): per (t, b), kRows broadcasts and kVecs loads feed kRows·kVecs multiply-adds; then
// the tile is added to the running sum (`acc`, in memory) and finally copied to the output.
// (Summing straight into the output loaded and stored it around every multiply-add; one tile
// over all of K re-read y from L3/memory once per tile row.) 8 × 2 vectors: 16 accumulators,
// 1.25-1.4x the 4 × 2 tile in a JIT sweep at H = 256/1024, B = 16/64, Elman and LSTM
// (8 × 2 and 4 × 4 tied; chunks of 16 steps were not better). Chunks of 4 steps, not 8: a
// chunk's rows must stay in L2 (the LSTM at B = 64 reads 5 KB per (t, b) row: 8 steps were
// 2.5 MB), measured 1.6-1.8x faster there and at H = 1024 10-15%, 5-10% slower at B = 16, H = 256.
inline void outer_gemm(Func acc, Func out, const RnnKnobs &kn) {
    const int vw = kn.vector_width;
    const TailStrategy tail = TailStrategy::GuardWithIf;
    constexpr int kVecs = 2;
    const int kRows = vw >= 16 ? 8 : 4;
    constexpr int kChunk = 4;
    Var k = acc.args()[0], j = acc.args()[1];
    Stage st = acc.update(0);
    auto rv = rvars_of(st);  // (t, b)
    RVar to("to"), ti("ti");
    Var vto("vto");
    st.split(rv[0], to, ti, kChunk, tail);
    Func part = st.rfactor(to, vto);

    acc.compute_root().vectorize(k, vw, tail).parallel(j);
    Var jo("jo"), ji("ji"), ko("ko"), ki("ki");
    Stage sum = acc.update(0);
    RVar rto = rvars_of(sum)[0];
    sum.split(j, jo, ji, kRows, tail).split(k, ko, ki, kVecs * vw, tail)
        .reorder(ki, ji, ko, jo, rto).vectorize(ki, vw).unroll(ki).unroll(ji).parallel(jo);

    Var pk = part.args()[0], pj = part.args()[1];
    part.compute_at(acc, ko).bound_storage(pk, kVecs * vw).bound_storage(pj, kRows)
        .vectorize(pk, vw, tail).unroll(pk).unroll(pj);
    Stage pu = part.update(0);
    auto prv = rvars_of(pu);  // (ti, b)
    pu.reorder(pk, pj, prv[0], prv[1]).vectorize(pk, vw, tail).unroll(pk).unroll(pj);

    // Update 1: the t = 0 terms (h0), K = B.
    Stage first = acc.update(1);
    first.reorder(k, rvars_of(first)[0], j).vectorize(k, vw, tail).parallel(j);

    out.vectorize(out.args()[0], vw, tail).parallel(out.args()[1]);
}

// Per-unit sums over (t, b) (the paired residual's gradients): factored over the batch rows
// (rfactor), so a task per row streams its steps' contiguous rows of λ and h with the unit's
// partial sums in L1, then the B partials are added. (A task per vector of units walked every
// (t, b) row with a stride of H floats: measured 18% of the WCRNN backward, as much as the
// adjoint scan.)
// f: pure 0, update 0 over (t, b); `inputs`: pure (k, s, b) Funcs it reads, computed per row.
inline void per_unit_sum(Func f, const std::vector<Func> &inputs, const RnnKnobs &kn) {
    const int vw = kn.vector_width;
    const TailStrategy tail = TailStrategy::GuardWithIf;
    Var i = f.args()[0], v("v");
    Stage st = f.update(0);
    auto rv = rvars_of(st);  // (t, b)
    Func part = st.rfactor(rv[1], v);
    part.compute_root().vectorize(part.args()[0], vw, tail).parallel(v);
    Stage pu = part.update(0);
    RVar rt = rvars_of(pu)[0];
    pu.reorder(part.args()[0], rt, v).vectorize(part.args()[0], vw, tail).parallel(v);
    for (Func in : inputs) in.compute_at(part, rt).vectorize(in.args()[0], vw, tail);  // a row of H
    f.compute_root().vectorize(i, vw, tail);
    f.update(0).vectorize(i, vw, tail);
}

inline void rnn_backward(RnnBackward &P, const RnnKnobs &kn) {
    MatVecScan &S = P.scan;
    const int vw = kn.vector_width;
    const TailStrategy tail = TailStrategy::GuardWithIf;
    weights(S.weights, S, kn);
    weights(P.pre_weights, S, kn);

    // Register tiles of the two GEMMs below (pre-activations and weight gradients): kRows rows ×
    // kVecs vectors. AVX-512 has 32 vector registers; AVX2 and SSE 16, where 8 × 2 would spill.
    constexpr int kVecs = 2;
    const int kRows = vw >= 16 ? 8 : 4;

    // Pre-activations a_t = u_t + W h_{t-1} (WCRNN; Elman has none: its f'(a_t) comes from the
    // saved h), a GEMM over K = H: a wrapper tiles (t, i) into kRows steps × kVecs vectors, and
    // `pre` itself is computed per tile into storage of that constant size (registers), summed
    // over all k before the tile is stored. Per column k: kVecs loads of W and kRows broadcasts
    // of h feed kRows·kVecs multiply-adds. (The column sweeps it replaces loaded and stored the
    // tile's accumulators every 8 columns.)
    // A task is (a strip of kStrip tiles of units, a batch row): the strip's rows of W (kStrip ·
    // kVecs · vw units × H, 512 KB at H = 1024) stay in L2 while the task walks its steps. (Tasks
    // over (steps, batch row) streamed all of W from L3 once per kRows steps: at H = 1024 that
    // GEMM took longer than the forward scan.)
    if (P.pre.defined()) {
        constexpr int kStrip = 4;
        Var i = S.i, q = S.q, t = P.pre.args()[2], b = S.b, task("task"), io("io"), ii("ii"), ioo("ioo"),
            ioi("ioi"), to("to"), ti("ti");
        Func tiles = P.pre.in();  // every consumer reads the tiles
        tiles.compute_root()
            .split(i, io, ii, kVecs * vw, tail).split(t, to, ti, kRows, tail).split(io, ioo, ioi, kStrip, tail)
            .reorder(ii, ti, ioi, q, to, ioo, b).vectorize(ii, vw).unroll(ii).unroll(ti)
            .fuse(ioo, b, task).parallel(task);
        P.pre.compute_at(tiles, ioi).bound_storage(i, kVecs * vw).bound_storage(t, kRows)
            .vectorize(i, vw, tail).unroll(i).unroll(t);
        // The task's strip of W copied once per task into storage of strip width: the GEMM's
        // column k of the strip is then 512 bytes from column k+1, not a row of H floats (a new
        // 4 KB page per column at H = 1024).
        // (pre/forward-scan time in perf profiles: 0.85 -> 0.57 at H = 1024, 0.47 -> 0.53 at 256.)
        for (Func w : P.pre_weights) w.in(P.pre).compute_at(tiles, task).vectorize(w.args()[0], vw, tail);
        Stage u = P.pre.update(0);
        RVar rk = rvars_of(u)[0];
        u.reorder(i, t, rk, q, b).vectorize(i, vw, tail).unroll(i).unroll(t);
    }
    if (P.pre_first.defined()) {
        Func f = P.pre_first;
        Var i = f.args()[0], b = f.args()[2];
        f.compute_root().vectorize(i, vw, tail).parallel(b);
        f.update(0).vectorize(i, vw, tail).parallel(b);
    }

    // The adjoint scan: a batch row per task; its boundary row T first.
    S.state.compute_root().vectorize(S.i, vw, tail).parallel(S.b);
    for (int u = 0; u < S.scan_update; u++) {
        Stage st = S.state.update(u);
        auto rv = rvars_of(st);
        if (rv.empty()) {
            st.vectorize(S.i, vw, tail).parallel(S.b);
        } else {
            RVar o("o"), in("in");
            st.split(rv[0], o, in, vw, tail).vectorize(in).parallel(S.b);
        }
    }
    scan_update(S, kn, kn.batch_tile);  // a tile of batch rows per task, as in the forward
    S.state.update(S.scan_update).parallel(kn.batch_tile > 1 ? Var("sbo") : S.b);

    for (Func f : P.pointwise) {
        f.vectorize(f.args()[0], vw, tail).parallel(f.args().back());
    }
    for (Func f : P.scattered) {
        for (int u = 0; u < f.num_update_definitions(); u++) {
            Stage st = f.update(u);
            RVar o("o"), in("in");
            st.split(rvars_of(st)[0], o, in, vw, tail).vectorize(in).parallel(f.args().back());
        }
    }
    for (size_t n = 0; n < P.outer.size(); n++) outer_gemm(P.outer[n], P.outer_out[n], kn);
    for (Func f : P.sums) per_unit_sum(f, P.sum_inputs, kn);
    for (Func f : P.sum_outputs) f.vectorize(f.args()[0], vw, tail);
}

// A step kernel (the stepped forward and backward, rnn_pipelines.h RnnStep): a GEMM micro-kernel
// per register tile of batch_tile rows × the unit tile (tile / vw vectors) × the gates, summed
// over all of k in registers (acc is computed per tile into storage of that constant size), then
// the step's nonlinearity on the tile. A task is `strip` unit tiles and walks every batch tile,
// so the strip's packed W (tile · G · K floats, 128 KB at H = 1024) is reused from L1/L2 across
// the batch. batch_tile 0: as many rows as keep 16 accumulators (of 32 AVX-512 registers; 8 of 16
// on AVX2) live: Elman 8 rows × 2 vectors, the LSTM (16-unit tiles) 4 rows × 4 gates. JIT
// prototype, Elman, H = 1024, B = 16: 8 × 2 176 GFLOP/s, 4 × 2 160, 8 × 1 118; tasks of 1 tile
// 1.1-1.4x faster than of 4. LSTM at H = 1024: 4 rows × 4 gates × 16 units ran 1.3-1.5x the
// speed of 8 rows × 2 vectors with the gates summed one after another (the fallback below).
inline void rnn_step(RnnStep &P, const RnnKnobs &kn) {
    const int vw = kn.vector_width, tw = P.tile;
    _halide_user_assert(tw % vw == 0) << "step kernels: the unit tile " << tw << " must be a multiple of the vector width " << vw << "\n";
    const int budget = vw >= 16 ? 16 : 8, vecs = tw / vw;
    // Every gate of the tile in registers at once needs gates · vecs accumulators per batch row;
    // when that leaves fewer than 4 rows (the LSTM on AVX2), the gates are summed one after
    // another instead (acc's tile then lives in L1), each with budget / vecs rows: few rows per
    // tile make the W strip's L2 traffic the limit (with 32-unit LSTM tiles on AVX-512, 2 rows:
    // per column k, 8 vector loads of W for 2 broadcasts and 16 multiply-adds).
    const bool gates_inside = P.gates * vecs * 4 <= budget;
    const int bt = kn.batch_tile > 0 ? kn.batch_tile : std::max(1, budget / ((gates_inside ? P.gates : 1) * vecs));
    const TailStrategy tail = TailStrategy::GuardWithIf;
    Var io("io"), iv("iv"), bo("bo"), bi("bi"), ioo("ioo"), ioi("ioi");
    P.out.split(P.i, io, iv, tw, tail).split(P.b, bo, bi, bt, tail).split(io, ioo, ioi, kn.strip, tail)
        .reorder(iv, bi, bo, ioi, ioo).vectorize(iv, vw).unroll(iv).unroll(bi).parallel(ioo);
    P.acc.compute_at(P.out, bo).bound_storage(P.ii, tw).bound_storage(P.q, P.gates).bound_storage(P.b, bt).bound_storage(P.j, 1)
        .vectorize(P.ii, vw).unroll(P.ii).unroll(P.q).unroll(P.b);
    Stage u = P.acc.update(0);
    RVar rk = rvars_of(u)[0];
    if (gates_inside) u.reorder(P.ii, P.q, P.b, rk, P.j).unroll(P.q);
    else u.reorder(P.ii, P.b, rk, P.q, P.j);
    u.vectorize(P.ii, vw).unroll(P.ii).unroll(P.b);
}

}  // namespace statemix::sched::cpu
