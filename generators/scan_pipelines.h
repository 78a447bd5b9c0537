// The named stages of every scan pipeline, as the algorithms in generators/*_generator.cpp build
// them and the schedules in schedules/ consume them. A schedule only ever sees these structs, so
// the math and the ways of running it stay in separate files.
#pragma once

#include "Halide.h"
#include "scan_knobs_version.h"

#include <climits>
#include <map>
#include <string>
#include <vector>

namespace statemix::gen {

// Element i of a Tuple-valued Func reference of `size` elements (a 1-Tuple is a plain Expr).
inline Halide::Expr tuple_elem(const Halide::FuncRef &r, int i, int size) {
    return size == 1 ? Halide::Expr(r) : r[i];
}

// Declare a buffer's inner dims dense (Halide dim 0 innermost, each packed against the ones
// inside it), with the small inner extents fixed: the `fixed` dims, then the channel dim n, whose
// stride is their product. Constant strides let the compiler turn the strided loads of "channels
// in lanes" into dense loads and shuffles instead of gathers. The outer dims (time and batch, in
// either order: [B,T,...] or time-major [T,B,...]) keep any stride, so the runtime can pass a
// crop of the channels (a channel count off the vector width runs as two calls, the second a
// full vector ending at N: runtime/scan_ops.cpp).
template<typename B>
void require_dense(B &buf, const std::vector<int> &fixed) {
    int stride = 1;
    for (size_t d = 0; d < fixed.size(); d++) {
        buf.dim((int)d).set_stride(stride);
        buf.dim((int)d).set_bounds(0, fixed[d]);
        stride *= fixed[d];
    }
    buf.dim((int)fixed.size()).set_stride(stride);
}

enum class Algorithm { Sequential, Chunked };

// Knobs every scan schedule reads; all are GeneratorParams so the autotuner can sweep them.
struct ScanKnobs {
    Algorithm algorithm = Algorithm::Sequential;
    int chunk = 64;         // chunk length L (chunked algorithm)
    int vector_width = 8;   // CPU: SIMD lanes over channels
    int tile = 64;          // CPU: channels per parallel task; CUDA: threads per block
    int unroll = 1;         // CUDA: time steps unrolled in the serial loop; CPU (the sequential
                            // forward only): a tile's vectors per iteration (split_unrolled_vectors)
    bool unroll_rows = true;  // unroll the rows j / logits k of a block (code size grows as m²)
    int prefetch = 0;       // CPU: software-prefetch the inputs this many time steps ahead (0: off;
                            // the sequential forward: step_prefetch.h, the backward: Stage::prefetch)
    // CPU, BD-LRU (the one-pass backward and the sequential forward): the rows j of a block join
    // the channels in the SIMD lanes (lanes = m x vector_width), so h, v, dv and the adjoint,
    // whose rows are adjacent in memory, are loaded and stored as dense vectors instead of
    // stride-m scatters (GeneratorParam vector_rows of bdlru_forward / bdlru_backward).
    bool vector_rows = false;
    // CPU: a channel count off vector_width runs its last vector shifted inwards in the same pass
    // (set by the forward's schedule; schedules/cpu_scan_schedules.h, split_channels), else masked.
    bool shift_last_vector = false;
    // CPU, sequential algorithm, one-pass backward: the sequences are time-major in memory
    // ([T,B,...], the layout cuDNN and PyTorch's RNNs default to), and a task runs `batch_rows`
    // rows of the batch inside its time loop, so each step reads and writes one contiguous
    // stretch of every tensor (batch_rows x its tile) instead of a short row piece. Measured
    // (docs/benchmarks.md): the backward walks time backwards, and short strided pieces are
    // what the hardware prefetchers follow worst.
    bool time_major = false;
    int batch_rows = 16;
    // CPU backward: the step's gate buffers (StepGates) keep the channels innermost in storage
    // (GeneratorParam gates_n_inner: -1 = the generator's measured default, 0 off, 1 on).
    bool gates_n_inner = false;
    // CPU one-pass backward: the step's gates are computed per vector of channels, inside the
    // loop over a tile's vectors, right before the rows that read them (GeneratorParam
    // gates_per_vector, default on), instead of for the whole tile before its first vector. The
    // values stay in registers or a few stack vectors instead of a tile's worth written and read
    // back through L1: 1.04-1.47x at BD-LRU m <= 4 and H-LRU m = 1, 2, 4, 8, equal at BD-LRU
    // m = 5, 8 (the bench's shape, docs/benchmarks.md, 2026-12-03). The two-pass form's adjoint
    // scan keeps its per-tile gates (per vector measured 0.94-1.00x there).
    bool gates_per_vector = true;
    // CPU backward (one pass, and the two-pass form's adjoint scan): the loop over a tile's
    // vectors of channels runs from the last vector to the first, and a time-major task's batch
    // rows from the last to the first (reverse_loops.h), so a step walks memory downwards as the
    // steps do and the streams are one descending run that the hardware prefetchers follow.
    // Upwards inside each step of a downward walk, the prefetchers fetched ahead into the step
    // just done and the core waited at every step's start: the H-LRU m = 2 backward ran 1.26-1.32x
    // faster reversed on the AMD EPYC (Zen 1) at the bench's shape (docs/benchmarks.md,
    // 2026-12-05). GeneratorParam reverse_channels: -1 = the generator's measured default, 0 off,
    // 1 on. Measured on the one-pass form only; the two-pass adjoint scan follows the same
    // default (no CPU database entry picks the two-pass H-LRU form).
    bool reverse_channels = false;
    // CPU, BD-LRU one-pass backward: a row's logits k in the SIMD lanes (GeneratorParam
    // vector_logits of bdlru_backward), one block at a time.
    bool vector_logits = false;
};

// The RVars of one update stage, in the order its RDom lists them: the logits k (a one-pass
// backward's dz), the rows j of a block
// (BD-LRU: rows read each other's previous values, so they cannot be a pure Var), the serial time
// steps, and the chunks (parallel).
// A one-pass backward's update also has the logit index k of dz as its first RVar (logits).
struct UpdateLoops {
    bool rows = false, serial = false, chunks = false, logits = false;
    bool rows_first = false;  // the rows' RVar comes before the logits' (one-pass backward, vector_rows)
};

inline const std::map<std::string, Algorithm> &algorithm_names() {
    static const std::map<std::string, Algorithm> names = {{"sequential", Algorithm::Sequential},
                                                           {"chunked", Algorithm::Chunked}};
    return names;
}

// The GeneratorParams of every scan generator (the tuner's knobs) and the ScanKnobs they make.
// Their version is STATEMIX_SCAN_KNOBS_VERSION (scan_knobs_version.h): bump it when they change.
// Rows/logits are unrolled by default up to m = auto_unroll_max_m (code size grows as m·(m+1));
// A knob's value outside [lo, hi]: a CompileError naming it. Halide 21 does not enforce a
// GeneratorParam's min and max when the value is given by name (m=0 reached a division by zero),
// so every scan generator checks its knobs first (check_knobs, below).
inline void check_knob_range(const char *name, int value, int lo, int hi, const char *meaning = "") {
    if (value < lo || value > hi) {
        throw Halide::CompileError(std::string(name) + "=" + std::to_string(value) + ": expected " + std::to_string(lo) +
                                   (hi == INT_MAX ? " or more" : " to " + std::to_string(hi)) + meaning);
    }
}

// gates_n_inner defaults to auto_gates_n_inner, reverse_channels to auto_reverse_channels (where
// each measured faster).
#define STATEMIX_SCAN_KNOBS(auto_unroll_max_m, auto_gates_n_inner, auto_reverse_channels)          \
    GeneratorParam<int> m{"m", 1, 1, 64};                                                          \
    GeneratorParam<Algorithm> algorithm{"algorithm", Algorithm::Sequential, algorithm_names()};    \
    GeneratorParam<int> chunk{"chunk", 64};                                                        \
    GeneratorParam<int> vector_width{"vector_width", 0}; /* 0: the target's natural width */       \
    GeneratorParam<int> tile{"tile", 64};                                                          \
    GeneratorParam<int> unroll{"unroll", 1};                                                       \
    GeneratorParam<int> unroll_rows{"unroll_rows", -1, -1, 1}; /* -1: auto, 0 off, 1 on */         \
    GeneratorParam<bool> fast_math{"fast_math", true};                                             \
    GeneratorParam<int> prefetch{"prefetch", 0};                                                   \
    GeneratorParam<bool> time_major{"time_major", false}; /* ScanKnobs::time_major */              \
    GeneratorParam<int> batch_rows{"batch_rows", 16};                                              \
    GeneratorParam<int> gates_n_inner{"gates_n_inner", -1, -1, 1}; /* -1: auto_gates_n_inner */    \
    GeneratorParam<bool> gates_per_vector{"gates_per_vector", true}; /* ScanKnobs::gates_per_vector */ \
    GeneratorParam<int> reverse_channels{"reverse_channels", -1, -1, 1}; /* -1: auto_reverse_channels */ \
    void check_knobs() const {                                                                     \
        check_knob_range("m", m, 1, 64);                                                           \
        check_knob_range("chunk", chunk, 1, INT_MAX);                                              \
        check_knob_range("vector_width", vector_width, 0, 64, " (0: the target's natural width)");   \
        check_knob_range("tile", tile, 1, INT_MAX);                                                \
        check_knob_range("unroll", unroll, 1, INT_MAX);                                            \
        check_knob_range("unroll_rows", unroll_rows, -1, 1, " (-1: the generator's default, 0 off, 1 on)"); \
        check_knob_range("prefetch", prefetch, 0, INT_MAX);                                        \
        check_knob_range("batch_rows", batch_rows, 1, INT_MAX);                                    \
        check_knob_range("gates_n_inner", gates_n_inner, -1, 1, " (-1: the generator's default, 0 off, 1 on)"); \
        check_knob_range("reverse_channels", reverse_channels, -1, 1, " (-1: the generator's default, 0 off, 1 on)"); \
    }                                                                                              \
    ScanKnobs knobs() const {                                                                      \
        ScanKnobs k{algorithm, chunk,                                                              \
                    vector_width > 0 ? (int)vector_width : get_target().natural_vector_size<float>(), \
                    tile, unroll,                                                                  \
                    unroll_rows < 0 ? (int)m <= (auto_unroll_max_m) : unroll_rows != 0, prefetch}; \
        k.time_major = time_major;                                                                 \
        k.batch_rows = batch_rows;                                                                 \
        k.gates_n_inner = gates_n_inner < 0 ? (bool)(auto_gates_n_inner) : gates_n_inner != 0;     \
        k.gates_per_vector = gates_per_vector;                                                     \
        k.reverse_channels = reverse_channels < 0 ? (bool)(auto_reverse_channels) : reverse_channels != 0; \
        return k;                                                                                  \
    }

// Forward of a linear recurrence (BD-LRU or H-LRU). `state` is the output sequence Func.
//   Sequential: state.update(0) = first step(s) from the initial state, update(1) = the rest.
//   Chunked:    summary (per chunk, a Tuple over `col`: transition columns + affine part),
//               carry (state at the end of each chunk, a scan over chunks), then
//               state.update(0) = first step(s) of every chunk, update(1) = the rest.
struct ScanForward {
    Halide::Func state, final_state;
    Halide::Func summary, carry;          // chunked only
    Halide::Var j, n, t, b, col, c;       // j: row inside a block (BD-LRU only; undefined for H-LRU)
    bool has_rows = true;                 // BD-LRU: state has the j dimension
    int m = 1;
    std::vector<UpdateLoops> state_loops;  // one per update of `state`
    UpdateLoops summary_loops, carry_loops;
    // BD-LRU, transpose_logits: the stages of each step's in-register transpose of a block's
    // logits (bdlru_generator.cpp, transposed_logits), first to last; empty otherwise. Each is a
    // Func of (y, n, t, b) over y in [0, m·m); the schedule computes them per block and step.
    std::vector<Halide::Func> logit_stages;
    // Set by a CPU schedule (ScanKnobs::prefetch): the time loops to software-prefetch the streamed
    // inputs in (regular expressions over Halide's loop names); the generator's build_pipeline adds
    // the pass (step_prefetch.h: with_step_prefetch).
    std::vector<std::string> prefetched_loops;
};

// One step's gates as the backward reads them, computed once per logit where a scan reads them:
// the row statistics (rstat: its shift, or for a row of three logits its three φ), φ of every
// logit (pstep), the row 1/S (rinv) (gate_norm.h: define_step_gates). A backward has one set per
// stage that walks time (each is computed inside its own stage's time loop).
struct StepGates {
    Halide::Func rstat, pstep, rinv;
    bool phi_in_rstat = false;  // rows of three logits: rstat holds the row's three φ (a Tuple) and
                                // pstep only picks one out, so schedules leave it inline
};

// Backward of a linear recurrence, in one of three forms (GeneratorParams `two_pass`, `algorithm`):
//  one pass (default): a single reverse-time scan `grad` whose Tuple elements are the outputs
//    (dz, dv) and the adjoint carried between steps. Each step reads z, v, h, g once and writes
//    dz, dv once (spec §6). The adjoint lives in small buffers whose time stride is 0 (one slot
//    per lane, not per step). BD-LRU (grad_parity): two of them (adj_a, adj_b); even iterations
//    of the reverse-time loop (counter r = T-1-t, so step T-1 is iteration 0) write adj_a and
//    read adj_b, odd ones the reverse, so a step never overwrites what it still reads; the CPU
//    schedule unrolls that loop by 2, so each copy knows its buffers; dh0 is in the buffer
//    iteration T-1 wrote. H-LRU: one buffer (adj), which a step rewrites in place in the order
//    of its logit loop (hlru_generator.cpp), and three updates, so that the main loop reads
//    neither g_final nor h0: the last step, the steps down to m, the first m steps. dv and, for
//    BD-LRU, the adjoint do not depend on dz's logit index k; their buffers have stride 0 along k.
//  two pass: a reverse-time adjoint scan `adj` (internal, [B,T+1,N,m]), then the pointwise
//    gradients (parallel over time): the output Tuple `pointwise` = (dz, dv) over dz's dims, dv
//    seen with stride 0 along k as in the one-pass form, so one loop nest (one GPU kernel) reads
//    z, g and the adjoint once for both (as two Funcs they were two passes; compute_with cannot
//    fuse them on the GPU in Halide 21, docs/benchmarks.md 2026-12-04). Reads z twice.
//  chunked (algorithm=chunked, two pass implied): the adjoint is a linear recurrence of the same
//    kind as the forward, run backwards in time with the transposed transitions (spec §5), so it
//    gets the forward's three stages over chunks of `chunk` steps: `summary` (per chunk, a Tuple
//    over `col`: the chunk's transposed transition product applied to unit vectors, col < m,
//    and its affine part from the g inputs, col == m), `carry` (the adjoint at each chunk's
//    first step, a scan over chunks from the last), then `mu` re-scanned in every chunk from
//    the carry of the chunk after it, consumed by the same pointwise (dz, dv). `mu` has the
//    chunk as a pure Var (mu(j, n, sc, c, b) = the adjoint at step c·chunk + sc, sc in
//    [0, chunk], sc = chunk the chunk's end), so a schedule computes it per chunk inside the
//    pointwise pass's chunk loop (CUDA: a block's shared memory; CPU: a task's chunk in cache)
//    and the adjoint never goes to memory; dh0 is the carry of chunk 0. Reads z three times
//    (the third from cache), but runs chunks in parallel (for the GPU, where B·N lanes are few).
// `dh0` in every form.
struct ScanBackward {
    bool one_pass = true;
    bool chunked = false;
    Halide::Func grad;          // one pass
    UpdateLoops grad_loops;     // the RVars of every update of `grad` (all have the same)
    std::vector<StepGates> grad_gates;  // one per update of `grad`, computed inside its time loop
    // BD-LRU, vector_logits: a row's logits in the lanes. Per block and step: the row max
    // (row_max), φ of every logit (phi, [m+1, m]) and the row's 1/Σ|φ| (row_inv), the max and
    // the sum each from a pairwise reduction over the logits (max_stages, sum_stages; bdlru_generator.cpp
    // row_reduce); the adjoint buffers are indexed by the logit k (stride 0 along j).
    bool logits_in_lanes = false;
    Halide::Func row_max{"row_max"}, phi{"phi"}, row_inv{"row_inv"};
    std::vector<Halide::Func> max_stages, sum_stages;
    bool grad_parity = true;    // two adjoint buffers alternating with the time loop's parity
    Halide::Func adj, pointwise;  // adj: two pass; pointwise = (dz, dv) over dz's dims (two pass, chunked)
    std::vector<UpdateLoops> adj_loops;  // one per update of `adj`; the last walks time
    Halide::Func mu{"mu"};      // chunked: the adjoint re-scanned per chunk (update 0: the chunk's
    UpdateLoops mu_loops;       // end; update 1 walks the chunk backwards, its RVars mu_loops)
    int chunk = 0;              // chunked: the chunk length (the pointwise pass splits t by it)
    Halide::Func rstat_dz;      // two pass: per-row statistics read by the pointwise pass
    Halide::Func pm_dz;         // two pass: p of a row's last logit (dv = λ·p_m), read by it
    Halide::Func summary, carry;         // chunked only
    UpdateLoops summary_loops, carry_loops;
    Halide::Func dh0;
    StepGates gates;            // read by the last update of `adj` (chunked: of `mu`)
    StepGates summary_gates;    // chunked: read by the summaries
    Halide::Var j, n, t, b, k, col, c;
    Halide::Var sc{"sc"};       // chunked: the step inside a chunk (mu's third/second dim)
    bool has_rows = true;
    int m = 1;
    std::vector<Halide::ImageParam> streamed;  // inputs read once per step (ScanKnobs::prefetch)
    // Set by a CPU schedule (ScanKnobs::reverse_channels): the loops to run backwards, regular
    // expressions over Halide's loop names; the generator's build_pipeline adds the pass
    // (reverse_loops.h: with_reversed_loops).
    std::vector<std::string> reversed_loops;
};

// Stride constraints of a one-pass backward's output Tuple element (Halide dim order); an
// undefined Expr leaves that stride free.
template<typename P>
void require_strides(P param, const std::vector<Halide::Expr> &strides) {
    for (size_t d = 0; d < strides.size(); d++) {
        if (strides[d].defined()) param.dim((int)d).set_stride(strides[d]);
    }
}

}  // namespace statemix::gen
