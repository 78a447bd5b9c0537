// Tests for runtime/npy: round trips, hand-built headers of every supported version, and one test
// per error class checking that the message names the file and says what is wrong.
#include "runtime/npy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <string>
#include <vector>

#include <unistd.h>

namespace fs = std::filesystem;
namespace npy = statemix::npy;

namespace {

// A fresh directory per test so repeated or parallel runs never see each other's files.
std::string fresh_dir() {
    static int counter = 0;
    const auto *info = ::testing::UnitTest::GetInstance()->current_test_info();
    fs::path dir = fs::path(::testing::TempDir()) /
                   ("statemix_npy_" + std::to_string(::getpid()) + "_" + info->name() + "_" +
                    std::to_string(counter++));
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir.string();
}

void write_bytes(const std::string &path, const std::string &bytes) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    ASSERT_TRUE(f.good()) << path;
}

std::string read_bytes(const std::string &path) {
    std::ifstream f(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

template <class T>
std::string raw(const std::vector<T> &v) {
    std::string s(v.size() * sizeof(T), '\0');
    if (!v.empty()) std::memcpy(s.data(), v.data(), s.size());
    return s;
}

// Builds a .npy file by hand: magic, version major.0, little-endian header length (2 bytes for
// v1, 4 for v2/v3), the dict padded to a 64-byte boundary with spaces and '\n', then `data`.
std::string npy_bytes(unsigned major, const std::string &dict, const std::string &data) {
    size_t preamble = major == 1 ? 10 : 12;
    std::string header = dict;
    header.append((64 - (preamble + header.size() + 1) % 64) % 64, ' ');
    header += '\n';
    std::string out = std::string("\x93") + "NUMPY";
    out += static_cast<char>(major);
    out += '\0';
    for (size_t b = 0; b < preamble - 8; ++b)
        out += static_cast<char>((header.size() >> (8 * b)) & 0xff);
    return out + header + data;
}

int64_t product(const std::vector<int64_t> &shape) {
    int64_t p = 1;
    for (int64_t d : shape) p *= d;
    return p;
}

// Calls read() and read_f64() on path and checks both throw npy::Error whose message contains the
// path and every phrase.
void expect_read_error(const std::string &path, std::initializer_list<std::string> phrases) {
    for (int which = 0; which < 2; ++which) {
        SCOPED_TRACE(which == 0 ? "read" : "read_f64");
        try {
            if (which == 0)
                npy::read(path);
            else
                npy::read_f64(path);
            ADD_FAILURE() << "no npy::Error thrown for " << path;
        } catch (const npy::Error &e) {
            std::string msg = e.what();
            EXPECT_NE(msg.find(path), std::string::npos) << "message lacks the path: " << msg;
            for (const std::string &p : phrases)
                EXPECT_NE(msg.find(p), std::string::npos) << "message lacks '" << p << "': " << msg;
        }
    }
}

const std::string kF4 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";

}  // namespace

TEST(Npy, ShapeStr) {
    EXPECT_EQ(npy::shape_str({}), "[]");
    EXPECT_EQ(npy::shape_str({5}), "[5]");
    EXPECT_EQ(npy::shape_str({2, 3, 4}), "[2, 3, 4]");
}

TEST(Npy, RoundTripFloat32) {
    const std::string dir = fresh_dir();
    const std::vector<std::vector<int64_t>> shapes = {
        {}, {1}, {7}, {0}, {2, 3, 4}, {3, 0, 2}, {1, 1, 1}, {4, 1, 5}};
    int idx = 0;
    for (const auto &shape : shapes) {
        SCOPED_TRACE(npy::shape_str(shape));
        const std::string path = dir + "/a" + std::to_string(idx++) + ".npy";
        std::vector<float> data(static_cast<size_t>(product(shape)));
        for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<float>(i) * 0.37f - 2.0f;
        // Values whose bits must survive unchanged.
        if (data.size() >= 4) {
            data[0] = -0.0f;
            data[1] = std::numeric_limits<float>::infinity();
            data[2] = std::numeric_limits<float>::denorm_min();
            data[3] = std::numeric_limits<float>::quiet_NaN();
        }
        npy::write(path, shape, data.data());

        npy::Array a = npy::read(path);
        EXPECT_EQ(a.shape, shape);
        EXPECT_FALSE(a.was_float64);
        ASSERT_EQ(a.data.size(), data.size());
        EXPECT_EQ(raw(a.data), raw(data));  // bitwise, so NaN and -0 count too

        // Layout as np.save writes it: version 1.0, data starting on a 64-byte boundary.
        std::string bytes = read_bytes(path);
        ASSERT_GE(bytes.size(), 10u);
        EXPECT_EQ(bytes[6], 1);
        EXPECT_EQ((bytes.size() - data.size() * 4) % 64, 0u);

        // read_f64 widens float32 exactly.
        npy::Array64 d = npy::read_f64(path);
        EXPECT_EQ(d.shape, shape);
        ASSERT_EQ(d.data.size(), data.size());
        for (size_t i = 0; i < data.size(); ++i) {
            if (std::isnan(data[i]))
                EXPECT_TRUE(std::isnan(d.data[i]));
            else
                EXPECT_EQ(d.data[i], static_cast<double>(data[i]));
        }
    }
}

TEST(Npy, EmptyArrayAcceptsNullData) {
    const std::string path = fresh_dir() + "/empty.npy";
    npy::write(path, {4, 0}, nullptr);
    npy::Array a = npy::read(path);
    EXPECT_EQ(a.shape, (std::vector<int64_t>{4, 0}));
    EXPECT_TRUE(a.data.empty());
}

TEST(Npy, OverwriteIsAtomicAndLeavesNoTempFile) {
    const std::string dir = fresh_dir();
    const std::string path = dir + "/x.npy";
    std::vector<float> one = {1, 2, 3}, two = {9, 8};
    npy::write(path, {3}, one.data());
    npy::write(path, {2}, two.data());
    npy::Array a = npy::read(path);
    EXPECT_EQ(a.shape, (std::vector<int64_t>{2}));
    EXPECT_EQ(a.data, two);
    int files = 0;
    for (const auto &entry : fs::directory_iterator(dir)) {
        EXPECT_EQ(entry.path().filename(), "x.npy");
        ++files;
    }
    EXPECT_EQ(files, 1);
}

TEST(Npy, Float64ReadRoundedAndExact) {
    const std::string path = fresh_dir() + "/f64.npy";
    const std::vector<double> v = {0.1, 1.0 / 3.0, -2.5, 0.0, 1e-40, 1e300, 123456789.123456789};
    npy::write_f64(path, {7}, v.data());

    npy::Array a = npy::read(path);
    EXPECT_TRUE(a.was_float64);
    EXPECT_EQ(a.shape, (std::vector<int64_t>{7}));
    ASSERT_EQ(a.data.size(), v.size());
    for (size_t i = 0; i < v.size(); ++i) EXPECT_EQ(a.data[i], static_cast<float>(v[i])) << i;
    EXPECT_TRUE(std::isinf(a.data[5]));  // 1e300 does not fit float32
    EXPECT_NE(static_cast<double>(a.data[0]), 0.1);  // really rounded

    npy::Array64 d = npy::read_f64(path);
    EXPECT_EQ(d.shape, (std::vector<int64_t>{7}));
    EXPECT_EQ(d.data, v);  // exact

    // Multi-dimensional float64 too.
    std::vector<double> m(24);
    for (size_t i = 0; i < m.size(); ++i) m[i] = std::sqrt(static_cast<double>(i));
    npy::write_f64(path, {2, 3, 4}, m.data());
    npy::Array64 d2 = npy::read_f64(path);
    EXPECT_EQ(d2.shape, (std::vector<int64_t>{2, 3, 4}));
    EXPECT_EQ(d2.data, m);
}

TEST(Npy, HandBuiltVersion2Header) {
    const std::string path = fresh_dir() + "/v2.npy";
    // Double quotes, unusual spacing, no trailing comma, trailing garbage after the data.
    const std::vector<double> v = {1.5, -2.25, 3.0, 4.125};
    write_bytes(path, npy_bytes(2, "{\"descr\":\"<f8\" ,\"fortran_order\" : False,\"shape\":( 2 ,2 )}",
                                raw(v) + "GARBAGE"));
    npy::Array64 d = npy::read_f64(path);
    EXPECT_EQ(d.shape, (std::vector<int64_t>{2, 2}));
    EXPECT_EQ(d.data, v);
    npy::Array a = npy::read(path);
    EXPECT_TRUE(a.was_float64);
    EXPECT_EQ(a.data, (std::vector<float>{1.5f, -2.25f, 3.0f, 4.125f}));
}

// A header longer than v1.0's uint16 length field (25000 dimensions of 1) must be written as v2.0.
TEST(Npy, WriterFallsBackToVersion2ForHugeHeaders) {
    const std::string path = fresh_dir() + "/wide.npy";
    const std::vector<int64_t> shape(25000, 1);
    const float value = 2.5f;
    npy::write(path, shape, &value);
    std::string bytes = read_bytes(path);
    ASSERT_GE(bytes.size(), 12u);
    EXPECT_EQ(bytes[6], 2);
    EXPECT_EQ((bytes.size() - 4) % 64, 0u);
    npy::Array a = npy::read(path);
    EXPECT_EQ(a.shape, shape);
    EXPECT_EQ(a.data, std::vector<float>{2.5f});
}

TEST(Npy, HandBuiltVersion1And3Variants) {
    const std::string dir = fresh_dir();
    const std::vector<float> v = {1, 2, 3};
    struct Case {
        unsigned major;
        std::string dict;
    };
    const std::vector<Case> cases = {
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }"},
        {3, "{'descr': '|f4', 'fortran_order': False, 'shape': (3L,), }"},  // Python 2 long
        {1, "{'shape': (3,), 'fortran_order': False, 'descr': '=f4'}"},     // any key order
        {2, "{'descr': '<f4', 'fortran_order': False, 'shape': (+3,), }"},
    };
    int idx = 0;
    for (const Case &c : cases) {
        SCOPED_TRACE(c.dict);
        const std::string path = dir + "/v" + std::to_string(idx++) + ".npy";
        write_bytes(path, npy_bytes(c.major, c.dict, raw(v)));
        npy::Array a = npy::read(path);
        EXPECT_EQ(a.shape, (std::vector<int64_t>{3}));
        EXPECT_EQ(a.data, v);
        EXPECT_FALSE(a.was_float64);
    }
    // 0-d scalar with shape ().
    const std::string path = dir + "/scalar.npy";
    write_bytes(path, npy_bytes(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }",
                                raw(std::vector<double>{42.5})));
    npy::Array64 d = npy::read_f64(path);
    EXPECT_TRUE(d.shape.empty());
    EXPECT_EQ(d.data, std::vector<double>{42.5});
}

