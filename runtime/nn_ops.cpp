#include "nn_ops.h"

#include "dispatch.h"

#include "HalideBuffer.h"
#include "HalideRuntimeCuda.h"

#include <climits>
#include <cstdio>
#include <cmath>
#include <string>
#include <vector>

namespace statemix {

using dispatch::check_device;
using dispatch::check_shape;
using dispatch::KernelArg;

namespace {

const KernelEntry &kernel(const std::string &op, const char *layer, const char *direction, Device dev) {
    return dispatch::find_kernel(op, layer, direction, dev, 0);
}

void require_defined(const std::string &op, const char *arg, const Tensor &t, const char *layout) {
    if (!t.defined()) throw Error(op + ": argument '" + arg + "' is undefined; expected " + layout);
}

// A 2-D [R, C] argument with R, C >= 1; returns its shape.
Shape check_matrix(const std::string &op, const char *arg, const Tensor &t, const char *layout) {
    require_defined(op, arg, t, layout);
    if (t.ndim() != 2 || t.dim(0) < 1 || t.dim(1) < 1) {
        throw Error(op + ": argument '" + arg + "' must have shape " + layout + " with both extents >= 1, got " +
                    shape_str(t.shape()));
    }
    return t.shape();
}

void check(const std::string &op, const char *arg, const Tensor &t, const Shape &want, const char *layout, Device dev,
           const char *device_arg) {
    check_shape(op, arg, t, want, layout);
    check_device(op, arg, t, dev, device_arg);
}

// The flat view the pointwise kernels take (Halide extents are int32).
Tensor flat(const std::string &op, const char *arg, const Tensor &t) {
    if (t.numel() > INT_MAX) {
        throw Error(op + ": argument '" + arg + "' has " + std::to_string(t.numel()) + " elements; at most 2^31 - 1");
    }
    return t.view({t.numel()});
}

// A CUDA kernel that wrote through a view: the viewed tensor's device copy is now the newer one.
void written(Tensor &t) { t.mark_device_written(); }

std::string num(double x) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.9g", x);
    return buf;
}

// CPU only: every id an integer in [0, n) (or -1 where allow_ignored); else an Error naming the
// first bad one and its row.
void check_ids(const std::string &op, const char *arg, const Tensor &ids, int64_t n, bool allow_ignored) {
    if (ids.device() != Device::cpu) return;
    const float *p = ids.data();
    for (int64_t r = 0; r < ids.numel(); r++) {
        const float x = p[r];
        if (allow_ignored && x == -1.0f) continue;
        if (!(x >= 0.0f && x < (float)n && x == std::floor(x))) {
            throw Error(op + ": argument '" + arg + "' holds " + num(x) + " at row " + std::to_string(r) +
                        ", not an id in [0, " + std::to_string(n) + ")" + (allow_ignored ? " or -1 (ignored)" : ""));
        }
    }
}

}  // namespace

// ---------------------------------------------------------------------------------------------

void layernorm_forward(const Tensor &x, const Tensor &gamma, const Tensor &beta, float eps, Tensor &y, Tensor &mean,
                       Tensor &rstd) {
    const std::string op = "layernorm_forward";
    const Shape xs = check_matrix(op, "x", x, "[R,D]");
    const int64_t R = xs[0], D = xs[1];
    const Device dev = x.device();
    check(op, "gamma", gamma, {D}, "[D]", dev, "x");
    check(op, "beta", beta, {D}, "[D]", dev, "x");
    check(op, "y", y, {R, D}, "[R,D]", dev, "x");
    check(op, "mean", mean, {R}, "[R]", dev, "x");
    check(op, "rstd", rstd, {R}, "[R]", dev, "x");
    if (!(eps >= 0.0f && std::isfinite(eps))) throw Error(op + ": argument 'eps' must be finite and >= 0, got " + num(eps));
    dispatch::run_kernel(kernel(op, "layernorm", "forward", dev),
                         {{"x", (void *)x.raw()}, {"gamma", (void *)gamma.raw()}, {"beta", (void *)beta.raw()},
                          {"eps", &eps}, {"y", y.raw()}, {"mean", mean.raw()}, {"rstd", rstd.raw()}});
}

