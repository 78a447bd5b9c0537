// The training runtime's pointwise, normalization, loss and optimizer ops: a neural-net layer is a
// dense GEMM (oneDNN / cuBLAS, elsewhere) plus these. Each runs an AOT kernel
// (generators/nn_generator.cpp; kernels listed in generators/nn_kernels.cmake) on the CPU or CUDA,
// picked by the tensors' device.
//
// Every tensor is float32, dense, and on one device; shapes are checked at the call and a wrong one
// is an Error naming the op, the argument, the expected and the actual shape. Outputs are
// allocated by the caller (no hidden allocation but a few bytes of scalars). Class and token ids
// are carried as float32 (exact below 2^24); -1 = ignored (targets only).
//
// Determinism: every result is bitwise the same from run to run on one machine (and independent
// of the thread count): reductions over rows use a fixed partition into chunks and add the chunks'
// partial sums in order; nothing uses atomics.
//
// CUDA tensors that are views (Tensor::view / slice) are written through their own buffer: call
// mark_device_written() on the parent afterwards, as for every other kernel (tensor.h).
#pragma once

#include "tensor.h"

#include <cstdint>

namespace statemix {

// LayerNorm over the last dim of x [R,D] (R = rows = B·T): y = (x - mean)·rstd·gamma + beta,
// rstd = 1/sqrt(var + eps) (biased variance). Saves mean, rstd [R] for the backward.
void layernorm_forward(const Tensor &x, const Tensor &gamma, const Tensor &beta, float eps,
                       Tensor &y, Tensor &mean, Tensor &rstd);
// dx = (or, accumulate=true: dx +=) ∂L/∂x; dgamma, dbeta [D] written (=, not accumulated).
// accumulate lets the pre-norm residual block add the branch gradient into the residual stream's.
void layernorm_backward(const Tensor &dy, const Tensor &x, const Tensor &gamma, const Tensor &mean,
                        const Tensor &rstd, Tensor &dx, Tensor &dgamma, Tensor &dbeta, bool accumulate);

// SwiGLU's pointwise part: ab [R,2F] holds a = W1 x (columns 0..F-1) and b = W2 x (columns F..2F-1);
// h [R,F] = silu(a) ⊙ b.  Backward: dab [R,2F] from dh.
void swiglu_forward(const Tensor &ab, Tensor &h);
void swiglu_backward(const Tensor &ab, const Tensor &dh, Tensor &dab);

// GELU, tanh approximation (as PyTorch's approximate='tanh'): y = gelu(x), elementwise on any shape.
void gelu_forward(const Tensor &x, Tensor &y);
void gelu_backward(const Tensor &x, const Tensor &dy, Tensor &dx);

// y = a + b (any shape; y may alias a or b). The residual stream's add.
void add(const Tensor &a, const Tensor &b, Tensor &y);

// Token embedding: ids [R] (float ids in [0,V)), table [V,D] → y [R,D] = table[ids]; with pos
// [P,D] (P >= T, may be null) and T > 0: y[r] += pos[r % T]  (rows are b·T + t, R a multiple of T).
// On the CPU an id outside [0,V) (or not an integer) is an Error naming the first bad id and its
// row. On CUDA the ids are not read back to the host: the kernel clamps them into [0, V), so a bad
// id reads row 0 or V-1 instead of outside the table.
void embedding_forward(const Tensor &ids, const Tensor &table, const Tensor *pos, int64_t T, Tensor &y);
// dtable [V,D] = Σ_{r: ids[r]=v} dy[r] (written, not accumulated: zero then sum; deterministic);
// dpos [P,D] (if non-null; needs T > 0 and R a multiple of T) = Σ_b dy[b·T + t] for t < T, 0 for
// t >= T. Ids are checked (CPU) or clamped (CUDA) as in the forward.
void embedding_backward(const Tensor &ids, const Tensor &dy, int64_t T, Tensor &dtable, Tensor *dpos);

// Cross-entropy over logits [R,V] with targets [R] (-1 = ignored), fused forward+backward:
// loss_rows [R] = -log softmax(logits)[target] (0 for ignored rows), pred [R] = argmax (float id,
// first max on ties), dlogits [R,V] = grad_scale · (softmax - onehot(target)) (0 rows for ignored).
// The caller passes grad_scale = 1 / (number of counted rows).  Numerically stable (max-subtracted,
// log-sum-exp). On the CPU a target that is neither -1 nor an integer in [0,V) is an Error naming
// its row; on CUDA (targets not read back) such a row is treated as ignored.
void cross_entropy(const Tensor &logits, const Tensor &targets, float grad_scale, Tensor &loss_rows,
                   Tensor &pred, Tensor &dlogits);

// Σ x² of a whole tensor, in float64 on the host, deterministic (fixed partition; partials in
// float64 summed in a fixed order). For the global gradient norm.
double sum_squares(const Tensor &x);

// y *= s (gradient clipping).
void scale(Tensor &y, float s);

// AdamW step on a flat group (p, g, m, v same shape): m = b1·m + (1-b1)·g; v = b2·v + (1-b2)·g²;
// p -= lr·( (m / bc1) / (sqrt(v / bc2) + eps) + wd·p ), with bc1 = 1 - b1^step, bc2 = 1 - b2^step,
// in PyTorch's (torch.optim.AdamW) order and rounding: p *= 1 - lr·wd; m.lerp_(g, 1 - b1);
// v = v·b2 + (1 - b2)·g·g; p -= (lr / bc1)·m / (sqrt(v) / sqrt(bc2) + eps). step >= 1 (the
// count including this step).
struct AdamWArgs {
    float lr, beta1, beta2, eps, weight_decay;
    int64_t step;
};
void adamw_update(Tensor &p, const Tensor &g, Tensor &m, Tensor &v, const AdamWArgs &a);

// H-LRU's lag stack: s [B,T,N] → lags [B,T,m·N], lags[b,t,k·N + n] = s[b,t-k,n] for t-k >= 0, else
// h0[b,n,k-t-1] if h0 (the [B,N,m] initial lags s_{-1}..s_{-m}) is given, else 0.
// Backward: ds [B,T,N] = Σ_k dlags[b,t+k,k·N+n] (t+k < T)  (written, not accumulated).
// time_major: s, lags, dlags, ds are [T,B,...] instead (the time-major scans, scan_ops.h).
void lag_stack_forward(const Tensor &s, int m, const Tensor *h0, Tensor &lags, bool time_major = false);
void lag_stack_backward(const Tensor &dlags, int m, Tensor &ds, bool time_major = false);

}  // namespace statemix
