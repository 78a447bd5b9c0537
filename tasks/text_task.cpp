// Byte-level language modelling (spec/tasks.md, "Language modelling") on a text corpus: the
// corpus files' bytes concatenated, the first (1 - test_fraction) of them for training and the
// rest held out. No randomness: the seed is unused.
#include "tasks/task_config.h"

#include "runtime/error.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace statemix::tasks {

namespace {

constexpr int kByteVocab = 256;
const char *const kFortunesDir = "/usr/share/games/fortunes";
const char *const kFortunesFiles[] = {"fortunes", "literature", "riddles"};

void append_file(const TaskConfig &c, const std::string &path, std::string &bytes) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        config_error(c, "corpus", fmt::format("'{}' is a directory, expected a text file", path));
    errno = 0;
    std::FILE *f = std::fopen(path.c_str(), "rb");
    if (!f) config_error(c, "corpus", fmt::format("cannot open '{}': {}", path, std::strerror(errno)));
    char buf[1 << 16];
    size_t got;
    while ((got = std::fread(buf, 1, sizeof buf, f)) > 0) bytes.append(buf, got);
    const bool failed = std::ferror(f);
    const int err = errno;
    std::fclose(f);
    if (failed) config_error(c, "corpus", fmt::format("cannot read '{}': {}", path, std::strerror(err)));
}

// Windows of T+1 bytes at stride T from bytes[begin, end): tokens = window[0..T),
// targets = window[1..T], so every byte but the first is predicted exactly once.
// `requested` = 0 takes every window, otherwise the first `requested`.
Dataset byte_windows(const TaskConfig &c, const std::string &bytes, int64_t begin, int64_t end, int64_t T,
                     const std::string &split, const std::string &count_field) {
    const int64_t len = end - begin;
    if (len < T + 1)
        config_error(c, "corpus",
                     fmt::format("{} bytes in all give a {} split of {} bytes, fewer than seq_len+1 = {} for one "
                                 "window; use a larger corpus, a smaller seq_len or another test_fraction",
                                 bytes.size(), split, len, T + 1));
    const int64_t available = (len - 1) / T;
    const int64_t requested = c.integer(count_field, 0, available,
                                        fmt::format("0 = all {} windows of the {} split", available, split));
    const int64_t n = requested == 0 ? available : requested;

    Dataset d;
    d.n = n;
    d.T = T;
    d.F = 0;
    d.T_out = T;
    d.tokens.resize(size_t(n * T));
    d.targets.resize(size_t(n * T));
    const auto *src = reinterpret_cast<const uint8_t *>(bytes.data()) + begin;
    for (int64_t w = 0; w < n; ++w) {
        const uint8_t *window = src + w * T;
        for (int64_t t = 0; t < T; ++t) {
            d.tokens[size_t(w * T + t)] = window[t];
            d.targets[size_t(w * T + t)] = window[t + 1];
        }
    }
    return d;
}

}  // namespace

std::vector<std::string> default_lm_corpus() {
    std::vector<std::string> present, all;
    for (const char *name : kFortunesFiles) {
        const std::string path = std::string(kFortunesDir) + "/" + name;
        std::error_code ec;
        if (std::filesystem::is_regular_file(path, ec)) present.push_back(path);
        all.push_back(path);
    }
    return present.empty() ? all : present;
}

TaskData make_lm(const TaskConfig &c, uint64_t /*seed*/) {
    const int64_t T = c.integer("seq_len", 1, kMaxCount);
    const double test_fraction = c.real_open("test_fraction", 0.0, 1.0);
    const std::vector<std::string> files = c.strings("corpus");
    if (files.empty()) config_error(c, "corpus", "expected a file path or a non-empty list of paths, got []");
    std::string bytes;
    for (const auto &path : files) append_file(c, path, bytes);

    const auto n_bytes = int64_t(bytes.size());
    const auto train_end = int64_t(double(n_bytes) * (1.0 - test_fraction));
    TaskData data;
    data.info.name = c.name;
    data.info.vocab_in = kByteVocab;
    data.info.n_classes = kByteVocab;
    data.info.readout = Readout::every_step;
    data.info.loss = LossKind::cross_entropy;
    data.info.bits_per_byte = true;
    data.train = byte_windows(c, bytes, 0, train_end, T, "train", "n_train");
    data.test = byte_windows(c, bytes, train_end, n_bytes, T, "test", "n_test");
    return data;
}

}  // namespace statemix::tasks
