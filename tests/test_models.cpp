// The training runtime's layers and models: every branch layer's gradients by finite differences,
// a whole small model's gradient against central differences of an independent float64 forward,
// the arenas, and the run config's checks.
#include "models/config.h"
#include "models/layers.h"
#include "models/model.h"
#include "reference/scan_reference.h"
#include "runtime/error.h"
#include "tests/test_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>

namespace statemix::test {
namespace {

using models::Arena;
using models::ParamStore;
using models::Stores;

std::vector<float> host(const Tensor &t) {
    std::vector<float> v((size_t)t.numel());
    t.copy_to_host(v.data());
    return v;
}

void set_host(Tensor &t, const std::vector<float> &v) { t.copy_from_host(v.data()); }

// A branch layer with its stores, planned for (B, T), parameters redrawn at a scale where the
// nonlinearities are exercised (the 0.02 init would make every product nearly linear).
struct LayerRig {
    ParamStore ps;
    Arena acts, scratch;
    std::unique_ptr<models::BranchLayer> layer;
    int64_t B, T, D;
    Tensor x, out, dout, dx;

    LayerRig(std::function<std::unique_ptr<models::BranchLayer>(ParamStore &)> make, int64_t B_, int64_t T_, int64_t D_,
             uint64_t seed)
        : B(B_), T(T_), D(D_) {
        layer = make(ps);
        ps.allocate(Device::cpu, seed);
        std::mt19937 rng((unsigned)seed);
        for (int i = 0; i < ps.size(); i++) {
            if (!ps.spec(i).trainable) continue;
            Vec r = randn((size_t)ps.param(i).numel(), rng, 0.3);
            set_host(ps.param(i), std::vector<float>(r.begin(), r.end()));
        }
        Stores st{&ps, &acts, &scratch};
        const int ix = acts.add("x", {B * T, D}), io = acts.add("out", {B * T, D}), id = acts.add("dout", {B * T, D}),
                  idx = acts.add("dx", {B * T, D});
        layer->plan(st, B, T);
        acts.allocate(Device::cpu);
        scratch.allocate(Device::cpu);
        layer->bind(st);
        x = acts[ix];
        out = acts[io];
        dout = acts[id];
        dx = acts[idx];
        Vec xv = randn((size_t)(B * T * D), rng, 1.0), wv = randn((size_t)(B * T * D), rng, 1.0);
        set_host(x, std::vector<float>(xv.begin(), xv.end()));
        set_host(dout, std::vector<float>(wv.begin(), wv.end()));
    }

