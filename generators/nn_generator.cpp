// The training runtime's pointwise, normalization, loss and optimizer ops (a layer = a GEMM done
// elsewhere + these): LayerNorm, SwiGLU's gate, GELU (tanh), add / scale / Σx², token embedding,
// cross-entropy, AdamW and H-LRU's lag stack. Algorithms only; the schedules are in
// schedules/cpu_nn_schedules.h and schedules/cuda_nn_schedules.h, the named stages in
// nn_pipelines.h, the float64 references in tests/test_nn_ops.cpp and the entry points in
// runtime/nn_ops.h.
//
// Halide dims are the row-major shapes reversed: x [R,D] -> (d, r), logits [R,V] -> (c, r),
// table [V,D] -> (d, v), s [B,T,N] -> (n, t, b). Class and token ids arrive as float32.
#include "Halide.h"
#include "fast_math.h"
#include "nn_pipelines.h"
#include "../schedules/cpu_nn_schedules.h"
#include "../schedules/cuda_nn_schedules.h"

#include <limits>

using namespace Halide;

namespace statemix::gen {
namespace {

template <typename P> void schedule(P &p, const NnKnobs &kn) {
    if (kn.gpu) sched::cuda::schedule(p, kn);
    else sched::cpu::schedule(p, kn);
}

// Generator-time estimates: 32K rows (the training step's tokens) of D = 128, V = 16 classes.
constexpr int kEstR = 32768, kEstD = 128, kEstV = 16, kEstN = 1 << 22;

// ---------------------------------------------------------------------------------------------
// LayerNorm: y = (x - mean)·rstd·γ + β over the last dim, rstd = 1/sqrt(var + eps), var biased.

class LayerNormForwardGen : public Generator<LayerNormForwardGen> {
public:
    STATEMIX_NN_KNOBS
    Input<Buffer<float, 2>> x{"x"};
    Input<Buffer<float, 1>> gamma{"gamma"};
    Input<Buffer<float, 1>> beta{"beta"};
    Input<float> eps{"eps"};
    Output<Buffer<float, 2>> y{"y"};
    Output<Buffer<float, 1>> mean{"mean"};
    Output<Buffer<float, 1>> rstd{"rstd"};

    void generate() {
        LayerNormForward P;
        Var d = P.d, r = P.r;
        Expr D = x.dim(0).extent();
        RDom rd(0, D, "rd");
        P.sum = Func("ln_sum");
        P.sum(r) = 0.0f;
        P.sum(r) += x(rd, r);
        P.mean = Func("ln_mean");
        P.mean(r) = P.sum(r) / cast<float>(D);
        P.sq = Func("ln_sq");
        P.sq(r) = 0.0f;
        Expr dev = x(rd, r) - P.mean(r);
        P.sq(r) += dev * dev;
        P.stats = Func("ln_stats");
        P.stats(r) = Tuple(P.mean(r), 1.0f / sqrt(P.sq(r) / cast<float>(D) + eps));
        y(d, r) = (x(d, r) - P.stats(r)[0]) * P.stats(r)[1] * gamma(d) + beta(d);
        mean(r) = P.stats(r)[0];
        rstd(r) = P.stats(r)[1];
        P.y = y;
        P.mean_out = mean;
        P.rstd_out = rstd;
        schedule(P, knobs());

        x.set_estimates({{0, kEstD}, {0, kEstR}});
        gamma.set_estimates({{0, kEstD}});
        beta.set_estimates({{0, kEstD}});
        eps.set_estimate(1e-5f);
        y.set_estimates({{0, kEstD}, {0, kEstR}});
        mean.set_estimates({{0, kEstR}});
        rstd.set_estimates({{0, kEstR}});
    }
};

// Backward (x̂ = (x - mean)·rstd, g = dy·γ):
//   dx = rstd·(g - (Σ_d g + x̂·Σ_d g·x̂) / D)   [+ the dx already there, Accumulate]
//   dγ = Σ_r dy·x̂,  dβ = Σ_r dy   (fixed chunks of `rows` rows, then the chunks in order)
// Accumulate reads dx_in (the runtime passes the dx buffer itself), so the pre-norm residual
// block adds the branch gradient into the residual stream's without another pass.
template <bool Accumulate>
class LayerNormBackwardGen : public Generator<LayerNormBackwardGen<Accumulate>> {
public:
    using Base = Generator<LayerNormBackwardGen<Accumulate>>;
    template <typename T> using Input = typename Base::template Input<T>;
    template <typename T> using Output = typename Base::template Output<T>;
    template <typename T> using GeneratorParam = typename Base::template GeneratorParam<T>;
    using Base::get_target;

