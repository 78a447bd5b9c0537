// The training loop end to end on tiny runs: determinism, exact resume, the run directory's
// files, and the bad inputs the trainer must refuse (a diverged loss, a checkpoint of another
// config, a corrupt checkpoint, a missing data file).
#include "runtime/error.h"
#include "runtime/tensor.h"
#include "train/checkpoint.h"
#include "train/run_log.h"
#include "train/trainer.h"
#include "tests/test_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <thread>

namespace statemix::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/statemix_train_XXXXXX";
        path = mkdtemp(tmpl);
    }
    ~TempDir() { fs::remove_all(path); }
};

json tiny(const std::string &mixer = "bdlru", int64_t steps = 8) {
    json c = json::parse(R"({
      "model": {"d_model": 16, "n_layers": 1, "mlp": "swiglu", "mixer": {"kind": "bdlru", "m": 2, "n": 8, "hidden": 16}},
      "task": {"name": "group", "group_n": 3, "seq_len": 8, "n_train": 256, "n_test": 64},
      "train": {"steps": 8, "batch": 16, "lr": 3e-3, "warmup": 2, "log_every": 1, "threads": 2}
    })");
    c["model"]["mixer"]["kind"] = mixer;
    c["train"]["steps"] = steps;
    return c;
}

train::TrainResult run(const json &cfg, const std::string &dir, const std::vector<std::string> &sets = {},
                       const std::string &resume = "") {
    train::TrainOptions o;
    o.run_dir = dir;
    o.resume = resume;
    o.overrides = sets;
    o.out = std::fopen("/dev/null", "w");
    train::TrainResult r = train::run_training(cfg, o);
    std::fclose(o.out);
    return r;
}

std::vector<double> losses(const std::string &dir) {
    std::vector<double> v;
    for (const auto &r : train::read_metrics(dir + "/metrics.jsonl")) {
        if (r.contains("loss")) v.push_back(r["loss"].get<double>());
    }
    return v;
}

TEST(Training, SameSeedSameThreadsSameLossCurveBitForBit) {
    for (const char *mixer : {"bdlru", "lstm"}) {
        TempDir a, b;
        run(tiny(mixer), a.path + "/run");
        run(tiny(mixer), b.path + "/run");
        std::vector<double> la = losses(a.path + "/run"), lb = losses(b.path + "/run");
        ASSERT_EQ(la.size(), 8u);
        EXPECT_EQ(la, lb) << mixer;  // exact equality of doubles
        // and the loss went down: the model learns
        EXPECT_LT(la.back(), la.front()) << mixer;
    }
}

TEST(Training, ResumeContinuesExactlyWhereItStopped) {
    TempDir full, cut;
    run(tiny("bdlru", 10), full.path + "/run");
    run(tiny("bdlru", 10), cut.path + "/run", {"train.checkpoint_every=4"});
    // checkpoints at 8 and 10 are kept (keep = 2); go back to 8 as if the run had stopped there
    const std::string ck8 = cut.path + "/run/checkpoints/" + train::checkpoint_name(8);
    ASSERT_TRUE(fs::exists(ck8)) << ck8;
    run(json(), "", {}, ck8);
    const std::vector<double> lf = losses(full.path + "/run"), lr = losses(cut.path + "/run");
    ASSERT_EQ(lf.size(), 10u);
    EXPECT_EQ(lr, lf);  // bit for bit the uninterrupted curve, no duplicated records
    train::LoadedCheckpoint a = train::load_checkpoint(full.path + "/run"), b = train::load_checkpoint(cut.path + "/run");
    EXPECT_EQ(b.state["step"], 10);
    ASSERT_EQ(a.weights.tensors.size(), b.weights.tensors.size());
    for (const auto &[name, t] : a.weights.tensors) EXPECT_EQ(t.data, b.weights.tensors.at(name).data) << name;
    for (const auto &[name, t] : a.optimizer.tensors) EXPECT_EQ(t.data, b.optimizer.tensors.at(name).data) << name;
}

TEST(Training, CtrlCWritesACheckpointAndResumeContinues) {
    // A constant learning rate (min_lr = lr, no warm-up), so the curve does not depend on train.steps.
    const std::vector<std::string> flat = {"train.min_lr=0.003", "train.warmup=0"};
    TempDir d, ref;
    std::vector<std::string> sets = flat;
    train::TrainResult r;
    {
        std::thread killer([] {
            std::this_thread::sleep_for(std::chrono::milliseconds(1500));
            std::raise(SIGINT);
        });
        struct Join {
            std::thread &t;
            ~Join() { t.join(); }
        } join{killer};
        r = run(tiny("bdlru", 1000000), d.path + "/run", sets);
    }
    ASSERT_TRUE(r.interrupted);
    ASSERT_GT(r.steps_done, 0);
    train::LoadedCheckpoint ck = train::load_checkpoint(d.path + "/run");
    EXPECT_EQ(ck.state["step"], r.steps_done);
    // resume for 3 more steps; compare with one uninterrupted run of the same length
    const int64_t total = r.steps_done + 3;
    run(json(), "", {"train.steps=" + std::to_string(total)}, d.path + "/run");
    sets.push_back("train.steps=" + std::to_string(total));
    run(tiny("bdlru", total), ref.path + "/run", sets);
    EXPECT_EQ(losses(d.path + "/run"), losses(ref.path + "/run"));
}

