// Per-kernel GPU times of the Halide CUDA kernels, for finding which stage of a pipeline (the
// chunked scans' summaries, carry, re-scan, pointwise gradients) takes the time where no profiler
// runs (nsys and ncu do not work on the lent H200's image, docs/gpu-notes.md).
//
// With STATEMIX_CUDA_TRACE=1 in the environment, every kernel launch of Halide's CUDA runtime is
// bracketed by cuCtxSynchronize and timed on the host clock (so launches are serialized: use it to
// compare stages, not for throughput), and a table of kernel name, launches, total and mean time
// goes to stderr when the process exits, or when report() is called (`statemix bench` prints one
// per timed kernel: STATEMIX_CUDA_TRACE=1 statemix bench --devices cuda ...).
//
// How: Halide's CUDA runtime resolves every driver entry point through halide_cuda_get_symbol, a
// weak symbol that an application may define (launch_trace.cpp does). Without the variable it
// returns the driver's own functions, as Halide's default does. Kernel names are Halide's entry
// names (kernel_<func>_s<update>_...): the Funcs of generators/*_generator.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace statemix::cuda_trace {

// The driver entry points the tracer wraps, as plain pointers (no CUDA headers needed).
using LaunchFn = int (*)(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                         unsigned shared, void *stream, void **params, void **extra);
using GetFunctionFn = int (*)(void **f, void *module, const char *name);
using SyncFn = int (*)();

struct KernelTime {
    std::string name;
    int64_t launches = 0;
    double total_ms = 0;
};

// Whether STATEMIX_CUDA_TRACE asks for tracing (read once).
bool enabled();

// The wrapped entry point for `name` given the driver's `real` one: the tracer's wrapper for
// cuLaunchKernel and cuModuleGetFunction (their real functions and cuCtxSynchronize recorded
// through install()), else `real` unchanged.
void *wrap(const char *name, void *real);
void install(LaunchFn launch, GetFunctionFn get_function, SyncFn sync);

// The times so far, slowest total first; reset() forgets them.
std::vector<KernelTime> times();
void reset();
// Writes the table to stderr under `title` (nothing when no kernel ran).
void report(const std::string &title = {});

}  // namespace statemix::cuda_trace
