// The version of the scan generators' knob set (STATEMIX_SCAN_KNOBS in scan_pipelines.h). A
// tuning database entry made under another version is stale (its knobs may no longer mean the
// same) and the build falls back to the defaults for it (cmake/StatemixTuning.cmake). Bump it
// when a knob is added, removed or changes meaning. Its own file: the tuner's Halide-free parts
// and CMake read it.
#pragma once

#define STATEMIX_SCAN_KNOBS_VERSION 1
