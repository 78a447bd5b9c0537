// make_task: the table of tasks with their default configs, the config checks, and the batch
// gatherer. The task builders live in synthetic_tasks.cpp, sequence_tasks.cpp, text_task.cpp.
#include "tasks/task.h"

#include "tasks/task_config.h"

#include "runtime/error.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <limits>

namespace statemix::tasks {

namespace {

using json = nlohmann::json;

struct TaskEntry {
    const char *name;
    TaskData (*build)(const TaskConfig &, uint64_t);
    json defaults;  // every accepted field but "name"; a field's type is its default's type
};

// Defaults from spec/tasks.md. seq_image / lm: n_train = n_test = 0 means every image / window.
const std::vector<TaskEntry> &task_table() {
    static const std::vector<TaskEntry> table = {
        {"selective_copy", make_selective_copy,
         {{"vocab", 16}, {"seq_len", 256}, {"n_tokens", 16}, {"n_train", 12800}, {"n_test", 1280}}},
        {"recall", make_recall, {{"vocab", 16}, {"seq_len", 128}, {"n_train", 12800}, {"n_test", 1280}}},
        {"compression", make_compression, {{"vocab", 16}, {"seq_len", 32}, {"n_train", 12800}, {"n_test", 1280}}},
        {"group", make_group, {{"group_n", 3}, {"seq_len", 16}, {"n_train", 100000}, {"n_test", 10000}}},
        {"seq_image", make_seq_image,
         {{"path", "/usr/share/datasets/fashion-mnist"},
          {"train_images", ""},
          {"train_labels", ""},
          {"test_images", ""},
          {"test_labels", ""},
          {"permute", false},
          {"n_train", 0},
          {"n_test", 0}}},
        {"adding", make_adding, {{"seq_len", 100}, {"n_train", 12800}, {"n_test", 1280}}},
        {"lm", make_lm,
         {{"corpus", default_lm_corpus()}, {"seq_len", 256}, {"test_fraction", 0.1}, {"n_train", 0}, {"n_test", 0}}},
    };
    return table;
}

std::string names_list() {
    std::string s;
    for (const auto &e : task_table()) s += (s.empty() ? "" : ", ") + std::string(e.name);
    return s;
}

const TaskEntry &find_task(const std::string &name) {
    for (const auto &e : task_table())
        if (name == e.name) return e;
    throw Error(fmt::format("task.name: expected one of {}, got '{}'", names_list(), name));
}

// The given value as JSON text, cut short for an error message.
std::string shown(const json &v) {
    std::string s = v.dump();
    if (s.size() > 80) s = s.substr(0, 77) + "...";
    return s + " (" + v.type_name() + ")";
}

// Does `given` have the type of the field whose default is `def`? An integer field takes only
// integers (12800.0 is refused, not truncated); a real field takes any number; a list-of-paths
// field (lm's corpus) also takes a single string.
bool same_kind(const json &def, const json &given) {
    if (def.is_boolean()) return given.is_boolean();
    if (def.is_number_integer()) return given.is_number_integer();
    if (def.is_number_float()) return given.is_number();
    if (def.is_string()) return given.is_string();
    if (def.is_array()) {
        if (given.is_string()) return true;
        if (!given.is_array()) return false;
        for (const auto &x : given)
            if (!x.is_string()) return false;
        return true;
    }
    return false;
}

const char *kind_name(const json &def) {
    if (def.is_boolean()) return "true or false";
    if (def.is_number_integer()) return "an integer";
    if (def.is_number_float()) return "a number";
    if (def.is_string()) return "a string";
    return "a string or an array of strings";
}

}  // namespace

[[noreturn]] void config_error(const TaskConfig &c, const std::string &field, const std::string &what) {
    throw Error(fmt::format("task.{} ({}): {}", field, c.name, what));
}

void check_split_size(const TaskConfig &c, const std::string &count_field, int64_t n, int64_t values_per_sequence) {
    if (values_per_sequence > 0 && n > kMaxSplitValues / values_per_sequence)
        config_error(c, count_field,
                     fmt::format("{} sequences of {} input values each exceed the {} values one split may hold",
                                 n, values_per_sequence, kMaxSplitValues));
}

int64_t TaskConfig::integer(const std::string &field, int64_t lo, int64_t hi, const std::string &why) const {
    const json &v = fields.at(field);
    const bool huge = v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max());
    const int64_t x = huge ? std::numeric_limits<int64_t>::max() : v.get<int64_t>();
    if (huge || x < lo || x > hi)
        config_error(*this, field,
                     fmt::format("expected an integer in [{}, {}]{}, got {}", lo, hi, why.empty() ? "" : " (" + why + ")",
                                 v.dump()));
    return x;
}

