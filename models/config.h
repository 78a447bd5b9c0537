// A run's configuration: one JSON file with three sections,
//   {"model": {...}, "task": {...}, "train": {...}}
// Every field has a default (model_defaults(), train_defaults(); the task's from
// tasks::task_defaults). Unknown fields, wrong types and values out of range are errors that name
// the field, what is allowed and what was given. `--set section.key=value` overrides a field
// (value parsed as JSON, else taken as a string). The resolved config (every default written
// out) is what a run directory and a checkpoint keep.
#pragma once

#include "layers.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace statemix::models {

struct ModelConfig {
    int64_t d_model = 128;
    int n_layers = 2;            // pre-norm residual blocks of [mixer, mlp]
    std::string mlp = "swiglu";  // swiglu | gelu | none
    int64_t mlp_width = 0;       // 0: swiglu_width(D) (SwiGLU) or 4·D (GELU)
    bool pos_emb = false;        // learned position embedding (token input)
    double ln_eps = 1e-5;
    MixerConfig mixer;
};

struct TrainConfig {
    int64_t steps = 1000;
    int64_t batch = 128;
    double lr = 5e-4, min_lr = 1e-6;
    int64_t warmup = 0;          // linear warm-up steps, then cosine to min_lr
    double weight_decay = 0.0, beta1 = 0.9, beta2 = 0.999, adam_eps = 1e-8;
    double clip = 1.0;           // global gradient-norm clip (0: off)
    uint64_t seed = 12345;
    int64_t eval_every = 0;      // 0: only at the end
    int64_t eval_batches = 0;    // 0: the whole test split
    int64_t checkpoint_every = 0;  // 0: only at the end
    int64_t log_every = 10;
    std::string device = "cpu";
    int threads = 0;             // 0: every core
};

// Defaults of each section, as JSON (the schema resolve() checks against).
nlohmann::json model_defaults();
nlohmann::json train_defaults();

// `given` merged over `defaults`; Error naming "<path>.<key>" for an unknown key or a wrong type.
nlohmann::json resolve_section(const nlohmann::json &defaults, const nlohmann::json &given, const std::string &path);
// Applies "section.key=value" (nested keys with dots: model.mixer.m=4). Error for a bad form.
void apply_override(nlohmann::json &config, const std::string &assignment);

// Resolves a whole run config: sections checked, task defaults filled from its name.
nlohmann::json resolve_run_config(const nlohmann::json &given);
ModelConfig model_config(const nlohmann::json &resolved_model);  // + value checks
TrainConfig train_config(const nlohmann::json &resolved_train);

// Reads a config file (Error naming the file for a missing file or bad JSON).
nlohmann::json read_config_file(const std::string &path);

}  // namespace statemix::models
