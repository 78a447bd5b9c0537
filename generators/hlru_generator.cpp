// H-LRU (higher-order linear recurrent unit), ../shared/spec/layers.md §3, §4, §5.
// Algorithms only: every way of running them lives in schedules/.
//
// Halide dims are the reverse of the row-major shapes:
//   z [B,T,N,m+1] -> (k, n, t, b)     v, s, g [B,T,N] -> (n, t, b)
//   h0, h_final, g_final, dh0 [B,N,m] -> (i, n, b), lag i: h0[i] = s_{-1-i} (0-indexed time)
//
// The kernel only produces s; the m lags are the same sequence shifted in time (spec §3).
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

// s_t = Σ_{k=1..m} p[k-1]·prev(k) + p[m]·v_t, with prev(k) = s_{t-k} (spec §3).
Expr hlru_step(const Func &z, const Func &v, Expr n, Expr t, Expr b, int m, Expr norm, bool fast,
               const std::function<Expr(int)> &prev, Expr input_on = Expr()) {
    std::vector<Expr> logits;
    for (int k = 0; k <= m; k++) logits.push_back(z(k, n, t, b));
    std::vector<Expr> p = norm_row_p(logits, norm, fast);
    Expr acc = p[m] * v(n, t, b);
    if (input_on.defined()) acc = select(input_on, acc, 0.0f);
    for (int k = 1; k <= m; k++) acc = acc + p[k - 1] * prev(k);
    return acc;
}

class HlruForward : public Generator<HlruForward> {
public:
    STATEMIX_SCAN_KNOBS(algorithm == Algorithm::Chunked ? 4 : 8, false, false)
    // The CPU schedule's software prefetch of z and v (ScanForward::prefetched_loops), as a pass.
    Pipeline build_pipeline() override {
        Pipeline p = Generator<HlruForward>::build_pipeline();  // runs generate(): the knobs are readable after
        return with_step_prefetch(p, prefetched_loops_, {"z", "v"}, prefetch);
    }
    std::vector<std::string> prefetched_loops_;

    Input<Buffer<float, 4>> z{"z"};
    Input<Buffer<float, 3>> v{"v"};
    Input<Buffer<float, 3>> h0{"h0"};
    Input<int> norm{"norm", 0, 0, kNumNorms - 1};
    Output<Buffer<float, 3>> s{"s"};
    Output<Buffer<float, 3>> h_final{"h_final"};

