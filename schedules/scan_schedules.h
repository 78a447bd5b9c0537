// Entry point the scan generators call: picks the target family's schedule and adds the
// softmax fast path (spec §1's default) as a specialization of every scheduled stage.
#pragma once

#include "Halide.h"
#include "cpu_scan_schedules.h"
#include "cuda_scan_schedules.h"
#include "../generators/gate_norm.h"

namespace statemix::gen {

// Every stage that evaluates gates gets a softmax branch (spec §1's default, the one to make
// fastest): inside it the per-element selects of gate_norm.h fold away, because Halide
// substitutes Param == constant. The other variants share one generic branch. (One branch per
// variant was measured: 6x the code and compile time of a single variant, for no gain on the
// variant that matters.)
inline void specialize_softmax(Halide::Stage s, const Halide::Expr &norm) { s.specialize(norm == kSoftmax); }
inline void specialize_softmax_all_updates(Halide::Func f, const Halide::Expr &norm) {
    for (int u = 0; u < f.num_update_definitions(); u++) specialize_softmax(f.update(u), norm);
}

// ScanKnobs::unroll means time steps on CUDA and a tile's vectors per iteration on a CPU, where
// only the sequential forward's state updates take it (measured there; the backward's loops
// carry their own unrolled rows and logits).
inline void check_cpu_unroll(const ScanKnobs &kn, const Halide::Target &target, const std::string &what) {
    if (kn.unroll > 1 && !target.has_gpu_feature()) {
        throw Halide::CompileError(what + ": unroll=" + std::to_string(kn.unroll) +
                                   " on a CPU target: only the sequential forward unrolls its loop over "
                                   "vectors (algorithm=sequential); expected unroll=1");
    }
}

// ScanKnobs::prefetch is a CPU knob of two loops: the sequential forward's time loop (the
// step_prefetch.h pass) and the batch-major one-pass backward's (Stage::prefetch, in
// sched::cpu::backward_one_pass). Anywhere else nothing would read it, so a kernel tuned or built
// with it would differ from what its name says: refuse it, naming the value and the form.
inline void check_prefetch(const ScanKnobs &kn, const Halide::Target &target, const std::string &what,
                           bool applies) {
    if (kn.prefetch == 0) return;
    const std::string value = "prefetch=" + std::to_string(kn.prefetch);
    if (target.has_gpu_feature()) {
        throw Halide::CompileError(what + ": " + value + " on a GPU target: the software prefetch is a CPU knob; "
                                   "expected prefetch=0");
    }
    if (!applies) {
        throw Halide::CompileError(what + ": " + value + ": only the sequential forward and the batch-major "
                                   "one-pass backward (time_major=false, vector_logits=false) prefetch; "
                                   "expected prefetch=0");
    }
}

inline void schedule_scan_forward(ScanForward &P, const ScanKnobs &kn, const Halide::Expr &norm,
                                  const Halide::Target &target) {
    if (kn.algorithm != Algorithm::Sequential) check_cpu_unroll(kn, target, "the chunked forward");
    check_prefetch(kn, target, kn.algorithm == Algorithm::Sequential ? "the forward" : "the chunked forward",
                   kn.algorithm == Algorithm::Sequential);
    if (P.has_rows) P.state.bound(P.j, 0, P.m);
    if (target.has_gpu_feature()) sched::cuda::forward(P, kn);
    else sched::cpu::forward(P, kn);
    specialize_softmax_all_updates(P.state, norm);
    if (kn.algorithm == Algorithm::Chunked) specialize_softmax_all_updates(P.summary, norm);
}

inline void schedule_scan_backward(ScanBackward &P, const ScanKnobs &kn, const Halide::Expr &norm,
                                   const Halide::Target &target) {
    check_cpu_unroll(kn, target, "the backward");
    check_prefetch(kn, target,
                   !P.one_pass         ? (P.chunked ? "the chunked backward" : "the two-pass backward")
                   : kn.time_major     ? "the time-major backward"
                   : P.logits_in_lanes ? "the backward with its logits in the lanes"
                                       : "the backward",
                   P.one_pass && !kn.time_major && !P.logits_in_lanes);
    if (P.one_pass) {
        if (P.has_rows) P.grad.bound(P.j, 0, P.m);
        if (target.has_gpu_feature()) sched::cuda::backward_one_pass(P, kn);
        else sched::cpu::backward_one_pass(P, kn);
        specialize_softmax_all_updates(P.grad, norm);
        return;
    }
    Halide::Func adj = P.chunked ? P.mu : P.adj;  // the re-scanned adjoint (ScanBackward)
    if (P.has_rows) {
        adj.bound(P.j, 0, P.m);
        P.pointwise.bound(P.j, 0, P.m);
    }
    if (P.chunked && P.has_rows) {
        // The channels innermost in mu's storage: a vector of channels (CPU) is one dense load,
        // and a warp's 32 channels (CUDA) are 32 consecutive words of shared memory (with the
        // rows innermost, m-way bank conflicts).
        P.mu.reorder_storage(P.n, P.j, P.sc, P.c, P.b);
    }
    P.pointwise.bound(P.k, 0, P.m + 1);
    if (target.has_gpu_feature()) sched::cuda::backward(P, kn);
    else sched::cpu::backward(P, kn);
    // The gates, rstat_dz and pm_dz are computed inside adj (mu) / summary / pointwise, whose
    // branches already fix `norm`.
    for (int u = 1; u < adj.num_update_definitions(); u++) specialize_softmax(adj.update(u), norm);
    if (P.chunked) specialize_softmax(P.summary.update(0), norm);
    specialize_softmax(P.pointwise, norm);
}

}  // namespace statemix::gen
