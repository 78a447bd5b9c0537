// The dense products of the training runtime: every Linear layer, forward and backward, in
// PyTorch's layout (W [O,I], y = x·Wᵀ + b). They run on libraries made for them: oneDNN's matmul
// primitive on the CPU (primitives created once per shape and flags, then cached; transposes
// expressed as strides, never copied), cuBLAS SGEMM on CUDA (in Halide's CUDA context and on
// the stream the Halide kernels use, so the order of kernels and products is kept).
//
// Every tensor is 2-D (b and db 1-D), float32, dense row-major, and on one device; a view
// (Tensor::view) of a larger allocation is fine as input or output. Shapes are checked with an
// Error naming the op, the argument, the expected and the actual shape.
//
// Determinism: the same inputs on the same device with the same thread count give the same bits
// on every call. On CUDA, outputs that are views leave their parent's "device copy is newer" mark
// unset (see Tensor::view): call mark_device_written() on the parent before reading it back.
#pragma once

#include "tensor.h"

namespace statemix {

// y [R,O] = x [R,I] · Wᵀ (+ b [O] if given). accumulate: y += instead of = (the residual add of a
// pre-norm block fused into its output projection; oneDNN's sum post-op, cuBLAS beta = 1).
void linear_forward(const Tensor &x, const Tensor &W, const Tensor *b, Tensor &y, bool accumulate = false);

// dx [R,I] = dy · W (or += with accumulate_dx; dx may be null: not wanted),
// dW [O,I] = dyᵀ · x (written, =), db [O] = Σ_r dy (written; null: no bias).
void linear_backward(const Tensor &x, const Tensor &W, const Tensor &dy, Tensor *dx, bool accumulate_dx, Tensor &dW,
                     Tensor *db);

}  // namespace statemix
