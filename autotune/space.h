// The schedule space the tuner searches for one scan kernel: every combination of the knobs the
// schedules read (generators/scan_pipelines.h, STATEMIX_SCAN_KNOBS; schedules/cpu_scan_schedules.h
// says what each does), pruned to what the generator can build.
#pragma once

#include "tuning_db.h"

#include <string>
#include <vector>

namespace statemix::tune {

struct KernelKey {
    std::string layer;      // "bdlru" | "hlru"
    std::string direction;  // "forward" | "backward"
    int m = 1;
    std::string device = "cpu";

    std::string generator() const { return layer + "_" + direction; }
    std::string label() const { return layer + " " + direction + " m=" + std::to_string(m) + " " + device; }
};

// CPU:
//   forward, sequential: tile {64..1024} x vector_width {natural, 2x natural}
//   forward, chunked (H-LRU, and BD-LRU m <= 4, as the build compiles them): chunk {64..512} x tile {64, 256}
//   backward: one-pass or two-pass x tile {64..1024} x vector_width {natural, 2x natural}
// CUDA: tile (threads per block) {64..512} x unroll {1, 2, 4}, the two-pass backward; chunked
//   forward: chunk {32, 64, 128} x tile {128, 256}.
// `default_params` (the build's default for this kernel) is always in the space, first.
std::vector<Params> enumerate_space(const KernelKey &k, const Params &default_params);

// Whether the build compiles a chunked forward for this kernel (generators/CMakeLists.txt).
bool chunked_allowed(const KernelKey &k);

}  // namespace statemix::tune
