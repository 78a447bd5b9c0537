// The checked config every task builder reads, and the builders make_task dispatches to.
// Internal to tasks/: the rest of statemix calls make_task (task.h).
#pragma once

#include "tasks/task.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace statemix::tasks {

// Bounds that turn a typo into an error instead of a many-gigabyte allocation. Token ids travel
// to the model as float, exact only below 2^24.
constexpr int64_t kMaxVocab = int64_t(1) << 24;
constexpr int64_t kMaxCount = int64_t(1) << 31;        // any length or sequence count
constexpr int64_t kMaxSplitValues = int64_t(1) << 32;  // input values held by one split

// A task config after make_task merged it over task_defaults(name) and checked every field's
// name and type. Ranges are checked by the accessors, in the builder, because a bound can depend
// on another field (selective_copy: seq_len >= 2*n_tokens+1).
struct TaskConfig {
    std::string name;
    nlohmann::json fields;  // every field the task accepts, defaults filled in

    // `why` (optional) says where a bound comes from, for the error message.
    int64_t integer(const std::string &field, int64_t lo, int64_t hi, const std::string &why = "") const;
    double real_open(const std::string &field, double lo, double hi) const;  // strictly inside (lo, hi)
    bool boolean(const std::string &field) const;
    std::string string(const std::string &field) const;
    std::vector<std::string> strings(const std::string &field) const;  // a string or an array of strings
};

// Throws Error("task.<field> (<task name>): <what>").
[[noreturn]] void config_error(const TaskConfig &c, const std::string &field, const std::string &what);
// Throws Error naming `count_field` when n sequences of `values_per_sequence` inputs exceed kMaxSplitValues.
void check_split_size(const TaskConfig &c, const std::string &count_field, int64_t n,
                      int64_t values_per_sequence);

// synthetic_tasks.cpp
TaskData make_selective_copy(const TaskConfig &c, uint64_t seed);
TaskData make_recall(const TaskConfig &c, uint64_t seed);
TaskData make_compression(const TaskConfig &c, uint64_t seed);
TaskData make_group(const TaskConfig &c, uint64_t seed);
// sequence_tasks.cpp
TaskData make_seq_image(const TaskConfig &c, uint64_t seed);
TaskData make_adding(const TaskConfig &c, uint64_t seed);
// text_task.cpp
TaskData make_lm(const TaskConfig &c, uint64_t seed);
// The default lm corpus: those of Debian's fortunes files (fortunes, literature, riddles) that
// exist, all three if none does (so the error names what to install).
std::vector<std::string> default_lm_corpus();

}  // namespace statemix::tasks
