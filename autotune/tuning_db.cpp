#include "tuning_db.h"

#include "error.h"
#include "file_io.h"

#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <sstream>

namespace statemix::tune {

using nlohmann::json;

std::string params_key(const Params &p) {
    std::string s;
    for (const auto &[k, v] : p) s += (s.empty() ? "" : " ") + k + "=" + v;
    return s;
}

Params parse_params(const std::string &s) {
    Params p;
    std::istringstream in(s);
    std::string word;
    while (in >> word) {
        const size_t eq = word.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == word.size()) {
            throw Error("params: expected knob=value words, got '" + word + "' in '" + s + "'");
        }
        p[word.substr(0, eq)] = word.substr(eq + 1);
    }
    return p;
}

std::vector<Bucket> default_buckets() {
    return {{"wide", 4096, INT64_MAX, 1, INT64_MAX, 16, 2048, 1024, ""},
            {"mid", 1024, 4095, 1024, INT64_MAX, 8, 2048, 256, "narrow"},
            {"narrow", 1, 1023, 1024, INT64_MAX, 1, 4096, 256, ""}};
}

std::string Entry::key() const {
    return target + "|" + device + "|" + layer + "|" + direction + "|" + std::to_string(m) + "|" + bucket;
}

Entry *Database::find(const std::string &key) {
    for (Entry &e : entries) {
        if (e.key() == key) return &e;
    }
    return nullptr;
}

const Entry *Database::find(const std::string &key) const { return const_cast<Database *>(this)->find(key); }

const Bucket &Database::bucket(const std::string &name) const {
    std::string names;
    for (const Bucket &b : buckets) {
        if (b.name == name) return b;
        names += (names.empty() ? "" : ", ") + b.name;
    }
    throw Error("bucket: no bucket named '" + name + "' (the database has " + names + ")");
}

namespace {

json params_json(const Params &p) {
    json j = json::object();
    for (const auto &[k, v] : p) j[k] = v;
    return j;
}

json to_json(const Measurement &c) {
    return {{"params", params_json(c.params)}, {"status", c.status}, {"ms", c.ms},         {"spread", c.spread},
            {"reps", c.reps},                  {"compile_s", c.compile_s}, {"max_rel_err", c.max_rel_err},
            {"source", c.source}};
}

json to_json(const Entry &e) {
    json cands = json::array();
    for (const Measurement &c : e.candidates) cands.push_back(to_json(c));
    json j = {{"target", e.target},   {"device", e.device},     {"layer", e.layer},
            {"direction", e.direction}, {"m", e.m},           {"bucket", e.bucket},
            {"knobs_version", e.knobs_version}, {"complete", e.complete}, {"params", params_json(e.params)},
            {"ms", e.ms},           {"default_ms", e.default_ms}, {"ceiling_gbs", e.ceiling_gbs},
            {"bytes", e.bytes},     {"search", e.search},     {"date", e.date},
            {"candidates", cands}};
    if (e.flops > 0) j["flops"] = e.flops;
    if (e.confirm.rounds > 0) {
        j["confirm"] = {{"previous", params_json(e.confirm.previous)}, {"previous_ms", e.confirm.previous_ms},
                        {"new_ms", e.confirm.new_ms},                  {"rounds", e.confirm.rounds},
                        {"kept_previous", e.confirm.kept_previous}};
    }
    return j;
}

// Field readers that name the file and the place of a bad field.
struct Reader {
    const std::string &file;
    [[noreturn]] void fail(const std::string &where, const std::string &what) const {
        throw Error("tuning database " + file + ": " + where + ": " + what);
    }
    const json &field(const json &o, const std::string &where, const char *name) const {
        if (!o.is_object()) fail(where, "expected an object");
        auto it = o.find(name);
        if (it == o.end()) fail(where, std::string("missing field '") + name + "'");
        return *it;
    }
    std::string str(const json &o, const std::string &where, const char *name) const {
        const json &v = field(o, where, name);
        if (!v.is_string()) fail(where + "." + name, "expected a string, got " + v.dump());
        return v.get<std::string>();
    }
    double num(const json &o, const std::string &where, const char *name) const {
        const json &v = field(o, where, name);
        if (!v.is_number()) fail(where + "." + name, "expected a number, got " + v.dump());
        return v.get<double>();
    }
    int64_t integer(const json &o, const std::string &where, const char *name) const {
        const json &v = field(o, where, name);
        if (!v.is_number_integer()) fail(where + "." + name, "expected an integer, got " + v.dump());
        return v.get<int64_t>();
    }
    bool boolean(const json &o, const std::string &where, const char *name) const {
        const json &v = field(o, where, name);
        if (!v.is_boolean()) fail(where + "." + name, "expected true or false, got " + v.dump());
        return v.get<bool>();
    }
    Params params(const json &o, const std::string &where, const char *name = "params") const {
        const json &v = field(o, where, name);
        const std::string w = where + "." + name;
        if (!v.is_object()) fail(w, "expected an object of knob: \"value\"");
        Params p;
        for (auto it = v.begin(); it != v.end(); ++it) {
            if (!it.value().is_string()) fail(w + "." + it.key(), "expected a string, got " + it.value().dump());
            p[it.key()] = it.value().get<std::string>();
        }
        return p;
    }
};

}  // namespace

