// WCRNN (weakly coupled residual RNN, ../shared/spec/layers.md §7) and the plain Elman RNN
// (§8: the WCRNN core with ρ = 0, ε = 1, f = tanh), forward and backward (BPTT).
// Algorithms only: every way of running them lives in schedules/.
//
//   a_t = W h_{t-1} + u_t            (u_t = U x_t + b, computed outside for all t at once)
//   h_t = ρ(h_{t-1}) + ε · f(a_t)     f = tanh (act = 0) or relu (act = 1)
//
// Residual paths (GeneratorParam m, the residual's block size):
//   m = 2  2×2 blocks on the pairs (2k, 2k+1), stored as three diagonals (rho_d, rho_u, rho_l [H]):
//            ρ(h)_i = d_i·φ(h_i) + u_i·φ(h_{i+1}) + l_i·φ(h_{i-1}),
//          φ = identity (rho_act = 0) or tanh (rho_act = 1). This covers identity, scalar a,
//          diagonal a_i, 2×2 rotations (d = a·cos θ; u_{2k} = −a·sin θ_k, l_{2k+1} = a·sin θ_k) and
//          the elementwise nonlinear residual a·tanh(h), for three multiply-adds per unit and step.
//          (Diagonals rather than "the other unit of the pair" keep the SIMD lanes free of
//          even/odd shuffles.) u_{H-1} and l_0 are ignored.
//   m = 0  ρ(h) = R·h with a dense R [H,H] (orthogonal a·Q): a second mat-vec per step.
// Elman: no residual, ε = 1 and tanh fixed at generator time, so they fold away.
//
// Halide dims are the reverse of the row-major shapes:
//   u, h, g, du [B,T,H] -> (i, t, b)   W, R, dW, dR [H,H] -> (k, i) (row i, column k)
//   h0, h_final, g_final, dh0 [B,H] -> (i, b)   rho_d/u/l, d_rho_d/u/l [H] -> (i)
#include "Halide.h"
#include "rnn_pipelines.h"
#include "../schedules/rnn_schedules.h"

using namespace Halide;