    STATEMIX_NN_KNOBS
    Input<Buffer<float, 2>> dy{"dy"};
    Input<Buffer<float, 2>> x{"x"};
    Input<Buffer<float, 1>> gamma{"gamma"};
    Input<Buffer<float, 1>> mean{"mean"};
    Input<Buffer<float, 1>> rstd{"rstd"};
    Input<Buffer<float, 2>> *dx_in = nullptr;
    Output<Buffer<float, 2>> dx{"dx"};
    Output<Buffer<float, 1>> dgamma{"dgamma"};
    Output<Buffer<float, 1>> dbeta{"dbeta"};

    void configure() {
        if (Accumulate) dx_in = this->template add_input<Buffer<float, 2>>("dx_in");
    }

    void generate() {
        const NnKnobs kn = knobs();
        _halide_user_assert(kn.rows > 0) << "layernorm backward: rows (the dgamma partition) must be > 0\n";
        LayerNormBackward P;
        Var d = P.d, r = P.r;
        Expr D = x.dim(0).extent(), R = x.dim(1).extent();
        Func xhat("xhat"), g("g");
        xhat(d, r) = (x(d, r) - mean(r)) * rstd(r);
        g(d, r) = dy(d, r) * gamma(d);

        RDom rd(0, D, "rd");
        P.sums = Func("ln_bwd_sums");
        P.sums(r) = Tuple(0.0f, 0.0f);
        P.sums(r) = Tuple(P.sums(r)[0] + g(rd, r) * xhat(rd, r), P.sums(r)[1] + g(rd, r));
        Expr val = rstd(r) * (g(d, r) - (P.sums(r)[1] + xhat(d, r) * P.sums(r)[0]) / cast<float>(D));
        if (Accumulate) dx(d, r) = (*dx_in)(d, r) + val;
        else dx(d, r) = val;

        // Partials over chunk r (the Var indexes chunks here).
        // Rows past R are skipped (where) and clamped (bounds inference does not see the where).
        RDom rc(0, kn.rows, "rc");
        rc.where(r * kn.rows + rc < R);
        Expr row = min(r * kn.rows + rc, R - 1);
        P.part = Func("ln_bwd_part");
        P.part(d, r) = Tuple(0.0f, 0.0f);
        P.part(d, r) = Tuple(P.part(d, r)[0] + dy(d, row) * xhat(d, row), P.part(d, r)[1] + dy(d, row));
        RDom ru(0, (R + kn.rows - 1) / kn.rows, "ru");
        P.colsum = Func("ln_bwd_colsum");
        P.colsum(d) = Tuple(0.0f, 0.0f);
        P.colsum(d) = Tuple(P.colsum(d)[0] + P.part(d, ru)[0], P.colsum(d)[1] + P.part(d, ru)[1]);
        dgamma(d) = P.colsum(d)[0];
        dbeta(d) = P.colsum(d)[1];
        P.dx = dx;
        P.dgamma = dgamma;
        P.dbeta = dbeta;
        schedule(P, kn);

        for (auto *b : {&dy, &x}) b->set_estimates({{0, kEstD}, {0, kEstR}});
        if (dx_in) dx_in->set_estimates({{0, kEstD}, {0, kEstR}});
        gamma.set_estimates({{0, kEstD}});
        mean.set_estimates({{0, kEstR}});
        rstd.set_estimates({{0, kEstR}});
        dx.set_estimates({{0, kEstD}, {0, kEstR}});
        dgamma.set_estimates({{0, kEstD}});
        dbeta.set_estimates({{0, kEstD}});
    }
};

// ---------------------------------------------------------------------------------------------
// SwiGLU's pointwise part. ab [R,2F] is passed as [R,2,F] -> (f, half, r): a = half 0, b = half 1.
//   h = silu(a)·b,  silu(a) = a·σ(a)
//   da = dh·b·σ(a)·(1 + a·(1 - σ(a))),  db = dh·silu(a)

Expr sigmoid(Expr a) { return 1.0f / (1.0f + exp(-a)); }

class SwiGluForwardGen : public Generator<SwiGluForwardGen> {
public:
    STATEMIX_NN_KNOBS
    Input<Buffer<float, 3>> ab{"ab"};
    Output<Buffer<float, 2>> h{"h"};

