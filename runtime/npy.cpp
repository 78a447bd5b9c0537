// NumPy .npy reader/writer. See npy.h for the contract.
//
// Layout of a .npy file:
//   6 bytes  magic "\x93NUMPY"
//   2 bytes  version major, minor (1.0, 2.0 or 3.0)
//   2 bytes  (v1) or 4 bytes (v2, v3) little-endian header length H
//   H bytes  Python dict literal, e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
//            padded with spaces and a final '\n'
//   data     product(shape) * itemsize bytes
//
// Everything is read with pread at explicit offsets and checked against the file size first, so a
// short, corrupt or hostile file can only produce an Error, never a huge allocation or an
// out-of-bounds read.
#include "npy.h"

#include "file_io.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <limits>
#include <type_traits>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

// '<f4'/'<f8' payloads are memcpy'd straight into float/double, which is only right on a
// little-endian host with IEEE-754 types.
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "statemix npy.cpp assumes a little-endian host"
#endif
static_assert(std::numeric_limits<float>::is_iec559 && sizeof(float) == 4, "need IEEE float32");
static_assert(std::numeric_limits<double>::is_iec559 && sizeof(double) == 8, "need IEEE float64");

namespace statemix::npy {

namespace {

constexpr unsigned char kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
// np.save pads the header so the data starts on a 64-byte boundary; we do the same so files we
// write are byte-identical in layout to NumPy's and can be mmapped with aligned data.
constexpr size_t kAlign = 64;
// Linux transfers at most ~2 GiB per read()/write(); stay well under that per call.
constexpr size_t kMaxIoChunk = size_t(1) << 30;

[[noreturn]] void fail(const std::string &path, const std::string &what) {
    throw Error("npy: '" + path + "': " + what);
}

std::string errno_str(int e) { return std::strerror(e); }

// Renders bytes for an error message: printable ASCII as is, everything else as \xHH, cut at `max`.
std::string printable(const std::string &bytes, size_t max = 200) {
    static const char *hex = "0123456789abcdef";
    std::string out;
    for (size_t i = 0; i < bytes.size() && i < max; ++i) {
        unsigned char c = static_cast<unsigned char>(bytes[i]);
        if (c >= 0x20 && c < 0x7f) {
            out += static_cast<char>(c);
        } else {
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    if (bytes.size() > max) out += "...";
    return out;
}


// Reads up to n bytes at offset; returns the count actually read (less than n only at EOF).
size_t read_at(int fd, uint64_t offset, void *buf, size_t n, const std::string &path) {
    auto *p = static_cast<unsigned char *>(buf);
    size_t done = 0;
    while (done < n) {
        size_t chunk = std::min(n - done, kMaxIoChunk);
        ssize_t r = ::pread(fd, p + done, chunk, static_cast<off_t>(offset + done));
        if (r < 0) {
            if (errno == EINTR) continue;
            fail(path, "read error: " + errno_str(errno));
        }
        if (r == 0) break;
        done += static_cast<size_t>(r);
    }
    return done;
}

// What the header says, already validated.
struct Header {
    std::vector<int64_t> shape;
    bool f64 = false;         // '<f8' (else '<f4')
    uint64_t count = 0;       // product(shape)
    uint64_t data_offset = 0; // first data byte
};

// Hand-written parser for the header dict. NumPy writes it with repr(), so we accept exactly the
// Python literal subset repr() produces (plus harmless variations: either quote style, any
// whitespace, optional trailing commas, Python 2 'L' suffixes), and reject everything else.
class DictParser {
public:
    DictParser(const std::string &text, const std::string &path) : s_(text), path_(path) {}

    // Fills shape; returns descr and fortran_order through the out-parameters.
    void parse(std::string &descr, bool &fortran_order, std::vector<int64_t> &shape) {
        bool have_descr = false, have_fortran = false, have_shape = false;
        skip_ws();
        expect('{', "'{' at the start of the header dict");
        for (;;) {
            skip_ws();
            if (eat('}')) break;
            std::string key = parse_string("a quoted key");
            skip_ws();
            expect(':', "':' after key '" + key + "'");
            skip_ws();
            if (key == "descr") {
                if (have_descr) bad("duplicate key 'descr'");
                if (peek() == '[')  // a list descr is a structured (record) dtype
                    fail(path_, "unsupported dtype: structured (record) dtype " +
                                    printable(rest_of_value()) +
                                    "; only float32 ('<f4') and float64 ('<f8') are supported");
                descr = parse_string("a quoted dtype string for 'descr'");
                have_descr = true;
            } else if (key == "fortran_order") {
                if (have_fortran) bad("duplicate key 'fortran_order'");
                fortran_order = parse_bool();
                have_fortran = true;
            } else if (key == "shape") {
                if (have_shape) bad("duplicate key 'shape'");
                shape = parse_shape();
                have_shape = true;
            } else {
                bad("unexpected key '" + printable(key) +
                    "' (expected only 'descr', 'fortran_order', 'shape')");
            }
            skip_ws();
            if (eat(',')) continue;
            if (eat('}')) break;
            bad("expected ',' or '}' after the value of '" + key + "'");
        }
        // NumPy pads after the dict with spaces and a newline; some old writers used NULs.
        while (i_ < s_.size()) {
            char c = s_[i_];
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\0')
                ++i_;
            else
                bad("unexpected text after the closing '}'");
        }
        if (!have_descr) bad("missing key 'descr'");
        if (!have_fortran) bad("missing key 'fortran_order'");
        if (!have_shape) bad("missing key 'shape'");
    }

private:
    const std::string &s_;
    const std::string &path_;
    size_t i_ = 0;

    [[noreturn]] void bad(const std::string &what) {
        fail(path_, "cannot parse .npy header dict: " + what + " (at offset " + std::to_string(i_) +
                        "); header was: " + printable(s_));
    }
    char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
    bool at_end() const { return i_ >= s_.size(); }
    void skip_ws() {
        while (!at_end() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
            ++i_;
    }
    bool eat(char c) {
        if (!at_end() && s_[i_] == c) {
            ++i_;
            return true;
        }
        return false;
    }
    void expect(char c, const std::string &what) {
        if (!eat(c)) bad("expected " + what);
    }
    // For error messages only: the list value starting here, up to its first ']'.
    std::string rest_of_value() const {
        size_t end = s_.find(']', i_);
        return s_.substr(i_, end == std::string::npos ? std::string::npos : end + 1 - i_);
    }

    std::string parse_string(const std::string &what) {
        char q = peek();
        if (q != '\'' && q != '"') bad("expected " + what);
        ++i_;
        size_t start = i_;
        while (!at_end() && s_[i_] != q) {
            // repr() of the keys and dtype strings we accept never contains escapes.
            if (s_[i_] == '\\') bad("escape sequences in strings are not supported");
            ++i_;
        }
        if (at_end()) bad("unterminated string");
        std::string out = s_.substr(start, i_ - start);
        ++i_;  // closing quote
        return out;
    }

    bool parse_bool() {
        auto word = [&](const char *w) {
            size_t n = std::strlen(w);
            if (s_.compare(i_, n, w) != 0) return false;
            // Reject e.g. "Truex": the keyword must end here.
            char next = i_ + n < s_.size() ? s_[i_ + n] : '\0';
            if (std::isalnum(static_cast<unsigned char>(next)) || next == '_') return false;
            i_ += n;
            return true;
        };
        if (word("True")) return true;
        if (word("False")) return false;
        bad("expected True or False for 'fortran_order'");
    }

    // One shape entry: a non-negative decimal integer that fits int64.
    int64_t parse_dim() {
        size_t start = i_;
        bool negative = false;
        if (eat('-'))
            negative = true;
        else
            eat('+');
        size_t digits_start = i_;
        while (!at_end() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
        if (i_ == digits_start) {
            i_ = start;
            bad("expected an integer shape entry");
        }
        std::string digits = s_.substr(digits_start, i_ - digits_start);
        if (peek() == 'L' || peek() == 'l') ++i_;  // Python 2 long suffix, e.g. (3L, 4L)
        uint64_t v = 0;
        bool overflow = false;
        for (char c : digits) {
            uint64_t d = static_cast<uint64_t>(c - '0');
            if (v > (static_cast<uint64_t>(INT64_MAX) - d) / 10) {
                overflow = true;
                break;
            }
            v = v * 10 + d;
        }
        if (negative && (overflow || v != 0))
            fail(path_, "negative shape entry -" + digits + " in header: " + printable(s_));
        if (overflow)
            fail(path_, "shape entry " + digits + " overflows int64 (max " +
                            std::to_string(INT64_MAX) + ") in header: " + printable(s_));
        return static_cast<int64_t>(v);
    }

    std::vector<int64_t> parse_shape() {
        std::vector<int64_t> shape;
        expect('(', "a tuple '(...)' for 'shape'");
        skip_ws();
        if (eat(')')) return shape;  // () is a 0-d scalar
        for (;;) {
            shape.push_back(parse_dim());
            skip_ws();
            if (eat(')')) break;
            expect(',', "',' or ')' in 'shape' tuple");
            skip_ws();
            if (eat(')')) break;  // trailing comma, as in (5,)
        }
        return shape;
    }
};

// Validates magic, version and header dict of an open file and returns the parsed header. Every
// length is checked against file_size (from fstat) before anything is allocated or read.
Header read_header(int fd, const std::string &path, uint64_t file_size) {
    unsigned char pre[12];
    size_t n = read_at(fd, 0, pre, sizeof(pre), path);

    size_t magic_seen = std::min(n, sizeof(kMagic));
    if (std::memcmp(pre, kMagic, magic_seen) != 0)
        fail(path, "bad magic: not a .npy file (expected it to start with \\x93NUMPY, found \"" +
                       printable(std::string(reinterpret_cast<char *>(pre), magic_seen)) + "\")");
    if (n < 8)
        fail(path, "truncated header: file is only " + std::to_string(n) +
                       " bytes, too short for the .npy magic and version");

    unsigned major = pre[6], minor = pre[7];
    if (minor != 0 || major < 1 || major > 3)
        fail(path, "unsupported .npy format version " + std::to_string(major) + "." +
                       std::to_string(minor) + " (supported: 1.0, 2.0, 3.0)");

    // v1 stores the header length as uint16, v2/v3 as uint32 (both little-endian).
    size_t len_bytes = major == 1 ? 2 : 4;
    size_t preamble = 8 + len_bytes;
    if (n < preamble)
        fail(path, "truncated header: file is only " + std::to_string(n) +
                       " bytes, too short for the header length field");
    uint64_t header_len = 0;
    for (size_t b = 0; b < len_bytes; ++b) header_len |= uint64_t(pre[8 + b]) << (8 * b);

    // Compare with the file size before allocating: a corrupt length must not cause a 4 GiB alloc.
    // Saturating: the file may have changed size since fstat, so never let this wrap around.
    uint64_t after_preamble = file_size > preamble ? file_size - preamble : 0;
    if (header_len > after_preamble)
        fail(path, "truncated header: header length field says " + std::to_string(header_len) +
                       " bytes but only " + std::to_string(after_preamble) +
                       " bytes follow the preamble");

    std::string text(static_cast<size_t>(header_len), '\0');
    if (read_at(fd, preamble, text.data(), text.size(), path) != text.size())
        fail(path, "truncated header: file shrank while being read");

    std::string descr;
    bool fortran_order = false;
    Header h;
    DictParser(text, path).parse(descr, fortran_order, h.shape);

    // '|' (not applicable) and '=' (native) both mean little-endian on the hosts we support.
    if (descr == "<f4" || descr == "|f4" || descr == "=f4") {
        h.f64 = false;
    } else if (descr == "<f8" || descr == "|f8" || descr == "=f8") {
        h.f64 = true;
    } else {
        std::string hint;
        if (!descr.empty() && descr[0] == '>')
            hint = " (big-endian data: convert with arr.astype('<f4') before np.save)";
        fail(path, "unsupported dtype '" + printable(descr) +
                       "'; only float32 ('<f4') and float64 ('<f8') are supported" + hint);
    }
    if (fortran_order)
        fail(path, "fortran_order is True; C order required; use np.ascontiguousarray before np.save");

    // Product of the shape, guarded so count * itemsize fits int64 (and therefore size_t and
    // off_t). A zero dimension makes the array empty whatever the other entries are.
    const uint64_t itemsize = h.f64 ? 8 : 4;
    const uint64_t max_count = static_cast<uint64_t>(INT64_MAX) / itemsize;
    bool empty = std::find(h.shape.begin(), h.shape.end(), 0) != h.shape.end();
    uint64_t count = 1;
    if (empty) {
        count = 0;
    } else {
        for (int64_t d : h.shape) {
            uint64_t ud = static_cast<uint64_t>(d);  // d > 0: negatives were rejected by the parser
            if (count > max_count / ud)
                fail(path, "shape " + shape_str(h.shape) +
                               " overflows: the element count times the " + std::to_string(itemsize) +
                               "-byte itemsize exceeds 2^63-1 bytes");
            count *= ud;
        }
    }
    h.count = count;
    h.data_offset = preamble + header_len;

    uint64_t needed = count * itemsize;
    uint64_t found = file_size > h.data_offset ? file_size - h.data_offset : 0;
    if (found < needed)
        fail(path, "data truncated: expected " + std::to_string(needed) + " bytes of " +
                       (h.f64 ? "float64" : "float32") + " data for shape " + shape_str(h.shape) +
                       ", found " + std::to_string(found) + " bytes after the header");
    return h;
}

// Reads h.count elements of type Src at h.data_offset into out, converting to Dst. Conversion goes
// through a bounded buffer so a float64 file read as float32 never needs two full copies.
template <class Src, class Dst>
void read_data(int fd, const std::string &path, const Header &h, std::vector<Dst> &out) {
    out.resize(static_cast<size_t>(h.count));
    const size_t bytes = out.size() * sizeof(Src);
    if constexpr (std::is_same_v<Src, Dst>) {
        if (read_at(fd, h.data_offset, out.data(), bytes, path) != bytes)
            fail(path, "data truncated: file shrank while being read");
    } else {
        constexpr size_t kChunk = 1 << 16;  // elements per conversion step
        std::vector<Src> buf(std::min(out.size(), kChunk));
        for (size_t done = 0; done < out.size();) {
            size_t m = std::min(out.size() - done, kChunk);
            size_t want = m * sizeof(Src);
            if (read_at(fd, h.data_offset + done * sizeof(Src), buf.data(), want, path) != want)
                fail(path, "data truncated: file shrank while being read");
            // float64 -> float32 rounds to nearest; out-of-range values become +-inf.
            for (size_t k = 0; k < m; ++k) out[done + k] = static_cast<Dst>(buf[k]);
            done += m;
        }
    }
}

// Opens path for reading and returns its size; regular files only, so the size is meaningful.
int open_for_read(const std::string &path, uint64_t &file_size) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail(path, "cannot open file: " + errno_str(errno));
    struct stat st;
    if (::fstat(fd, &st) != 0) {
        int e = errno;
        ::close(fd);
        fail(path, "cannot stat file: " + errno_str(e));
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        fail(path, S_ISDIR(st.st_mode) ? "is a directory, not a .npy file"
                                       : "not a regular file");
    }
    file_size = static_cast<uint64_t>(st.st_size);
    return fd;
}

template <class Dst>
void read_any(const std::string &path, std::vector<int64_t> &shape, std::vector<Dst> &data,
              bool &was_f64) {
    uint64_t file_size = 0;
    Fd fd(open_for_read(path, file_size));
    Header h = read_header(fd.get(), path, file_size);
    if (h.f64)
        read_data<double>(fd.get(), path, h, data);
    else
        read_data<float>(fd.get(), path, h, data);
    shape = std::move(h.shape);
    was_f64 = h.f64;
}

void write_all(int fd, const void *buf, size_t n, const std::string &path, const std::string &tmp) {
    const auto *p = static_cast<const unsigned char *>(buf);
    size_t done = 0;
    while (done < n) {
        ssize_t w = ::write(fd, p + done, std::min(n - done, kMaxIoChunk));
        if (w < 0) {
            if (errno == EINTR) continue;
            fail(path, "cannot write temporary file '" + tmp + "': " + errno_str(errno));
        }
        done += static_cast<size_t>(w);
    }
}

// Removes the temporary file on every exit path except a successful rename.
struct TmpGuard {
    std::string tmp;
    bool committed = false;
    ~TmpGuard() {
        if (!committed) ::unlink(tmp.c_str());
    }
};

template <class T>
void write_any(const std::string &path, const std::vector<int64_t> &shape, const T *data,
               const char *descr) {
    // Validate before touching the file system so a bad call leaves nothing behind.
    const uint64_t max_count = static_cast<uint64_t>(INT64_MAX) / sizeof(T);
    uint64_t count = 1;
    for (int64_t d : shape)
        if (d < 0) fail(path, "cannot write: negative entry in shape " + shape_str(shape));
    if (std::find(shape.begin(), shape.end(), 0) != shape.end()) {
        count = 0;
    } else {
        for (int64_t d : shape) {
            if (count > max_count / static_cast<uint64_t>(d))
                fail(path, "cannot write: shape " + shape_str(shape) + " overflows");
            count *= static_cast<uint64_t>(d);
        }
    }
    if (count > 0 && data == nullptr) fail(path, "cannot write: data is null");

    // Header exactly as np.save writes it: (), (5,) or (2, 3).
    std::string tuple = "(";
    for (size_t k = 0; k < shape.size(); ++k) {
        if (k) tuple += ", ";
        tuple += std::to_string(shape[k]);
    }
    if (shape.size() == 1) tuple += ",";
    tuple += ")";
    std::string dict = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': " +
                       tuple + ", }";

    // Pad with spaces plus '\n' so the data starts on a kAlign boundary; fall back to v2.0 only
    // when the header does not fit v1.0's uint16 length field.
    unsigned major = 1;
    size_t preamble = 10;
    size_t header_len = dict.size() + 1;
    header_len += (kAlign - (preamble + header_len) % kAlign) % kAlign;
    if (header_len > 0xffff) {
        major = 2;
        preamble = 12;
        header_len = dict.size() + 1;
        header_len += (kAlign - (preamble + header_len) % kAlign) % kAlign;
        if (header_len > 0xffffffffu) fail(path, "cannot write: header too large");
    }
    std::string head(reinterpret_cast<const char *>(kMagic), sizeof(kMagic));
    head += static_cast<char>(major);
    head += '\0';
    for (size_t b = 0; b < preamble - 8; ++b) head += static_cast<char>((header_len >> (8 * b)) & 0xff);
    head += dict;
    head.append(header_len - dict.size() - 1, ' ');
    head += '\n';

    // Same directory as path, so rename() is atomic (never crosses file systems).
    TmpGuard guard{path + ".tmp." + std::to_string(::getpid())};
    const std::string &tmp = guard.tmp;
    // 0666 minus the umask gives the same permissions np.save (via open()) would.
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666));
    if (fd.get() < 0) {
        int e = errno;
        guard.committed = true;  // nothing was created (or it is not ours): do not unlink
        fail(path, "cannot create temporary file '" + tmp + "': " + errno_str(e));
    }
    write_all(fd.get(), head.data(), head.size(), path, tmp);
    write_all(fd.get(), data, static_cast<size_t>(count) * sizeof(T), path, tmp);
    // fsync before rename so a crash cannot leave PATH pointing at an empty or partial file.
    if (::fsync(fd.get()) != 0)
        fail(path, "cannot fsync temporary file '" + tmp + "': " + errno_str(errno));
    if (fd.close_checked() != 0)
        fail(path, "cannot close temporary file '" + tmp + "': " + errno_str(errno));
    if (::rename(tmp.c_str(), path.c_str()) != 0)
        fail(path, "cannot rename '" + tmp + "' over it: " + errno_str(errno));
    guard.committed = true;

    // Best effort: fsync the directory so the rename itself survives a crash. Failure is ignored
    // because the new file is already in place and some file systems refuse directory fsync.
    size_t slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)::fsync(dfd);
        ::close(dfd);
    }
}

}  // namespace

Array read(const std::string &path) {
    Array a;
    read_any(path, a.shape, a.data, a.was_float64);
    return a;
}

Array64 read_f64(const std::string &path) {
    Array64 a;
    bool was_f64 = false;
    read_any(path, a.shape, a.data, was_f64);
    return a;
}

void write(const std::string &path, const std::vector<int64_t> &shape, const float *data) {
    write_any(path, shape, data, "<f4");
}

void write_f64(const std::string &path, const std::vector<int64_t> &shape, const double *data) {
    write_any(path, shape, data, "<f8");
}

std::string shape_str(const std::vector<int64_t> &shape) {
    std::string s = "[";
    for (size_t k = 0; k < shape.size(); ++k) {
        if (k) s += ", ";
        s += std::to_string(shape[k]);
    }
    return s + "]";
}

}  // namespace statemix::npy
