#include "tensor.h"

#include "HalideRuntimeCuda.h"

#include <dlfcn.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace statemix {

const char *device_name(Device d) { return d == Device::cpu ? "cpu" : "cuda"; }

Device parse_device(const std::string &s) {
    if (s == "cpu") return Device::cpu;
    if (s == "cuda") return Device::cuda;
    throw Error("device: expected cpu or cuda, got '" + s + "'");
}

namespace {

struct CudaProbe {
    bool ok = false;
    std::string why;
};

// Loads the driver the way Halide's CUDA runtime will, so "no GPU" is a clear error (and a
// skipped test) instead of a failure deep inside a kernel launch.
const CudaProbe &cuda_probe() {
    static const CudaProbe probe = [] {
        CudaProbe r;
        void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
        if (!lib) lib = dlopen("libcuda.so", RTLD_NOW | RTLD_LOCAL);
        if (!lib) {
            r.why = "no CUDA driver on this machine (libcuda.so.1 could not be loaded)";
            return r;
        }
        using InitFn = int (*)(unsigned);
        using CountFn = int (*)(int *);
        auto init = reinterpret_cast<InitFn>(dlsym(lib, "cuInit"));
        auto count = reinterpret_cast<CountFn>(dlsym(lib, "cuDeviceGetCount"));
        if (!init || !count) {
            r.why = "libcuda.so.1 lacks cuInit/cuDeviceGetCount";
            return r;
        }
        if (int rc = init(0); rc != 0) {
            r.why = "cuInit failed (CUDA error " + std::to_string(rc) + "): no usable GPU";
            return r;
        }
        int n = 0;
        if (count(&n) != 0 || n == 0) {
            r.why = "the CUDA driver reports no GPU";
            return r;
        }
        r.ok = true;
        return r;
    }();
    return probe;
}

std::string gib(double bytes) {
    char b[32];
    std::snprintf(b, sizeof b, "%.1f GiB", bytes / (1024.0 * 1024 * 1024));
    return b;
}

void *host_alloc_or_throw(size_t bytes) {
    void *p = std::malloc(bytes);
    if (!p) throw Error("could not allocate " + gib((double)bytes) + " of host memory");
    return p;
}

Halide::Runtime::Buffer<float> make_buffer(const Shape &shape) {
    check_tensor_size(shape);
    std::vector<int> sizes;
    for (auto it = shape.rbegin(); it != shape.rend(); ++it) sizes.push_back((int)*it);
    Halide::Runtime::Buffer<float> b(nullptr, sizes);
    b.allocate(host_alloc_or_throw, std::free);
    return b;
}

}  // namespace

// The generated kernels index with 32-bit integers (Halide without the large_buffers feature), so
// a tensor holds at most 2^31 - 1 elements; and it must fit in this machine's memory. Both are
// checked here, where every tensor (runtime, apply, bench, lyapunov, training) is made, so a
// shape that is too large is an error naming the limit, not a crash.
void check_tensor_size(const Shape &shape) {
    int64_t n = 1;
    bool too_many = false;
    for (int64_t e : shape) {
        if (e < 0 || e > INT_MAX) throw Error("tensor shape " + shape_str(shape) + ": every extent must be in [0, 2^31)");
        if (e != 0 && n > INT_MAX / e) too_many = true;
        else n *= e;
    }
    if (too_many || n > INT_MAX) {
        throw Error("tensor shape " + shape_str(shape) + " has more than 2^31 - 1 elements, the most a kernel can address " +
                    "(Halide's 32-bit indexing: 8 GiB of float32 per tensor); use a smaller batch, sequence or width");
    }
    const double bytes = (double)n * sizeof(float);
    const double phys = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    if (phys > 0 && bytes > phys) {
        throw Error("tensor shape " + shape_str(shape) + " needs " + gib(bytes) + ", more than this machine's " + gib(phys) +
                    " of memory");
    }
}

bool cuda_available() { return cuda_probe().ok; }
std::string cuda_unavailable_reason() { return cuda_probe().ok ? "" : cuda_probe().why; }

std::string shape_str(const Shape &s) {
    std::string out = "[";
    for (size_t i = 0; i < s.size(); i++) out += (i ? ", " : "") + std::to_string(s[i]);
    return out + "]";
}

int64_t Tensor::numel() const {
    int64_t n = 1;
    for (auto e : shape_) n *= e;
    return n;
}

