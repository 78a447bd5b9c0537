#pragma once
// safetensors files (https://huggingface.co/docs/safetensors), so that weights move to PyTorch or
// JAX without a converter:
//   8 bytes   little-endian uint64 N
//   N bytes   JSON header {"name":{"dtype":"F32","shape":[..],"data_offsets":[begin,end]}, ...,
//             "__metadata__":{"k":"v"}}, padded with spaces so the data starts 8-byte aligned
//   data      the raw tensors, C order; offsets are relative to the data start
// Only F32 is written or read.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace statemix::train {

// A tensor to write: `data` holds product(shape) floats ({} is a 0-d scalar holding one value; a
// shape with a 0 is an empty tensor and `data` may be null).
struct TensorRef {
    std::string name;
    std::vector<int64_t> shape;
    const float *data;
};

struct LoadedTensor {
    std::vector<int64_t> shape;
    std::vector<float> data;
};

struct SafetensorsFile {
    std::map<std::string, LoadedTensor> tensors;
    std::map<std::string, std::string> metadata;
};

// Writes atomically (write_file_atomic: PATH.tmp-<pid>, fsync, rename, fsync the directory). The
// data is laid out in name order, as the reference implementation does for tensors of one dtype.
// Error naming PATH for a bad tensor (empty or duplicate name, the name "__metadata__", a
// negative dimension, null data for a non-empty tensor) and for any write failure, which leaves
// PATH untouched.
void write_safetensors(const std::string &path, const std::vector<TensorRef> &tensors,
                       const std::map<std::string, std::string> &metadata = {});

// Validates everything before trusting it; Error naming the file for: missing/unreadable, shorter
// than 8 bytes, header length past the end, header not a JSON object (or with a duplicate key),
// an entry without dtype/shape/data_offsets, a dtype other than F32, offsets not matching the
// shape, overlapping or out-of-range data, holes in the data, trailing bytes after the data,
// metadata that is not a string-to-string object.
SafetensorsFile read_safetensors(const std::string &path);

// "[2, 3, 4]"; "[]" for a 0-d shape.
std::string shape_str(const std::vector<int64_t> &shape);

}  // namespace statemix::train
