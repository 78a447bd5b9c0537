// Persistent forward kernels of the mat-vec recurrences; see rnn_persistent.h for why and the
// layout. Reference semantics: reference/rnn_reference.h (wcrnn_forward / elman_forward).
#include "rnn_persistent.h"

#include "../error.h"

#include <cooperative_groups.h>
#include <cuda_runtime.h>
#include <dlfcn.h>

#include <algorithm>
#include <cstdio>
#include <mutex>

namespace cg = cooperative_groups;

namespace statemix::cuda_persistent {
namespace {

constexpr unsigned kFull = 0xffffffffu;
// 512 threads leave the compiler 128 registers per thread: up to 64 of W plus the rest.
constexpr int kMaxThreads = 512;

struct Params {
    const float *u, *W, *h0, *rho_d, *rho_u, *rho_l;
    float *h, *h_final;
    int B, T, H;
    int rows_per_cta;   // Hc
    int warps_rows;     // WR: warps over row groups (Hc = R · WR)
    int batch_split;    // BS: warps over batch rows
    int batch_per_cta;  // Bg
    float eps;
    int act, rho_act;
};

__device__ __forceinline__ float act_f(float a, int act) {
    // relu written so that a NaN passes through (fmaxf would turn it into 0).
    return act == 0 ? tanhf(a) : (a < 0.0f ? 0.0f : a);
}

__device__ __forceinline__ float phi(float x, int rho_act) { return rho_act ? tanhf(x) : x; }

// Row i of the new state of one batch row from its mat-vec `acc` and the gathered previous
// state hp (shared memory, [H] of this batch row).
__device__ __forceinline__ float finalize(const Params &p, int i, float acc, float drive, const float *hp) {
    const float f = act_f(acc + drive, p.act);
    if (!p.rho_d) return f;  // Elman: h = tanh(W h + u)
    float r = p.rho_d[i] * phi(hp[i], p.rho_act);
    if (i + 1 < p.H) r += p.rho_u[i] * phi(hp[i + 1], p.rho_act);
    if (i > 0) r += p.rho_l[i] * phi(hp[i - 1], p.rho_act);
    return r + p.eps * f;
}

// The per-step compute of one CTA: warp (rg, bs) owns rows row0 + rg·R .. + R-1 (in registers w)
// and batch rows bs, bs + BS, ... of the CTA's nb gathered rows hs[b][0..32·KPL).
// Results go to global h (and, for clusters, to `pub` [Bg][Hc] in shared memory).
// The drive u of the warp's first batch row for lane r's row r, loaded before the gather so that
// its global-memory latency overlaps the exchange instead of sitting on the step's critical path.
template <int R>
__device__ __forceinline__ float first_drive(const Params &p, int row0, int rg, int bs, int lane, int b_first, int nb,
                                             int t) {
    const int il = rg * R + lane, i = row0 + il;
    if (lane < R && bs < nb && il < p.rows_per_cta && i < p.H) {
        return p.u[((size_t)(b_first + bs) * p.T + t) * p.H + i];
    }
    return 0.0f;
}

template <int KPL, int R>
__device__ __forceinline__ void step_rows(const Params &p, const float (&w)[R][KPL], const float *hs, int hp_stride,
                                          int row0, int rg, int bs, int lane, int b_first, int nb, int t,
                                          float u_first, float *pub) {
    for (int bl = bs; bl < nb; bl += p.batch_split) {
        const float *hrow = hs + (size_t)bl * hp_stride;
        float acc[R];
#pragma unroll
        for (int r = 0; r < R; r++) acc[r] = 0.0f;
#pragma unroll
        for (int j = 0; j < KPL; j++) {
            const float x = hrow[lane + 32 * j];
#pragma unroll
            for (int r = 0; r < R; r++) acc[r] = fmaf(w[r][j], x, acc[r]);
        }
#pragma unroll
        for (int r = 0; r < R; r++) {
#pragma unroll
            for (int off = 16; off > 0; off >>= 1) acc[r] += __shfl_xor_sync(kFull, acc[r], off);
        }
        const int b = b_first + bl;
        // Lane r finalizes row r of the warp's group (every lane holds every sum).
#pragma unroll
        for (int r = 0; r < R; r++) {
            const int il = rg * R + r;  // row within the CTA's slice
            const int i = row0 + il;
            if (lane == r && il < p.rows_per_cta && i < p.H && b < p.B) {
                const size_t o = ((size_t)b * p.T + t) * p.H + i;
                const float hn = finalize(p, i, acc[r], bl == bs ? u_first : p.u[o], hrow);
                p.h[o] = hn;
                if (pub) pub[(size_t)bl * p.rows_per_cta + il] = hn;
                if (t == p.T - 1) p.h_final[(size_t)b * p.H + i] = hn;
            }
        }
    }
}

template <int KPL, int R>
__device__ __forceinline__ void load_weights(const Params &p, float (&w)[R][KPL], int row0, int rg, int lane) {
#pragma unroll
    for (int r = 0; r < R; r++) {
        const int il = rg * R + r, i = row0 + il;
#pragma unroll
        for (int j = 0; j < KPL; j++) {
            const int k = lane + 32 * j;
            w[r][j] = (il < p.rows_per_cta && i < p.H && k < p.H) ? p.W[(size_t)i * p.H + k] : 0.0f;
        }
    }
}

// Cluster groups: blockIdx.x = group · C + rank; the group handles batch rows
// [group · Bg, group · Bg + Bg). Dynamic shared memory: hs [Bg][32·KPL], then pub [2][Bg][Hc].
template <int KPL, int R>
__global__ void __launch_bounds__(kMaxThreads) rnn_forward_cluster(Params p) {
    extern __shared__ float smem[];
    cg::cluster_group cluster = cg::this_cluster();
    const int C = (int)cluster.num_blocks();
    const int rank = (int)cluster.block_rank();
    const int group = blockIdx.x / C;
    const int HP = 32 * KPL, Bg = p.batch_per_cta, Hc = p.rows_per_cta;
    float *hs = smem;
    float *pub = smem + (size_t)Bg * HP;  // [2][Bg][Hc]
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int rg = warp % p.warps_rows, bs = warp / p.warps_rows;
    const int row0 = rank * Hc, b_first = group * Bg;
    const int nb = min(Bg, p.B - b_first);

    float w[R][KPL];
    load_weights<KPL, R>(p, w, row0, rg, lane);
    for (int q = threadIdx.x; q < Bg * HP; q += blockDim.x) hs[q] = 0.0f;  // padding stays zero
    cluster.sync();  // every CTA of the cluster runs before anyone reads remote shared memory

    for (int t = 0; t < p.T; t++) {
        const float u_first = first_drive<R>(p, row0, rg, bs, lane, b_first, nb, t);
        // Gather h_{t-1} of this group's batch rows: from h0, or from every rank's published rows.
        float *prev = pub + (size_t)((t - 1) & 1) * Bg * Hc;
        for (int q = threadIdx.x; q < nb * p.H; q += blockDim.x) {
            const int bl = q / p.H, k = q % p.H;
            hs[(size_t)bl * HP + k] = t == 0 ? p.h0[(size_t)(b_first + bl) * p.H + k]
                                             : *cluster.map_shared_rank(prev + (size_t)bl * Hc + (k % Hc), k / Hc);
        }
        __syncthreads();
        step_rows<KPL, R>(p, w, hs, HP, row0, rg, bs, lane, b_first, nb, t, u_first, pub + (size_t)(t & 1) * Bg * Hc);
        // Publishes this step's rows and, as everyone gathered before computing, frees the other
        // buffer for step t + 1 (and hs for the next gather).
        cluster.sync();
    }
}

// Grid groups: blockIdx.x = row slice; every CTA covers all batch rows in chunks of Bg.
// Dynamic shared memory: hs [Bg][32·KPL].
template <int KPL, int R>
__global__ void __launch_bounds__(kMaxThreads) rnn_forward_grid(Params p) {
    extern __shared__ float smem[];
    cg::grid_group grid = cg::this_grid();
    const int HP = 32 * KPL, Bg = p.batch_per_cta;
    float *hs = smem;
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int rg = warp % p.warps_rows, bs = warp / p.warps_rows;
    const int row0 = blockIdx.x * p.rows_per_cta;

    float w[R][KPL];
    load_weights<KPL, R>(p, w, row0, rg, lane);
    for (int q = threadIdx.x; q < Bg * HP; q += blockDim.x) hs[q] = 0.0f;
    __syncthreads();

    for (int t = 0; t < p.T; t++) {
        for (int b_first = 0; b_first < p.B; b_first += Bg) {
            const int nb = min(Bg, p.B - b_first);
            const float u_first = first_drive<R>(p, row0, rg, bs, lane, b_first, nb, t);
            for (int q = threadIdx.x; q < nb * p.H; q += blockDim.x) {
                const int bl = q / p.H, k = q % p.H, b = b_first + bl;
                // __ldcg: L2 only, never a stale L1 line of another CTA's earlier write.
                hs[(size_t)bl * HP + k] = t == 0 ? p.h0[(size_t)b * p.H + k]
                                                 : __ldcg(&p.h[((size_t)b * p.T + (t - 1)) * p.H + k]);
            }
            __syncthreads();
            step_rows<KPL, R>(p, w, hs, HP, row0, rg, bs, lane, b_first, nb, t, u_first, nullptr);
            __syncthreads();  // hs is refilled by the next chunk
        }
        grid.sync();  // h_t complete in global memory before anyone gathers it
    }
}

using KernelFn = void (*)(Params);

template <int KPL>
KernelFn pick_r(int R, bool cluster) {
    if (R == 1) return cluster ? rnn_forward_cluster<KPL, 1> : rnn_forward_grid<KPL, 1>;
    if (R == 2) return cluster ? rnn_forward_cluster<KPL, 2> : rnn_forward_grid<KPL, 2>;
    if constexpr (KPL <= 16) {
        if (R == 4) return cluster ? rnn_forward_cluster<KPL, 4> : rnn_forward_grid<KPL, 4>;
    }
    return nullptr;
}

KernelFn kernel_for(int kpl, int R, bool cluster) {
    switch (kpl) {
    case 1: return pick_r<1>(R, cluster);
    case 2: return pick_r<2>(R, cluster);
    case 4: return pick_r<4>(R, cluster);
    case 8: return pick_r<8>(R, cluster);
    case 16: return pick_r<16>(R, cluster);
    case 32: return pick_r<32>(R, cluster);
    default: return nullptr;
    }
}

// Halide's CUDA runtime creates its own context (not the primary one) and every statemix CUDA
// buffer lives there; the runtime API uses whatever context is current on the thread, so the
// launch runs with Halide's context pushed. Same context, same (legacy default) stream: the launch
// is ordered after the Halide kernels that wrote its inputs and before Halide's copies back.
extern "C" int halide_cuda_acquire_context(void *user_context, void **ctx, bool create);
extern "C" int halide_cuda_release_context(void *user_context);

struct HalideContext {
    using PushFn = int (*)(void *);
    using PopFn = int (*)(void **);
    PushFn push = nullptr;
    PopFn pop = nullptr;
    bool pushed = false;
    HalideContext() {
        static void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
        if (!lib) throw Error("rnn persistent: libcuda.so.1 could not be loaded");
        push = reinterpret_cast<PushFn>(dlsym(lib, "cuCtxPushCurrent_v2"));
        pop = reinterpret_cast<PopFn>(dlsym(lib, "cuCtxPopCurrent_v2"));
        if (!push || !pop) throw Error("rnn persistent: libcuda.so.1 lacks cuCtxPushCurrent_v2 / cuCtxPopCurrent_v2");
        void *ctx = nullptr;
        if (halide_cuda_acquire_context(nullptr, &ctx, true) != 0 || !ctx) {
            throw Error("rnn persistent: could not get Halide's CUDA context");
        }
        if (push(ctx) != 0) {
            halide_cuda_release_context(nullptr);
            throw Error("rnn persistent: cuCtxPushCurrent failed");
        }
        pushed = true;
    }
    ~HalideContext() {
        if (pushed) {
            void *old = nullptr;
            pop(&old);
            halide_cuda_release_context(nullptr);
        }
    }
};

struct DeviceInfo {
    bool ok = false;
    std::string why;
    int sms = 0, major = 0, smem_optin = 0;
};

const DeviceInfo &device_info() {
    static const DeviceInfo info = [] {
        DeviceInfo d;
        int n = 0;
        cudaError_t e = cudaGetDeviceCount(&n);
        if (e != cudaSuccess || n == 0) {
            d.why = std::string("no CUDA device for the persistent kernels (") + cudaGetErrorString(e) + ")";
            cudaGetLastError();
            return d;
        }
        cudaDeviceProp prop{};
        if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) {
            d.why = "cudaGetDeviceProperties failed";
            return d;
        }
        d.sms = prop.multiProcessorCount;
        d.major = prop.major;
        d.smem_optin = (int)prop.sharedMemPerBlockOptin;
        if (!prop.cooperativeLaunch) {
            d.why = "the device does not support cooperative launches";
            return d;
        }
        d.ok = true;
        return d;
    }();
    return info;
}

int pow2_at_least(int x) {
    int p = 1;
    while (p < x) p *= 2;
    return p;
}

int ceil_div(int64_t a, int64_t b) { return (int)((a + b - 1) / b); }

// The launch configuration of a cluster plan (attr must outlive cfg).
cudaLaunchConfig_t cluster_config(const Plan &p, cudaLaunchAttribute *attr) {
    cudaLaunchConfig_t cfg = {};
    cfg.gridDim = dim3((unsigned)p.ctas);
    cfg.blockDim = dim3((unsigned)p.threads);
    cfg.dynamicSmemBytes = (size_t)p.smem_bytes;
    cfg.stream = 0;
    attr[0].id = cudaLaunchAttributeClusterDimension;
    attr[0].val.clusterDim.x = (unsigned)p.C;
    attr[0].val.clusterDim.y = 1;
    attr[0].val.clusterDim.z = 1;
    cfg.attrs = attr;
    cfg.numAttrs = 1;
    return cfg;
}

}  // namespace