TEST(NpyErrors, MissingFile) {
    const std::string path = fresh_dir() + "/does_not_exist.npy";
    expect_read_error(path, {"cannot open", "No such file"});
}

TEST(NpyErrors, Directory) {
    const std::string dir = fresh_dir();
    expect_read_error(dir, {"is a directory"});
}

TEST(NpyErrors, BadMagic) {
    const std::string dir = fresh_dir();
    write_bytes(dir + "/text.npy", "hello, this is not numpy data at all");
    expect_read_error(dir + "/text.npy", {"bad magic", "\\x93NUMPY"});
    write_bytes(dir + "/short.npy", "PK");  // a zip (.npz), cut short
    expect_read_error(dir + "/short.npy", {"bad magic"});
}

TEST(NpyErrors, TruncatedHeader) {
    const std::string dir = fresh_dir();
    // Header length says 118 bytes but only 20 follow.
    std::string full = npy_bytes(1, kF4, std::string(24, '\0'));
    ASSERT_EQ(full.size(), 128u + 24u);
    write_bytes(dir + "/cut.npy", full.substr(0, 30));
    expect_read_error(dir + "/cut.npy", {"truncated header", "118", "20"});
    // Only magic and part of the version.
    write_bytes(dir + "/tiny.npy", full.substr(0, 7));
    expect_read_error(dir + "/tiny.npy", {"truncated header"});
    // Empty file.
    write_bytes(dir + "/empty.npy", "");
    expect_read_error(dir + "/empty.npy", {"truncated header"});
    // v2 file cut inside its 4-byte length field.
    write_bytes(dir + "/v2cut.npy", npy_bytes(2, kF4, "").substr(0, 10));
    expect_read_error(dir + "/v2cut.npy", {"truncated header"});
}

