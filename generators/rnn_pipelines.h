// The named stages of the nonlinear recurrences (WCRNN, Elman, LSTM: ../shared/spec/layers.md
// §7-§8), as generators/wcrnn_generator.cpp and lstm_generator.cpp build them and
// schedules/*_rnn_schedules.h consume them, plus the one algorithm they all share: the
// sequential matrix-vector scan (define_matvec_scan).
//
// Why the scan has this shape. The state at step t depends on ALL of h_{t-1} through W·h_{t-1},
// and Halide forbids cycles between Funcs, so neither a separate "pre-activation" Func nor an
// inline sum() over h_{t-1} can feed h's own update. Instead the mat-vec is accumulated into the
// state Func itself: row s of the state S(i, s, b) starts at zero (pure definition), an update
// adds k_unroll terms of W·h_{s-1} per iteration of a k-chunk RVar, and one extra iteration
// (rk == number of chunks, split off by loop partitioning) adds the step's drive (a per-step
// input) and applies the nonlinearity in place. The hidden index i is an RVar of that update
// (never a pure Var: every row reads all of row s-1), and the loop order of a non-associative
// update cannot be changed
// after the fact (Halide rejects reordering its RVars), so the RDom's order is chosen here from
// the target: i innermost on CPU (SIMD lanes over i, the mat-vec as column sweeps), k innermost on
// CUDA (one thread per hidden unit runs its whole dot product).
#pragma once

#include "Halide.h"
#include "fast_math.h"
#include "scan_pipelines.h"

#include "../runtime/rnn_step_layout.h"

#include <functional>
#include <vector>

