// The version of the scan generators' knob set (STATEMIX_SCAN_KNOBS in scan_pipelines.h). A
// tuning database entry made under another version is stale (its knobs may no longer mean the
// same) and the build falls back to the defaults for it (cmake/StatemixTuning.cmake). Bump it
// when a knob is removed or changes meaning, or is added with a default that changes what the
// old entries ran (time_major and batch_rows were added at version 1: their defaults are the old
// layout and schedule; gates_n_inner at version 1 too: where its default is on, it changes only
// where an internal stack buffer keeps its values, a schedule improvement under the same knobs
// like earlier ones; gates_per_vector likewise, 2026-12-03, and reverse_channels, 2026-12-05;
// `statemix_tune run --force` re-measures the entries). Its own file: the tuner's Halide-free parts and CMake read it.
#pragma once

#define STATEMIX_SCAN_KNOBS_VERSION 1