Tensor Tensor::empty(const Shape &shape, Device device) {
    Tensor t;
    t.shape_ = shape;
    t.device_ = device;
    t.defined_ = true;
    t.buf_ = std::make_shared<Halide::Runtime::Buffer<float>>(make_buffer(shape));
    if (device == Device::cuda) {
        if (!cuda_available()) throw Error("device cuda: " + cuda_unavailable_reason());
        if (t.numel() > 0 && t.buf_->device_malloc(halide_cuda_device_interface()) != 0) {
            throw Error("device cuda: could not allocate " + std::to_string(t.numel() * 4) + " bytes");
        }
    }
    return t;
}

Tensor Tensor::zeros(const Shape &shape, Device device) {
    Tensor t = empty(shape, device);
    if (t.numel() > 0) std::memset(t.buf_->data(), 0, t.numel() * sizeof(float));
    if (device == Device::cuda && t.numel() > 0) {
        t.buf_->set_host_dirty();
        if (t.buf_->copy_to_device(halide_cuda_device_interface()) != 0) throw Error("device cuda: copy to device failed");
    }
    return t;
}

Tensor Tensor::from_host(const Shape &shape, const float *data) {
    Tensor t = empty(shape, Device::cpu);
    if (t.numel() > 0) std::memcpy(t.buf_->data(), data, t.numel() * sizeof(float));
    return t;
}

float *Tensor::data() {
    if (!defined_) throw Error("Tensor::data(): the tensor is undefined");
    if (device_ != Device::cpu) throw Error("Tensor::data(): the tensor is on cuda; copy it with to(Device::cpu) first");
    return buf_->data();
}

const float *Tensor::data() const {
    if (!defined_) throw Error("Tensor::data(): the tensor is undefined");
    if (device_ != Device::cpu) throw Error("Tensor::data(): the tensor is on cuda; copy it with to(Device::cpu) first");
    return buf_->data();
}

void Tensor::fill(float value) {
    float *p = data();
    for (int64_t i = 0; i < numel(); i++) p[i] = value;
}

void Tensor::copy_from_host(const float *src) {
    if (!defined_) throw Error("Tensor::copy_from_host(): the tensor is undefined");
    if (numel() == 0) return;
    if (device_ == Device::cpu) {
        std::memcpy(buf_->data(), src, numel() * sizeof(float));
        return;
    }
    std::memcpy(buf_->data(), src, numel() * sizeof(float));
    buf_->set_device_dirty(false);
    buf_->set_host_dirty(true);
    if (buf_->copy_to_device(halide_cuda_device_interface()) != 0) throw Error("device cuda: copy to device failed");
}

void Tensor::copy_to_host(float *dst) const {
    if (!defined_) throw Error("Tensor::copy_to_host(): the tensor is undefined");
    if (numel() == 0) return;
    if (device_ == Device::cuda) {
        // A view can be written on the device through another view of the same memory (an arena's
        // flat range), which leaves this buffer's "device is newer" mark unset: read the device
        // copy unconditionally unless the host mirror holds the newer data.
        if (!buf_->host_dirty()) buf_->set_device_dirty(true);
        if (buf_->copy_to_host() != 0) throw Error("device cuda: copy to host failed");
    }
    std::memcpy(dst, buf_->data(), numel() * sizeof(float));
}

void Tensor::copy_from(const Tensor &src) {
    if (!defined_ || !src.defined_) throw Error("Tensor::copy_from(): a tensor is undefined");
    if (src.shape_ != shape_ || src.device_ != device_) {
        throw Error("Tensor::copy_from(): source " + shape_str(src.shape_) + " on " + device_name(src.device_) +
                    " does not match destination " + shape_str(shape_) + " on " + device_name(device_));
    }
    if (numel() == 0) return;
    if (device_ == Device::cpu) {
        std::memcpy(buf_->data(), src.buf_->data(), numel() * sizeof(float));
        return;
    }
    if (halide_buffer_copy(nullptr, src.buf_->raw_buffer(), halide_cuda_device_interface(), buf_->raw_buffer()) != 0) {
        throw Error("device cuda: device-to-device copy failed");
    }
}

void Tensor::sync() {
    if (device_ == Device::cuda && numel() > 0 && buf_->device_sync() != 0) throw Error("device cuda: synchronize failed");
}

float *Tensor::device_data() {
    if (!defined_ || device_ != Device::cuda) throw Error("Tensor::device_data(): the tensor is not a CUDA tensor");
    if (numel() == 0) return nullptr;
    if (buf_->host_dirty() && buf_->copy_to_device(halide_cuda_device_interface()) != 0) {
        throw Error("device cuda: copy to device failed");
    }
    return reinterpret_cast<float *>(halide_cuda_get_device_ptr(nullptr, buf_->raw_buffer()));
}

const float *Tensor::device_data() const { return const_cast<Tensor *>(this)->device_data(); }

void Tensor::mark_device_written() {
    if (device_ != Device::cuda) return;
    buf_->set_host_dirty(false);
    buf_->set_device_dirty(true);
}

