// STATEMIX_CUDA_TRACE: per-kernel times of the Halide CUDA kernels (launch_trace.h).
#include "launch_trace.h"

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

namespace statemix::cuda_trace {
namespace {

struct State {
    std::mutex mu;
    LaunchFn launch = nullptr;
    GetFunctionFn get_function = nullptr;
    SyncFn sync = nullptr;
    std::map<void *, std::string> names;  // CUfunction -> its entry name
    std::map<std::string, KernelTime> times;
    // Prints the table when the process exits, if anything ran.
    ~State();
};

State &state() {
    static State s;
    return s;
}

std::vector<KernelTime> sorted(const std::map<std::string, KernelTime> &m) {
    std::vector<KernelTime> out;
    for (const auto &[name, k] : m) out.push_back(k);
    std::sort(out.begin(), out.end(), [](const KernelTime &a, const KernelTime &b) { return a.total_ms > b.total_ms; });
    return out;
}

void print(const std::vector<KernelTime> &ts, const std::string &title) {
    if (ts.empty()) return;
    double all = 0;
    for (const KernelTime &k : ts) all += k.total_ms;
    std::fprintf(stderr, "\nSTATEMIX_CUDA_TRACE%s%s: Halide CUDA kernels, each launch synchronized (%.3f ms in all)\n",
                 title.empty() ? "" : ": ", title.c_str(), all);
    std::fprintf(stderr, "%12s %12s %12s %7s  %s\n", "launches", "total ms", "mean us", "share", "kernel");
    for (const KernelTime &k : ts) {
        std::fprintf(stderr, "%12lld %12.3f %12.1f %6.1f%%  %s\n", static_cast<long long>(k.launches), k.total_ms,
                     1e3 * k.total_ms / static_cast<double>(k.launches), 100.0 * k.total_ms / all, k.name.c_str());
    }
}

State::~State() { print(sorted(times), "at exit"); }

int traced_get_function(void **f, void *module, const char *name) {
    State &s = state();
    const int rc = s.get_function(f, module, name);
    if (rc == 0 && f && *f) {
        std::lock_guard<std::mutex> lock(s.mu);
        s.names[*f] = name;
    }
    return rc;
}

int traced_launch(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                  unsigned shared, void *stream, void **params, void **extra) {
    State &s = state();
    using Clock = std::chrono::steady_clock;
    if (s.sync) s.sync();  // what was queued before is not this kernel's time
    const auto t0 = Clock::now();
    const int rc = s.launch(f, gx, gy, gz, bx, by, bz, shared, stream, params, extra);
    if (rc == 0 && s.sync) s.sync();
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    std::lock_guard<std::mutex> lock(s.mu);
    auto it = s.names.find(f);
    std::string name;
    if (it != s.names.end()) {
        name = it->second;
    } else {
        char buf[64];
        std::snprintf(buf, sizeof buf, "<function %p>", f);
        name = buf;
    }
    KernelTime &k = s.times[name];
    k.name = name;
    k.launches++;
    k.total_ms += ms;
    return rc;
}

}  // namespace

bool enabled() {
    static const bool on = [] {
        const char *v = std::getenv("STATEMIX_CUDA_TRACE");
        return v && *v && std::strcmp(v, "0") != 0;
    }();
    return on;
}

void install(LaunchFn launch, GetFunctionFn get_function, SyncFn sync) {
    State &s = state();
    std::lock_guard<std::mutex> lock(s.mu);
    if (launch) s.launch = launch;
    if (get_function) s.get_function = get_function;
    if (sync) s.sync = sync;
}

void *wrap(const char *name, void *real) {
    if (!real || !name) return real;
    if (std::strcmp(name, "cuLaunchKernel") == 0) {
        install(reinterpret_cast<LaunchFn>(real), nullptr, nullptr);
        return reinterpret_cast<void *>(&traced_launch);
    }
    if (std::strcmp(name, "cuModuleGetFunction") == 0) {
        install(nullptr, reinterpret_cast<GetFunctionFn>(real), nullptr);
        return reinterpret_cast<void *>(&traced_get_function);
    }
    return real;
}

std::vector<KernelTime> times() {
    State &s = state();
    std::lock_guard<std::mutex> lock(s.mu);
    return sorted(s.times);
}

void reset() {
    State &s = state();
    std::lock_guard<std::mutex> lock(s.mu);
    s.times.clear();
}

void report(const std::string &title) { print(times(), title); }

}  // namespace statemix::cuda_trace

// Halide's CUDA runtime takes every driver entry point from here (a weak symbol of the runtime,
// src/runtime/cuda.cpp, that applications may define). Same lookup as Halide's default (the
// driver library, loaded once), the launch and function lookups wrapped when tracing is on.
extern "C" void *halide_cuda_get_symbol(void * /*user_context*/, const char *name) {
    static void *lib = [] {
        void *l = dlopen("libcuda.so", RTLD_LAZY | RTLD_LOCAL);
        if (!l) l = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
        return l;
    }();
    void *sym = lib ? dlsym(lib, name) : dlsym(RTLD_DEFAULT, name);
    if (!sym || !statemix::cuda_trace::enabled()) return sym;
    if (std::strcmp(name, "cuLaunchKernel") == 0) {
        statemix::cuda_trace::install(nullptr, nullptr, reinterpret_cast<statemix::cuda_trace::SyncFn>(
                                                            lib ? dlsym(lib, "cuCtxSynchronize") : nullptr));
    }
    return statemix::cuda_trace::wrap(name, sym);
}
