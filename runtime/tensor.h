// Tensors: float32, dense, row-major shapes ([B,T,N,m] as in NumPy/PyTorch), on the CPU or in
// CUDA memory. A Tensor wraps a Halide::Runtime::Buffer (halide_buffer_t), so it is passed to the
// generated kernels as is, without copies; the Halide dims are the shape reversed (last shape
// entry = dim 0, stride 1). Copies between devices are explicit (Tensor::to).
#pragma once

#include "error.h"

#include "HalideBuffer.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace statemix {

enum class Device { cpu, cuda };
const char *device_name(Device d);
Device parse_device(const std::string &s);  // "cpu" | "cuda", else Error

// True when a CUDA driver and at least one GPU are present (checked once, by loading libcuda).
bool cuda_available();
// Why cuda_available() is false, for error messages.
std::string cuda_unavailable_reason();

using Shape = std::vector<int64_t>;
std::string shape_str(const Shape &s);

// Error unless a float32 tensor of this shape can exist: at most 2^31 - 1 elements (the kernels'
// 32-bit indexing) and no more bytes than the machine's memory. Tensor::empty checks it; code that
// builds a large host array before making a tensor of it checks first.
void check_tensor_size(const Shape &shape);

class Tensor {
public:
    Tensor() = default;
    // Uninitialized contents.
    static Tensor empty(const Shape &shape, Device device = Device::cpu);
    static Tensor zeros(const Shape &shape, Device device = Device::cpu);
    // A CPU tensor holding a copy of `data` (numel(shape) floats, C order).
    static Tensor from_host(const Shape &shape, const float *data);

    const Shape &shape() const { return shape_; }
    int64_t dim(int i) const { return shape_.at(i); }
    int ndim() const { return (int)shape_.size(); }
    int64_t numel() const;
    Device device() const { return device_; }
    bool defined() const { return defined_; }

    // Host data of a CPU tensor (Error for a CUDA tensor: copy it with to(Device::cpu) first).
    float *data();
    const float *data() const;

    // The sub-tensor at `index` along the first dimension: a view sharing this tensor's memory
    // (shape without the first entry). A CUDA kernel that writes through a view leaves the parent's
    // "device copy is newer" mark unset: call mark_device_written() on the parent afterwards.
    Tensor slice(int64_t index) const;

    // A view of numel(shape) consecutive elements of this dense tensor, starting at element
    // `offset` (row-major order), with its own shape; it shares this tensor's memory (CPU or
    // CUDA) and keeps it alive. This is how one allocation is carved into named tensors
    // (models/arena.h) and how [B,T,D] activations are seen as [B·T, D] matrices.
    // Error if the range does not fit.
    Tensor view(const Shape &shape, int64_t offset = 0) const;
    // view(shape, 0) with the same number of elements (Error otherwise).
    Tensor reshape(const Shape &shape) const;

    // A copy on `device` (a copy even when the device is the same).
    Tensor to(Device device) const;
    void fill(float value);  // CPU only
    // Overwrites the contents with numel() floats from host memory / copies them out (CPU or CUDA;
    // for CUDA the device copy is updated / read). What a training step uses to move a batch in
    // and the loss out without allocating.
    void copy_from_host(const float *src);
    void copy_to_host(float *dst) const;
    // Overwrites the contents with src's (same shape and device; CUDA: device to device).
    void copy_from(const Tensor &src);
    // Waits until all device work writing this tensor is done (no-op on the CPU).
    void sync();

    // CUDA tensors, for hand-written kernels (runtime/cuda/): the device address of the current
    // contents (the host mirror is copied over first if it is newer), and the mark that a kernel
    // has written the device copy (so a later copy to the host fetches it).
    const float *device_data() const;
    float *device_data();
    void mark_device_written();

    // The underlying buffer, for passing to generated code.
    halide_buffer_t *raw() { return buf_->raw_buffer(); }
    const halide_buffer_t *raw() const { return buf_->raw_buffer(); }

private:
    // Shared, not copied: copies of a Tensor are views of one buffer, so a kernel's "device copy
    // is newer" flag seen through one copy holds for all (a Buffer copy would carry its own).
    std::shared_ptr<Halide::Runtime::Buffer<float>> buf_;
    std::shared_ptr<void> owner_;  // a view's parent storage, kept alive while the view lives
    Shape shape_;
    Device device_ = Device::cpu;
    bool defined_ = false;
};

}  // namespace statemix
