// The linear-recurrence layers (../shared/spec/layers.md §2-§5): BD-LRU (block size m) and
// H-LRU (order m), forward and backward, on CPU or CUDA, dispatched to the AOT kernels.
//
// Shapes (row-major), every tensor float32 and on the same device:
//   BD-LRU  z [B,T,N,m,m+1]  v, h, g [B,T,N,m]  h0, h_final, g_final [B,N,m]
//   H-LRU   z [B,T,N,m+1]    v, s, g [B,T,N]    h0, h_final, g_final [B,N,m]  (h0[...,i] = s_{-1-i})
// Gradients (dz, dv, dh0) have the shapes of (z, v, h0).
// Time-major (ScanConfig::time_major): every sequence tensor is [T,B,...] instead of [B,T,...]
// (z, v, h/s, g, dz, dv; the states stay [B,N,m]); CPU kernels compiled for that layout, whose
// every time step is one contiguous stretch of memory (docs/benchmarks.md: 2-4x the backward's
// speed of [B,T,...] on the dev machine).
// Optional arguments (h0, g_final) may be null: zeros.
#pragma once

#include "kernel_registry.h"
#include "tensor.h"

#include <string>
#include <vector>

namespace statemix {

enum class Layer { hlru, bdlru };
// Values are the kernels' `norm` argument (generators/gate_norm.h).
enum class Norm { softmax = 0, sigmoid_l1 = 1, relu_l1 = 2, tanh_l1 = 3, lin_l1 = 4, none = 5 };
enum class Algorithm { automatic, sequential, chunked };

const char *layer_name(Layer l);
const char *norm_name(Norm n);
const char *algorithm_name(Algorithm a);
Layer parse_layer(const std::string &s);          // Error names the accepted values
Norm parse_norm(const std::string &s);
Algorithm parse_algorithm(const std::string &s);

struct ScanConfig {
    Layer layer = Layer::bdlru;
    int m = 1;
    Norm norm = Norm::softmax;
    Algorithm algorithm = Algorithm::automatic;  // automatic: by shape (see select_kernel)
    // This exact kernel variant instead of select_kernel's choice (the tests run every compiled
    // variant; the autotuner runs its JIT candidates through the same ops). Must match layer, m,
    // direction and device.
    const KernelEntry *kernel = nullptr;
    bool time_major = false;  // sequences [T,B,...] (see the top of this file)
};

// Whether a kernel was compiled for time-major sequences (its params say time_major=true).
bool is_time_major(const KernelEntry &k);
// Whether this build has time-major kernels of both directions for a layer, m and device.
bool has_time_major(Layer layer, int m, Device device);

// The problem size, read from v (and checked against everything else).
struct ScanDims {
    int64_t B = 0, T = 0, N = 0;
    int m = 1;
};

// The orders / block sizes compiled for a layer on a device.
std::vector<int> supported_orders(Layer layer, Device device);

// The kernel that runs for this configuration, direction ("forward"/"backward"), device and
// size: the variant the tuning database chose for the shape's bucket (kKernelChoices, generated
// at build time from autotune/db/), restricted to cfg.algorithm when that is not automatic; a
// shape outside every bucket falls back to a rule of thumb. Error (naming m and what is
// supported) if none is compiled.
const KernelEntry &select_kernel(const ScanConfig &cfg, const char *direction, Device device,
                                 const ScanDims &dims);

// The kernel calls that cover N channels: [n0, n0 + n) each. A CPU forward runs a count off its
// vector width (kernel_lanes) in one pass, its last vector shifted inwards, and needs N at least
// that width (scan_forward pads a smaller N with zeros); a CPU backward, and a forward whose
// shifted vector would be alone in a parallel tile, run such a count as two calls, the second one
// full vector ending at N (overlapping the first, which it writes again with the same values).
// CUDA: one call.
struct ChannelCall {
    int64_t n0, n;
};
// The channels per vector of a CPU kernel: its vector_width, else this CPU's natural width.
int64_t kernel_lanes(const KernelEntry &k);
std::vector<ChannelCall> channel_calls(const KernelEntry &k, Device device, int64_t N);

// Forward into preallocated outputs (no allocation but the zero initial state when h0 is null).
void scan_forward(const ScanConfig &cfg, const Tensor &z, const Tensor &v, const Tensor *h0,
                  Tensor &h, Tensor &h_final);
struct ScanForwardResult {
    Tensor h, h_final;
};
ScanForwardResult scan_forward(const ScanConfig &cfg, const Tensor &z, const Tensor &v,
                               const Tensor *h0 = nullptr);

// Backward: h is the forward output, g = ∂L/∂h (H-LRU: ∂L/∂s), g_final = ∂L/∂h_final.
void scan_backward(const ScanConfig &cfg, const Tensor &z, const Tensor &v, const Tensor *h0,
                   const Tensor &h, const Tensor &g, const Tensor *g_final, Tensor &dz, Tensor &dv,
                   Tensor &dh0);
struct ScanBackwardResult {
    Tensor dz, dv, dh0;
};
ScanBackwardResult scan_backward(const ScanConfig &cfg, const Tensor &z, const Tensor &v,
                                 const Tensor *h0, const Tensor &h, const Tensor &g,
                                 const Tensor *g_final = nullptr);

// The tuning database's bucket of a shape: B × state width (B·N·m for BD-LRU, B·N for H-LRU).
int64_t bucket_lanes(Layer layer, const ScanDims &d);

// Shapes of every argument for a configuration (for allocation and for error messages).
struct ScanShapes {
    Shape z, v, state;  // state: h0 / h_final / g_final / dh0
};
ScanShapes scan_shapes(Layer layer, const ScanDims &d, bool time_major = false);
// Reads B, T, N from v (Error if v's rank or last extent does not fit the layer and m).
ScanDims scan_dims(const ScanConfig &cfg, const Tensor &v);

}  // namespace statemix
