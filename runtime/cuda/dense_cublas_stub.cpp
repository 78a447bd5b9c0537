// Built instead of dense_cublas.cpp where no CUDA toolkit (nvcc and cuBLAS) was found at
// configure time: the dense products run on the CPU only.
#include "dense_cublas.h"

#include "../error.h"

namespace statemix::cuda_dense {

namespace {
[[noreturn]] void no_cuda(const char *op) {
    throw Error(std::string(op) + ": CUDA tensors are not supported: statemix was built without CUDA (no nvcc or "
                                  "cuBLAS at configure time)");
}
}  // namespace

void linear_forward(const Tensor &, const Tensor &, const Tensor *, Tensor &, bool) { no_cuda("linear_forward"); }

void linear_backward(const Tensor &, const Tensor &, const Tensor &, Tensor *, bool, Tensor &, Tensor *) {
    no_cuda("linear_backward");
}

}  // namespace statemix::cuda_dense
