// Tests for the run directory (train/): safetensors files (round trip, the header byte by byte,
// one test per kind of corruption), atomic checkpoints (including a full disk, simulated with
// RLIMIT_FSIZE in a forked child), the metrics log, the SVG plot and the progress line.
#include "runtime/error.h"
#include "runtime/file_io.h"
#include "train/checkpoint.h"
#include "train/progress.h"
#include "train/run_log.h"
#include "train/safetensors.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace statemix::train;
using statemix::Error;
using statemix::read_file;
using statemix::write_file_atomic;
using nlohmann::json;

namespace {

// A fresh directory per test so repeated or parallel runs never see each other's files.
std::string fresh_dir() {
    static int counter = 0;
    const auto *info = ::testing::UnitTest::GetInstance()->current_test_info();
    fs::path dir = fs::path(::testing::TempDir()) / ("statemix_ckpt_" + std::to_string(::getpid()) + "_" +
                                                     info->name() + "_" + std::to_string(counter++));
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

std::string le64(uint64_t n) {
    std::string s(8, '\0');
    for (int i = 0; i < 8; ++i) s[i] = static_cast<char>(n >> (8 * i));
    return s;
}

std::string raw(const std::vector<float> &v) {
    std::string s(v.size() * 4, '\0');
    if (!v.empty()) std::memcpy(s.data(), v.data(), s.size());
    return s;
}

// A safetensors file built by hand: length, header padded with spaces to 8 bytes, data.
std::string st_bytes(std::string header, const std::string &data) {
    header.append((8 - header.size() % 8) % 8, ' ');
    return le64(header.size()) + header + data;
}

// Bad input: an Error whose message holds every phrase, never a crash or a silent result.
void expect_error(const std::function<void()> &f, const std::vector<std::string> &phrases) {
    try {
        f();
        ADD_FAILURE() << "no error thrown; expected one mentioning '" << phrases[0] << "'";
    } catch (const Error &e) {
        for (const auto &ph : phrases)
            EXPECT_NE(std::string(e.what()).find(ph), std::string::npos) << "missing '" << ph << "' in: " << e.what();
    }
}

bool same_bits(const std::vector<float> &a, const std::vector<float> &b) {
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * 4) == 0);
}

// Every file under `dir` (relative path -> contents), to compare a directory tree before and after.
std::map<std::string, std::string> snapshot(const std::string &dir) {
    std::map<std::string, std::string> out;
    for (const auto &e : fs::recursive_directory_iterator(dir)) {
        const std::string rel = fs::relative(e.path(), dir).string();
        out[rel] = e.is_regular_file() ? read_bytes(e.path().string()) : std::string("<dir>");
    }
    return out;
}

// Runs `f` in a forked child whose files cannot grow past `limit` bytes, with SIGXFSZ ignored so
// that write() fails with EFBIG (the same path as a full disk's ENOSPC: a short write, then an
// error). Returns the child's Error message; fails the test if the child threw nothing.
std::string run_with_file_limit(rlim_t limit, const std::function<void()> &f) {
    int fds[2];
    if (::pipe(fds) != 0) {
        ADD_FAILURE() << "pipe: " << std::strerror(errno);
        return "";
    }
    std::fflush(nullptr);
    pid_t pid = ::fork();
    if (pid == 0) {
        ::close(fds[0]);
        std::signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {limit, limit};
        int code = 3;
        std::string msg;
        if (::setrlimit(RLIMIT_FSIZE, &rl) == 0) {
            try {
                f();
                code = 1;
            } catch (const Error &e) {
                msg = e.what();
                code = 0;
            } catch (...) {
                code = 2;
            }
        }
        if (::write(fds[1], msg.data(), msg.size()) < 0) code = 4;
        ::_exit(code);  // no atexit handlers, no gtest teardown in the child
    }
    ::close(fds[1]);
    std::string msg;
    char buf[4096];
    ssize_t r;
    while ((r = ::read(fds[0], buf, sizeof buf)) > 0) msg.append(buf, static_cast<size_t>(r));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status)) << "child died (signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0) << ")";
    EXPECT_EQ(WEXITSTATUS(status), 0) << "1: no Error thrown, 2: another exception, 3: setrlimit failed, 4: pipe";
    return msg;
}

