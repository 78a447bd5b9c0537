#include "model.h"

#include "runtime/error.h"
#include "runtime/nn_ops.h"

#include <chrono>
#include <cmath>
#include <cstring>

namespace statemix::models {

using tasks::Readout;
using Clock = std::chrono::steady_clock;

void BatchStats::add(const BatchStats &o) {
    loss_sum += o.loss_sum;
    count += o.count;
    correct += o.correct;
    if (class_total.size() < o.class_total.size()) {
        class_total.resize(o.class_total.size(), 0);
        class_correct.resize(o.class_total.size(), 0);
    }
    for (size_t c = 0; c < o.class_total.size(); c++) {
        class_total[c] += o.class_total[c];
        class_correct[c] += o.class_correct[c];
    }
}

double BatchStats::macro_accuracy() const {
    double sum = 0.0;
    int n = 0;
    for (size_t c = 0; c < class_total.size(); c++) {
        if (class_total[c] == 0) continue;
        sum += (double)class_correct[c] / (double)class_total[c];
        n++;
    }
    return n ? sum / n : 0.0;
}

struct Model::Block {
    int ln_g = -1, ln_b = -1;
    std::unique_ptr<BranchLayer> layer;
    std::string name;
    int a_xn = -1, a_mean = -1, a_rstd = -1;
    Tensor xn, mean, rstd;
};

namespace {

ParamSpec norm_gain(const std::string &n, int64_t D) { return ParamSpec{n, {D}, Init::ones, 0.0, false, true, {}}; }
ParamSpec norm_bias(const std::string &n, int64_t D) { return ParamSpec{n, {D}, Init::zeros, 0.0, false, true, {}}; }
ParamSpec lin_w(const std::string &n, Shape s) { return ParamSpec{n, std::move(s), Init::normal, 0.02, true, true, {}}; }
ParamSpec lin_b(const std::string &n, int64_t o) { return ParamSpec{n, {o}, Init::zeros, 0.0, false, true, {}}; }
// Embeddings: N(0, 0.02), no weight decay.
ParamSpec embedding(const std::string &n, Shape s) { return ParamSpec{n, std::move(s), Init::normal, 0.02, false, true, {}}; }

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

}  // namespace

Model::Model(const ModelConfig &cfg, const tasks::TaskInfo &task, int64_t T, int64_t T_out, int64_t F, Device device,
             uint64_t seed)
    : cfg_(cfg), task_(task), T_(T), T_out_(T_out), F_(F), D_(cfg.d_model), device_(device) {
    if (T < 1) throw Error("model: the task's sequences must have at least one step, got T = " + std::to_string(T));
    n_out_ = task.loss == tasks::LossKind::mse ? 1 : task.n_classes;
    if (n_out_ < 1) throw Error("model: task '" + task.name + "' has no output classes");
    const int64_t D = D_;
    // Inputs.
    if (task.readout == Readout::last_step) {
        if (F < 1) throw Error("model: the sequence model needs feature input (F >= 1), got F = " + std::to_string(F));
        W_in_ = ps_.add(lin_w("input.W", {D, F}));
        b_in_ = ps_.add(lin_b("input.b", D));
    } else {
        if (task.vocab_in < 1) throw Error("model: task '" + task.name + "' gives no token vocabulary");
        emb_ = ps_.add(embedding("embed.tokens", {task.vocab_in, D}));
        if (cfg.pos_emb || task.readout == Readout::autoencoder) pos_ = ps_.add(embedding("embed.positions", {T, D}));
    }
    // Blocks: [mixer, mlp] x n_layers.
    const int64_t F_mlp = cfg.mlp_width > 0 ? cfg.mlp_width : cfg.mlp == "gelu" ? 4 * D : swiglu_width(D);
    for (int l = 0; l < cfg.n_layers; l++) {
        for (int part = 0; part < 2; part++) {
            if (part == 1 && cfg.mlp == "none") continue;
            auto b = std::make_unique<Block>();
            b->name = "blocks." + std::to_string(blocks_.size());
            b->ln_g = ps_.add(norm_gain(b->name + ".norm.gamma", D));
            b->ln_b = ps_.add(norm_bias(b->name + ".norm.beta", D));
            if (part == 0) {
                b->layer = make_mixer(cfg.mixer, D, ps_, b->name + ".mixer", seed + (uint64_t)l);
            } else if (cfg.mlp == "swiglu") {
                b->layer = make_swiglu(D, F_mlp, ps_, b->name + ".mlp");
            } else {
                b->layer = make_gelu_mlp(D, F_mlp, ps_, b->name + ".mlp");
            }
            blocks_.push_back(std::move(b));
        }
    }
    // Head.
    if (task.readout == Readout::autoencoder) {
        dec_pos_ = ps_.add(embedding("decoder.positions", {T_out, D}));
        for (int i = 0; i < 3; i++) {
            const std::string p = "decoder." + std::to_string(i);
            dec_ln_g_[i] = ps_.add(norm_gain(p + ".norm.gamma", D));
            dec_ln_b_[i] = ps_.add(norm_bias(p + ".norm.beta", D));
            const int64_t out = i == 2 ? n_out_ : D;
            dec_W_[i] = ps_.add(lin_w(p + ".W", {out, D}));
            dec_b_[i] = ps_.add(lin_b(p + ".b", out));
        }
    } else {
        lnf_g_ = ps_.add(norm_gain("head.norm.gamma", D));
        lnf_b_ = ps_.add(norm_bias("head.norm.beta", D));
        W_r_ = ps_.add(lin_w("head.W", {n_out_, D}));
        b_r_ = ps_.add(lin_b("head.b", n_out_));
    }
    ps_.allocate(device, seed);
}

Model::~Model() = default;

void Model::plan(int64_t B) {
    if (B_ != 0) throw Error("Model::plan: already planned for batch " + std::to_string(B_));
    if (B < 1) throw Error("Model::plan: batch must be >= 1, got " + std::to_string(B));
    B_ = B;
    const int64_t R = B * T_, D = D_;
    const bool tokens = task_.readout != Readout::last_step;
    // Rows of the head: every position (token), the last step (sequence), every decoded position.
    const int64_t Ro = task_.readout == Readout::every_step ? R : task_.readout == Readout::last_step ? B : B * T_out_;
    a_in_ = acts_.add("inputs", tokens ? Shape{R} : Shape{R, F_});
    for (size_t i = 0; i <= blocks_.size(); i++) a_x_.push_back(acts_.add("x" + std::to_string(i), {R, D}));
    for (auto &b : blocks_) {
        b->a_xn = acts_.add(b->name + ".xn", {R, D});
        b->a_mean = acts_.add(b->name + ".mean", {R});
        b->a_rstd = acts_.add(b->name + ".rstd", {R});
    }
    a_tgt_ = acts_.add("targets", {Ro});
    if (task_.readout == Readout::every_step) {
        a_lastn_ = acts_.add("head.xn", {R, D});
        a_lmean_ = acts_.add("head.mean", {R});
        a_lrstd_ = acts_.add("head.rstd", {R});
    } else {
        a_last_ = acts_.add("last", {B, D});
        if (task_.readout == Readout::last_step) {
            a_lastn_ = acts_.add("head.xn", {B, D});
            a_lmean_ = acts_.add("head.mean", {B});
            a_lrstd_ = acts_.add("head.rstd", {B});
        } else {
            // decoder: in, then (LN out, mean, rstd, linear out, gelu out) x 2, then LN out, mean, rstd
            const char *names[12] = {"dec.in", "dec.n0", "dec.m0", "dec.r0", "dec.p0", "dec.g0",
                                     "dec.n1", "dec.m1", "dec.r1", "dec.p1", "dec.g1", "dec.n2"};
            for (int i = 0; i < 12; i++) {
                const bool row_stat = i == 2 || i == 3 || i == 7 || i == 8;
                a_dec_[i] = acts_.add(names[i], row_stat ? Shape{Ro} : Shape{Ro, D});
            }
            a_lmean_ = acts_.add("dec.m2", {Ro});
            a_lrstd_ = acts_.add("dec.r2", {Ro});
        }
    }
    a_logits_ = acts_.add("logits", {Ro, n_out_});
    a_lossr_ = acts_.add("loss_rows", {Ro});
    a_pred_ = acts_.add("pred", {Ro});
    a_dlogits_ = acts_.add("dlogits", {Ro, n_out_});
    // Backward buffers the model itself keeps live across the layers' backward (so not in the
    // layers' shared scratch): the residual stream's gradient and the branch input's.
    s_dres_ = acts_.add("d_residual", {R, D});
    s_dxn_ = acts_.add("d_branch_in", {R, D});
    const int64_t Rd = std::max(Ro, B);
    s_d1_ = acts_.add("d_head1", {Rd, D});
    s_d2_ = acts_.add("d_head2", {Rd, D});
    Stores st{&ps_, &acts_, &scratch_};
    for (auto &b : blocks_) b->layer->plan(st, B, T_);
    acts_.allocate(device_);
    scratch_.allocate(device_);
    for (auto &b : blocks_) {
        b->layer->bind(st);
        b->xn = acts_[b->a_xn];
        b->mean = acts_[b->a_mean];
        b->rstd = acts_[b->a_rstd];
    }
    in_ = acts_[a_in_];
    for (int i : a_x_) x_.push_back(acts_[i]);
    tgt_ = acts_[a_tgt_];
    if (a_last_ >= 0) last_ = acts_[a_last_];
    if (a_lastn_ >= 0) lastn_ = acts_[a_lastn_];
    lmean_ = acts_[a_lmean_];
    lrstd_ = acts_[a_lrstd_];
    if (task_.readout == Readout::autoencoder) {
        for (int i = 0; i < 12; i++) dec_[i] = acts_[a_dec_[i]];
    }
    logits_ = acts_[a_logits_];
    lossr_ = acts_[a_lossr_];
    pred_ = acts_[a_pred_];
    dlogits_ = acts_[a_dlogits_];
    dres_ = acts_[s_dres_];
    dxn_ = acts_[s_dxn_];
    d1_ = acts_[s_d1_].view({Ro, D});
    d2_ = acts_[s_d2_].view({Ro, D});
    if (task_.readout == Readout::last_step) {
        d1_ = acts_[s_d1_].view({B, D});
        d2_ = acts_[s_d2_].view({B, D});
    }
    host_loss_.resize((size_t)Ro);
    host_pred_.resize((size_t)Ro);
    host_out_.resize((size_t)(Ro * n_out_));
    host_tmp_.resize((size_t)std::max(R * D, Ro * n_out_));
    host_in_pad_.resize((size_t)in_.numel());
    host_tgt_pad_.resize((size_t)Ro);
}

void Model::set_profile(bool on) {
    profiling_ = profile_requested_ = on;
    set_dense_profiling(on);
    for (auto &b : blocks_) {
        b->layer->profile = on;
        b->layer->scan_seconds = 0;
    }
    reset_dense_seconds();
    prof_ = Profile{};
    for (auto &b : blocks_) {
        prof_.names.push_back(b->name + " " + b->layer->describe());
        prof_.forward.push_back(0);
        prof_.backward.push_back(0);
        prof_.scan.push_back(0);
    }
}

void Model::pause_profile(bool paused) {
    if (!profile_requested_) return;
    profiling_ = !paused;
    set_dense_profiling(!paused);
    for (auto &b : blocks_) b->layer->profile = !paused;
}

void Model::finish_profile() {
    for (size_t i = 0; i < blocks_.size(); i++) prof_.scan[i] = blocks_[i]->layer->scan_seconds;
    prof_.dense_total = dense_seconds();
}

void Model::forward_blocks() {
    for (size_t l = 0; l < blocks_.size(); l++) {
        Block &b = *blocks_[l];
        auto t0 = Clock::now();
        layernorm_forward(x_[l], ps_.param(b.ln_g), ps_.param(b.ln_b), (float)cfg_.ln_eps, b.xn, b.mean, b.rstd);
        x_[l + 1].copy_from(x_[l]);
        b.layer->forward(b.xn, x_[l + 1], /*accumulate=*/true);
        if (profiling_) {
            x_[l + 1].sync();
            prof_.forward[l] += seconds_since(t0);
        }
    }
}

void Model::backward_blocks() {
    // dres = ∂L/∂x_{l+1} on entry, ∂L/∂x_l on exit: x_{l+1} = x_l + f(LN(x_l)).
    for (size_t l = blocks_.size(); l-- > 0;) {
        Block &b = *blocks_[l];
        auto t0 = Clock::now();
        b.layer->backward(b.xn, dres_, dxn_);
        layernorm_backward(dxn_, x_[l], ps_.param(b.ln_g), b.mean, b.rstd, dres_, ps_.grad(b.ln_g), ps_.grad(b.ln_b),
                           /*accumulate=*/true);
        if (profiling_) {
            dres_.sync();
            prof_.backward[l] += seconds_since(t0);
        }
    }
}

namespace {

// Row copies between [B·T, D] and [B, D] at step t = T-1, through host memory on CUDA (small:
// B rows).
void gather_last(const Tensor &x, int64_t B, int64_t T, int64_t D, Tensor &out, std::vector<float> &tmp) {
    const float *src;
    if (x.device() == Device::cpu) {
        src = x.data();
    } else {
        x.copy_to_host(tmp.data());
        src = tmp.data();
    }
    std::vector<float> rows;
    float *dst = out.device() == Device::cpu ? out.data() : (rows.resize((size_t)(B * D)), rows.data());
    for (int64_t b = 0; b < B; b++) std::memcpy(dst + b * D, src + ((b * T + T - 1) * D), (size_t)D * sizeof(float));
    if (out.device() != Device::cpu) out.copy_from_host(rows.data());
}

// dx [B·T, D] = 0 but for the rows at t = T-1, which get dlast [B, D].
void scatter_last(const Tensor &dlast, int64_t B, int64_t T, int64_t D, Tensor &dx, std::vector<float> &tmp) {
    std::fill(tmp.begin(), tmp.begin() + B * T * D, 0.0f);
    std::vector<float> rows((size_t)(B * D));
    dlast.copy_to_host(rows.data());
    for (int64_t b = 0; b < B; b++) std::memcpy(tmp.data() + (b * T + T - 1) * D, rows.data() + b * D, (size_t)D * sizeof(float));
    dx.copy_from_host(tmp.data());
}

}  // namespace

BatchStats Model::run_batch(const tasks::Batch &batch, bool train) {
    if (B_ == 0) throw Error("Model::run_batch: call plan(B) first");
    if (batch.B < 1 || batch.B > B_) {
        throw Error("Model::run_batch: batch of " + std::to_string(batch.B) + " sequences, planned for 1.." +
                    std::to_string(B_));
    }
    if (batch.T != T_ || batch.F != (task_.readout == Readout::last_step ? F_ : 0) || batch.T_out != T_out_) {
        throw Error("Model::run_batch: batch of shape T=" + std::to_string(batch.T) + ", F=" + std::to_string(batch.F) +
                    ", T_out=" + std::to_string(batch.T_out) + " does not match the model's T=" + std::to_string(T_) +
                    ", T_out=" + std::to_string(T_out_));
    }
    const int64_t B = B_, T = T_, D = D_, R = B * T;
    const int64_t Ro = tgt_.numel();
    const bool mse = task_.loss == tasks::LossKind::mse;
    auto t_embed = Clock::now();
    // Inputs and targets, padded to the planned batch with ignored rows.
    std::copy(batch.inputs.begin(), batch.inputs.end(), host_in_pad_.begin());
    std::fill(host_in_pad_.begin() + (int64_t)batch.inputs.size(), host_in_pad_.end(), 0.0f);
    in_.copy_from_host(host_in_pad_.data());
    std::copy(batch.targets.begin(), batch.targets.end(), host_tgt_pad_.begin());
    std::fill(host_tgt_pad_.begin() + (int64_t)batch.targets.size(), host_tgt_pad_.end(), mse ? NAN : -1.0f);
    int64_t counted = 0;
    for (int64_t r = 0; r < (int64_t)batch.targets.size(); r++) {
        const float y = host_tgt_pad_[(size_t)r];
        if (mse ? !std::isnan(y) : y >= 0) counted++;
        if (!mse && y >= (float)n_out_) {
            throw Error("targets: class " + std::to_string((int64_t)y) + " at row " + std::to_string(r) +
                        " is outside [0, " + std::to_string(n_out_) + ")");
        }
    }
    tgt_.copy_from_host(host_tgt_pad_.data());

    // ---- forward
    if (task_.readout == Readout::last_step) {
        dense_forward(in_, ps_.param(W_in_), &ps_.param(b_in_), x_[0]);
    } else {
        embedding_forward(in_, ps_.param(emb_), pos_ >= 0 ? &ps_.param(pos_) : nullptr, T, x_[0]);
    }
    if (profiling_) prof_.embed += seconds_since(t_embed);
    forward_blocks();
    auto t_head = Clock::now();
    Tensor &xL = x_.back();
    if (task_.readout == Readout::every_step) {
        layernorm_forward(xL, ps_.param(lnf_g_), ps_.param(lnf_b_), (float)cfg_.ln_eps, lastn_, lmean_, lrstd_);
        dense_forward(lastn_, ps_.param(W_r_), &ps_.param(b_r_), logits_);
    } else if (task_.readout == Readout::last_step) {
        gather_last(xL, B, T, D, last_, host_tmp_);
        layernorm_forward(last_, ps_.param(lnf_g_), ps_.param(lnf_b_), (float)cfg_.ln_eps, lastn_, lmean_, lrstd_);
        dense_forward(lastn_, ps_.param(W_r_), &ps_.param(b_r_), logits_);
    } else {
        // decoder input: the encoder's last position plus the decoder's position embedding
        gather_last(xL, B, T, D, last_, host_tmp_);
        std::vector<float> lastv((size_t)(B * D)), pos((size_t)(T_out_ * D));
        last_.copy_to_host(lastv.data());
        ps_.param(dec_pos_).copy_to_host(pos.data());
        for (int64_t b = 0; b < B; b++)
            for (int64_t t = 0; t < T_out_; t++)
                for (int64_t d = 0; d < D; d++)
                    host_tmp_[(size_t)((b * T_out_ + t) * D + d)] = lastv[(size_t)(b * D + d)] + pos[(size_t)(t * D + d)];
        dec_[0].copy_from_host(host_tmp_.data());
        const float eps = (float)cfg_.ln_eps;
        layernorm_forward(dec_[0], ps_.param(dec_ln_g_[0]), ps_.param(dec_ln_b_[0]), eps, dec_[1], dec_[2], dec_[3]);
        dense_forward(dec_[1], ps_.param(dec_W_[0]), &ps_.param(dec_b_[0]), dec_[4]);
        gelu_forward(dec_[4], dec_[5]);
        layernorm_forward(dec_[5], ps_.param(dec_ln_g_[1]), ps_.param(dec_ln_b_[1]), eps, dec_[6], dec_[7], dec_[8]);
        dense_forward(dec_[6], ps_.param(dec_W_[1]), &ps_.param(dec_b_[1]), dec_[9]);
        gelu_forward(dec_[9], dec_[10]);
        layernorm_forward(dec_[10], ps_.param(dec_ln_g_[2]), ps_.param(dec_ln_b_[2]), eps, dec_[11], lmean_, lrstd_);
        dense_forward(dec_[11], ps_.param(dec_W_[2]), &ps_.param(dec_b_[2]), logits_);
    }

    // ---- loss and metrics
    BatchStats st;
    st.count = counted;
    const float grad_scale = counted ? 1.0f / (float)counted : 0.0f;
    if (mse) {
        logits_.copy_to_host(host_out_.data());
        for (int64_t r = 0; r < Ro; r++) {
            const float y = host_tgt_pad_[(size_t)r];
            const float e = std::isnan(y) ? 0.0f : host_out_[(size_t)r] - y;
            st.loss_sum += (double)e * e;
            host_out_[(size_t)r] = 2.0f * e * grad_scale;  // d(mean squared error)/d(prediction)
        }
        dlogits_.copy_from_host(host_out_.data());
    } else {
        cross_entropy(logits_, tgt_, grad_scale, lossr_, pred_, dlogits_);
        lossr_.copy_to_host(host_loss_.data());
        pred_.copy_to_host(host_pred_.data());
        st.class_total.assign((size_t)n_out_, 0);
        st.class_correct.assign((size_t)n_out_, 0);
        for (int64_t r = 0; r < Ro; r++) {
            const float y = host_tgt_pad_[(size_t)r];
            if (y < 0) continue;
            st.loss_sum += host_loss_[(size_t)r];
            const bool ok = host_pred_[(size_t)r] == y;
            st.correct += ok;
            st.class_total[(size_t)y]++;
            st.class_correct[(size_t)y] += ok;
        }
    }
    if (!std::isfinite(st.loss_sum)) st.loss_sum = NAN;
    if (profiling_) prof_.head += seconds_since(t_head);
    if (!train) return st;

    // ---- backward
    t_head = Clock::now();
    if (task_.readout == Readout::every_step) {
        dense_backward(lastn_, ps_.param(W_r_), dlogits_, &dxn_, false, ps_.grad(W_r_), &ps_.grad(b_r_));
        layernorm_backward(dxn_, xL, ps_.param(lnf_g_), lmean_, lrstd_, dres_, ps_.grad(lnf_g_), ps_.grad(lnf_b_), false);
    } else if (task_.readout == Readout::last_step) {
        dense_backward(lastn_, ps_.param(W_r_), dlogits_, &d1_, false, ps_.grad(W_r_), &ps_.grad(b_r_));
        layernorm_backward(d1_, last_, ps_.param(lnf_g_), lmean_, lrstd_, d2_, ps_.grad(lnf_g_), ps_.grad(lnf_b_), false);
        scatter_last(d2_, B, T, D, dres_, host_tmp_);
    } else {
        auto lnb = [&](Tensor &dy, const Tensor &x, int i, const Tensor &mean, const Tensor &rstd, Tensor &dx) {
            layernorm_backward(dy, x, ps_.param(dec_ln_g_[i]), mean, rstd, dx, ps_.grad(dec_ln_g_[i]),
                               ps_.grad(dec_ln_b_[i]), false);
        };
        dense_backward(dec_[11], ps_.param(dec_W_[2]), dlogits_, &d1_, false, ps_.grad(dec_W_[2]), &ps_.grad(dec_b_[2]));
        lnb(d1_, dec_[10], 2, lmean_, lrstd_, d2_);
        gelu_backward(dec_[9], d2_, d1_);
        dense_backward(dec_[6], ps_.param(dec_W_[1]), d1_, &d2_, false, ps_.grad(dec_W_[1]), &ps_.grad(dec_b_[1]));
        lnb(d2_, dec_[5], 1, dec_[7], dec_[8], d1_);
        gelu_backward(dec_[4], d1_, d2_);
        dense_backward(dec_[1], ps_.param(dec_W_[0]), d2_, &d1_, false, ps_.grad(dec_W_[0]), &ps_.grad(dec_b_[0]));
        lnb(d1_, dec_[0], 0, dec_[2], dec_[3], d2_);
        // d(decoder input): Σ over positions for the encoder's last row, Σ over the batch for
        // the decoder's position embedding.
        std::vector<float> din((size_t)(Ro * D)), dlast((size_t)(B * D), 0.0f), dpos((size_t)(T_out_ * D), 0.0f);
        d2_.copy_to_host(din.data());
        for (int64_t b = 0; b < B; b++)
            for (int64_t t = 0; t < T_out_; t++)
                for (int64_t d = 0; d < D; d++) {
                    const float g = din[(size_t)((b * T_out_ + t) * D + d)];
                    dlast[(size_t)(b * D + d)] += g;
                    dpos[(size_t)(t * D + d)] += g;
                }
        ps_.grad(dec_pos_).copy_from_host(dpos.data());
        last_.copy_from_host(dlast.data());  // last_ is not read again this step: reuse it for ∂L/∂last
        scatter_last(last_, B, T, D, dres_, host_tmp_);
    }
    if (profiling_) prof_.head += seconds_since(t_head);
    backward_blocks();
    auto t_in = Clock::now();
    if (task_.readout == Readout::last_step) {
        dense_backward(in_, ps_.param(W_in_), dres_, nullptr, false, ps_.grad(W_in_), &ps_.grad(b_in_));
    } else {
        embedding_backward(in_, dres_, T, ps_.grad(emb_), pos_ >= 0 ? &ps_.grad(pos_) : nullptr);
    }
    if (profiling_) {
        ps_.grads().flat().sync();
        prof_.embed += seconds_since(t_in);
    }
    (void)R;
    return st;
}

std::string Model::summary() const {
    std::string s = "model: " + std::string(task_.readout == Readout::every_step  ? "token"
                                            : task_.readout == Readout::last_step ? "sequence"
                                                                                  : "autoencoder") +
                    ", D = " + std::to_string(D_) + ", " + std::to_string(ps_.count_trainable()) +
                    " trainable parameters\n";
    for (const auto &b : blocks_) s += "  " + b->name + ": " + b->layer->describe() + "\n";
    return s;
}

}  // namespace statemix::models