namespace statemix::gen {
namespace {

enum class ResidualPath { none, paired, dense };

// f(a) and f'(a). relu passes NaN through explicitly: max(a, 0) may drop it (x86 max, LLVM maxnum).
Expr act_f(Expr a, Expr act) { return select(act == 1, select(is_nan(a), a, max(a, 0.0f)), tanh_f32(a)); }
Expr act_df(Expr a, Expr act) {
    Expr th = tanh_f32(a);
    return select(act == 1, select(a > 0.0f, 1.0f, 0.0f), 1.0f - th * th);
}
Expr rho_phi(Expr h, Expr rho_act) { return select(rho_act == 1, tanh_f32(h), h); }
Expr rho_dphi(Expr h, Expr rho_act) {
    Expr th = tanh_f32(h);
    return select(rho_act == 1, 1.0f - th * th, 1.0f);
}

// Everything the WCRNN algorithms read, as Funcs/Exprs, so that Elman can pass constants.
struct WcrnnArgs {
    ResidualPath path = ResidualPath::none;
    Func u, W, h0;
    Func rho_d, rho_u, rho_l, R;  // paired / dense only
    Expr rho_act = 0, eps = 1.0f, act = 0;
    Expr H, T, B;
};

// ρ(h_{t-1})_i on the paired path, from prev(j) = h_{t-1, j} (prev clamps j to [0, H)).
Expr paired_residual(const WcrnnArgs &a, Expr i, const std::function<Expr(Expr)> &prev) {
    return a.rho_d(i) * rho_phi(prev(i), a.rho_act) +
           select(i + 1 < a.H, a.rho_u(i) * rho_phi(prev(i + 1), a.rho_act), 0.0f) +
           select(i >= 1, a.rho_l(i) * rho_phi(prev(i - 1), a.rho_act), 0.0f);
}

void build_forward(RnnForward &P, const WcrnnArgs &a, const RnnKnobs &kn) {
    MatVecScan &S = P.scan;
    Var i = S.i, s = S.s, b = S.b, k = S.k;
    Expr H = a.H, T = a.T;
    const bool dense = a.path == ResidualPath::dense;
    S.size = dense ? 2 : 1;
    S.k_inner = kn.gpu;

    // M(i, k) = W[i, k], transposed so that i (lanes / threads) is contiguous, zero past H.
    Func Wt("Wt");
    Wt(i, k) = select(k < H, a.W(min(k, H - 1), i), 0.0f);
    S.weights.push_back(Wt);
    Func Rt("Rt");
    if (dense) {
        Rt(i, k) = select(k < H, a.R(min(k, H - 1), i), 0.0f);
        S.weights.push_back(Rt);
    }

    // Row 0 holds h0; rows s >= 1 accumulate W·h_{s-1} (and R·h_{s-1}) from 0; the drive u_{s-1}
    // joins in the finalize, read through a per-step input.
    S.state = Func("state");
    Expr init = select(s == 0, a.h0(i, b), 0.0f);
    if (dense) S.state(i, s, b) = Tuple(init, 0.0f);
    else S.state(i, s, b) = init;
    Var t("t");
    Func drive("drive");
    drive(i, t, b) = a.u(i, t, b);
    S.step_inputs.push_back(drive);

    std::vector<MatVecTerm> terms = {{0, [&](Expr ii, Expr kk) { return Wt(ii, kk); }, 0}};
    if (dense) terms.push_back({1, [&](Expr ii, Expr kk) { return Rt(ii, kk); }, 0});
    define_matvec_scan(S, H, T, /*reverse=*/false, kn.k_unroll, terms,
                       [&](const std::vector<Expr> &acc, Expr ii, Expr row, const PrevRow &prev) {
                           Expr res = 0.0f;
                           if (a.path == ResidualPath::paired) {
                               res = paired_residual(a, ii, [&](Expr jj) { return prev(0, jj); });
                           } else if (dense) {
                               res = acc[1];
                           }
                           Expr hnew = res + a.eps * act_f(acc[0] + drive(ii, row - 1, b), a.act);
                           return dense ? std::vector<Expr>{hnew, 0.0f} : std::vector<Expr>{hnew};
                       });

    P.seq = Func("h_seq");
    P.seq(i, t, b) = state_elem(S, 0, i, t + 1, b);
}

// The paired residual's per-unit gradients d_rho_d/u/l_i = Σ_{t,b} λ_{t,i} φ(h_{t-1, i+o}) for
// o = 0, +1, −1, as one Tuple pass over (t, b) (λ and h read once, not three times) with φ(h)
// computed once per unit (`phi_h`, which the schedule computes per row). lam_t(i, t, b) = λ_t,
// hoff(k, t, b) = h_{t-1}.
struct RhoSums {
    Func sums, phi_h, d, u, l;
};

RhoSums define_rho_sums(const WcrnnArgs &a, const std::function<Expr(Expr, Expr, Expr)> &lam_t, Func hoff, Expr T) {
    Var i("i"), k("k"), s("s"), b("b");
    Expr H = a.H;
    RDom rtb(0, T, 0, a.B, "rtb");
    RhoSums r;
    Expr lam = lam_t(i, rtb.x, rtb.y);
    r.phi_h = Func("phi_h");
    r.phi_h(k, s, b) = rho_phi(hoff(k, s, b), a.rho_act);
    auto phi_at = [&](Expr j) { return r.phi_h(clamp(j, 0, H - 1), rtb.x, rtb.y); };
    r.sums = Func("rho_sums");
    r.sums(i) = Tuple(0.0f, 0.0f, 0.0f);
    r.sums(i) = Tuple(r.sums(i)[0] + lam * phi_at(i), r.sums(i)[1] + select(i + 1 < H, lam * phi_at(i + 1), 0.0f),
                      r.sums(i)[2] + select(i >= 1, lam * phi_at(i - 1), 0.0f));
    r.d = Func("d_rho_d_sum");
    r.u = Func("d_rho_u_sum");
    r.l = Func("d_rho_l_sum");
    r.d(i) = r.sums(i)[0];
    r.u(i) = r.sums(i)[1];
    r.l(i) = r.sums(i)[2];
    return r;
}

// (Jρ(h)ᵀ λ)_i for the paired path = φ'(h_i)·(d_i λ_i + u_{i-1} λ_{i-1} + l_{i+1} λ_{i+1}), from
// lam(j) = λ_j and h_i (lam clamps j to [0, H)).
Expr paired_residual_adjoint(const WcrnnArgs &a, Expr i, Expr h_i, const std::function<Expr(Expr)> &lam) {
    return rho_dphi(h_i, a.rho_act) *
           (a.rho_d(i) * lam(i) + select(i >= 1, a.rho_u(max(i - 1, 0)) * lam(i - 1), 0.0f) +
            select(i + 1 < a.H, a.rho_l(min(i + 1, a.H - 1)) * lam(i + 1), 0.0f));
}

// BPTT (spec §7). Adjoint rows, r = t+1: L(i, r) = (accumulators..., λ_{r-1}, δ_{r-1});
// row 0 holds dh0 as its λ.
//   λ_{t-1} = g_{t-1} + Jρ(h_{t-1})ᵀ λ_t + Wᵀ δ_t,   δ_t = ε f'(a_t) ⊙ λ_t,
//   du_t = δ_t,  dW = Σ δ_t h_{t-1}ᵀ,  dR = Σ λ_t h_{t-1}ᵀ,
//   d_rho_d_i = Σ λ_{t,i} φ(h_{t-1,i}),  d_rho_u_i = Σ λ_{t,i} φ(h_{t-1,i+1}),  d_rho_l likewise.
// WCRNN recomputes the pre-activations a_t in parallel over (t, b) from the saved h; Elman needs
// only f'(a_t) = 1 - h_t².
struct WcrnnGrads {
    Func du, dW, dh0, d_rho_d, d_rho_u, d_rho_l, dR;
};

void build_backward(RnnBackward &P, WcrnnGrads &G, const WcrnnArgs &a, Func h, Func g, Func g_final,
                    Expr residual_grad, const RnnKnobs &kn) {
    MatVecScan &S = P.scan;
    Var i = S.i, s = S.s, b = S.b, k = S.k, q = S.q, t("t");
    Expr H = a.H, T = a.T;
    const bool dense = a.path == ResidualPath::dense;
    const int ku = kn.k_unroll;
    Expr nkc = (H + ku - 1) / ku;
    // (Wᵀδ accumulator, [Rᵀλ accumulator,] λ, δ): results apart from the accumulators
    // (rnn_pipelines.h).
    const int nacc = dense ? 2 : 1, LAM = nacc, DELTA = nacc + 1;
    S.size = nacc + 2;
    S.k_inner = kn.gpu;

    // h_{s-1}, i.e. row s of the forward scan.
    Func hoff("hoff");
    hoff(k, s, b) = select(s == 0, a.h0(k, b), h(k, max(s - 1, 0), b));

    // ε f'(a_t), read by the scan once per unit and step. Elman (f = tanh, ε = 1, no residual):
    // f'(a_t) = 1 - h_t², from the saved output, as every framework's tanh backward does. WCRNN:
    // h_t also holds ρ(h_{t-1}), so a_t = u_t + W h_{t-1} is recomputed, every (t, b) in parallel
    // (a GEMM over K = H; recovering f(a_t) = (h_t - ρ(h_{t-1}))/ε would lose digits as 1/ε).
    Func fp_step("fp_step");
    std::function<Expr(Expr, Expr)> fp;
    if (a.path == ResidualPath::none) {
        fp = [&](Expr ii, Expr tt) {
            Expr ht = h(ii, tt, b);
            return 1.0f - ht * ht;
        };
    } else {
        Func Wt("Wt_pre");
        Wt(i, k) = select(k < H, a.W(min(k, H - 1), i), 0.0f);
        P.pre_weights.push_back(Wt);
        // Steps t >= 1 read h_{t-1} from h (the GEMM: no select between h0 and h per column; its
        // value at t = 0 is unused), step 0 reads h0 (pre_first, K = H for B rows only).
        P.pre = Func("pre");
        P.pre(i, q, t, b) = a.u(i, t, b);
        P.pre_first = Func("pre_first");
        P.pre_first(i, q, b) = a.u(i, 0, b);
        RDom rk(0, nkc, "rk");
        Expr sum = P.pre(i, q, t, b), sum0 = P.pre_first(i, q, b);
        for (int kk = 0; kk < ku; kk++) {
            Expr kidx = rk * ku + kk, kc = min(kidx, H - 1);
            sum = sum + Wt(i, kidx) * h(kc, max(t - 1, 0), b);
            sum0 = sum0 + Wt(i, kidx) * a.h0(kc, b);
        }
        P.pre(i, q, t, b) = sum;
        P.pre_first(i, q, b) = sum0;
        fp = [&](Expr ii, Expr tt) {
            Expr at = select(tt == 0, P.pre_first(ii, 0, b), P.pre(ii, 0, tt, b));
            return a.eps * act_df(at, a.act);
        };
    }
    fp_step(i, t, b) = fp(i, t);
    S.step_inputs.push_back(fp_step);

    // The scan reads Wᵀ (and Rᵀ): M(i, k) = W[k, i] = W(i, k), already contiguous in i.
    Func Wp("Wp");
    Wp(i, k) = select(k < H, a.W(i, min(k, H - 1)), 0.0f);
    S.weights.push_back(Wp);
    Func Rp("Rp");
    if (dense) {
        Rp(i, k) = select(k < H, a.R(i, min(k, H - 1)), 0.0f);
        S.weights.push_back(Rp);
    }

    S.state = Func("adjoint");
    {
        std::vector<Expr> init(S.size, 0.0f);
        init[0] = select(s >= 1, g(i, max(s - 1, 0), b), 0.0f);
        S.state(i, s, b) = Tuple(init);
        Expr lam_last = g(i, T - 1, b) + g_final(i, b);
        std::vector<Expr> last(S.size, 0.0f);
        last[LAM] = lam_last;
        last[DELTA] = fp(i, T - 1) * lam_last;
        S.state(i, T, b) = Tuple(last);
    }
    std::vector<MatVecTerm> terms = {{0, [&](Expr ii, Expr kk) { return Wp(ii, kk); }, DELTA}};
    if (dense) terms.push_back({1, [&](Expr ii, Expr kk) { return Rp(ii, kk); }, LAM});
    define_matvec_scan(S, H, T, /*reverse=*/true, ku, terms,
                       [&](const std::vector<Expr> &acc, Expr ii, Expr row, const PrevRow &prev) {
                           Expr jr = 0.0f;  // Jρ(h_{row-1})ᵀ λ_row
                           if (a.path == ResidualPath::paired) {
                               jr = paired_residual_adjoint(a, ii, hoff(ii, row, b),
                                                            [&](Expr j) { return prev(LAM, j); });
                           } else if (dense) {
                               jr = acc[1];
                           }
                           Expr lam = acc[0] + jr;
                           Expr delta = select(row >= 1, fp_step(ii, max(row - 1, 0), b), 0.0f) * lam;
                           std::vector<Expr> out(acc.begin(), acc.begin() + nacc);
                           out.push_back(lam);
                           out.push_back(delta);
                           return out;
                       });
    auto lam = [&](Expr ii, Expr rr, Expr bb) { return state_elem(S, LAM, ii, rr, bb); };

    G.du = Func("du_adj");
    G.du(i, t, b) = state_elem(S, DELTA, i, t + 1, b);
    G.dh0 = Func("dh0_adj");
    G.dh0(i, b) = lam(i, 0, b);
    P.pointwise = {G.du, G.dh0};

    // Reductions over every (t, b): the weight gradients and the per-unit residual gradients.
    Func dW_acc = outer_sum("dW_acc", [&](Expr j, Expr tt, Expr bb) { return G.du(j, tt, bb); }, h, a.h0, T, a.B);
    G.dW = Func("dW_sum");
    G.dW(k, i) = dW_acc(k, i);
    P.outer = {dW_acc};
    P.outer_out = {G.dW};
    if (a.path == ResidualPath::paired) {
        RhoSums rs = define_rho_sums(a, [&](Expr ii, Expr tt, Expr bb) { return lam(ii, tt + 1, bb); }, hoff, T);
        G.d_rho_d = rs.d;
        G.d_rho_u = rs.u;
        G.d_rho_l = rs.l;
        P.sum_inputs = {rs.phi_h};
        P.sums = {rs.sums};
        P.sum_outputs = {G.d_rho_d, G.d_rho_u, G.d_rho_l};
    } else if (dense) {
        // Only on request (residual_grad != 0): it costs as much as dW.
        Func dR_acc = outer_sum("dR_acc", [&](Expr j, Expr tt, Expr bb) { return lam(j, tt + 1, bb); }, h, a.h0, T,
                                a.B, residual_grad);
        G.dR = Func("dR_sum");
        G.dR(k, i) = dR_acc(k, i);
        P.outer.push_back(dR_acc);
        P.outer_out.push_back(G.dR);
    }
}

ResidualPath path_of(int m) { return m == 0 ? ResidualPath::dense : ResidualPath::paired; }

// Generator-time estimates: H = 256, T = 784 (a sequential image), B = 32.
constexpr int kEstH = 256, kEstT = 784, kEstB = 32;
template <typename In> void est_seq(In &buf) { buf.set_estimates({{0, kEstH}, {0, kEstT}, {0, kEstB}}); }
template <typename In> void est_state(In &buf) { buf.set_estimates({{0, kEstH}, {0, kEstB}}); }
template <typename In> void est_mat(In &buf) { buf.set_estimates({{0, kEstH}, {0, kEstH}}); }
template <typename In> void est_vec(In &buf) { buf.set_estimates({{0, kEstH}}); }

// The inputs shared by every WCRNN/Elman generator, forward and backward.
#define STATEMIX_WCRNN_INPUTS                \
    Input<Buffer<float, 3>> u{"u"};          \
    Input<Buffer<float, 2>> W{"W"};          \
    Input<Buffer<float, 2>> h0{"h0"};

// The residual inputs of a WCRNN generator (added in configure(), by m) and their Exprs.
struct ResidualInputs {
    GeneratorInput<Buffer<float, 1>> *rho_d = nullptr, *rho_u = nullptr, *rho_l = nullptr;
    GeneratorInput<int> *rho_act = nullptr;
    GeneratorInput<Buffer<float, 2>> *R = nullptr;

