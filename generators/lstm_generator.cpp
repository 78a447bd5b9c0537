// LSTM core (../shared/spec/layers.md §8: standard gates, order i, f, g, o), forward and backward
// (BPTT), on the same sequential mat-vec scan as the WCRNN (rnn_pipelines.h). The initial cell
// state is zero by default (the runtime passes zeros); taking c0 and returning c_final lets
// sequences be processed in pieces.
//
//   z_t = u_t + W h_{t-1}   (u_t [4H] = U x_t + b, computed outside)
//   c_t = σ(z_f) c_{t-1} + σ(z_i) tanh(z_g),   h_t = σ(z_o) tanh(c_t)
//
// The forward also writes the gate pre-activations z (the backward's workspace, as cuDNN's and
// oneDNN's training forwards do): the backward reads them instead of recomputing W h_{t-1} for
// every step (a GEMM as large as the forward's, measured as 15% of the CPU backward).
//
// Halide dims are the reverse of the row-major shapes:
//   u, du [B,T,4H] -> (j, t, b), j = gate·H + i    W, dW [4H,H] -> (k, j)
//   z [4,B,T,H] -> (i, t, b, gate)
//   h, c, g [B,T,H] -> (i, t, b)    h0, c0, h_final, c_final, g_final, gc_final, dh0, dc0 [B,H] -> (i, b)
// The training forward's (h, c, z_i, z_f, z_g, z_o) and (h_final, c_final) are Tuple outputs: one
// buffer per element (the runtime passes the four gate slices of z as the last four); the
// inference forward (lstm_forward) has (h, c) only.
#include "Halide.h"
#include "rnn_pipelines.h"
#include "../schedules/rnn_schedules.h"

using namespace Halide;

namespace statemix::gen {
namespace {

Expr sigmoid(Expr x) { return 1.0f / (1.0f + exp(-x)); }

constexpr int kEstH = 256, kEstT = 784, kEstB = 32;

// Workspace = true (lstm_forward_train): hc also holds z, for the backward. false (lstm_forward):
// h and c only, for inference (writing z cost the CPU forward 1-9% in min-of-4 runs at T = 128).
template <bool Workspace>
class LstmForward : public Generator<LstmForward<Workspace>> {
public:
    using Base = Generator<LstmForward<Workspace>>;
    template <typename T> using Input = typename Base::template Input<T>;
    template <typename T> using Output = typename Base::template Output<T>;
    template <typename T> using GeneratorParam = typename Base::template GeneratorParam<T>;
    using Base::get_target;

    STATEMIX_RNN_KNOBS

    Input<Buffer<float, 3>> u{"u"};
    Input<Buffer<float, 2>> W{"W"};
    Input<Buffer<float, 2>> h0{"h0"};
    Input<Buffer<float, 2>> c0{"c0"};
    Output<Func> hc{"hc", std::vector<Type>(Workspace ? 6 : 2, Float(32)), 3};
    Output<Func> hc_final{"hc_final", {Float(32), Float(32)}, 2};

