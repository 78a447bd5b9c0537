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
    // A complete entry also measures the candidates of this build's space it lacks (a build that
    // widened the space), its other rows reused and its winner confirmed against as with --force.
    bool extend = false;
    double shape_scale = 1.0;        // scales each bucket's T (tests use a tiny one)
    int max_candidates = 0;          // 0: the whole space; else its first n (tests)
    // knob=value words: only the candidates that set these (select_candidates); a slice of a
    // space too slow to compile whole (the BD-LRU m = 16 backward at AVX-512's natural width
    // compiles for 5-6 minutes a candidate). The entry's `search` names the slice.
    std::vector<std::string> only;
    bool quiet = false;              // no progress bar
    // Halide's autoschedulers measured next to the tuned candidates (for comparison only);
    // "default": the device's (autoschedulers_for).
    std::vector<std::string> autoschedulers = {"default"};
    // The longest a candidate may compile (seconds; 0: no limit). Some take many minutes
    // (Mullapudi2016 planning the H-LRU m = 8 forward: past 15; the BD-LRU m = 16 backward at 16
    // lanes: 5-6); one over the limit is recorded as not compiled and the search goes on.
    double compile_limit_s = 300;
    // Search the kernel this build runs now next to the space (Backend::incumbent_params).
    bool incumbent = true;
};

// One problem at one shape, and its op run with a given kernel (the scans: ScanConfig::kernel;
// the RNN cores: dispatch::ScopedKernelOverride).
class Workload {
public:
    virtual ~Workload() = default;
    virtual void run(const KernelEntry &k) = 0;
    double bytes = 0;  // what a run must move (spec §6), for GB/s against the copy ceiling
    double flops = 0;  // the RNN cores' mat-vec flops (0 for the scans)
};

// The RNN cores (rnn_workload.cpp): a problem of B, T, H (the forward's results made with the
// build's kernels, for a backward), the float64 check on ragged shapes, and the runtime's
// choice without a database (the rule of thumb's implementation with the build's knobs).
std::unique_ptr<Workload> make_rnn_workload(const KernelKey &k, int64_t B, int64_t T, int64_t H, unsigned seed);
double check_rnn_against_reference(const KernelKey &k, const KernelEntry &kernel);
Params rnn_default_params(const KernelKey &k, int64_t B, int64_t H);

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
    // The build's default knobs of a kernel (the space's first candidate): what the runtime runs
    // in the bucket without a database entry.
    std::function<Params(const KernelKey &, const Bucket &)> default_params;
    // The forward kernel whose h the backward reads (layer, m, device of the key).
    std::function<const KernelEntry &(const KernelKey &)> forward_for_h;
    // The knobs of the kernel this build runs now for the key at the bucket's shape on this
    // machine (the runtime's choice: this tier's entry, else another tier's, else the default),
    // {} where unknown. Searched next to the space, so that a new entry is never one the
    // running kernel beats (another tier's winner may use knobs this tier's space lacks).
    std::function<Params(const KernelKey &, const Bucket &)> incumbent_params;
};

// The default knobs and the forward of this build's kernel table (runtime/kernel_registry.h).
Params registry_default_params(const KernelKey &k);
Params registry_default_params(const KernelKey &k, const Bucket &b);  // the RNN cores' depend on the shape
const KernelEntry &registry_forward(const KernelKey &k);
// What this build runs for a scan kernel at bucket b's shape here (select_kernel, the algorithm
// chosen automatically), as params; {} for the RNN cores.
Params registry_incumbent_params(const KernelKey &k, const Bucket &b);
// Puts `incumbent` second in `space` (after the default, the entry's baseline) unless it is empty
// or already there.
void with_incumbent(std::vector<Params> &space, const Params &incumbent);

// The autoschedulers of o for its device: "default" is Mullapudi2016 and Adams2019 on the CPU,
// Anderson2021 and Li2018 for CUDA (the GPU autoschedulers Halide ships); "" none.
std::vector<std::string> autoschedulers_for(const TuneOptions &o);
// An autoscheduler candidate planned for bucket b's shape (T scaled by shape_scale).
Params autoscheduler_params(const std::string &autoscheduler, const Bucket &b, double shape_scale);

// The selected kernels and buckets of `o` (Error naming a bad layer, direction, bucket or m).
struct Work {
    KernelKey key;
    std::string bucket;
};
std::vector<Work> plan_work(const TuneOptions &o, const Database &db);

// Takes `reps` samples of each of n candidates, one of each per pass (round robin, each pass
// starting one candidate later), so a machine whose speed drifts over minutes (a shared host)
// shifts every candidate alike instead of favouring the ones timed in a fast minute. sample(i)
// times candidate i once; a NaN drops it from the later passes. after_pass (may be empty) runs
// after each pass. Returns each candidate's samples in the order taken.
std::vector<std::vector<double>> sample_interleaved(int n, int reps, const std::function<double(int)> &sample,
                                                    const std::function<void()> &after_pass = {});

// Searches every kernel and bucket of `o` into `db`, calling `save` after each measurement;
// returns the entries made or updated.
std::vector<Entry> tune_into(const TuneOptions &o, Database &db, const Backend &be, const std::function<void()> &save);

// Successive halving, then the exhaustive search, on one kernel and bucket (fresh, nothing
// saved): prints how close the first came to the second and what each cost.
void compare_searches(const TuneOptions &o, const Backend &be);

// Measures the given configurations of one kernel at one shape (B x T x state), each checked
// against the float64 reference and timed like a search's finalists (interleaved: one run of each
// per pass, sample_interleaved), and prints each with its
// GB/s and share of the same-run copy ceiling, the first as the baseline: for trying knobs (and
// new GeneratorParams) without a rebuild or a database.
void measure_configs(const TuneOptions &o, const Backend &be, int64_t B, int64_t T, int64_t state,
                     const std::vector<Params> &configs);

}  // namespace statemix::tune