    template <typename Gen> void add(Gen &gen, int m) {
        if (m == 0) {
            R = gen.template add_input<Buffer<float, 2>>("R");
        } else {
            rho_d = gen.template add_input<Buffer<float, 1>>("rho_d");
            rho_u = gen.template add_input<Buffer<float, 1>>("rho_u");
            rho_l = gen.template add_input<Buffer<float, 1>>("rho_l");
            rho_act = gen.template add_input<int>("rho_act");
        }
    }
    void fill(WcrnnArgs &a) const {
        if (R) a.R = *R;
        if (rho_d) {
            a.rho_d = *rho_d;
            a.rho_u = *rho_u;
            a.rho_l = *rho_l;
            a.rho_act = *rho_act;
        }
    }
    // The linear residuals (every kind but nonlinear) get a branch of the scan (and of `more`, the
    // backward's φ(h)) without the tanh of φ (three per unit and step otherwise: measured 2x on the CPU forward at H = 256). Called after
    // scheduling: the branch copies the scan's schedule.
    void specialize_linear(MatVecScan &S, const std::vector<Func> &more = {}) {
        if (!rho_act) return;
        S.state.update(S.scan_update).specialize(*rho_act == 0);
        for (Func f : more) f.specialize(*rho_act == 0);
    }
    void estimates() {
        if (R) est_mat(*R);
        if (rho_d) {
            est_vec(*rho_d);
            est_vec(*rho_u);
            est_vec(*rho_l);
            rho_act->set_estimate(0);
        }
    }
};

template <typename Gen>
WcrnnArgs common_args(Gen &gen, ResidualPath path) {
    WcrnnArgs a;
    a.path = path;
    a.u = gen.u;
    a.W = gen.W;
    a.h0 = gen.h0;
    a.H = gen.W.dim(0).extent();
    a.T = gen.u.dim(1).extent();
    a.B = gen.u.dim(2).extent();
    return a;
}

// Forward; Elman = true fixes ρ = 0, ε = 1, f = tanh (no residual/eps/act inputs).
template <bool Elman>
class RnnForwardGen : public Generator<RnnForwardGen<Elman>> {
public:
    using Base = Generator<RnnForwardGen<Elman>>;
    template <typename T> using Input = typename Base::template Input<T>;
    template <typename T> using Output = typename Base::template Output<T>;
    template <typename T> using GeneratorParam = typename Base::template GeneratorParam<T>;
    using Base::get_target;