    void generate() {
        _halide_user_assert(m == 0) << "lstm: m must be 0\n";
        const RnnKnobs kn = knobs();
        RnnForward P;
        MatVecScan &S = P.scan;
        Var i = S.i, s = S.s, b = S.b, k = S.k, q = S.q, t("t");
        Expr H = W.dim(0).extent(), T = u.dim(1).extent();
        // (z_i, z_f, z_g, z_o, h, c): the four gate accumulators, then the results (rnn_pipelines.h).
        S.size = 6;
        S.k_inner = kn.gpu;

        // M_q(i, k) = W[qH + i, k], transposed, zero past H.
        Func Wt("Wt");
        Wt(i, k, q) = select(k < H, W(min(k, H - 1), q * H + i), 0.0f);
        S.weights.push_back(Wt);

        // Row 0: (-, -, -, -, h0, c0); rows s >= 1 accumulate W_q·h_{s-1} from 0, and the gate
        // drives of step s-1 join in the finalize through a per-step input.
        std::vector<Expr> init(4, 0.0f);
        init.push_back(select(s == 0, h0(i, b), 0.0f));
        init.push_back(select(s == 0, c0(i, b), 0.0f));
        Func drive("drive");
        drive(i, q, t, b) = u(i + q * H, t, b);
        S.step_inputs.push_back(drive);
        S.state = Func("state");
        S.state(i, s, b) = Tuple(init);

        std::vector<MatVecTerm> terms;
        for (int g = 0; g < 4; g++) terms.push_back({g, [&, g](Expr ii, Expr kk) { return Wt(ii, kk, g); }, 4});
        define_matvec_scan(S, H, T, /*reverse=*/false, kn.k_unroll, terms,
                           [&](const std::vector<Expr> &acc, Expr ii, Expr row, const PrevRow &prev) {
                               std::vector<Expr> z;
                               for (int g = 0; g < 4; g++) z.push_back(acc[g] + drive(ii, g, row - 1, b));
                               Expr c = sigmoid(z[1]) * prev(5, ii) + sigmoid(z[0]) * tanh_f32(z[2]);
                               Expr hn = sigmoid(z[3]) * tanh_f32(c);
                               return std::vector<Expr>{acc[0], acc[1], acc[2], acc[3], hn, c};
                           });

        // (h, c, z_i, z_f, z_g, z_o): the accumulators hold W_q h_{t-1}; z adds the drive.
        std::vector<Expr> out = {state_elem(S, 4, i, t + 1, b), state_elem(S, 5, i, t + 1, b)};
        // (u read directly: `drive` is the scan's step input, which CUDA stages inside the scan.)
        if (Workspace) {
            for (int g = 0; g < 4; g++) out.push_back(state_elem(S, g, i, t + 1, b) + u(i + g * H, t, b));
        }
        hc(i, t, b) = Tuple(out);
        hc_final(i, b) = Tuple(hc(i, T - 1, b)[0], hc(i, T - 1, b)[1]);
        P.seq = hc;
        P.final_state = hc_final;
        schedule_rnn_forward(P, kn);

        u.set_estimates({{0, 4 * kEstH}, {0, kEstT}, {0, kEstB}});
        W.set_estimates({{0, kEstH}, {0, 4 * kEstH}});
        h0.set_estimates({{0, kEstH}, {0, kEstB}});
        c0.set_estimates({{0, kEstH}, {0, kEstB}});
        hc.set_estimates({{0, kEstH}, {0, kEstT}, {0, kEstB}});
        hc_final.set_estimates({{0, kEstH}, {0, kEstB}});
    }
};

// One step of the forward, for the stepped CPU forward (rnn_pipelines.h: RnnStep; the runtime
// calls it per step with views of u_t, h_{t-1}, c_{t-1} and the outputs at t). Wp is W packed by
// the runtime (runtime/rnn_step_layout.h, G = 4 gates): a register tile holds all four gates of
// its units, so the cell update runs on the tile. Workspace: hc also holds z_t (the backward's).
//   Wp -> (ii, q, k, j)   u [B,4H] -> (j4, b), j4 = gate·H + i   h_prev, c_prev, hc [B,H] -> (i, b)
template <bool Workspace>
class LstmStep : public Generator<LstmStep<Workspace>> {
public:
    using Base = Generator<LstmStep<Workspace>>;
    template <typename T> using Input = typename Base::template Input<T>;
    template <typename T> using Output = typename Base::template Output<T>;
    template <typename T> using GeneratorParam = typename Base::template GeneratorParam<T>;
    using Base::get_target;

    STATEMIX_STEP_KNOBS

    Input<Buffer<float, 4>> Wp{"Wp"};
    Input<Buffer<float, 2>> u{"u"};
    Input<Buffer<float, 2>> h_prev{"h_prev"};
    Input<Buffer<float, 2>> c_prev{"c_prev"};
    Output<Func> hc{"hc", std::vector<Type>(Workspace ? 6 : 2, Float(32)), 2};

