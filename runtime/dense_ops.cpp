// The Linear products (dense_ops.h): argument checks, then oneDNN on the CPU or cuBLAS on CUDA
// (cuda/dense_cublas.cpp).
//
// CPU: three oneDNN matmul primitives per Linear layer, each created once per (shape, flags) and
// cached, since a training step calls the same shapes every step and creating a primitive
// (choosing and JIT-compiling a kernel) costs far more than a small product. The transposes are
// strides on the memory descriptors (oneDNN's matmul reads a row-major [K,N] weight with strides
// {1,K} as the transpose of an [N,K] one), so nothing is copied:
//   forward   y  [R,O] = x [R,I] · Wᵀ (W [O,I] seen as [I,O], strides {1,I}) (+ b) (+ y: sum post-op)
//   dx        dx [R,I] = dy [R,O] · W [O,I] (+ dx: sum post-op)
//   dW        dW [O,I] = dyᵀ (dy seen as [O,R], strides {1,O}) · x [R,I]
// and db = Σ_r dy, a parallel loop over fixed chunks of rows (memory-bound; the same bits for any
// thread count).
#include "dense_ops.h"

#include "cuda/dense_cublas.h"
#include "dispatch.h"

#include <dnnl.hpp>

#include <unistd.h>

#include <cstdlib>
#include <algorithm>
#include <array>
#include <functional>
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace statemix {
namespace {

using dispatch::check_shape;
using md = dnnl::memory::desc;

// ---- Argument checks -------------------------------------------------------------------------

// Defined, of rank 2 (1 for vectors), dense row-major (a view or a slice of a dense tensor is).
void check_rank(const std::string &op, const char *arg, const Tensor &t, int rank, const char *layout) {
    if (!t.defined()) throw Error(op + ": argument '" + arg + "' is undefined; expected " + layout);
    if (t.ndim() != rank) {
        throw Error(op + ": argument '" + arg + "' must be " + std::to_string(rank) + "-D " + layout + ", got " +
                    shape_str(t.shape()));
    }
    const halide_buffer_t *b = t.raw();
    int64_t stride = 1;
    for (int i = 0; i < b->dimensions && t.numel() > 0; i++) {
        if (b->dim[i].stride != stride) {
            throw Error(op + ": argument '" + arg + "' " + shape_str(t.shape()) + " is not dense row-major");
        }
        stride *= b->dim[i].extent;
    }
}

struct Dims {
    int64_t R, I, O;
    Device device;
};

// R, I from x [R,I]; O from W [O,I]; every other argument checked against them.
Dims check_xW(const std::string &op, const Tensor &x, const Tensor &W) {
    check_rank(op, "x", x, 2, "[R,I]");
    check_rank(op, "W", W, 2, "[O,I]");
    Dims d{x.dim(0), x.dim(1), W.dim(0), x.device()};
    check_shape(op, "W", W, {d.O, d.I}, "[O,I]");
    dispatch::check_device(op, "W", W, d.device, "x");
    return d;
}

void check_arg(const std::string &op, const char *arg, const Tensor &t, const Shape &want, const char *layout,
               Device device) {
    check_rank(op, arg, t, (int)want.size(), layout);
    check_shape(op, arg, t, want, layout);
    dispatch::check_device(op, arg, t, device, "x");
}

// ---- oneDNN primitives, cached ---------------------------------------------------------------

enum class Kind { forward, backward_data, backward_weights };

struct Key {
    Kind kind;
    int64_t R, I, O;
    bool bias, accumulate;
    bool operator==(const Key &o) const {
        return kind == o.kind && R == o.R && I == o.I && O == o.O && bias == o.bias && accumulate == o.accumulate;
    }
};

struct KeyHash {
    size_t operator()(const Key &k) const {
        size_t h = std::hash<int64_t>()(k.R);
        for (int64_t v : {k.I, k.O, (int64_t)k.kind * 4 + k.bias * 2 + k.accumulate}) {
            h ^= std::hash<int64_t>()(v) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
        }
        return h;
    }
};

// A primitive and the descriptors of its arguments (the user's memory is wrapped in them per call).
struct Matmul {
    dnnl::matmul prim;
    md src, weights, bias, dst;
};

struct DnnlState {
    dnnl::engine engine{dnnl::engine::kind::cpu, 0};
    std::mutex mu;
    std::unordered_map<Key, Matmul, KeyHash> cache;
    std::map<std::array<int64_t, 4>, dnnl::reorder> swaps;  // swap_leading_dims: P, Q, D, accumulate
};

DnnlState &dnnl_state() {
    static DnnlState *s = new DnnlState;  // never destroyed: no primitive outlives libgomp at exit
    return *s;
}

// A row-major view of a float32 matrix [rows, cols] with the given strides (elements).
md matrix(int64_t rows, int64_t cols, int64_t row_stride, int64_t col_stride) {
    return md({rows, cols}, dnnl::memory::data_type::f32, dnnl::memory::dims{row_stride, col_stride});
}

Matmul create(const Key &k, const dnnl::engine &engine) {
    const int64_t R = k.R, I = k.I, O = k.O;
    Matmul m;
    switch (k.kind) {
    case Kind::forward:
        m.src = matrix(R, I, I, 1), m.weights = matrix(I, O, 1, I), m.dst = matrix(R, O, O, 1);
        if (k.bias) m.bias = matrix(1, O, O, 1);
        break;
    case Kind::backward_data:
        m.src = matrix(R, O, O, 1), m.weights = matrix(O, I, I, 1), m.dst = matrix(R, I, I, 1);
        break;
    case Kind::backward_weights:
        m.src = matrix(O, R, 1, O), m.weights = matrix(R, I, I, 1), m.dst = matrix(O, I, I, 1);
        break;
    }
    dnnl::primitive_attr attr;
    if (k.accumulate) {
        dnnl::post_ops po;
        po.append_sum(1.0f);
        attr.set_post_ops(po);
    }
    const auto desc = k.bias ? dnnl::matmul::desc(m.src, m.weights, m.bias, m.dst)
                             : dnnl::matmul::desc(m.src, m.weights, m.dst);
    m.prim = dnnl::matmul(dnnl::matmul::primitive_desc(desc, attr, engine));
    return m;
}

std::string describe(const Key &k) {
    return "R=" + std::to_string(k.R) + ", I=" + std::to_string(k.I) + ", O=" + std::to_string(k.O);
}

// Runs the cached primitive for k (created on first use) on the given buffers.
void run_matmul(const std::string &op, const Key &k, const float *src, const float *weights, const float *bias,
                float *dst) {
    DnnlState &s = dnnl_state();
    const Matmul *m;
    {
        std::lock_guard<std::mutex> lock(s.mu);
        auto it = s.cache.find(k);
        if (it == s.cache.end()) {
            try {
                it = s.cache.emplace(k, create(k, s.engine)).first;
            } catch (const dnnl::error &e) {
                throw Error(op + ": oneDNN could not create a matmul for " + describe(k) + " (" + e.what() + ")");
            }
        }
        m = &it->second;  // elements of an unordered_map never move
    }
    try {
        // A stream per thread: the primitive itself may run on several threads at once.
        thread_local dnnl::stream stream(s.engine);
        const auto mem = [&](const md &d, const float *p) { return dnnl::memory(d, s.engine, const_cast<float *>(p)); };
        std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, mem(m->src, src)},
                                                   {DNNL_ARG_WEIGHTS, mem(m->weights, weights)},
                                                   {DNNL_ARG_DST, mem(m->dst, dst)}};
        if (bias) args.emplace(DNNL_ARG_BIAS, mem(m->bias, bias));
        m->prim.execute(stream, args);
        stream.wait();
    } catch (const dnnl::error &e) {
        throw Error(op + ": oneDNN matmul failed for " + describe(k) + " (" + e.what() + ")");
    }
}

