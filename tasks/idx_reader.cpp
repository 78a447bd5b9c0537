// IDX reader. See idx_reader.h for the format. The payload is read in bounded chunks and its
// size checked against the header only as bytes arrive, so a hostile header (dims of 2^31) can
// cost no more memory than the file really holds.
#include "tasks/idx_reader.h"

#include "runtime/error.h"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace statemix::tasks {

namespace {

constexpr uint8_t kTypeUnsignedByte = 0x08;
constexpr int64_t kMaxDim = (int64_t(1) << 31) - 1;
constexpr int64_t kMaxPayload = int64_t(1) << 36;  // far above any image set; keeps the product from overflowing
constexpr size_t kChunk = size_t(1) << 24;

[[noreturn]] void fail(const std::string &path, const std::string &what) {
    throw Error("IDX file '" + path + "': " + what);
}

// Owns the gzFile so every early throw closes it.
struct GzFile {
    gzFile f = nullptr;
    ~GzFile() {
        if (f) gzclose(f);
    }
};

std::string gz_error(gzFile f) {
    int code = 0;
    const char *msg = gzerror(f, &code);
    if (code == Z_ERRNO) return std::strerror(errno);
    return msg ? msg : "unknown zlib error";
}

// Reads up to `len` bytes; returns how many arrived (fewer only at the end of the file).
size_t read_some(gzFile f, const std::string &path, uint8_t *dst, size_t len) {
    size_t got = 0;
    while (got < len) {
        const unsigned ask = unsigned(std::min(len - got, kChunk));
        const int r = gzread(f, dst + got, ask);
        if (r < 0) fail(path, "read error (corrupt gzip data?): " + gz_error(f));
        if (r == 0) break;
        got += size_t(r);
    }
    return got;
}

}  // namespace

IdxArray read_idx(const std::string &path, int expected_ndims) {
    GzFile file;
    errno = 0;
    file.f = gzopen(path.c_str(), "rb");
    if (!file.f) fail(path, std::string("cannot open: ") + (errno ? std::strerror(errno) : "out of memory"));

    uint8_t magic[4];
    const size_t got_magic = read_some(file.f, path, magic, 4);
    if (got_magic < 4) fail(path, fmt::format("truncated: {} bytes, shorter than the 4-byte magic number", got_magic));
    if (magic[0] != 0 || magic[1] != 0 || magic[2] != kTypeUnsignedByte || magic[3] != expected_ndims)
        fail(path, fmt::format("bad magic number {:02x} {:02x} {:02x} {:02x}, expected 00 00 {:02x} {:02x} "
                               "(unsigned-byte IDX data with {} dimensions)",
                               magic[0], magic[1], magic[2], magic[3], kTypeUnsignedByte, expected_ndims,
                               expected_ndims));

    IdxArray out;
    int64_t payload = 1;
    for (int i = 0; i < expected_ndims; ++i) {
        uint8_t b[4];
        if (read_some(file.f, path, b, 4) < 4)
            fail(path, fmt::format("truncated: the header ends before dimension {} of {}", i, expected_ndims));
        const int64_t dim = (int64_t(b[0]) << 24) | (int64_t(b[1]) << 16) | (int64_t(b[2]) << 8) | int64_t(b[3]);
        if (dim > kMaxDim) fail(path, fmt::format("dimension {} is {}, more than {}", i, dim, kMaxDim));
        out.dims.push_back(dim);
        payload *= dim;
        if (payload > kMaxPayload)
            fail(path, fmt::format("header dimensions give more than {} data bytes", kMaxPayload));
    }

    // Grow with the data actually read, never to the header's claim up front.
    size_t have = 0;
    while (have < size_t(payload)) {
        const size_t want = std::min(size_t(payload) - have, kChunk);
        out.data.resize(have + want);
        const size_t got = read_some(file.f, path, out.data.data() + have, want);
        have += got;
        if (got < want) break;
    }
    out.data.resize(have);
    if (have < size_t(payload))
        fail(path, fmt::format("truncated: the header declares {} data bytes, the file holds {}", payload, have));
    uint8_t extra;
    if (read_some(file.f, path, &extra, 1) != 0)
        fail(path, fmt::format("longer than its header declares ({} data bytes): not an IDX file, or corrupt", payload));
    return out;
}

}  // namespace statemix::tasks
