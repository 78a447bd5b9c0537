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

// y [Q,P,D] = x [P,Q,D] with the leading two dims swapped (accumulate: y +=), e.g. a sequence
// batch [B,T,D] to time-major [T,B,D] and back for the time-major scans (models/layers.cpp). CPU
// only: a oneDNN reorder (threaded, cached per shape). Exact (a copy, or one add per element).
void swap_leading_dims(const Tensor &x, Tensor &y, bool accumulate = false);

// oneDNN runs on OpenMP (Debian's build, libgomp), whose threads by default spin for several ms
// after each product (about 10 ms of CPU per product measured here), taking the cores from the
// Halide kernel that runs next: a BD-LRU scan right after a product ran 9% slower on the idle
// 2-core dev machine and 20% slower with other work on it (bench/dense_bench.cpp --alternate).
// With OMP_WAIT_POLICY=passive they sleep at once and nothing measurable is lost. libgomp reads
// the variable once, in its own constructor, before any code of the program runs: a setenv in a
// static initializer is too late, and one in .preinit_array is undone when libc sets up the
// environment (both tried). So a program sets it by re-executing itself: call this first thing in
// main(). When neither OMP_WAIT_POLICY nor GOMP_SPINCOUNT is set, it sets OMP_WAIT_POLICY=passive
// and execv's /proc/self/exe with argv (it returns only if that fails); otherwise it returns at
// once, so a setting in the environment always wins.
void use_passive_openmp_wait(char **argv);

}  // namespace statemix