json bucket_json(const Bucket &b) {
    json j = {{"name", b.name}, {"lanes_min", b.lanes_min}, {"lanes_max", b.lanes_max}, {"t_min", b.t_min},
              {"t_max", b.t_max}, {"B", b.B}, {"T", b.T}, {"state", b.state}};
    if (!b.fallback.empty()) j["fallback"] = b.fallback;
    return j;
}

Bucket bucket_from_json(const json &j, const std::string &w, const std::string &file) {
    Reader r{file};
    Bucket b;
    b.name = r.str(j, w, "name");
    b.lanes_min = r.integer(j, w, "lanes_min");
    b.lanes_max = r.integer(j, w, "lanes_max");
    b.t_min = r.integer(j, w, "t_min");
    b.t_max = r.integer(j, w, "t_max");
    b.B = r.integer(j, w, "B");
    b.T = r.integer(j, w, "T");
    b.state = r.integer(j, w, "state");
    if (j.contains("fallback")) b.fallback = r.str(j, w, "fallback");
    if (b.B < 1 || b.T < 1 || b.state < 1) r.fail(w, "B, T and state must be >= 1");
    if (b.lanes_min > b.lanes_max || b.t_min > b.t_max) r.fail(w, "lanes_min must be <= lanes_max and t_min <= t_max");
    return b;
}

void check_fallbacks(const std::vector<Bucket> &buckets, const std::string &file) {
    Reader r{file};
    for (const Bucket &b : buckets) {
        if (b.fallback.empty()) continue;
        const std::string w = "bucket '" + b.name + "'.fallback";
        if (b.fallback == b.name) r.fail(w, "names the bucket itself");
        const Bucket *to = nullptr;
        for (const Bucket &o : buckets) {
            if (o.name == b.fallback) to = &o;
        }
        if (!to) r.fail(w, "'" + b.fallback + "' is not a bucket of this database");
        if (!to->fallback.empty()) r.fail(w, "'" + b.fallback + "' has a fallback of its own ('" + to->fallback + "'); expected a bucket without one");
    }
}

Database load_database(const std::string &path) {
    const std::string text = read_file(path);
    json j;
    try {
        j = json::parse(text);
    } catch (const json::parse_error &e) {
        throw Error("tuning database " + path + " is not valid JSON: " + e.what());
    }
    Reader r{path};
    if (!j.is_object() || !j.contains("format") || j["format"] != "statemix-tuning-db") {
        r.fail("format", "not a statemix tuning database (expected \"format\": \"statemix-tuning-db\")");
    }
    if (r.integer(j, "top level", "version") != 1) {
        r.fail("version", "version " + j["version"].dump() + " is not supported (this build reads version 1)");
    }
    Database db;
    db.buckets.clear();
    const json &bs = r.field(j, "top level", "buckets");
    if (!bs.is_array()) r.fail("buckets", "expected an array");
    for (size_t i = 0; i < bs.size(); i++) db.buckets.push_back(bucket_from_json(bs[i], "buckets[" + std::to_string(i) + "]", path));
    check_fallbacks(db.buckets, path);
    const json &es = r.field(j, "top level", "entries");
    if (!es.is_array()) r.fail("entries", "expected an array");
    for (size_t i = 0; i < es.size(); i++) {
        const std::string w = "entries[" + std::to_string(i) + "]";
        const json &o = es[i];
        Entry e;
        e.target = r.str(o, w, "target");
        e.device = r.str(o, w, "device");
        e.layer = r.str(o, w, "layer");
        e.direction = r.str(o, w, "direction");
        e.m = (int)r.integer(o, w, "m");
        e.bucket = r.str(o, w, "bucket");
        e.knobs_version = (int)r.integer(o, w, "knobs_version");
        e.complete = r.boolean(o, w, "complete");
        e.params = r.params(o, w);
        e.ms = r.num(o, w, "ms");
        e.default_ms = r.num(o, w, "default_ms");
        e.ceiling_gbs = r.num(o, w, "ceiling_gbs");
        e.bytes = r.num(o, w, "bytes");
        if (o.contains("flops")) e.flops = r.num(o, w, "flops");  // optional: the RNN cores' entries
        if (o.contains("confirm")) {  // optional: a --force run's check against the old winner
            const json &cf = o["confirm"];
            const std::string wc = w + ".confirm";
            if (!cf.is_object()) r.fail(wc, "expected an object");
            e.confirm.previous = r.params(cf, wc, "previous");
            e.confirm.previous_ms = r.num(cf, wc, "previous_ms");
            e.confirm.new_ms = r.num(cf, wc, "new_ms");
            e.confirm.rounds = (int)r.integer(cf, wc, "rounds");
            e.confirm.kept_previous = r.boolean(cf, wc, "kept_previous");
        }
        e.search = r.str(o, w, "search");
        e.date = r.str(o, w, "date");
        const json &cs = r.field(o, w, "candidates");
        if (!cs.is_array()) r.fail(w + ".candidates", "expected an array");
        for (size_t k = 0; k < cs.size(); k++) {
            const std::string wc = w + ".candidates[" + std::to_string(k) + "]";
            Measurement c;
            c.params = r.params(cs[k], wc);
            c.status = r.str(cs[k], wc, "status");
            c.ms = r.num(cs[k], wc, "ms");
            c.spread = r.num(cs[k], wc, "spread");
            c.reps = (int)r.integer(cs[k], wc, "reps");
            c.compile_s = r.num(cs[k], wc, "compile_s");
            c.max_rel_err = r.num(cs[k], wc, "max_rel_err");
            c.source = r.str(cs[k], wc, "source");
            e.candidates.push_back(c);
        }
        if (db.find(e.key())) r.fail(w, "a second entry for " + e.key());
        db.entries.push_back(std::move(e));
    }
    return db;
}