std::string Plan::describe() const {
    if (!ok) return "persistent kernel not used: " + why_not;
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "%s group%s, %d CTAs x %d threads, %d rows/CTA (%d warps x %d rows, batch split %d), %d batch "
                  "rows/CTA, H/32 padded to %d, %d B shared",
                  cluster ? "cluster" : "grid", cluster ? (" of " + std::to_string(C)).c_str() : "", ctas, threads,
                  rows_per_cta, warps_rows, R, batch_split, batch_per_cta, kpl, smem_bytes);
    return buf;
}

bool available() { return device_info().ok; }

Plan plan(int64_t B, int64_t H, const Knobs &kn) {
    Plan p;
    const DeviceInfo &dev = device_info();
    if (!dev.ok) {
        p.why_not = dev.why;
        return p;
    }
    if (H < 1 || H > 1024) {
        p.why_not = "H = " + std::to_string(H) + " is outside 1..1024 (W would not fit in registers)";
        return p;
    }
    if (B < 1 || B > (1 << 20)) {
        p.why_not = "B = " + std::to_string(B) + " is outside 1..2^20";
        return p;
    }
    p.kpl = pow2_at_least(ceil_div(H, 32));
    const int r_max = p.kpl >= 32 ? 2 : 4;
    // Default R = 2: on the H200 (docs/gpu-notes.md) 2 rows per warp beat 4 at H = 256 (cluster
    // of 8) and 1 at H = 1024 (grid); R = 4 only where R = 2 would need a larger group than 8.
    p.R = kn.rows_per_warp ? kn.rows_per_warp : 2;
    if (!kn.rows_per_warp && kn.group == 0 && dev.major >= 9 && ceil_div(H, 8) > 16 * 2 && ceil_div(H, 8) <= 16 * 4 &&
        r_max == 4) {
        p.R = 4;
    }
    if (!kernel_for(p.kpl, p.R, true)) {
        p.why_not = "rows_per_warp = " + std::to_string(p.R) + " is not compiled for H/32 padded to " +
                    std::to_string(p.kpl) + " (expected 1, 2" + (r_max == 4 ? " or 4)" : ")");
        return p;
    }
    const int HP = 32 * p.kpl;
    const int smem_limit = std::min(dev.smem_optin, 200 * 1024);
    // Cluster groups by default while the slice per CTA stays within 16 warps of R rows.
    int C = kn.group;
    if (C == 0) {
        C = -1;
        if (dev.major >= 9) {
            for (int c = 1; c <= 8; c *= 2) {
                if (ceil_div(H, c) <= 16 * p.R) {
                    C = c;
                    break;
                }
            }
        }
    }
    if (C > 0) {
        if (C != 1 && C != 2 && C != 4 && C != 8) {
            p.why_not = "group (cluster size) must be 1, 2, 4 or 8, got " + std::to_string(C);
            return p;
        }
        if (dev.major < 9) {
            p.why_not = "thread-block clusters need compute capability 9.0+";
            return p;
        }
        p.cluster = true;
        p.C = C;
        p.rows_per_cta = ceil_div(H, C);
        p.rows_per_cta = ceil_div(p.rows_per_cta, p.R) * p.R;
        // The last ranks may own no rows for small ragged H; every rank still takes part.
        p.warps_rows = p.rows_per_cta / p.R;
        // Enough clusters to cover the SMs, each with batch rows that fit in shared memory.
        int bg = kn.batch_per_cta ? kn.batch_per_cta : std::max(1, ceil_div(B * C, dev.sms));
        const int per_row = (HP + 2 * p.rows_per_cta) * 4;
        bg = std::min<int64_t>(bg, B);
        if (bg * per_row > smem_limit) bg = std::max(1, smem_limit / per_row);
        p.batch_per_cta = bg;
        p.smem_bytes = bg * per_row;
        p.ctas = C * ceil_div(B, bg);
    } else {
        p.cluster = false;
        p.C = 0;
        int hc = kn.rows_per_cta ? kn.rows_per_cta : std::max(p.R, ceil_div(ceil_div(H, dev.sms), p.R) * p.R);
        if (hc % p.R != 0) {
            p.why_not = "rows_per_cta = " + std::to_string(hc) + " must be a multiple of rows_per_warp = " +
                        std::to_string(p.R);
            return p;
        }
        p.rows_per_cta = hc;
        p.warps_rows = hc / p.R;
        int bg = kn.batch_per_cta ? kn.batch_per_cta : std::min<int64_t>(B, 32);
        bg = std::min<int64_t>(bg, B);
        if (bg * HP * 4 > smem_limit) bg = std::max(1, smem_limit / (HP * 4));
        p.batch_per_cta = bg;
        p.smem_bytes = bg * HP * 4;
        p.ctas = ceil_div(H, hc);
    }
    int bs = kn.batch_split ? kn.batch_split : std::max(1, std::min(p.batch_per_cta, 16 / std::max(1, p.warps_rows)));
    bs = std::min(bs, p.batch_per_cta);
    while (bs > 1 && p.warps_rows * bs > kMaxThreads / 32) bs--;
    p.batch_split = bs;
    p.threads = 32 * p.warps_rows * bs;
    if (p.threads > kMaxThreads) {
        p.why_not = "the slice needs " + std::to_string(p.threads) + " threads per CTA (max " +
                    std::to_string(kMaxThreads) + "): use a larger group or more rows per warp";
        return p;
    }
    KernelFn fn = kernel_for(p.kpl, p.R, p.cluster);
    HalideContext ctx;  // queries in the context the launch will use (see forward)
    if (cudaFuncSetAttribute((const void *)fn, cudaFuncAttributeMaxDynamicSharedMemorySize, p.smem_bytes) !=
        cudaSuccess) {
        cudaGetLastError();
        p.why_not = "shared memory of " + std::to_string(p.smem_bytes) + " B per CTA was refused";
        return p;
    }
    if (p.cluster) {
        cudaLaunchAttribute attr[1];
        cudaLaunchConfig_t cfg = cluster_config(p, attr);
        int clusters = 0;
        if (cudaOccupancyMaxActiveClusters(&clusters, (const void *)fn, &cfg) != cudaSuccess || clusters < 1) {
            cudaGetLastError();
            p.why_not = "a cluster of " + std::to_string(p.C) + " CTAs x " + std::to_string(p.threads) +
                        " threads cannot be scheduled on this device";
            return p;
        }
    } else {
        int per_sm = 0;
        if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, fn, p.threads, p.smem_bytes) != cudaSuccess) {
            cudaGetLastError();
            per_sm = 0;
        }
        if (per_sm * dev.sms < p.ctas) {
            p.why_not = "a grid group of " + std::to_string(p.ctas) + " CTAs does not fit on the device at once (" +
                        std::to_string(per_sm) + " per SM x " + std::to_string(dev.sms) + " SMs)";
            return p;
        }
    }
    p.ok = true;
    return p;
}