// db [O] = Σ_r dy [R,O] in double: fixed chunks of rows summed in parallel (each in row order),
// then the chunks' sums added in chunk order, so the result depends on R alone, not on the thread
// count. It was one thread, 5-6 GB/s (a 768-wide bias gradient cost 17 ms, 3-4% of #9's step;
// docs/benchmarks.md). The chunk sums live in a buffer kept between calls (a step allocates nothing).
__attribute__((target_clones("avx512f", "avx2", "default"))) void column_sums(const float *dy, int64_t R, int64_t O, float *db) {
    constexpr int64_t kRows = 512;
    const int64_t nc = (R + kRows - 1) / kRows;
    static thread_local std::vector<double> part;
    if ((int64_t)part.size() < nc * O) part.resize((size_t)(nc * O));
    double *p0 = part.data();  // the calling thread's buffer, shared with the workers below
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < nc; c++) {
        double *p = p0 + c * O;
        for (int64_t o = 0; o < O; o++) p[o] = 0.0;
        for (int64_t r = c * kRows; r < std::min(R, (c + 1) * kRows); r++) {
            const float *row = dy + r * O;
            for (int64_t o = 0; o < O; o++) p[o] += row[o];
        }
    }
    for (int64_t o = 0; o < O; o++) {
        double a = 0.0;
        for (int64_t c = 0; c < nc; c++) a += p0[c * O + o];
        db[o] = (float)a;
    }
}

void fill(Tensor &t, float v) {
    if (t.numel() > 0) t.fill(v);
}

}  // namespace