Tensor Tensor::slice(int64_t index) const {
    if (!defined_ || ndim() < 2) throw Error("Tensor::slice(): the tensor must have at least 2 dimensions");
    if (index < 0 || index >= shape_[0]) {
        throw Error("Tensor::slice(): index " + std::to_string(index) + " is outside [0, " + std::to_string(shape_[0]) + ")");
    }
    Tensor t;
    t.shape_ = Shape(shape_.begin() + 1, shape_.end());
    t.device_ = device_;
    t.defined_ = true;
    // Halide dims are the shape reversed: the first shape entry is the last Halide dim.
    t.buf_ = std::make_shared<Halide::Runtime::Buffer<float>>(buf_->sliced(ndim() - 1, index));
    t.owner_ = owner_;
    return t;
}

Tensor Tensor::view(const Shape &shape, int64_t offset) const {
    if (!defined_) throw Error("Tensor::view(): the tensor is undefined");
    int64_t n = 1;
    for (auto e : shape) {
        if (e < 0 || e > INT_MAX) throw Error("Tensor::view(): shape " + shape_str(shape) + " has an extent outside [0, 2^31)");
        n *= e;
    }
    if (offset < 0 || offset + n > numel()) {
        throw Error("Tensor::view(): elements [" + std::to_string(offset) + ", " + std::to_string(offset + n) +
                    ") of shape " + shape_str(shape) + " do not fit in a tensor of " + std::to_string(numel()) +
                    " elements " + shape_str(shape_));
    }
    // Dense row-major tensors only: a view's elements are consecutive in memory.
    const halide_buffer_t *b = raw();
    int64_t stride = 1;
    for (int i = 0; i < b->dimensions; i++) {
        if (b->dim[i].stride != stride) throw Error("Tensor::view(): the tensor is not dense (a view of a view with gaps)");
        stride *= b->dim[i].extent;
    }
    std::vector<halide_dimension_t> dims;
    stride = 1;
    for (auto it = shape.rbegin(); it != shape.rend(); ++it) {
        dims.push_back(halide_dimension_t(0, (int32_t)*it, (int32_t)stride));
        stride *= *it;
    }
    halide_buffer_t vb{};
    vb.type = halide_type_of<float>();
    vb.dimensions = (int32_t)dims.size();
    vb.dim = dims.data();
    vb.host = b->host ? b->host + offset * (int64_t)sizeof(float) : nullptr;
    if (device_ == Device::cuda && n > 0) {
        // The parent's device allocation, offset; the view never frees it (Unmanaged).
        const float *base = const_cast<Tensor *>(this)->device_data();
        vb.device = (uint64_t)(uintptr_t)(base + offset);
        vb.device_interface = halide_cuda_device_interface();
    }
    Tensor t;
    t.shape_ = shape;
    t.device_ = device_;
    t.defined_ = true;
    t.buf_ = std::make_shared<Halide::Runtime::Buffer<float>>(vb, Halide::Runtime::BufferDeviceOwnership::Unmanaged);
    t.owner_ = owner_ ? owner_ : std::static_pointer_cast<void>(buf_);
    return t;
}

Tensor Tensor::reshape(const Shape &shape) const {
    int64_t n = 1;
    for (auto e : shape) n *= e;
    if (n != numel()) {
        throw Error("Tensor::reshape(): " + shape_str(shape_) + " has " + std::to_string(numel()) + " elements, " +
                    shape_str(shape) + " has " + std::to_string(n));
    }
    return view(shape, 0);
}

Tensor Tensor::to(Device device) const {
    if (!defined_) throw Error("Tensor::to(): the tensor is undefined");
    Tensor dst = empty(shape_, device);
    if (numel() == 0) return dst;
    // Bring the source's current contents to its host mirror (a no-op for CPU tensors).
    // A view (reshape, slice, an arena's range) may have been written on the device through
    // another view of the same memory, which leaves this buffer's "device is newer" mark unset:
    // read the device copy unless the host mirror holds the newer data (as copy_to_host does).
    Halide::Runtime::Buffer<float> &src = *buf_;
    if (device_ == Device::cuda) {
        if (!src.host_dirty()) src.set_device_dirty(true);
        if (src.copy_to_host() != 0) throw Error("device cuda: copy to host failed");
    }
    std::memcpy(dst.buf_->data(), src.data(), numel() * sizeof(float));
    if (device == Device::cuda) {
        dst.buf_->set_host_dirty();
        if (dst.buf_->copy_to_device(halide_cuda_device_interface()) != 0) throw Error("device cuda: copy to device failed");
    }
    return dst;
}

}  // namespace statemix
