// The tuner's commands that need libHalide: the JIT backend of the search (search.h), the bundle
// of AOT-compiled candidates for another machine, and the Halide target that keys the database.
#pragma once

#include "search.h"

#include <string>
#include <vector>

namespace statemix::tune {

// `statemix_tune run`: searches with JIT-compiled candidates, merging into the database o.db.
std::vector<Entry> run_tuning(const TuneOptions &o);
// `statemix_tune compare`: halving against exhaustive on one kernel and bucket, JIT.
void compare_with_jit(const TuneOptions &o);
// `statemix_tune measure`: the given configurations at one shape, JIT.
void measure_with_jit(const TuneOptions &o, int64_t B, int64_t T, int64_t state, const std::vector<Params> &configs);

// `statemix_tune bundle`: compiles every candidate of the selected kernels ahead of time for
// o.device (cuda: the build's CUDA target; cpu: this machine's target, or `target`) into shared
// objects in `dir`, with the runner (statemix_tune_runner, found next to this executable) and a
// manifest. On the machine that runs it: `./statemix_tune_runner DIR` writes DIR/results.json,
// which `statemix_tune import DIR/results.json` merges into the database here.
void make_bundle(const TuneOptions &o, const std::string &dir, const std::string &target);

// `statemix_tune import FILE`: merges a results file into the database o.db.
void import_results(const std::string &file, const std::string &db);

// The Halide target string of this machine, as the database keys it (its features, no CPU tuning).
std::string host_target_string();

}  // namespace statemix::tune
