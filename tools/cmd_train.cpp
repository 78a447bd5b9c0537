// `statemix train [CONFIG]` and `statemix eval CHECKPOINT` (train/trainer.h does the work).
// Without a config, train runs configs/main.json (embedded at build time): a BD-LRU (m = 2) token
// model on a small selective-copying task, a few minutes on a 2-core CPU (the README's main job).
#include "commands.h"
#include "default_config.h"
#include "models/config.h"
#include "train/trainer.h"

#include <nlohmann/json.hpp>

namespace statemix::cli {
namespace {

struct TrainCli {
    std::string config, out, resume;
    std::vector<std::string> sets;
    bool profile = false;
};

}  // namespace

void add_train_command(CLI::App &app, std::function<void()> &run) {
    auto o = std::make_shared<TrainCli>();
    CLI::App *c = app.add_subcommand("train", "train a model from a JSON config (no config: the embedded default)");
    c->add_option("config", o->config, "run config (JSON: model, task, train sections); see configs/");
    c->add_option("--out", o->out, "run directory (default runs/<task>-<mixer>)");
    c->add_option("--resume", o->resume, "continue the run in this directory (or from this checkpoint directory)");
    c->add_option("--set", o->sets, "override a config field: section.key=value (repeatable)");
    c->add_flag("--profile", o->profile, "time every layer; print the breakdown, tokens/s and kernel shares at the end");
    c->callback([o, &run] {
        run = [o] {
            nlohmann::json cfg;
            if (!o->config.empty()) {
                cfg = models::read_config_file(o->config);
            } else if (o->resume.empty()) {
                cfg = nlohmann::json::parse(kDefaultConfig);
            }
            train::TrainOptions opt;
            opt.run_dir = o->out;
            opt.resume = o->resume;
            opt.overrides = o->sets;
            opt.profile = o->profile;
            train::TrainResult r = train::run_training(cfg, opt);
            if (r.interrupted) std::exit(130);
        };
    });
}

void add_eval_command(CLI::App &app, std::function<void()> &run) {
    auto path = std::make_shared<std::string>();
    auto sets = std::make_shared<std::vector<std::string>>();
    CLI::App *c = app.add_subcommand("eval", "evaluate a checkpoint on its task's test split");
    c->add_option("checkpoint", *path, "a run directory or a checkpoint directory")->required();
    c->add_option("--set", *sets, "override train.* fields (batch, device, threads, eval_batches)");
    c->callback([path, sets, &run] { run = [path, sets] { train::run_evaluation(*path, *sets); }; });
}

}  // namespace statemix::cli