    STATEMIX_RNN_KNOBS
    STATEMIX_WCRNN_INPUTS
    Output<Buffer<float, 3>> h{"h"};
    Output<Buffer<float, 2>> h_final{"h_final"};
    Input<float> *eps = nullptr;
    Input<int> *act = nullptr;
    ResidualInputs res;

    void configure() {
        if (Elman) return;
        eps = this->template add_input<float>("eps");
        act = this->template add_input<int>("act");
        res.add(*this, m);
    }

    void generate() {
        _halide_user_assert(Elman ? m == 0 : (m == 0 || m == 2))
            << "m: wcrnn takes the residual block size 2 (per-unit) or 0 (dense); elman takes 0\n";
        WcrnnArgs a = common_args(*this, Elman ? ResidualPath::none : path_of(m));
        if (!Elman) {
            a.eps = *eps;
            a.act = *act;
            res.fill(a);
        }
        RnnForward P;
        build_forward(P, a, knobs());
        h = P.seq;
        Var i = P.scan.i, b = P.scan.b;
        h_final(i, b) = h(i, a.T - 1, b);
        P.final_state = h_final;
        P.seq = h;
        schedule_rnn_forward(P, knobs());
        res.specialize_linear(P.scan);

        est_seq(u);
        est_mat(W);
        est_state(h0);
        est_seq(h);
        est_state(h_final);
        if (!Elman) {
            eps->set_estimate(0.05f);
            act->set_estimate(0);
            res.estimates();
        }
    }
};

// One step of the forward, for the stepped CPU forward (rnn_pipelines.h: RnnStep; the runtime
// calls it per step with views of u_t, h_{t-1} and h_t): h_t = ρ(h_{t-1}) + ε f(W h_{t-1} + u_t).
// Wp is W packed by the runtime (runtime/rnn_step_layout.h), with R as a second gate for the
// dense residual (m = 0), so both mat-vecs share the tile's broadcasts.
//   Wp -> (ii, q, k, j)   u, h_prev, h [B,H] -> (i, b)
template <bool Elman>
class RnnStepGen : public Generator<RnnStepGen<Elman>> {
public:
    using Base = Generator<RnnStepGen<Elman>>;
    template <typename T> using Input = typename Base::template Input<T>;
    template <typename T> using Output = typename Base::template Output<T>;
    template <typename T> using GeneratorParam = typename Base::template GeneratorParam<T>;
    using Base::get_target;