TEST(Training, RunDirectoryHoldsConfigMetricsPlotAndCheckpoint) {
    TempDir d;
    train::TrainResult r = run(tiny(), d.path + "/run", {"train.eval_every=4"});
    EXPECT_TRUE(fs::exists(d.path + "/run/config.json"));
    EXPECT_TRUE(fs::exists(d.path + "/run/curves.svg"));
    EXPECT_TRUE(fs::exists(d.path + "/run/checkpoints/latest"));
    std::ifstream f(d.path + "/run/config.json");
    json cfg = json::parse(f);
    EXPECT_EQ(cfg["train"]["eval_every"], 4);
    EXPECT_EQ(cfg["model"]["ln_eps"], 1e-5);  // every default written out
    int evals = 0;
    for (const auto &rec : train::read_metrics(d.path + "/run/metrics.jsonl")) evals += rec.contains("test_acc");
    EXPECT_EQ(evals, 2);  // step 4 and the final one
    EXPECT_GT(r.test_acc, 0.0);
    // eval of the saved checkpoint reproduces the final evaluation
    std::FILE *null = std::fopen("/dev/null", "w");
    json e = train::run_evaluation(d.path + "/run", {}, null);
    std::fclose(null);
    EXPECT_DOUBLE_EQ(e["test_acc"].get<double>(), r.test_acc);
    EXPECT_DOUBLE_EQ(e["test_loss"].get<double>(), r.test_loss);
    // a second run into the same directory is refused, nothing overwritten
    expect_error([&] { run(tiny(), d.path + "/run"); }, {"already holds a run", "--resume"});
}

TEST(Training, DivergedLossStopsNamingTheStepAndKeepsTheCheckpoint) {
    TempDir d;
    expect_error([&] { run(tiny("bdlru", 40), d.path + "/run", {"model.mixer.norm=none", "train.lr=1000", "train.clip=0", "train.checkpoint_every=1"}); },
                 {"step", "diverged", "checkpoint"});
    // the last good checkpoint is there and loads
    train::LoadedCheckpoint ck = train::load_checkpoint(d.path + "/run");
    EXPECT_GE(ck.state["step"].get<int64_t>(), 1);
}

TEST(Training, CheckpointOfAnotherConfigIsRefused) {
    TempDir d;
    run(tiny(), d.path + "/run");
    // the checkpoint's own config names a wider model: weights of the wrong shape
    const std::string ck = d.path + "/run/checkpoints/" + train::checkpoint_name(8);
    json cfg = json::parse(std::ifstream(ck + "/config.json"));
    cfg["model"]["d_model"] = 24;
    std::ofstream(ck + "/config.json") << cfg.dump();
    const auto before = fs::file_size(ck + "/model.safetensors");
    expect_error([&] { train::run_evaluation(ck, {}, stdout); }, {"another model config"});
    EXPECT_EQ(fs::file_size(ck + "/model.safetensors"), before);
}

TEST(Training, CorruptCheckpointIsRefusedNamingTheFile) {
    TempDir d;
    run(tiny(), d.path + "/run");
    const std::string file = d.path + "/run/checkpoints/" + train::checkpoint_name(8) + "/model.safetensors";
    fs::resize_file(file, fs::file_size(file) / 2);  // truncated
    expect_error([&] { run(json(), "", {}, d.path + "/run"); }, {"model.safetensors"});
    expect_error([&] { train::run_evaluation(d.path + "/run", {}, stdout); }, {"model.safetensors"});
}

