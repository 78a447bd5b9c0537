#include "optimizer.h"

#include "runtime/nn_ops.h"

#include <cmath>

namespace statemix::train {

double learning_rate(const models::TrainConfig &t, int64_t step) {
    if (t.warmup > 0 && step < t.warmup) return t.lr * (double)(step + 1) / (double)t.warmup;
    const double span = (double)std::max<int64_t>(t.steps - t.warmup, 1);
    const double progress = std::min(1.0, (double)(step - t.warmup) / span);
    return t.min_lr + 0.5 * (t.lr - t.min_lr) * (1.0 + std::cos(M_PI * progress));
}

AdamW::AdamW(models::ParamStore &ps, const models::TrainConfig &t) : ps_(ps), t_(t) {
    const int64_t off[2] = {0, ps.n_decay()}, len[2] = {ps.n_decay(), ps.n_nodecay()};
    for (int i = 0; i < 2; i++) {
        if (len[i] == 0) continue;
        p_[i] = ps.params().flat().view({len[i]}, off[i]);
        g_[i] = ps.grads().flat().view({len[i]}, off[i]);
        m_[i] = ps.adam_m().flat().view({len[i]}, off[i]);
        v_[i] = ps.adam_v().flat().view({len[i]}, off[i]);
    }
    if (ps.numel_trainable() > 0) g_all_ = ps.grads().flat().view({ps.numel_trainable()}, 0);
}

double AdamW::grad_norm() const { return g_all_.defined() ? std::sqrt(sum_squares(g_all_)) : 0.0; }

double AdamW::step(int64_t step, double lr) {
    const double norm = grad_norm();
    if (t_.clip > 0 && norm > t_.clip) scale(g_all_, (float)(t_.clip / norm));
    for (int i = 0; i < 2; i++) {
        if (!p_[i].defined()) continue;
        AdamWArgs a{(float)lr, (float)t_.beta1, (float)t_.beta2, (float)t_.adam_eps,
                    i == 0 ? (float)t_.weight_decay : 0.0f, step};
        adamw_update(p_[i], g_[i], m_[i], v_[i], a);
    }
    return norm;
}

}  // namespace statemix::train