void layernorm_backward(const Tensor &dy, const Tensor &x, const Tensor &gamma, const Tensor &mean, const Tensor &rstd,
                        Tensor &dx, Tensor &dgamma, Tensor &dbeta, bool accumulate) {
    const std::string op = "layernorm_backward";
    const Shape xs = check_matrix(op, "x", x, "[R,D]");
    const int64_t R = xs[0], D = xs[1];
    const Device dev = x.device();
    check(op, "dy", dy, {R, D}, "[R,D]", dev, "x");
    check(op, "gamma", gamma, {D}, "[D]", dev, "x");
    check(op, "mean", mean, {R}, "[R]", dev, "x");
    check(op, "rstd", rstd, {R}, "[R]", dev, "x");
    check(op, "dx", dx, {R, D}, "[R,D]", dev, "x");
    check(op, "dgamma", dgamma, {D}, "[D]", dev, "x");
    check(op, "dbeta", dbeta, {D}, "[D]", dev, "x");
    std::vector<KernelArg> args = {{"dy", (void *)dy.raw()},     {"x", (void *)x.raw()},     {"gamma", (void *)gamma.raw()},
                                   {"mean", (void *)mean.raw()}, {"rstd", (void *)rstd.raw()}, {"dx", dx.raw()},
                                   {"dgamma", dgamma.raw()},     {"dbeta", dbeta.raw()}};
    // accumulate: the kernel reads dx as dx_in and writes dx, element by element in one loop.
    if (accumulate) args.push_back({"dx_in", dx.raw()});
    dispatch::run_kernel(kernel(op, "layernorm", accumulate ? "backward_acc" : "backward", dev), args);
}

// ---------------------------------------------------------------------------------------------

namespace {

// ab [R,2F] -> (R, F), checked.
std::pair<int64_t, int64_t> swiglu_dims(const std::string &op, const Tensor &ab) {
    const Shape s = check_matrix(op, "ab", ab, "[R,2F]");
    if (s[1] % 2 != 0) throw Error(op + ": argument 'ab' must have shape [R,2F] (an even number of columns), got " + shape_str(s));
    return {s[0], s[1] / 2};
}

}  // namespace

void swiglu_forward(const Tensor &ab, Tensor &h) {
    const std::string op = "swiglu_forward";
    const auto [R, F] = swiglu_dims(op, ab);
    const Device dev = ab.device();
    check(op, "h", h, {R, F}, "[R,F] (F from ab)", dev, "ab");
    Tensor ab3 = ab.view({R, 2, F});
    dispatch::run_kernel(kernel(op, "swiglu", "forward", dev), {{"ab", ab3.raw()}, {"h", h.raw()}});
}

void swiglu_backward(const Tensor &ab, const Tensor &dh, Tensor &dab) {
    const std::string op = "swiglu_backward";
    const auto [R, F] = swiglu_dims(op, ab);
    const Device dev = ab.device();
    check(op, "dh", dh, {R, F}, "[R,F] (F from ab)", dev, "ab");
    check(op, "dab", dab, {R, 2 * F}, "[R,2F]", dev, "ab");
    Tensor ab3 = ab.view({R, 2, F}), dab3 = dab.view({R, 2, F});
    dispatch::run_kernel(kernel(op, "swiglu", "backward", dev), {{"ab", ab3.raw()}, {"dh", (void *)dh.raw()}, {"dab", dab3.raw()}});
    written(dab);
}

// ---------------------------------------------------------------------------------------------

void gelu_forward(const Tensor &x, Tensor &y) {
    const std::string op = "gelu_forward";
    require_defined(op, "x", x, "a tensor");
    check(op, "y", y, x.shape(), "the shape of x", x.device(), "x");
    if (x.numel() == 0) return;
    Tensor xf = flat(op, "x", x), yf = flat(op, "y", y);
    dispatch::run_kernel(kernel(op, "gelu", "forward", x.device()), {{"x", xf.raw()}, {"y", yf.raw()}});
    written(y);
}

void gelu_backward(const Tensor &x, const Tensor &dy, Tensor &dx) {
    const std::string op = "gelu_backward";
    require_defined(op, "x", x, "a tensor");
    check(op, "dy", dy, x.shape(), "the shape of x", x.device(), "x");
    check(op, "dx", dx, x.shape(), "the shape of x", x.device(), "x");
    if (x.numel() == 0) return;
    Tensor xf = flat(op, "x", x), dyf = flat(op, "dy", dy), dxf = flat(op, "dx", dx);
    dispatch::run_kernel(kernel(op, "gelu", "backward", x.device()), {{"x", xf.raw()}, {"dy", dyf.raw()}, {"dx", dxf.raw()}});
    written(dx);
}

