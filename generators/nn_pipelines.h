// The named stages of the training runtime's pointwise, normalization, loss and optimizer ops, as
// generators/nn_generator.cpp builds them and schedules/{cpu,cuda}_nn_schedules.h consume them
// (the math in one file, every way of running it in another).
//
// Determinism: every reduction over rows (dgamma/dbeta, the embedding gradient, Σx²) is
// factored over a fixed partition of the rows (`NnKnobs::rows` rows per partial, a generator
// parameter, never the thread count) and the partials are summed in a fixed order, so every
// result is bitwise reproducible for a given kernel (and independent of the thread count too).
// Row reductions (a row's mean, max, Σ exp) are split into vector lanes in a fixed way; nothing
// uses atomics.
#pragma once

#include "Halide.h"
#include "scan_pipelines.h"  // Algorithm, algorithm_names

namespace statemix::gen {

struct NnKnobs {
    bool gpu = false;
    int vector_width = 8;  // CPU: SIMD lanes over the contiguous dim
    int rows = 64;         // rows per parallel task, and per partial sum of a reduction over rows
    int tile = 128;        // CUDA: threads per block of the 1-D kernels
};

// The GeneratorParams of every nn generator. m and algorithm come with every statemix_kernel()
// line; these ops have neither (m = 0, sequential).
#define STATEMIX_NN_KNOBS                                                                          \
    GeneratorParam<int> m{"m", 0, 0, 0};                                                           \
    GeneratorParam<Algorithm> algorithm{"algorithm", Algorithm::Sequential, algorithm_names()};   \
    GeneratorParam<int> vector_width{"vector_width", 0}; /* 0: the target's natural width */       \
    GeneratorParam<int> rows{"rows", 64};                                                          \
    GeneratorParam<int> tile{"tile", 128};                                                         \
    NnKnobs knobs() const {                                                                        \
        _halide_user_assert(algorithm == Algorithm::Sequential) << "nn kernels are algorithm=sequential\n"; \
        _halide_user_assert(rows >= 0 && tile > 0) << "rows must be >= 0 and tile > 0\n";         \
        return {get_target().has_gpu_feature(),                                                    \
                vector_width > 0 ? (int)vector_width : get_target().natural_vector_size(Float(32)),  \
                rows, tile};                                                                       \
    }

// LayerNorm forward over rows r of x (d, r). `stats` (mean, rstd) per row from the row sums
// `sum` and `sq` (Σ(x - mean)², two-pass: no cancellation); outputs y, mean_out, rstd_out.
struct LayerNormForward {
    Halide::Var d{"d"}, r{"r"};
    Halide::Func sum, mean, sq, stats;
    Halide::Func y, mean_out, rstd_out;
};

// LayerNorm backward. `sums` (Σ_d g·x̂, Σ_d g) per row (g = dy·γ); dx per element; `part`
// (Σ dy·x̂, Σ dy) over the rows [u·rows, (u+1)·rows) for chunk u, declared over the same Var r as
// dx (it indexes chunks there) so the CPU schedule can fuse it into dx's loop over chunks;
// `colsum` the partials summed in chunk order; dgamma, dbeta its two elements.
struct LayerNormBackward {
    Halide::Var d{"d"}, r{"r"};
    Halide::Func sums, dx, part, colsum, dgamma, dbeta;
};

// Any pointwise op over a flat index i (gelu, add, scale, the AdamW step); `out` may be a Tuple.
struct Pointwise {
    Halide::Var i{"i"};
    Halide::Func out;
};

// A pointwise op over rows: out(c, r) (SwiGLU forward, embedding forward).
struct RowPointwise {
    Halide::Var c{"c"}, r{"r"};
    Halide::Func out;
};

// SwiGLU backward: ab, dab are viewed as (f, half, r) (half 0: a = W1 x, half 1: b = W2 x);
// sig(f, r) = σ(a) is computed once per element and read by both halves.
struct SwiGluBackward {
    Halide::Var f{"f"}, half{"half"}, r{"r"};
    Halide::Func sig, dab;
};

// Embedding backward: part(d, v, u) = Σ dy over the rows of chunk u with id v (a scatter-add,
// serial over the chunk's rows), dtable = Σ_u part in order. dpos(d, p) = pos_sum (Σ_b over the
// batch rows, in order) for p < T, else 0; undefined without a position table.
struct EmbeddingBackward {
    Halide::Var d{"d"}, v{"v"}, u{"u"}, p{"p"};
    Halide::Func part, dtable, pos_sum, dpos;
};

// Cross-entropy: per row `mx` (max logit), `e` = exp(logit - max) (stored: one exp per element),
// `se` = Σ e, `idx` = first index of the max; `stats` (mx, se, idx) what the outputs read.
struct CrossEntropy {
    Halide::Var c{"c"}, r{"r"};
    Halide::Func mx, e, se, idx, stats;
    Halide::Func dlogits, loss, pred;
};

// Σx² partials: part(l, u) = Σ_j x(u·chunk + j·L + l)² in float64 (L lanes per chunk u); `acc`
// the reduction, part its copy.
struct SumSquares {
    Halide::Var l{"l"}, u{"u"};
    Halide::Func acc, part;
};

// H-LRU's lag stack: forward lags(n, k, t, b) (pure: s(n, t-k, b); one update writes the t < k
// corner from h0), backward ds(n, t, b) = acc = Σ_k dlags(n, k, t+k, b).
struct LagStackForward {
    Halide::Var n{"n"}, k{"k"}, t{"t"}, b{"b"};
    Halide::Func lags;
};
struct LagStackBackward {
    Halide::Var n{"n"}, t{"t"}, b{"b"};
    Halide::Func acc, ds;
};

}  // namespace statemix::gen