    void generate() {
        RowPointwise P;
        Var f = P.c, r = P.r;
        ab.dim(1).set_bounds(0, 2);
        Expr a = ab(f, 0, r), b = ab(f, 1, r);
        h(f, r) = a * sigmoid(a) * b;
        P.out = h;
        schedule(P, knobs());
        ab.set_estimates({{0, 3 * kEstD}, {0, 2}, {0, kEstR}});
        h.set_estimates({{0, 3 * kEstD}, {0, kEstR}});
    }
};

class SwiGluBackwardGen : public Generator<SwiGluBackwardGen> {
public:
    STATEMIX_NN_KNOBS
    Input<Buffer<float, 3>> ab{"ab"};
    Input<Buffer<float, 2>> dh{"dh"};
    Output<Buffer<float, 3>> dab{"dab"};

    void generate() {
        SwiGluBackward P;
        Var f = P.f, half = P.half, r = P.r;
        ab.dim(1).set_bounds(0, 2);
        dab.dim(1).set_bounds(0, 2);
        Expr a = ab(f, 0, r), b = ab(f, 1, r);
        P.sig = Func("swiglu_sig");
        P.sig(f, r) = sigmoid(a);
        Expr s = P.sig(f, r);
        dab(f, half, r) = select(half == 0, dh(f, r) * b * s * (1.0f + a * (1.0f - s)), dh(f, r) * a * s);
        P.dab = dab;
        schedule(P, knobs());
        ab.set_estimates({{0, 3 * kEstD}, {0, 2}, {0, kEstR}});
        dh.set_estimates({{0, 3 * kEstD}, {0, kEstR}});
        dab.set_estimates({{0, 3 * kEstD}, {0, 2}, {0, kEstR}});
    }
};

// ---------------------------------------------------------------------------------------------
// GELU, tanh approximation (PyTorch's approximate='tanh'), on a flat view of any shape:
//   y = 0.5·x·(1 + tanh(u)),  u = √(2/π)·(x + 0.044715·x³)
//   dy/dx = 0.5·(1 + tanh u) + 0.5·x·(1 - tanh² u)·√(2/π)·(1 + 3·0.044715·x²)

constexpr float kGeluBeta = 0.7978845608028654f;  // √(2/π)
constexpr float kGeluKappa = 0.044715f;

class GeluForwardGen : public Generator<GeluForwardGen> {
public:
    STATEMIX_NN_KNOBS
    Input<Buffer<float, 1>> x{"x"};
    Output<Buffer<float, 1>> y{"y"};

    void generate() {
        Pointwise P;
        Var i = P.i;
        Expr v = x(i);
        y(i) = 0.5f * v * (1.0f + tanh_f32(kGeluBeta * (v + kGeluKappa * v * v * v)));
        P.out = y;
        schedule(P, knobs());
        x.set_estimates({{0, kEstN}});
        y.set_estimates({{0, kEstN}});
    }
};

class GeluBackwardGen : public Generator<GeluBackwardGen> {
public:
    STATEMIX_NN_KNOBS
    Input<Buffer<float, 1>> x{"x"};
    Input<Buffer<float, 1>> dy{"dy"};
    Output<Buffer<float, 1>> dx{"dx"};

    void generate() {
        Pointwise P;
        Var i = P.i;
        Expr v = x(i), v2 = v * v;
        Expr t = tanh_f32(kGeluBeta * (v + kGeluKappa * v2 * v));
        dx(i) = dy(i) * (0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * (kGeluBeta * (1.0f + 3.0f * kGeluKappa * v2)));
        P.out = dx;
        schedule(P, knobs());
        x.set_estimates({{0, kEstN}});
        dy.set_estimates({{0, kEstN}});
        dx.set_estimates({{0, kEstN}});
    }
};

// ---------------------------------------------------------------------------------------------
// Flat tensor ops: y = a + b (y may be a), y = y_in·s (the runtime passes y as y_in), and the
// partial sums of Σx² in float64 for the global gradient norm.

class AddGen : public Generator<AddGen> {
public:
    STATEMIX_NN_KNOBS
    Input<Buffer<float, 1>> a{"a"};
    Input<Buffer<float, 1>> b{"b"};
    Output<Buffer<float, 1>> y{"y"};