void add(const Tensor &a, const Tensor &b, Tensor &y) {
    const std::string op = "add";
    require_defined(op, "a", a, "a tensor");
    check(op, "b", b, a.shape(), "the shape of a", a.device(), "a");
    check(op, "y", y, a.shape(), "the shape of a", a.device(), "a");
    if (a.numel() == 0) return;
    Tensor af = flat(op, "a", a), bf = flat(op, "b", b), yf = flat(op, "y", y);
    dispatch::run_kernel(kernel(op, "tensor", "add", a.device()), {{"a", af.raw()}, {"b", bf.raw()}, {"y", yf.raw()}});
    written(y);
}

void scale(Tensor &y, float s) {
    const std::string op = "scale";
    require_defined(op, "y", y, "a tensor");
    if (y.numel() == 0) return;
    Tensor yf = flat(op, "y", y);
    dispatch::run_kernel(kernel(op, "tensor", "scale", y.device()), {{"y_in", yf.raw()}, {"s", &s}, {"y", yf.raw()}});
    written(y);
}

double sum_squares(const Tensor &x) {
    const std::string op = "sum_squares";
    require_defined(op, "x", x, "a tensor");
    if (x.numel() == 0) return 0.0;
    Tensor xf = flat(op, "x", x);
    // Lanes L and chunk length per device (fixed: they define the partition). CPU: 16 lanes (a
    // task per 16K elements); CUDA: a block of 128 threads (the kernel's tile) per 8K elements.
    const bool cuda = x.device() == Device::cuda;
    const int L = cuda ? 128 : 16;
    const int chunk = cuda ? 8192 : 16384;
    const int64_t chunks = (x.numel() + chunk - 1) / chunk;
    Halide::Runtime::Buffer<double> part(L, (int)chunks);
    if (cuda && part.device_malloc(halide_cuda_device_interface()) != 0) {
        throw Error(op + ": could not allocate " + std::to_string(L * chunks * 8) + " bytes on cuda");
    }
    int chunk_arg = chunk;
    dispatch::run_kernel(kernel(op, "tensor", "sum_squares", x.device()),
                         {{"x", xf.raw()}, {"chunk", &chunk_arg}, {"part", part.raw_buffer()}});
    if (cuda && part.copy_to_host() != 0) throw Error(op + ": copy to host failed");
    double total = 0.0;
    for (int64_t u = 0; u < chunks; u++) {
        for (int l = 0; l < L; l++) total += part(l, (int)u);
    }
    return total;
}

void adamw_update(Tensor &p, const Tensor &g, Tensor &m, Tensor &v, const AdamWArgs &a) {
    const std::string op = "adamw_update";
    require_defined(op, "p", p, "a tensor");
    const Device dev = p.device();
    check(op, "g", g, p.shape(), "the shape of p", dev, "p");
    check(op, "m", m, p.shape(), "the shape of p", dev, "p");
    check(op, "v", v, p.shape(), "the shape of p", dev, "p");
    if (a.step < 1) throw Error(op + ": argument 'step' must be >= 1 (the count including this step), got " + std::to_string(a.step));
    for (auto [name, x] : {std::pair<const char *, float>{"lr", a.lr}, {"beta1", a.beta1}, {"beta2", a.beta2},
                           {"eps", a.eps}, {"weight_decay", a.weight_decay}}) {
        if (!std::isfinite(x)) throw Error(op + ": argument '" + name + "' must be finite, got " + num(x));
    }
    if (!(a.beta1 >= 0.0f && a.beta1 < 1.0f) || !(a.beta2 >= 0.0f && a.beta2 < 1.0f)) {
        throw Error(op + ": arguments 'beta1', 'beta2' must be in [0, 1), got " + num(a.beta1) + ", " + num(a.beta2));
    }
    if (p.numel() == 0) return;
    // The step's scalars in float64, as PyTorch computes them in Python floats.
    const double lr = a.lr, bc1 = 1.0 - std::pow((double)a.beta1, (double)a.step),
                 bc2 = 1.0 - std::pow((double)a.beta2, (double)a.step);
    float decay = (float)(1.0 - lr * (double)a.weight_decay);
    float beta1_weight = (float)(1.0 - (double)a.beta1);
    float beta2 = a.beta2;
    float step_size = (float)(lr / bc1);
    float bc2_sqrt = (float)std::sqrt(bc2);
    float eps = a.eps;
    Tensor pf = flat(op, "p", p), gf = flat(op, "g", g), mf = flat(op, "m", m), vf = flat(op, "v", v);
    dispatch::run_kernel(kernel(op, "adamw", "update", dev),
                         {{"p_in", pf.raw()}, {"g", gf.raw()}, {"m_in", mf.raw()}, {"v_in", vf.raw()},
                          {"decay", &decay}, {"beta1_weight", &beta1_weight}, {"beta2", &beta2},
                          {"step_size", &step_size}, {"bc2_sqrt", &bc2_sqrt}, {"eps", &eps},
                          {"pmv.0", pf.raw()}, {"pmv.1", mf.raw()}, {"pmv.2", vf.raw()}});
    written(p);
    written(m);
    written(v);
}

