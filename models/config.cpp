#include "config.h"

#include "runtime/error.h"
#include "tasks/task.h"

#include <fstream>
#include <sstream>

namespace statemix::models {

using nlohmann::json;

json model_defaults() {
    ModelConfig m;
    const MixerConfig &x = m.mixer;
    return json{{"d_model", m.d_model},
                {"n_layers", m.n_layers},
                {"mlp", m.mlp},
                {"mlp_width", m.mlp_width},
                {"pos_emb", m.pos_emb},
                {"ln_eps", m.ln_eps},
                {"mixer",
                 {{"kind", x.kind},
                  {"m", x.m},
                  {"n", x.n},
                  {"norm", x.norm},
                  {"hidden", x.hidden},
                  {"residual", x.residual},
                  {"a", x.a},
                  {"eps", x.eps},
                  {"tau_min", x.tau_min},
                  {"tau_max", x.tau_max},
                  {"period", x.period},
                  {"act", x.act},
                  {"train_residual", x.train_residual},
                  {"elman_init", x.elman_init}}}};
}

json train_defaults() {
    TrainConfig t;
    return json{{"steps", t.steps},
                {"batch", t.batch},
                {"lr", t.lr},
                {"min_lr", t.min_lr},
                {"warmup", t.warmup},
                {"weight_decay", t.weight_decay},
                {"beta1", t.beta1},
                {"beta2", t.beta2},
                {"adam_eps", t.adam_eps},
                {"clip", t.clip},
                {"seed", t.seed},
                {"eval_every", t.eval_every},
                {"eval_batches", t.eval_batches},
                {"checkpoint_every", t.checkpoint_every},
                {"log_every", t.log_every},
                {"device", t.device},
                {"threads", t.threads}};
}

namespace {

const char *type_word(const json &v) {
    if (v.is_boolean()) return "a boolean";
    if (v.is_number_integer() || v.is_number_unsigned()) return "an integer";
    if (v.is_number()) return "a number";
    if (v.is_string()) return "a string";
    if (v.is_object()) return "an object";
    if (v.is_array()) return "an array";
    return "null";
}

std::string keys_of(const json &o) {
    std::string s;
    for (auto it = o.begin(); it != o.end(); ++it) s += (s.empty() ? "" : ", ") + it.key();
    return s;
}

}  // namespace

json resolve_section(const json &defaults, const json &given, const std::string &path) {
    if (!given.is_object()) throw Error(path + ": expected an object, got " + type_word(given));
    json out = defaults;
    for (auto it = given.begin(); it != given.end(); ++it) {
        const std::string key = path + "." + it.key();
        if (!defaults.contains(it.key())) {
            throw Error(key + ": unknown field (allowed: " + keys_of(defaults) + ")");
        }
        const json &want = defaults[it.key()], &got = it.value();
        if (want.is_object()) {
            out[it.key()] = resolve_section(want, got, key);
            continue;
        }
        const bool ok = (want.is_boolean() && got.is_boolean()) ||
                        ((want.is_number_integer() || want.is_number_unsigned()) &&
                         (got.is_number_integer() || got.is_number_unsigned())) ||
                        (want.is_number_float() && got.is_number()) || (want.is_string() && got.is_string()) ||
                        // a list field (the lm task's corpus): a list or one string; the owner checks the elements
                        (want.is_array() && (got.is_array() || got.is_string()));
        if (!ok) {
            const std::string wanted = want.is_array() ? "a string or an array" : type_word(want);
            throw Error(key + ": expected " + wanted + ", got " + type_word(got) + " (" + got.dump() + ")");
        }
        out[it.key()] = got;
    }
    return out;
}

void apply_override(json &config, const std::string &assignment) {
    const size_t eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0) {
        throw Error("--set: expected section.key=value (e.g. train.steps=100), got '" + assignment + "'");
    }
    const std::string path = assignment.substr(0, eq), text = assignment.substr(eq + 1);
    json value;
    try {
        value = json::parse(text);
    } catch (const json::exception &) {
        value = text;  // a bare word: a string
    }
    json *node = &config;
    size_t start = 0;
    while (true) {
        const size_t dot = path.find('.', start);
        const std::string key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        if (key.empty()) throw Error("--set: empty key in '" + path + "'");
        if (dot == std::string::npos) {
            (*node)[key] = value;
            return;
        }
        if (!node->contains(key)) (*node)[key] = json::object();
        node = &(*node)[key];
        if (!node->is_object()) throw Error("--set: '" + path.substr(0, dot) + "' is not a section");
        start = dot + 1;
    }
}