    void generate() {
        Pointwise P;
        y(P.i) = a(P.i) + b(P.i);
        P.out = y;
        schedule(P, knobs());
        a.set_estimates({{0, kEstN}});
        b.set_estimates({{0, kEstN}});
        y.set_estimates({{0, kEstN}});
    }
};

class ScaleGen : public Generator<ScaleGen> {
public:
    STATEMIX_NN_KNOBS
    Input<Buffer<float, 1>> y_in{"y_in"};
    Input<float> s{"s"};
    Output<Buffer<float, 1>> y{"y"};

    void generate() {
        Pointwise P;
        y(P.i) = y_in(P.i) * s;
        P.out = y;
        schedule(P, knobs());
        y_in.set_estimates({{0, kEstN}});
        s.set_estimate(0.5f);
        y.set_estimates({{0, kEstN}});
    }
};

// part [U,L] (l, u): lane l of chunk u sums x(u·chunk + j·L + l)² over j < chunk / L (the runtime
// picks L = the part buffer's width and chunk, a multiple of L, per device, and adds the partials
// in order in float64). Elements past the end read as 0.
class SumSquaresGen : public Generator<SumSquaresGen> {
public:
    STATEMIX_NN_KNOBS
    Input<Buffer<float, 1>> x{"x"};
    Input<int> chunk{"chunk"};
    Output<Buffer<double, 2>> part{"part"};

    void generate() {
        SumSquares P;
        Var l = P.l, u = P.u;
        Expr L = part.dim(0).extent();
        Func xz = BoundaryConditions::constant_exterior(x, 0.0f);
        RDom rj(0, chunk / L, "rj");
        Expr v = cast<double>(xz(u * chunk + rj * L + l));
        P.acc = Func("sumsq_acc");
        P.acc(l, u) = cast<double>(0);
        P.acc(l, u) += v * v;
        part(l, u) = P.acc(l, u);
        P.part = part;
        schedule(P, knobs());
        x.set_estimates({{0, kEstN}});
        chunk.set_estimate(16384);
        part.set_estimates({{0, 16}, {0, kEstN / 16384}});
    }
};

// ---------------------------------------------------------------------------------------------
// AdamW, in PyTorch's order (torch.optim.AdamW, single-tensor path), on a flat group:
//   p *= 1 - lr·wd;  m.lerp_(g, 1 - β1);  v = v·β2 + (1 - β2)·g·g;
//   p -= (lr / bc1) · m / (sqrt(v) / sqrt(bc2) + eps)
// with the step's scalars (decay = 1 - lr·wd, step_size = lr / bc1, bc2_sqrt) computed on the
// host in float64. One loop writes all three (a Tuple), so p, m, v may be updated in place.

class AdamWGen : public Generator<AdamWGen> {
public:
    STATEMIX_NN_KNOBS
    Input<Buffer<float, 1>> p_in{"p_in"};
    Input<Buffer<float, 1>> g{"g"};
    Input<Buffer<float, 1>> m_in{"m_in"};
    Input<Buffer<float, 1>> v_in{"v_in"};
    Input<float> decay{"decay"};
    Input<float> beta1_weight{"beta1_weight"};  // 1 - β1, the lerp weight
    Input<float> beta2{"beta2"};
    Input<float> step_size{"step_size"};
    Input<float> bc2_sqrt{"bc2_sqrt"};
    Input<float> eps{"eps"};
    Output<Func> pmv{"pmv", {Float(32), Float(32), Float(32)}, 1};