std::vector<float> iota_floats(size_t n, float start = 0.5f) {
    std::vector<float> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = start + 0.25f * static_cast<float>(i);
    return v;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// safetensors

TEST(Safetensors, RoundTripShapesAndMetadata) {
    const std::string path = fresh_dir() + "/t.safetensors";
    const std::vector<float> w = {1.5f, -0.0f, NAN, INFINITY, -3e-38f, 1e30f};  // bits must survive
    const std::vector<float> b = iota_floats(3);
    const float scalar = 7.25f;
    const std::vector<float> big = iota_floats(17 * 5, -4);
    write_safetensors(path,
                      {{"layer.w", {2, 3}, w.data()},
                       {"layer.b", {3}, b.data()},
                       {"scalar", {}, &scalar},
                       {"empty", {0, 4}, nullptr},
                       {"big", {17, 1, 5}, big.data()}},
                      {{"format", "statemix"}, {"note", "x y"}});
    const SafetensorsFile f = read_safetensors(path);
    ASSERT_EQ(f.tensors.size(), 5u);
    EXPECT_EQ(f.tensors.at("layer.w").shape, (std::vector<int64_t>{2, 3}));
    EXPECT_TRUE(same_bits(f.tensors.at("layer.w").data, w));
    EXPECT_TRUE(same_bits(f.tensors.at("layer.b").data, b));
    EXPECT_EQ(f.tensors.at("scalar").shape, std::vector<int64_t>{});
    EXPECT_EQ(f.tensors.at("scalar").data, std::vector<float>{7.25f});
    EXPECT_EQ(f.tensors.at("empty").shape, (std::vector<int64_t>{0, 4}));
    EXPECT_TRUE(f.tensors.at("empty").data.empty());
    EXPECT_EQ(f.tensors.at("big").shape, (std::vector<int64_t>{17, 1, 5}));
    EXPECT_TRUE(same_bits(f.tensors.at("big").data, big));
    EXPECT_EQ(f.metadata, (std::map<std::string, std::string>{{"format", "statemix"}, {"note", "x y"}}));
}

TEST(Safetensors, HeaderLayoutByteByByte) {
    const std::string path = fresh_dir() + "/tiny.safetensors";
    const std::vector<float> a = {1.0f, -2.0f};
    write_safetensors(path, {{"a", {2}, a.data()}});
    // 54 bytes of JSON, padded with two spaces to 56 so the data starts at byte 64.
    const std::string header = R"({"a":{"data_offsets":[0,8],"dtype":"F32","shape":[2]}}  )";
    ASSERT_EQ(header.size(), 56u);
    const std::string want = std::string("\x38\0\0\0\0\0\0\0", 8) + header + std::string("\0\0\x80\x3f\0\0\0\xc0", 8);
    EXPECT_EQ(read_bytes(path), want);
}

TEST(Safetensors, HeaderAlwaysAlignedAndParseable) {
    const std::string dir = fresh_dir();
    const float x = 1;
    for (int len = 1; len <= 9; ++len) {
        const std::string path = dir + "/n" + std::to_string(len) + ".safetensors";
        write_safetensors(path, {{std::string(len, 'n'), {1}, &x}}, {{"k", std::string(len, 'v')}});
        const std::string bytes = read_bytes(path);
        uint64_t n = 0;
        for (int i = 0; i < 8; ++i) n |= uint64_t(static_cast<unsigned char>(bytes[i])) << (8 * i);
        EXPECT_EQ((8 + n) % 8, 0u) << len;
        ASSERT_EQ(bytes.size(), 8 + n + 4) << len;
        const std::string text = bytes.substr(8, n);
        EXPECT_EQ(text[0], '{');
        const json h = json::parse(text);  // trailing spaces are whitespace to JSON
        EXPECT_EQ(h["__metadata__"]["k"], std::string(len, 'v'));
        EXPECT_EQ(h[std::string(len, 'n')]["data_offsets"], json({0, 4}));
    }
}

TEST(Safetensors, ReadsFileWrittenByAnotherTool) {
    // Metadata first, keys in another order, data laid out b before a: offsets are what count.
    const std::string path = fresh_dir() + "/other.safetensors";
    const std::string header = R"({"__metadata__":{"format":"pt"},"a":{"shape":[2,1],"dtype":"F32","data_offsets":[4,12]},)"
                               R"("b":{"dtype":"F32","shape":[],"data_offsets":[0,4]}})";
    write_bytes(path, st_bytes(header, raw({9.f, 1.f, 2.f})));
    const SafetensorsFile f = read_safetensors(path);
    EXPECT_EQ(f.tensors.at("a").data, (std::vector<float>{1.f, 2.f}));
    EXPECT_EQ(f.tensors.at("b").data, (std::vector<float>{9.f}));
    EXPECT_EQ(f.metadata.at("format"), "pt");
}

TEST(Safetensors, CorruptFilesNameTheFileAndTheProblem) {
    const std::string dir = fresh_dir();
    const std::string good_header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
    const std::string good = st_bytes(good_header, raw({1.f, 2.f}));
    struct Case {
        const char *name;
        std::string bytes;
        const char *phrase;
    };
    const std::vector<Case> cases = {
        {"three_bytes", "abc", "shorter than the 8-byte header length"},
        {"empty", "", "shorter than the 8-byte header length"},
        {"truncated_data", good.substr(0, good.size() - 4), "truncated"},
        {"header_past_end", le64(1000) + good.substr(8), "runs past the end"},
        {"huge_header_length", le64(~uint64_t(0)) + good.substr(8), "runs past the end"},
        {"bad_json", st_bytes(R"({"a":{"dtype":"F32",)", raw({1.f, 2.f})), "not valid JSON"},
        {"not_object", st_bytes("[1,2]", ""), "does not start with '{'"},
        {"wrong_dtype", st_bytes(R"({"a":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}})", raw({1.f, 2.f})),
         "dtype is F16, expected F32"},
        {"offsets_not_shape", st_bytes(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", raw({1.f, 2.f})),
         "shape [3] of F32 needs 12 bytes"},
        {"huge_shape", st_bytes(R"({"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}})",
                                raw({1.f, 2.f})),
         "needs more than 2^64 bytes"},
        {"negative_dim", st_bytes(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", raw({1.f, 2.f})),
         "non-negative integers"},
        {"no_shape", st_bytes(R"({"a":{"dtype":"F32","data_offsets":[0,8]}})", raw({1.f, 2.f})), "no \"shape\""},
        {"no_dtype", st_bytes(R"({"a":{"shape":[2],"data_offsets":[0,8]}})", raw({1.f, 2.f})), "no \"dtype\""},
        {"no_offsets", st_bytes(R"({"a":{"dtype":"F32","shape":[2]}})", raw({1.f, 2.f})), "no \"data_offsets\""},
        {"begin_after_end", st_bytes(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", raw({1.f, 2.f})),
         "begin after end"},
        {"trailing_garbage", good + "junk", "4 trailing bytes"},
        {"overlap",
         st_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                  raw({1.f, 2.f, 3.f})),
         "overlaps"},
        {"hole",
         st_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                  raw({1.f, 2.f, 3.f})),
         "hole"},
        {"duplicate_key",
         st_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                  raw({1.f, 2.f})),
         "'a' twice"},
        {"metadata_not_strings", st_bytes(R"({"__metadata__":{"k":1}})", ""), "not a string"},
    };
    for (const Case &c : cases) {
        SCOPED_TRACE(c.name);
        const std::string path = dir + "/" + c.name + ".safetensors";
        write_bytes(path, c.bytes);
        expect_error([&] { read_safetensors(path); }, {path, c.phrase});
    }
    expect_error([&] { read_safetensors(dir + "/missing.safetensors"); },
                 {dir + "/missing.safetensors", "No such file"});
    // The good file itself reads, so each case above fails for its own reason.
    write_bytes(dir + "/good.safetensors", good);
    EXPECT_EQ(read_safetensors(dir + "/good.safetensors").tensors.at("a").data, (std::vector<float>{1.f, 2.f}));
}

