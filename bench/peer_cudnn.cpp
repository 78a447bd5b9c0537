// statemix_peer_cudnn: cuDNN 9's RNN layer at a given shape, the GPU peer of
// `statemix bench --layers elman,lstm --devices cuda` (tools/cmd_bench.cpp runs it side by side).
//
// CUDNN_RNN_TANH and CUDNN_LSTM, CUDNN_RNN_ALGO_STANDARD, one layer, unidirectional, inputSize =
// hiddenSize = H, float32 data and math precision, double bias, dropout 0. Data [T,B,H] in
// CUDNN_RNN_DATA_LAYOUT_SEQ_MAJOR_PACKED with every sequence of length T (the same bytes as the
// unpacked [T,B,H]; the packed layout needs no padded-I/O flag). Zero initial states (real
// buffers, as a framework passes them). Forward: cudnnRNNForward(CUDNN_FWD_MODE_TRAINING), which
// fills the reserve space; backward: cudnnRNNBackwardData_v8 then cudnnRNNBackwardWeights_v8
// (CUDNN_WGRAD_MODE_ADD into a gradient buffer zeroed first, inside the clock, as a framework
// does). Timed with CUDA events on the default stream, median of --reps after one warm-up.
//
// Four variants per cell:
//   linear input  (CUDNN_LINEAR_INPUT): the layer computes W_x·x_t itself (a GEMM over all steps),
//                 as in a framework's nn.RNN / nn.LSTM;
//   skip input    (CUDNN_SKIP_INPUT): no input GEMM, x_t is added as is (for LSTM the same x_t to
//                 each gate), i.e. the drive u precomputed as statemix's cores take it: the
//                 like-for-like comparison;
// each with CUDNN_DEFAULT_MATH (cuDNN may use TF32 tensor cores for float32) and CUDNN_FMA_MATH
// (plain float32 FMA, as statemix computes). A variant cuDNN refuses is reported and skipped.
//
// Built only where the CUDA toolkit and cuDNN are found (bench/CMakeLists.txt): cudart linked
// statically, libcudnn.so.9 dynamically. Without a GPU it exits with status 2 and says so.
#include "peer_common.h"

#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <cmath>
#include <memory>
#include <random>
#include <stdexcept>