namespace statemix::gen {

// Knobs every RNN schedule reads; all are GeneratorParams so the autotuner can sweep them.
struct RnnKnobs {
    bool gpu = false;
    int vector_width = 8;  // CPU: SIMD lanes over hidden units
    int tile = 512;        // CUDA: threads per block over hidden units (a block per batch row)
    int k_unroll = 8;      // mat-vec terms per load/store of an accumulator
    int batch_tile = 4;    // CPU forward: batch rows per task, interleaved so each W vector load serves all
                           // (step kernels: batch rows per register tile; 0 = from the register budget)
    int strip = 1;         // step kernels: unit tiles per parallel task
};

// wcrnn: m is the residual's block size (2: elementwise/2x2 blocks, per-unit coefficients;
// 0: a dense H×H residual matrix). elman/lstm: m = 0.
#define STATEMIX_RNN_KNOBS                                                                         \
    GeneratorParam<int> m{"m", 0, 0, 2};                                                           \
    GeneratorParam<Algorithm> algorithm{"algorithm", Algorithm::Sequential, algorithm_names()};   \
    GeneratorParam<int> vector_width{"vector_width", 0}; /* 0: the target's natural width */       \
    GeneratorParam<int> tile{"tile", 512};                                                         \
    GeneratorParam<int> k_unroll{"k_unroll", 8};                                                   \
    GeneratorParam<int> batch_tile{"batch_tile", 4};                                               \
    RnnKnobs knobs() const {                                                                       \
        _halide_user_assert(algorithm == Algorithm::Sequential)                                    \
            << "RNN kernels exist only as algorithm=sequential\n";                                 \
        return {get_target().has_gpu_feature(),                                                    \
                vector_width > 0 ? (int)vector_width : get_target().natural_vector_size(Float(32)),  \
                tile, k_unroll, batch_tile};                                                       \
    }

// The knobs of the step kernels (RnnStep below; CPU only). The unit tile is fixed
// (step_unit_tile(gates): the runtime packs W for it), its vectors are tile / vector_width.
#define STATEMIX_STEP_KNOBS                                                                        \
    GeneratorParam<int> m{"m", 0, 0, 2};                                                           \
    GeneratorParam<Algorithm> algorithm{"algorithm", Algorithm::Sequential, algorithm_names()};   \
    GeneratorParam<int> vector_width{"vector_width", 0}; /* 0: the target's natural width */       \
    GeneratorParam<int> batch_tile{"batch_tile", 0};     /* 0: as many as 16 accumulators allow */ \
    GeneratorParam<int> strip{"strip", 1};                                                         \
    RnnKnobs knobs() const {                                                                       \
        _halide_user_assert(algorithm == Algorithm::Sequential && !get_target().has_gpu_feature())  \
            << "step kernels exist only as algorithm=sequential, for the CPU\n";                   \
        RnnKnobs k;                                                                                \
        k.vector_width = vector_width > 0 ? (int)vector_width : get_target().natural_vector_size(Float(32)); \
        k.batch_tile = batch_tile;                                                                 \
        k.strip = strip;                                                                           \
        return k;                                                                                  \
    }

// The sequential mat-vec scan S(i, s, b) (a Tuple of `size` floats per element).
struct MatVecScan {
    Halide::Func state;
    std::vector<Halide::Func> weights;  // padded matrices M(i, k) the scan reads (computed once)
    Halide::Var i{"i"}, s{"s"}, b{"b"}, k{"k"}, q{"q"};
    int size = 1;
    bool k_inner = false;   // RDom order: (rk, ri, rt) when true, else (ri, rk, rt)
    int scan_update = 0;    // index of the scan's update (boundary rows come before it)
    // Per-step inputs the finalize reads (the step's drive; f'(a_t) or a gate in the backward),
    // Funcs of (i, [gate,] t, b) over inputs only. CUDA stages them in shared memory once per step
    // (cuda_rnn_schedules.h: this is also what makes Halide put a barrier between steps).
    std::vector<Halide::Func> step_inputs;
    Halide::RVar ri, rk, rt;  // hidden unit, k-chunk (+1 finalize iteration), step
};

// One term of the scan's mat-vec: element `acc` of row s accumulates Σ_k M(i, k)·S(k, src)[src_elem]
// where src is the neighbouring row (s-1 forward, s+1 in reverse). M must be zero for k >= H
// (the last chunk reads up to k_unroll-1 entries past H, at clamped indices).
struct MatVecTerm {
    int acc;
    std::function<Halide::Expr(Halide::Expr i, Halide::Expr k)> weight;
    int src_elem;
};

// finalize(acc, i, row, prev) -> the new Tuple of row `row` at unit i, given its fully
// accumulated values `acc` and prev(e, j) = element e of the neighbouring row at unit j (clamped).
//
// Rule for multi-element states: no element's new value may read an element of the current row
// with a lower index that the finalize changes (so results go to their own elements, after the
// accumulators, which stay unchanged). A Tuple update is meant to be simultaneous, but Halide 21
// lowered the LSTM's finalize with the stores in element order and a later element re-reading an
// earlier one after its store (seen: c computed from the new h instead of the input gate). Under
// this rule either order gives the same result.
using PrevRow = std::function<Halide::Expr(int elem, Halide::Expr j)>;
using Finalize = std::function<std::vector<Halide::Expr>(const std::vector<Halide::Expr> &acc, Halide::Expr i,
                                                         Halide::Expr row, const PrevRow &prev)>;

inline Halide::Expr state_elem(const MatVecScan &P, int e, Halide::Expr i, Halide::Expr row, Halide::Expr b) {
    return tuple_elem(P.state(i, row, b), e, P.size);
}

// Adds the scan update to P.state (its pure definition and any boundary updates must exist).
// Forward: rows 1..T from rows 0..T-1. Reverse: rows T-1..0 from rows T..1.
inline void define_matvec_scan(MatVecScan &P, Halide::Expr H, Halide::Expr T, bool reverse, int k_unroll,
                               const std::vector<MatVecTerm> &terms, const Finalize &finalize) {
    using namespace Halide;
    const int ku = k_unroll;
    Expr nkc = (H + ku - 1) / ku;
    RDom r = P.k_inner ? RDom(0, nkc + 1, 0, H, 0, T, "r") : RDom(0, H, 0, nkc + 1, 0, T, "r");
    P.ri = P.k_inner ? r.y : r.x;
    P.rk = P.k_inner ? r.x : r.y;
    P.rt = r.z;
    Expr ri = P.ri, rk = P.rk, rt = P.rt;
    Var b = P.b;
    Expr row = reverse ? T - 1 - rt : rt + 1;
    Expr src = reverse ? row + 1 : row - 1;

    std::vector<Expr> cur, acc;
    for (int e = 0; e < P.size; e++) cur.push_back(state_elem(P, e, ri, row, b));
    acc = cur;
    // One term per accumulator: a chain of k_unroll multiply-adds that starts from the accumulator.
    // Several terms into one accumulator (the LSTM adjoint: Σ over 4 gates) are summed apart and
    // then added pairwise, so the dependent chain is k_unroll long instead of terms·k_unroll (one
    // chain of 32 multiply-adds per 8 columns bound the LSTM adjoint by FMA latency).
    std::vector<int> n_terms(P.size, 0);
    for (const MatVecTerm &term : terms) n_terms[term.acc]++;
    std::vector<std::vector<Expr>> parts(P.size);
    for (const MatVecTerm &term : terms) {
        const bool alone = n_terms[term.acc] == 1;
        Expr sum = alone ? acc[term.acc] : Expr();
        for (int kk = 0; kk < ku; kk++) {
            Expr kidx = rk * ku + kk;
            Expr prod = term.weight(ri, kidx) * state_elem(P, term.src_elem, min(kidx, H - 1), src, b);
            sum = sum.defined() ? sum + prod : prod;
        }
        if (alone) acc[term.acc] = sum;
        else parts[term.acc].push_back(sum);
    }
    for (int e = 0; e < P.size; e++) {
        std::vector<Expr> ps = parts[e];
        if (ps.empty()) continue;
        while (ps.size() > 1) {
            std::vector<Expr> next;
            for (size_t n = 0; n + 1 < ps.size(); n += 2) next.push_back(ps[n] + ps[n + 1]);
            if (ps.size() % 2) next.push_back(ps.back());
            ps = next;
        }
        acc[e] = acc[e] + ps[0];
    }
    PrevRow prev = [&](int e, Expr j) { return state_elem(P, e, clamp(j, 0, H - 1), src, b); };
    std::vector<Expr> fin = finalize(cur, ri, row, prev);
    std::vector<Expr> next;
    // likely() tags the steady-state value (not the condition): Halide then splits the last
    // k-chunk iteration off the loop, so the steady state is pure multiply-adds.
    for (int e = 0; e < P.size; e++) next.push_back(select(rk < nkc, likely(acc[e]), fin[e]));
    P.scan_update = P.state.num_update_definitions();
    if (P.size == 1) P.state(ri, row, b) = next[0];
    else P.state(ri, row, b) = Tuple(next);
}

// Forward of a recurrence: the scan (rows 1..T hold steps 0..T-1, row 0 the initial state), the
// sequence copied out of it (`seq`, a Tuple for LSTM's (h, c)) and the final state.
struct RnnForward {
    MatVecScan scan;
    Halide::Func seq, final_state;
};

// Backward: the gate pre-activations recomputed in parallel over (t, b) (`pre`, dims (i, q, t, b),
// pure definition = drive, update 0 = the mat-vec over k chunks; undefined where the saved
// outputs give the derivatives, as for Elman), the reverse adjoint scan
// (update 0 = its boundary row T, then the scan), and the gradients read from it.
struct RnnBackward {
    MatVecScan scan;
    Halide::Func pre;
    Halide::Func pre_first;  // where pre reads h_{t-1} from h for t >= 1: step 0's, from h0 (i, q, b)
    std::vector<Halide::Func> pre_weights;
    std::vector<Halide::Func> pointwise;  // pure Funcs over (i, t, b) or (i, b)
    std::vector<Halide::Func> scattered;  // undef pure definition, updates over an RVar of units
    std::vector<Halide::Func> outer;      // Σ_{t,b} y_j·h_k (outer_sum: update 0 over t >= 1, update 1 t = 0)
    std::vector<Halide::Func> outer_out;  // outer[n] copied out (the Output): the schedule computes
                                          // outer[n] per tile of outer_out[n] (CPU: a register tile)
    std::vector<Halide::Func> sums;       // Σ_{t,b} per unit, dims (i): pure 0, update 0 over (t, b)
    std::vector<Halide::Func> sum_outputs;  // pure (i) Funcs reading sums (the Outputs)
    std::vector<Halide::Func> sum_inputs;   // pure (k, s, b) Funcs the sums read, computed per row
};

// A weight gradient Σ_{t,b} y(j, t, b)·h_{t-1}(k, b) with h_{-1} = h0, as acc(k, j) (the Func the
// schedule blocks: RnnBackward::outer). Update 0 sums over t >= 1 and reads h only (the GEMM over
// K = (T-1)·B that the schedule tiles); update 1 adds t = 0 from h0 (K = B). Splitting off t = 0
// keeps a select between h0 and h out of the GEMM's inner loop. `active` = 0 leaves acc zero
// (a gradient computed only on request).
inline Halide::Func outer_sum(const std::string &name, const std::function<Halide::Expr(Halide::Expr, Halide::Expr, Halide::Expr)> &y,
                              Halide::Func h, Halide::Func h0, Halide::Expr T, Halide::Expr B, Halide::Expr active = 1) {
    using namespace Halide;
    Var k("k"), j("j");
    Expr on = select(active != 0, 1, 0);
    RDom r(0, max(T - 1, 0) * on, 0, B, name + "_r");
    RDom r0(0, B * on, name + "_r0");
    Func acc(name);
    acc(k, j) = 0.0f;
    acc(k, j) += y(j, r.x + 1, r.y) * h(k, r.x, r.y);
    acc(k, j) += y(j, 0, r0) * h0(k, r0);
    return acc;
}

}  // namespace statemix::gen

