#pragma once
// Measured knob defaults that the autotuner needs too: autotune/space.cpp offers each one-pass
// CPU backward candidate in the other walk order. Plain C++ (no Halide), so the tuner's knob
// space (statemix_tuning, which does not link libHalide) includes it.

namespace statemix {

// Whether a CPU backward walks each step's channel vectors from the last to the first
// (ScanKnobs::reverse_channels, generators/scan_pipelines.h) when its GeneratorParam is -1.
// Batch-major H-LRU m <= 4: 1.07-1.32x at m = 1-3, m = 4 not clearly faster (0.84-1.26x over
// six rounds); 0.96-1.09x at m = 5, 6, 8. Batch-major BD-LRU m = 1: 1.27-1.35x; 0.81-0.87x at
// m = 2, 4. Time-major: 0.77-0.95x at H-LRU m = 1, 2 (the training shape), off (AMD EPYC,
// Zen 1, 2026-12-05, docs/benchmarks.md). The tuner measures both orders per bucket and machine
// (batch-major; it does not tune the time-major kernels).
inline bool reverse_channels_by_default(bool hlru, int m, bool time_major) {
    if (time_major) return false;
    return hlru ? m <= 4 : m == 1;
}

}  // namespace statemix