    STATEMIX_STEP_KNOBS
    Input<Buffer<float, 4>> Wp{"Wp"};
    Input<Buffer<float, 2>> u{"u"};
    Input<Buffer<float, 2>> h_prev{"h_prev"};
    Output<Buffer<float, 2>> h{"h"};
    Input<float> *eps = nullptr;
    Input<int> *act = nullptr;
    ResidualInputs res;

    void configure() {
        if (Elman) return;
        eps = this->template add_input<float>("eps");
        act = this->template add_input<int>("act");
        if (m != 0) res.add(*this, m);  // the dense R is packed into Wp
    }

    void generate() {
        _halide_user_assert(Elman ? m == 0 : (m == 0 || m == 2))
            << "m: wcrnn takes the residual block size 2 (per-unit) or 0 (dense); elman takes 0\n";
        const RnnKnobs kn = knobs();
        WcrnnArgs a;
        a.path = Elman ? ResidualPath::none : path_of(m);
        a.H = h_prev.dim(0).extent();
        if (!Elman) {
            a.eps = *eps;
            a.act = *act;
            res.fill(a);
        }
        const bool dense = a.path == ResidualPath::dense;
        RnnStep P;
        define_step_matvec(P, Wp, h_prev, a.H, dense ? 2 : 1);
        Var i = P.i, b = P.b;
        Expr rho = 0.0f;
        if (a.path == ResidualPath::paired) {
            rho = paired_residual(a, i, [&](Expr jj) { return h_prev(clamp(jj, 0, a.H - 1), b); });
        } else if (dense) {
            rho = step_acc(P, 1, i, b);
        }
        h(i, b) = rho + a.eps * act_f(step_acc(P, 0, i, b) + u(i, b), a.act);
        h.dim(0).set_min(0);
        P.out = h;
        schedule_rnn_step(P, kn);
        if (res.rho_act) h.specialize(*res.rho_act == 0);

        Wp.set_estimates({{0, step_unit_tile(dense ? 2 : 1)}, {0, dense ? 2 : 1}, {0, kEstH}, {0, kEstH / step_unit_tile(dense ? 2 : 1)}});
        est_state(u);
        est_state(h_prev);
        est_state(h);
        if (!Elman) {
            eps->set_estimate(0.05f);
            act->set_estimate(0);
            res.estimates();
        }
    }
};

// One step of the Elman adjoint, for the stepped CPU backward (runtime/rnn_stepped.cpp):
//   δ_t = (1 − h_t²) ⊙ (g_t + Wᵀ δ_{t+1}),
// Wp = Wᵀ packed (rnn_step_layout.h with G = 1 and K = d_next's extent). With h = g = 0 it is the
// plain Wᵀ d: the runtime's dh0 = Wᵀ δ_0, and the LSTM's dh0 = Σ_q W_qᵀ dz_{q,0} (K = 4H).
//   Wp -> (ii, q, k, j)   d_next [B,K] -> (k, b)   g, h, delta [B,H] -> (i, b)
class ElmanBackStep : public Generator<ElmanBackStep> {
public:
    STATEMIX_STEP_KNOBS
    Input<Buffer<float, 4>> Wp{"Wp"};
    Input<Buffer<float, 2>> d_next{"d_next"};
    Input<Buffer<float, 2>> g{"g"};
    Input<Buffer<float, 2>> h{"h"};
    Output<Buffer<float, 2>> delta{"delta"};

