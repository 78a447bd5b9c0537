#include "trainer.h"

#include "models/model.h"
#include "optimizer.h"
#include "runtime/error.h"
#include "runtime/tensor.h"
#include "runtime/thread_pool.h"
#include "tasks/task.h"
#include "runtime/file_io.h"
#include "train/checkpoint.h"
#include "train/progress.h"
#include "train/run_log.h"

#include "HalideRuntime.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <random>

namespace statemix::train {

using nlohmann::json;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

std::atomic<bool> g_interrupted{false};
void on_sigint(int) { g_interrupted.store(true); }

// Ctrl-C sets a flag; the loop finishes its step, writes a checkpoint and stops. A second
// Ctrl-C (the default handler again) ends the process at once.
struct SigintGuard {
    struct sigaction old {};
    SigintGuard() {
        g_interrupted.store(false);
        struct sigaction sa {};
        sa.sa_handler = on_sigint;
        sa.sa_flags = SA_RESETHAND;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &old);
    }
    ~SigintGuard() { sigaction(SIGINT, &old, nullptr); }
};


// Everything a run is built from its resolved config.
struct Setup {
    json config;
    models::ModelConfig mcfg;
    models::TrainConfig tcfg;
    tasks::TaskData data;
    Device device = Device::cpu;
    std::unique_ptr<models::Model> model;
};

std::unique_ptr<Setup> build(const json &resolved) {
    auto s = std::make_unique<Setup>();
    s->config = resolved;
    s->mcfg = models::model_config(resolved["model"]);
    s->tcfg = models::train_config(resolved["train"]);
    s->device = parse_device(s->tcfg.device);
    if (s->device == Device::cuda && !cuda_available()) {
        throw Error("train.device: cuda was asked for, but " + cuda_unavailable_reason());
    }
    set_num_threads(s->tcfg.threads);
    s->data = tasks::make_task(resolved["task"], s->tcfg.seed);
    const tasks::Dataset &d = s->data.train;
    if (d.n < 1 || s->data.test.n < 1) throw Error("task: the train and test splits must both hold sequences");
    s->model = std::make_unique<models::Model>(s->mcfg, s->data.info, d.T, d.T_out, d.F, s->device,
                                               s->tcfg.seed ^ 0x9e3779b97f4a7c15ULL);
    s->model->plan(s->tcfg.batch);
    return s;
}

// The i-th training sequence of the whole run: epoch e = i / n visits a permutation of the split
// drawn from (seed, e), so the order is a function of the step alone (resume needs no RNG state).
class DataOrder {
public:
    DataOrder(int64_t n, uint64_t seed) : n_(n), seed_(seed) {}
    int64_t at(int64_t i) {
        const int64_t e = i / n_;
        if (e != epoch_) {
            perm_.resize((size_t)n_);
            for (int64_t k = 0; k < n_; k++) perm_[(size_t)k] = k;
            std::mt19937_64 g(seed_ ^ (0xda3e39cb94b95bdbULL * (uint64_t)(e + 1)));
            for (int64_t k = n_ - 1; k > 0; k--) {  // Fisher-Yates with a bias-free bounded draw
                const uint64_t bound = (uint64_t)k + 1, limit = UINT64_MAX - UINT64_MAX % bound;
                uint64_t r;
                do r = g();
                while (r >= limit);
                std::swap(perm_[(size_t)k], perm_[(size_t)(r % bound)]);
            }
            epoch_ = e;
        }
        return perm_[(size_t)(i % n_)];
    }

private:
    int64_t n_, epoch_ = -1;
    uint64_t seed_;
    std::vector<int64_t> perm_;
};

models::BatchStats evaluate(models::Model &model, const tasks::Dataset &test, int64_t batch, int64_t max_batches) {
    model.pause_profile(true);
    models::BatchStats total;
    tasks::Batch b;
    std::vector<int64_t> idx;
    int64_t done = 0;
    for (int64_t start = 0; start < test.n; start += batch) {
        if (max_batches > 0 && done >= max_batches) break;
        idx.clear();
        for (int64_t i = start; i < std::min(test.n, start + batch); i++) idx.push_back(i);
        tasks::gather_batch(test, idx, b);
        total.add(model.run_batch(b, false));
        done++;
    }
    model.pause_profile(false);
    return total;
}