double TaskConfig::real_open(const std::string &field, double lo, double hi) const {
    const json &v = fields.at(field);
    const double x = v.get<double>();
    if (!(x > lo && x < hi))
        config_error(*this, field, fmt::format("expected a number strictly between {} and {}, got {}", lo, hi, v.dump()));
    return x;
}

bool TaskConfig::boolean(const std::string &field) const { return fields.at(field).get<bool>(); }

std::string TaskConfig::string(const std::string &field) const { return fields.at(field).get<std::string>(); }

std::vector<std::string> TaskConfig::strings(const std::string &field) const {
    const json &v = fields.at(field);
    if (v.is_string()) return {v.get<std::string>()};
    return v.get<std::vector<std::string>>();
}

std::vector<std::string> task_names() {
    std::vector<std::string> names;
    for (const auto &e : task_table()) names.push_back(e.name);
    return names;
}

nlohmann::json task_defaults(const std::string &name) {
    const TaskEntry &e = find_task(name);
    json d = e.defaults;
    d["name"] = e.name;
    return d;
}

TaskData make_task(const nlohmann::json &cfg, uint64_t seed) {
    if (!cfg.is_object())
        throw Error("task: expected a JSON object such as {\"name\": \"selective_copy\"}, got " + shown(cfg));
    if (!cfg.contains("name")) throw Error(fmt::format("task.name: required (one of {}), missing", names_list()));
    if (!cfg["name"].is_string())
        throw Error(fmt::format("task.name: expected a string, one of {}; got {}", names_list(), shown(cfg["name"])));
    const TaskEntry &entry = find_task(cfg["name"].get<std::string>());

    TaskConfig c;
    c.name = entry.name;
    c.fields = entry.defaults;
    for (const auto &[key, value] : cfg.items()) {
        if (key == "name") continue;
        if (!c.fields.contains(key)) {
            std::string allowed = "name";
            for (const auto &[k, v] : entry.defaults.items()) allowed += ", " + k;
            config_error(c, key, fmt::format("unknown field; task '{}' accepts {}", c.name, allowed));
        }
        const json &def = entry.defaults[key];
        if (!same_kind(def, value))
            config_error(c, key, fmt::format("expected {}, got {}", kind_name(def), shown(value)));
        c.fields[key] = value;
    }
    return entry.build(c, seed);
}

void gather_batch(const Dataset &d, const std::vector<int64_t> &indices, Batch &out) {
    const bool features = d.F > 0, regression = !d.values.empty();
    const int64_t per_input = features ? d.T * d.F : d.T;
    const size_t n_inputs = features ? d.features.size() : d.tokens.size();
    const size_t n_targets = regression ? d.values.size() : d.targets.size();
    if (n_inputs != size_t(d.n * per_input) || n_targets != size_t(d.n * d.T_out))
        throw Error(fmt::format("gather_batch: dataset holds {} inputs and {} targets, expected n*T{} = {} and "
                                "n*T_out = {}",
                                n_inputs, n_targets, features ? "*F" : "", d.n * per_input, d.n * d.T_out));

    const auto B = int64_t(indices.size());
    out.B = B;
    out.T = d.T;
    out.F = d.F;
    out.T_out = d.T_out;
    out.inputs.resize(size_t(B * per_input));
    out.targets.resize(size_t(B * d.T_out));
    for (int64_t b = 0; b < B; ++b) {
        const int64_t i = indices[size_t(b)];
        if (i < 0 || i >= d.n)
            throw Error(fmt::format("gather_batch: indices[{}] = {}, expected a sequence index in [0, {})", b, i, d.n));
        float *x = &out.inputs[size_t(b * per_input)];
        if (features) {
            std::memcpy(x, &d.features[size_t(i * per_input)], size_t(per_input) * sizeof(float));
        } else {
            const int32_t *tok = &d.tokens[size_t(i * per_input)];
            for (int64_t t = 0; t < per_input; ++t) x[t] = float(tok[t]);
        }
        float *y = &out.targets[size_t(b * d.T_out)];
        if (regression) {
            std::memcpy(y, &d.values[size_t(i * d.T_out)], size_t(d.T_out) * sizeof(float));
        } else {
            const int32_t *cls = &d.targets[size_t(i * d.T_out)];
            for (int64_t t = 0; t < d.T_out; ++t) y[t] = float(cls[t]);
        }
    }
}

}  // namespace statemix::tasks