    void generate() {
        _halide_user_assert(m == 0) << "elman: m must be 0\n";
        RnnStep P;
        define_step_matvec(P, Wp, d_next, d_next.dim(0).extent(), 1);
        Var i = P.i, b = P.b;
        Expr ht = h(i, b);
        delta(i, b) = (1.0f - ht * ht) * (g(i, b) + step_acc(P, 0, i, b));
        delta.dim(0).set_min(0);
        P.out = delta;
        schedule_rnn_step(P, knobs());

        Wp.set_estimates({{0, step_unit_tile(1)}, {0, 1}, {0, kEstH}, {0, kEstH / step_unit_tile(1)}});
        est_state(d_next);
        est_state(g);
        est_state(h);
        est_state(delta);
    }
};

// A weight gradient of the stepped backward: dW [R,H] = Σ_{t,b} y_t h_{t-1}ᵀ (h_{-1} = h0), with
// y = the adjoint the runtime's steps wrote (Elman: δ [B,T,H]; LSTM: dz [B,T,4H]). The same GEMM
// (outer_sum) and schedule as inside the one-launch backward kernels.
//   y [B,T,R] -> (j, t, b)   h [B,T,H] -> (k, t, b)   h0 [B,H] -> (k, b)   dW [R,H] -> (k, j)
class RnnWeightGrad : public Generator<RnnWeightGrad> {
public:
    STATEMIX_STEP_KNOBS
    Input<Buffer<float, 3>> y{"y"};
    Input<Buffer<float, 3>> h{"h"};
    Input<Buffer<float, 2>> h0{"h0"};
    Output<Buffer<float, 2>> dW{"dW"};

    void generate() {
        Expr T = h.dim(1).extent(), B = h.dim(2).extent();
        Func acc = outer_sum("dW_acc", [&](Expr jj, Expr tt, Expr bb) { return y(jj, tt, bb); }, h, h0, T, B);
        Var k("k"), j("j");
        dW(k, j) = acc(k, j);
        sched::cpu::outer_gemm(acc, dW, knobs());

        y.set_estimates({{0, kEstH}, {0, kEstT}, {0, kEstB}});
        est_seq(h);
        est_state(h0);
        est_mat(dW);
    }
};

// The WCRNN's stepped backward (runtime/rnn_stepped.cpp) has three kernels of its own besides the
// weight-gradient GEMM (elman_weight_grad: dW from δ, dR from λ):
//
// wcrnn_bstep_pre: ε f'(a) for a block of rows n (the runtime passes the steps t >= 1 of one batch
// row, then step 0 of every row): a = u + W h_prev, Wp = W packed as for the forward step.
//   Wp -> (ii, q, k, j)   u, h_prev, fp [rows, H] -> (i, n)
class WcrnnBackPre : public Generator<WcrnnBackPre> {
public:
    STATEMIX_STEP_KNOBS
    Input<Buffer<float, 4>> Wp{"Wp"};
    Input<Buffer<float, 2>> u{"u"};
    Input<Buffer<float, 2>> h_prev{"h_prev"};
    Input<float> eps{"eps"};
    Input<int> act{"act"};
    Output<Buffer<float, 2>> fp{"fp"};