json eval_record(int64_t step, const models::BatchStats &st, const tasks::TaskInfo &info) {
    json r{{"step", step}, {"test_loss", st.loss()}};
    if (info.loss == tasks::LossKind::cross_entropy) {
        r["test_acc"] = st.accuracy();
        r["test_macro_acc"] = st.macro_accuracy();
    }
    if (info.bits_per_byte) {
        r["test_bpb"] = st.loss() / std::log(2.0);
        r["test_ppl"] = std::exp(st.loss());
    }
    return r;
}

std::string eval_line(const json &r) {
    std::string s = fmt::format("eval step {}: test loss {:.4f}", r["step"].get<int64_t>(), r["test_loss"].get<double>());
    if (r.contains("test_acc")) {
        s += fmt::format(", accuracy {:.2f}%, macro accuracy {:.2f}%", 100 * r["test_acc"].get<double>(),
                         100 * r["test_macro_acc"].get<double>());
    }
    if (r.contains("test_bpb")) s += fmt::format(", {:.3f} bits/byte, perplexity {:.2f}", r["test_bpb"].get<double>(), r["test_ppl"].get<double>());
    return s;
}

// The weights / optimizer moments as named host copies for a checkpoint.
struct HostCopies {
    std::vector<std::vector<float>> store;
    std::vector<TensorRef> refs;
    void add(const std::string &name, const Tensor &t) {
        store.emplace_back((size_t)t.numel());
        t.copy_to_host(store.back().data());
        refs.push_back(TensorRef{name, t.shape(), store.back().data()});
    }
};

std::string checkpoint_now(const std::string &run_dir, int64_t step, Setup &s) {
    models::ParamStore &ps = s.model->params();
    HostCopies w, o;
    w.store.reserve((size_t)ps.size());
    o.store.reserve((size_t)ps.size() * 2);
    for (int i = 0; i < ps.size(); i++) w.add(ps.spec(i).name, ps.param(i));
    // Moments by the same slots as the parameters.
    for (int a = 0; a < ps.adam_m().size(); a++) {
        const std::string &name = ps.adam_m().name(a);
        bool trainable = false;
        for (int i = 0; i < ps.size(); i++) {
            if (ps.spec(i).name == name) trainable = ps.spec(i).trainable;
        }
        if (!trainable) continue;
        o.add(name + ".m", ps.adam_m()[a]);
        o.add(name + ".v", ps.adam_v()[a]);
    }
    CheckpointData c{w.refs, o.refs, s.config, json{{"step", step}}};
    return save_checkpoint(run_dir, step, c);
}

// Loads weights (and, with optimizer, AdamW's moments) into the model. Error if a tensor is
// missing or of another shape: a checkpoint of another config is refused before anything changes.
void restore(const LoadedCheckpoint &ck, models::ParamStore &ps, bool optimizer) {
    auto fetch = [&](const SafetensorsFile &f, const std::string &name, const Tensor &like,
                     const char *file) -> const LoadedTensor & {
        auto it = f.tensors.find(name);
        if (it == f.tensors.end()) {
            throw Error("checkpoint " + ck.dir + ": " + file + " has no tensor '" + name +
                        "' (a checkpoint of another model config)");
        }
        if (it->second.shape != like.shape()) {
            throw Error("checkpoint " + ck.dir + ": tensor '" + name + "' has shape " + shape_str(it->second.shape) +
                        ", the model expects " + shape_str(like.shape()) + " (a checkpoint of another model config)");
        }
        return it->second;
    };
    // Check everything first, then copy: nothing changes when the checkpoint does not fit.
    for (int i = 0; i < ps.size(); i++) fetch(ck.weights, ps.spec(i).name, ps.param(i), "model.safetensors");
    if (optimizer) {
        for (int a = 0; a < ps.adam_m().size(); a++) {
            for (int i = 0; i < ps.size(); i++) {
                if (ps.spec(i).name != ps.adam_m().name(a) || !ps.spec(i).trainable) continue;
                fetch(ck.optimizer, ps.adam_m().name(a) + ".m", ps.adam_m()[a], "optimizer.safetensors");
                fetch(ck.optimizer, ps.adam_m().name(a) + ".v", ps.adam_v()[a], "optimizer.safetensors");
            }
        }
    }
    for (int i = 0; i < ps.size(); i++) {
        ps.param(i).copy_from_host(ck.weights.tensors.at(ps.spec(i).name).data.data());
    }
    if (!optimizer) return;
    for (int a = 0; a < ps.adam_m().size(); a++) {
        for (int i = 0; i < ps.size(); i++) {
            if (ps.spec(i).name != ps.adam_m().name(a) || !ps.spec(i).trainable) continue;
            ps.adam_m()[a].copy_from_host(ck.optimizer.tensors.at(ps.adam_m().name(a) + ".m").data.data());
            ps.adam_v()[a].copy_from_host(ck.optimizer.tensors.at(ps.adam_m().name(a) + ".v").data.data());
        }
    }
}

