// The CUDA half of runtime/dense_ops.h: the Linear products on cuBLAS (dense_cublas.cpp), or a
// stub that throws where the build has no CUDA toolkit (dense_cublas_stub.cpp). Called by
// dense_ops.cpp with every shape and device already checked (all tensors on CUDA).
#pragma once

#include "../tensor.h"

namespace statemix::cuda_dense {

void linear_forward(const Tensor &x, const Tensor &W, const Tensor *b, Tensor &y, bool accumulate);
void linear_backward(const Tensor &x, const Tensor &W, const Tensor &dy, Tensor *dx, bool accumulate_dx, Tensor &dW,
                     Tensor *db);

}  // namespace statemix::cuda_dense
