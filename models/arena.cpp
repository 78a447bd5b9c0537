#include "arena.h"

#include "runtime/error.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace statemix::models {

namespace {

int64_t count(const Shape &s) {
    int64_t n = 1;
    for (auto e : s) n *= e;
    return n;
}

// FNV-1a of the name, so each parameter draws from its own stream.
uint64_t name_hash(const std::string &s) {
    uint64_t h = 1469598103934665603ull;
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    return h;
}

double uniform01(std::mt19937_64 &g) { return ((g() >> 11) + 0.5) * (1.0 / 9007199254740992.0); }

}  // namespace

int Arena::add(const std::string &name, const Shape &shape) {
    if (allocated()) throw Error("Arena::add('" + name + "'): the arena is already allocated");
    names_.push_back(name);
    shapes_.push_back(shape);
    // 16-float (64-byte) alignment for every view: vector loads and oneDNN like aligned rows.
    cursor_ = (cursor_ + 15) / 16 * 16;
    offsets_.push_back(cursor_);
    cursor_ += count(shape);
    total_ = std::max(total_, cursor_);
    return (int)names_.size() - 1;
}

void Arena::allocate(Device device) {
    total_ = (total_ + 15) / 16 * 16;  // whole 64-byte lines, so group ranges padded alike fit
    flat_ = Tensor::zeros({std::max<int64_t>(total_, 1)}, device);
    views_.clear();
    for (size_t i = 0; i < names_.size(); i++) views_.push_back(flat_.view(shapes_[i], offsets_[i]));
}

std::vector<float> init_values(const ParamSpec &spec, uint64_t seed) {
    const int64_t n = count(spec.shape);
    std::vector<float> v((size_t)n, 0.0f);
    switch (spec.init) {
    case Init::zeros: break;
    case Init::ones: std::fill(v.begin(), v.end(), 1.0f); break;
    case Init::given:
        if ((int64_t)spec.values.size() != n) {
            throw Error("parameter '" + spec.name + "': " + std::to_string(spec.values.size()) +
                        " initial values given for shape " + shape_str(spec.shape));
        }
        v = spec.values;
        break;
    case Init::normal:
    case Init::uniform: {
        std::mt19937_64 g(seed ^ name_hash(spec.name));
        for (int64_t i = 0; i < n; i++) {
            if (spec.init == Init::uniform) {
                v[(size_t)i] = (float)((2.0 * uniform01(g) - 1.0) * spec.scale);
            } else {
                const double u1 = uniform01(g), u2 = uniform01(g);
                v[(size_t)i] = (float)(spec.scale * std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
            }
        }
        break;
    }
    }
    return v;
}

int ParamStore::add(ParamSpec spec) {
    if (params_.allocated()) throw Error("ParamStore::add('" + spec.name + "'): already allocated");
    for (const auto &s : specs_) {
        if (s.name == spec.name) throw Error("ParamStore::add: two parameters named '" + spec.name + "'");
    }
    specs_.push_back(std::move(spec));
    return (int)specs_.size() - 1;
}

void ParamStore::allocate(Device device, uint64_t seed) {
    // Group order: decayed, not decayed, fixed; within a group, declaration order.
    slots_.assign(specs_.size(), -1);
    auto group = [](const ParamSpec &s) { return !s.trainable ? 2 : s.decay ? 0 : 1; };
    n_decay_ = n_nodecay_ = 0;
    for (int g = 0; g < 3; g++) {
        for (size_t i = 0; i < specs_.size(); i++) {
            if (group(specs_[i]) != g) continue;
            slots_[i] = params_.add(specs_[i].name, specs_[i].shape);
            grads_.add(specs_[i].name, specs_[i].shape);
            m_.add(specs_[i].name, specs_[i].shape);
            v_.add(specs_[i].name, specs_[i].shape);
        }
        // The group's end, padded like every view, so the optimizer's flat ranges are exact.
        const int64_t end = (params_.numel() + 15) / 16 * 16;  // no rewind(): numel() is the cursor
        if (g == 0) n_decay_ = end;
        if (g == 1) n_nodecay_ = end - n_decay_;
    }
    n_trainable_ = 0;
    for (const auto &sp : specs_) {
        if (sp.trainable) n_trainable_ += count(sp.shape);
    }
    params_.allocate(device);
    grads_.allocate(device);
    m_.allocate(device);
    v_.allocate(device);
    for (size_t i = 0; i < specs_.size(); i++) {
        std::vector<float> v = init_values(specs_[i], seed);
        params_[slots_[i]].copy_from_host(v.data());
    }
}

}  // namespace statemix::models