    void generate() {
        RnnStep P;
        define_step_matvec(P, Wp, h_prev, h_prev.dim(0).extent(), 1);
        Var i = P.i, n = P.b;
        fp(i, n) = eps * act_df(step_acc(P, 0, i, n) + u(i, n), act);
        fp.dim(0).set_min(0);
        P.out = fp;
        schedule_rnn_step(P, knobs());

        Wp.set_estimates({{0, step_unit_tile(1)}, {0, 1}, {0, kEstH}, {0, kEstH / step_unit_tile(1)}});
        u.set_estimates({{0, kEstH}, {0, kEstT}});
        h_prev.set_estimates({{0, kEstH}, {0, kEstT}});
        fp.set_estimates({{0, kEstH}, {0, kEstT}});
        eps.set_estimate(0.05f);
        act.set_estimate(0);
    }
};

// wcrnn_bstep: one adjoint step, from step t's src = δ_t (m = 2; K = H) or (δ_t, λ_t) side by side
// (m = 0, K = 2H, Wp = [Wᵀ; Rᵀ] stacked along k, so Rᵀλ_t is the second half of the one GEMM):
//   λ_{t-1} = g_{t-1} + Jρ(h_{t-1})ᵀ λ_t + Wᵀ δ_t (+ Rᵀ λ_t),   δ_{t-1} = fp_{t-1} ⊙ λ_{t-1},
// m = 2 reads λ_t (lam_next) and h_{t-1} (h_prev) for the paired Jρᵀλ. Outputs (λ, δ).
//   Wp -> (ii, q, k, j)   src [B,K] -> (k, b)   g, fp, lam_next, h_prev, out [B,H] -> (i, b)
class WcrnnBackStep : public Generator<WcrnnBackStep> {
public:
    STATEMIX_STEP_KNOBS
    Input<Buffer<float, 4>> Wp{"Wp"};
    Input<Buffer<float, 2>> src{"src"};
    Input<Buffer<float, 2>> g{"g"};
    Input<Buffer<float, 2>> fp{"fp"};
    Output<Func> out{"out", {Float(32), Float(32)}, 2};
    GeneratorInput<Buffer<float, 2>> *lam_next = nullptr, *h_prev = nullptr;
    ResidualInputs res;

    void configure() {
        if (m == 0) return;
        lam_next = add_input<Buffer<float, 2>>("lam_next");
        h_prev = add_input<Buffer<float, 2>>("h_prev");
        res.add(*this, m);
    }

    void generate() {
        _halide_user_assert(m == 0 || m == 2) << "m: wcrnn takes the residual block size 2 (per-unit) or 0 (dense)\n";
        WcrnnArgs a;
        a.path = path_of(m);
        a.H = g.dim(0).extent();
        res.fill(a);
        RnnStep P;
        define_step_matvec(P, Wp, src, src.dim(0).extent(), 1);
        Var i = P.i, b = P.b;
        Expr jr = 0.0f;
        if (a.path == ResidualPath::paired) {
            Func ln = *lam_next, hp = *h_prev;
            jr = paired_residual_adjoint(a, i, hp(i, b), [&](Expr j) { return ln(clamp(j, 0, a.H - 1), b); });
        }
        Expr lam = g(i, b) + jr + step_acc(P, 0, i, b);
        out(i, b) = Tuple(lam, fp(i, b) * lam);
        Func(out).output_buffers()[0].dim(0).set_min(0);  // the other element shares its min
        P.out = out;
        schedule_rnn_step(P, knobs());
        if (res.rho_act) Func(out).specialize(*res.rho_act == 0);

        const int K = m == 0 ? 2 * kEstH : kEstH;
        Wp.set_estimates({{0, step_unit_tile(1)}, {0, 1}, {0, K}, {0, kEstH / step_unit_tile(1)}});
        src.set_estimates({{0, K}, {0, kEstB}});
        est_state(g);
        est_state(fp);
        if (lam_next) {
            est_state(*lam_next);
            est_state(*h_prev);
        }
        out.set_estimates({{0, kEstH}, {0, kEstB}});
        res.estimates();
    }
};

// wcrnn_bstep_rho (m = 2): the paired residual's per-unit gradients from λ [B,T,H] and h, h0
// (define_rho_sums; a strided λ view is fine).
//   lam, h [B,T,H] -> (i, t, b)   h0 [B,H] -> (i, b)   d_rho_* [H] -> (i)
class WcrnnRhoGrads : public Generator<WcrnnRhoGrads> {
public:
    STATEMIX_STEP_KNOBS
    Input<Buffer<float, 3>> lam{"lam"};
    Input<Buffer<float, 3>> h{"h"};
    Input<Buffer<float, 2>> h0{"h0"};
    Input<int> rho_act{"rho_act"};
    Output<Buffer<float, 1>> d_rho_d{"d_rho_d"}, d_rho_u{"d_rho_u"}, d_rho_l{"d_rho_l"};

    void generate() {
        _halide_user_assert(m == 2) << "wcrnn_bstep_rho: m must be 2 (the paired residual)\n";
        WcrnnArgs a;
        a.path = ResidualPath::paired;
        a.H = h.dim(0).extent();
        a.B = h.dim(2).extent();
        a.rho_act = rho_act;
        Expr T = h.dim(1).extent();
        Var k("k"), s("s"), b("b"), i("i");
        Func hoff("hoff");
        hoff(k, s, b) = select(s == 0, h0(k, b), h(k, max(s - 1, 0), b));
        RhoSums rs = define_rho_sums(a, [&](Expr ii, Expr tt, Expr bb) { return lam(ii, tt, bb); }, hoff, T);
        d_rho_d(i) = rs.d(i);
        d_rho_u(i) = rs.u(i);
        d_rho_l(i) = rs.l(i);
        const RnnKnobs kn = knobs();
        sched::cpu::per_unit_sum(rs.sums, {rs.phi_h}, kn);
        for (Func f : {Func(d_rho_d), Func(d_rho_u), Func(d_rho_l)}) f.vectorize(i, kn.vector_width, TailStrategy::GuardWithIf);
        rs.phi_h.specialize(rho_act == 0);  // the linear residuals: no tanh per unit

        est_seq(lam);
        est_seq(h);
        est_state(h0);
        est_vec(d_rho_d);
        est_vec(d_rho_u);
        est_vec(d_rho_l);
        rho_act.set_estimate(0);
    }
};

template <bool Elman>
class RnnBackwardGen : public Generator<RnnBackwardGen<Elman>> {
public:
    using Base = Generator<RnnBackwardGen<Elman>>;
    template <typename T> using Input = typename Base::template Input<T>;
    template <typename T> using Output = typename Base::template Output<T>;
    template <typename T> using GeneratorParam = typename Base::template GeneratorParam<T>;
    using Base::get_target;