TEST(Safetensors, BadTensorsToWriteAreRejectedAndWriteNothing) {
    const std::string path = fresh_dir() + "/bad.safetensors";
    const float x[2] = {1, 2};
    expect_error([&] { write_safetensors(path, {{"a", {1}, x}, {"a", {1}, x}}); }, {path, "two tensors are named 'a'"});
    expect_error([&] { write_safetensors(path, {{"a", {-1}, x}}); }, {path, "negative dimension"});
    expect_error([&] { write_safetensors(path, {{"a", {2}, nullptr}}); }, {path, "null data"});
    expect_error([&] { write_safetensors(path, {{"__metadata__", {1}, x}}); }, {path, "reserves"});
    expect_error([&] { write_safetensors(path, {{"", {1}, x}}); }, {path, "empty name"});
    EXPECT_FALSE(fs::exists(path));
    EXPECT_TRUE(fs::is_empty(fs::path(path).parent_path()));
}

TEST(Safetensors, FullDiskLeavesTheOldFileAndNoTempFile) {
    const std::string dir = fresh_dir();
    const std::string path = dir + "/w.safetensors";
    const std::vector<float> old_w = iota_floats(10), new_w = iota_floats(100000);
    write_safetensors(path, {{"w", {10}, old_w.data()}});
    const std::string before = read_bytes(path);
    const std::string msg = run_with_file_limit(64 << 10, [&] { write_safetensors(path, {{"w", {100000}, new_w.data()}}); });
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find("File too large"), std::string::npos) << msg;
    EXPECT_EQ(read_bytes(path), before);
    EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
}