    void generate() {
        _halide_user_assert(m == 0) << "lstm: m must be 0\n";
        const RnnKnobs kn = knobs();
        Expr H = h_prev.dim(0).extent();
        RnnStep P;
        define_step_matvec(P, Wp, h_prev, H, 4);
        Var i = P.i, b = P.b;
        std::vector<Expr> z;
        for (int g = 0; g < 4; g++) z.push_back(step_acc(P, g, i, b) + u(i + g * H, b));
        Expr c = sigmoid(z[1]) * c_prev(i, b) + sigmoid(z[0]) * tanh_f32(z[2]);
        Expr hn = sigmoid(z[3]) * tanh_f32(c);
        std::vector<Expr> out = {hn, c};
        if (Workspace) out.insert(out.end(), z.begin(), z.end());
        hc(i, b) = Tuple(out);
        Func(hc).output_buffers()[0].dim(0).set_min(0);  // the other elements share its min
        P.out = hc;
        schedule_rnn_step(P, kn);

        Wp.set_estimates({{0, step_unit_tile(4)}, {0, 4}, {0, kEstH}, {0, kEstH / step_unit_tile(4)}});
        u.set_estimates({{0, 4 * kEstH}, {0, kEstB}});
        h_prev.set_estimates({{0, kEstH}, {0, kEstB}});
        c_prev.set_estimates({{0, kEstH}, {0, kEstB}});
        hc.set_estimates({{0, kEstH}, {0, kEstB}});
    }
};

// One step of the LSTM adjoint, for the stepped CPU backward (runtime/rnn_stepped.cpp), from
// step t+1's gate adjoints dz_{t+1} (the previous call's outputs) and λc_{t+1}·f_{t+1}:
//   λh_t = g_t + Σ_q W_qᵀ dz_{q,t+1}     (Wp = Wᵀ packed: G = 1, K = 4H)
//   λc_t = λh_t·o_t·(1 − tanh² c_t) + lcf_next,   lcf_next = λc_{t+1}·f_{t+1} (gc_final at T−1)
//   dz_o = λh·tanh c·o(1−o),  dz_i = λc·g·i(1−i),  dz_f = λc·c_{t-1}·f(1−f),  dz_g = λc·i·(1−g²)
// Outputs (dz_i, dz_f, dz_g, dz_o, lcf = λc_t·f_t): lcf is the next call's lcf_next, and at t = 0
// it is dc0.
//   Wp -> (ii, q, k, j)   dz_next [B,4H] -> (k, b)   g, z_i.., c, c_prev, lcf_next, out [B,H] -> (i, b)
class LstmBackStep : public Generator<LstmBackStep> {
public:
    STATEMIX_STEP_KNOBS

    Input<Buffer<float, 4>> Wp{"Wp"};
    Input<Buffer<float, 2>> dz_next{"dz_next"};
    Input<Buffer<float, 2>> g{"g"};
    Input<Buffer<float, 2>> z_i{"z_i"};
    Input<Buffer<float, 2>> z_f{"z_f"};
    Input<Buffer<float, 2>> z_g{"z_g"};
    Input<Buffer<float, 2>> z_o{"z_o"};
    Input<Buffer<float, 2>> c{"c"};
    Input<Buffer<float, 2>> c_prev{"c_prev"};
    Input<Buffer<float, 2>> lcf_next{"lcf_next"};
    Output<Func> dz{"dz", std::vector<Type>(5, Float(32)), 2};

