// The search itself: for each kernel (layer, direction, m) and shape bucket, compile every
// candidate of the knob space with the JIT, check it against the float64 reference, time it at
// the bucket's shape between samples of the copy ceiling, and record everything in the tuning
// database after each candidate (so an interrupted run resumes where it stopped).
#pragma once

#include "space.h"
#include "tuning_db.h"

#include <string>
#include <vector>

namespace statemix::tune {

struct TuneOptions {
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
};

// Runs the search and writes the database; returns the entries it made or updated.
std::vector<Entry> run_tuning(const TuneOptions &o);

// Runs successive halving and then the exhaustive search on one kernel and bucket (both fresh,
// nothing written to the database) and prints how close the first comes to the second and what
// each cost.
void compare_searches(const TuneOptions &o);

// The Halide target string of this machine, as the database keys it (its features, no CPU tuning).
std::string host_target_string();

}  // namespace statemix::tune