    void generate() {
        Pointwise P;
        Var i = P.i;
        Expr gi = g(i), mi = m_in(i);
        // torch.lerp: start + w·(end - start) for w < 0.5, else end - (end - start)·(1 - w).
        Expr m_new = select(beta1_weight < 0.5f, mi + beta1_weight * (gi - mi), gi - (gi - mi) * (1.0f - beta1_weight));
        Expr v_new = v_in(i) * beta2 + (1.0f - beta2) * gi * gi;
        Expr denom = sqrt(v_new) / bc2_sqrt + eps;
        Expr p_new = p_in(i) * decay + (-step_size) * m_new / denom;
        pmv(i) = Tuple(p_new, m_new, v_new);
        P.out = pmv;
        schedule(P, knobs());
        for (auto *b : {&p_in, &g, &m_in, &v_in}) b->set_estimates({{0, kEstN}});
        decay.set_estimate(1.0f);
        beta1_weight.set_estimate(0.1f);
        beta2.set_estimate(0.999f);
        step_size.set_estimate(5e-4f);
        bc2_sqrt.set_estimate(1.0f);
        eps.set_estimate(1e-8f);
        pmv.set_estimates({{0, kEstN}});
    }
};

// ---------------------------------------------------------------------------------------------
// Token embedding. y(d, r) = table(d, id_r) [+ pos(d, r mod T)]; ids are clamped to [0, V) (the
// runtime rejects bad ids on the CPU before calling; on CUDA the clamp is what keeps a bad id from
// reading outside the table).

Expr clamped_id(Expr id, Expr V) { return clamp(cast<int>(id), 0, V - 1); }

template <bool Pos>
class EmbeddingForwardGen : public Generator<EmbeddingForwardGen<Pos>> {
public:
    using Base = Generator<EmbeddingForwardGen<Pos>>;
    template <typename T> using Input = typename Base::template Input<T>;
    template <typename T> using Output = typename Base::template Output<T>;
    template <typename T> using GeneratorParam = typename Base::template GeneratorParam<T>;
    using Base::get_target;

    STATEMIX_NN_KNOBS
    Input<Buffer<float, 1>> ids{"ids"};
    Input<Buffer<float, 2>> table{"table"};
    Input<Buffer<float, 2>> *pos = nullptr;
    Input<int> *T = nullptr;
    Output<Buffer<float, 2>> y{"y"};

    void configure() {
        if (!Pos) return;
        pos = this->template add_input<Buffer<float, 2>>("pos");
        T = this->template add_input<int>("T");
    }

    void generate() {
        RowPointwise P;
        Var d = P.c, r = P.r;
        Expr val = table(d, clamped_id(ids(r), table.dim(1).extent()));
        if (Pos) val = val + (*pos)(d, r % Expr(*T));
        y(d, r) = val;
        P.out = y;
        schedule(P, knobs());
        ids.set_estimates({{0, kEstR}});
        table.set_estimates({{0, kEstD}, {0, kEstV}});
        if (Pos) {
            pos->set_estimates({{0, kEstD}, {0, 256}});
            T->set_estimate(256);
        }
        y.set_estimates({{0, kEstD}, {0, kEstR}});
    }
};

// Backward: dtable(d, v) = Σ_{r: id_r = v} dy(d, r), as a scatter-add per chunk of `rows` rows
// (rows = 0: one chunk of all rows), each chunk's rows in order, then the chunks in order.
// dpos(d, p) = Σ_b dy(d, b·T + p) for p < T, else 0.
template <bool Pos>
class EmbeddingBackwardGen : public Generator<EmbeddingBackwardGen<Pos>> {
public:
    using Base = Generator<EmbeddingBackwardGen<Pos>>;
    template <typename T> using Input = typename Base::template Input<T>;
    template <typename T> using Output = typename Base::template Output<T>;
    template <typename T> using GeneratorParam = typename Base::template GeneratorParam<T>;
    using Base::get_target;

    STATEMIX_NN_KNOBS
    Input<Buffer<float, 1>> ids{"ids"};
    Input<Buffer<float, 2>> dy{"dy"};
    Input<int> *T = nullptr;
    Output<Buffer<float, 2>> dtable{"dtable"};
    Output<Buffer<float, 2>> *dpos = nullptr;

    void configure() {
        if (!Pos) return;
        T = this->template add_input<int>("T");
        dpos = this->template add_output<Buffer<float, 2>>("dpos");
    }

