// Tests for tasks/: determinism, the layout rules of every task (spec/tasks.md), the IDX loader on
// the real Fashion-MNIST files and on small bad files, config errors, gather_batch.
#include "tasks/idx_reader.h"
#include "tasks/random.h"
#include "tasks/task.h"

#include "runtime/error.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <unistd.h>

namespace fs = std::filesystem;
using nlohmann::json;
using statemix::Error;
using namespace statemix::tasks;

namespace {

const std::string kFashionDir = "/usr/share/datasets/fashion-mnist";

// A fresh directory per test so repeated or parallel runs never see each other's files.
std::string fresh_dir() {
    static int counter = 0;
    const auto *info = ::testing::UnitTest::GetInstance()->current_test_info();
    fs::path dir = fs::path(::testing::TempDir()) / ("statemix_tasks_" + std::to_string(::getpid()) + "_" +
                                                     info->name() + "_" + std::to_string(counter++));
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir.string();
}

void write_file(const std::string &path, const std::string &bytes) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), std::streamsize(bytes.size()));
    ASSERT_TRUE(f.good()) << path;
}

void write_gz(const std::string &path, const std::string &bytes) {
    gzFile f = gzopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr) << path;
    ASSERT_EQ(gzwrite(f, bytes.data(), unsigned(bytes.size())), int(bytes.size()));
    ASSERT_EQ(gzclose(f), Z_OK);
}