TEST(AtomicFile, ReplacesAndReadsBack) {
    const std::string dir = fresh_dir();
    write_file_atomic(dir + "/f.txt", "one");
    write_file_atomic(dir + "/f.txt", "two\n");
    EXPECT_EQ(read_file(dir + "/f.txt"), "two\n");
    EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
    expect_error([&] { read_file(dir + "/nope.txt"); }, {dir + "/nope.txt", "No such file"});
    expect_error([&] { write_file_atomic(dir + "/no/such/dir/f.txt", "x"); }, {dir + "/no/such/dir/f.txt"});
}

// ---------------------------------------------------------------------------------------------
// checkpoints

namespace {

struct FakeModel {
    std::vector<float> w, b, m, v;
    json config = {{"model", "bdlru"}, {"d_model", 8}, {"lr", 1e-3}};
    explicit FakeModel(float start, size_t n_w = 12, size_t n_opt = 12)
        : w(iota_floats(n_w, start)), b(iota_floats(3, -start)), m(iota_floats(n_opt, 2 * start)),
          v(iota_floats(n_opt, 3 * start)) {}
    CheckpointData data(int64_t step) const {
        CheckpointData c;
        c.weights = {{"layer0.w", {static_cast<int64_t>(w.size())}, w.data()}, {"layer0.b", {3}, b.data()}};
        c.optimizer = {{"layer0.w.m", {static_cast<int64_t>(m.size())}, m.data()},
                       {"layer0.w.v", {static_cast<int64_t>(v.size())}, v.data()}};
        c.config = config;
        c.state = {{"step", step}, {"rng", {1, 2, 3}}, {"data_pos", 4096}};
        return c;
    }
};

}  // namespace

TEST(Checkpoint, SaveLoadByRunDirAndByCheckpointDir) {
    const std::string run = fresh_dir();
    const FakeModel model(0.5f);
    const std::string dir = save_checkpoint(run, 100, model.data(100));
    EXPECT_EQ(dir, run + "/checkpoints/step-00000100");
    EXPECT_EQ(read_file(run + "/checkpoints/latest"), "step-00000100\n");
    for (const std::string &path : {run, dir}) {
        SCOPED_TRACE(path);
        const LoadedCheckpoint c = load_checkpoint(path);
        EXPECT_EQ(c.dir, dir);
        EXPECT_EQ(c.weights.tensors.at("layer0.w").data, model.w);
        EXPECT_EQ(c.weights.tensors.at("layer0.b").data, model.b);
        EXPECT_EQ(c.optimizer.tensors.at("layer0.w.m").data, model.m);
        EXPECT_EQ(c.optimizer.tensors.at("layer0.w.v").data, model.v);
        EXPECT_EQ(c.weights.metadata.at("format"), "statemix");
        EXPECT_EQ(c.weights.metadata.at("config_hash"), config_hash(model.config));
        EXPECT_EQ(c.config, model.config);
        EXPECT_EQ(c.state, model.data(100).state);
    }
    EXPECT_NE(config_hash(model.config), config_hash(json{{"model", "bdlru"}, {"d_model", 16}, {"lr", 1e-3}}));
}

TEST(Checkpoint, KeepPrunesOlderOnlyAfterTheNewOneIsComplete) {
    const std::string run = fresh_dir();
    const FakeModel a(1), b(2), c(3);
    save_checkpoint(run, 100, a.data(100), 1);
    save_checkpoint(run, 200, b.data(200), 1);
    EXPECT_FALSE(fs::exists(run + "/checkpoints/step-00000100"));
    EXPECT_TRUE(fs::exists(run + "/checkpoints/step-00000200"));
    EXPECT_EQ(load_checkpoint(run).weights.tensors.at("layer0.w").data, b.w);

    save_checkpoint(run, 300, c.data(300), 2);
    EXPECT_TRUE(fs::exists(run + "/checkpoints/step-00000200"));
    save_checkpoint(run, 400, c.data(400), 2);
    EXPECT_FALSE(fs::exists(run + "/checkpoints/step-00000200"));
    std::vector<std::string> names;
    for (const auto &e : fs::directory_iterator(run + "/checkpoints")) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"latest", "step-00000300", "step-00000400"}));
}

