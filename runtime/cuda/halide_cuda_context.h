// Makes Halide's CUDA context current on this thread for the lifetime of the object, for code
// that calls the CUDA runtime or a CUDA library (cuBLAS) on statemix tensors.
//
// Halide's CUDA runtime creates its own context (not the primary one) and every statemix CUDA
// buffer lives there; the runtime API and cuBLAS use whatever context is current on the thread.
// Work issued on the legacy default stream (stream 0) of that context, which is the stream the
// Halide kernels use, is ordered after the Halide kernels that wrote its inputs and before
// Halide's copies back. (runtime/cuda/rnn_persistent.cu has its own copy of this; it can use
// this one.)
#pragma once

#include "../error.h"

#include <dlfcn.h>

#include <string>

extern "C" int halide_cuda_acquire_context(void *user_context, void **ctx, bool create);
extern "C" int halide_cuda_release_context(void *user_context);

namespace statemix::cuda_util {

class HalideCudaContext {
public:
    explicit HalideCudaContext(const char *op) {
        const Driver &d = driver(op);
        void *ctx = nullptr;
        if (halide_cuda_acquire_context(nullptr, &ctx, true) != 0 || !ctx) {
            throw Error(std::string(op) + ": could not get Halide's CUDA context");
        }
        if (d.push(ctx) != 0) {
            halide_cuda_release_context(nullptr);
            throw Error(std::string(op) + ": cuCtxPushCurrent failed");
        }
        pop_ = d.pop;
    }
    ~HalideCudaContext() {
        void *old = nullptr;
        pop_(&old);
        halide_cuda_release_context(nullptr);
    }
    HalideCudaContext(const HalideCudaContext &) = delete;
    HalideCudaContext &operator=(const HalideCudaContext &) = delete;

private:
    using PushFn = int (*)(void *);
    using PopFn = int (*)(void **);
    struct Driver {
        PushFn push = nullptr;
        PopFn pop = nullptr;
    };
    // The driver entry points, loaded once (the binaries link only the CUDA runtime statically,
    // never libcuda, so that they start where no driver is installed).
    static const Driver &driver(const char *op) {
        static const Driver d = [] {
            Driver r;
            void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
            if (lib) {
                r.push = reinterpret_cast<PushFn>(dlsym(lib, "cuCtxPushCurrent_v2"));
                r.pop = reinterpret_cast<PopFn>(dlsym(lib, "cuCtxPopCurrent_v2"));
            }
            return r;
        }();
        if (!d.push || !d.pop) {
            throw Error(std::string(op) + ": libcuda.so.1 could not be loaded or lacks cuCtxPushCurrent_v2");
        }
        return d;
    }
    PopFn pop_ = nullptr;
};

}  // namespace statemix::cuda_util
