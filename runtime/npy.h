#pragma once
// Minimal NumPy .npy reader/writer for float32/float64 C-order arrays.
// Format reference: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace statemix::npy {

struct Array {
    std::vector<int64_t> shape;   // row-major (C order) shape, as NumPy prints it; {} for a 0-d scalar
    std::vector<float> data;      // always converted to float32, C order, size == product(shape)
    bool was_float64 = false;     // the file held float64 (values were rounded to float32)
};

// Reads a .npy file (format versions 1.0, 2.0 and 3.0). Accepts dtype '<f4' and '<f8' ('|' and
// '=' byte-order markers are accepted as little-endian), fortran_order False only. Bytes after the
// data are ignored. Every problem (missing file, bad magic, truncated header, unsupported version,
// unparseable header dict, unsupported dtype, fortran_order True, bad shape, truncated data)
// throws Error with a message that names the file.
Array read(const std::string &path);

// Same, but reads the data as float64 without rounding (float32 files are widened exactly).
struct Array64 {
    std::vector<int64_t> shape;
    std::vector<double> data;
};
Array64 read_f64(const std::string &path);

// Writes '<f4' (resp. '<f8'), format version 1.0 (2.0 if the header needs it), C order.
// Writes atomically: to PATH.tmp.<pid> in the same directory, fsync, then rename over PATH; on any
// failure the temp file is removed and Error naming the path is thrown. `data` holds
// product(shape) values (it may be null only when that product is 0).
void write(const std::string &path, const std::vector<int64_t> &shape, const float *data);
void write_f64(const std::string &path, const std::vector<int64_t> &shape, const double *data);

class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// "[2, 3, 4]"; "[]" for a 0-d shape.
std::string shape_str(const std::vector<int64_t> &shape);

}  // namespace statemix::npy
