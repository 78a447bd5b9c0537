// The search, independent of how candidates are compiled: the tuner (tuner.cpp) compiles them
// with Halide's JIT in this process; the bundle runner (runner_main.cpp) loads them from shared
// objects compiled ahead of time on another machine. Both measure and record the same way:
// every candidate checked against the float64 reference on ragged shapes, then timed at its
// bucket's shape between samples of the copy ceiling, the database saved after each one.
#pragma once

#include "space.h"
#include "tuning_db.h"

#include "kernel_registry.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace statemix::tune {

struct TuneOptions {
    std::string device = "cpu";
    std::vector<std::string> layers = {"bdlru", "hlru"};
    std::vector<int> orders;  // empty: every m the build compiles for the layer
    std::vector<std::string> directions = {"forward", "backward"};
    std::vector<std::string> buckets;  // empty: every bucket of the database
    std::string db = "autotune/db/tuning.json";
    int reps = 5;                    // timed runs of a finalist (median)
    std::string search = "auto";     // auto | exhaustive | halving
    int exhaustive_max = 12;         // auto: exhaustive up to this many candidates, else halving
    bool force = false;              // re-measure complete entries
    double shape_scale = 1.0;        // scales each bucket's T (tests use a tiny one)
    int max_candidates = 0;          // 0: the whole space; else its first n (tests)
    bool quiet = false;              // no progress bar
    // Halide's autoschedulers measured next to the tuned candidates (for comparison only).
    std::vector<std::string> autoschedulers = {"Mullapudi2016", "Adams2019"};
};

// A compiled candidate, wrapped as a runtime KernelEntry (ScanConfig::kernel runs it).
class CandidateKernel {
public:
    virtual ~CandidateKernel() = default;
    virtual const KernelEntry &entry() const = 0;
    virtual double compile_seconds() const { return 0; }
};

// How candidates come to exist, and what the search needs besides them.
struct Backend {
    std::string target;  // the database's key for this machine
    // Compiles or loads one candidate; Error (with the reason) if it cannot. Called from several
    // threads at once when compile_threads > 1.
    std::function<std::unique_ptr<CandidateKernel>(const KernelKey &, const Params &)> make;
    unsigned compile_threads = 1;
    // The build's default knobs of a kernel (the space's first candidate).
    std::function<Params(const KernelKey &)> default_params;
    // The forward kernel whose h the backward reads (layer, m, device of the key).
    std::function<const KernelEntry &(const KernelKey &)> forward_for_h;
};

// The default knobs and the forward of this build's kernel table (runtime/kernel_registry.h).
Params registry_default_params(const KernelKey &k);
const KernelEntry &registry_forward(const KernelKey &k);

// The selected kernels and buckets of `o` (Error naming a bad layer, direction, bucket or m).
struct Work {
    KernelKey key;
    std::string bucket;
};
std::vector<Work> plan_work(const TuneOptions &o, const Database &db);

// Searches every kernel and bucket of `o` into `db`, calling `save` after each measurement;
// returns the entries made or updated.
std::vector<Entry> tune_into(const TuneOptions &o, Database &db, const Backend &be, const std::function<void()> &save);

// Successive halving, then the exhaustive search, on one kernel and bucket (fresh, nothing
// saved): prints how close the first came to the second and what each cost.
void compare_searches(const TuneOptions &o, const Backend &be);

}  // namespace statemix::tune