std::string default_run_dir(const json &cfg) {
    return "runs/" + cfg["task"]["name"].get<std::string>() + "-" + cfg["model"]["mixer"]["kind"].get<std::string>();
}

std::string profile_table(models::Model &model, int64_t steps, double step_seconds, int64_t tokens_per_step,
                          double optimizer_seconds) {
    const models::Profile &p = model.profile();
    const double n = (double)steps;
    double scan_total = 0;
    std::string s = fmt::format("\nprofile over {} steps, seconds per step (forward / backward; recurrence kernel part)\n", steps);
    for (size_t i = 0; i < p.names.size(); i++) {
        s += fmt::format("  {:<40} {:8.4f} / {:8.4f}   ({:.4f})\n", p.names[i], p.forward[i] / n, p.backward[i] / n,
                         p.scan[i] / n);
        scan_total += p.scan[i];
    }
    s += fmt::format("  {:<40} {:8.4f}\n", "embedding / input (fwd + bwd)", p.embed / n);
    s += fmt::format("  {:<40} {:8.4f}\n", "head + loss (fwd + bwd)", p.head / n);
    s += fmt::format("  {:<40} {:8.4f}\n", "optimizer (clip + AdamW)", optimizer_seconds / n);
    s += fmt::format("  step {:.4f} s, {:.0f} tokens/s; recurrence kernels {:.1f}%, dense products {:.1f}%\n",
                     step_seconds / n, (double)tokens_per_step * n / step_seconds, 100 * scan_total / step_seconds,
                     100 * p.dense_total / step_seconds);
    return s;
}

}  // namespace