    void generate() {
        check_knobs();
        const int M = m;
        ScanForward P;
        P.m = M;
        P.has_rows = false;
        P.state = s;
        P.final_state = h_final;
        Var n = P.n, t = P.t, b = P.b, col = P.col, c = P.c, i("i");
        Func zf = z, vf = v;
        Expr T = v.dim(1).extent();
        // Lag q < 0 of the initial state: s_q = h0[-q-1].
        auto init_lag = [&](Expr q) { return h0(clamp(-q - 1, 0, M - 1), n, b); };

        s(n, t, b) = undef<float>();
        if (algorithm == Algorithm::Sequential) {
            // The first m steps read the initial lags; the rest only s itself.
            RDom r0(0, min(M, T), "r0");
            s(n, r0, b) = hlru_step(zf, vf, n, r0, b, M, norm, fast_math, [&](int k) {
                return select(r0 - k >= 0, s(n, max(r0 - k, 0), b), init_lag(r0 - k));
            });
            // Starts at m even when T < m: the range is then empty and its max stays T-1.
            RDom r(M, T - M, "r");
            s(n, r, b) = hlru_step(zf, vf, n, r, b, M, norm, fast_math,
                                   [&](int k) { return s(n, r - k, b); });
            P.state_loops = {{false, true, false}, {false, true, false}};
        } else {
            const int L = chunk;
            if (L < M) {
                throw CompileError("hlru_forward: chunk (" + std::to_string(L) + ") must be at least m (" + std::to_string(M) + ")");
            }
            Expr NC = (T + L - 1) / L;
            // 1. Chunk summaries over the lag vector [s_t … s_{t-m+1}]: columns col < m start
            //    from a unit lag vector (the transition product), col == m from zero with the
            //    inputs on (the affine part). The Tuple update shifts the lags simultaneously.
            std::vector<Expr> init;
            for (int q = 0; q < M; q++) init.push_back(select(col == q, 1.0f, 0.0f));
            P.summary(col, n, c, b) = Tuple(init);
            RDom rl(0, L, "rl");
            rl.where(c * L + rl < T);
            // Clamped so bounds inference sees [0, T) (the where() clause is not used for bounds).
            Expr tl = min(c * L + rl, T - 1);
            auto Y = [&](int q) { return tuple_elem(P.summary(col, n, c, b), q, M); };
            std::vector<Expr> next{hlru_step(zf, vf, n, tl, b, M, norm, fast_math,
                                             [&](int k) { return Y(k - 1); }, col == M)};
            for (int q = 1; q < M; q++) next.push_back(Y(q - 1));
            P.summary(col, n, c, b) = Tuple(next);
            P.summary_loops = {false, true, false};
            // 2. Carry: the lag vector at the end of each chunk, a scan over chunks.
            P.carry(i, n, c, b) = undef<float>();
            RDom rc(0, M, 0, NC, "rc");
            std::vector<Expr> lags;
            for (int q = 0; q < M; q++) {
                Expr a = tuple_elem(P.summary(M, n, rc.y, b), q, M);
                for (int cl = 0; cl < M; cl++) {
                    Expr prev = select(rc.y == 0, h0(cl, n, b), P.carry(cl, n, max(rc.y - 1, 0), b));
                    a = a + tuple_elem(P.summary(cl, n, rc.y, b), q, M) * prev;
                }
                lags.push_back(a);
            }
            P.carry(rc.x, n, rc.y, b) = mux(rc.x, lags);
            P.carry_loops = {true, true, false};
            // 3. Rescan every chunk from its carried-in lags: the first m steps, then the rest.
            // Past the end of the last (ragged) chunk the step index is clamped to T-1 and the
            // update rewrites that element unchanged. (An RDom where() would be tighter, but
            // Halide derives output bounds from its empty ranges that fail the bounds check.)
            auto guarded = [&](Expr t_raw, Expr t_c, Expr value) {
                return select(t_raw < T, value, s(n, t_c, b));
            };
            RDom r0(0, std::min(M, L), 0, NC, "r0");
            Expr t0_raw = r0.y * L + r0.x;
            Expr t0 = min(t0_raw, T - 1);
            s(n, t0, b) = guarded(t0_raw, t0, hlru_step(zf, vf, n, t0, b, M, norm, fast_math, [&](int k) {
                Expr q = r0.x - k;  // < 0: lag -q-1 of the carried-in state
                Expr carried = select(r0.y == 0, init_lag(q),
                                      P.carry(clamp(-q - 1, 0, M - 1), n, max(r0.y - 1, 0), b));
                return select(q >= 0, s(n, max(t0 - k, 0), b), carried);
            }));
            RDom rs(M, std::max(L - M, 1), 0, NC, "rs");
            Expr ts_raw = select(rs.x < L, rs.y * L + rs.x, T);
            Expr ts = min(ts_raw, T - 1);
            s(n, ts, b) = guarded(ts_raw, ts, hlru_step(zf, vf, n, ts, b, M, norm, fast_math,
                                                         [&](int k) { return s(n, max(ts - k, 0), b); }));
            P.state_loops = {{false, true, true}, {false, true, true}};
        }
        h_final(i, n, b) = select(T - 1 - i >= 0, s(n, max(T - 1 - i, 0), b), init_lag(T - 1 - i));

        // Halide's autoschedulers (the tuner compares against them) schedule from the estimates.
        if (!using_autoscheduler()) schedule_scan_forward(P, knobs(), norm, get_target());
        prefetched_loops_ = P.prefetched_loops;
        if (time_major && algorithm != Algorithm::Sequential) {
            throw CompileError("hlru_forward: time_major needs algorithm=sequential");
        }
        require_dense(z, {M + 1});
        require_dense(v, {});
        require_dense(s, {});
        require_dense(h0, {M});
        require_dense(h_final, {M});
        const int N = 1024 / M;
        z.set_estimates({{0, M + 1}, {0, N}, {0, 2048}, {0, 16}});
        v.set_estimates({{0, N}, {0, 2048}, {0, 16}});
        h0.set_estimates({{0, M}, {0, N}, {0, 16}});
        norm.set_estimate(0);
        s.set_estimates({{0, N}, {0, 2048}, {0, 16}});
        h_final.set_estimates({{0, M}, {0, N}, {0, 16}});
    }
};

