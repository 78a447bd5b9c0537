// safetensors reader/writer. See safetensors.h for the layout and the contract.
//
// The reader checks the header against the file size before allocating or reading anything, so a
// short, corrupt or hostile file can only produce an Error, never a huge allocation or a read past
// the end. The rules are those of the reference implementation (huggingface/safetensors): the
// header starts with '{', keys are unique, and the tensors' byte ranges tile the data exactly
// (no overlap, no hole, nothing after the last tensor).
#include "train/safetensors.h"

#include "runtime/error.h"
#include "runtime/file_io.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <set>
#include <tuple>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

// F32 payloads are memcpy'd straight to and from float, which is only right on a little-endian
// host with IEEE-754 float32.
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "statemix safetensors.cpp assumes a little-endian host"
#endif
static_assert(std::numeric_limits<float>::is_iec559 && sizeof(float) == 4, "need IEEE float32");

namespace statemix::train {

namespace {

constexpr size_t kMaxIoChunk = size_t(1) << 30;
// The reference implementation refuses headers over 100 MB; so do we, before allocating one.
constexpr uint64_t kMaxHeader = 100'000'000;
const char *const kMetadataKey = "__metadata__";

[[noreturn]] void fail(const std::string &path, const std::string &what) {
    throw Error("safetensors: '" + path + "': " + what);
}


void pread_all(int fd, void *buf, size_t n, uint64_t offset, const std::string &path) {
    char *p = static_cast<char *>(buf);
    size_t done = 0;
    while (done < n) {
        ssize_t r = ::pread(fd, p + done, std::min(n - done, kMaxIoChunk), static_cast<off_t>(offset + done));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) fail(path, "read failed: " + std::string(std::strerror(errno)));
        // The size was checked against fstat; a 0 here means the file shrank while being read.
        if (r == 0) fail(path, "file ended early (truncated while reading?)");
        done += static_cast<size_t>(r);
    }
}

// product(shape), or -1 when it exceeds `limit` (so a hostile shape cannot overflow uint64).
int64_t numel_capped(const std::vector<int64_t> &shape, uint64_t limit) {
    uint64_t n = 1;
    for (int64_t d : shape) {
        if (d == 0) return 0;
    }
    for (int64_t d : shape) {
        if (static_cast<uint64_t>(d) > limit / n) return -1;
        n *= static_cast<uint64_t>(d);
    }
    return static_cast<int64_t>(n);
}

}  // namespace