TrainResult run_training(const json &config_in, const TrainOptions &opt) {
    json given = config_in;
    LoadedCheckpoint ck;
    const bool resuming = !opt.resume.empty();
    if (resuming) {
        ck = load_checkpoint(opt.resume);
        if (!given.is_null() && !given.empty() && models::resolve_run_config(given) != ck.config) {
            throw Error("--resume " + opt.resume + ": the config given differs from the checkpoint's (" + ck.dir +
                        "/config.json); resume without a config, or with --set for train.steps / eval_every / "
                        "checkpoint_every / log_every only");
        }
        given = ck.config;
    }
    for (const auto &o : opt.overrides) {
        if (resuming) {
            const std::string key = o.substr(0, o.find('='));
            if (key != "train.steps" && key != "train.eval_every" && key != "train.checkpoint_every" &&
                key != "train.log_every" && key != "train.eval_batches") {
                throw Error("--set " + o + ": a resumed run can only change train.steps, eval_every, eval_batches, "
                            "checkpoint_every or log_every (the rest would not be the same run)");
            }
        }
        models::apply_override(given, o);
    }
    const json resolved = models::resolve_run_config(given);
    std::unique_ptr<Setup> s = build(resolved);
    models::Model &model = *s->model;
    const models::TrainConfig &t = s->tcfg;
    const tasks::TaskInfo &info = s->data.info;

    TrainResult res;
    res.run_dir = !opt.run_dir.empty() ? opt.run_dir
                  : resuming           ? fs::path(ck.dir).parent_path().parent_path().string()
                                       : default_run_dir(resolved);
    const std::string metrics_path = res.run_dir + "/metrics.jsonl";
    int64_t start = 0;
    if (resuming) {
        // weights must match the resolved config's model exactly
        if (ck.config["model"] != resolved["model"] || ck.config["task"] != resolved["task"]) {
            throw Error("--resume: the checkpoint's model or task config differs from this run's");
        }
        restore(ck, model.params(), true);
        start = ck.state.at("step").get<int64_t>();
        truncate_metrics_after(metrics_path, start);
    } else if (fs::exists(res.run_dir + "/checkpoints/latest") || fs::exists(metrics_path)) {
        throw Error("run directory '" + res.run_dir + "' already holds a run; continue it with --resume " + res.run_dir +
                    " or choose another with --out");
    }
    fs::create_directories(res.run_dir);
    write_file_atomic(res.run_dir + "/config.json", resolved.dump(2) + "\n");
    MetricsLog log(metrics_path, resuming);

    std::fprintf(opt.out, "%s", model.summary().c_str());
    std::fprintf(opt.out, "task %s: %lld train / %lld test sequences of %lld steps; batch %lld, %lld steps%s; run %s\n",
                 info.name.c_str(), (long long)s->data.train.n, (long long)s->data.test.n, (long long)s->data.train.T,
                 (long long)t.batch, (long long)t.steps,
                 resuming ? fmt::format(" (resuming at {})", start).c_str() : "", res.run_dir.c_str());
    std::fflush(opt.out);

    AdamW adam(model.params(), t);
    DataOrder order(s->data.train.n, t.seed ^ 0x0123456789abcdefULL);
    tasks::Batch batch;
    std::vector<int64_t> idx((size_t)t.batch);
    const int64_t tokens_per_step = t.batch * s->data.train.T;
    if (opt.profile) model.set_profile(true);
    double optimizer_seconds = 0, profiled_seconds = 0;
    int64_t profiled_steps = 0;

    SigintGuard sig;
    ProgressBar bar(t.steps);
    models::BatchStats window;
    double window_loss = 0, window_norm = 0;
    int64_t window_steps = 0;
    auto window_t0 = Clock::now();
    auto write_plot = [&] {
        write_curves_svg(res.run_dir + "/curves.svg", read_metrics(metrics_path),
                         info.name + " / " + s->mcfg.mixer.kind);
    };
    int64_t step = start;
    for (; step < t.steps; step++) {
        auto t0 = Clock::now();
        for (int64_t b = 0; b < t.batch; b++) idx[(size_t)b] = order.at(step * t.batch + b);
        tasks::gather_batch(s->data.train, idx, batch);
        const double lr = learning_rate(t, step);
        models::BatchStats st = model.run_batch(batch, true);
        if (!std::isfinite(st.loss_sum)) {
            bar.finish();
            throw Error(fmt::format("step {}: the loss is {} (diverged); the last good checkpoint stays in {}/checkpoints",
                                    step + 1, st.loss_sum, res.run_dir));
        }
        auto t_opt = Clock::now();
        const double norm = adam.step(step + 1, lr);
        if (!std::isfinite(norm)) {
            bar.finish();
            throw Error(fmt::format("step {}: the gradient norm is {} (diverged); the last good checkpoint stays in "
                                    "{}/checkpoints",
                                    step + 1, norm, res.run_dir));
        }
        if (opt.profile && step > start) {  // the first step warms caches and creates primitives
            model.params().params().flat().sync();
            optimizer_seconds += std::chrono::duration<double>(Clock::now() - t_opt).count();
            profiled_seconds += std::chrono::duration<double>(Clock::now() - t0).count();
            profiled_steps++;
        } else if (opt.profile) {
            model.set_profile(true);  // drop the warm-up step's timings
        }
        window.add(st);
        window_loss += st.loss();
        window_norm += norm;
        window_steps++;
        const int64_t done = step + 1;
        const double acc = info.loss == tasks::LossKind::cross_entropy ? window.accuracy() : NAN;
        const double secs = std::chrono::duration<double>(Clock::now() - window_t0).count();
        const double tps = (double)(window_steps * tokens_per_step) / std::max(secs, 1e-9);
        bar.update(done, window_loss / window_steps, acc, lr, tps);
        if (done % t.log_every == 0 || done == t.steps) {
            json r{{"step", done}, {"loss", window_loss / window_steps}, {"lr", lr},
                   {"grad_norm", window_norm / window_steps}, {"tokens_per_s", tps}};
            if (info.loss == tasks::LossKind::cross_entropy) r["acc"] = window.accuracy();
            log.write(r);
            res.tokens_per_s = tps;
            window = models::BatchStats{};
            window_loss = window_norm = 0;
            window_steps = 0;
            window_t0 = Clock::now();
        }
        const bool last = done == t.steps;
        if (t.eval_every > 0 && done % t.eval_every == 0 && !last) {
            json r = eval_record(done, evaluate(model, s->data.test, t.batch, t.eval_batches), info);
            log.write(r);
            bar.println(eval_line(r));
            write_plot();
            window_t0 = Clock::now();
        }
        if (g_interrupted.load()) {
            step++;
            break;
        }
        if (t.checkpoint_every > 0 && done % t.checkpoint_every == 0 && !last) checkpoint_now(res.run_dir, done, *s);
    }
    bar.finish();
    res.steps_done = step;
    // The profile covers the training steps only (the evaluation below runs the same layers).
    std::string profile_text;
    if (opt.profile && profiled_steps > 0) {
        model.finish_profile();
        profile_text = profile_table(model, profiled_steps, profiled_seconds, tokens_per_step, optimizer_seconds);
    }
    model.set_profile(false);
    if (g_interrupted.load() && step < t.steps) {
        const std::string dir = checkpoint_now(res.run_dir, step, *s);
        write_plot();
        std::fprintf(opt.out, "interrupted at step %lld: checkpoint written to %s; continue with --resume %s\n",
                     (long long)step, dir.c_str(), res.run_dir.c_str());
        res.interrupted = true;
        return res;
    }
    const std::string dir = checkpoint_now(res.run_dir, step, *s);
    const models::BatchStats test = evaluate(model, s->data.test, t.batch, t.eval_batches);
    json r = eval_record(step, test, info);
    r["final"] = true;
    log.write(r);
    write_plot();
    res.test_loss = test.loss();
    res.test_acc = test.accuracy();
    res.test_macro_acc = test.macro_accuracy();
    std::fprintf(opt.out, "%s\n", eval_line(r).c_str());
    std::fprintf(opt.out, "checkpoint: %s\ncurves: %s/curves.svg\nmetrics: %s\n", dir.c_str(), res.run_dir.c_str(),
                 metrics_path.c_str());
    std::fprintf(opt.out, "%s", profile_text.c_str());
    return res;
}

json run_evaluation(const std::string &checkpoint, const std::vector<std::string> &overrides, std::FILE *out) {
    LoadedCheckpoint ck = load_checkpoint(checkpoint);
    json given = ck.config;
    for (const auto &o : overrides) {
        const std::string key = o.substr(0, o.find('='));
        if (key.rfind("train.", 0) != 0) {
            throw Error("--set " + o + ": eval can only change train.* fields (batch, device, threads, eval_batches)");
        }
        models::apply_override(given, o);
    }
    std::unique_ptr<Setup> s = build(models::resolve_run_config(given));
    restore(ck, s->model->params(), false);
    const models::BatchStats st = evaluate(*s->model, s->data.test, s->tcfg.batch, s->tcfg.eval_batches);
    json r = eval_record(ck.state.at("step").get<int64_t>(), st, s->data.info);
    std::fprintf(out, "%s\n", eval_line(r).c_str());
    return r;
}

}  // namespace statemix::train
