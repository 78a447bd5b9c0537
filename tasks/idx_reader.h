// Reader for IDX files, the MNIST file format (http://yann.lecun.com/exdb/mnist/):
//   4 bytes  magic: 0x00 0x00, a type code (0x08 = unsigned byte), the number of dimensions
//   4 bytes  per dimension, big-endian
//   data     product(dims) values, row-major
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace statemix::tasks {

struct IdxArray {
    std::vector<int64_t> dims;  // e.g. {60000, 28, 28} for images, {60000} for labels
    std::vector<uint8_t> data;  // product(dims) bytes, row-major
};

// Reads an unsigned-byte IDX file with `expected_ndims` dimensions, gzip-compressed or plain
// (zlib's gzread passes a file without a gzip header through unchanged). A missing file, a
// wrong magic number, a corrupt gzip stream, a file shorter or longer than its header says:
// Error naming the file.
IdxArray read_idx(const std::string &path, int expected_ndims);

}  // namespace statemix::tasks