namespace statemix::gen {

// ---- The stepped forward (CPU) ------------------------------------------------------------------
// One step of a recurrence as a pipeline of its own, which the runtime calls T times
// (runtime/rnn_stepped.cpp), as oneDNN and cuDNN's non-persistent RNNs run one GEMM per step.
// Why, next to the scan above: in the scan, W·h_{t-1} accumulates in the state Func that also
// holds h_{t-1}, so the accumulators live in the same buffer the broadcasts are read from and
// LLVM must load and store them around every k-chunk (the scans ran at 100-155 GFLOP/s on the
// 2-core dev machine). A step reads h_{t-1} from an input buffer and sums into a Func of its own,
// which the schedule computes per register tile over all of k: a GEMM micro-kernel (per column
// k: a few loads of W, one broadcast per batch row, rows × vectors multiply-adds), 150-175 GFLOP/s
// in a JIT prototype at H = 1024.
//
// W arrives packed by the runtime as Wp(ii, q, k, j) = W_q[j·tile + ii, k] (zero past H): unit
// tile j's column k of every gate q is contiguous, and so is the next column. (Row-major W read
// in place put each column 4 KB apart at H = 1024: 27 GFLOP/s in the prototype.)
struct RnnStep {
    Halide::Func acc;   // acc(ii, q, b, j) = Σ_k Wp(ii, q, k, j)·h_{t-1}(k, b)
    Halide::Func out;   // the step's outputs over (i, b): h_t (a Tuple with c_t, z_t for the LSTM)
    Halide::Var i{"i"}, b{"b"}, ii{"ii"}, q{"q"}, j{"j"};
    int gates = 1, tile = 32;
};

inline void define_step_matvec(RnnStep &P, Halide::Func Wp, Halide::Func hp, Halide::Expr H, int gates) {
    using namespace Halide;
    P.gates = gates;
    P.tile = step_unit_tile(gates);
    RDom r(0, H, "rk");
    P.acc = Func("acc");
    P.acc(P.ii, P.q, P.b, P.j) = 0.0f;
    P.acc(P.ii, P.q, P.b, P.j) += Wp(P.ii, P.q, r, P.j) * hp(r, P.b);
}

// Gate g's W_g·h_{t-1} at unit i. The schedule tiles i by P.tile from 0, so the division and
// remainder fold away (the output's min is constrained to 0).
inline Halide::Expr step_acc(const RnnStep &P, int g, Halide::Expr i, Halide::Expr b) {
    return P.acc(i % P.tile, g, b, i / P.tile);
}

}  // namespace statemix::gen