json resolve_run_config(const json &given) {
    if (!given.is_object()) throw Error("config: expected a JSON object with model, task and train sections");
    for (auto it = given.begin(); it != given.end(); ++it) {
        if (it.key() != "model" && it.key() != "task" && it.key() != "train") {
            throw Error("config." + it.key() + ": unknown section (allowed: model, task, train)");
        }
    }
    json out;
    out["model"] = resolve_section(model_defaults(), given.value("model", json::object()), "model");
    out["train"] = resolve_section(train_defaults(), given.value("train", json::object()), "train");
    const json task = given.value("task", json::object());
    if (!task.is_object() || !task.contains("name") || !task["name"].is_string()) {
        std::string names;
        for (const auto &n : tasks::task_names()) names += (names.empty() ? "" : ", ") + n;
        throw Error("task.name: expected one of " + names);
    }
    out["task"] = resolve_section(tasks::task_defaults(task["name"].get<std::string>()), task, "task");
    model_config(out["model"]);  // value checks now, before anything runs
    train_config(out["train"]);
    return out;
}

namespace {

void check_choice(const std::string &field, const std::string &v, const std::vector<std::string> &allowed) {
    for (const auto &a : allowed) {
        if (v == a) return;
    }
    std::string s;
    for (const auto &a : allowed) s += (s.empty() ? "" : ", ") + a;
    throw Error(field + ": expected one of " + s + ", got '" + v + "'");
}

template <class T>
void check_range(const std::string &field, T v, T lo, T hi) {
    if (v < lo || v > hi) {
        std::ostringstream os;
        os << field << ": expected a value in [" << lo << ", " << hi << "], got " << v;
        throw Error(os.str());
    }
}

}  // namespace

ModelConfig model_config(const json &j) {
    ModelConfig m;
    m.d_model = j.at("d_model");
    m.n_layers = j.at("n_layers");
    m.mlp = j.at("mlp");
    m.mlp_width = j.at("mlp_width");
    m.pos_emb = j.at("pos_emb");
    m.ln_eps = j.at("ln_eps");
    check_range<int64_t>("model.d_model", m.d_model, 1, 65536);
    check_range<int>("model.n_layers", m.n_layers, 0, 1024);
    check_choice("model.mlp", m.mlp, {"swiglu", "gelu", "none"});
    check_range<int64_t>("model.mlp_width", m.mlp_width, 0, 1 << 20);
    check_range<double>("model.ln_eps", m.ln_eps, 0.0, 1.0);
    const json &x = j.at("mixer");
    MixerConfig &c = m.mixer;
    c.kind = x.at("kind");
    c.m = x.at("m");
    c.n = x.at("n");
    c.norm = x.at("norm");
    c.hidden = x.at("hidden");
    c.residual = x.at("residual");
    c.a = x.at("a");
    c.eps = x.at("eps");
    c.tau_min = x.at("tau_min");
    c.tau_max = x.at("tau_max");
    c.period = x.at("period");
    c.act = x.at("act");
    c.train_residual = x.at("train_residual");
    c.elman_init = x.at("elman_init");
    check_choice("model.mixer.kind", c.kind, {"bdlru", "hlru", "wcrnn", "elman", "lstm"});
    check_choice("model.mixer.norm", c.norm, {"softmax", "sigmoid_l1", "relu_l1", "tanh_l1", "lin_l1", "none"});
    check_choice("model.mixer.residual", c.residual, {"identity", "scalar", "diagonal", "rotation", "orthogonal", "nonlinear"});
    check_choice("model.mixer.act", c.act, {"tanh", "relu"});
    check_choice("model.mixer.elman_init", c.elman_init,
                 {"none", "identity", "scalar", "diagonal", "rotation", "orthogonal", "nonlinear"});
    check_range<int64_t>("model.mixer.n", c.n, 1, 1 << 20);
    check_range<int64_t>("model.mixer.hidden", c.hidden, 1, 1 << 16);
    check_range<double>("model.mixer.eps", c.eps, 0.0, 10.0);
    if (c.kind == "bdlru" || c.kind == "hlru") {
        const Layer layer = parse_layer(c.kind);
        std::vector<int> orders = supported_orders(layer, Device::cpu);
        bool found = false;
        std::string list;
        for (int o : orders) {
            found |= o == c.m;
            list += (list.empty() ? "" : ", ") + std::to_string(o);
        }
        if (!found) {
            throw Error("model.mixer.m: " + c.kind + " is compiled for m in {" + list + "}, got " + std::to_string(c.m));
        }
    }
    if (c.kind == "wcrnn" && (c.residual == "rotation") && c.hidden % 2 != 0) {
        throw Error("model.mixer.hidden: the rotation residual needs an even H, got " + std::to_string(c.hidden));
    }
    return m;
}