class HlruBackward : public Generator<HlruBackward> {
public:
    // gates_n_inner by default in the one-pass form: 1.09-1.29x at m = 1, 2, 4, 8 (AVX2,
    // 2026-12-02, docs/benchmarks.md); the tuner also tries it off. reverse_channels: where
    // measured faster (scan_knob_defaults.h); the tuner tries both.
    STATEMIX_SCAN_KNOBS(8, !pointwise(), reverse_channels_by_default(true, m, time_major))
    GeneratorParam<bool> two_pass{"two_pass", false};

    // The CPU schedule's reversed loops (ScanBackward::reversed_loops), as a lowering pass.
    Pipeline build_pipeline() override {
        return with_reversed_loops(Generator<HlruBackward>::build_pipeline(), reversed_loops_);
    }
    std::vector<std::string> reversed_loops_;

    Input<Buffer<float, 4>> z{"z"};
    Input<Buffer<float, 3>> v{"v"};
    Input<Buffer<float, 3>> h0{"h0"};
    Input<Buffer<float, 3>> s{"s"};              // forward output, saved
    Input<Buffer<float, 3>> g{"g"};              // ∂L/∂s
    Input<Buffer<float, 3>> g_final{"g_final"};  // ∂L/∂h_final (the final lags)
    Input<int> norm{"norm", 0, 0, kNumNorms - 1};
    // One pass: grad = (dz, dv, adj); two pass and chunked: grad = (dz, dv). See ScanBackward.
    Output<Func> *grad = nullptr;
    Output<Buffer<float, 3>> dh0{"dh0"};

    bool pointwise() const { return two_pass || algorithm == Algorithm::Chunked; }

    void configure() {
        grad = add_output<Func>("grad", std::vector<Type>(pointwise() ? 2 : 3, Float(32)), 4);
    }