// Issue #9's "every model family on every task": a tiny model of each mixer family runs 16 steps
// of each task (token tasks, the image and adding tasks with their last-step readouts, byte-level
// language modelling). Every loss is finite, the training loss falls (the mean of the last four
// steps under the first step's), the final evaluation's numbers are in range, and the checkpoint
// evaluates to the same numbers.
TEST(Training, EveryMixerFamilyTrainsOnEveryTask) {
    const std::vector<std::pair<std::string, json>> tasks = {
        {"selective_copy", {{"vocab", 8}, {"seq_len", 16}, {"n_tokens", 4}, {"n_train", 256}, {"n_test", 64}}},
        {"recall", {{"vocab", 8}, {"seq_len", 16}, {"n_train", 256}, {"n_test", 64}}},
        {"compression", {{"vocab", 8}, {"seq_len", 8}, {"n_train", 256}, {"n_test", 64}}},
        {"group", {{"group_n", 3}, {"seq_len", 8}, {"n_train", 256}, {"n_test", 64}}},
        {"seq_image", {{"n_train", 64}, {"n_test", 32}}},
        {"adding", {{"seq_len", 24}, {"n_train", 256}, {"n_test", 64}}},
        {"lm", {{"seq_len", 32}, {"n_train", 256}, {"n_test", 64}}},
    };
    std::FILE *null = std::fopen("/dev/null", "w");
    int runs = 0;
    for (const auto &[task, fields] : tasks) {
        for (const char *mixer : {"bdlru", "hlru", "wcrnn", "elman", "lstm"}) {
            SCOPED_TRACE(task + " / " + mixer);
            TempDir d;
            json c = tiny(mixer, 16);
            c["task"] = fields;
            c["task"]["name"] = task;
            c["train"]["lr"] = 1e-2;
            c["train"]["batch"] = task == "seq_image" ? 8 : 16;
            c["train"]["eval_batches"] = 2;
            train::TrainResult r = run(c, d.path + "/run");
            EXPECT_EQ(r.steps_done, 16);
            const std::vector<double> l = losses(d.path + "/run");
            ASSERT_EQ(l.size(), 16u);
            for (double x : l) ASSERT_TRUE(std::isfinite(x));
            EXPECT_LT((l[12] + l[13] + l[14] + l[15]) / 4, l[0]);
            EXPECT_TRUE(std::isfinite(r.test_loss));
            EXPECT_GE(r.test_acc, 0.0);
            EXPECT_LE(r.test_acc, 1.0);
            const json e = train::run_evaluation(d.path + "/run", {}, null);
            EXPECT_DOUBLE_EQ(e["test_loss"].get<double>(), r.test_loss);
            runs++;
        }
    }
    std::fclose(null);
    EXPECT_EQ(runs, 35);
}

// Every config shipped in configs/ is valid and trains: one step of each, at a small batch and
// split (its model, task and schedule as shipped otherwise).
TEST(Training, EveryShippedConfigRunsAStep) {
    int n = 0;
    for (const auto &entry : fs::directory_iterator(std::string(STATEMIX_SOURCE_DIR) + "/configs")) {
        if (entry.path().extension() != ".json") continue;
        SCOPED_TRACE(entry.path().string());
        json c = json::parse(std::ifstream(entry.path()));
        TempDir d;
        train::TrainResult r = run(c, d.path + "/run",
                                   {"train.steps=1", "train.batch=2", "train.warmup=0", "train.eval_batches=1",
                                    "task.n_train=8", "task.n_test=4"});
        EXPECT_EQ(r.steps_done, 1);
        EXPECT_TRUE(std::isfinite(r.test_loss));
        n++;
    }
    EXPECT_GE(n, 12);
}

TEST(Training, BadInputsNameTheirField) {
    TempDir d;
    json c = tiny();
    c["train"]["batch"] = 0;
    expect_error([&] { run(c, d.path + "/a"); }, {"train.batch", "0"});
    c = tiny();
    c["model"]["mixer"]["wat"] = 1;
    expect_error([&] { run(c, d.path + "/b"); }, {"model.mixer.wat", "unknown"});
    json img = json::parse(R"({"model": {"mixer": {"kind": "elman", "hidden": 8}, "mlp": "none", "n_layers": 1, "d_model": 8},
                               "task": {"name": "seq_image", "path": "/nonexistent/mnist"},
                               "train": {"steps": 1}})");
    expect_error([&] { run(img, d.path + "/c"); }, {"/nonexistent/mnist"});
    expect_error([&] { run(tiny(), d.path + "/e", {"train.devic=cpu"}); }, {"train.devic"});
    expect_error([&] { run(json(), "", {}, d.path + "/nothing-here"); }, {"nothing-here"});
    // a resumed run may not change the model
    run(tiny(), d.path + "/f");
    expect_error([&] { run(json(), "", {"model.d_model=32"}, d.path + "/f"); }, {"model.d_model"});
}

TEST(Training, CudaMatchesCpuOnAFewSteps) {
    if (!cuda_available()) GTEST_SKIP() << cuda_unavailable_reason();
    for (const char *mixer : {"bdlru", "hlru", "wcrnn", "elman", "lstm"}) {
        TempDir c, g;
        json cfg = tiny(mixer, 5);
        if (std::string(mixer) == "hlru") cfg["model"]["mixer"]["m"] = 2;
        run(cfg, c.path + "/run");
        run(cfg, g.path + "/run", {"train.device=cuda"});
        const std::vector<double> lc = losses(c.path + "/run"), lg = losses(g.path + "/run");
        ASSERT_EQ(lc.size(), lg.size());
        for (size_t i = 0; i < lc.size(); i++) EXPECT_NEAR(lg[i], lc[i], 1e-3 * std::abs(lc[i]) + 1e-4) << mixer << " step " << i + 1;
    }
}

}  // namespace
}  // namespace statemix::test