TrainConfig train_config(const json &j) {
    TrainConfig t;
    t.steps = j.at("steps");
    t.batch = j.at("batch");
    t.lr = j.at("lr");
    t.min_lr = j.at("min_lr");
    t.warmup = j.at("warmup");
    t.weight_decay = j.at("weight_decay");
    t.beta1 = j.at("beta1");
    t.beta2 = j.at("beta2");
    t.adam_eps = j.at("adam_eps");
    t.clip = j.at("clip");
    t.seed = j.at("seed");
    t.eval_every = j.at("eval_every");
    t.eval_batches = j.at("eval_batches");
    t.checkpoint_every = j.at("checkpoint_every");
    t.log_every = j.at("log_every");
    t.device = j.at("device");
    t.threads = j.at("threads");
    check_range<int64_t>("train.steps", t.steps, 1, int64_t(1) << 40);
    check_range<int64_t>("train.batch", t.batch, 1, 1 << 20);
    check_range<double>("train.lr", t.lr, 0.0, 1e3);
    check_range<double>("train.min_lr", t.min_lr, 0.0, t.lr);
    check_range<int64_t>("train.warmup", t.warmup, 0, t.steps);
    check_range<double>("train.weight_decay", t.weight_decay, 0.0, 10.0);
    check_range<double>("train.beta1", t.beta1, 0.0, 0.999999);
    check_range<double>("train.beta2", t.beta2, 0.0, 0.999999999);
    check_range<double>("train.adam_eps", t.adam_eps, 0.0, 1.0);
    check_range<double>("train.clip", t.clip, 0.0, 1e9);
    check_range<int64_t>("train.eval_every", t.eval_every, 0, int64_t(1) << 40);
    check_range<int64_t>("train.eval_batches", t.eval_batches, 0, int64_t(1) << 40);
    check_range<int64_t>("train.checkpoint_every", t.checkpoint_every, 0, int64_t(1) << 40);
    check_range<int64_t>("train.log_every", t.log_every, 1, int64_t(1) << 40);
    check_choice("train.device", t.device, {"cpu", "cuda"});
    check_range<int>("train.threads", t.threads, 0, 4096);
    return t;
}

json read_config_file(const std::string &path) {
    std::ifstream f(path);
    if (!f) throw Error("config file '" + path + "': cannot be read");
    std::stringstream ss;
    ss << f.rdbuf();
    try {
        return json::parse(ss.str());
    } catch (const json::exception &e) {
        throw Error("config file '" + path + "': not valid JSON (" + e.what() + ")");
    }
}

}  // namespace statemix::models