TEST(Checkpoint, ResumedRunReplacesSameStepAndKeepsLaterBranch) {
    const std::string run = fresh_dir();
    const FakeModel a(1), b(2), c(3);
    save_checkpoint(run, 100, a.data(100));
    save_checkpoint(run, 200, b.data(200));
    // Resumed from the step-100 checkpoint, the run reaches step 100 again with other weights.
    EXPECT_EQ(load_checkpoint(run + "/checkpoints/step-00000100").state["step"], 100);
    save_checkpoint(run, 100, c.data(100));
    EXPECT_EQ(read_file(run + "/checkpoints/latest"), "step-00000100\n");
    EXPECT_EQ(load_checkpoint(run).weights.tensors.at("layer0.w").data, c.w);
    EXPECT_TRUE(fs::exists(run + "/checkpoints/step-00000200"));  // a later step is not "older"
    for (const auto &e : fs::directory_iterator(run + "/checkpoints"))
        EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
}

TEST(Checkpoint, LeftoversOfDeadProcessesAreRemoved) {
    const std::string run = fresh_dir();
    pid_t dead = ::fork();
    if (dead == 0) ::_exit(0);
    ::waitpid(dead, nullptr, 0);
    const std::string stale = run + "/checkpoints/step-00000050.tmp-" + std::to_string(dead);
    fs::create_directories(stale);
    write_bytes(stale + "/model.safetensors", "partial");
    save_checkpoint(run, 100, FakeModel(1).data(100));
    EXPECT_FALSE(fs::exists(stale));
}

TEST(Checkpoint, BadArgumentsAreErrors) {
    const std::string run = fresh_dir();
    CheckpointData c = FakeModel(1).data(100);
    expect_error([&] { save_checkpoint(run, 101, c); }, {"state.step is 100", "101"});
    c.state.erase("step");
    expect_error([&] { save_checkpoint(run, 100, c); }, {"\"step\""});
    expect_error([&] { save_checkpoint(run, 100, FakeModel(1).data(100), 0); }, {"keep must be >= 1"});
    EXPECT_FALSE(fs::exists(run + "/checkpoints/latest"));
}

TEST(Checkpoint, LoadErrorsNameThePath) {
    const std::string run = fresh_dir();
    expect_error([&] { load_checkpoint(run); }, {run, "no checkpoint"});
    expect_error([&] { load_checkpoint(run + "/nowhere"); }, {run + "/nowhere", "does not exist"});
    const std::string dir = save_checkpoint(run, 100, FakeModel(1).data(100));

    fs::rename(dir + "/state.json", dir + "/state.json.bak");
    expect_error([&] { load_checkpoint(run); }, {dir + "/state.json", "missing"});
    write_bytes(dir + "/state.json", "{\"step\": 100,");
    expect_error([&] { load_checkpoint(dir); }, {dir + "/state.json", "not valid JSON"});
    fs::rename(dir + "/state.json.bak", dir + "/state.json");

    const std::string model = read_bytes(dir + "/model.safetensors");
    write_bytes(dir + "/model.safetensors", model.substr(0, model.size() - 1));
    expect_error([&] { load_checkpoint(run); }, {dir + "/model.safetensors", "truncated"});
    fs::remove(dir + "/model.safetensors");
    expect_error([&] { load_checkpoint(run); }, {dir + "/model.safetensors", "missing"});
    expect_error([&] { load_checkpoint(dir); }, {dir + "/model.safetensors", "missing"});

    write_file_atomic(run + "/checkpoints/latest", "step-00000999\n");
    expect_error([&] { load_checkpoint(run); }, {run + "/checkpoints/latest", "step-00000999", "does not exist"});
}