namespace {

using statemix::peer::Options;
using statemix::peer::Row;

struct Failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

void check(cudaError_t e, const char *call, int line) {
    if (e != cudaSuccess) {
        throw Failure(fmt::format("{} (line {}) failed: {} ({})", call, line, cudaGetErrorString(e), (int)e));
    }
}
void check(cudnnStatus_t s, const char *call, int line) {
    if (s != CUDNN_STATUS_SUCCESS) {
        char msg[1024] = {0};
        cudnnGetLastErrorString(msg, sizeof(msg));
        throw Failure(fmt::format("{} (line {}) failed: {} ({}){}{}", call, line, cudnnGetErrorString(s), (int)s,
                                  msg[0] ? ": " : "", msg));
    }
}
#define CHECK(call) check((call), #call, __LINE__)

// Device memory, freed on scope exit.
class DeviceBuffer {
public:
    explicit DeviceBuffer(size_t bytes) : bytes_(bytes) {
        if (bytes_) CHECK(cudaMalloc(&p_, bytes_));
    }
    ~DeviceBuffer() {
        if (p_) cudaFree(p_);
    }
    DeviceBuffer(const DeviceBuffer &) = delete;
    DeviceBuffer &operator=(const DeviceBuffer &) = delete;
    void *get() const { return p_; }
    size_t size() const { return bytes_; }
    void zero() { CHECK(cudaMemset(p_, 0, bytes_)); }
    void uniform(float scale, std::mt19937 &rng) {
        std::vector<float> h(bytes_ / sizeof(float));
        std::uniform_real_distribution<float> ud(-scale, scale);
        for (float &x : h) x = ud(rng);
        CHECK(cudaMemcpy(p_, h.data(), h.size() * sizeof(float), cudaMemcpyHostToDevice));
    }

private:
    void *p_ = nullptr;
    size_t bytes_ = 0;
};

// cuDNN descriptors and CUDA events, destroyed on scope exit.
template <typename T, typename Status, Status (*Create)(T *), Status (*Destroy)(T)>
class Handle {
public:
    Handle() { CHECK(Create(&h_)); }
    ~Handle() {
        if (h_) Destroy(h_);
    }
    Handle(const Handle &) = delete;
    Handle &operator=(const Handle &) = delete;
    operator T() const { return h_; }

private:
    T h_ = nullptr;
};
using RnnDesc = Handle<cudnnRNNDescriptor_t, cudnnStatus_t, cudnnCreateRNNDescriptor, cudnnDestroyRNNDescriptor>;
using DataDesc =
    Handle<cudnnRNNDataDescriptor_t, cudnnStatus_t, cudnnCreateRNNDataDescriptor, cudnnDestroyRNNDataDescriptor>;
using TensorDesc =
    Handle<cudnnTensorDescriptor_t, cudnnStatus_t, cudnnCreateTensorDescriptor, cudnnDestroyTensorDescriptor>;
using DropoutDesc =
    Handle<cudnnDropoutDescriptor_t, cudnnStatus_t, cudnnCreateDropoutDescriptor, cudnnDestroyDropoutDescriptor>;
using Event = Handle<cudaEvent_t, cudaError_t, cudaEventCreate, cudaEventDestroy>;

struct Variant {
    const char *name;
    cudnnRNNInputMode_t input;
    cudnnMathType_t math;
};
const Variant kVariants[] = {
    {"linear input, DEFAULT_MATH", CUDNN_LINEAR_INPUT, CUDNN_DEFAULT_MATH},
    {"linear input, FMA_MATH", CUDNN_LINEAR_INPUT, CUDNN_FMA_MATH},
    {"skip input, DEFAULT_MATH", CUDNN_SKIP_INPUT, CUDNN_DEFAULT_MATH},
    {"skip input, FMA_MATH", CUDNN_SKIP_INPUT, CUDNN_FMA_MATH},
};

// One cell and variant: three rows (fwd, bwd, fwd+bwd).
std::vector<Row> run_variant(const Options &o, const std::string &cell, const Variant &v, cudnnHandle_t handle,
                             cudnnDropoutDescriptor_t dropout) {
    const bool lstm = cell == "lstm";
    const int T = (int)o.seq, B = (int)o.batch, H = (int)o.hidden;
    std::mt19937 rng(1234);

    RnnDesc rnn;
    CHECK(cudnnSetRNNDescriptor_v8(rnn, CUDNN_RNN_ALGO_STANDARD, lstm ? CUDNN_LSTM : CUDNN_RNN_TANH,
                                   CUDNN_RNN_DOUBLE_BIAS, CUDNN_UNIDIRECTIONAL, v.input, CUDNN_DATA_FLOAT,
                                   CUDNN_DATA_FLOAT, v.math, /*inputSize=*/H, /*hiddenSize=*/H, /*projSize=*/H,
                                   /*numLayers=*/1, dropout, CUDNN_RNN_PADDED_IO_DISABLED));

    // x [T,B,H] and y [T,B,H]: every sequence has length T.
    std::vector<int> seq_lengths(B, T);
    DeviceBuffer dev_seq_lengths(B * sizeof(int));
    CHECK(cudaMemcpy(dev_seq_lengths.get(), seq_lengths.data(), B * sizeof(int), cudaMemcpyHostToDevice));
    const int32_t *dsl = static_cast<const int32_t *>(dev_seq_lengths.get());
    float padding = 0.f;
    DataDesc xdesc, ydesc;
    CHECK(cudnnSetRNNDataDescriptor(xdesc, CUDNN_DATA_FLOAT, CUDNN_RNN_DATA_LAYOUT_SEQ_MAJOR_PACKED, T, B, H,
                                    seq_lengths.data(), &padding));
    CHECK(cudnnSetRNNDataDescriptor(ydesc, CUDNN_DATA_FLOAT, CUDNN_RNN_DATA_LAYOUT_SEQ_MAJOR_PACKED, T, B, H,
                                    seq_lengths.data(), &padding));
    // States [numLayers·dirs, B, H].
    TensorDesc hdesc, cdesc;
    const int dims[3] = {1, B, H}, strides[3] = {B * H, H, 1};
    CHECK(cudnnSetTensorNdDescriptor(hdesc, CUDNN_DATA_FLOAT, 3, dims, strides));
    CHECK(cudnnSetTensorNdDescriptor(cdesc, CUDNN_DATA_FLOAT, 3, dims, strides));

    size_t weight_bytes = 0, work_bytes = 0, reserve_bytes = 0;
    CHECK(cudnnGetRNNWeightSpaceSize(handle, rnn, &weight_bytes));
    CHECK(cudnnGetRNNTempSpaceSizes(handle, rnn, CUDNN_FWD_MODE_TRAINING, xdesc, &work_bytes, &reserve_bytes));

    const size_t seq_bytes = (size_t)T * B * H * sizeof(float), state_bytes = (size_t)B * H * sizeof(float);
    DeviceBuffer x(seq_bytes), y(seq_bytes), dx(seq_bytes), dy(seq_bytes);
    DeviceBuffer hx(state_bytes), hy(state_bytes), cx(state_bytes), cy(state_bytes);
    DeviceBuffer dhx(state_bytes), dhy(state_bytes), dcx(state_bytes), dcy(state_bytes);
    DeviceBuffer w(weight_bytes), dw(weight_bytes), work(work_bytes), reserve(reserve_bytes);
    x.uniform(1.f, rng);
    dy.uniform(1.f, rng);
    w.uniform(1.f / std::sqrt((float)H), rng);  // every weight and bias, uniform in ±1/√H
    for (DeviceBuffer *b : {&hx, &cx, &dhy, &dcy, &dw}) b->zero();
    CHECK(cudaDeviceSynchronize());

    auto forward = [&] {
        CHECK(cudnnRNNForward(handle, rnn, CUDNN_FWD_MODE_TRAINING, dsl, xdesc, x.get(), ydesc, y.get(), hdesc,
                              hx.get(), hy.get(), cdesc, cx.get(), cy.get(), w.size(), w.get(), work.size(),
                              work.get(), reserve.size(), reserve.get()));
    };
    auto backward = [&] {
        CHECK(cudnnRNNBackwardData_v8(handle, rnn, dsl, ydesc, y.get(), dy.get(), xdesc, dx.get(), hdesc, hx.get(),
                                      dhy.get(), dhx.get(), cdesc, cx.get(), dcy.get(), dcx.get(), w.size(), w.get(),
                                      work.size(), work.get(), reserve.size(), reserve.get()));
        CHECK(cudaMemsetAsync(dw.get(), 0, dw.size(), 0));
        CHECK(cudnnRNNBackwardWeights_v8(handle, rnn, CUDNN_WGRAD_MODE_ADD, dsl, xdesc, x.get(), hdesc, hx.get(),
                                         ydesc, y.get(), dw.size(), dw.get(), work.size(), work.get(), reserve.size(),
                                         reserve.get()));
    };
    Event e0, e1, e2;
    const statemix::peer::Timings t = statemix::peer::time_runs(o.reps, [&] {
        CHECK(cudaEventRecord(e0, 0));
        forward();
        CHECK(cudaEventRecord(e1, 0));
        backward();
        CHECK(cudaEventRecord(e2, 0));
        CHECK(cudaEventSynchronize(e2));
        float f = 0, b = 0;
        CHECK(cudaEventElapsedTime(&f, e0, e1));
        CHECK(cudaEventElapsedTime(&b, e1, e2));
        return std::make_pair((double)f, (double)b);
    });
    CHECK(cudaGetLastError());

    const int ver = (int)cudnnGetVersion();
    const std::string peer = fmt::format("cuDNN {}.{}.{} {}", ver / 10000, ver / 100 % 100, ver % 100,
                                         lstm ? "LSTM" : "RNN_TANH");
    return statemix::peer::rows_of(Row{peer, cell, "cuda", "", v.name, o.batch, o.seq, o.hidden}, t);
}

}  // namespace