TEST(NpyErrors, UnsupportedVersion) {
    const std::string path = fresh_dir() + "/v4.npy";
    std::string bytes = npy_bytes(1, kF4, std::string(24, '\0'));
    bytes[6] = 4;
    write_bytes(path, bytes);
    expect_read_error(path, {"unsupported .npy format version 4.0", "1.0, 2.0, 3.0"});
}

TEST(NpyErrors, UnparseableHeaderDict) {
    const std::string dir = fresh_dir();
    const std::vector<std::string> dicts = {
        "",                                                                   // empty
        "not a dict",                                                         // no '{'
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), ",        // no '}'
        "{'descr': '<f4', 'fortran_order': False}",                          // missing shape
        "{'descr': '<f4', 'fortran_order': false, 'shape': (2, 3)}",         // lowercase bool
        "{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3]}",         // list, not tuple
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2,, 3)}",        // empty entry
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, x)}",         // not an integer
        "{'descr': '<f4, 'fortran_order': False, 'shape': (2, 3)}",          // quote mismatch
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}",  // extra key
        "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}",  // duplicate
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)} junk",    // text after '}'
        "{'descr': '<f4' 'fortran_order': False, 'shape': (2, 3)}",          // missing ','
    };
    int idx = 0;
    for (const std::string &dict : dicts) {
        SCOPED_TRACE(dict);
        const std::string path = dir + "/h" + std::to_string(idx++) + ".npy";
        write_bytes(path, npy_bytes(1, dict, std::string(24, '\0')));
        expect_read_error(path, {"cannot parse .npy header dict"});
    }
}

