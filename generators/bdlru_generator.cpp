// BD-LRU (block-diagonal linear recurrent unit), ../shared/spec/layers.md §2, §4, §5.
// Algorithms only: every way of running them lives in schedules/.
//
// Halide dims are the reverse of the row-major shapes:
//   z [B,T,N,m,m+1] -> (k, j, n, t, b)     v, h, g [B,T,N,m] -> (j, n, t, b)
//   h0, h_final, g_final, dh0 [B,N,m] -> (j, n, b)
#include "Halide.h"
#include "gate_norm.h"
#include "reverse_loops.h"
#include "step_prefetch.h"
#include "scan_knob_defaults.h"
#include "scan_pipelines.h"
#include "../schedules/scan_schedules.h"

#include <functional>

using namespace Halide;

namespace statemix::gen {
namespace {

// Row j of block n at time t: h_t[j] = Σ_i A_t[j,i]·prev(i) + a0_t[j]·v_t[j]  (spec §2).
Expr bdlru_row(const Func &z, const Func &v, Expr j, Expr n, Expr t, Expr b, int m, Expr norm,
               bool fast, const std::function<Expr(int)> &prev, Expr input_on = Expr()) {
    std::vector<Expr> logits;
    for (int k = 0; k <= m; k++) logits.push_back(z(k, j, n, t, b));
    std::vector<Expr> p = norm_row_p(logits, norm, fast);
    Expr acc = p[m] * v(j, n, t, b);
    if (input_on.defined()) acc = select(input_on, acc, 0.0f);
    for (int i = 0; i < m; i++) acc = acc + p[i] * prev(i);
    return acc;
}

// Logit k < m of row j as the sequential forward with a block's rows in the SIMD lanes reads it:
// row j's logits are adjacent in z (stride m+1 between rows), so a vector over the rows j of one
// block is a stride-(m+1) load that Halide stages as dense loads only when the stride is under the
// vector's lanes; at one block per vector (lanes = m) each logit is one scalar move per lane (272
// per block and step at m = 16). Here the m x m logits k < m of a block are transposed in
// registers instead: stage 0 loads the block's rows densely (y = j·m + k), and log2(m) perfect
// shuffles S_q[y] = S_{q-1}[rotr(y)] (rotr: the index's bits rotated right by one) leave
// y = k·m + j. A perfect shuffle is an interleave of the two halves, which Halide stores as one
// two-way shuffle per pair of vectors: 64 vpermt2ps for the 16 x 16 block on AVX-512, where the
// 16-way interleave of the same transpose written in one stage took 169. m must be a power of
// two. The stages are identity copies; schedules/cpu_scan_schedules.h computes them per block and
// step (ScanForward::logit_stages).
Func transposed_logits(const Func &z, int m, Var n, Var t, Var b, std::vector<Func> &stages) {
    Var y("y"), k("k"), j("j");
    int bits = 0;
    while ((1 << bits) < m) bits++;
    stages.assign(1, Func("logit_stage0"));
    stages[0](y, n, t, b) = z(y % m, y / m, n, t, b);
    const int half = m * m / 2;
    for (int q = 1; q <= bits; q++) {
        stages.push_back(Func("logit_stage" + std::to_string(q)));
        stages[q](y, n, t, b) = stages[q - 1]((y >> 1) + (y & 1) * half, n, t, b);
    }
    Func zt("z_transposed");
    zt(k, j, n, t, b) = stages.back()(k * m + j, n, t, b);
    return zt;
}

// j with its low log2(m) bits reversed (m a power of two).
Expr bit_reversed(Expr j, int m) {
    Expr r = 0;
    for (int lo = 1, hi = m / 2; lo < m; lo *= 2, hi /= 2) r = r + select((j & lo) != 0, hi, 0);
    return r;
}

// The sums (or maxima) over k < m of x(k, j) for every row j of a block, one m-lane vector, for
// the backward with a row's logits in the lanes (vector_logits), in bit-reversed row order: entry
// l is row bit_reversed(l). Stage 0 is the block's rows densely (y = j·m + k, a vector per row);
// each further stage halves the vectors: output vector v takes input vectors 2v (even lanes) and
// 2v + 1 (odd lanes), each lane the sum of an input lane i and i + m/2, so it reads half vectors
// densely and stores them interleaved (one two-way shuffle, as the forward's transposed_logits).
// After log2(m) stages one vector holds every row's total: 2m - 2 half-vector ops and m - 1
// interleaves, where a transpose takes m·log2(m)/2 two-way shuffles and their blends. (Written as
// x(2y) + x(2y + 1), Halide turned each stage into unaligned loads of what the stage before had just
// stored: 1.5x slower.) m must be a power of two; schedules/cpu_scan_schedules.h computes the
// stages per block and step.
Func row_reduce(const Func &x, int m, bool take_max, Var n, Var t, Var b, std::vector<Func> &stages,
                const std::string &name) {
    Var y("y");
    int p = 0;
    while ((1 << p) < m) p++;
    stages.assign(1, Func(name + "_stage0"));
    stages[0](y, n, t, b) = x(y & (m - 1), y >> p, n, t, b);
    for (int q = 1; q <= p; q++) {
        stages.push_back(Func(name + "_stage" + std::to_string(q)));
        Expr src = ((2 * (y >> p) + (y & 1)) << p) + ((y & (m - 1)) >> 1);
        Expr lo = stages[q - 1](src, n, t, b), hi = stages[q - 1](src + m / 2, n, t, b);
        stages[q](y, n, t, b) = take_max ? max(lo, hi) : lo + hi;
    }
    return stages.back();
}

class BdlruForward : public Generator<BdlruForward> {
public:
    // Unrolled rows cost compile time as m²·(m+1) per stage: measured 115 s (chunked, m=4) and
    // 223 s (backward, m=4) for three CPU targets, against a few seconds with a row loop.
    STATEMIX_SCAN_KNOBS(algorithm == Algorithm::Chunked ? 2 : 5, false, false)
    // The CPU schedule's software prefetch of z and v (ScanForward::prefetched_loops), as a pass.
    Pipeline build_pipeline() override {
        Pipeline p = Generator<BdlruForward>::build_pipeline();  // runs generate(): the knobs are readable after
        return with_step_prefetch(p, prefetched_loops_, {"z", "v"}, prefetch);
    }
    std::vector<std::string> prefetched_loops_;
    GeneratorParam<bool> vector_rows{"vector_rows", false};  // ScanKnobs::vector_rows (sequential only)
    // transposed_logits (CPU, vector_rows at one block per vector, m a power of two).
    GeneratorParam<bool> transpose_logits{"transpose_logits", false};

