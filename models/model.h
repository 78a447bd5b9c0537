// The model families of the tasks spec, built from models/layers.h:
//   token        token embedding (+ learned positions) -> blocks -> LayerNorm -> linear readout,
//                a prediction at every position (selective_copy, recall, group, lm)
//   sequence     features -> linear input projection -> blocks -> last step -> LayerNorm ->
//                linear readout (seq_image classes, adding regression)
//   autoencoder  token + position embedding -> blocks -> last position -> per-position decoder
//                [+ position embedding, LN, Linear, GELU, LN, Linear, GELU, LN, Linear -> V]
//                (compression)
// A block is the pre-norm residual x = x + layer(LayerNorm(x)); blocks alternate [mixer, mlp]
// (mlp "none": mixers only).
//
// The model owns its parameters (ParamStore: params, grads, AdamW moments, one allocation each)
// and, after plan(B), its activations and backward scratch (one allocation each): run_batch()
// allocates nothing.
#pragma once

#include "config.h"
#include "layers.h"
#include "tasks/task.h"

#include <memory>
#include <string>
#include <vector>

namespace statemix::models {

// What one batch gave: sums, so batches add up exactly.
struct BatchStats {
    double loss_sum = 0.0;     // Σ per-target loss (cross-entropy in nats, or squared error)
    int64_t count = 0;         // counted targets
    int64_t correct = 0;       // classification
    std::vector<int64_t> class_total, class_correct;  // for macro-averaged accuracy
    void add(const BatchStats &o);
    double loss() const { return count ? loss_sum / (double)count : 0.0; }
    double accuracy() const { return count ? (double)correct / (double)count : 0.0; }
    double macro_accuracy() const;  // mean over classes that occur of per-class accuracy
};

// Time per part of a step, filled when profiling is on (seconds, summed over steps).
struct Profile {
    std::vector<std::string> names;
    std::vector<double> forward, backward, scan;  // scan: of which in the recurrence kernels
    double embed = 0, head = 0, optimizer = 0, dense_total = 0;
};

class Model {
public:
    Model(const ModelConfig &cfg, const tasks::TaskInfo &task, int64_t T, int64_t T_out, int64_t F, Device device,
          uint64_t seed);
    ~Model();

    // Allocates activations and scratch for batches of up to B sequences (once).
    void plan(int64_t B);
    // Forward, loss and metrics; with train also the backward into the gradient store (written,
    // not accumulated). Batches smaller than the planned B are padded with ignored rows.
    BatchStats run_batch(const tasks::Batch &batch, bool train);

    ParamStore &params() { return ps_; }
    const ParamStore &params() const { return ps_; }
    Device device() const { return device_; }
    int64_t planned_batch() const { return B_; }
    std::string summary() const;

    // Profiling on (timings reset) or off; finish_profile() gathers the recurrence kernels' and the
    // dense products' seconds into profile().
    void set_profile(bool on);
    void finish_profile();
    // Stops / restarts the clocks without resetting them (evaluations inside a profiled run).
    void pause_profile(bool paused);
    Profile &profile() { return prof_; }

private:
    struct Block;
    void forward_blocks();
    void backward_blocks();

    ModelConfig cfg_;
    tasks::TaskInfo task_;
    int64_t T_, T_out_, F_, D_, B_ = 0;
    int64_t n_out_;  // classes, or 1 for regression
    Device device_;
    ParamStore ps_;
    Arena acts_, scratch_;
    std::vector<std::unique_ptr<Block>> blocks_;
    bool profiling_ = false, profile_requested_ = false;
    Profile prof_;

    // parameters (indices into ps_), -1 where the family has none
    int emb_ = -1, pos_ = -1, W_in_ = -1, b_in_ = -1, lnf_g_ = -1, lnf_b_ = -1, W_r_ = -1, b_r_ = -1;
    int dec_pos_ = -1, dec_ln_g_[3] = {-1, -1, -1}, dec_ln_b_[3] = {-1, -1, -1}, dec_W_[3] = {-1, -1, -1},
        dec_b_[3] = {-1, -1, -1};
    // activations / scratch (indices), then their views
    std::vector<int> a_x_;
    int a_in_ = -1, a_tgt_ = -1, a_last_ = -1, a_lastn_ = -1, a_lmean_ = -1, a_lrstd_ = -1, a_logits_ = -1,
        a_lossr_ = -1, a_pred_ = -1, a_dlogits_ = -1;
    int a_dec_[12];
    int s_dres_ = -1, s_dxn_ = -1, s_d1_ = -1, s_d2_ = -1;
    std::vector<Tensor> x_;
    Tensor in_, tgt_, last_, lastn_, lmean_, lrstd_, logits_, lossr_, pred_, dlogits_, dres_, dxn_, d1_, d2_;
    Tensor dec_[12];
    std::vector<float> host_loss_, host_pred_, host_out_, host_tmp_, host_in_pad_, host_tgt_pad_;
};

}  // namespace statemix::models
