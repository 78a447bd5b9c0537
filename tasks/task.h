// Training tasks (spec/tasks.md): every task's data, generated or loaded in memory,
// deterministic from a seed, with a train and a test split.
//
// Conventions every task follows:
//   - Random tasks draw the train split from derive_seed(seed, 1) and the test split from
//     derive_seed(seed, 2) (tasks/random.h), one sequence after another, so the first k
//     sequences of a split are the same whatever n_train / n_test are.
//   - A classification task fills Dataset::targets (-1 = ignored in the loss and the metrics) and
//     leaves Dataset::values empty; a regression task (adding) does the opposite.
//   - Config fields are checked by name, type and range; a bad one throws Error naming it
//     ("task.seq_len (selective_copy): ..."), what is allowed and what was given.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace statemix::tasks {

// One split of a task, held in memory. Inputs are either tokens (int32 ids in [0, vocab_in)) or
// float features; targets are class ids (-1 = ignored in the loss and metrics) or regression values.
struct Dataset {
    int64_t n = 0;                  // sequences
    int64_t T = 0;                  // input length
    int64_t F = 0;                  // features per step (0 = token input)
    std::vector<int32_t> tokens;    // [n, T] when F == 0
    std::vector<float> features;    // [n, T, F] when F > 0
    int64_t T_out = 0;              // target positions per sequence: T for per-position tasks, 1 for last-step readout
    std::vector<int32_t> targets;   // [n, T_out] class ids, -1 ignored (classification tasks)
    std::vector<float> values;      // [n, T_out] (regression tasks, e.g. adding)
};

enum class Readout { every_step, last_step, autoencoder };  // which model head the task needs
enum class LossKind { cross_entropy, mse };

struct TaskInfo {
    std::string name;            // "selective_copy", ...
    int vocab_in = 0;            // token vocabulary (token input), 0 for feature input
    int n_classes = 0;           // output classes (0 for regression)
    Readout readout = Readout::every_step;
    LossKind loss = LossKind::cross_entropy;
    bool bits_per_byte = false;  // language modelling: report bits per byte / perplexity
};

struct TaskData {
    TaskInfo info;
    Dataset train, test;
};

// Builds the task from its JSON config object (the "task" section of a model/run config), e.g.
// {"name":"selective_copy","vocab":16,"seq_len":256,"n_tokens":16,"n_train":12800,"n_test":1280}
// Every field but "name" has the spec's default; an unknown field, a wrong type or an
// out-of-range value throws Error naming the field, what is allowed and what was given.
TaskData make_task(const nlohmann::json &cfg, uint64_t seed);
// The fields a task accepts with their defaults, "name" included (for writing the resolved
// config and for --help). Throws Error for an unknown name.
nlohmann::json task_defaults(const std::string &name);
std::vector<std::string> task_names();

// A batch gathered from a dataset by sequence indices (the trainer shuffles indices itself).
struct Batch {
    int64_t B = 0, T = 0, F = 0, T_out = 0;
    std::vector<float> inputs;   // [B, T] token ids as float (exact below 2^24) or [B, T, F] features
    std::vector<float> targets;  // [B, T_out] class ids as float, -1 ignored; or regression values
};
// Reuses out's storage (no allocation once it has held a batch this large). Throws Error for an
// index outside [0, d.n) or a Dataset whose arrays do not match its shape.
void gather_batch(const Dataset &d, const std::vector<int64_t> &indices, Batch &out);

}  // namespace statemix::tasks