    void generate() {
        const NnKnobs kn = knobs();
        EmbeddingBackward P;
        Var d = P.d, v = P.v, u = P.u, p = P.p;
        Expr R = dy.dim(1).extent(), V = dtable.dim(1).extent();
        Expr chunk = kn.rows > 0 ? Expr(kn.rows) : max(R, 1);
        RDom rc(0, chunk, "rc");
        rc.where(u * chunk + rc < R);
        Expr row = min(u * chunk + rc, R - 1);  // bounds inference does not see the where
        P.part = Func("emb_part");
        P.part(d, v, u) = 0.0f;
        P.part(d, clamped_id(ids(row), V), u) += dy(d, row);
        RDom ru(0, (R + chunk - 1) / chunk, "ru");
        dtable(d, v) = 0.0f;
        dtable(d, v) += P.part(d, v, ru);
        P.dtable = dtable;
        if (Pos) {
            Expr Tn = *T;
            RDom rb(0, R / Tn, "rb");
            rb.where(p < Tn);
            P.pos_sum = Func("emb_pos_sum");
            P.pos_sum(d, p) = 0.0f;
            P.pos_sum(d, p) += dy(d, rb * Tn + min(p, Tn - 1));
            (*dpos)(d, p) = P.pos_sum(d, p);
            P.dpos = *dpos;
        }
        schedule(P, kn);
        ids.set_estimates({{0, kEstR}});
        dy.set_estimates({{0, kEstD}, {0, kEstR}});
        dtable.set_estimates({{0, kEstD}, {0, kEstV}});
        if (Pos) {
            T->set_estimate(256);
            dpos->set_estimates({{0, kEstD}, {0, 256}});
        }
    }
};

// ---------------------------------------------------------------------------------------------
// Cross-entropy over logits (c, r), fused forward + backward, targets < 0 ignored:
//   loss = log Σ_c exp(l_c - max) - (l_t - max),  pred = first argmax,
//   dlogits = grad_scale·(softmax - onehot(t)),  0 for ignored rows.
// Targets >= V count as ignored too (the runtime rejects them on the CPU before calling).

class CrossEntropyGen : public Generator<CrossEntropyGen> {
public:
    STATEMIX_NN_KNOBS
    Input<Buffer<float, 2>> logits{"logits"};
    Input<Buffer<float, 1>> targets{"targets"};
    Input<float> grad_scale{"grad_scale"};
    Output<Buffer<float, 2>> dlogits{"dlogits"};
    Output<Buffer<float, 1>> loss{"loss"};
    Output<Buffer<float, 1>> pred{"pred"};

    void generate() {
        CrossEntropy P;
        Var c = P.c, r = P.r;
        Expr V = logits.dim(0).extent();
        RDom rc(0, V, "rc");
        P.mx = Func("ce_max");
        P.mx(r) = -std::numeric_limits<float>::infinity();
        P.mx(r) = max(P.mx(r), logits(rc, r));
        P.e = Func("ce_exp");
        P.e(c, r) = exp(logits(c, r) - P.mx(r));
        P.se = Func("ce_sumexp");
        P.se(r) = 0.0f;
        P.se(r) += P.e(rc, r);
        P.idx = Func("ce_argmax");
        P.idx(r) = V;
        P.idx(r) = min(P.idx(r), select(logits(rc, r) == P.mx(r), rc, V));
        P.stats = Func("ce_stats");
        P.stats(r) = Tuple(P.mx(r), P.se(r), P.idx(r));
        Expr mx = P.stats(r)[0], se = P.stats(r)[1];
        Expr tgt = cast<int>(targets(r));
        Expr valid = tgt >= 0 && tgt < V;
        Expr tc = clamp(tgt, 0, V - 1);
        dlogits(c, r) = select(valid, P.e(c, r) * (grad_scale / se) - select(c == tc, grad_scale, 0.0f), 0.0f);
        loss(r) = select(valid, log(se) - (logits(tc, r) - mx), 0.0f);
        pred(r) = cast<float>(P.stats(r)[2]);
        P.dlogits = dlogits;
        P.loss = loss;
        P.pred = pred;
        schedule(P, knobs());
        logits.set_estimates({{0, kEstV}, {0, kEstR}});
        targets.set_estimates({{0, kEstR}});
        grad_scale.set_estimate(1.0f / kEstR);
        dlogits.set_estimates({{0, kEstV}, {0, kEstR}});
        loss.set_estimates({{0, kEstR}});
        pred.set_estimates({{0, kEstR}});
    }
};

// ---------------------------------------------------------------------------------------------
// H-LRU's lag stack: s [B,T,N] -> lags [B,T,m,N] (the runtime's view of [B,T,m·N]),
//   lags(n, k, t, b) = s(n, t-k, b) for t >= k, else h0(k-t-1, n, b) (h0 [B,N,m]) or 0.
// Without h0 the runtime passes any buffer as h0 with has_h0 = 0 (its reads are clamped to its
// own extents). Backward: ds(n, t, b) = Σ_{k < m, t+k < T} dlags(n, k, t+k, b), k in order.

class LagStackForwardGen : public Generator<LagStackForwardGen> {
public:
    STATEMIX_NN_KNOBS
    Input<Buffer<float, 3>> s{"s"};
    Input<Buffer<float, 3>> h0{"h0"};
    Input<int> has_h0{"has_h0"};
    Output<Buffer<float, 4>> lags{"lags"};

