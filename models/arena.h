// One allocation carved into named views (llm.c style): a model declares every tensor it owns
// once, at build time; allocate() makes ONE buffer per store and gives each name a view into it,
// so a training step allocates nothing.
//
// ParamStore holds four stores with the same layout (parameters, gradients, AdamW's m and v), so
// the optimizer runs over two flat ranges (decayed, then not decayed) instead of per tensor, and
// the i-th parameter's gradient sits at the same offset as the parameter.
#pragma once

#include "runtime/tensor.h"

#include <cstdint>
#include <string>
#include <vector>

namespace statemix::models {

// How a parameter starts (tasks spec: linear weights and embeddings N(0, 0.02), biases 0).
enum class Init { zeros, ones, normal, uniform, given };

struct ParamSpec {
    std::string name;  // "blocks.0.mixer.W_v", as in the checkpoint
    Shape shape;
    Init init = Init::normal;
    double scale = 0.02;      // normal: std; uniform: half-width
    bool decay = true;        // AdamW weight decay (off for norms, biases, embeddings)
    bool trainable = true;    // fixed parameters (a fixed WCRNN residual) get no update
    std::vector<float> values;  // Init::given
};

// A set of tensors in one allocation. add() while planning, then allocate(); views are valid
// until the store is destroyed.
class Arena {
public:
    int add(const std::string &name, const Shape &shape);
    // Starts a new group of tensors at offset 0 again: groups overlap in memory and the arena is
    // as large as the largest group (backward scratch: one group per layer, used one at a time).
    void rewind() { cursor_ = 0; }
    void allocate(Device device);  // zero-filled
    bool allocated() const { return flat_.defined(); }
    Tensor &operator[](int i) { return views_.at((size_t)i); }
    const Tensor &operator[](int i) const { return views_.at((size_t)i); }
    const std::string &name(int i) const { return names_.at((size_t)i); }
    int size() const { return (int)names_.size(); }
    int64_t offset(int i) const { return offsets_.at((size_t)i); }
    int64_t numel() const { return total_; }
    Tensor &flat() { return flat_; }
    const Tensor &flat() const { return flat_; }

private:
    std::vector<std::string> names_;
    std::vector<Shape> shapes_;
    std::vector<int64_t> offsets_;
    std::vector<Tensor> views_;
    int64_t total_ = 0, cursor_ = 0;
    Tensor flat_;
};

class ParamStore {
public:
    // Declares a parameter; returns its index. Parameters are laid out decayed-trainable first,
    // then not-decayed-trainable, then fixed, whatever the order of add() (finalize() sorts).
    int add(ParamSpec spec);
    // Lays out and allocates the four stores and initialises the parameters from `seed`.
    void allocate(Device device, uint64_t seed);

    Tensor &param(int i) { return params_[slot(i)]; }
    const Tensor &param(int i) const { return params_[slot(i)]; }
    Tensor &grad(int i) { return grads_[slot(i)]; }
    const ParamSpec &spec(int i) const { return specs_.at((size_t)i); }
    int size() const { return (int)specs_.size(); }
    // Trainable parameters (the flat trainable range, padding included, is n_decay() + n_nodecay()).
    int64_t count_trainable() const { return n_trainable_; }
    int64_t numel_trainable() const { return n_decay_ + n_nodecay_; }

    // Flat ranges for the optimizer: [0, n_decay) decayed, [n_decay, n_decay + n_nodecay) not.
    Arena &params() { return params_; }
    Arena &grads() { return grads_; }
    Arena &adam_m() { return m_; }
    Arena &adam_v() { return v_; }
    const Arena &params() const { return params_; }
    const Arena &adam_m() const { return m_; }
    const Arena &adam_v() const { return v_; }
    int64_t n_decay() const { return n_decay_; }
    int64_t n_nodecay() const { return n_nodecay_; }

private:
    int slot(int i) const { return slots_.at((size_t)i); }
    std::vector<ParamSpec> specs_;
    std::vector<int> slots_;  // spec index -> arena index
    Arena params_, grads_, m_, v_;
    int64_t n_decay_ = 0, n_nodecay_ = 0, n_trainable_ = 0;
};

// Deterministic initial values: a per-parameter stream derived from (seed, name), so adding a
// parameter does not change the others' values. Box-Muller over mt19937_64's raw bits (the
// standard distributions differ between standard libraries).
std::vector<float> init_values(const ParamSpec &spec, uint64_t seed);

}  // namespace statemix::models