    // L = Σ dout ⊙ f(x), accumulated in float64.
    double loss() {
        layer->forward(x, out, false);
        std::vector<float> o = host(out), w = host(dout);
        double s = 0;
        for (size_t i = 0; i < o.size(); i++) s += (double)o[i] * w[i];
        return s;
    }
};

// Central differences of the rig's loss w.r.t. a few entries of `t` against `analytic`.
void check_fd(LayerRig &rig, Tensor &t, const std::vector<float> &analytic, const std::string &what, int samples = 12) {
    std::vector<float> v = host(t);
    std::mt19937 rng(7);
    const double h = 1e-2;
    int checked = 0;
    for (int s = 0; s < samples; s++) {
        const size_t i = (size_t)(rng() % v.size());
        const float orig = v[i];
        v[i] = orig + (float)h;
        set_host(t, v);
        const double lp = rig.loss();
        v[i] = orig - (float)h;
        set_host(t, v);
        const double lm = rig.loss();
        v[i] = orig;
        set_host(t, v);
        const double fd = (lp - lm) / (2 * h);
        EXPECT_NEAR(analytic[i], fd, 2e-2 + 2e-2 * std::abs(fd)) << what << " element " << i;
        checked++;
    }
    EXPECT_GT(checked, 0);
}

void check_layer(std::function<std::unique_ptr<models::BranchLayer>(ParamStore &)> make, const std::string &name,
                 int64_t B = 2, int64_t T = 7, int64_t D = 12) {
    LayerRig rig(make, B, T, D, 11);
    rig.loss();
    rig.layer->backward(rig.x, rig.dout, rig.dx);
    const std::vector<float> dx = host(rig.dx);
    std::vector<std::vector<float>> grads;
    for (int i = 0; i < rig.ps.size(); i++) grads.push_back(host(rig.ps.grad(i)));
    check_fd(rig, rig.x, dx, name + " dx");
    for (int i = 0; i < rig.ps.size(); i++) {
        if (!rig.ps.spec(i).trainable) continue;
        check_fd(rig, rig.ps.param(i), grads[(size_t)i], name + " " + rig.ps.spec(i).name, 6);
    }
}

models::MixerConfig mixer(const std::string &kind, int m = 2) {
    models::MixerConfig c;
    c.kind = kind;
    c.m = m;
    c.n = 3;
    c.hidden = 6;
    return c;
}

TEST(ModelLayers, BdlruMixerGradientsByFiniteDifferences) {
    for (int m : {1, 2}) {
        check_layer([&](ParamStore &ps) { return models::make_mixer(mixer("bdlru", m), 12, ps, "mix", 1); },
                    "bdlru m=" + std::to_string(m));
    }
}

TEST(ModelLayers, HlruMixerGradientsByFiniteDifferences) {
    check_layer([&](ParamStore &ps) { return models::make_mixer(mixer("hlru", 2), 12, ps, "mix", 1); }, "hlru m=2");
}

TEST(ModelLayers, RnnMixerGradientsByFiniteDifferences) {
    for (const char *kind : {"elman", "lstm", "wcrnn"}) {
        models::MixerConfig c = mixer(kind);
        c.residual = "rotation";
        c.eps = 0.5;  // a weak coupling large enough that W's gradient is well above the FD noise
        check_layer([&](ParamStore &ps) { return models::make_mixer(c, 12, ps, "mix", 1); }, kind);
    }
}

TEST(ModelLayers, TrainableResidualGradientsByFiniteDifferences) {
    models::MixerConfig c = mixer("wcrnn");
    c.residual = "scalar";
    c.a = 0.9;
    c.eps = 0.5;
    c.train_residual = true;
    check_layer([&](ParamStore &ps) { return models::make_mixer(c, 12, ps, "mix", 1); }, "wcrnn scalar trainable");
}

TEST(ModelLayers, MlpGradientsByFiniteDifferences) {
    check_layer([](ParamStore &ps) { return models::make_swiglu(12, 16, ps, "mlp"); }, "swiglu");
    check_layer([](ParamStore &ps) { return models::make_gelu_mlp(12, 20, ps, "mlp"); }, "gelu_mlp");
}

TEST(ModelLayers, SwigluWidthFollowsTheSpec) {
    EXPECT_EQ(models::swiglu_width(128), 352);  // 16·ceil(floor(8·128/3)/16) = 16·ceil(341/16)
    EXPECT_EQ(models::swiglu_width(64), 176);
}

// ---------------------------------------------------------------------------------------------
// Arenas

TEST(ModelArena, OneAllocationCarvedIntoAlignedViews) {
    ParamStore ps;
    ps.add({"w", {3, 5}, models::Init::normal, 0.02, true, true, {}});
    ps.add({"b", {5}, models::Init::zeros, 0.0, false, true, {}});
    ps.add({"w2", {7}, models::Init::ones, 0.0, true, true, {}});
    ps.add({"fixed", {2}, models::Init::given, 0.0, false, false, {4.f, 5.f}});
    ps.allocate(Device::cpu, 3);
    // decayed (w, w2) first, then b, then the fixed parameter; every view 16-float aligned
    const float *base = ps.params().flat().data();
    EXPECT_EQ(ps.param(0).data(), base);
    EXPECT_EQ(ps.param(2).data(), base + 16);
    EXPECT_EQ(ps.n_decay(), 32);
    EXPECT_EQ(ps.param(1).data(), base + 32);
    EXPECT_EQ(ps.n_nodecay(), 16);
    EXPECT_EQ(ps.param(3).data(), base + 48);
    EXPECT_EQ(ps.grad(3).data(), ps.grads().flat().data() + 48);
    EXPECT_EQ(ps.param(2).data()[6], 1.0f);
    EXPECT_EQ(ps.param(3).data()[1], 5.0f);
    // the same seed gives the same values; another seed other values
    ParamStore again;
    again.add({"w", {3, 5}, models::Init::normal, 0.02, true, true, {}});
    again.allocate(Device::cpu, 3);
    EXPECT_EQ(host(again.param(0)), host(ps.param(0)));
    ParamStore other;
    other.add({"w", {3, 5}, models::Init::normal, 0.02, true, true, {}});
    other.allocate(Device::cpu, 4);
    EXPECT_NE(host(other.param(0)), host(ps.param(0)));
    EXPECT_THROW(ps.add({"late", {1}, models::Init::zeros, 0.0, false, true, {}}), Error);
}

TEST(ModelArena, RewoundGroupsOverlap) {
    Arena a;
    const int x = a.add("x", {10});
    a.rewind();
    const int y = a.add("y", {40});
    a.allocate(Device::cpu);
    EXPECT_EQ(a.numel(), 48);  // the larger group, in whole 16-float lines
    EXPECT_EQ(a[x].data(), a[y].data());
}

TEST(ModelArena, TensorViewChecksItsRange) {
    Tensor t = Tensor::zeros({4, 6});
    Tensor v = t.view({2, 3}, 6);
    v.data()[0] = 5;
    EXPECT_EQ(t.data()[6], 5);
    try {
        t.view({5, 5}, 0);
        FAIL() << "expected an Error";
    } catch (const Error &e) {
        EXPECT_NE(std::string(e.what()).find("do not fit"), std::string::npos) << e.what();
    }
    EXPECT_THROW(t.reshape({5}), Error);
}

// ---------------------------------------------------------------------------------------------
// A whole small token model (embedding, a BD-LRU mixer block, a SwiGLU block, LN, readout,
// cross-entropy) against central differences of an independent float64 forward written here.

struct RefModel {
    int V, D, N, m, F, T, B;
    const ParamStore *ps;
    std::map<std::string, std::vector<double>> p;
    void load(const ParamStore &store) {
        ps = &store;
        for (int i = 0; i < store.size(); i++) {
            std::vector<float> v = host(store.param(i));
            p[store.spec(i).name] = std::vector<double>(v.begin(), v.end());
        }
    }
    // y[r,o] = Σ_i x[r,i] W[o,i] (+ b[o])
    static std::vector<double> lin(const std::vector<double> &x, const std::vector<double> &W, const std::vector<double> *b,
                                   int R, int I, int O) {
        std::vector<double> y((size_t)(R * O), 0.0);
        for (int r = 0; r < R; r++)
            for (int o = 0; o < O; o++) {
                double s = b ? (*b)[(size_t)o] : 0.0;
                for (int i = 0; i < I; i++) s += x[(size_t)(r * I + i)] * W[(size_t)(o * I + i)];
                y[(size_t)(r * O + o)] = s;
            }
        return y;
    }
    static std::vector<double> ln(const std::vector<double> &x, const std::vector<double> &g, const std::vector<double> &b,
                                  int R, int D) {
        std::vector<double> y(x.size());
        for (int r = 0; r < R; r++) {
            double mu = 0, var = 0;
            for (int d = 0; d < D; d++) mu += x[(size_t)(r * D + d)];
            mu /= D;
            for (int d = 0; d < D; d++) var += (x[(size_t)(r * D + d)] - mu) * (x[(size_t)(r * D + d)] - mu);
            const double rstd = 1.0 / std::sqrt(var / D + 1e-5);
            for (int d = 0; d < D; d++) y[(size_t)(r * D + d)] = (x[(size_t)(r * D + d)] - mu) * rstd * g[(size_t)d] + b[(size_t)d];
        }
        return y;
    }
    double loss(const std::vector<float> &ids, const std::vector<float> &tgt) {
        const int R = B * T;
        std::vector<double> x((size_t)(R * D));
        for (int r = 0; r < R; r++)
            for (int d = 0; d < D; d++) x[(size_t)(r * D + d)] = p["embed.tokens"][(size_t)((int)ids[(size_t)r] * D + d)];
        // block 0: BD-LRU mixer
        {
            std::vector<double> xn = ln(x, p["blocks.0.norm.gamma"], p["blocks.0.norm.beta"], R, D);
            std::vector<double> v = lin(xn, p["blocks.0.mixer.W_v"], nullptr, R, D, N * m);
            std::vector<double> z = lin(xn, p["blocks.0.mixer.W_g"], &p["blocks.0.mixer.b_g"], R, D, N * m * (m + 1));
            std::vector<double> h((size_t)(R * N * m)), hf((size_t)(B * N * m));
            ref::bdlru_forward<double>(B, T, N, m, ref::Norm::softmax, z.data(), v.data(), nullptr, h.data(), hf.data());
            std::vector<double> y = lin(h, p["blocks.0.mixer.W_o"], nullptr, R, N * m, D);
            for (size_t i = 0; i < x.size(); i++) x[i] += y[i];
        }
        // block 1: SwiGLU
        {
            std::vector<double> xn = ln(x, p["blocks.1.norm.gamma"], p["blocks.1.norm.beta"], R, D);
            std::vector<double> ab = lin(xn, p["blocks.1.mlp.W12"], nullptr, R, D, 2 * F), hm((size_t)(R * F));
            for (int r = 0; r < R; r++)
                for (int f = 0; f < F; f++) {
                    const double a = ab[(size_t)(r * 2 * F + f)], b = ab[(size_t)(r * 2 * F + F + f)];
                    hm[(size_t)(r * F + f)] = a / (1 + std::exp(-a)) * b;
                }
            std::vector<double> y = lin(hm, p["blocks.1.mlp.W3"], nullptr, R, F, D);
            for (size_t i = 0; i < x.size(); i++) x[i] += y[i];
        }
        std::vector<double> xf = ln(x, p["head.norm.gamma"], p["head.norm.beta"], R, D);
        std::vector<double> logits = lin(xf, p["head.W"], &p["head.b"], R, D, V);
        double L = 0;
        int count = 0;
        for (int r = 0; r < R; r++) {
            if (tgt[(size_t)r] < 0) continue;
            double mx = -1e300, s = 0;
            for (int k = 0; k < V; k++) mx = std::max(mx, logits[(size_t)(r * V + k)]);
            for (int k = 0; k < V; k++) s += std::exp(logits[(size_t)(r * V + k)] - mx);
            L += -(logits[(size_t)(r * V + (int)tgt[(size_t)r])] - mx - std::log(s));
            count++;
        }
        return L / count;
    }
};

TEST(ModelWhole, TokenModelGradientMatchesFloat64Differences) {
    models::ModelConfig cfg;
    cfg.d_model = 8;
    cfg.n_layers = 1;
    cfg.mlp = "swiglu";
    cfg.mlp_width = 12;
    cfg.mixer.kind = "bdlru";
    cfg.mixer.m = 2;
    cfg.mixer.n = 3;
    tasks::TaskInfo info;
    info.name = "toy";
    info.vocab_in = 5;
    info.n_classes = 5;
    const int B = 2, T = 6;
    models::Model model(cfg, info, T, T, 0, Device::cpu, 5);
    // weights at a scale where every path matters
    std::mt19937 rng(3);
    for (int i = 0; i < model.params().size(); i++) {
        Vec r = randn((size_t)model.params().param(i).numel(), rng, 0.4);
        if (model.params().spec(i).name.find("gamma") != std::string::npos) for (auto &x : r) x += 1.0;
        set_host(model.params().param(i), std::vector<float>(r.begin(), r.end()));
    }
    model.plan(B);
    tasks::Batch batch;
    batch.B = B;
    batch.T = T;
    batch.T_out = T;
    for (int r = 0; r < B * T; r++) {
        batch.inputs.push_back((float)(rng() % 5));
        batch.targets.push_back(r % 4 == 1 ? -1.0f : (float)(rng() % 5));  // some ignored rows
    }
    const models::BatchStats st = model.run_batch(batch, true);
    RefModel ref{5, 8, 3, 2, 12, T, B, nullptr, {}};
    ref.load(model.params());
    EXPECT_NEAR(st.loss(), ref.loss(batch.inputs, batch.targets), 1e-5);
    // every parameter, every element: float32 analytic gradient vs float64 central differences
    int checked = 0;
    for (int i = 0; i < model.params().size(); i++) {
        const std::string &name = model.params().spec(i).name;
        std::vector<float> g = host(model.params().grad(i));
        std::vector<double> &p = ref.p[name];
        for (size_t k = 0; k < p.size(); k++) {
            const double orig = p[k], h = 1e-5;
            p[k] = orig + h;
            const double lp = ref.loss(batch.inputs, batch.targets);
            p[k] = orig - h;
            const double lm = ref.loss(batch.inputs, batch.targets);
            p[k] = orig;
            const double fd = (lp - lm) / (2 * h);
            EXPECT_NEAR(g[k], fd, 2e-5 + 2e-3 * std::abs(fd)) << name << "[" << k << "]";
            checked++;
        }
    }
    EXPECT_GT(checked, 300);
}

// ---------------------------------------------------------------------------------------------
// The run config

TEST(ModelConfig, ResolvesDefaultsAndRejectsBadFields) {
    using nlohmann::json;
    json c = json::parse(R"({"task": {"name": "group"}})");
    json r = models::resolve_run_config(c);
    EXPECT_EQ(r["model"]["d_model"], 128);
    EXPECT_EQ(r["task"]["group_n"], 3);
    EXPECT_EQ(r["train"]["lr"], 5e-4);
    expect_error([&] { models::resolve_run_config(json::parse(R"({"task": {"name": "group"}, "model": {"dmodel": 3}})")); },
                 {"model.dmodel", "unknown field", "d_model"});
    expect_error([&] { models::resolve_run_config(json::parse(R"({"task": {"name": "group"}, "model": {"d_model": "big"}})")); },
                 {"model.d_model", "integer", "string"});
    expect_error([&] { models::resolve_run_config(json::parse(R"({"task": {"name": "group"}, "model": {"mixer": {"kind": "gru"}}})")); },
                 {"model.mixer.kind", "bdlru", "gru"});
    expect_error([&] { models::resolve_run_config(json::parse(R"({"task": {"name": "group"}, "model": {"mixer": {"m": 7}}})")); },
                 {"model.mixer.m", "7"});
    expect_error([&] { models::resolve_run_config(json::parse(R"({"task": {"name": "group"}, "train": {"lr": -1}})")); },
                 {"train.lr", "-1"});
    expect_error([&] { models::resolve_run_config(json::parse(R"({"task": {"name": "nope"}})")); }, {"nope"});
    expect_error([&] { models::resolve_run_config(json::parse(R"({"task": {"name": "group"}, "extra": {}})")); },
                 {"config.extra", "unknown section"});
    expect_error([&] { models::read_config_file("/nonexistent/run.json"); }, {"/nonexistent/run.json"});
    // a list field (lm's corpus): a list or one string, as a saved run's config holds it
    EXPECT_EQ(models::resolve_run_config(json::parse(R"({"task": {"name": "lm", "corpus": ["a", "b"]}})"))["task"]["corpus"].size(), 2u);
    EXPECT_EQ(models::resolve_run_config(json::parse(R"({"task": {"name": "lm", "corpus": "a"}})"))["task"]["corpus"], "a");
    expect_error([&] { models::resolve_run_config(json::parse(R"({"task": {"name": "lm", "corpus": 5}})")); },
                 {"task.corpus", "a string or an array", "integer"});
}

TEST(ModelConfig, SetOverridesNestedFields) {
    nlohmann::json c = nlohmann::json::parse(R"({"task": {"name": "group"}})");
    models::apply_override(c, "model.mixer.m=4");
    models::apply_override(c, "model.mixer.kind=hlru");
    models::apply_override(c, "train.lr=0.01");
    nlohmann::json r = models::resolve_run_config(c);
    EXPECT_EQ(r["model"]["mixer"]["m"], 4);
    EXPECT_EQ(r["model"]["mixer"]["kind"], "hlru");
    EXPECT_DOUBLE_EQ(r["train"]["lr"].get<double>(), 0.01);
    expect_error([&] { models::apply_override(c, "novalue"); }, {"--set", "section.key=value"});
}

}  // namespace
}  // namespace statemix::test
