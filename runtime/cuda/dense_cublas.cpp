// The Linear products on cuBLAS (see dense_cublas.h and ../dense_ops.h).
//
// cuBLAS is column-major; a row-major [r,c] matrix is its column-major transpose [c,r] with
// leading dimension c, so each row-major product C = A·B is issued as Cᵀ = Bᵀ·Aᵀ:
//   y  [R,O] = x·Wᵀ   ->  yᵀ  (O×R) = W (op T of stored Wᵀ, I×O) · xᵀ (I×R)
//   dx [R,I] = dy·W   ->  dxᵀ (I×R) = Wᵀ (I×O) · dyᵀ (O×R)
//   dW [O,I] = dyᵀ·x  ->  dWᵀ (I×O) = xᵀ (I×R) · dy (op T of stored dyᵀ, O×R)
//   db [O]   = Σ_r dy ->  dyᵀ (O×R) · 1_R        (GEMV against a ones vector)
//   bias: yᵀ = b (O×1) · 1ᵀ_R (+ yᵀ): a rank-1 GEMM before the main one (beta = 1 after it).
// Plain FP32 math (no TF32), so results match the CPU to float32 rounding.
#include "dense_cublas.h"

#include "halide_cuda_context.h"

#include <cublas_v2.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <vector>

namespace statemix::cuda_dense {
namespace {

void check(cublasStatus_t s, const char *op, const char *what) {
    if (s != CUBLAS_STATUS_SUCCESS) {
        throw Error(std::string(op) + ": cuBLAS " + what + " failed (" + cublasGetStatusString(s) + ")");
    }
}

// One handle, created in Halide's context and bound to its legacy default stream (the stream of
// the Halide kernels), and a ones vector for the bias broadcast and db. The mutex serializes
// calls: a cuBLAS handle must not be used by two threads at once.
struct Cublas {
    std::mutex mu;
    cublasHandle_t handle = nullptr;
    Tensor ones;                 // [n] of 1.0f on the device, grown on demand
    std::vector<Tensor> retired;  // smaller ones vectors that queued work may still read; kept
};

Cublas &cublas(const char *op) {
    static Cublas *c = [op] {
        auto *r = new Cublas;  // never destroyed: the CUDA context may be gone at exit
        cuda_util::HalideCudaContext ctx(op);
        check(cublasCreate(&r->handle), op, "cublasCreate");
        check(cublasSetStream(r->handle, nullptr), op, "cublasSetStream");
        check(cublasSetMathMode(r->handle, CUBLAS_DEFAULT_MATH), op, "cublasSetMathMode");
        return r;
    }();
    return *c;
}

// A device vector of at least n ones (c.mu held).
const float *ones(Cublas &c, int64_t n) {
    if (!c.ones.defined() || c.ones.numel() < n) {
        if (c.ones.defined()) c.retired.push_back(c.ones);
        int64_t cap = 4096;
        while (cap < n) cap *= 2;
        std::vector<float> host((size_t)cap, 1.0f);
        c.ones = Tensor::from_host({cap}, host.data()).to(Device::cuda);
    }
    return c.ones.device_data();
}

int ld(int64_t n) { return (int)std::max<int64_t>(1, n); }

void mark_written(Tensor &t) {
    if (t.numel() > 0) t.mark_device_written();
}

}  // namespace

void linear_forward(const Tensor &x, const Tensor &W, const Tensor *b, Tensor &y, bool accumulate) {
    const char *op = "linear_forward";
    const int R = (int)x.dim(0), I = (int)x.dim(1), O = (int)W.dim(0);
    if (R == 0 || O == 0) return;  // y is empty
    Cublas &c = cublas(op);
    std::lock_guard<std::mutex> lock(c.mu);
    // Device addresses first: they may copy a newer host mirror over (Halide, its own context).
    const float *px = I > 0 ? x.device_data() : nullptr, *pw = I > 0 ? W.device_data() : nullptr;
    const float *pb = b ? b->device_data() : nullptr, *p1 = b ? ones(c, R) : nullptr;
    float *py = y.device_data();
    {
        cuda_util::HalideCudaContext ctx(op);
        const float one = 1.0f;
        float beta = accumulate ? 1.0f : 0.0f;
        if (pb) {
            check(cublasSgemm(c.handle, CUBLAS_OP_N, CUBLAS_OP_N, O, R, 1, &one, pb, O, p1, 1, &beta, py, O), op,
                  "SGEMM (bias)");
            beta = 1.0f;
        }
        if (I > 0 || !pb) {  // I = 0: k = 0, which writes beta·y
            check(cublasSgemm(c.handle, CUBLAS_OP_T, CUBLAS_OP_N, O, R, I, &one, pw, ld(I), px, ld(I), &beta, py, O),
                  op, "SGEMM");
        }
    }
    mark_written(y);
}

void linear_backward(const Tensor &x, const Tensor &W, const Tensor &dy, Tensor *dx, bool accumulate_dx, Tensor &dW,
                     Tensor *db) {
    const char *op = "linear_backward";
    const int R = (int)x.dim(0), I = (int)x.dim(1), O = (int)W.dim(0);
    Cublas &c = cublas(op);
    std::lock_guard<std::mutex> lock(c.mu);
    const bool want_dx = dx && R > 0 && I > 0, want_dW = O > 0 && I > 0, want_db = db && O > 0;
    const float *px = x.numel() ? x.device_data() : nullptr, *pw = W.numel() ? W.device_data() : nullptr;
    const float *pdy = dy.numel() ? dy.device_data() : nullptr;
    const float *p1 = want_db && R > 0 ? ones(c, R) : nullptr;
    float *pdx = want_dx ? dx->device_data() : nullptr, *pdW = want_dW ? dW.device_data() : nullptr;
    float *pdb = want_db ? db->device_data() : nullptr;
    {
        cuda_util::HalideCudaContext ctx(op);
        const float one = 1.0f, zero = 0.0f, beta_dx = accumulate_dx ? 1.0f : 0.0f;
        // k = 0 (O = 0 for dx, R = 0 for dW and db) writes beta·C, as in reference BLAS.
        if (want_dx) {
            check(cublasSgemm(c.handle, CUBLAS_OP_N, CUBLAS_OP_N, I, R, O, &one, pw, I, pdy, ld(O), &beta_dx, pdx, I),
                  op, "SGEMM (dx)");
        }
        if (want_dW) {
            check(cublasSgemm(c.handle, CUBLAS_OP_N, CUBLAS_OP_T, I, O, R, &one, px, I, pdy, O, &zero, pdW, I), op,
                  "SGEMM (dW)");
        }
        if (want_db && R > 0) {  // GEMV with n = 0 returns at once (reference BLAS), leaving db unwritten
            check(cublasSgemv(c.handle, CUBLAS_OP_N, O, R, &one, pdy, O, p1, 1, &zero, pdb, 1), op, "SGEMV (db)");
        }
    }
    if (want_dx) mark_written(*dx);
    if (want_dW) mark_written(dW);
    if (want_db && R > 0) mark_written(*db);
    if (want_db && R == 0) {  // no rows: the sum over them is zero
        const std::vector<float> zeros((size_t)O, 0.0f);
        db->copy_from_host(zeros.data());
    }
}

}  // namespace statemix::cuda_dense
