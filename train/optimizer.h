// AdamW over a model's ParamStore (models/arena.h): the learning-rate schedule, the global
// gradient-norm clip and the update, on two flat ranges (weight decay on, off) so the whole
// update is two kernel calls (runtime/nn_ops.h adamw_update).
#pragma once

#include "models/arena.h"
#include "models/config.h"

namespace statemix::train {

// Linear warm-up over `warmup` steps to lr, then cosine from lr to min_lr at step `steps`.
// step counts from 0.
double learning_rate(const models::TrainConfig &t, int64_t step);

class AdamW {
public:
    AdamW(models::ParamStore &ps, const models::TrainConfig &t);
    // √(Σ g²) over every trainable gradient (float64, deterministic).
    double grad_norm() const;
    // Scales the gradients by clip / norm when norm > clip > 0, then one AdamW step (step counts
    // from 1 for the bias corrections). Returns the norm before clipping.
    double step(int64_t step, double lr);

private:
    models::ParamStore &ps_;
    models::TrainConfig t_;
    Tensor p_[2], g_[2], m_[2], v_[2], g_all_;
};

}  // namespace statemix::train