TEST(Checkpoint, FullDiskLeavesPreviousCheckpointAndLatestByteIdentical) {
    // The limit is hit first in model.safetensors (big weights), then in optimizer.safetensors
    // after a complete model file (big moments): both temporary directories must disappear.
    struct Case {
        const char *name;
        size_t n_w, n_opt;
    };
    for (const Case &k : {Case{"big_model", 100000, 12}, Case{"big_optimizer", 12, 100000}}) {
        SCOPED_TRACE(k.name);
        const std::string run = fresh_dir();
        save_checkpoint(run, 1, FakeModel(1).data(1));
        const auto before = snapshot(run);
        const FakeModel big(2, k.n_w, k.n_opt);
        const std::string msg = run_with_file_limit(64 << 10, [&] { save_checkpoint(run, 2, big.data(2)); });
        EXPECT_NE(msg.find(run + "/checkpoints/step-00000002"), std::string::npos) << msg;
        EXPECT_NE(msg.find("File too large"), std::string::npos) << msg;
        EXPECT_EQ(snapshot(run), before);  // same files, same bytes, nothing added
        EXPECT_EQ(load_checkpoint(run).state["step"], 1);
    }
}

// ---------------------------------------------------------------------------------------------
// metrics log

TEST(MetricsLog, WriteAppendReadTruncate) {
    const std::string path = fresh_dir() + "/metrics.jsonl";
    {
        MetricsLog log(path, /*append=*/false);
        log.write({{"run", "header without a step"}});
        for (int s = 1; s <= 3; ++s) log.write({{"step", s}, {"loss", 1.0 / s}, {"acc", 0.1 * s}});
        // The record is on disk as soon as write returns (a crash loses nothing written).
        EXPECT_EQ(read_metrics(path).size(), 4u);
    }
    {
        MetricsLog log(path, /*append=*/true);
        log.write({{"step", 3}, {"test_loss", 0.5}, {"test_acc", NAN}});
        log.write({{"step", 4}, {"loss", 0.2}});
    }
    std::vector<json> r = read_metrics(path);
    ASSERT_EQ(r.size(), 6u);
    EXPECT_EQ(r[2]["step"], 2);
    EXPECT_DOUBLE_EQ(r[2]["loss"].get<double>(), 0.5);
    EXPECT_TRUE(r[4]["test_acc"].is_null());  // NaN is not JSON; it is written as null

    truncate_metrics_after(path, 2);
    r = read_metrics(path);
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(r[0]["run"], "header without a step");
    EXPECT_EQ(r[2]["step"], 2);

    {
        MetricsLog log(path, /*append=*/false);
        log.write({{"step", 9}});
    }
    EXPECT_EQ(read_metrics(path).size(), 1u);
    EXPECT_NO_THROW(truncate_metrics_after(path + ".missing", 5));
    EXPECT_FALSE(fs::exists(path + ".missing"));
}

TEST(MetricsLog, CrashCutLastLineIsSkippedAndRepairedOnAppend) {
    const std::string path = fresh_dir() + "/metrics.jsonl";
    write_bytes(path, "{\"step\":1,\"loss\":2}\n{\"step\":2,\"lo");
    EXPECT_EQ(read_metrics(path).size(), 1u);
    {
        MetricsLog log(path, /*append=*/true);
        log.write({{"step", 2}, {"loss", 1.5}});
    }
    EXPECT_EQ(read_bytes(path), "{\"step\":1,\"loss\":2}\n{\"loss\":1.5,\"step\":2}\n");

    write_bytes(path, "{\"step\":1}\nnot json\n{\"step\":2}\n");
    expect_error([&] { read_metrics(path); }, {path, "line 2"});
    expect_error([&] { truncate_metrics_after(path, 1); }, {path, "line 2"});
    expect_error([&] { read_metrics(path + ".nope"); }, {path + ".nope"});
    expect_error([&] { MetricsLog(fresh_dir() + "/no/dir/m.jsonl", false); }, {"/no/dir/m.jsonl"});
}

// ---------------------------------------------------------------------------------------------
// SVG plot