// ---------------------------------------------------------------------------------------------

namespace {

// ids [R] and (with positions) T > 0 dividing R. Returns R.
int64_t embedding_rows(const std::string &op, const Tensor &ids, int64_t T, bool pos) {
    require_defined(op, "ids", ids, "[R]");
    if (ids.ndim() != 1 || ids.dim(0) < 1) throw Error(op + ": argument 'ids' must have shape [R] with R >= 1, got " + shape_str(ids.shape()));
    const int64_t R = ids.dim(0);
    if (pos) {
        if (T < 1 || T > INT_MAX) throw Error(op + ": argument 'T' must be >= 1 with a position table, got " + std::to_string(T));
        if (R % T != 0) {
            throw Error(op + ": argument 'T' = " + std::to_string(T) + " must divide the number of rows R = " +
                        std::to_string(R) + " (rows are b·T + t)");
        }
    }
    return R;
}

}  // namespace

void embedding_forward(const Tensor &ids, const Tensor &table, const Tensor *pos, int64_t T, Tensor &y) {
    const std::string op = "embedding_forward";
    const int64_t R = embedding_rows(op, ids, T, pos != nullptr);
    const Device dev = ids.device();
    const Shape ts = check_matrix(op, "table", table, "[V,D]");
    const int64_t V = ts[0], D = ts[1];
    check_device(op, "table", table, dev, "ids");
    check(op, "y", y, {R, D}, "[R,D] (D from table)", dev, "ids");
    if (pos) {
        require_defined(op, "pos", *pos, "[P,D]");
        if (pos->ndim() != 2 || pos->dim(1) != D || pos->dim(0) < T) {
            throw Error(op + ": argument 'pos' must have shape [P,D] with P >= T = " + std::to_string(T) + " and D = " +
                        std::to_string(D) + ", got " + shape_str(pos->shape()));
        }
        check_device(op, "pos", *pos, dev, "ids");
    }
    check_ids(op, "ids", ids, V, false);
    std::vector<KernelArg> args = {{"ids", (void *)ids.raw()}, {"table", (void *)table.raw()}, {"y", y.raw()}};
    int Targ = (int)T;
    if (pos) {
        args.push_back({"pos", (void *)pos->raw()});
        args.push_back({"T", &Targ});
    }
    dispatch::run_kernel(kernel(op, "embedding", pos ? "forward_pos" : "forward", dev), args);
}

void embedding_backward(const Tensor &ids, const Tensor &dy, int64_t T, Tensor &dtable, Tensor *dpos) {
    const std::string op = "embedding_backward";
    const int64_t R = embedding_rows(op, ids, T, dpos != nullptr);
    const Device dev = ids.device();
    const Shape ts = check_matrix(op, "dtable", dtable, "[V,D]");
    const int64_t V = ts[0], D = ts[1];
    check_device(op, "dtable", dtable, dev, "ids");
    check(op, "dy", dy, {R, D}, "[R,D] (D from dtable)", dev, "ids");
    if (dpos) {
        require_defined(op, "dpos", *dpos, "[P,D]");
        if (dpos->ndim() != 2 || dpos->dim(1) != D || dpos->dim(0) < T) {
            throw Error(op + ": argument 'dpos' must have shape [P,D] with P >= T = " + std::to_string(T) + " and D = " +
                        std::to_string(D) + ", got " + shape_str(dpos->shape()));
        }
        check_device(op, "dpos", *dpos, dev, "ids");
    }
    check_ids(op, "ids", ids, V, false);
    std::vector<KernelArg> args = {{"ids", (void *)ids.raw()}, {"dy", (void *)dy.raw()}, {"dtable", dtable.raw()}};
    int Targ = (int)T;
    if (dpos) {
        args.push_back({"dpos", dpos->raw()});
        args.push_back({"T", &Targ});
    }
    dispatch::run_kernel(kernel(op, "embedding", dpos ? "backward_pos" : "backward", dev), args);
}