    void generate() {
        _halide_user_assert(m == 0) << "lstm: m must be 0\n";
        RnnStep P;
        define_step_matvec(P, Wp, dz_next, dz_next.dim(0).extent(), 1);
        Var i = P.i, b = P.b;
        Expr gi = sigmoid(z_i(i, b)), gf = sigmoid(z_f(i, b)), gg = tanh_f32(z_g(i, b)), go = sigmoid(z_o(i, b));
        Expr tc = tanh_f32(c(i, b));
        Expr lh = g(i, b) + step_acc(P, 0, i, b);
        Expr lc = lh * go * (1.0f - tc * tc) + lcf_next(i, b);
        dz(i, b) = Tuple(lc * gg * gi * (1.0f - gi), lc * c_prev(i, b) * gf * (1.0f - gf), lc * gi * (1.0f - gg * gg),
                         lh * tc * go * (1.0f - go), lc * gf);
        Func(dz).output_buffers()[0].dim(0).set_min(0);  // the other elements share its min
        P.out = dz;
        schedule_rnn_step(P, knobs());

        Wp.set_estimates({{0, step_unit_tile(1)}, {0, 1}, {0, 4 * kEstH}, {0, kEstH / step_unit_tile(1)}});
        dz_next.set_estimates({{0, 4 * kEstH}, {0, kEstB}});
        for (auto *in : {&g, &z_i, &z_f, &z_g, &z_o, &c, &c_prev, &lcf_next}) in->set_estimates({{0, kEstH}, {0, kEstB}});
        dz.set_estimates({{0, kEstH}, {0, kEstB}});
    }
};

// Adjoint rows, r = t+1: L(i, r) = (λh_{r-1}, λc_{r-1}, dz_i, dz_f, dz_g, dz_o at step r-1);
// row 0 = (dh0, dc0, -). With λh_t = g_t + Σ_q W_qᵀ dz_{q,t+1} and
//   λc_t = λh_t·o_t·(1 − tanh² c_t) + λc_{t+1}·f_{t+1}   (λc_T·f_T := gc_final),
//   dz_o = λh·tanh c·o(1−o),  dz_i = λc·g·i(1−i),  dz_f = λc·c_{t-1}·f(1−f),  dz_g = λc·i·(1−g²).
class LstmBackward : public Generator<LstmBackward> {
public:
    STATEMIX_RNN_KNOBS

    Input<Buffer<float, 4>> z{"z"};                // the forward's gate pre-activations
    Input<Buffer<float, 2>> W{"W"};
    Input<Buffer<float, 2>> h0{"h0"};
    Input<Buffer<float, 2>> c0{"c0"};
    Input<Buffer<float, 3>> h{"h"};                // forward outputs, saved
    Input<Buffer<float, 3>> c{"c"};
    Input<Buffer<float, 3>> g{"g"};                // ∂L/∂h
    Input<Buffer<float, 2>> g_final{"g_final"};    // ∂L/∂h_final
    Input<Buffer<float, 2>> gc_final{"gc_final"};  // ∂L/∂c_final
    Output<Buffer<float, 3>> du{"du"};
    Output<Buffer<float, 2>> dW{"dW"};
    Output<Buffer<float, 2>> dh0{"dh0"};
    Output<Buffer<float, 2>> dc0{"dc0"};

