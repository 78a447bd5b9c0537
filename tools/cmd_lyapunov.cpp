// `statemix lyapunov`: the Lyapunov spectrum of a WCRNN or an Elman RNN along a trajectory driven
// by noise or by a given drive u.npy, by the QR method of spec §7 in float64 (runtime/lyapunov.h).
// Prints the exponents and the memory timescales −1/λ; --json for machines. A fresh network is
// drawn from --seed (WCRNN: residual from its init parameters, W ~ N(0, 1/H); Elman: the weakly
// coupled initialisation W_hh = R + ε·W_0 of spec §7 with R from the same residual parameters), or
// W is given as .npy. An Elman RNN h = f(W h + u) is the WCRNN with ρ = 0 and ε = 1, which is how
// its spectrum is computed. --checkpoint reads a trained model instead (`statemix train`'s run or
// checkpoint directory): its recurrent W, residual (with trained a / θ where they were trained),
// ε and activation, for the --layer-th WCRNN or Elman mixer.
#include "commands.h"
#include "json_file.h"
#include "npy.h"
#include "statemix.h"
#include "train/checkpoint.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <random>

namespace statemix::cli {
namespace {

struct LyapunovCliOptions {
    std::string model = "wcrnn", residual = "orthogonal", act = "tanh", u_file, w_file, json;
    double eps = 0.05, a = 0.95, tau_min = 1, tau_max = 100, period = 0, noise = 1.0;
    int64_t hidden = 64, steps = 1000, batch = 1, warmup = 100, k = 0;
    uint64_t seed = 1;
    std::string checkpoint;
    int layer = 0;
};

Tensor tensor_of(const train::LoadedTensor &t) { return Tensor::from_host(t.shape, t.data.data()); }

// The recurrent part of the layer-th WCRNN / Elman mixer of a trained model: fills o (model,
// residual, a, eps, act) from the checkpoint's config and returns W; cfg gets the residual with
// the checkpoint's own parameters.
Tensor load_trained_core(LyapunovCliOptions &o, WcrnnConfig &cfg) {
    const train::LoadedCheckpoint ck = train::load_checkpoint(o.checkpoint);
    const nlohmann::json &mx = ck.config.at("model").at("mixer");
    const std::string kind = mx.at("kind");
    if (kind != "wcrnn" && kind != "elman") {
        throw Error("--checkpoint " + ck.dir + ": the model's mixer is " + kind + "; lyapunov reads wcrnn or elman models");
    }
    std::vector<std::string> mixers;  // "blocks.<i>.mixer" in block order
    for (int i = 0;; i++) {
        const std::string p = "blocks." + std::to_string(i);
        if (!ck.weights.tensors.count(p + ".norm.gamma")) break;
        if (ck.weights.tensors.count(p + ".mixer.W")) mixers.push_back(p + ".mixer");
    }
    if (o.layer < 0 || o.layer >= (int)mixers.size()) {
        throw Error("--layer: the checkpoint has " + std::to_string(mixers.size()) + " recurrent layers, got " +
                    std::to_string(o.layer));
    }
    const std::string p = mixers[(size_t)o.layer];
    o.model = kind;
    o.act = mx.at("act");
    o.eps = mx.at("eps");
    o.residual = mx.at("residual");
    o.a = mx.at("a");
    cfg.eps = (float)o.eps;
    cfg.act = parse_activation(o.act);
    Tensor W = tensor_of(ck.weights.tensors.at(p + ".W"));
    if (kind == "wcrnn") {
        ResidualInit init;
        init.kind = parse_residual(o.residual);
        cfg.residual = make_residual(init, W.dim(0), 1);  // the kind; parameters from the checkpoint:
        if (ck.weights.tensors.count(p + ".rho_a")) cfg.residual.a = tensor_of(ck.weights.tensors.at(p + ".rho_a"));
        if (ck.weights.tensors.count(p + ".rho_theta")) cfg.residual.theta = tensor_of(ck.weights.tensors.at(p + ".rho_theta"));
        if (ck.weights.tensors.count(p + ".rho_Q")) cfg.residual.Q = tensor_of(ck.weights.tensors.at(p + ".rho_Q"));
    }
    return W;
}

Tensor load_cpu(const std::string &path) {
    npy::Array a = npy::read(path);
    return Tensor::from_host(a.shape, a.data.data());
}

void run_lyapunov(LyapunovCliOptions o) {
    if (o.hidden < 1) throw Error("--hidden must be >= 1");
    if (o.steps <= o.warmup) throw Error("--steps (" + std::to_string(o.steps) + ") must exceed --warmup (" + std::to_string(o.warmup) + ")");
    WcrnnConfig cfg;
    Tensor W;
    if (!o.checkpoint.empty()) {
        W = load_trained_core(o, cfg);
    } else {
        ResidualInit init;
        init.kind = parse_residual(o.residual);
        init.a = o.a;
        init.tau_min = o.tau_min;
        init.tau_max = o.tau_max;
        init.period = o.period;
        cfg.eps = (float)o.eps;
        cfg.act = parse_activation(o.act);
        cfg.residual = make_residual(init, o.hidden, o.seed);
    }
    if (!o.checkpoint.empty()) {
        // W and the residual come from the checkpoint
    } else if (!o.w_file.empty()) {
        W = load_cpu(o.w_file);
    } else if (o.model == "elman") {
        W = elman_init_weights(cfg.residual, o.eps, o.hidden, o.seed + 1);
    } else {
        W = Tensor::empty({o.hidden, o.hidden});
        std::mt19937_64 rng(o.seed + 1);
        std::normal_distribution<float> nd(0.f, 1.f / std::sqrt((float)o.hidden));
        for (int64_t i = 0; i < W.numel(); i++) W.data()[i] = nd(rng);
    }
    Tensor u;
    if (!o.u_file.empty()) {
        u = load_cpu(o.u_file);
    } else {
        u = Tensor::empty({o.batch, o.steps, W.dim(0)});
        std::mt19937_64 rng(o.seed + 2);
        std::normal_distribution<float> nd(0.f, (float)o.noise);
        for (int64_t i = 0; i < u.numel(); i++) u.data()[i] = nd(rng);
    }
    LyapunovOptions lo;
    lo.warmup = o.warmup;
    lo.num_exponents = o.k;
    LyapunovSpectrum sp = o.model == "elman" ? elman_lyapunov_spectrum(cfg.act, u, W, nullptr, lo)
                                             : lyapunov_spectrum(cfg, u, W, nullptr, lo);

    fmt::print("Lyapunov spectrum: model={} residual={} a={} eps={} act={} H={} ({} rows x {} steps after {} warm-up)\n",
               o.model, o.residual, o.a, o.eps, o.act, W.dim(0), sp.batch_rows, sp.steps, o.warmup);
    fmt::print("{:>5} {:>14} {:>16}\n", "i", "exponent", "timescale");
    for (size_t i = 0; i < sp.exponents.size(); i++) {
        fmt::print("{:>5} {:>14.6f} {:>16.3f}\n", i, sp.exponents[i], sp.timescales[i]);
    }
    if (!o.json.empty()) {
        nlohmann::json j = {{"model", o.model}, {"residual", o.residual}, {"a", o.a}, {"eps", o.eps}, {"act", o.act},
                            {"hidden", W.dim(0)}, {"steps", sp.steps}, {"batch_rows", sp.batch_rows},
                            {"exponents", sp.exponents}};
        nlohmann::json ts = nlohmann::json::array();
        for (double t : sp.timescales) ts.push_back(std::isfinite(t) ? nlohmann::json(t) : nlohmann::json(nullptr));
        j["timescales"] = ts;
        write_json_atomically(o.json, j);
    }
}

}  // namespace

void add_lyapunov_command(CLI::App &app, std::function<void()> &run) {
    auto o = std::make_shared<LyapunovCliOptions>();
    CLI::App *cmd = app.add_subcommand("lyapunov", "Lyapunov spectrum of a WCRNN or Elman RNN (QR method, float64)");
    cmd->add_option("--model", o->model, "wcrnn, or elman (h = f(W h + u); W from the weakly coupled init R + eps W0)")
        ->check(CLI::IsMember({"wcrnn", "elman"}))->capture_default_str();
    cmd->add_option("--residual", o->residual, "identity, scalar, diagonal, rotation, orthogonal, nonlinear")
        ->check(CLI::IsMember({"identity", "scalar", "diagonal", "rotation", "orthogonal", "nonlinear"}))->capture_default_str();
    cmd->add_option("--a", o->a, "residual scale a")->capture_default_str();
    cmd->add_option("--tau-min", o->tau_min, "diagonal: shortest timescale (steps)")->capture_default_str();
    cmd->add_option("--tau-max", o->tau_max, "diagonal: longest timescale (steps)")->capture_default_str();
    cmd->add_option("--period", o->period, "rotation: match angles to this period (0: random)")->capture_default_str();
    cmd->add_option("--eps", o->eps, "coupling constant")->capture_default_str();
    cmd->add_option("--act", o->act, "tanh or relu")->check(CLI::IsMember({"tanh", "relu"}))->capture_default_str();
    cmd->add_option("--hidden", o->hidden, "H (when W is not given)")->capture_default_str();
    cmd->add_option("--steps", o->steps, "T of the noise drive")->capture_default_str();
    cmd->add_option("--batch", o->batch, "rows of the noise drive (the spectrum is their mean)")->capture_default_str();
    cmd->add_option("--noise", o->noise, "std of the noise drive")->capture_default_str();
    cmd->add_option("--warmup", o->warmup, "steps before summing")->capture_default_str();
    cmd->add_option("--k", o->k, "leading exponents only (0: all)")->capture_default_str();
    cmd->add_option("--seed", o->seed, "seed for the residual, W and the noise")->capture_default_str();
    cmd->add_option("--u", o->u_file, "drive u [B,T,H] as .npy instead of noise");
    cmd->add_option("--W", o->w_file, "recurrent matrix W [H,H] as .npy");
    cmd->add_option("--json", o->json, "also write the spectrum as JSON to this file");
    cmd->add_option("--checkpoint", o->checkpoint, "a trained model (statemix train's run or checkpoint directory)");
    cmd->add_option("--layer", o->layer, "with --checkpoint: which recurrent layer (0 = first)")->capture_default_str();
    cmd->callback([o, &run] { run = [o] { run_lyapunov(*o); }; });
}

}  // namespace statemix::cli