    STATEMIX_RNN_KNOBS
    STATEMIX_WCRNN_INPUTS
    Input<Buffer<float, 3>> h{"h"};              // forward output, saved
    Input<Buffer<float, 3>> g{"g"};              // ∂L/∂h
    Input<Buffer<float, 2>> g_final{"g_final"};  // ∂L/∂h_final
    Output<Buffer<float, 3>> du{"du"};
    Output<Buffer<float, 2>> dW{"dW"};
    Output<Buffer<float, 2>> dh0{"dh0"};
    Input<float> *eps = nullptr;
    Input<int> *act = nullptr;
    Input<int> *residual_grad = nullptr;  // dense: compute dR (else it is left zero)
    ResidualInputs res;
    Output<Buffer<float, 1>> *d_rho_d = nullptr, *d_rho_u = nullptr, *d_rho_l = nullptr;
    Output<Buffer<float, 2>> *dR = nullptr;

    void configure() {
        if (Elman) return;
        eps = this->template add_input<float>("eps");
        act = this->template add_input<int>("act");
        res.add(*this, m);
        if (m == 0) {
            residual_grad = this->template add_input<int>("residual_grad");
            dR = this->template add_output<Buffer<float, 2>>("dR");
        } else {
            d_rho_d = this->template add_output<Buffer<float, 1>>("d_rho_d");
            d_rho_u = this->template add_output<Buffer<float, 1>>("d_rho_u");
            d_rho_l = this->template add_output<Buffer<float, 1>>("d_rho_l");
        }
    }

    void generate() {
        _halide_user_assert(Elman ? m == 0 : (m == 0 || m == 2))
            << "m: wcrnn takes the residual block size 2 (per-unit) or 0 (dense); elman takes 0\n";
        WcrnnArgs a = common_args(*this, Elman ? ResidualPath::none : path_of(m));
        if (!Elman) {
            a.eps = *eps;
            a.act = *act;
            res.fill(a);
        }
        RnnBackward P;
        WcrnnGrads G;
        build_backward(P, G, a, h, g, g_final, residual_grad ? Expr(*residual_grad) : Expr(0), knobs());
        du = G.du;
        dW = G.dW;
        dh0 = G.dh0;
        P.pointwise = {du, dh0};
        P.outer_out[0] = dW;
        if (dR) {
            *dR = G.dR;
            P.outer_out[1] = *dR;
        }
        if (d_rho_d) {
            *d_rho_d = G.d_rho_d;
            *d_rho_u = G.d_rho_u;
            *d_rho_l = G.d_rho_l;
            P.sum_outputs = {*d_rho_d, *d_rho_u, *d_rho_l};
        }
        schedule_rnn_backward(P, knobs());
        res.specialize_linear(P.scan, P.sum_inputs);

        for (auto *buf : {&u, &h, &g}) est_seq(*buf);
        est_mat(W);
        est_state(h0);
        est_state(g_final);
        est_seq(du);
        est_mat(dW);
        est_state(dh0);
        if (!Elman) {
            eps->set_estimate(0.05f);
            act->set_estimate(0);
            res.estimates();
            if (residual_grad) residual_grad->set_estimate(0);
            if (dR) est_mat(*dR);
            if (d_rho_d) {
                est_vec(*d_rho_d);
                est_vec(*d_rho_u);
                est_vec(*d_rho_l);
            }
        }
    }
};

}  // namespace
}  // namespace statemix::gen

HALIDE_REGISTER_GENERATOR(statemix::gen::RnnForwardGen<false>, wcrnn_forward)
HALIDE_REGISTER_GENERATOR(statemix::gen::RnnBackwardGen<false>, wcrnn_backward)
HALIDE_REGISTER_GENERATOR(statemix::gen::RnnForwardGen<true>, elman_forward)
HALIDE_REGISTER_GENERATOR(statemix::gen::RnnStepGen<false>, wcrnn_step)
HALIDE_REGISTER_GENERATOR(statemix::gen::RnnStepGen<true>, elman_step)
HALIDE_REGISTER_GENERATOR(statemix::gen::ElmanBackStep, elman_bstep)
HALIDE_REGISTER_GENERATOR(statemix::gen::RnnWeightGrad, elman_weight_grad)
HALIDE_REGISTER_GENERATOR(statemix::gen::WcrnnBackPre, wcrnn_bstep_pre)
HALIDE_REGISTER_GENERATOR(statemix::gen::WcrnnBackStep, wcrnn_bstep)
HALIDE_REGISTER_GENERATOR(statemix::gen::WcrnnRhoGrads, wcrnn_bstep_rho)
HALIDE_REGISTER_GENERATOR(statemix::gen::RnnBackwardGen<true>, elman_backward)