    void generate() {
        _halide_user_assert(m == 0) << "lstm: m must be 0\n";
        const RnnKnobs kn = knobs();
        const int ku = kn.k_unroll;
        RnnBackward P;
        MatVecScan &S = P.scan;
        Var i = S.i, s = S.s, b = S.b, k = S.k, q = S.q, t("t"), j("j");
        Expr H = W.dim(0).extent(), T = z.dim(1).extent(), B = z.dim(2).extent();
        S.size = 6;
        S.k_inner = kn.gpu;

        // c_{s-1}.
        Func coff("coff");
        coff(k, s, b) = select(s == 0, c0(k, b), c(k, max(s - 1, 0), b));

        auto gate = [&](int g_, Expr ii, Expr tt) {
            Expr zz = z(ii, tt, b, g_);
            return g_ == 2 ? tanh_f32(zz) : sigmoid(zz);
        };

        // The scan reads W_qᵀ: M_q(i, k) = W[qH + k, i] = W(i, qH + k), contiguous in i.
        Func Wp("Wp");
        Wp(i, k, q) = select(k < H, W(i, q * H + min(k, H - 1)), 0.0f);
        S.weights.push_back(Wp);

        // One row of the adjoint from its λh (all terms in) and the cell gradient flowing back
        // from step row (next_lc = λc_{t+1}·f_{t+1}).
        auto row_values = [&](Expr lh, Expr ii, Expr row, Expr next_lc) {
            Expr tt = max(row - 1, 0);
            Expr ig = gate(0, ii, tt), fg = gate(1, ii, tt), gg = gate(2, ii, tt), og = gate(3, ii, tt);
            Expr tc = tanh_f32(coff(ii, row, b));
            Expr lc = lh * og * (1.0f - tc * tc) + next_lc;
            Expr first = row >= 1;
            return std::vector<Expr>{lh,
                                     select(first, lc, next_lc),
                                     select(first, lc * gg * ig * (1.0f - ig), 0.0f),
                                     select(first, lc * coff(ii, tt, b) * fg * (1.0f - fg), 0.0f),
                                     select(first, lc * ig * (1.0f - gg * gg), 0.0f),
                                     select(first, lh * tc * og * (1.0f - og), 0.0f)};
        };
        S.state = Func("adjoint");
        S.state(i, s, b) = Tuple(select(s >= 1, g(i, max(s - 1, 0), b), 0.0f), 0.0f, 0.0f, 0.0f, 0.0f, 0.0f);
        S.state(i, T, b) = Tuple(row_values(g(i, T - 1, b) + g_final(i, b), i, T, gc_final(i, b)));
        std::vector<MatVecTerm> terms;
        for (int g_ = 0; g_ < 4; g_++) terms.push_back({0, [&, g_](Expr ii, Expr kk) { return Wp(ii, kk, g_); }, 2 + g_});
        Func f_next("f_next");  // f_{t+1}: the forget gate of step `row`, read once per unit and step
        f_next(i, t, b) = gate(1, i, t);
        S.step_inputs.push_back(f_next);
        define_matvec_scan(S, H, T, /*reverse=*/true, ku, terms,
                           [&](const std::vector<Expr> &acc, Expr ii, Expr row, const PrevRow &prev) {
                               return row_values(acc[0], ii, row, prev(1, ii) * f_next(ii, row, b));
                           });

        // du(gate·H + i, t, b) = dz_gate(i, t): one update per gate over the units.
        RDom ri(0, H, "ri");
        du(j, t, b) = undef<float>();
        for (int g_ = 0; g_ < 4; g_++) du(ri + g_ * H, t, b) = state_elem(S, 2 + g_, ri, t + 1, b);
        dh0(i, b) = state_elem(S, 0, i, 0, b);
        dc0(i, b) = state_elem(S, 1, i, 0, b);
        Func dW_acc = outer_sum("dW_acc", [&](Expr jj, Expr tt, Expr bb) { return du(jj, tt, bb); }, h, h0, T, B);
        dW(k, j) = dW_acc(k, j);
        P.scattered = {du};
        P.pointwise = {dh0, dc0};
        P.outer = {dW_acc};
        P.outer_out = {dW};
        schedule_rnn_backward(P, kn);

        for (auto *buf : {&h, &c, &g}) buf->set_estimates({{0, kEstH}, {0, kEstT}, {0, kEstB}});
        for (auto *buf : {&h0, &c0, &g_final, &gc_final}) buf->set_estimates({{0, kEstH}, {0, kEstB}});
        z.set_estimates({{0, kEstH}, {0, kEstT}, {0, kEstB}, {0, 4}});
        W.set_estimates({{0, kEstH}, {0, 4 * kEstH}});
        du.set_estimates({{0, 4 * kEstH}, {0, kEstT}, {0, kEstB}});
        dW.set_estimates({{0, kEstH}, {0, 4 * kEstH}});
        dh0.set_estimates({{0, kEstH}, {0, kEstB}});
        dc0.set_estimates({{0, kEstH}, {0, kEstB}});
    }
};

}  // namespace
}  // namespace statemix::gen

HALIDE_REGISTER_GENERATOR(statemix::gen::LstmForward<false>, lstm_forward)
HALIDE_REGISTER_GENERATOR(statemix::gen::LstmForward<true>, lstm_forward_train)
HALIDE_REGISTER_GENERATOR(statemix::gen::LstmStep<false>, lstm_step)
HALIDE_REGISTER_GENERATOR(statemix::gen::LstmStep<true>, lstm_step_train)
HALIDE_REGISTER_GENERATOR(statemix::gen::LstmBackStep, lstm_bstep)
HALIDE_REGISTER_GENERATOR(statemix::gen::LstmBackward, lstm_backward)
