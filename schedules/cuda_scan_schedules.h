// CUDA GPU schedules for the linear-recurrence scans (BD-LRU, H-LRU).
//
// Sequential algorithm: one thread per (channel n, batch b), time serial inside the thread, the
// rows j and logits k unrolled in registers; `tile` threads per block over n.
// Chunked algorithm: the same per-thread serial scan, but over chunks of `chunk` steps that run
// in parallel (grid dim), with a summary pass and a carry scan over chunks in between. It exists
// for the shapes where B·N threads leave the GPU idle (see docs/gpu-notes.md).
// Backward: two pass, the reverse adjoint scan sequential per thread, then the pointwise
// gradients parallel over (n, t) in 2-D tiles; chunked, the adjoint's chunk summaries and carry
// scan, then one kernel per (channel tile, chunk, batch row) that re-scans its chunk's adjoint
// into shared memory and computes the chunk's dz and dv from it.
#pragma once

#include "Halide.h"
#include "../generators/scan_pipelines.h"

namespace statemix::sched::cuda {

using namespace Halide;
using statemix::gen::Algorithm;
using statemix::gen::ScanBackward;
using statemix::gen::ScanForward;
using statemix::gen::ScanKnobs;

// Loop nest, innermost first: rows (unrolled) · serial time (optionally unrolled) · n threads ·
// n blocks · outer grid dims (chunks, batch).
inline void thread_per_n(Stage s, Var n, const std::vector<VarOrRVar> &rows,
                         const std::vector<VarOrRVar> &serial, const std::vector<VarOrRVar> &blocks,
                         const ScanKnobs &kn) {
    Var no("no"), ni("ni");
    s.split(n, no, ni, kn.tile, TailStrategy::GuardWithIf);
    std::vector<VarOrRVar> order;
    for (auto &r : rows) order.push_back(r);
    for (auto &r : serial) order.push_back(r);
    order.push_back(ni);
    order.push_back(no);
    for (auto &o : blocks) order.push_back(o);
    s.reorder(order);
    if (kn.unroll_rows) for (auto &r : rows) s.unroll(r);
    // Unrolling the serial loop lets the loads of the next steps issue early.
    if (!serial.empty() && kn.unroll > 1) s.unroll(serial[0], kn.unroll, TailStrategy::GuardWithIf);
    s.gpu_threads(ni);
    s.gpu_blocks(no);
    for (auto &o : blocks) s.gpu_blocks(o);
}

// A small per-lane output ([rows,] n, b: the final state, dh0): a thread per channel, the rows
// serial inside it, batch rows in the grid too. (With n alone in the grid, the batch loop stayed
// on the host and launched one kernel per batch row: 16 launches of ~11 us at B = 16, a third of
// the chunked forward's time on the H200, docs/gpu-notes.md 2026-12-04.)
inline void per_lane(Func f, Var n, Var b, const ScanKnobs &kn) {
    f.gpu_tile(n, Var("ni"), std::min(kn.tile, 128), TailStrategy::GuardWithIf).gpu_blocks(b);
}

inline void scan_update(Func f, int u, const statemix::gen::UpdateLoops &d, Var n, Var b,
                        const ScanKnobs &kn) {
    auto rv = f.update(u).get_schedule().rvars();
    std::vector<VarOrRVar> rows, serial, blocks;
    size_t i = 0;
    if (d.rows) rows.push_back(RVar(rv[i++].var));
    if (d.serial) serial.push_back(RVar(rv[i++].var));
    if (d.chunks) blocks.push_back(RVar(rv[i++].var));
    blocks.push_back(b);
    // Chunks only read their own earlier steps (each chunk's first step comes from the previous
    // update), which Halide cannot prove: declare it.
    if (d.chunks) f.update(u).allow_race_conditions();
    thread_per_n(f.update(u), n, rows, serial, blocks, kn);
}

inline void forward(ScanForward &P, const ScanKnobs &kn) {
    Var n = P.n, b = P.b, col = P.col, c = P.c;
    for (size_t u = 0; u < P.state_loops.size(); u++) scan_update(P.state, u, P.state_loops[u], n, b, kn);
    if (kn.algorithm == Algorithm::Chunked) {
        P.summary.compute_root().bound(col, 0, P.m + 1);
        thread_per_n(P.summary, n, {col}, {}, {c, b}, kn);
        auto rv = P.summary.update(0).get_schedule().rvars();
        thread_per_n(P.summary.update(0), n, {col}, {RVar(rv[0].var)}, {c, b}, kn);
        P.carry.compute_root();
        scan_update(P.carry, 0, P.carry_loops, n, b, kn);
    }
    per_lane(P.final_state, n, b, kn);
}

// One step's row statistics and normalized block in the thread's registers, computed inside the
// serial time loop `serial` of update `u` of `f`.
inline void step_gates_at(const ScanBackward &P, const statemix::gen::StepGates &G, Func f, RVar serial,
                          const ScanKnobs &kn) {
    // pstep only picks a φ out of rstat where phi_in_rstat (rows of three logits): left inline.
    std::vector<Func> step_funcs{G.rstat};
    if (!G.phi_in_rstat) step_funcs.push_back(G.pstep);
    step_funcs.push_back(G.rinv);
    for (Func s : step_funcs) {
        s.compute_at(f, serial);
        if (P.has_rows) s.bound(P.j, 0, P.m);
        if (P.has_rows && kn.unroll_rows) s.unroll(P.j);
    }
    if (G.phi_in_rstat) return;
    Func(G.pstep).bound(P.k, 0, P.m + 1);
    if (kn.unroll_rows) Func(G.pstep).unroll(P.k);
}

// The one-pass backward (ScanBackward): a thread per (channel n, batch b) runs the reverse-time
// scan, the logits k and rows j unrolled in registers; its adjoint slots are the thread's own
// (stride 0 in time; two buffers for BD-LRU, one for H-LRU). Compiled and tested against the float64 reference only where a GPU
// is (none has run it yet); the CUDA default stays the two-pass form (generators/CMakeLists.txt).
inline void backward_one_pass(ScanBackward &P, const ScanKnobs &kn) {
    for (int u = 0; u < (int)P.grad_gates.size(); u++) {  // every update alike (ScanBackward)
        auto rv = P.grad.update(u).get_schedule().rvars();
        const auto &d = P.grad_loops;
        std::vector<VarOrRVar> rows;
        size_t i = 0;
        if (d.rows && d.rows_first) rows.push_back(RVar(rv[i++].var));
        if (d.logits) rows.push_back(RVar(rv[i++].var));
        if (d.rows && !d.rows_first) rows.push_back(RVar(rv[i++].var));
        RVar serial(rv[i].var);
        ScanKnobs k2 = kn;
        k2.unroll_rows = true;  // the rows and logits index registers: always unrolled
        thread_per_n(P.grad.update(u), P.n, rows, {serial}, {P.b}, k2);
        step_gates_at(P, P.grad_gates[u], P.grad, serial, k2);  // each update's RVars have their own names
    }
    per_lane(P.dh0, P.n, P.b, kn);
}

inline void backward(ScanBackward &P, const ScanKnobs &kn) {
    Var j = P.j, n = P.n, t = P.t, b = P.b, k = P.k;
    std::vector<VarOrRVar> pure_rows;
    if (P.has_rows) pure_rows.push_back(j);
    auto serial_of = [](Func f, int u, bool has_rows_rvar) {
        return RVar(f.update(u).get_schedule().rvars()[has_rows_rvar ? 1 : 0].var);
    };
    if (!P.chunked) {
        P.adj.compute_root();
        thread_per_n(P.adj.update(0), n, pure_rows, {}, {b}, kn);
        const int last = (int)P.adj_loops.size() - 1;  // the update that walks time
        for (int u = 1; u <= last; u++) scan_update(P.adj, u, P.adj_loops[u], n, b, kn);
        step_gates_at(P, P.gates, P.adj, serial_of(P.adj, last, P.adj_loops[last].rows), kn);
    } else {
        // The summaries and the carry scan as in the forward's chunked schedule: chunks in the grid.
        P.summary.compute_root().bound(P.col, 0, P.m + 1);
        thread_per_n(P.summary, n, {P.col}, {}, {P.c, b}, kn);
        auto rv = P.summary.update(0).get_schedule().rvars();
        thread_per_n(P.summary.update(0), n, {P.col}, {RVar(rv[0].var)}, {P.c, b}, kn);
        step_gates_at(P, P.summary_gates, P.summary, serial_of(P.summary, 0, false), kn);
        P.carry.compute_root();
        scan_update(P.carry, 0, P.carry_loops, n, b, kn);
    }
    per_lane(P.dh0, n, b, kn);

    Var no("no"), ni("ni"), to("to"), ti("ti");
    std::vector<VarOrRVar> order{k};
    if (P.has_rows) order.push_back(j);
    if (P.chunked) {
        // Fused with the re-scan (ScanBackward: mu): a block is `threads` channels of one chunk of
        // one batch row. Its threads (one per channel) first re-scan the chunk's adjoint into
        // shared memory (threads x (chunk + 1) x m floats), then each runs the chunk's steps of
        // dz and dv, reading it from there: the adjoint never goes to HBM, and the re-scan's
        // z and g come back from L1/L2 for the pointwise pass.
        // Halide 21's CUDA runtime launches with the default 48 KiB of dynamic shared memory (it
        // never raises CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES), so a block has at most
        // as many threads (a multiple of 32, at most `tile`) as keep its m x (chunk + 1) floats
        // per channel inside that.
        const int per_channel = 4 * P.m * (P.chunk + 1), limit = 48 * 1024;
        if (32 * per_channel > limit) {
            throw CompileError("chunked backward: chunk=" + std::to_string(P.chunk) + " at m=" + std::to_string(P.m) +
                               " needs " + std::to_string(32 * per_channel) + " bytes of shared memory per 32 channels; "
                               "expected chunk <= " + std::to_string(limit / (32 * 4 * P.m) - 1) + " (48 KiB per block)");
        }
        const int threads = std::max(32, std::min(kn.tile, limit / per_channel) / 32 * 32);
        order.push_back(ti);
        order.push_back(ni);
        order.push_back(no);
        order.push_back(to);
        order.push_back(b);
        P.pointwise.split(t, to, ti, P.chunk, TailStrategy::GuardWithIf)
            .split(n, no, ni, threads, TailStrategy::GuardWithIf)
            .reorder(order)
            .unroll(k)
            .gpu_threads(ni)
            .gpu_blocks(no, to, b);
        P.mu.compute_at(P.pointwise, no).store_in(MemoryType::GPUShared);
        P.mu.update(0).gpu_threads(n);
        RVar rs_serial = serial_of(P.mu, 1, P.mu_loops.rows);
        std::vector<VarOrRVar> mu_order;
        if (P.mu_loops.rows) mu_order.push_back(RVar(P.mu.update(1).get_schedule().rvars()[0].var));
        mu_order.push_back(rs_serial);
        mu_order.push_back(n);
        P.mu.update(1).reorder(mu_order).gpu_threads(n);
        if (P.mu_loops.rows && kn.unroll_rows) P.mu.update(1).unroll(mu_order[0]);
        if (P.has_rows && kn.unroll_rows) P.mu.update(0).unroll(j);
        step_gates_at(P, P.gates, P.mu, rs_serial, kn);
    } else {
        // Two pass: pointwise gradients (dz, dv: one Tuple, one kernel): 2-D tiles over (n, t),
        // 32 channels wide so a warp reads neighbouring blocks, the k (and small j) loops unrolled
        // inside the thread; batch rows in the grid (one launch, not one per batch row).
        const int ty = std::max(1, kn.tile / 32);
        order.push_back(n);
        order.push_back(t);
        order.push_back(b);
        P.pointwise.reorder(order).unroll(k);
        P.pointwise.gpu_tile(n, t, no, to, ni, ti, 32, ty, TailStrategy::GuardWithIf).gpu_blocks(b);
    }
    if (P.has_rows && kn.unroll_rows) P.pointwise.unroll(j);
    // A thread's row statistics and dv's p, per step (ti: the innermost loop the thread runs over
    // time; in the two-pass tiles each thread has one step, ni).
    for (Func f : {P.rstat_dz, P.pm_dz}) {
        f.compute_at(P.pointwise, P.chunked ? ti : ni);
        if (P.has_rows) f.bound(j, 0, P.m);
        if (P.has_rows && kn.unroll_rows) f.unroll(j);
    }
}

}  // namespace statemix::sched::cuda
