// `statemix train` and `statemix eval`: a run is a directory (STYLE.md):
//   RUN_DIR/config.json        the resolved config, every default written out
//   RUN_DIR/metrics.jsonl      one JSON object per log step and per evaluation
//   RUN_DIR/curves.svg         loss and accuracy curves, redrawn at every evaluation and at the end
//   RUN_DIR/checkpoints/...    train/checkpoint.h (safetensors weights, AdamW state, config, step)
// The step, top to bottom (llm.c's train_gpt2.c): gather the batch, forward layer by layer, loss,
// backward in reverse, clip, AdamW. --resume continues from the newest checkpoint exactly (the
// data order and the schedule are functions of the step, the optimizer state is saved).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdio>
#include <string>
#include <vector>

namespace statemix::train {

struct TrainOptions {
    std::string run_dir;                 // where the run lives ("" = runs/<task>-<mixer>)
    std::string resume;                  // a run or checkpoint directory to continue
    std::vector<std::string> overrides;  // "section.key=value"
    bool profile = false;                // time every layer, print the breakdown at the end
    std::FILE *out = stdout;             // results; the progress bar goes to stderr
};

struct TrainResult {
    std::string run_dir;
    int64_t steps_done = 0;
    double test_loss = 0, test_acc = 0, test_macro_acc = 0;
    double tokens_per_s = 0;
    bool interrupted = false;
};

// `config` may be empty when resuming (the checkpoint's is used). Error for bad input.
TrainResult run_training(const nlohmann::json &config, const TrainOptions &opt);

// Evaluates a checkpoint (a run or checkpoint directory) on its task's test split; prints and
// returns {"test_loss", "test_acc", "test_macro_acc", ...}.
nlohmann::json run_evaluation(const std::string &checkpoint, const std::vector<std::string> &overrides,
                              std::FILE *out = stdout);

}  // namespace statemix::train