    Input<Buffer<float, 5>> z{"z"};
    Input<Buffer<float, 4>> v{"v"};
    Input<Buffer<float, 3>> h0{"h0"};
    Input<int> norm{"norm", 0, 0, kNumNorms - 1};
    Output<Buffer<float, 4>> h{"h"};
    Output<Buffer<float, 3>> h_final{"h_final"};

    void check_transpose_logits() const {
        const int M = m;
        if (!vector_rows || vector_width != 1 || (M & (M - 1)) != 0 || M < 2 || get_target().has_gpu_feature()) {
            throw CompileError("bdlru_forward: transpose_logits needs vector_rows=true, vector_width=1 (one block "
                               "per vector), m a power of two >= 2 and a CPU target; got vector_rows=" +
                               std::string(vector_rows ? "true" : "false") + ", vector_width=" +
                               std::to_string((int)vector_width) + ", m=" + std::to_string(M) +
                               ", target " + get_target().to_string());
        }
    }

    void generate() {
        check_knobs();
        const int M = m;
        ScanForward P;
        P.m = M;
        P.state = h;
        P.final_state = h_final;
        Var j = P.j, n = P.n, t = P.t, b = P.b, col = P.col, c = P.c;
        Func zf = z, vf = v;
        Expr T = v.dim(2).extent();

        // Rows of a block read each other's previous values, so the row index is an RVar
        // (innermost) of every update, never a pure Var.
        h(j, n, t, b) = undef<float>();
        if (algorithm == Algorithm::Sequential) {
            RDom r0(0, M, "r0");
            h(r0, n, 0, b) = bdlru_row(zf, vf, r0, n, 0, b, M, norm, fast_math,
                                       [&](int i) { return h0(i, n, b); });
            RDom r(0, M, 1, T - 1, "r");
            Func zr = zf;  // the rest of the steps' logits
            if (transpose_logits) {
                check_transpose_logits();
                Func zt = transposed_logits(zf, M, n, t, b, P.logit_stages);
                Var k("k");
                zr = Func("z_rows");
                zr(k, j, n, t, b) = select(k < M, zt(min(k, M - 1), j, n, t, b), zf(k, j, n, t, b));
            }
            h(r.x, n, r.y, b) = bdlru_row(zr, vf, r.x, n, r.y, b, M, norm, fast_math,
                                          [&](int i) { return h(i, n, r.y - 1, b); });
            P.state_loops = {{true, false, false}, {true, true, false}};
        } else {
            const int L = chunk;
            Expr NC = (T + L - 1) / L;
            // 1. Chunk summaries: run the chunk's recurrence on the m unit columns (its transition
            //    product) and on zero with the inputs on (its affine part), col == m. A Tuple
            //    update is simultaneous, so the block's rows need no second buffer.
            std::vector<Expr> init;
            for (int i = 0; i < M; i++) init.push_back(select(col == i, 1.0f, 0.0f));
            P.summary(col, n, c, b) = Tuple(init);
            RDom rl(0, L, "rl");
            rl.where(c * L + rl < T);
            // Clamped so bounds inference sees [0, T) (the where() clause is not used for bounds).
            Expr tt = min(c * L + rl, T - 1);
            std::vector<Expr> next;
            for (int jj = 0; jj < M; jj++) {
                next.push_back(bdlru_row(
                    zf, vf, jj, n, tt, b, M, norm, fast_math,
                    [&](int i) { return tuple_elem(P.summary(col, n, c, b), i, M); }, col == M));
            }
            P.summary(col, n, c, b) = Tuple(next);
            P.summary_loops = {false, true, false};
            auto S = [&](Expr cc, Expr cl, int row) { return tuple_elem(P.summary(cl, n, cc, b), row, M); };
            // 2. Carry: the state at the end of each chunk, a scan over chunks.
            P.carry(j, n, c, b) = undef<float>();
            RDom rc(0, M, 0, NC, "rc");
            {
                std::vector<Expr> rows;
                for (int jj = 0; jj < M; jj++) {
                    Expr a = S(rc.y, M, jj);
                    for (int i = 0; i < M; i++) {
                        Expr prev = select(rc.y == 0, h0(i, n, b), P.carry(i, n, max(rc.y - 1, 0), b));
                        a = a + S(rc.y, i, jj) * prev;
                    }
                    rows.push_back(a);
                }
                P.carry(rc.x, n, rc.y, b) = mux(rc.x, rows);
            }
            P.carry_loops = {true, true, false};
            // 3. Rescan every chunk from its carried-in state: first step, then the rest.
            RDom r0(0, M, 0, NC, "r0");
            h(r0.x, n, r0.y * L, b) = bdlru_row(zf, vf, r0.x, n, r0.y * L, b, M, norm, fast_math, [&](int i) {
                return select(r0.y == 0, h0(i, n, b), P.carry(i, n, max(r0.y - 1, 0), b));
            });
            // Past the end of the last (ragged) chunk the step index is clamped to T-1 and the
            // update rewrites that element unchanged. (An RDom where() would be tighter, but
            // Halide derives output bounds from its empty ranges that fail the bounds check.)
            RDom rs(0, M, 1, L - 1, 0, NC, "rs");
            Expr ts_raw = rs.z * L + rs.y;
            Expr ts = min(ts_raw, T - 1);
            h(rs.x, n, ts, b) = select(ts_raw < T,
                                       bdlru_row(zf, vf, rs.x, n, ts, b, M, norm, fast_math,
                                                 [&](int i) { return h(i, n, max(ts - 1, 0), b); }),
                                       h(rs.x, n, ts, b));
            P.state_loops = {{true, false, true}, {true, true, true}};
        }
        h_final(j, n, b) = h(j, n, T - 1, b);

        // Halide's autoschedulers (the tuner compares against them) schedule from the estimates.
        if (vector_rows && algorithm != Algorithm::Sequential) {
            throw CompileError("bdlru_forward: vector_rows needs algorithm=sequential");
        }
        if (transpose_logits && algorithm != Algorithm::Sequential) {
            throw CompileError("bdlru_forward: transpose_logits needs algorithm=sequential");
        }
        ScanKnobs kn = knobs();
        kn.vector_rows = vector_rows;
        if (!using_autoscheduler()) schedule_scan_forward(P, kn, norm, get_target());
        prefetched_loops_ = P.prefetched_loops;
        if (time_major && algorithm != Algorithm::Sequential) {
            throw CompileError("bdlru_forward: time_major needs algorithm=sequential");
        }
        require_dense(z, {M + 1, M});
        require_dense(v, {M});
        require_dense(h0, {M});
        require_dense(h, {M});
        require_dense(h_final, {M});
        set_estimates();
    }