namespace {

// Minimal well-formedness: every tag closes in order, attributes are quoted, the root is <svg>.
::testing::AssertionResult well_formed_svg(const std::string &svg) {
    if (svg.rfind("<svg", 0) != 0) return ::testing::AssertionFailure() << "does not start with <svg";
    if (svg.size() < 7 || svg.substr(svg.size() - 7) != "</svg>\n") return ::testing::AssertionFailure() << "no </svg> at the end";
    std::vector<std::string> open;
    size_t pos = 0;
    while ((pos = svg.find('<', pos)) != std::string::npos) {
        const size_t end = svg.find('>', pos);
        if (end == std::string::npos) return ::testing::AssertionFailure() << "unclosed tag at " << pos;
        const std::string tag = svg.substr(pos + 1, end - pos - 1);
        if (std::count(tag.begin(), tag.end(), '"') % 2) return ::testing::AssertionFailure() << "odd quotes: " << tag;
        if (tag.find('<') != std::string::npos) return ::testing::AssertionFailure() << "'<' inside a tag: " << tag;
        if (tag[0] == '/') {
            if (open.empty() || open.back() != tag.substr(1))
                return ::testing::AssertionFailure() << "</" << tag.substr(1) << "> does not close <"
                                                     << (open.empty() ? "" : open.back()) << ">";
            open.pop_back();
        } else if (tag.back() != '/') {
            open.push_back(tag.substr(0, tag.find(' ')));
        }
        pos = end + 1;
    }
    if (!open.empty()) return ::testing::AssertionFailure() << "<" << open.back() << "> never closed";
    return ::testing::AssertionSuccess();
}

std::vector<json> fake_run(int steps, double loss0, double loss_end, bool with_acc) {
    std::vector<json> r;
    for (int s = 1; s <= steps; ++s) {
        const double t = static_cast<double>(s) / steps;
        const double loss = loss0 * std::pow(loss_end / loss0, t) * (1 + 0.3 * std::sin(s * 12.9898));
        json rec = {{"step", s}, {"loss", loss}, {"lr", 1e-3}, {"tokens_per_s", 21300}};
        if (with_acc) rec["acc"] = 1 - 0.9 * std::exp(-5 * t) + 0.05 * std::sin(s * 7.1);
        r.push_back(rec);
        if (s % (steps / 10) == 0) {
            json ev = {{"step", s}, {"test_loss", loss0 * std::pow(loss_end / loss0, t) * 1.2}};
            if (with_acc) ev["test_acc"] = 0.95 - 0.85 * std::exp(-5 * t), ev["test_macro_acc"] = 0.9 - 0.85 * std::exp(-5 * t);
            r.push_back(ev);
        }
    }
    r.push_back({{"step", steps}, {"loss", NAN}});  // a NaN logged as null: not drawn
    return r;
}

}  // namespace

TEST(CurvesSvg, TwoPanelsWithLogLossAxis) {
    const std::string path = fresh_dir() + "/curves.svg";
    write_curves_svg(path, fake_run(1000, 5, 0.02, true), "bdlru <order 4> & friends");
    const std::string svg = read_bytes(path);
    EXPECT_TRUE(well_formed_svg(svg));
    EXPECT_NE(svg.find("<polyline"), std::string::npos);
    EXPECT_NE(svg.find("train loss (smoothed)"), std::string::npos);
    EXPECT_NE(svg.find("test loss"), std::string::npos);
    EXPECT_NE(svg.find("accuracy (%)"), std::string::npos);
    EXPECT_NE(svg.find("test macro acc"), std::string::npos);
    EXPECT_NE(svg.find("loss (log scale)"), std::string::npos);  // 5 -> 0.02 spans 2.4 decades
    EXPECT_NE(svg.find("bdlru &lt;order 4&gt; &amp; friends"), std::string::npos);
    for (const char *nan : {"last nan", "nan,", ",nan", "\"nan"}) EXPECT_EQ(svg.find(nan), std::string::npos) << nan;
}

TEST(CurvesSvg, RegressionRunHasOnlyTheLossPanelOnALinearAxis) {
    const std::string path = fresh_dir() + "/curves.svg";
    write_curves_svg(path, fake_run(200, 1.0, 0.3, false), "regression");
    const std::string svg = read_bytes(path);
    EXPECT_TRUE(well_formed_svg(svg));
    EXPECT_NE(svg.find("<polyline"), std::string::npos);
    EXPECT_EQ(svg.find("accuracy"), std::string::npos);
    EXPECT_EQ(svg.find("log scale"), std::string::npos);  // 1.0 -> 0.3 is half a decade
    write_curves_svg(path, fake_run(200, 1.0, 0.3, false), "forced", LossScale::log);
    EXPECT_NE(read_bytes(path).find("loss (log scale)"), std::string::npos);
}

