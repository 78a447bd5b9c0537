// The schedule space the tuner searches for one scan kernel: every combination of the knobs the
// schedules read (generators/scan_pipelines.h, STATEMIX_SCAN_KNOBS; schedules/cpu_scan_schedules.h
// says what each does), pruned to what the generator can build.
#pragma once

#include "dispatch.h"
#include "tuning_db.h"

#include <string>
#include <vector>

namespace statemix::tune {

struct KernelKey {
    std::string layer;      // "bdlru" | "hlru" | the RNN cores "elman" | "wcrnn" | "lstm"
    std::string direction;  // "forward" | "backward" | "forward_train" (the LSTM's training forward)
    int m = 1;
    std::string device = "cpu";

    std::string generator() const { return layer + "_" + direction; }
    std::string label() const { return layer + " " + direction + " m=" + std::to_string(m) + " " + device; }
};

// CPU:
//   forward, sequential: tile {64..1024} x vector_width {natural, 2x natural, natural/2}
//   forward, chunked (H-LRU, and BD-LRU m <= 4, as the build compiles them): chunk {64..512} x tile {64, 256}
//   backward: one-pass or two-pass x tile {64..1024} x vector_width {natural, 2x natural, natural/2}
// "natural" is vector_width 0 (the target's own width); 2x natural is spelled out from
// `natural_lanes`, the float lanes of the target the candidates run on (natural_float_lanes): 16
// on AVX2 (the spelling the AVX2 entries were tuned with), 32 on AVX-512, where a spelled-out 16
// would be the natural width again and time the same code twice. natural/2 (4 on AVX2, 8 on
// AVX-512; none on SSE) is for CPUs whose vector units are narrower than their ISA (Zen 1, Zen 4).
// CUDA: tile (threads per block) {64..512} x unroll {1, 2, 4}, the two-pass backward; chunked
//   forward: chunk {32, 64, 128} x tile {128, 256}.
// `default_params` (the build's default for this kernel) is always in the space, first.
std::vector<Params> enumerate_space(const KernelKey &k, const Params &default_params, int natural_lanes = 8);

// The part of `space` a run searches (statemix_tune --only, --max-candidates): the default (first,
// the entry's baseline) and the candidates that set every knob of `only` ("knob=value" words) to
// that value, then the first `max_candidates` of them (0: all). Error naming the word if one is not
// knob=value, or naming the kernel if no candidate sets them.
std::vector<Params> select_candidates(std::vector<Params> space, const KernelKey &k, const std::vector<std::string> &only,
                                      int max_candidates);

// The float lanes of a Halide target's natural vector (runtime/dispatch.h).
using dispatch::natural_float_lanes;

// Whether the build compiles a chunked forward for this kernel (generators/CMakeLists.txt).
bool chunked_allowed(const KernelKey &k);

// The RNN cores (spec §7-§8): their ops run either the step kernels (a kernel call per time step,
// runtime/rnn_stepped.cpp) or one launch for the whole sequence; the knob "impl" (stepped | scan)
// says which, and the rest are that generator's knobs (generators/rnn_pipelines.h):
//   stepped: batch_tile {0 (from the register budget), 1, 2, 4, 8} x strip {1, 2, 4} x vector_width {natural, 2x natural}
//   scan:    k_unroll {4, 8} x batch_tile {1, 2, 4}
// The database's winner decides the implementation per bucket (replacing the rule of thumb in
// rnn_stepped.cpp where an entry exists). CPU only.
bool is_rnn(const std::string &layer);
// The generator a candidate is compiled from (layer_direction for the scans; for the RNN cores
// the step or one-launch generator of its impl) and its GeneratorParams (without "impl").
std::string generator_name(const KernelKey &k, const Params &p);
Params generator_params(const KernelKey &k, const Params &p);
// An RNN candidate's params with every knob the generator would default filled in, so that the
// build's default and the same knobs spelled out are one candidate.
Params normalize_rnn_params(const Params &p);
// The RNN cores' time steps per measured run: the bucket's T / kRnnTimeScale (each step is the
// same mat-vec work; a run stays under a second at H = 1024).
constexpr int64_t kRnnTimeScale = 8;

}  // namespace statemix::tune
