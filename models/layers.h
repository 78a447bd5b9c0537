// The layers a model is built from, each with an explicit forward and backward (no autodiff):
// the branch layers of a pre-norm residual block (the five recurrent mixers with their
// projections, SwiGLU, the GELU MLP), on the runtime's ops (runtime/dense_ops.h for every
// product, runtime/nn_ops.h for pointwise and normalization, scan_ops.h / rnn_ops.h for the
// recurrences). Embeddings, LayerNorm and heads are single op calls; models/model.cpp composes.
//
// A branch layer maps x [R,D] (R = B·T rows, row b·T + t) to y [R,D]. Its life:
//   constructor   declares its parameters in the ParamStore (names "<prefix>.W_v", ...)
//   plan(B, T)    declares its saved activations (acts) and its backward temporaries (scratch)
//   bind()        after the stores are allocated: makes its views (reshapes for the kernels)
//   forward       out (+)= f(x), saving what backward reads
//   backward      from dout: parameter gradients (written), dx (written)
#pragma once

#include "arena.h"
#include "runtime/rnn_ops.h"
#include "runtime/scan_ops.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

namespace statemix::models {

// The stores a layer plans into and binds from.
struct Stores {
    ParamStore *params = nullptr;
    Arena *acts = nullptr;     // written by forward, read by backward
    Arena *scratch = nullptr;  // backward temporaries; each layer's group starts at offset 0
};

class BranchLayer {
public:
    virtual ~BranchLayer() = default;
    virtual void plan(Stores &s, int64_t B, int64_t T) = 0;
    virtual void bind(Stores &s) = 0;
    // accumulate: out += f(x) (the residual add fused into the output projection).
    virtual void forward(const Tensor &x, Tensor &out, bool accumulate) = 0;
    virtual void backward(const Tensor &x, const Tensor &dout, Tensor &dx) = 0;
    // Short description for the profile and the model summary.
    virtual std::string describe() const = 0;
    // Set by the trainer's --profile: time spent in the recurrence kernels (seconds, summed).
    double scan_seconds = 0.0;
    bool profile = false;
};

// Mixer parameters, the "mixer" object of a model config (models/config.cpp checks it).
struct MixerConfig {
    std::string kind = "bdlru";  // bdlru | hlru | wcrnn | elman | lstm
    int m = 2;                   // BD-LRU block size / H-LRU order
    int64_t n = 128;             // BD-LRU blocks / H-LRU channels
    std::string norm = "softmax";
    int64_t hidden = 128;        // H of the RNN mixers
    // WCRNN (spec §7)
    std::string residual = "rotation";
    double a = 1.0, eps = 0.05;
    double tau_min = 1.0, tau_max = 100.0, period = 0.0;
    std::string act = "tanh";
    bool train_residual = false;
    // Elman: "none" (uniform init) or a residual kind for the weakly coupled init W = R + eps W0
    std::string elman_init = "none";
};

std::unique_ptr<BranchLayer> make_mixer(const MixerConfig &cfg, int64_t D, ParamStore &ps, const std::string &prefix,
                                        uint64_t seed);
// SwiGLU: W3(SiLU(W1 x) ⊙ W2 x), no biases, inner width F (W1, W2 stored as one [2F, D] matrix).
std::unique_ptr<BranchLayer> make_swiglu(int64_t D, int64_t F, ParamStore &ps, const std::string &prefix);
// GELU MLP: W2 gelu(W1 x + b1) + b2, inner width F.
std::unique_ptr<BranchLayer> make_gelu_mlp(int64_t D, int64_t F, ParamStore &ps, const std::string &prefix);

// Every dense product of the models goes through these two (runtime/dense_ops.h's linear_forward
// / linear_backward), so --profile can report the dense products' share of a step.
void dense_forward(const Tensor &x, const Tensor &W, const Tensor *b, Tensor &y, bool accumulate = false);
void dense_backward(const Tensor &x, const Tensor &W, const Tensor &dy, Tensor *dx, bool accumulate_dx, Tensor &dW,
                    Tensor *db);
// Profiling of the dense products: on/off, and the seconds spent in them since the last reset.
void set_dense_profiling(bool on);
double dense_seconds();
void reset_dense_seconds();

// The tasks spec's SwiGLU inner width: 16·ceil(floor(8D/3)/16).
int64_t swiglu_width(int64_t D);

}  // namespace statemix::models