TEST(NpyErrors, FortranOrder) {
    const std::string path = fresh_dir() + "/fortran.npy";
    write_bytes(path, npy_bytes(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }",
                                std::string(24, '\0')));
    expect_read_error(path, {"fortran_order is True", "C order required; use np.ascontiguousarray"});
}

TEST(NpyErrors, UnsupportedDtype) {
    const std::string dir = fresh_dir();
    write_bytes(dir + "/i4.npy",
                npy_bytes(1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }",
                          std::string(24, '\0')));
    expect_read_error(dir + "/i4.npy", {"unsupported dtype '<i4'", "float32", "float64"});
    write_bytes(dir + "/be.npy",
                npy_bytes(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }",
                          std::string(24, '\0')));
    expect_read_error(dir + "/be.npy", {"unsupported dtype '>f4'", "big-endian"});
    write_bytes(dir + "/rec.npy",
                npy_bytes(1, "{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, "
                             "'shape': (3,), }",
                          std::string(24, '\0')));
    expect_read_error(dir + "/rec.npy", {"structured", "float32"});
}

TEST(NpyErrors, DataTruncated) {
    const std::string path = fresh_dir() + "/short_data.npy";
    write_bytes(path, npy_bytes(1, kF4, std::string(20, '\0')));  // needs 2*3*4 = 24
    expect_read_error(path, {"data truncated", "expected 24 bytes", "found 20", "[2, 3]"});
}