    void generate() {
        LagStackForward P;
        Var n = P.n, k = P.k, t = P.t, b = P.b;
        Expr T = s.dim(1).extent(), M = lags.dim(1).extent();
        lags(n, k, t, b) = s(n, max(t - k, 0), b);
        // The corner t < k (at most m² rows per batch row) from the initial lags.
        RDom rz(0, M, 0, min(M, T), "rz");
        rz.where(rz.y < rz.x);
        auto at = [&](Expr e, int dim) { return clamp(e, 0, h0.dim(dim).extent() - 1); };
        Expr hv = h0(at(rz.x - rz.y - 1, 0), at(n, 1), at(b, 2));
        lags(n, rz.x, rz.y, b) = select(has_h0 != 0, hv, 0.0f);
        P.lags = lags;
        schedule(P, knobs());
        s.set_estimates({{0, kEstD}, {0, 256}, {0, 128}});
        h0.set_estimates({{0, 4}, {0, kEstD}, {0, 128}});
        has_h0.set_estimate(0);
        lags.set_estimates({{0, kEstD}, {0, 4}, {0, 256}, {0, 128}});
    }
};

class LagStackBackwardGen : public Generator<LagStackBackwardGen> {
public:
    STATEMIX_NN_KNOBS
    Input<Buffer<float, 4>> dlags{"dlags"};
    Output<Buffer<float, 3>> ds{"ds"};

    void generate() {
        LagStackBackward P;
        Var n = P.n, t = P.t, b = P.b;
        Expr M = dlags.dim(1).extent(), T = dlags.dim(2).extent();
        RDom rk(0, M, "rk");
        P.acc = Func("lag_acc");
        P.acc(n, t, b) = 0.0f;
        P.acc(n, t, b) += select(t + rk < T, dlags(n, rk, min(t + rk, T - 1), b), 0.0f);
        ds(n, t, b) = P.acc(n, t, b);
        P.ds = ds;
        schedule(P, knobs());
        dlags.set_estimates({{0, kEstD}, {0, 4}, {0, 256}, {0, 128}});
        ds.set_estimates({{0, kEstD}, {0, 256}, {0, 128}});
    }
};

}  // namespace
}  // namespace statemix::gen

HALIDE_REGISTER_GENERATOR(statemix::gen::LayerNormForwardGen, layernorm_forward)
HALIDE_REGISTER_GENERATOR(statemix::gen::LayerNormBackwardGen<false>, layernorm_backward)
HALIDE_REGISTER_GENERATOR(statemix::gen::LayerNormBackwardGen<true>, layernorm_backward_acc)
HALIDE_REGISTER_GENERATOR(statemix::gen::SwiGluForwardGen, swiglu_forward)
HALIDE_REGISTER_GENERATOR(statemix::gen::SwiGluBackwardGen, swiglu_backward)
HALIDE_REGISTER_GENERATOR(statemix::gen::GeluForwardGen, gelu_forward)
HALIDE_REGISTER_GENERATOR(statemix::gen::GeluBackwardGen, gelu_backward)
HALIDE_REGISTER_GENERATOR(statemix::gen::AddGen, tensor_add)
HALIDE_REGISTER_GENERATOR(statemix::gen::ScaleGen, tensor_scale)
HALIDE_REGISTER_GENERATOR(statemix::gen::SumSquaresGen, tensor_sum_squares)
HALIDE_REGISTER_GENERATOR(statemix::gen::AdamWGen, adamw_update)
HALIDE_REGISTER_GENERATOR(statemix::gen::EmbeddingForwardGen<false>, embedding_forward)
HALIDE_REGISTER_GENERATOR(statemix::gen::EmbeddingForwardGen<true>, embedding_forward_pos)
HALIDE_REGISTER_GENERATOR(statemix::gen::EmbeddingBackwardGen<false>, embedding_backward)
HALIDE_REGISTER_GENERATOR(statemix::gen::EmbeddingBackwardGen<true>, embedding_backward_pos)
HALIDE_REGISTER_GENERATOR(statemix::gen::CrossEntropyGen, cross_entropy_fused)
HALIDE_REGISTER_GENERATOR(statemix::gen::LagStackForwardGen, lag_stack_forward)
HALIDE_REGISTER_GENERATOR(statemix::gen::LagStackBackwardGen, lag_stack_backward)