    void set_estimates() {
        const int M = m;
        const int N = 1024 / M;
        z.set_estimates({{0, M + 1}, {0, M}, {0, N}, {0, 2048}, {0, 16}});
        v.set_estimates({{0, M}, {0, N}, {0, 2048}, {0, 16}});
        h0.set_estimates({{0, M}, {0, N}, {0, 16}});
        norm.set_estimate(0);
        h.set_estimates({{0, M}, {0, N}, {0, 2048}, {0, 16}});
        h_final.set_estimates({{0, M}, {0, N}, {0, 16}});
    }
};

class BdlruBackward : public Generator<BdlruBackward> {
public:
    // gates_n_inner by default in the one-pass form with the channels in the lanes, where it
    // measured 1.08x (m = 1) to 1.65-1.72x (m = 3, 4) (docs/benchmarks.md); with vector_rows
    // (lanes (j, n)) it measured slower. reverse_channels: where measured faster
    // (scan_knob_defaults.h); the tuner tries both.
    STATEMIX_SCAN_KNOBS(2, !vector_rows && !pointwise(), reverse_channels_by_default(false, m, time_major))
    GeneratorParam<bool> two_pass{"two_pass", false};
    GeneratorParam<bool> vector_rows{"vector_rows", false};  // ScanKnobs::vector_rows
    GeneratorParam<bool> vector_logits{"vector_logits", false};  // ScanKnobs::vector_logits