Database load_or_new_database(const std::string &path) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return Database{};
    return load_database(path);
}

void save_database(const std::string &path, const Database &db) {
    json bs = json::array();
    for (const Bucket &b : db.buckets) bs.push_back(bucket_json(b));
    // Entries in a stable order, so the checked-in file diffs well.
    std::vector<const Entry *> sorted;
    for (const Entry &e : db.entries) sorted.push_back(&e);
    std::sort(sorted.begin(), sorted.end(), [](const Entry *a, const Entry *b) {
        return std::tie(a->target, a->device, a->layer, a->direction, a->m, a->bucket) <
               std::tie(b->target, b->device, b->layer, b->direction, b->m, b->bucket);
    });
    json es = json::array();
    for (const Entry *e : sorted) es.push_back(to_json(*e));
    json j = {{"format", "statemix-tuning-db"}, {"version", 1}, {"buckets", bs}, {"entries", es}};
    write_file_atomic(path, j.dump(1) + "\n");
}

void merge_database(Database &into, const Database &from) {
    for (const Bucket &b : from.buckets) {
        bool have = false;
        for (Bucket &old : into.buckets) {
            if (old.name == b.name) {
                old = b;
                have = true;
            }
        }
        if (!have) into.buckets.push_back(b);
    }
    for (const Entry &e : from.entries) {
        Entry *old = into.find(e.key());
        if (!old) {
            into.entries.push_back(e);
            continue;
        }
        std::vector<Measurement> cands = old->candidates;
        for (const Measurement &c : e.candidates) {
            auto it = std::find_if(cands.begin(), cands.end(), [&](const Measurement &x) {
                return x.source == c.source && x.params == c.params;
            });
            if (it != cands.end()) *it = c;
            else cands.push_back(c);
        }
        if (e.complete || !old->complete) *old = e;
        old->candidates = std::move(cands);
    }
}

Params spec_params(const std::string &spec) {
    Params p;
    size_t at = 0;
    while (at <= spec.size()) {
        const size_t comma = std::min(spec.find(',', at), spec.size());
        const std::string kv = spec.substr(at, comma - at);
        const size_t eq = kv.find('=');
        if (eq == std::string::npos || eq == 0) throw Error("tune: '" + kv + "' in '" + spec + "' is not key=value");
        p[kv.substr(0, eq)] = kv.substr(eq + 1);
        at = comma + 1;
    }
    return p;
}

std::string params_spec(const Params &p) {
    std::string s = p.count("impl") ? "impl=" + p.at("impl") : "";
    for (const auto &[k, v] : p) {
        if (k != "impl") s += (s.empty() ? "" : ",") + k + "=" + v;
    }
    return s;
}

Entry sweep_entry(const Entry &key, const std::vector<SweepRow> &rows, int reps, const std::string &date) {
    Entry e = key;
    e.candidates.clear();
    e.search = "exhaustive";
    e.date = date;
    e.complete = false;
    const SweepRow *best = nullptr;
    for (const SweepRow &r : rows) {
        Measurement c;
        c.params = r.params;
        c.status = r.status;
        c.ms = r.ms;
        c.reps = r.status == "ok" ? reps : 0;
        e.candidates.push_back(c);
        if (r.status != "ok") continue;
        const bool automatic = r.params.count("impl") && r.params.at("impl") == "automatic";
        if (automatic) e.default_ms = r.ms;
        else if (!best || r.ms < best->ms) best = &r;
    }
    if (!best) throw Error("tune: no configuration of the sweep ran (" + key.key() + ")");
    e.params = best->params;
    e.ms = best->ms;
    e.complete = true;
    return e;
}

const Measurement *best_candidate(const Entry &e) {
    const Measurement *best = nullptr;
    for (const Measurement &c : e.candidates) {
        if (c.status == "ok" && c.source == "tuned" && (!best || c.ms < best->ms)) {
            best = &c;
        }
    }
    return best;
}

}  // namespace statemix::tune
