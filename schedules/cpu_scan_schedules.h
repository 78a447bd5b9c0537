// x86 SIMD CPU schedules for the linear-recurrence scans (BD-LRU, H-LRU).
//
// Shape of every schedule: channels (blocks n) in SIMD lanes, rows j of a block and the m+1 gate
// logits unrolled (m is a generator-time constant), time serial inside a task, and tasks of
// `tile` channels × batch run in parallel. Reasons, measured on the 2-core dev machine:
//  - vectorizing over n keeps each lane's recurrence independent, so the serial time loop has
//    vector-wide work per step and no cross-lane shuffles;
//  - a task of `tile` channels keeps the per-step working set in L1 while the next time step's
//    loads stream in (the sequential forward also software-prefetches them a step ahead where
//    the tuner picked it: knob prefetch, generators/step_prefetch.h).
// BD-LRU's variant `vector_rows` puts a block's rows in the lanes too (lanes_over_rows_and_n).
// Every update() of each scan is scheduled explicitly: an unscheduled update runs scalar.
#pragma once

#include "Halide.h"
#include "../generators/reverse_loops.h"
#include "../generators/scan_pipelines.h"

namespace statemix::sched::cpu {

using namespace Halide;
using statemix::gen::Algorithm;
using statemix::gen::ScanBackward;
using statemix::gen::ScanForward;
using statemix::gen::ScanKnobs;

// The RVars of update `u` of `f`, split by role (see gen::UpdateLoops).
struct Loops {
    std::vector<VarOrRVar> rows, serial, chunks;
};
inline Loops loops_of(Func f, int u, const statemix::gen::UpdateLoops &d) {
    auto rv = f.update(u).get_schedule().rvars();
    Loops l;
    size_t i = 0;
    if (d.rows && d.rows_first) l.rows.push_back(RVar(rv[i++].var));
    if (d.logits) l.rows.push_back(RVar(rv[i++].var));
    if (d.rows && !d.rows_first) l.rows.push_back(RVar(rv[i++].var));
    if (d.serial) l.serial.push_back(RVar(rv[i++].var));
    if (d.chunks) l.chunks.push_back(RVar(rv[i++].var));
    return l;
}

// The split of channels n into vectors of `vector_width` lanes. A channel count off the width:
// - forward (kn.shift_last_vector): the last vector runs shifted inwards, ending at N, in the same
//   pass as the others; the lanes it shares with the vector before are computed twice, and an
//   update (ShiftInwardsAndBlend) stores their old values back, so each is written once. Needs
//   N >= vector_width (Halide's bounds checks name a smaller one). With parallel tiles a shifted
//   vector alone in its tile would race with the tile before it: the runtime never makes such a
//   call (runtime/scan_ops.cpp, channel_calls), hence allow_race_conditions. Until 2026-12-05 the
//   runtime ran the forward's last vector as a second call over the whole sequence, one vector
//   per step: the H-LRU m = 5-7 forwards at N = 146-204 took 1.3-1.4x as long (docs/benchmarks.md).
// - backward: masked (GuardWithIf); the runtime runs the last vector as a second call. The blend
//   costs the backward (every dz logit, dv and adjoint store): the H-LRU m = 5-7 backwards read
//   0.81-0.93x in the same pass, the m = 8 one 0.97x at N = 128 where nothing shifts.
inline void split_channels(Stage s, Var n, Var nm, Var ni, const ScanKnobs &kn) {
    if (!kn.shift_last_vector) {
        s.split(n, nm, ni, kn.vector_width, TailStrategy::GuardWithIf);
        return;
    }
    const bool update = s.name().find(".update(") != std::string::npos;
    if (update) s.allow_race_conditions();
    s.split(n, nm, ni, kn.vector_width, update ? TailStrategy::ShiftInwardsAndBlend : TailStrategy::ShiftInwards);
}

// ScanKnobs::unroll on a CPU target (the forward's state updates): the loop over a tile's
// vectors runs `unroll` vectors per iteration, their code interleaved, so the scheduler has
// independent chains (exponentials, the row sums and the 1/S division) to overlap instead of one
// vector's long dependent chain. The vector loop `nm` becomes nm (outer) and `nu` (unrolled, just
// outside the lanes and rows); a tile's vector count off the factor runs the last copies guarded.
// Returns whether `nu` exists. BD-LRU forward with the rows in the lanes, Intel Xeon (AVX-512),
// 2026-12-06: m = 2, 4, 5, 8, 16 1.13-1.18x (docs/benchmarks.md).
inline bool split_unrolled_vectors(Stage s, Var nm, Var nu, const ScanKnobs &kn) {
    if (kn.unroll <= 1) return false;
    s.split(nm, nm, nu, kn.unroll, TailStrategy::GuardWithIf);
    return true;
}

// Loop nest, innermost first: n lanes (vectorized) · rows (unrolled) · n vectors of a tile ·
// serial time · tiles of n · outer (chunks, batch). Tiles × batch are the parallel tasks: with
// `batch` given, one parallel loop over both (fused). Before 2026-12-02 only the tiles were
// parallel, inside a serial loop over the batch, so a kernel whose tile covered every channel
// (N <= tile, e.g. the bench's H-LRU m >= 2) ran on one thread.
// Time-major (kn.time_major, `batch` given, no chunks): the batch splits into groups of
// batch_rows rows ("bi" inside the serial time loop, "bo" outside), so a step of a task covers
// batch_rows adjacent rows, one contiguous stretch of memory; tiles × row groups are the tasks.
inline void lanes_over_n(Stage s, Var n, const std::vector<VarOrRVar> &rows,
                         const std::vector<VarOrRVar> &serial, const std::vector<VarOrRVar> &outer,
                         const ScanKnobs &kn, bool parallel_tiles = true, const Var *batch = nullptr) {
    Var ni("ni"), nm("nm"), nt("nt"), bi("bi"), bo("bo"), task("task");
    const bool tm = kn.time_major && batch;
    split_channels(s, n, nm, ni, kn);
    s.split(nm, nt, nm, std::max(1, kn.tile / kn.vector_width), TailStrategy::GuardWithIf);
    if (tm) s.split(*batch, bo, bi, std::max(1, kn.batch_rows), TailStrategy::GuardWithIf);
    Var nu("nu");
    const bool unrolled = split_unrolled_vectors(s, nm, nu, kn);
    std::vector<VarOrRVar> order{ni};
    for (auto &r : rows) order.push_back(r);
    if (unrolled) order.push_back(nu);
    order.push_back(nm);
    if (tm) order.push_back(bi);
    for (auto &r : serial) order.push_back(r);
    order.push_back(nt);
    if (tm) order.push_back(bo);
    else for (auto &o : outer) order.push_back(o);
    s.reorder(order);
    s.vectorize(ni);
    if (kn.unroll_rows) for (auto &r : rows) s.unroll(r);
    if (unrolled) s.unroll(nu);
    if (parallel_tiles && tm) s.fuse(nt, bo, task).parallel(task);
    else if (parallel_tiles && batch) s.fuse(nt, *batch, task).parallel(task);
    else if (parallel_tiles) s.parallel(nt);
}

// Lanes (j, n), j innermost (ScanKnobs::vector_rows, BD-LRU): a vector covers the m rows of
// vector_width blocks, so the state (h, v, dv, the adjoint: rows adjacent in memory) is loaded
// and stored as dense vectors instead of stride-m scatters, and logit k of z is one
// stride-(m+1) ramp. `unrolled` (dz's logits k) sits just outside the lanes. Time-major as in
// lanes_over_n. allow_race: the caller knows vectorizing j is safe where Halide cannot prove it.
inline void lanes_over_rows_and_n(Stage s, Var n, VarOrRVar j, const std::vector<VarOrRVar> &unrolled,
                                  const std::vector<VarOrRVar> &serial, Var b, const ScanKnobs &kn,
                                  bool allow_race = false) {
    if (allow_race) s.allow_race_conditions();
    Var ni("ni"), nm("nm"), nt("nt"), bi("bi"), bo("bo"), task("task");
    split_channels(s, n, nm, ni, kn);
    s.split(nm, nt, nm, std::max(1, kn.tile / kn.vector_width), TailStrategy::GuardWithIf);
    Var nu("nu");
    const bool vectors_unrolled = split_unrolled_vectors(s, nm, nu, kn);
    std::vector<VarOrRVar> order{j, ni};
    for (auto &u : unrolled) order.push_back(u);
    if (vectors_unrolled) order.push_back(nu);
    order.push_back(nm);
    if (kn.time_major) {
        s.split(b, bo, bi, std::max(1, kn.batch_rows), TailStrategy::GuardWithIf);
        order.push_back(bi);
    }
    for (auto &r : serial) order.push_back(r);
    order.push_back(nt);
    order.push_back(kn.time_major ? VarOrRVar(bo) : VarOrRVar(b));
    s.reorder(order);
    if (kn.time_major) s.fuse(nt, bo, task).parallel(task);
    else s.fuse(nt, b, task).parallel(task);
    s.vectorize(j).vectorize(ni);
    for (auto &u : unrolled) s.unroll(u);
    if (vectors_unrolled) s.unroll(nu);
}

inline void scan_update(Func f, int u, const statemix::gen::UpdateLoops &d, Var n, Var b,
                        const ScanKnobs &kn) {
    Loops l = loops_of(f, u, d);
    std::vector<VarOrRVar> outer = l.chunks;
    outer.push_back(b);
    // One level of parallelism: chunks when there are any, else tiles of n (nested parallel
    // loops cost more in task launches than they gained, measured).
    lanes_over_n(f.update(u), n, l.rows, l.serial, outer, kn, l.chunks.empty(), l.chunks.empty() ? &b : nullptr);
    // Chunks only read their own earlier steps (each chunk's first step comes from the previous
    // update), which Halide cannot prove: declare it.
    if (!l.chunks.empty()) f.update(u).allow_race_conditions().parallel(l.chunks[0]);
}

inline void forward(ScanForward &P, const ScanKnobs &knobs) {
    ScanKnobs kn = knobs;
    kn.shift_last_vector = true;  // split_channels
    Var n = P.n, b = P.b, col = P.col, c = P.c;
    for (size_t u = 0; u < P.state_loops.size(); u++) {
        if (kn.prefetch > 0) {  // the sequential forward (check_prefetch refuses the chunked one)
            using statemix::gen::regex_literal;
            Loops l = loops_of(P.state, u, P.state_loops[u]);
            for (auto &r : l.serial) {
                P.prefetched_loops.push_back(regex_literal(P.state.name()) + "\\.s[0-9]+\\." + regex_literal(r.name()) + "(\\..+)?");
            }
        }
        if (kn.vector_rows && P.has_rows && kn.algorithm == Algorithm::Sequential) {
            // A step's rows read only the step before (Halide cannot prove it: allow_race).
            Loops l = loops_of(P.state, u, P.state_loops[u]);
            lanes_over_rows_and_n(P.state.update(u), n, l.rows[0], {}, l.serial, b, kn, true);
        } else {
            scan_update(P.state, u, P.state_loops[u], n, b, kn);
        }
    }
    // The transpose of a block's logits (bdlru_generator.cpp, transposed_logits): per block and
    // step, inside the vector loop of the update that reads it (one block per vector, so its loop
    // over the vector's blocks, ni, runs once), fully unrolled in vectors of m lanes so that it
    // stays in registers. Stage 0 is m dense loads; each perfect shuffle stores pairs of vectors
    // through a two-way interleave (Halide combines the two stride-2 stores of yc).
    if (!P.logit_stages.empty()) {
        const int m = P.m, size = m * m;
        Var y = P.logit_stages[0].args()[0], yo("yo"), yi("yi"), yc("yc"), yoo("yoo");
        LoopLevel at(P.state, Var("ni"));
        P.logit_stages[0].compute_at(at).bound(y, 0, size).split(y, yo, yi, m).vectorize(yi).unroll(yo);
        for (size_t q = 1; q < P.logit_stages.size(); q++) {
            P.logit_stages[q].compute_at(at).bound(y, 0, size).split(y, yo, yc, 2).split(yo, yoo, yi, m)
                .reorder(yi, yc, yoo).vectorize(yi).unroll(yc).unroll(yoo);
        }
    }
    if (kn.algorithm == Algorithm::Chunked) {
        P.summary.compute_root().bound(col, 0, P.m + 1);
        lanes_over_n(P.summary, n, {col}, {}, {c, b}, kn, false);
        Loops l = loops_of(P.summary, 0, P.summary_loops);
        lanes_over_n(P.summary.update(0), n, {col}, l.serial, {c, b}, kn, false);
        P.summary.update(0).parallel(c);
        P.carry.compute_root();
        scan_update(P.carry, 0, P.carry_loops, n, b, kn);
    }
    P.final_state.vectorize(n, kn.vector_width, TailStrategy::GuardWithIf);
}

// The per-step normalized block and row statistics, per vector tile, right where the scan at
// `level` reads them: the exponentials are computed once per logit. bound_storage: a
// constant-size buffer lives on the stack; without it Halide sized it by the (possibly partial)
// tile and called malloc/free every time step (measured: the H-LRU m = 1 backward ran at 5% of
// the copy bandwidth).
// `channels`: how many channels one computation covers (a tile, or one vector: gates_per_vector).
inline void step_block_at(const ScanBackward &P, const statemix::gen::StepGates &G, LoopLevel level,
                          const ScanKnobs &kn, int channels) {
    // pstep only picks a φ out of rstat where phi_in_rstat (rows of three logits): left inline.
    std::vector<Func> step_funcs{G.rstat};
    if (!G.phi_in_rstat) step_funcs.push_back(G.pstep);
    step_funcs.push_back(G.rinv);
    for (Func f : step_funcs) {
        f.compute_at(level).vectorize(P.n, kn.vector_width, TailStrategy::GuardWithIf);
        if (kn.gates_n_inner) {
            // Channels innermost in storage too: each logit's (and row's) values of a vector of
            // channels are one dense vector, written here and read by the scan as such. In the
            // inputs' order (n outside k and j) every store and load was a stride-m(m+1) vector,
            // which Halide emits as one scalar move per lane.
            std::vector<Var> order{P.n};
            for (const Var &a : f.args()) if (a.name() != P.n.name()) order.push_back(a);
            f.reorder_storage(order);
        }
        f.bound_storage(P.n, channels);
        if (P.has_rows) f.bound(P.j, 0, P.m);
        if (P.has_rows && kn.unroll_rows) f.unroll(P.j);
    }
    if (G.phi_in_rstat) return;
    Func(G.pstep).bound(P.k, 0, P.m + 1);
    if (kn.unroll_rows) Func(G.pstep).unroll(P.k);
}

// ScanKnobs::reverse_channels: every update of `f` (a stage that walks time backwards) runs its
// loop over a tile's vectors of channels (nm; named nm.nm<u> after a rename) from the last vector
// to the first, and, time-major, its loop over a task's batch rows (bi) too, so a step's accesses
// descend through memory like the steps. Channels and batch rows are independent, so any order
// computes the same values (reverse_loops.h).
inline void reverse_channel_loops(ScanBackward &P, Func f, const ScanKnobs &kn) {
    if (!kn.reverse_channels) return;
    using statemix::gen::regex_literal;
    const std::string stage = regex_literal(f.name()) + "\\.s[0-9]+\\.";
    P.reversed_loops.push_back(stage + regex_literal(P.n.name()) + "\\.nm\\.nm(\\..+)?");
    if (kn.time_major) P.reversed_loops.push_back(stage + regex_literal(P.b.name()) + "\\.bi(\\..+)?");
}

// The one-pass backward with a row's logits in the lanes (ScanBackward::logits_in_lanes,
// GeneratorParam vector_logits): per block and step, the logits k in vectors of
// min(vector_width, m) lanes with the last logit (m) a scalar tail, the rows j unrolled inside
// (whatever unroll_rows says: a row is one or two vectors and a scalar; at m = 16 unrolled
// measured 1.2x), the block's gates computed right before its rows (their row max and sums by
// pairwise reductions in registers); blocks in tiles of `tile`, tiles x batch rows in
// parallel (time-major: tiles x groups of batch_rows rows, the rows inside the time loop); time
// unrolled by 2 for the adjoint buffers' parity. reverse_channels does not apply, nor prefetch
// (refused: scan_schedules.h, check_prefetch).
inline void backward_one_pass_logit_lanes(ScanBackward &P, const ScanKnobs &kn) {
    Stage s = P.grad.update(0);
    Loops l = loops_of(P.grad, 0, P.grad_loops);  // rows: k, then j
    const int w = std::min(kn.vector_width, P.m);
    RVar ko("ko"), ki("ki"), ty("ty"), tyo("tyo");
    Var nm("nm"), nt("nt"), task("task"), bo("bo"), bi("bi");
    s.allow_race_conditions();
    s.split(l.rows[0], ko, ki, w, TailStrategy::GuardWithIf);
    s.split(l.serial[0], tyo, ty, 2, TailStrategy::GuardWithIf);
    s.split(P.n, nt, nm, std::max(1, kn.tile), TailStrategy::GuardWithIf);
    if (kn.time_major) {
        // A task's batch_rows rows inside its time loop (as lanes_over_n): each step is one
        // contiguous stretch of every time-major tensor.
        s.split(P.b, bo, bi, std::max(1, kn.batch_rows), TailStrategy::GuardWithIf);
        s.reorder(ki, ko, l.rows[1], nm, bi, ty, tyo, nt, bo);
        s.fuse(nt, bo, task).parallel(task);
    } else {
        s.reorder(ki, ko, l.rows[1], nm, ty, tyo, nt, P.b);
        s.fuse(nt, P.b, task).parallel(task);
    }
    s.vectorize(ki).unroll(ko).unroll(ty).unroll(l.rows[1]);
    LoopLevel at(P.grad, nm);
    Var k = P.k, j = P.j, kko("kko"), kki("kki");
    // The row reductions' stages (bdlru_generator.cpp, row_reduce), fully unrolled so that they
    // stay in registers like the forward's transposes: stage 0 a dense vector per row, each later
    // one half vectors read densely and stored interleaved in pairs (the forward's perfect
    // shuffles); then the statistics over the rows in vectors of w lanes.
    const int m = P.m;
    for (auto *stages : {&P.max_stages, &P.sum_stages}) {
        Var y = (*stages)[0].args()[0], yo("yo"), yi("yi"), yc("yc"), yoo("yoo");
        (*stages)[0].compute_at(at).bound(y, 0, m * m).split(y, yo, yi, m).vectorize(yi).unroll(yo);
        for (size_t q = 1; q < stages->size(); q++) {
            (*stages)[q].compute_at(at).bound(y, 0, m * m >> q).split(y, yo, yc, 2).split(yo, yoo, yi, m / 2)
                .reorder(yi, yc, yoo).vectorize(yi).unroll(yc).unroll(yoo);
        }
    }
    for (Func f : {P.row_max, P.row_inv}) {
        Var l = f.args()[0];
        f.compute_at(at).bound(l, 0, m).vectorize(l, w, TailStrategy::GuardWithIf);
    }
    P.phi.compute_at(at).bound(k, 0, m + 1).bound(j, 0, m)
        .split(k, kko, kki, w, TailStrategy::GuardWithIf).vectorize(kki).unroll(kko).unroll(j);
    P.dh0.vectorize(j, w, TailStrategy::GuardWithIf);
}

// One reverse-time pass (ScanBackward): lanes over n, the logits k and rows j unrolled inside,
// time serial, tiles of n x batch in parallel, like the forward.
inline void backward_one_pass(ScanBackward &P, const ScanKnobs &kn) {
    if (P.logits_in_lanes) {
        backward_one_pass_logit_lanes(P, kn);
        return;
    }
    // Every update of `grad` alike (H-LRU has three: the edge steps peeled, ScanBackward).
    for (int u = 0; u < (int)P.grad_gates.size(); u++) {
        Stage s = P.grad.update(u);
        Loops l = loops_of(P.grad, u, P.grad_loops);  // rows: k, then j (BD-LRU); j, then k with vector_rows
        // Time unrolled by 2 where the two adjoint buffers alternate with the parity of the time
        // loop's counter (grad_parity), so each copy reads and writes known buffers, with no
        // selects between them (1.05-1.3x, docs/benchmarks.md).
        RVar ty("ty"), tyo("tyo");
        if (P.grad_parity) {
            s.split(l.serial[0], tyo, ty, 2, TailStrategy::GuardWithIf);
            l.serial = {ty, tyo};
        }
        if (kn.vector_rows && P.has_rows) {
            // A step's rows only read the other adjoint slot (the step before) and rewrite their
            // own values, so vectorizing the RVar j is safe; Halide cannot prove that through the
            // buffers' stride-0 aliasing.
            lanes_over_rows_and_n(s, P.n, l.rows[0], {l.rows[1]}, l.serial, P.b, kn, true);
        } else {
            lanes_over_n(s, P.n, l.rows, l.serial, {P.b}, kn, true, &P.b);
            if (!kn.unroll_rows) s.unroll(l.rows[0]);
        }
        if (P.grad_parity) s.unroll(ty);
        // The step's gates: per vector of channels (gates_per_vector), inside the loop over the
        // tile's vectors, so the rows read them from registers; else once per (row of the batch,
        // tile), inside the time loop or inside the rows of a time-major task. A LoopLevel names
        // its loop by the var alone (Halide 21 refused one with a stage index), so each update's
        // loop gets a name of its own.
        VarOrRVar at = l.serial[0];
        if (kn.gates_per_vector) {
            Var nm_u("nm" + std::to_string(u));
            s.rename(Var("nm"), nm_u);
            at = nm_u;
        } else if (kn.time_major) {
            Var bi_u("bi" + std::to_string(u));
            s.rename(Var("bi"), bi_u);
            at = bi_u;
        }
        step_block_at(P, P.grad_gates[u], LoopLevel(P.grad, at), kn,
                      kn.gates_per_vector ? kn.vector_width : std::max(kn.tile, kn.vector_width));
        // A tile's step touches a new page of every input (the time stride is a whole row of
        // channels), which the hardware prefetchers do not follow, least of all backwards in time.
        if (kn.prefetch > 0) {  // batch-major only (check_prefetch refuses time_major)
            for (auto &in : P.streamed) s.prefetch(in, l.serial[0], l.serial[0], kn.prefetch);
        }
    }
    reverse_channel_loops(P, P.grad, kn);
    P.dh0.vectorize(P.n, kn.vector_width, TailStrategy::GuardWithIf);
}

inline void backward(ScanBackward &P, const ScanKnobs &kn) {
    Var j = P.j, n = P.n, t = P.t, b = P.b, k = P.k;
    std::vector<VarOrRVar> pure_rows;
    if (P.has_rows) pure_rows.push_back(j);
    const int tile_channels = std::max(kn.tile, kn.vector_width);
    if (!P.chunked) {
        P.adj.compute_root();
        lanes_over_n(P.adj.update(0), n, pure_rows, {}, {b}, kn);
        const int last = (int)P.adj_loops.size() - 1;  // the update that walks time
        for (int u = 1; u <= last; u++) scan_update(P.adj, u, P.adj_loops[u], n, b, kn);
        Loops l = loops_of(P.adj, last, P.adj_loops[last]);
        // The gates once per tile and step here: per vector (gates_per_vector, as in the one-pass
        // form) measured 0.94-1.00x at BD-LRU m = 4 and 16 and H-LRU m = 5 (2026-12-03).
        step_block_at(P, P.gates, LoopLevel(P.adj, l.serial[0].rvar), kn, tile_channels);
        reverse_channel_loops(P, P.adj, kn);
    }
    P.dh0.vectorize(n, kn.vector_width, TailStrategy::GuardWithIf);
    if (P.chunked) {
        // The summaries and the carry scan as in the forward's chunked schedule.
        P.summary.compute_root().bound(P.col, 0, P.m + 1);
        lanes_over_n(P.summary, n, {P.col}, {}, {P.c, b}, kn, false);
        Loops ls = loops_of(P.summary, 0, P.summary_loops);
        lanes_over_n(P.summary.update(0), n, {P.col}, ls.serial, {P.c, b}, kn, false);
        P.summary.update(0).parallel(P.c);
        step_block_at(P, P.summary_gates, LoopLevel(P.summary, ls.serial[0].rvar), kn, tile_channels);
        P.carry.compute_root();
        scan_update(P.carry, 0, P.carry_loops, n, b, kn);
    }

    // Pointwise gradients.
    std::vector<VarOrRVar> krows{k};
    if (P.has_rows) krows.push_back(j);
    if (P.chunked) {
        // Fused with the re-scan (ScanBackward: mu): a task is one chunk of one batch row. Its
        // adjoint is re-scanned for every channel into a buffer of the chunk (N x (chunk + 1) x m
        // floats, in cache), then the chunk's steps read it back. Both walk whole rows of
        // channels per step (the tiles inside the step loop): a tile's short piece of a row per
        // step is what the hardware prefetchers follow worst (ScanKnobs::time_major).
        Var tc("tc"), ts("ts"), task("task");
        P.pointwise.split(t, tc, ts, P.chunk, TailStrategy::GuardWithIf);
        lanes_over_n(P.pointwise, n, krows, {}, {ts, tc, b}, kn, false);
        P.pointwise.fuse(tc, b, task).parallel(task);
        P.mu.compute_at(P.pointwise, task);
        lanes_over_n(P.mu.update(0), n, pure_rows, {}, {}, kn, false);
        Loops lm = loops_of(P.mu, 1, P.mu_loops);
        lanes_over_n(P.mu.update(1), n, lm.rows, {}, lm.serial, kn, false);
        step_block_at(P, P.gates, LoopLevel(P.mu, Var("nt")), kn, tile_channels);
    } else {
        // Two pass: time is parallel here; a task is one time step of `tile` channels.
        // Parallel over time only: a parallel loop over tiles nested inside it was measured to
        // cost more in task launches than the work it split (the backward ran at 7% of the copy).
        // A task is at least ~256 channel-steps: at small widths one step of a tile is too little
        // work for a task (measured: the two-pass form at B = 1, state 8 ran 4x slower than the
        // one-pass form with one step per task).
        const int steps_per_task = std::max(1, 256 / std::max(kn.tile, kn.vector_width));
        lanes_over_n(P.pointwise, n, krows, {}, {t, b}, kn, false);
        P.pointwise.parallel(t, steps_per_task, TailStrategy::GuardWithIf);
    }
    // dz and dv are one Tuple (dv stored at every k, stride 0 there: the same vector m + 1 times,
    // to L1); the row statistics and dv's p of the last logit once per vector of channels.
    for (Func f : {P.rstat_dz, P.pm_dz}) {
        f.compute_at(P.pointwise, Var("nm")).vectorize(n, kn.vector_width, TailStrategy::GuardWithIf);
        f.bound_storage(n, kn.vector_width);
        if (P.has_rows) f.bound(j, 0, P.m);
        if (P.has_rows && kn.unroll_rows) f.unroll(j);
    }
}

}  // namespace statemix::sched::cpu