TEST(CurvesSvg, LongRunIsDecimatedAndEmptyRecordsStillDraw) {
    const std::string path = fresh_dir() + "/curves.svg";
    write_curves_svg(path, fake_run(30000, 3, 1, false), "long");
    const std::string svg = read_bytes(path);
    EXPECT_TRUE(well_formed_svg(svg));
    // 30k steps on ~850 pixel columns: at most 4 points per column and line.
    const size_t at = svg.find("<polyline");
    ASSERT_NE(at, std::string::npos);
    const std::string line = svg.substr(at, svg.find("/>", at) - at);
    EXPECT_LE(std::count(line.begin(), line.end(), ','), 4 * 900);
    EXPECT_LT(svg.size(), 200000u);

    write_curves_svg(path, {}, "nothing yet");
    EXPECT_TRUE(well_formed_svg(read_bytes(path)));
    EXPECT_NE(read_bytes(path).find("no loss values"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// progress line

TEST(Progress, LineHoldsEveryField) {
    EXPECT_EQ(progress_line(120, 1000, 1.234, 0.567, 4.8e-4, 21300, "00:42 left"),
              "step  120/1000 [##..................] loss 1.234 acc 56.7% lr 4.8e-04 21.3K tok/s 00:42 left");
    EXPECT_EQ(progress_line(5, 10, 0.5, NAN, NAN, NAN, "--:-- left"),
              "step  5/10 [##########..........] loss 0.5 --:-- left");
    EXPECT_EQ(format_duration(42), "00:42");
    EXPECT_EQ(format_duration(3723), "1:02:03");
    EXPECT_EQ(format_duration(NAN), "--:--");
}

TEST(Progress, TimeLeftFollowsRecentStepsNotTheWholeRunMean) {
    StepRate rate(8);
    EXPECT_TRUE(std::isnan(rate.seconds_per_step()));
    double t = 0;
    int64_t step = 0;
    for (int i = 0; i < 10; ++i) rate.add(step += 1, t += 10);  // slow start: 10 s/step
    for (int i = 0; i < 10; ++i) rate.add(step += 2, t += 1);   // then 0.5 s/step, 2 steps per update
    EXPECT_DOUBLE_EQ(rate.seconds_per_step(), 0.5);
    rate.skip_next();
    rate.add(step += 2, t += 100);  // an eval pause
    EXPECT_DOUBLE_EQ(rate.seconds_per_step(), 0.5);
    rate.add(step += 2, t += 1);
    EXPECT_DOUBLE_EQ(rate.seconds_per_step(), 0.5);
}

TEST(Progress, PlainOutputIsAboutTenLines) {
    std::FILE *f = std::tmpfile();
    ASSERT_NE(f, nullptr);
    {
        ProgressBar bar(1000, f);  // a file, not a terminal: plain lines
        for (int s = 1; s <= 1000; ++s) {
            bar.update(s, 1.234, 0.567, 4.8e-4, 21300);
            if (s == 500) bar.println("eval step 500: test_loss 1.5");
        }
    }
    std::rewind(f);
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    std::fclose(f);
    EXPECT_EQ(out.find('\r'), std::string::npos);
    const auto lines = std::count(out.begin(), out.end(), '\n');
    EXPECT_GE(lines, 11);
    EXPECT_LE(lines, 14);  // 10 % steps, the first and last step, the eval line, the final total
    for (const char *field : {"step    1/1000", "step 1000/1000 [####################]", "loss 1.234", "acc 56.7%",
                              "lr 4.8e-04", "21.3K tok/s", "left", "total", "eval step 500: test_loss 1.5\n"})
        EXPECT_NE(out.find(field), std::string::npos) << field << " in:\n" << out;
}

TEST(Progress, TerminalRewritesOneLineAndKeepsPrintedLines) {
    std::FILE *f = std::tmpfile();
    ASSERT_NE(f, nullptr);
    {
        ProgressBar bar(10, f, ProgressBar::Mode::terminal);
        bar.update(1, 2.5, NAN, 1e-3, 500);
        bar.println("eval: test_loss 2.0");
        bar.update(10, 1.5, NAN, 1e-3, 500);
        bar.finish();
        bar.finish();  // idempotent
    }
    std::rewind(f);
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    std::fclose(f);
    EXPECT_EQ(out.rfind("\rstep  1/10 [##..................] loss 2.5 lr 1.0e-03 500 tok/s --:-- left", 0), 0u) << out;
    EXPECT_NE(out.find("\reval: test_loss 2.0"), std::string::npos) << out;
    EXPECT_NE(out.find("\rstep 10/10 [####################] loss 1.5"), std::string::npos) << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2) << out;  // the eval line and the end
    EXPECT_EQ(out.back(), '\n');
}