// ---------------------------------------------------------------------------------------------

void cross_entropy(const Tensor &logits, const Tensor &targets, float grad_scale, Tensor &loss_rows, Tensor &pred,
                   Tensor &dlogits) {
    const std::string op = "cross_entropy";
    const Shape ls = check_matrix(op, "logits", logits, "[R,V]");
    const int64_t R = ls[0], V = ls[1];
    const Device dev = logits.device();
    check(op, "targets", targets, {R}, "[R]", dev, "logits");
    check(op, "loss_rows", loss_rows, {R}, "[R]", dev, "logits");
    check(op, "pred", pred, {R}, "[R]", dev, "logits");
    check(op, "dlogits", dlogits, {R, V}, "[R,V]", dev, "logits");
    if (!std::isfinite(grad_scale)) throw Error(op + ": argument 'grad_scale' must be finite, got " + num(grad_scale));
    check_ids(op, "targets", targets, V, true);
    dispatch::run_kernel(kernel(op, "cross_entropy", "fused", dev),
                         {{"logits", (void *)logits.raw()}, {"targets", (void *)targets.raw()}, {"grad_scale", &grad_scale},
                          {"dlogits", dlogits.raw()}, {"loss", loss_rows.raw()}, {"pred", pred.raw()}});
}

// ---------------------------------------------------------------------------------------------

void lag_stack_forward(const Tensor &s, int m, const Tensor *h0, Tensor &lags, bool time_major) {
    const std::string op = "lag_stack_forward";
    const char *sl = time_major ? "[T,B,N]" : "[B,T,N]";
    require_defined(op, "s", s, sl);
    if (s.ndim() != 3 || s.dim(0) < 1 || s.dim(1) < 1 || s.dim(2) < 1) {
        throw Error(op + ": argument 's' must have shape " + sl + " with every extent >= 1, got " + shape_str(s.shape()));
    }
    if (m < 1) throw Error(op + ": argument 'm' (the number of lags) must be >= 1, got " + std::to_string(m));
    const int64_t d0 = s.dim(0), d1 = s.dim(1), N = s.dim(2), B = time_major ? d1 : d0;
    const Device dev = s.device();
    check(op, "lags", lags, {d0, d1, m * N}, time_major ? "[T,B,m·N]" : "[B,T,m·N]", dev, "s");
    if (h0) check(op, "h0", *h0, {B, N, m}, "[B,N,m]", dev, "s");
    Tensor lags4 = lags.view({d0, d1, m, N});
    int has_h0 = h0 ? 1 : 0;
    // Without h0 the kernel never uses its value; s stands in (its reads are clamped to its extents).
    const Tensor &h0_arg = h0 ? *h0 : s;
    dispatch::KernelView sk(s, time_major), lk(lags4, time_major);
    dispatch::run_kernel(kernel(op, "lag_stack", "forward", dev),
                         {{"s", sk.arg()}, {"h0", (void *)h0_arg.raw()}, {"has_h0", &has_h0}, {"lags", lk.arg()}});
    written(lags);
}

void lag_stack_backward(const Tensor &dlags, int m, Tensor &ds, bool time_major) {
    const std::string op = "lag_stack_backward";
    const char *sl = time_major ? "[T,B,N]" : "[B,T,N]";
    require_defined(op, "ds", ds, sl);
    if (ds.ndim() != 3 || ds.dim(0) < 1 || ds.dim(1) < 1 || ds.dim(2) < 1) {
        throw Error(op + ": argument 'ds' must have shape " + sl + " with every extent >= 1, got " + shape_str(ds.shape()));
    }
    if (m < 1) throw Error(op + ": argument 'm' (the number of lags) must be >= 1, got " + std::to_string(m));
    const int64_t d0 = ds.dim(0), d1 = ds.dim(1), N = ds.dim(2);
    const Device dev = ds.device();
    check(op, "dlags", dlags, {d0, d1, m * N}, time_major ? "[T,B,m·N] (T, B, N from ds)" : "[B,T,m·N] (B, T, N from ds)",
          dev, "ds");
    Tensor dl4 = dlags.view({d0, d1, m, N});
    dispatch::KernelView lk(dl4, time_major), sk(ds, time_major);
    dispatch::run_kernel(kernel(op, "lag_stack", "backward", dev), {{"dlags", lk.arg()}, {"ds", sk.arg()}});
    sk.written();
}

}  // namespace statemix