std::string shape_str(const std::vector<int64_t> &shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

void write_safetensors(const std::string &path, const std::vector<TensorRef> &tensors,
                       const std::map<std::string, std::string> &metadata) {
    std::vector<const TensorRef *> order;
    for (const TensorRef &t : tensors) order.push_back(&t);
    std::sort(order.begin(), order.end(), [](const TensorRef *a, const TensorRef *b) { return a->name < b->name; });

    nlohmann::json header = nlohmann::json::object();
    std::vector<ByteSpan> pieces;
    pieces.reserve(order.size() + 2);
    pieces.push_back({nullptr, 0});  // length prefix, filled below
    pieces.push_back({nullptr, 0});  // header, filled below
    uint64_t offset = 0;
    for (size_t i = 0; i < order.size(); ++i) {
        const TensorRef &t = *order[i];
        if (t.name.empty()) fail(path, "a tensor has an empty name");
        if (t.name == kMetadataKey) fail(path, "a tensor is named \"__metadata__\", which the format reserves");
        if (i > 0 && order[i - 1]->name == t.name) fail(path, "two tensors are named '" + t.name + "'");
        for (int64_t d : t.shape)
            if (d < 0) fail(path, "tensor '" + t.name + "' has shape " + shape_str(t.shape) + " with a negative dimension");
        int64_t n = numel_capped(t.shape, std::numeric_limits<uint64_t>::max() / 8);
        if (n < 0) fail(path, "tensor '" + t.name + "' has shape " + shape_str(t.shape) + ", too large");
        if (n > 0 && t.data == nullptr)
            fail(path, "tensor '" + t.name + "' has shape " + shape_str(t.shape) + " but null data");
        const uint64_t bytes = static_cast<uint64_t>(n) * sizeof(float);
        header[t.name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
        pieces.push_back({t.data, static_cast<size_t>(bytes)});
        offset += bytes;
    }
    if (!metadata.empty()) header[kMetadataKey] = metadata;

    std::string text = header.dump();
    // Pad with spaces so 8 + N is a multiple of 8: the data then starts 8-byte aligned and can be
    // mmapped and used in place by other readers.
    text.append((8 - text.size() % 8) % 8, ' ');
    unsigned char prefix[8];
    const uint64_t n = text.size();
    for (int i = 0; i < 8; ++i) prefix[i] = static_cast<unsigned char>(n >> (8 * i));
    pieces[0] = {prefix, sizeof prefix};
    pieces[1] = {text.data(), text.size()};
    write_file_atomic(path, pieces);
}

SafetensorsFile read_safetensors(const std::string &path) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) fail(path, "cannot open: " + std::string(std::strerror(errno)));
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) fail(path, "cannot stat: " + std::string(std::strerror(errno)));
    if (!S_ISREG(st.st_mode)) fail(path, "not a regular file");
    const uint64_t file_size = static_cast<uint64_t>(st.st_size);
    if (file_size < 8)
        fail(path, "file is " + std::to_string(file_size) + " bytes, shorter than the 8-byte header length");

    unsigned char prefix[8];
    pread_all(fd.get(), prefix, 8, 0, path);
    uint64_t header_len = 0;
    for (int i = 0; i < 8; ++i) header_len |= static_cast<uint64_t>(prefix[i]) << (8 * i);
    if (header_len > file_size - 8)
        fail(path, "header length " + std::to_string(header_len) + " runs past the end of the file (" +
                       std::to_string(file_size) + " bytes)");
    if (header_len > kMaxHeader)
        fail(path, "header length " + std::to_string(header_len) + " is over the 100 MB limit");
    std::string text(static_cast<size_t>(header_len), '\0');
    pread_all(fd.get(), text.data(), text.size(), 8, path);
    if (text.empty() || text[0] != '{') fail(path, "header does not start with '{'");

    // nlohmann keeps the last of duplicate keys silently; the format forbids them, and a file with
    // two entries for one tensor is ambiguous, so the top-level keys are checked while parsing.
    std::set<std::string> seen;
    std::string duplicate;
    auto on_event = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json &parsed) {
        if (event == nlohmann::json::parse_event_t::key && depth == 1 && !seen.insert(parsed.get<std::string>()).second)
            duplicate = parsed.get<std::string>();
        return true;
    };
    nlohmann::json header = nlohmann::json::parse(text, on_event, /*allow_exceptions=*/false);
    if (header.is_discarded()) fail(path, "header is not valid JSON");
    if (!header.is_object()) fail(path, "header is not a JSON object");
    if (!duplicate.empty()) fail(path, "header has the key '" + duplicate + "' twice");

    const uint64_t data_start = 8 + header_len;
    const uint64_t data_size = file_size - data_start;
    SafetensorsFile out;
    struct Range {
        uint64_t begin, end;
        std::string name;
    };
    std::vector<Range> ranges;
    for (auto it = header.begin(); it != header.end(); ++it) {
        const std::string &name = it.key();
        const nlohmann::json &entry = it.value();
        if (name == kMetadataKey) {
            if (!entry.is_object()) fail(path, "\"__metadata__\" is not an object");
            for (auto m = entry.begin(); m != entry.end(); ++m) {
                if (!m.value().is_string()) fail(path, "metadata value '" + m.key() + "' is not a string");
                out.metadata[m.key()] = m.value().get<std::string>();
            }
            continue;
        }
        const std::string what = "tensor '" + name + "'";
        if (!entry.is_object()) fail(path, what + ": entry is not an object");
        for (const char *key : {"dtype", "shape", "data_offsets"})
            if (!entry.contains(key)) fail(path, what + ": entry has no \"" + key + "\"");
        const nlohmann::json &dtype = entry["dtype"];
        if (!dtype.is_string()) fail(path, what + ": dtype is not a string");
        if (dtype.get<std::string>() != "F32")
            fail(path, what + ": dtype is " + dtype.get<std::string>() + ", expected F32 (the only dtype supported)");

        const nlohmann::json &shape_json = entry["shape"];
        if (!shape_json.is_array()) fail(path, what + ": shape is not an array");
        std::vector<int64_t> shape;
        for (const auto &d : shape_json) {
            // Non-negative JSON integers parse as unsigned; anything else is not a dimension.
            if (!d.is_number_unsigned() || d.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
                fail(path, what + ": shape " + shape_json.dump() + " holds something other than non-negative integers");
            shape.push_back(d.get<int64_t>());
        }

        const nlohmann::json &offsets = entry["data_offsets"];
        if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
            !offsets[1].is_number_unsigned())
            fail(path, what + ": data_offsets " + offsets.dump() + " is not [begin, end] with non-negative integers");
        const uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
        if (begin > end) fail(path, what + ": data_offsets " + offsets.dump() + " has begin after end");
        if (end > data_size)
            fail(path, what + ": data_offsets " + offsets.dump() + " run past the end of the data (" +
                           std::to_string(data_size) + " bytes; file truncated?)");
        const int64_t n = numel_capped(shape, std::numeric_limits<uint64_t>::max() / sizeof(float));
        if (n < 0 || static_cast<uint64_t>(n) * sizeof(float) != end - begin)
            fail(path, what + ": data_offsets " + offsets.dump() + " hold " + std::to_string(end - begin) +
                           " bytes, but shape " + shape_str(shape) + " of F32 needs " +
                           (n < 0 ? std::string("more than 2^64") : std::to_string(static_cast<uint64_t>(n) * 4)) + " bytes");
        ranges.push_back({begin, end, name});
        out.tensors[name].shape = std::move(shape);
    }

    // The byte ranges must tile [0, data_size) exactly: an overlap means two tensors alias, a hole
    // or trailing bytes mean the file is not what its header claims.
    std::sort(ranges.begin(), ranges.end(),
              [](const Range &a, const Range &b) { return std::tie(a.begin, a.end) < std::tie(b.begin, b.end); });
    uint64_t pos = 0;
    for (size_t i = 0; i < ranges.size(); ++i) {
        const Range &r = ranges[i];
        if (r.begin < pos)
            fail(path, "tensor '" + r.name + "' (bytes " + std::to_string(r.begin) + ".." + std::to_string(r.end) +
                           ") overlaps tensor '" + ranges[i - 1].name + "'");
        if (r.begin > pos)
            fail(path, "data has a hole: bytes " + std::to_string(pos) + ".." + std::to_string(r.begin) +
                           " belong to no tensor");
        pos = r.end;
    }
    if (pos != data_size)
        fail(path, std::to_string(data_size - pos) + " trailing bytes after the last tensor's data (data is " +
                       std::to_string(data_size) + " bytes, tensors cover " + std::to_string(pos) + ")");

    for (const Range &r : ranges) {
        LoadedTensor &t = out.tensors[r.name];
        t.data.resize(static_cast<size_t>((r.end - r.begin) / sizeof(float)));
        pread_all(fd.get(), t.data.data(), r.end - r.begin, data_start + r.begin, path);
    }
    return out;
}

}  // namespace statemix::train