    void generate() {
        check_knobs();
        const int M = m;
        ScanBackward P;
        P.m = M;
        P.has_rows = false;
        P.one_pass = !pointwise();
        P.chunked = algorithm == Algorithm::Chunked;
        P.dh0 = dh0;
        for (ImageParam in : {ImageParam(z), ImageParam(v), ImageParam(s), ImageParam(g)}) P.streamed.push_back(in);
        Var n = P.n, t = P.t, b = P.b, k = P.k, col = P.col, c = P.c, i("i");
        Expr T = v.dim(1).extent();

        // Adjoint of the companion form (spec §3, §5). Λ_t = ∂L/∂[s_t … s_{t-m+1}] and
        // ν_t = M_tᵀ Λ_t (carried into step t-1):  Λ_t = g_t·e_0 + ν_{t+1},  ν_T = ∂L/∂h_final,
        //   ν_t[q] = p_t[q]·λ_t + ν_{t+1}[q+1]   (λ_t = Λ_t[0], ν[m] := 0).
        // Gradients of step t:  dz_k = λ·c_k·(u_k − s_k·o),  dv = λ·p_m, with
        // u = [s_{t-1} … s_{t-m}, v_t] and o = s_t (gate_norm.h).
        // φ of every logit of step t once (pstep), with the row's statistics (rstat) and 1/S (rinv)
        // (gate_norm.h: define_step_gates).
        std::vector<Expr> logits;
        for (int kk = 0; kk <= M; kk++) logits.push_back(z(kk, n, t, b));
        // m = 1: the row's other logit (gate_norm.h: one exponential per row of two).
        Expr z_other = two_logit_other(M + 1, k, [&](Expr i) { return z(i, n, t, b); });
        auto define_gates = [&](StepGates &G) {
            define_step_gates(G, {n, t, b}, k, logits, z(k, n, t, b), z_other, norm, fast_math);
        };
        auto elem_of = [&](const StepGates &G, Expr kk, Expr t2) {
            return norm_elem_from_phi(G.pstep(kk, n, t2, b), G.rinv(n, t2, b), norm);
        };
        define_gates(P.gates);
        auto u_of = [&](Expr kk, Expr t2) {
            Expr q = t2 - 1 - kk;  // the lag that element k < m multiplies
            // likely: meant to split the serial loop so its steady state reads s only (the
            // one-pass form peels those steps itself; see below).
            Expr lagv = select(likely(q >= 0), s(n, max(q, 0), b), h0(clamp(-q - 1, 0, M - 1), n, b));
            return select(kk < M, lagv, v(n, t2, b));
        };

        if (P.one_pass) {
            Func G = *grad;
            P.grad = G;
            P.grad_parity = false;
            G(k, n, t, b) = Tuple(std::vector<Expr>(3, undef<float>()));
            // One adjoint buffer, rewritten in place: slot q < m holds ν[q], slot m a copy of
            // ν[0]. Step t's logit loop (k = 0 … m, an RVar: slots are read at other k) reads
            // λ's ν_{t+1}[0] from slot m and ν_{t+1}[k+1] from slot k+1, neither rewritten yet,
            // writes ν_t[k] into slot k, and at k = m copies slot 0 (ν_t[0]) into slot m. In
            // Halide's terms every read is of the step it means; the buffer's time stride of 0
            // folds the steps onto one set of slots. Three updates, the edge steps peeled, so the
            // main loop reads neither g_final nor h0 (Halide did not partition on `likely` here):
            //   0: step T-1 (ν_T = g_final);  1: steps T-2 down to m;  2: steps min(m, T-1)-1
            //   down to 0 (their lags reach into h0).
            P.grad_gates.resize(3);
            auto step = [&](int u, RDom r, Expr tt, bool last, bool lags_in_s) {
                StepGates &GS = P.grad_gates[u];
                define_gates(GS);
                Expr kr = r.x, q1 = min(kr + 1, M - 1);
                Expr lam = g(n, tt, b) + (last ? Expr(g_final(0, n, b)) : Expr(G(M, n, tt + 1, b)[2]));
                Expr next = last ? Expr(g_final(q1, n, b)) : Expr(G(q1, n, tt + 1, b)[2]);
                Expr nu = select(kr < M, elem_of(GS, min(kr, M - 1), tt).p * lam + select(kr + 1 < M, next, 0.0f),
                                 G(0, n, tt, b)[2]);
                // In the main update the lags are all in s (t >= m); the clamp only keeps bounds
                // inference inside the buffer when the update is empty (T <= m).
                Expr u_k = lags_in_s ? select(kr < M, s(n, max(tt - 1 - min(kr, M - 1), 0), b), v(n, tt, b)) : u_of(kr, tt);
                NormElem e = elem_of(GS, kr, tt);
                G(kr, n, tt, b) = Tuple(lam * e.c * (u_k - e.s * s(n, tt, b)), lam * elem_of(GS, M, tt).p, nu);
            };
            // Every update has a serial RVar (the last step's has extent 1), so all schedule alike.
            RDom r0(0, M + 1, 0, 1, "r0"), r1(0, M + 1, 0, max(T - 1 - M, 0), "r1"),
                r2(0, M + 1, 0, min(M, T - 1), "r2");
            step(0, r0, T - 1 + r0.y, true, false);
            step(1, r1, T - 2 - r1.y, false, true);
            step(2, r2, min(M, T - 1) - 1 - r2.y, false, false);
            P.grad_loops = {false, true, false, true};
            dh0(i, n, b) = G(i, n, 0, b)[2];
        } else {
            std::vector<Expr> undefs(M, undef<float>()), gfin;
            for (int q = 0; q < M; q++) gfin.push_back(g_final(q, n, b));
            // One adjoint step at t: ν_t[q] = p_t[q]·λ_t + ν_{t+1}[q+1], λ_t = g_t·on + ν_{t+1}[0].
            auto adj_step = [&](const StepGates &G, Expr t2, Expr on, const std::function<Expr(int)> &nu_next) {
                Expr gin = g(n, t2, b);
                if (on.defined()) gin = select(on, gin, 0.0f);
                Expr lam0 = gin + nu_next(0);
                std::vector<Expr> nu;
                for (int q = 0; q < M; q++) {
                    Expr a = elem_of(G, q, t2).p * lam0;
                    if (q + 1 < M) a = a + nu_next(q + 1);
                    nu.push_back(a);
                }
                return nu;
            };
            if (!P.chunked) {
                P.adj(n, t, b) = Tuple(undefs);
                P.adj(n, T, b) = Tuple(gfin);
                RDom r(0, T, "r");
                Expr tt = T - 1 - r;
                P.adj(n, tt, b) = Tuple(adj_step(P.gates, tt, Expr(), [&](int q) { return tuple_elem(P.adj(n, tt + 1, b), q, M); }));
                P.adj_loops = {{false, false, false}, {false, true, false}};
            } else {
                const int L = chunk;
                if (L < 2) throw CompileError("hlru_backward: chunk (" + std::to_string(L) + ") must be at least 2");
                Expr NC = (T + L - 1) / L;
                // 1. Chunk summaries over the adjoint vector ν, each chunk from its last step
                //    back: columns col < m start from e_col with g off (the transposed companion
                //    product), col == m from zero with g on (the affine part).
                define_gates(P.summary_gates);
                std::vector<Expr> init;
                for (int q = 0; q < M; q++) init.push_back(select(col == q, 1.0f, 0.0f));
                P.summary(col, n, c, b) = Tuple(init);
                RDom rl(0, L, "rl");
                Expr tl_raw = c * L + (L - 1 - rl);
                rl.where(tl_raw < T);
                Expr tl = min(tl_raw, T - 1);  // for bounds inference (where() is not used for bounds)
                P.summary(col, n, c, b) = Tuple(adj_step(P.summary_gates, tl, col == M, [&](int q) {
                    return tuple_elem(P.summary(col, n, c, b), q, M);
                }));
                P.summary_loops = {false, true, false};
                // 2. Carry: ν at each chunk's first step, a scan over chunks from the last.
                P.carry(i, n, c, b) = undef<float>();
                RDom rc(0, M, 0, NC, "rc");
                Expr cc = NC - 1 - rc.y;
                std::vector<Expr> nus;
                for (int q = 0; q < M; q++) {
                    Expr a = tuple_elem(P.summary(M, n, cc, b), q, M);
                    for (int cl = 0; cl < M; cl++) {
                        Expr end = select(cc == NC - 1, g_final(cl, n, b), P.carry(cl, n, min(cc + 1, NC - 1), b));
                        a = a + tuple_elem(P.summary(cl, n, cc, b), q, M) * end;
                    }
                    nus.push_back(a);
                }
                P.carry(rc.x, n, cc, b) = mux(rc.x, nus);
                P.carry_loops = {true, true, false};
                // 3. Re-scan every chunk from the carry of the chunk after it (ScanBackward: mu,
                //    the chunk a pure Var, computed where the pointwise pass consumes it). sc = L
                //    is the chunk's end (the next chunk's carry, or ∂L/∂h_final after the last),
                //    then its steps from the last back; steps of the ragged last chunk past T-1
                //    pass the end value through (clamped to T-1 for bounds, their result unused).
                Var sc = P.sc;
                P.chunk = L;
                std::vector<Expr> ends;
                for (int q = 0; q < M; q++) {
                    ends.push_back(select(c >= NC - 1, g_final(q, n, b), P.carry(q, n, min(c + 1, NC - 1), b)));
                }
                P.mu(n, sc, c, b) = Tuple(undefs);
                P.mu(n, L, c, b) = Tuple(ends);
                RDom rs(0, L, "rs");
                Expr sl = L - 1 - rs;
                Expr ts_raw = c * L + sl;
                Expr ts = min(ts_raw, T - 1);
                std::vector<Expr> nu = adj_step(P.gates, ts, Expr(), [&](int q) { return tuple_elem(P.mu(n, sl + 1, c, b), q, M); });
                for (int q = 0; q < M; q++) nu[q] = select(ts_raw < T, nu[q], tuple_elem(P.mu(n, sl + 1, c, b), q, M));
                P.mu(n, sl, c, b) = Tuple(nu);
                P.mu_loops = {false, true, false};
            }
            std::vector<Expr> nu0;
            for (int q = 0; q < M; q++) {
                nu0.push_back(P.chunked ? Expr(P.carry(q, n, 0, b)) : tuple_elem(P.adj(n, 0, b), q, M));
            }
            dh0(i, n, b) = mux(i, nu0);
            // Pointwise gradients, parallel over t, with their own row statistics; dz and dv in one
            // Tuple (dv, the same at every k, from the last logit's p).
            P.pointwise = *grad;
            P.rstat_dz(n, t, b) = norm_row_stats(logits, norm, fast_math);
            auto zrow = [&](Expr i) { return z(i, n, t, b); };
            FuncRef rs_dz = P.rstat_dz(n, t, b);
            NormElem e = norm_elem_of_row(rs_dz, M + 1, k, z(k, n, t, b), z_other, norm, fast_math);
            P.pm_dz(n, t, b) =
                norm_elem_of_row(rs_dz, M + 1, M, z(M, n, t, b), two_logit_other(M + 1, M, zrow), norm, fast_math).p;
            // λ_t = g_t + ν_{t+1}[0]; chunked: ν_{t+1} is step t % L + 1 of chunk t / L.
            const int L = P.chunk;
            Expr nu_next = P.chunked ? tuple_elem(P.mu(n, t % L + 1, t / L, b), 0, M) : tuple_elem(P.adj(n, t + 1, b), 0, M);
            Expr lam = g(n, t, b) + nu_next;
            P.pointwise(k, n, t, b) = Tuple(lam * e.c * (u_of(k, t) - e.s * s(n, t, b)), lam * P.pm_dz(n, t, b));
        }

        // Halide's autoschedulers (the tuner compares against them) schedule from the estimates.
        if (!using_autoscheduler()) schedule_scan_backward(P, knobs(), norm, get_target());
        reversed_loops_ = P.reversed_loops;
        if (time_major && !P.one_pass) throw CompileError("hlru_backward: time_major needs the one-pass form");
        require_dense(z, {M + 1});
        for (auto *buf : {&v, &s, &g}) require_dense(*buf, {});
        for (auto *buf : {&h0, &g_final}) require_dense(*buf, {M});
        require_dense(dh0, {M});
        {
            auto out = Func(*grad).output_buffers();
            require_dense(out[0], {M + 1});  // dz [B,T,N,m+1] (time-major: [T,B,..])
            Expr Nx = out[0].dim(1).extent();
            // dv [B,T,N] (time-major [T,B,N]), seen with stride 0 along k; time and batch strides
            // free, as require_dense leaves them.
            require_strides(out[1], {0, 1});
            if (P.one_pass) require_strides(out[2], {Nx, 1, 0, (M + 1) * Nx});  // adjoint [B,m+1,N]
        }
        const int N = 1024 / M;
        const Region zr{{0, M + 1}, {0, N}, {0, 2048}, {0, 16}};
        z.set_estimates(zr);
        for (auto *buf : {&v, &s, &g}) buf->set_estimates({{0, N}, {0, 2048}, {0, 16}});
        for (auto *buf : {&h0, &g_final}) buf->set_estimates({{0, M}, {0, N}, {0, 16}});
        grad->set_estimates(zr);
        dh0.set_estimates({{0, M}, {0, N}, {0, 16}});
        norm.set_estimate(0);
    }
};

}  // namespace
}  // namespace statemix::gen

HALIDE_REGISTER_GENERATOR(statemix::gen::HlruForward, hlru_forward)
HALIDE_REGISTER_GENERATOR(statemix::gen::HlruBackward, hlru_backward)