    // The CPU schedule's reversed loops (ScanBackward::reversed_loops), as a lowering pass.
    Pipeline build_pipeline() override {
        return with_reversed_loops(Generator<BdlruBackward>::build_pipeline(), reversed_loops_);
    }
    std::vector<std::string> reversed_loops_;

    Input<Buffer<float, 5>> z{"z"};
    Input<Buffer<float, 4>> v{"v"};
    Input<Buffer<float, 3>> h0{"h0"};
    Input<Buffer<float, 4>> h{"h"};              // forward output, saved
    Input<Buffer<float, 4>> g{"g"};              // ∂L/∂h
    Input<Buffer<float, 3>> g_final{"g_final"};  // ∂L/∂h_final
    Input<int> norm{"norm", 0, 0, kNumNorms - 1};
    // One pass: grad = (dz, dv, adj_a, adj_b); two pass and chunked: grad = (dz, dv). See ScanBackward.
    Output<Func> *grad = nullptr;
    Output<Buffer<float, 3>> dh0{"dh0"};

    bool pointwise() const { return two_pass || algorithm == Algorithm::Chunked; }

    void configure() {
        grad = add_output<Func>("grad", std::vector<Type>(pointwise() ? 2 : 4, Float(32)), 5);
    }

    void generate() {
        check_knobs();
        const int M = m;
        ScanBackward P;
        P.m = M;
        P.one_pass = !pointwise();
        P.chunked = algorithm == Algorithm::Chunked;
        P.dh0 = dh0;
        for (ImageParam in : {ImageParam(z), ImageParam(v), ImageParam(h), ImageParam(g)}) P.streamed.push_back(in);
        Var j = P.j, n = P.n, t = P.t, b = P.b, k = P.k, col = P.col, c = P.c;
        Expr T = v.dim(2).extent();

        // Adjoint (spec §5) carried into step t-1:  μ_t = A_tᵀ λ_t,  λ_t = g_t + μ_{t+1},
        // μ_T = ∂L/∂h_final. Gradients of step t:  dz_k = λ·c_k·(u_k − s_k·o),  dv = λ·p_m, with
        // u = [h_{t-1}[0..m-1], v_t[j]] and o = h_t[j] (gate_norm.h). One normalized block (step
        // t) per step, computed once where the scan reads it.
        // φ of every logit of step t once (pstep), with its row's statistics (rstat) and 1/S (rinv)
        // (gate_norm.h: define_step_gates).
        std::vector<Expr> logits;
        for (int kk = 0; kk <= M; kk++) logits.push_back(z(kk, j, n, t, b));
        // m = 1: the row's other logit (gate_norm.h: one exponential per row of two).
        Expr z_other = two_logit_other(M + 1, k, [&](Expr i) { return z(i, j, n, t, b); });
        auto define_gates = [&](StepGates &G) {
            define_step_gates(G, {j, n, t, b}, k, logits, z(k, j, n, t, b), z_other, norm, fast_math);
        };
        auto elem_of = [&](const StepGates &G, Expr kk, Expr jj, Expr t2) {
            return norm_elem_from_phi(G.pstep(kk, jj, n, t2, b), G.rinv(jj, n, t2, b), norm);
        };
        define_gates(P.gates);
        auto elem = [&](Expr kk, Expr jj, Expr t2) { return elem_of(P.gates, kk, jj, t2); };
        auto hprev = [&](Expr i, Expr t2) {
            return select(t2 > 0, h(i, n, max(t2 - 1, 0), b), h0(i, n, b));
        };
        auto grad_expr = [&](Expr kk, Expr jj, Expr t2, Expr lam) {
            NormElem e = elem(kk, jj, t2);
            Expr u = select(kk < M, hprev(min(kk, M - 1), t2), v(jj, n, t2, b));
            return lam * e.c * (u - e.s * h(jj, n, t2, b));
        };

        if (vector_logits) {
            // A row's logits k in the SIMD lanes, one block at a time (ScanKnobs::vector_logits):
            // dz's rows, the logits' rows and the adjoint μ_t = A_tᵀ λ_t (a sum over rows j of
            // row j's p times λ_j) are dense vectors over k, where with the channels in the lanes
            // a block's logits are m(m+1) floats apart (one scalar move per lane and logit); per
            // row only λ_j, h_t[j] and its statistics are scalars. The last logit (the input
            // gate) is the lanes' scalar tail.
            if (!P.one_pass || vector_rows || algorithm != Algorithm::Sequential || M < 4 ||
                (M & (M - 1)) != 0 || get_target().has_gpu_feature()) {
                throw CompileError("bdlru_backward: vector_logits needs the one-pass sequential form "
                                   "(two_pass=false, algorithm=sequential) on a CPU target, vector_rows=false and "
                                   "m a power of two >= 4; got m=" + std::to_string(M) +
                                   ", two_pass=" + std::string(two_pass ? "true" : "false") +
                                   ", algorithm=" + std::string(algorithm == Algorithm::Sequential ? "sequential" : "chunked") +
                                   ", vector_rows=" + std::string(vector_rows ? "true" : "false") + ", target " +
                                   get_target().to_string());
            }
            P.logits_in_lanes = true;
            // Per block and step, the row statistics as vectors over the rows: the row max and
            // Σ|φ| each by a pairwise reduction (row_reduce; a row's logits in the lanes would need
            // horizontal reductions, which LLVM emits as scalar chains), the last logit added.
            // row_max and row_inv are vectors in bit-reversed row order (row_reduce): entry l is
            // row bit_reversed(l), and the unrolled rows read their own entry.
            Func zmax = row_reduce(z, M, true, n, t, b, P.max_stages, "row_max_part");
            Var l("l");
            P.row_max(l, n, t, b) = max(zmax(l, n, t, b), z(M, bit_reversed(l, M), n, t, b));
            // norm_shift for rows of four or more logits.
            Expr shift = select(norm == kSoftmax, P.row_max(bit_reversed(j, M), n, t, b), 0.0f);
            P.phi(k, j, n, t, b) = norm_phi(z(k, j, n, t, b), shift, norm, fast_math, Expr());
            Func mag("phi_magnitude");
            mag(k, j, n, t, b) = detail::magnitude(P.phi(k, j, n, t, b), norm);
            Func S = row_reduce(mag, M, false, n, t, b, P.sum_stages, "row_sum_part");
            P.row_inv(l, n, t, b) = select(norm == kNone, 1.0f, 1.0f / (S(l, n, t, b) + mag(M, bit_reversed(l, M), n, t, b)));
            Func G = *grad;
            P.grad = G;
            G(k, j, n, t, b) = Tuple(std::vector<Expr>(4, undef<float>()));
            RDom r(0, M + 1, 0, M, 0, T, "r");
            const RVar rkk = r.x, rj = r.y;
            Expr tt = T - 1 - r.z;
            Expr even = r.z % 2 == 0, t1 = min(tt + 1, T - 1);
            // μ_{t+1}[i]: slot k = i of the buffer the step after wrote (the same parity rule as
            // the one-pass form below).
            auto mu_next = [&](Expr i) {
                return select(likely(tt < T - 1), select(even, G(i, 0, n, t1, b)[3], G(i, 0, n, t1, b)[2]), g_final(i, n, b));
            };
            Expr lam = g(rj, n, tt, b) + mu_next(rj);
            Expr inv = P.row_inv(bit_reversed(rj, M), n, tt, b);
            NormElem e = norm_elem_from_phi(P.phi(rkk, rj, n, tt, b), inv, norm);
            Expr u = select(rkk < M, hprev(min(rkk, M - 1), tt), v(rj, n, tt, b));
            Expr dz = lam * e.c * (u - e.s * h(rj, n, tt, b));
            Expr pm = norm_elem_from_phi(P.phi(M, rj, n, tt, b), inv, norm).p;
            // dv and μ have stride 0 along j (μ) or k (dv): each row adds its term to the slot it
            // shares with the rows before (row 0 starts it); dv is written by the tail k = m, the
            // vector lanes rewrite what is there (LLVM drops a store of the value just loaded).
            FuncRef here = G(rkk, rj, n, tt, b);
            Expr first = rj == 0;
            Expr acc2 = select(first, 0.0f, here[2]) + e.p * lam;
            Expr acc3 = select(first, 0.0f, here[3]) + e.p * lam;
            G(rkk, rj, n, tt, b) = Tuple(dz, select(rkk == M, lam * pm, here[1]), select(even, acc2, here[2]),
                                         select(even, here[3], acc3));
            P.grad_loops = {true, true, false, true};
            dh0(j, n, b) = select((T - 1) % 2 == 0, G(j, 0, n, 0, b)[2], G(j, 0, n, 0, b)[3]);
        } else if (P.one_pass) {
            Func G = *grad;
            P.grad = G;
            P.grad_gates = {P.gates};
            G(k, j, n, t, b) = Tuple(std::vector<Expr>(4, undef<float>()));
            // k (dz's logit) is an RVar too: the adjoint is read at other k (stride 0 there).
            // RVars (k, j, t), or (j, k, t) when the rows share the SIMD lanes (vector_rows): Halide
            // does not reorder RVars, so the order they are vectorized in is the RDom's.
            RDom r = vector_rows ? RDom(0, M, 0, M + 1, 0, T, "r") : RDom(0, M + 1, 0, M, 0, T, "r");
            const RVar rk = vector_rows ? r.y : r.x, rj = vector_rows ? r.x : r.y;
            Expr tt = T - 1 - r.z;
            // μ_{t+1} of row i: g_final at the last step, else the adjoint buffer step t+1 wrote.
            // The two buffers alternate with the parity of the loop counter r.z (not of tt): the
            // schedule unrolls r.z by 2, so each copy knows its buffers (ScanBackward).
            Expr even = r.z % 2 == 0, t1 = min(tt + 1, T - 1);
            auto mu_next = [&](Expr i) {
                return select(likely(tt < T - 1), select(even, G(0, i, n, t1, b)[3], G(0, i, n, t1, b)[2]), g_final(i, n, b));
            };
            Expr mu = 0.0f;
            for (int row = 0; row < M; row++) {
                mu = mu + elem(rj, row, tt).p * (g(row, n, tt, b) + mu_next(row));
            }
            Expr lam_j = g(rj, n, tt, b) + mu_next(rj);
            // dv and μ do not depend on k (their buffers have stride 0 along k). dv: every k
            // writes the same value (as in H-LRU), which costs a multiply; rewriting what is
            // there cost a strided load per k. μ: computed at the last k only (k is unrolled, so
            // the select folds away), the other k rewrite what is there (a dense load).
            FuncRef here = G(rk, rj, n, tt, b);
            Expr last = rk == M;
            G(rk, rj, n, tt, b) = Tuple(grad_expr(rk, rj, tt, lam_j), lam_j * elem(M, rj, tt).p,
                                          select(last && even, mu, here[2]), select(last && !even, mu, here[3]));
            P.grad_loops = {true, true, false, true};
            P.grad_loops.rows_first = vector_rows;
            // Step 0 is the last iteration, r.z = T-1.
            dh0(j, n, b) = select((T - 1) % 2 == 0, G(0, j, n, 0, b)[2], G(0, j, n, 0, b)[3]);
        } else if (!P.chunked) {
            RDom r(0, M, 0, T, "r");
            Expr tt = T - 1 - r.y;
            P.adj(j, n, t, b) = undef<float>();
            P.adj(j, n, T, b) = g_final(j, n, b);
            Expr acc = 0.0f;
            for (int row = 0; row < M; row++) {
                acc = acc + elem(r.x, row, tt).p * (g(row, n, tt, b) + P.adj(row, n, tt + 1, b));
            }
            P.adj(r.x, n, tt, b) = acc;
            P.adj_loops = {{false, false, false}, {true, true, false}};
        } else {
            const int L = chunk;
            if (L < 2) throw CompileError("bdlru_backward: chunk (" + std::to_string(L) + ") must be at least 2");
            Expr NC = (T + L - 1) / L;
            // One adjoint step at t (spec §5): μ_t[i] = Σ_row A_t[row, i]·(g_t[row]·on + μ_{t+1}[row]).
            auto adj_step = [&](const StepGates &G, Expr i, Expr t2, Expr on, const std::function<Expr(int)> &next) {
                Expr acc = 0.0f;
                for (int row = 0; row < M; row++) {
                    Expr gin = g(row, n, t2, b);
                    if (on.defined()) gin = select(on, gin, 0.0f);
                    acc = acc + elem_of(G, i, row, t2).p * (gin + next(row));
                }
                return acc;
            };
            // 1. Chunk summaries, each chunk's steps from its last back to its first: columns
            //    col < m start from the unit vector e_col with the inputs off (the transposed
            //    transition product), col == m from zero with g on (the affine part). A Tuple
            //    update is simultaneous, so the rows need no second buffer.
            define_gates(P.summary_gates);
            std::vector<Expr> init;
            for (int i = 0; i < M; i++) init.push_back(select(col == i, 1.0f, 0.0f));
            P.summary(col, n, c, b) = Tuple(init);
            RDom rl(0, L, "rl");
            Expr tl_raw = c * L + (L - 1 - rl);
            rl.where(tl_raw < T);
            // Clamped so bounds inference sees [0, T) (the where() clause is not used for bounds).
            Expr tl = min(tl_raw, T - 1);
            std::vector<Expr> next;
            for (int i = 0; i < M; i++) {
                next.push_back(adj_step(P.summary_gates, i, tl, col == M,
                                        [&](int row) { return tuple_elem(P.summary(col, n, c, b), row, M); }));
            }
            P.summary(col, n, c, b) = Tuple(next);
            P.summary_loops = {false, true, false};
            auto S = [&](Expr cc, Expr cl, int row) { return tuple_elem(P.summary(cl, n, cc, b), row, M); };
            // 2. Carry: the adjoint at each chunk's first step, a scan over chunks from the last
            //    (whose end is μ_T = ∂L/∂h_final).
            P.carry(j, n, c, b) = undef<float>();
            RDom rc(0, M, 0, NC, "rc");
            Expr cc = NC - 1 - rc.y;
            {
                std::vector<Expr> rows;
                for (int i = 0; i < M; i++) {
                    Expr a = S(cc, M, i);
                    for (int q = 0; q < M; q++) {
                        Expr end = select(cc == NC - 1, g_final(q, n, b), P.carry(q, n, min(cc + 1, NC - 1), b));
                        a = a + S(cc, q, i) * end;
                    }
                    rows.push_back(a);
                }
                P.carry(rc.x, n, cc, b) = mux(rc.x, rows);
            }
            P.carry_loops = {true, true, false};
            // 3. Re-scan every chunk from the carry of the chunk after it (ScanBackward: mu, the
            //    chunk a pure Var, computed where the pointwise pass consumes it). sc = L is the
            //    chunk's end: the next chunk's carry, or ∂L/∂h_final after the last; then its
            //    steps from the last back. Steps of the ragged last chunk past T-1 pass the end
            //    value through (clamped to T-1 for bounds, their result unused).
            Var sc = P.sc;
            P.chunk = L;
            P.mu(j, n, sc, c, b) = undef<float>();
            P.mu(j, n, L, c, b) = select(c >= NC - 1, g_final(j, n, b), P.carry(j, n, min(c + 1, NC - 1), b));
            RDom rs(0, M, 0, L, "rs");
            Expr sl = L - 1 - rs.y;
            Expr ts_raw = c * L + sl;
            Expr ts = min(ts_raw, T - 1);
            P.mu(rs.x, n, sl, c, b) = select(ts_raw < T,
                                            adj_step(P.gates, rs.x, ts, Expr(),
                                                     [&](int row) { return P.mu(row, n, sl + 1, c, b); }),
                                            P.mu(rs.x, n, sl + 1, c, b));
            P.mu_loops = {true, true, false};
        }
        if (!P.one_pass) {
            dh0(j, n, b) = P.chunked ? Expr(P.carry(j, n, 0, b)) : Expr(P.adj(j, n, 0, b));
            // Pointwise gradients, parallel over t, with their own row statistics; dz and dv in one
            // Tuple (dv, the same at every k, from the last logit's p).
            P.pointwise = *grad;
            P.rstat_dz(j, n, t, b) = norm_row_stats(logits, norm, fast_math);
            auto zrow = [&](Expr i) { return z(i, j, n, t, b); };
            FuncRef rs_dz = P.rstat_dz(j, n, t, b);
            NormElem e = norm_elem_of_row(rs_dz, M + 1, k, z(k, j, n, t, b), z_other, norm, fast_math);
            P.pm_dz(j, n, t, b) =
                norm_elem_of_row(rs_dz, M + 1, M, z(M, j, n, t, b), two_logit_other(M + 1, M, zrow), norm, fast_math).p;
            // λ_t = g_t + μ_{t+1}; chunked: μ_{t+1} is step t % L + 1 of chunk t / L.
            const int L = P.chunk;
            Expr mu_next = P.chunked ? Expr(P.mu(j, n, t % L + 1, t / L, b)) : Expr(P.adj(j, n, t + 1, b));
            Expr lam = g(j, n, t, b) + mu_next;
            Expr hp = hprev(min(k, M - 1), t);
            Expr u = select(k < M, hp, v(j, n, t, b));
            P.pointwise(k, j, n, t, b) = Tuple(lam * e.c * (u - e.s * h(j, n, t, b)), lam * P.pm_dz(j, n, t, b));
        }

        // Halide's autoschedulers (the tuner compares against them) schedule from the estimates.
        ScanKnobs kn = knobs();
        kn.vector_rows = vector_rows;
        kn.vector_logits = vector_logits;
        if (!using_autoscheduler()) schedule_scan_backward(P, kn, norm, get_target());
        reversed_loops_ = P.reversed_loops;
        if (time_major && !P.one_pass) throw CompileError("bdlru_backward: time_major needs the one-pass form");
        require_dense(z, {M + 1, M});
        for (auto *buf : {&v, &h, &g}) require_dense(*buf, {M});
        require_dense(h0, {M});
        require_dense(g_final, {M});
        require_dense(dh0, {M});
        {
            auto out = Func(*grad).output_buffers();
            require_dense(out[0], {M + 1, M});  // dz [B,T,N,m,m+1] (time-major: [T,B,..])
            Expr Nx = out[0].dim(2).extent();
            // dv [B,T,N,m] (time-major [T,B,N,m]), seen with stride 0 along k; time and batch
            // strides free, as require_dense leaves them.
            require_strides(out[1], {0, 1, M});
            // The one-pass adjoint, one slot per row: with vector_rows laid out like dv, [B,N,m], so
            // the rows in the lanes are a dense vector; else [B,m,N], so the channels in the lanes
            // are (the [B,N,m] layout made the channels-in-lanes schedule 2x slower: strided lanes).
            // runtime/scan_ops.cpp passes the same layout (it reads vector_rows from the params).
            for (int i : {2, 3}) {
                if (!P.one_pass) continue;
                if (vector_logits) require_strides(out[i], {1, 0, M + 1, 0, (M + 1) * Nx});
                else if (vector_rows) require_strides(out[i], {0, 1, M, 0, M * Nx});
                else require_strides(out[i], {0, Nx, 1, 0, M * Nx});
            }
        }
        set_estimates();
    }

    void set_estimates() {
        const int M = m;
        const int N = 1024 / M;
        const Region zr{{0, M + 1}, {0, M}, {0, N}, {0, 2048}, {0, 16}};
        const Region vr{{0, M}, {0, N}, {0, 2048}, {0, 16}};
        z.set_estimates(zr);
        for (auto *buf : {&v, &h, &g}) buf->set_estimates(vr);
        h0.set_estimates({{0, M}, {0, N}, {0, 16}});
        g_final.set_estimates({{0, M}, {0, N}, {0, 16}});
        norm.set_estimate(0);
        grad->set_estimates(zr);
        dh0.set_estimates({{0, M}, {0, N}, {0, 16}});
    }
};

}  // namespace
}  // namespace statemix::gen

HALIDE_REGISTER_GENERATOR(statemix::gen::BdlruForward, bdlru_forward)
HALIDE_REGISTER_GENERATOR(statemix::gen::BdlruBackward, bdlru_backward)