std::string read_file(const std::string &path) {
    std::ifstream f(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// An unsigned-byte IDX file: 00 00 08 ndims, big-endian dims, data.
std::string idx_bytes(const std::vector<uint32_t> &dims, const std::vector<uint8_t> &data) {
    std::string s = {0, 0, 8, char(dims.size())};
    for (uint32_t d : dims)
        for (int shift = 24; shift >= 0; shift -= 8) s += char((d >> shift) & 0xff);
    s.append(data.begin(), data.end());
    return s;
}

// Runs f, expects an Error whose message contains every one of `parts`.
void expect_error(const std::function<void()> &f, const std::vector<std::string> &parts) {
    try {
        f();
        ADD_FAILURE() << "no Error thrown; expected one mentioning '" << parts.front() << "'";
    } catch (const Error &e) {
        const std::string msg = e.what();
        for (const auto &p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
    }
}

bool same_data(const Dataset &a, const Dataset &b) {
    return a.n == b.n && a.T == b.T && a.F == b.F && a.T_out == b.T_out && a.tokens == b.tokens &&
           a.features == b.features && a.targets == b.targets && a.values == b.values;
}

// Sequence 0's inputs, tokens or features, as floats.
std::vector<float> first_sequence(const Dataset &d) {
    if (d.F > 0) return std::vector<float>(d.features.begin(), d.features.begin() + d.T * d.F);
    return std::vector<float>(d.tokens.begin(), d.tokens.begin() + d.T);
}

// FNV-1a over the tokens and targets, to pin generated data across platforms and releases.
uint64_t fingerprint(const Dataset &d) {
    uint64_t h = 1469598103934665603ull;
    auto mix = [&h](int32_t v) {
        for (int i = 0; i < 4; ++i) {
            h ^= uint8_t(uint32_t(v) >> (8 * i));
            h *= 1099511628211ull;
        }
    };
    for (int32_t v : d.tokens) mix(v);
    for (int32_t v : d.targets) mix(v);
    return h;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Random helpers

TEST(TaskRandom, UniformIntStaysInRangeAndHitsEveryValue) {
    Rng rng(7);
    for (uint64_t n : {1ull, 2ull, 3ull, 7ull, 10ull}) {
        std::vector<int> hits(n);
        for (int i = 0; i < 2000; ++i) {
            const uint64_t x = uniform_int(rng, n);
            ASSERT_LT(x, n);
            ++hits[x];
        }
        for (uint64_t v = 0; v < n; ++v) EXPECT_GT(hits[v], 2000 / int(n) / 2) << "n=" << n << " v=" << v;
    }
    for (int i = 0; i < 1000; ++i) {
        const float u = uniform_float(rng);
        ASSERT_GE(u, 0.0f);
        ASSERT_LT(u, 1.0f);
    }
    EXPECT_NE(derive_seed(1, kTrainStream), derive_seed(1, kTestStream));
    EXPECT_NE(derive_seed(1, kTrainStream), derive_seed(2, kTrainStream));
}

// ---------------------------------------------------------------------------------------------
// Determinism

TEST(TaskDeterminism, SameSeedSameDataOtherSeedOtherData) {
    const std::vector<json> cfgs = {
        {{"name", "selective_copy"}, {"seq_len", 40}, {"n_tokens", 4}, {"n_train", 20}, {"n_test", 10}},
        {{"name", "recall"}, {"seq_len", 32}, {"n_train", 20}, {"n_test", 10}},
        {{"name", "compression"}, {"n_train", 20}, {"n_test", 10}},
        {{"name", "group"}, {"group_n", 4}, {"n_train", 20}, {"n_test", 10}},
        {{"name", "adding"}, {"seq_len", 20}, {"n_train", 20}, {"n_test", 10}},
    };
    for (const auto &cfg : cfgs) {
        SCOPED_TRACE(cfg.dump());
        const TaskData a = make_task(cfg, 12345), b = make_task(cfg, 12345), c = make_task(cfg, 12346);
        EXPECT_TRUE(same_data(a.train, b.train));
        EXPECT_TRUE(same_data(a.test, b.test));
        EXPECT_FALSE(same_data(a.train, c.train));
        EXPECT_FALSE(same_data(a.test, c.test));
        // Train and test come from different streams: their first sequences differ.
        EXPECT_NE(first_sequence(a.train), first_sequence(a.test));
    }
}

TEST(TaskDeterminism, LargerSplitStartsWithTheSmallerOne) {
    json cfg = {{"name", "selective_copy"}, {"seq_len", 40}, {"n_tokens", 4}, {"n_train", 5}, {"n_test", 3}};
    const TaskData small = make_task(cfg, 9);
    cfg["n_train"] = 12;
    const TaskData large = make_task(cfg, 9);
    ASSERT_EQ(large.train.tokens.size(), 12u * 40u);
    EXPECT_TRUE(std::equal(small.train.tokens.begin(), small.train.tokens.end(), large.train.tokens.begin()));
    EXPECT_TRUE(same_data(small.test, large.test));  // n_train does not move the test split
}

// The generators use only mt19937_64's raw output (fixed by the standard) and integer arithmetic,
// so these fingerprints hold on every platform; a change means the data changed for every user.
TEST(TaskDeterminism, PinnedFingerprints) {
    const json copy = {{"name", "selective_copy"}, {"n_train", 4}, {"n_test", 2}};
    const json group = {{"name", "group"}, {"group_n", 5}, {"n_train", 8}, {"n_test", 2}};
    EXPECT_EQ(fingerprint(make_task(copy, 12345).train), 4884360393205212387ull);
    EXPECT_EQ(fingerprint(make_task(group, 12345).train), 3480253606116610383ull);
}

// ---------------------------------------------------------------------------------------------
// Layout of each task

TEST(TaskLayout, SelectiveCopy) {
    const int V = 10, L = 40, K = 5;
    const TaskData data =
        make_task({{"name", "selective_copy"}, {"vocab", V}, {"seq_len", L}, {"n_tokens", K}, {"n_train", 64},
                   {"n_test", 8}},
                  1);
    EXPECT_EQ(data.info.vocab_in, V);
    EXPECT_EQ(data.info.n_classes, V);
    EXPECT_EQ(data.info.readout, Readout::every_step);
    EXPECT_EQ(data.info.loss, LossKind::cross_entropy);
    const Dataset &d = data.train;
    ASSERT_EQ(d.n, 64);
    ASSERT_EQ(d.T, L);
    ASSERT_EQ(d.T_out, L);
    ASSERT_EQ(d.F, 0);
    ASSERT_EQ(d.tokens.size(), size_t(64 * L));
    ASSERT_EQ(d.targets.size(), size_t(64 * L));
    EXPECT_TRUE(d.features.empty());
    EXPECT_TRUE(d.values.empty());
    std::set<std::vector<int>> placements;
    for (int s = 0; s < d.n; ++s) {
        const int32_t *x = &d.tokens[size_t(s * L)], *y = &d.targets[size_t(s * L)];
        std::vector<int32_t> content;
        std::vector<int> where;
        for (int t = 0; t < L - K - 1; ++t) {
            ASSERT_TRUE(x[t] >= 0 && x[t] <= V - 2) << "s=" << s << " t=" << t;
            if (x[t] < V - 2) {
                content.push_back(x[t]);
                where.push_back(t);
            }
        }
        ASSERT_EQ(int(content.size()), K) << "s=" << s;
        EXPECT_EQ(x[L - K - 1], V - 1) << "copy marker, s=" << s;
        for (int t = L - K; t < L; ++t) EXPECT_EQ(x[t], V - 2) << "blank after the marker, s=" << s;
        for (int t = 0; t < L - K; ++t) EXPECT_EQ(y[t], -1) << "s=" << s << " t=" << t;
        for (int j = 0; j < K; ++j) EXPECT_EQ(y[L - K + j], content[size_t(j)]) << "s=" << s << " j=" << j;
        placements.insert(where);
    }
    EXPECT_GT(placements.size(), 50u) << "content positions should be random per sequence";
}

TEST(TaskLayout, RecallTestTargetsAreTheValuesOfKeysShownBefore) {
    const int V = 16, L = 64, T = L - 1;
    const TaskData data = make_task({{"name", "recall"}, {"vocab", V}, {"seq_len", L}, {"n_train", 32}, {"n_test", 32}}, 3);
    EXPECT_EQ(data.info.vocab_in, V);
    EXPECT_EQ(data.info.readout, Readout::every_step);
    for (const Dataset *d : {&data.train, &data.test}) {
        ASSERT_EQ(d->T, T);
        ASSERT_EQ(d->T_out, T);
        ASSERT_EQ(d->tokens.size(), size_t(32 * T));
        const bool test = d == &data.test;
        int scored = 0;
        for (int s = 0; s < d->n; ++s) {
            const int32_t *x = &d->tokens[size_t(s * T)], *y = &d->targets[size_t(s * T)];
            std::map<int32_t, int32_t> value_of;
            for (int t = 0; t < T; t += 2) {
                const int32_t key = x[t];
                ASSERT_TRUE(key >= 0 && key < V / 2) << "key at even position, s=" << s << " t=" << t;
                const bool shown_before = value_of.count(key) > 0;
                if (t + 1 < T) {
                    const int32_t value = x[t + 1];
                    ASSERT_TRUE(value >= V / 2 && value < V) << "value at odd position";
                    if (shown_before) {
                        ASSERT_EQ(value, value_of[key]) << "one value per key within a sequence";
                    }
                    value_of[key] = value;
                } else {
                    // The last token the model sees is a key that was shown before (the re-probe).
                    ASSERT_TRUE(shown_before) << "the last pair must re-probe a shown key, s=" << s;
                }
                if (test) {
                    if (shown_before) {
                        EXPECT_EQ(y[t], value_of[key]) << "s=" << s << " t=" << t;
                        ++scored;
                    } else {
                        EXPECT_EQ(y[t], -1) << "first sight of a key is not scored, s=" << s << " t=" << t;
                    }
                    if (t + 1 < T) {
                        EXPECT_EQ(y[t + 1], -1) << "value positions are not scored";
                    }
                }
            }
            if (!test) {
                for (int t = 0; t + 1 < T; ++t) EXPECT_EQ(y[t], x[t + 1]) << "next token, s=" << s << " t=" << t;
                EXPECT_EQ(y[T - 1], value_of[x[T - 1]]) << "held-out last token is the probed key's value";
            }
        }
        if (test) {
            EXPECT_GT(scored, 32 * 20);  // 8 keys, 32 pairs: most keys recur
        }
    }
}

TEST(TaskLayout, CompressionTargetsAreTheInput) {
    const int V = 8, L = 12;
    const TaskData data =
        make_task({{"name", "compression"}, {"vocab", V}, {"seq_len", L}, {"n_train", 16}, {"n_test", 4}}, 5);
    EXPECT_EQ(data.info.readout, Readout::autoencoder);
    const Dataset &d = data.train;
    ASSERT_EQ(d.T_out, L);
    EXPECT_EQ(d.targets, d.tokens);
    for (int s = 0; s < d.n; ++s) {
        for (int t = 0; t + 1 < L; ++t) EXPECT_TRUE(d.tokens[size_t(s * L + t)] >= 0 && d.tokens[size_t(s * L + t)] < V - 1);
        EXPECT_EQ(d.tokens[size_t(s * L + L - 1)], V - 1);
    }
}

// The running product is recomputed here from permutation arrays: the permutations of 0..n-1
// listed in lexicographic order by a recursive enumeration (not std::next_permutation), and
// prefix_t = x_t ∘ prefix_{t-1} with (a∘b)(i) = a(b(i)).
TEST(TaskLayout, GroupTargetsAreTheRunningProduct) {
    for (int n : {3, 4, 5}) {
        SCOPED_TRACE("S_" + std::to_string(n));
        std::vector<std::vector<int>> perms;
        std::vector<int> cur;
        std::vector<bool> used(size_t(n), false);
        std::function<void()> rec = [&] {
            if (int(cur.size()) == n) {
                perms.push_back(cur);
                return;
            }
            for (int v = 0; v < n; ++v) {
                if (used[size_t(v)]) continue;
                used[size_t(v)] = true;
                cur.push_back(v);
                rec();
                cur.pop_back();
                used[size_t(v)] = false;
            }
        };
        rec();
        const int order = int(perms.size());
        const int L = 16;
        const TaskData data =
            make_task({{"name", "group"}, {"group_n", n}, {"seq_len", L}, {"n_train", 40}, {"n_test", 8}}, 11);
        EXPECT_EQ(data.info.vocab_in, order);
        EXPECT_EQ(data.info.n_classes, order);
        const Dataset &d = data.train;
        ASSERT_EQ(d.T, L);
        ASSERT_EQ(d.T_out, L);
        for (int s = 0; s < d.n; ++s) {
            std::vector<int> prefix(static_cast<size_t>(n));
            for (int i = 0; i < n; ++i) prefix[size_t(i)] = i;
            for (int t = 0; t < L; ++t) {
                const int32_t x = d.tokens[size_t(s * L + t)];
                ASSERT_TRUE(x >= 0 && x < order);
                std::vector<int> next(static_cast<size_t>(n));
                for (int i = 0; i < n; ++i) next[size_t(i)] = perms[size_t(x)][size_t(prefix[size_t(i)])];
                prefix = next;
                const int32_t y = d.targets[size_t(s * L + t)];
                ASSERT_TRUE(y >= 0 && y < order);
                ASSERT_EQ(perms[size_t(y)], prefix) << "s=" << s << " t=" << t;
            }
        }
    }
    // prefix_0 = x_0: the first target is the first token.
    const TaskData s3 = make_task({{"name", "group"}, {"group_n", 3}, {"seq_len", 1}, {"n_train", 200}, {"n_test", 1}}, 2);
    for (int s = 0; s < 200; ++s) EXPECT_EQ(s3.train.targets[size_t(s)], s3.train.tokens[size_t(s)]);
}

TEST(TaskLayout, AddingOneMarkerPerHalfAndTheSum) {
    const int T = 21;  // odd: halves [0, 10) and [10, 21)
    const TaskData data = make_task({{"name", "adding"}, {"seq_len", T}, {"n_train", 200}, {"n_test", 10}}, 4);
    EXPECT_EQ(data.info.loss, LossKind::mse);
    EXPECT_EQ(data.info.readout, Readout::last_step);
    EXPECT_EQ(data.info.vocab_in, 0);
    const Dataset &d = data.train;
    ASSERT_EQ(d.F, 2);
    ASSERT_EQ(d.T_out, 1);
    ASSERT_EQ(d.features.size(), size_t(200 * T * 2));
    ASSERT_EQ(d.values.size(), 200u);
    EXPECT_TRUE(d.targets.empty());
    EXPECT_TRUE(d.tokens.empty());
    double mean = 0;
    for (int s = 0; s < d.n; ++s) {
        const float *x = &d.features[size_t(s * T * 2)];
        int first = 0, second = 0;
        float sum = 0;
        for (int t = 0; t < T; ++t) {
            EXPECT_TRUE(x[2 * t] >= 0.0f && x[2 * t] <= 1.0f);
            const float m = x[2 * t + 1];
            ASSERT_TRUE(m == 0.0f || m == 1.0f);
            if (m == 1.0f) {
                (t < T / 2 ? first : second) += 1;
                sum += x[2 * t];
            }
        }
        EXPECT_EQ(first, 1) << "s=" << s;
        EXPECT_EQ(second, 1) << "s=" << s;
        EXPECT_EQ(d.values[size_t(s)], sum) << "s=" << s;
        mean += d.values[size_t(s)] / d.n;
    }
    EXPECT_NEAR(mean, 1.0, 0.15);
}

// ---------------------------------------------------------------------------------------------
// Language modelling

TEST(TaskLm, WindowsOfTheCorpusBytes) {
    const std::string dir = fresh_dir(), a = dir + "/a.txt", b = dir + "/b.txt";
    std::string text_a, text_b;
    for (int i = 0; i < 70; ++i) text_a += char('a' + i % 26);
    for (int i = 0; i < 30; ++i) text_b += char(0xc3 + i % 3);  // bytes above 127 too
    write_file(a, text_a);
    write_file(b, text_b);
    const std::string all = text_a + text_b;  // 100 bytes: train 75, test 25
    const int T = 8;
    const TaskData data = make_task({{"name", "lm"}, {"corpus", {a, b}}, {"seq_len", T}, {"test_fraction", 0.25}}, 0);
    EXPECT_TRUE(data.info.bits_per_byte);
    EXPECT_EQ(data.info.vocab_in, 256);
    EXPECT_EQ(data.info.n_classes, 256);
    ASSERT_EQ(data.train.n, (75 - 1) / T);
    ASSERT_EQ(data.test.n, (25 - 1) / T);
    auto byte = [&](size_t i) { return int32_t(uint8_t(all[i])); };
    for (int w = 0; w < data.train.n; ++w)
        for (int t = 0; t < T; ++t) {
            EXPECT_EQ(data.train.tokens[size_t(w * T + t)], byte(size_t(w * T + t)));
            EXPECT_EQ(data.train.targets[size_t(w * T + t)], byte(size_t(w * T + t + 1)));
        }
    for (int w = 0; w < data.test.n; ++w)
        for (int t = 0; t < T; ++t) {
            EXPECT_EQ(data.test.tokens[size_t(w * T + t)], byte(size_t(75 + w * T + t)));
            EXPECT_EQ(data.test.targets[size_t(w * T + t)], byte(size_t(75 + w * T + t + 1)));
        }
    // A single path works like a list of one; n_train takes the first windows.
    const TaskData one = make_task({{"name", "lm"}, {"corpus", a}, {"seq_len", T}, {"test_fraction", 0.25}, {"n_train", 2}}, 0);
    EXPECT_EQ(one.train.n, 2);
}

TEST(TaskLm, BadCorpusNamesTheFile) {
    const std::string dir = fresh_dir(), missing = dir + "/no_such.txt", tiny = dir + "/tiny.txt";
    write_file(tiny, "0123456789");
    expect_error([&] { make_task({{"name", "lm"}, {"corpus", missing}}, 0); }, {"task.corpus", missing});
    expect_error([&] { make_task({{"name", "lm"}, {"corpus", tiny}, {"seq_len", 8}}, 0); }, {"task.corpus", "seq_len+1"});
    expect_error([&] { make_task({{"name", "lm"}, {"corpus", dir}}, 0); }, {"task.corpus", dir, "directory"});
}

TEST(TaskLm, DefaultCorpusIsTheFortunes) {
    if (!fs::exists("/usr/share/games/fortunes/fortunes")) GTEST_SKIP() << "Debian's fortunes files are not installed";
    const TaskData data = make_task({{"name", "lm"}}, 0);
    EXPECT_GT(data.train.n, 100);
    EXPECT_GT(data.test.n, 10);
    EXPECT_EQ(data.train.T, 256);
    for (int32_t v : data.train.tokens) ASSERT_TRUE(v >= 0 && v < 256);
}

// ---------------------------------------------------------------------------------------------
// seq_image and the IDX reader

TEST(TaskSeqImage, FashionMnistFromTheDebianPackage) {
    if (!fs::exists(kFashionDir + "/train-images-idx3-ubyte.gz"))
        GTEST_SKIP() << "Fashion-MNIST not installed (Debian package dataset-fashion-mnist)";
    const TaskData data = make_task({{"name", "seq_image"}, {"n_train", 300}, {"n_test", 100}}, 1);
    EXPECT_EQ(data.info.n_classes, 10);
    EXPECT_EQ(data.info.vocab_in, 0);
    EXPECT_EQ(data.info.readout, Readout::last_step);
    for (const Dataset *d : {&data.train, &data.test}) {
        EXPECT_EQ(d->T, 784);
        EXPECT_EQ(d->F, 1);
        EXPECT_EQ(d->T_out, 1);
        ASSERT_EQ(d->features.size(), size_t(d->n) * 784);
        ASSERT_EQ(d->targets.size(), size_t(d->n));
        std::set<int32_t> labels(d->targets.begin(), d->targets.end());
        EXPECT_EQ(labels.size(), 10u);
        EXPECT_GE(*labels.begin(), 0);
        EXPECT_LE(*labels.rbegin(), 9);
        const auto [lo, hi] = std::minmax_element(d->features.begin(), d->features.end());
        EXPECT_EQ(*lo, 0.0f);
        EXPECT_EQ(*hi, 1.0f);
    }
    EXPECT_EQ(data.train.n, 300);
    EXPECT_EQ(data.test.n, 100);

    // The first train label and a pixel, read straight from the files: labels start at byte 8,
    // pixels at byte 16.
    gzFile f = gzopen((kFashionDir + "/train-labels-idx1-ubyte.gz").c_str(), "rb");
    ASSERT_NE(f, nullptr);
    uint8_t head[9];
    ASSERT_EQ(gzread(f, head, 9), 9);
    gzclose(f);
    EXPECT_EQ(data.train.targets[0], head[8]);
    EXPECT_EQ(data.train.targets[0], 9);  // Fashion-MNIST's first train image is an ankle boot
    f = gzopen((kFashionDir + "/train-images-idx3-ubyte.gz").c_str(), "rb");
    ASSERT_NE(f, nullptr);
    std::vector<uint8_t> pixels(16 + 784);
    ASSERT_EQ(gzread(f, pixels.data(), unsigned(pixels.size())), int(pixels.size()));
    gzclose(f);
    for (int t = 0; t < 784; ++t) ASSERT_EQ(data.train.features[size_t(t)], pixels[size_t(16 + t)] / 255.0f) << t;
}

TEST(TaskSeqImage, FullFilesByDefault) {
    if (!fs::exists(kFashionDir + "/train-images-idx3-ubyte.gz")) GTEST_SKIP() << "Fashion-MNIST not installed";
    const TaskData data = make_task({{"name", "seq_image"}}, 1);
    EXPECT_EQ(data.train.n, 60000);
    EXPECT_EQ(data.test.n, 10000);
}

// A small MNIST-format set whose pixels are all distinct within an image, so the permutation can
// be read back from the features: plain train files, gzipped test files, in a directory of its own.
struct TinyImageSet {
    std::string dir;
    static constexpr int rows = 3, cols = 4, P = rows * cols;
};

TinyImageSet write_tiny_set(int n_train, int n_test) {
    TinyImageSet set{fresh_dir()};
    auto images = [](int n) {
        std::vector<uint8_t> px;
        for (int i = 0; i < n; ++i)
            for (int p = 0; p < TinyImageSet::P; ++p) px.push_back(uint8_t(i * TinyImageSet::P + p));
        return px;
    };
    auto labels = [](int n) {
        std::vector<uint8_t> l;
        for (int i = 0; i < n; ++i) l.push_back(uint8_t(i % 10));
        return l;
    };
    const uint32_t r = TinyImageSet::rows, c = TinyImageSet::cols;
    write_file(set.dir + "/train-images-idx3-ubyte", idx_bytes({uint32_t(n_train), r, c}, images(n_train)));
    write_file(set.dir + "/train-labels-idx1-ubyte", idx_bytes({uint32_t(n_train)}, labels(n_train)));
    write_gz(set.dir + "/t10k-images-idx3-ubyte.gz", idx_bytes({uint32_t(n_test), r, c}, images(n_test)));
    write_gz(set.dir + "/t10k-labels-idx1-ubyte.gz", idx_bytes({uint32_t(n_test)}, labels(n_test)));
    return set;
}

TEST(TaskSeqImage, AnyMnistFormatDirectoryAndOneSharedPermutation) {
    const TinyImageSet set = write_tiny_set(6, 4);
    const int P = TinyImageSet::P;
    const TaskData plain = make_task({{"name", "seq_image"}, {"path", set.dir}}, 1);
    ASSERT_EQ(plain.train.n, 6);
    ASSERT_EQ(plain.test.n, 4);
    ASSERT_EQ(plain.train.T, P);
    for (int i = 0; i < 6; ++i) {
        EXPECT_EQ(plain.train.targets[size_t(i)], i % 10);
        for (int t = 0; t < P; ++t) EXPECT_EQ(plain.train.features[size_t(i * P + t)], float(i * P + t) / 255.0f);
    }

    // Recover the permutation of every image: step t shows pixel order[t].
    auto order_of = [P](const Dataset &d, int i) {
        std::vector<int> order;
        for (int t = 0; t < P; ++t) order.push_back(int(d.features[size_t(i * P + t)] * 255.0f + 0.5f) - i * P);
        return order;
    };
    const TaskData perm = make_task({{"name", "seq_image"}, {"path", set.dir}, {"permute", true}}, 1);
    const std::vector<int> order = order_of(perm.train, 0);
    std::vector<int> sorted = order;
    std::sort(sorted.begin(), sorted.end());
    for (int t = 0; t < P; ++t) ASSERT_EQ(sorted[size_t(t)], t) << "not a permutation";
    std::vector<int> identity(sorted);
    EXPECT_NE(order, identity);
    for (int i = 0; i < 6; ++i) EXPECT_EQ(order_of(perm.train, i), order) << "train image " << i;
    for (int i = 0; i < 4; ++i) EXPECT_EQ(order_of(perm.test, i), order) << "test image " << i;
    EXPECT_EQ(perm.train.targets, plain.train.targets);
    const TaskData other = make_task({{"name", "seq_image"}, {"path", set.dir}, {"permute", true}}, 2);
    EXPECT_NE(order_of(other.train, 0), order) << "the permutation comes from the seed";
}

TEST(TaskSeqImage, BadFilesNameTheFile) {
    const std::string dir = fresh_dir();
    const std::vector<uint8_t> four_images(4 * 2 * 2, 7);
    const std::string good = idx_bytes({4, 2, 2}, four_images);

    const std::string bad_magic = dir + "/bad_magic";
    std::string s = good;
    s[2] = 0x0d;  // float data
    write_file(bad_magic, s);
    expect_error([&] { read_idx(bad_magic, 3); }, {bad_magic, "magic"});
    const std::string labels_as_images = dir + "/labels_as_images";
    write_file(labels_as_images, idx_bytes({4}, {1, 2, 3, 4}));
    expect_error([&] { read_idx(labels_as_images, 3); }, {labels_as_images, "magic"});

    const std::string truncated = dir + "/truncated";
    write_file(truncated, good.substr(0, good.size() - 5));
    expect_error([&] { read_idx(truncated, 3); }, {truncated, "truncated"});
    const std::string short_header = dir + "/short_header";
    write_file(short_header, good.substr(0, 9));
    expect_error([&] { read_idx(short_header, 3); }, {short_header, "truncated"});

    const std::string too_long = dir + "/too_long";
    write_file(too_long, good + "xyz");
    expect_error([&] { read_idx(too_long, 3); }, {too_long, "longer"});

    // A gzip stream cut in half: zlib reports it, or the data comes up short.
    const std::string gz = dir + "/full.gz", cut_gz = dir + "/cut.gz";
    std::vector<uint8_t> noise(4000);
    Rng rng(1);
    for (auto &b : noise) b = uint8_t(uniform_int(rng, 256));
    write_gz(gz, idx_bytes({10, 20, 20}, noise));
    EXPECT_EQ(read_idx(gz, 3).data, noise);
    const std::string gz_bytes = read_file(gz);
    write_file(cut_gz, gz_bytes.substr(0, gz_bytes.size() / 2));
    expect_error([&] { read_idx(cut_gz, 3); }, {cut_gz});

    const std::string missing = dir + "/missing";
    expect_error([&] { read_idx(missing, 3); }, {missing, "cannot open"});

    // Through make_task: a missing default file, and labels that do not match the images.
    const std::string empty_dir = fresh_dir();
    expect_error([&] { make_task({{"name", "seq_image"}, {"path", empty_dir}}, 0); },
                 {"task.path", empty_dir + "/train-images-idx3-ubyte.gz"});
    const TinyImageSet set = write_tiny_set(6, 4);
    const std::string five_labels = dir + "/five_labels";
    write_file(five_labels, idx_bytes({5}, {0, 1, 2, 3, 4}));
    expect_error([&] { make_task({{"name", "seq_image"}, {"path", set.dir}, {"train_labels", five_labels}}, 0); },
                 {five_labels, "5 labels", "6 images"});
    const std::string bad_label = dir + "/bad_label";
    write_file(bad_label, idx_bytes({6}, {0, 1, 2, 3, 4, 12}));
    expect_error([&] { make_task({{"name", "seq_image"}, {"path", set.dir}, {"train_labels", bad_label}}, 0); },
                 {bad_label, "label 12"});
    expect_error([&] { make_task({{"name", "seq_image"}, {"path", set.dir}, {"n_train", 7}}, 0); },
                 {"task.n_train", "[0, 6]", "7"});
}

// ---------------------------------------------------------------------------------------------
// Config errors and defaults

TEST(TaskConfig, BadFieldsAreNamed) {
    expect_error([] { make_task({{"name", "selective_copy"}, {"vocabb", 16}}, 0); }, {"task.vocabb", "unknown", "vocab"});
    expect_error([] { make_task({{"name", "selective_copy"}, {"seq_len", "256"}}, 0); },
                 {"task.seq_len", "integer", "\"256\""});
    expect_error([] { make_task({{"name", "selective_copy"}, {"n_train", 128.0}}, 0); }, {"task.n_train", "integer"});
    expect_error([] { make_task({{"name", "selective_copy"}, {"seq_len", 20}}, 0); },
                 {"task.seq_len", "2*n_tokens+1", "got 20"});
    expect_error([] { make_task({{"name", "recall"}, {"vocab", 15}}, 0); }, {"task.vocab", "even", "15"});
    expect_error([] { make_task({{"name", "group"}, {"group_n", 6}}, 0); }, {"task.group_n", "[3, 5]", "6"});
    expect_error([] { make_task({{"name", "group"}, {"vocab", 6}}, 0); }, {"task.vocab", "unknown", "group_n"});
    expect_error([] { make_task({{"name", "seq_image"}, {"permute", 1}}, 0); }, {"task.permute", "true or false"});
    expect_error([] { make_task({{"name", "lm"}, {"test_fraction", 1}}, 0); }, {"task.test_fraction", "between"});
    expect_error([] { make_task({{"name", "lm"}, {"corpus", {1, 2}}}, 0); }, {"task.corpus", "array of strings"});
    expect_error([] { make_task({{"name", "adding"}, {"n_test", -1}}, 0); }, {"task.n_test", "-1"});
    expect_error([] { make_task({{"name", "adding"}, {"seq_len", 1000000}, {"n_train", 1000000}}, 0); },
                 {"task.n_train", "exceed"});
    expect_error([] { make_task({{"name", "sorting"}}, 0); }, {"task.name", "selective_copy", "sorting"});
    expect_error([] { make_task({{"vocab", 16}}, 0); }, {"task.name", "required"});
    expect_error([] { make_task(json::array(), 0); }, {"task", "object"});
}

TEST(TaskConfig, DefaultsListEveryFieldAndBuild) {
    const std::vector<std::string> names = task_names();
    ASSERT_EQ(names.size(), 7u);
    for (const auto &name : names) {
        const json d = task_defaults(name);
        EXPECT_EQ(d.at("name"), name);
        EXPECT_TRUE(d.contains("n_train")) << name;
        EXPECT_TRUE(d.contains("n_test")) << name;
    }
    const json copy = task_defaults("selective_copy");
    EXPECT_EQ(copy, json({{"name", "selective_copy"},
                          {"vocab", 16},
                          {"seq_len", 256},
                          {"n_tokens", 16},
                          {"n_train", 12800},
                          {"n_test", 1280}}));
    EXPECT_EQ(task_defaults("recall")["seq_len"], 128);
    EXPECT_EQ(task_defaults("compression")["seq_len"], 32);
    EXPECT_EQ(task_defaults("group")["n_train"], 100000);
    // The defaults themselves are a valid config (small n to stay fast).
    for (const std::string name : {"selective_copy", "recall", "compression", "group", "adding"}) {
        json cfg = task_defaults(name);
        cfg["n_train"] = 3;
        cfg["n_test"] = 2;
        const TaskData data = make_task(cfg, 12345);
        EXPECT_EQ(data.info.name, name);
        EXPECT_EQ(data.train.n, 3);
        EXPECT_EQ(data.test.n, 2);
    }
    expect_error([] { task_defaults("nope"); }, {"task.name", "nope"});
}

// ---------------------------------------------------------------------------------------------
// gather_batch

TEST(TaskBatch, GathersTokensAndTargetsByIndex) {
    const TaskData data = make_task({{"name", "selective_copy"}, {"seq_len", 40}, {"n_tokens", 4}, {"n_train", 10}, {"n_test", 2}}, 1);
    const Dataset &d = data.train;
    const std::vector<int64_t> idx = {7, 2, 7, 0};
    Batch batch;
    gather_batch(d, idx, batch);
    EXPECT_EQ(batch.B, 4);
    EXPECT_EQ(batch.T, 40);
    EXPECT_EQ(batch.F, 0);
    EXPECT_EQ(batch.T_out, 40);
    ASSERT_EQ(batch.inputs.size(), 4u * 40u);
    ASSERT_EQ(batch.targets.size(), 4u * 40u);
    for (size_t b = 0; b < idx.size(); ++b)
        for (int t = 0; t < 40; ++t) {
            EXPECT_EQ(batch.inputs[b * 40 + size_t(t)], float(d.tokens[size_t(idx[b] * 40 + t)]));
            EXPECT_EQ(batch.targets[b * 40 + size_t(t)], float(d.targets[size_t(idx[b] * 40 + t)]));
        }
    EXPECT_EQ(batch.targets[0], -1.0f);

    // Same size again: the storage is reused.
    const float *inputs = batch.inputs.data(), *targets = batch.targets.data();
    gather_batch(d, {1, 2, 3, 4}, batch);
    EXPECT_EQ(batch.inputs.data(), inputs);
    EXPECT_EQ(batch.targets.data(), targets);

    expect_error([&] { gather_batch(d, {0, 10}, batch); }, {"indices[1] = 10", "[0, 10)"});
    expect_error([&] { gather_batch(d, {-1}, batch); }, {"indices[0] = -1"});
}

TEST(TaskBatch, GathersFeaturesAndValues) {
    const int T = 6;
    const TaskData data = make_task({{"name", "adding"}, {"seq_len", T}, {"n_train", 5}, {"n_test", 2}}, 1);
    const Dataset &d = data.train;
    Batch batch;
    gather_batch(d, {4, 1}, batch);
    EXPECT_EQ(batch.B, 2);
    EXPECT_EQ(batch.F, 2);
    EXPECT_EQ(batch.T_out, 1);
    ASSERT_EQ(batch.inputs.size(), size_t(2 * T * 2));
    ASSERT_EQ(batch.targets.size(), 2u);
    for (int k = 0; k < T * 2; ++k) {
        EXPECT_EQ(batch.inputs[size_t(k)], d.features[size_t(4 * T * 2 + k)]);
        EXPECT_EQ(batch.inputs[size_t(T * 2 + k)], d.features[size_t(1 * T * 2 + k)]);
    }
    EXPECT_EQ(batch.targets[0], d.values[4]);
    EXPECT_EQ(batch.targets[1], d.values[1]);

    Dataset broken = d;
    broken.features.pop_back();
    expect_error([&] { gather_batch(broken, {0}, batch); }, {"gather_batch", "expected"});
}
