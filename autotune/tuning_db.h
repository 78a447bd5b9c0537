// The tuning database: what `statemix_tune` measured and chose, per target, kernel (layer and
// direction), m and shape bucket. One JSON file (autotune/db/tuning.json), versioned, written
// atomically and merged rather than overwritten. The build reads the winners from it
// (cmake/StatemixTuning.cmake); the runtime dispatches on the buckets the build derived from it.
//
//   {"format": "statemix-tuning-db", "version": 1,
//    "buckets": [{"name": "wide", "lanes_min": .., "lanes_max": .., "t_min": .., "t_max": ..,
//                 "B": 16, "T": 2048, "state": 1024, "fallback": "narrow" (optional)}, ...],
//    "entries": [{"target": "x86-64-linux-avx-avx2-f16c-fma-sse41", "device": "cpu",
//                 "layer": "bdlru", "direction": "forward", "m": 2, "bucket": "wide",
//                 "knobs_version": 1, "complete": true, "params": {"algorithm": "sequential", ..},
//                 "ms": .., "default_ms": .., "ceiling_gbs": .., "bytes": .., "search": "exhaustive",
//                 "date": "..", "candidates": [{"params": {..}, "status": "ok", "ms": .., ...}]}]}
//
// Parameter values are strings (what a GeneratorParam parses), "algorithm" among them.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace statemix::tune {

using Params = std::map<std::string, std::string>;

// "algorithm=sequential tile=256" (sorted by knob): the identity of a candidate.
std::string params_key(const Params &p);
// The inverse of params_key; Error naming the text if a word is not knob=value.
Params parse_params(const std::string &s);

// A shape bucket: B × state width (lanes, see scan_ops.h bucket_lanes) and T ranges, inclusive,
// and the shape measured for it (state = N·m for BD-LRU, N for H-LRU). `fallback` (optional)
// names another bucket whose winner serves this bucket's shapes for every kernel that has no
// entry of its own here (cmake/StatemixTuning.cmake), so a bucket carved out of another keeps
// the old choices until the tuner fills it in. A fallback bucket has no fallback itself.
struct Bucket {
    std::string name;
    int64_t lanes_min = 1, lanes_max = INT64_MAX, t_min = 1, t_max = INT64_MAX;
    int64_t B = 1, T = 1, state = 1;
    std::string fallback;
};
// wide: B × state >= 4096 (measured at B = 16, T = 2048, state 1024); mid: 1024-4095 and
// T >= 1024 (B = 8, T = 2048, state 256; falls back to narrow); narrow: below 1024 and T >= 1024
// (B = 1, T = 4096, state 256). Other shapes keep the runtime's rule of thumb.
std::vector<Bucket> default_buckets();
// A bucket as the database's JSON object, and back (Error naming `where` in `file`); also the
// tuner's bundle manifest (tuner.cpp, runner_main.cpp).
nlohmann::json bucket_json(const Bucket &b);
Bucket bucket_from_json(const nlohmann::json &j, const std::string &where, const std::string &file);
// Every fallback names another bucket of `buckets`, which has no fallback (Error naming `file`).
void check_fallbacks(const std::vector<Bucket> &buckets, const std::string &file);

struct Measurement {
    Params params;
    std::string status = "ok";  // "ok", or why not: "compile: ...", "wrong: ...", "run: ..."
    double ms = 0;              // median of the timed runs
    double spread = 0;          // (max - min) / median of the timed runs
    int reps = 0;               // timed runs behind ms
    double compile_s = 0;
    double max_rel_err = 0;     // against the float64 reference
    std::string source = "tuned";  // "tuned" (the knob space, the default knobs among them) |
                                   // "autoscheduler:<name>" (Halide's, for comparison only)
};

// The start of a candidate's error (after "compile: " in its status) when its child process was
// killed at --compile-limit: "did not compile within <limit> s ..." (tuner.cpp), which a rerun
// under a larger limit reads back (search.cpp).
inline constexpr const char *kGivenUpAt = "did not compile within ";

// A re-tuned entry's new winner must beat the winner it replaces by this fraction in alternating
// runs (Entry::confirm).
inline constexpr double kConfirmMargin = 0.03;

struct Entry {
    std::string target, device, layer, direction;
    int m = 1;
    std::string bucket;
    int knobs_version = 0;
    bool complete = false;  // every candidate of the search measured; only then is `params` used
    Params params;          // the winner
    double ms = 0, default_ms = 0;
    double ceiling_gbs = 0;  // the best copy sample taken between this entry's runs
    double bytes = 0;        // bytes a run must move (spec §6)
    double flops = 0;        // the RNN cores' mat-vec flops per run (0: a scan)
    std::string search, date;
    std::vector<Measurement> candidates;
    // A --force run that replaced a complete entry times the old winner and the new one again,
    // alternating (rounds > 0 when it did): the new winner stands only where it is faster by
    // kConfirmMargin or more, so a pick made by a noisy host's swings does not become a new kernel
    // variant. Written only when it ran.
    struct Confirmation {
        Params previous;             // the winner the run replaced
        double previous_ms = 0, new_ms = 0;  // medians of the alternating runs
        int rounds = 0;
        bool kept_previous = false;
    } confirm;

    std::string key() const;  // target|device|layer|direction|m|bucket
};

struct Database {
    std::vector<Bucket> buckets = default_buckets();
    std::vector<Entry> entries;

    Entry *find(const std::string &key);
    const Entry *find(const std::string &key) const;
    const Bucket &bucket(const std::string &name) const;  // Error naming the bucket
};

// Reads a database. Error naming the file when it is not JSON, not this format or version, or a
// field is missing or of the wrong type.
Database load_database(const std::string &path);
// The same, or an empty database (default buckets) when the file does not exist.
Database load_or_new_database(const std::string &path);
// Writes atomically (runtime/file_io.h): an interrupted write leaves the old file.
void save_database(const std::string &path, const Database &db);
// Merges `from` into `into`: entries with a new key are added; for an existing key the
// candidates are united (a measurement of the same params in `from` replaces the old one) and
// the winner, timings and flags come from `from` when it is complete (or `into` is not).
void merge_database(Database &into, const Database &from);

// A sweep measured outside the search: `statemix tune --layer elman|wcrnn` times the persistent CUDA RNN
// forward's run-time knobs (nothing is compiled per candidate), one row per configuration.
struct SweepRow {
    Params params;  // "impl" (automatic | halide | persistent) and the persistent kernel's knobs
    double ms = 0;
    std::string status = "ok";
};
// The rows as a complete entry of `key` (target, device, layer, direction, m, bucket from it): the
// fastest ok row that is not impl=automatic wins (automatic is the runtime's own choice, which the
// entry replaces: its time is the entry's default_ms).
Entry sweep_entry(const Entry &key, const std::vector<SweepRow> &rows, int reps, const std::string &date);
// A persistent-kernel spec ("impl=persistent,group=2") as params, and back (impl first).
Params spec_params(const std::string &spec);
std::string params_spec(const Params &p);

// The fastest "ok" candidate of the knob space (nullptr if none).
const Measurement *best_candidate(const Entry &e);

}  // namespace statemix::tune