TEST(NpyErrors, ShapeOverflowAndNegative) {
    const std::string dir = fresh_dir();
    // 2^32 * 2^32 elements: the product overflows int64.
    write_bytes(dir + "/prod.npy",
                npy_bytes(1,
                          "{'descr': '<f4', 'fortran_order': False, "
                          "'shape': (4294967296, 4294967296), }",
                          std::string(24, '\0')));
    expect_read_error(dir + "/prod.npy", {"overflows", "[4294967296, 4294967296]"});
    // Fits int64 as a count but not as a byte size.
    write_bytes(dir + "/bytes.npy",
                npy_bytes(1,
                          "{'descr': '<f8', 'fortran_order': False, "
                          "'shape': (4611686018427387904,), }",
                          ""));
    expect_read_error(dir + "/bytes.npy", {"overflows"});
    // A single entry beyond int64.
    write_bytes(dir + "/entry.npy",
                npy_bytes(1,
                          "{'descr': '<f4', 'fortran_order': False, "
                          "'shape': (99999999999999999999,), }",
                          ""));
    expect_read_error(dir + "/entry.npy", {"overflows int64"});
    // Huge but representable: must fail on size, not try to allocate.
    write_bytes(dir + "/huge.npy",
                npy_bytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }",
                          ""));
    expect_read_error(dir + "/huge.npy", {"data truncated", "expected 4000000000000 bytes", "found 0"});
    write_bytes(dir + "/neg.npy",
                npy_bytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 3), }", ""));
    expect_read_error(dir + "/neg.npy", {"negative shape entry"});
}

TEST(NpyErrors, WriteFailuresNameThePathAndLeaveNothing) {
    const std::string dir = fresh_dir();
    const std::vector<float> v = {1, 2};
    const std::string missing = dir + "/no_such_dir/out.npy";
    try {
        npy::write(missing, {2}, v.data());
        ADD_FAILURE() << "no npy::Error";
    } catch (const npy::Error &e) {
        EXPECT_NE(std::string(e.what()).find(missing), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("cannot create temporary file"), std::string::npos);
    }
    const std::string bad = dir + "/bad.npy";
    EXPECT_THROW(npy::write(bad, {-2}, v.data()), npy::Error);
    EXPECT_THROW(npy::write(bad, {2}, nullptr), npy::Error);
    EXPECT_THROW(npy::write_f64(bad, {int64_t(1) << 62, 4}, nullptr), npy::Error);
    // Renaming over a directory fails after the temp file was written: it must be cleaned up.
    fs::create_directories(dir + "/taken.npy");
    EXPECT_THROW(npy::write(dir + "/taken.npy", {2}, v.data()), npy::Error);
    int files = 0;
    for (const auto &entry : fs::directory_iterator(dir)) {
        EXPECT_EQ(entry.path().filename(), "taken.npy");
        ++files;
    }
    EXPECT_EQ(files, 1);
}

// Every prefix of a valid file, and many single-byte corruptions of its header, must give either
// a valid array or npy::Error: never a crash, hang or giant allocation.
TEST(NpyErrors, TruncationsAndCorruptionsNeverCrash) {
    const std::string dir = fresh_dir();
    const std::string path = dir + "/fuzz.npy";
    std::vector<float> v(6);
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
    npy::write(path, {2, 3}, v.data());
    const std::string good = read_bytes(path);

    for (size_t n = 0; n < good.size(); ++n) {
        write_bytes(path, good.substr(0, n));
        EXPECT_THROW(npy::read(path), npy::Error) << "prefix of " << n << " bytes";
    }

    uint32_t state = 12345;  // fixed LCG seed: deterministic corruptions
    const std::string alphabet = std::string("0123456789(),:'\" {}-TrueFalse<f48i|=\n\xff") + '\0';
    for (int iter = 0; iter < 1000; ++iter) {
        std::string bytes = good;
        for (int k = 0; k < 3; ++k) {
            state = state * 1664525u + 1013904223u;
            size_t pos = (state >> 8) % 128;  // the preamble and header dict
            state = state * 1664525u + 1013904223u;
            bytes[pos] = alphabet[(state >> 8) % alphabet.size()];
        }
        write_bytes(path, bytes);
        try {
            npy::Array a = npy::read(path);
            EXPECT_EQ(static_cast<int64_t>(a.data.size()), product(a.shape));
        } catch (const npy::Error &) {
        }
    }
}