int main(int argc, char **argv) {
    Options o;
    const int rc = statemix::peer::parse_options(
        argc, argv, "statemix_peer_cudnn: cuDNN RNN_TANH / LSTM, forward and backward, float32", o);
    if (rc >= 0) return rc;

    int ndev = 0;
    const cudaError_t e = cudaGetDeviceCount(&ndev);
    if (e != cudaSuccess || ndev == 0) {
        fmt::print(stderr, "statemix_peer_cudnn: no GPU: {}\n",
                   e != cudaSuccess ? fmt::format("{} ({})", cudaGetErrorString(e), (int)e)
                                    : std::string("no CUDA device found"));
        return 2;
    }
    std::vector<Row> rows;
    int failures = 0;
    cudnnHandle_t handle = nullptr;
    try {
        CHECK(cudaSetDevice(0));
        cudaDeviceProp prop{};
        CHECK(cudaGetDeviceProperties(&prop, 0));
        const int ver = (int)cudnnGetVersion();
        fmt::print("statemix_peer_cudnn: {} (cc {}.{}), cuDNN {} (built against {}), B={} T={} H={} (C=H) float32, "
                   "median of {} runs\n",
                   prop.name, prop.major, prop.minor, ver, CUDNN_VERSION, o.batch, o.seq, o.hidden, o.reps);
        if (ver / 10000 != CUDNN_MAJOR) {
            throw Failure(fmt::format("libcudnn is version {}, this program was built for cuDNN {}", ver, CUDNN_MAJOR));
        }
        CHECK(cudnnCreate(&handle));
        // Dropout 0 (one layer: cuDNN applies none), but the RNN descriptor wants a dropout descriptor.
        DropoutDesc dropout;
        size_t state_bytes = 0;
        CHECK(cudnnDropoutGetStatesSize(handle, &state_bytes));
        DeviceBuffer states(state_bytes);
        CHECK(cudnnSetDropoutDescriptor(dropout, handle, 0.f, states.get(), state_bytes, 1337ull));
        for (const std::string &cell : o.cells) {
            for (const Variant &v : kVariants) {
                statemix::peer::attempt("statemix_peer_cudnn", "cell " + cell + ", " + v.name, rows, failures, [&] {
                    cudaGetLastError();  // a non-sticky error of an earlier variant is not this one's
                    return run_variant(o, cell, v, handle, dropout);
                });
            }
        }
    } catch (const std::exception &ex) {
        fmt::print(stderr, "statemix_peer_cudnn: error: {}\n", ex.what());
        if (handle) cudnnDestroy(handle);
        return rows.empty() ? 2 : statemix::peer::finish(o, rows, failures + 1);
    }
    cudnnDestroy(handle);
    return statemix::peer::finish(o, rows, failures);
}