void linear_forward(const Tensor &x, const Tensor &W, const Tensor *b, Tensor &y, bool accumulate) {
    const std::string op = "linear_forward";
    const Dims d = check_xW(op, x, W);
    if (b) check_arg(op, "b", *b, {d.O}, "[O]", d.device);
    check_arg(op, "y", y, {d.R, d.O}, "[R,O]", d.device);
    if (d.device == Device::cuda) return cuda_dense::linear_forward(x, W, b, y, accumulate);

    if (d.R == 0 || d.O == 0) return;
    if (d.I > 0) {
        run_matmul(op, {Kind::forward, d.R, d.I, d.O, b != nullptr, accumulate}, x.data(), W.data(),
                   b ? b->data() : nullptr, y.data());
        return;
    }
    // I = 0: the product is empty, y = (y) + b.
    float *py = y.data();
    for (int64_t r = 0; r < d.R; r++) {
        for (int64_t o = 0; o < d.O; o++) {
            py[r * d.O + o] = (accumulate ? py[r * d.O + o] : 0.0f) + (b ? b->data()[o] : 0.0f);
        }
    }
}

void swap_leading_dims(const Tensor &x, Tensor &y, bool accumulate) {
    const std::string op = "swap_leading_dims";
    check_rank(op, "x", x, 3, "[P,Q,D]");
    const int64_t P = x.dim(0), Q = x.dim(1), D = x.dim(2);
    check_rank(op, "y", y, 3, "[Q,P,D]");
    check_shape(op, "y", y, {Q, P, D}, "[Q,P,D]");
    if (x.device() != Device::cpu || y.device() != Device::cpu) {
        throw Error(op + ": arguments 'x' and 'y' must be on the CPU (the time-major layout is a CPU path)");
    }
    if (x.numel() == 0) return;
    DnnlState &s = dnnl_state();
    const md src({P, Q, D}, dnnl::memory::data_type::f32, dnnl::memory::dims{Q * D, D, 1});
    const md dst({P, Q, D}, dnnl::memory::data_type::f32, dnnl::memory::dims{D, P * D, 1});
    const dnnl::reorder *prim;
    {
        std::lock_guard<std::mutex> lock(s.mu);
        auto it = s.swaps.find({P, Q, D, accumulate});
        if (it == s.swaps.end()) {
            dnnl::primitive_attr attr;
            if (accumulate) {
                dnnl::post_ops po;
                po.append_sum(1.0f);
                attr.set_post_ops(po);
            }
            try {
                it = s.swaps.emplace(std::array<int64_t, 4>{P, Q, D, accumulate},
                                     dnnl::reorder(dnnl::reorder::primitive_desc(s.engine, src, s.engine, dst, attr)))
                         .first;
            } catch (const dnnl::error &e) {
                throw Error(op + ": oneDNN could not create a reorder for " + shape_str(x.shape()) + " (" + e.what() + ")");
            }
        }
        prim = &it->second;  // std::map elements never move
    }
    try {
        thread_local dnnl::stream stream(s.engine);
        dnnl::memory a(src, s.engine, const_cast<float *>(x.data())), b(dst, s.engine, y.data());
        prim->execute(stream, a, b);
        stream.wait();
    } catch (const dnnl::error &e) {
        throw Error(op + ": oneDNN reorder failed for " + shape_str(x.shape()) + " (" + e.what() + ")");
    }
}

void linear_backward(const Tensor &x, const Tensor &W, const Tensor &dy, Tensor *dx, bool accumulate_dx, Tensor &dW,
                     Tensor *db) {
    const std::string op = "linear_backward";
    const Dims d = check_xW(op, x, W);
    check_arg(op, "dy", dy, {d.R, d.O}, "[R,O]", d.device);
    if (dx) check_arg(op, "dx", *dx, {d.R, d.I}, "[R,I]", d.device);
    check_arg(op, "dW", dW, {d.O, d.I}, "[O,I]", d.device);
    if (db) check_arg(op, "db", *db, {d.O}, "[O]", d.device);
    if (d.device == Device::cuda) return cuda_dense::linear_backward(x, W, dy, dx, accumulate_dx, dW, db);

    // A dimension of 0 empties a product: its output is 0 (or unchanged when accumulating).
    if (dx && d.R > 0 && d.I > 0) {
        if (d.O > 0) {
            run_matmul(op, {Kind::backward_data, d.R, d.I, d.O, false, accumulate_dx}, dy.data(), W.data(), nullptr,
                       dx->data());
        } else if (!accumulate_dx) {
            fill(*dx, 0.0f);
        }
    }
    if (d.O > 0 && d.I > 0) {
        if (d.R > 0) {
            run_matmul(op, {Kind::backward_weights, d.R, d.I, d.O, false, false}, dy.data(), x.data(), nullptr,
                       dW.data());
        } else {
            fill(dW, 0.0f);
        }
    }
    if (db && d.O > 0) column_sums(d.R > 0 ? dy.data() : nullptr, d.R, d.O, db->data());
}

void use_passive_openmp_wait(char **argv) {
    if (std::getenv("OMP_WAIT_POLICY") || std::getenv("GOMP_SPINCOUNT") || !argv || !argv[0]) return;
    if (setenv("OMP_WAIT_POLICY", "passive", 0) != 0) return;
    execv("/proc/self/exe", argv);
    // Not re-executed (no /proc): this process keeps libgomp's default; the setting still reaches
    // child processes.
}

}  // namespace statemix