void forward(const ForwardArgs &a, const Plan &pl) {
    if (!pl.ok) throw Error("rnn persistent forward: " + pl.why_not);
    if (a.T < 1 || a.T > INT32_MAX || a.B * a.T * a.H > (int64_t)1 << 40) {
        throw Error("rnn persistent forward: shape out of range");
    }
    Params p{a.u, a.W, a.h0, a.rho_d, a.rho_u, a.rho_l, a.h, a.h_final, (int)a.B, (int)a.T, (int)a.H,
             pl.rows_per_cta, pl.warps_rows, pl.batch_split, pl.batch_per_cta, a.eps, a.act, a.rho_act};
    KernelFn fn = kernel_for(pl.kpl, pl.R, pl.cluster);
    HalideContext ctx;
    // Attributes are per context: set them in the one the launch uses.
    cudaError_t e = cudaFuncSetAttribute((const void *)fn, cudaFuncAttributeMaxDynamicSharedMemorySize, pl.smem_bytes);
    if (e == cudaSuccess) {
        void *args[] = {&p};
        if (pl.cluster) {
            cudaLaunchAttribute attr[1];
            cudaLaunchConfig_t cfg = cluster_config(pl, attr);
            e = cudaLaunchKernelExC(&cfg, (const void *)fn, args);
        } else {
            e = cudaLaunchCooperativeKernel((const void *)fn, dim3((unsigned)pl.ctas), dim3((unsigned)pl.threads), args,
                                            (size_t)pl.smem_bytes, 0);
        }
    }
    if (e == cudaSuccess) e = cudaGetLastError();
    if (e != cudaSuccess) {
        cudaGetLastError();
        throw Error(std::string("rnn persistent forward: launch failed (") + cudaGetErrorString(e) + "; " + pl.describe() +
                    ")");
    }
}

}  // namespace statemix::cuda_persistent
