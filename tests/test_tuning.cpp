// The autotuner's parts that need no JIT (autotune/): the knob space, the tuning database (round
// trip, merge, corrupt files), the report, and the dispatch the build derived from the database
// (kKernelChoices). The end-to-end tune and the build's fallback are CTest scripts
// (tests/tune_e2e.cmake, tests/tuning_cmake_check.cmake).
#include "autotune/report.h"
#include "autotune/search.h"
#include "autotune/space.h"
#include "autotune/tuning_db.h"
#include "HalideRuntime.h"
#include "runtime/dispatch.h"
#include "runtime/file_io.h"
#include "runtime/rnn_stepped.h"
#include "statemix.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

namespace statemix::tune {
namespace {

namespace fs = std::filesystem;

std::string temp_path(const std::string &name) {
    fs::path dir = fs::path(::testing::TempDir()) / ("statemix_tune_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    return (dir / name).string();
}

template <typename F>
std::string error_of(F f) {
    try {
        f();
    } catch (const Error &e) {
        return e.what();
    }
    return "";
}

TEST(TuneSpace, ForwardHasBothAlgorithmsWhereTheBuildCompilesThem) {
    const Params dflt{{"algorithm", "sequential"}, {"tile", "256"}, {"vector_width", "0"}};
    auto space = enumerate_space({"bdlru", "forward", 2, "cpu"}, dflt);
    ASSERT_FALSE(space.empty());
    EXPECT_EQ(space.front(), dflt);  // the default first, once
    std::set<std::string> keys;
    int chunked = 0;
    for (const Params &p : space) {
        EXPECT_TRUE(keys.insert(params_key(p)).second) << "duplicate " << params_key(p);
        if (p.at("algorithm") == "chunked") {
            chunked++;
            EXPECT_TRUE(p.count("chunk"));
        }
        EXPECT_EQ(p.count("two_pass"), 0u);  // a backward knob
    }
    EXPECT_EQ(chunked, 8);
    // 40 sequential (5 tiles x: 8 lanes x 1, 2, 4; 16 x 1, 2; 4 x 1, 2, 4 vectors per iteration),
    // 30 with vector_rows (6 tiles, 16 blocks for the narrow bucket and 64-1024, x: 16 lanes x 1,
    // 2; 8 x 1, 2, 4), each of those 70 also with prefetch = 1; 8 chunked (never prefetched).
    EXPECT_EQ(space.size(), 148u);
    int prefetched = 0;
    for (const Params &p : space) {
        if (!p.count("prefetch")) continue;
        EXPECT_EQ(p.at("prefetch"), "1");
        EXPECT_EQ(p.at("algorithm"), "sequential");
        Params plain = p;
        plain.erase("prefetch");
        EXPECT_NE(std::find(space.begin(), space.end(), plain), space.end()) << params_key(p);
        prefetched++;
    }
    EXPECT_EQ(prefetched, 70);
    // The backward's space never sets it (its generator keeps Halide's Stage::prefetch).
    for (const Params &p : enumerate_space({"hlru", "backward", 2, "cpu"}, {})) EXPECT_EQ(p.count("prefetch"), 0u);
    // BD-LRU m = 8: the build has no chunked forward (m³ summaries), so neither does the space.
    for (const Params &p : enumerate_space({"bdlru", "forward", 8, "cpu"}, {})) EXPECT_EQ(p.at("algorithm"), "sequential");
    bool any_chunked_hlru = false;
    for (const Params &p : enumerate_space({"hlru", "forward", 8, "cpu"}, {})) any_chunked_hlru |= p.at("algorithm") == "chunked";
    EXPECT_TRUE(any_chunked_hlru);
}

// The search's timings take one run of each candidate per pass, so a host whose speed drifts (a
// shared machine: 2x within minutes on the dev EPYC, 2026-12-05) shifts all of them alike. Two
// candidates, B 5% faster than A, on a machine slowing down 2% per run: timed one after the
// other (all of A's runs, then all of B's) B looks slower; interleaved, B stays the faster.
TEST(TuneSearch, InterleavedSamplesSurviveADriftingHost) {
    const double base[] = {1.0, 0.95};
    int calls = 0;
    auto drifting = [&](int i) { return base[i] * (1.0 + 0.02 * calls++); };
    auto med = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        return v[v.size() / 2];
    };
    std::vector<std::vector<double>> one_after_other(2);
    for (int i = 0; i < 2; i++) {
        for (int r = 0; r < 5; r++) one_after_other[(size_t)i].push_back(drifting(i));
    }
    EXPECT_GT(med(one_after_other[1]), med(one_after_other[0]));  // the trap the interleaving avoids
    calls = 0;
    int passes = 0;
    const auto s = sample_interleaved(2, 5, drifting, [&] { passes++; });
    ASSERT_EQ(s.size(), 2u);
    EXPECT_EQ(s[0].size(), 5u);
    EXPECT_EQ(s[1].size(), 5u);
    EXPECT_EQ(passes, 5);
    EXPECT_EQ(calls, 10);
    EXPECT_LT(med(s[1]), med(s[0]));
    // Each pass starts one candidate later, so neither always runs first after the other.
    std::vector<int> order;
    sample_interleaved(3, 3, [&](int i) { order.push_back(i); return 1.0; });
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 1, 2, 0, 2, 0, 1}));
    // A NaN (a run that failed) drops the candidate from the later passes.
    const auto f = sample_interleaved(2, 4, [](int i) { return i == 1 ? std::nan("") : 1.0; });
    EXPECT_EQ(f[0].size(), 4u);
    EXPECT_EQ(f[1].size(), 1u);
    EXPECT_TRUE(sample_interleaved(0, 3, [](int) { return 1.0; }).empty());
}

TEST(TuneSpace, BackwardHasEveryForm) {
    auto space = enumerate_space({"hlru", "backward", 4, "cpu"}, {});
    int two = 0, chunked = 0, one = 0, gates_off = 0, other_walk = 0;
    for (const Params &p : space) {
        if (p.at("algorithm") == "chunked") chunked++;
        else if (p.count("two_pass") && p.at("two_pass") == "true") two++;
        else if (p.count("gates_n_inner")) gates_off += p.at("gates_n_inner") == "0";
        else if (p.count("reverse_channels")) other_walk += p.at("reverse_channels") == "0";  // m = 4: on by default
        else one++;
    }
    EXPECT_EQ(one, 18);  // 6 tiles (32, for the narrow bucket, and 64-1024) x 3 widths
    EXPECT_EQ(other_walk, 15);  // 5 tiles (64-1024) x 3 widths, each step's channels walked upwards
    EXPECT_EQ(gates_off, 2);  // the one-pass form with the gate buffers in the inputs' order
    EXPECT_EQ(two, 18);
    EXPECT_EQ(chunked, 4);
    // BD-LRU m = 8: no chunked kernels (m³ summaries), as the build.
    for (const Params &p : enumerate_space({"bdlru", "backward", 8, "cpu"}, {})) EXPECT_EQ(p.at("algorithm"), "sequential");
    // The other walk is the one the generator does not take by default: downwards at BD-LRU m = 2.
    int down = 0;
    for (const Params &p : enumerate_space({"bdlru", "backward", 2, "cpu"}, {})) {
        if (p.count("reverse_channels")) down += p.at("reverse_channels") == "1" ? 1 : -1000;
    }
    EXPECT_EQ(down, 15);
    // CUDA has no such knob, nor the forward.
    for (const Params &p : enumerate_space({"hlru", "backward", 2, "cuda"}, {})) EXPECT_EQ(p.count("reverse_channels"), 0u);
    for (const Params &p : enumerate_space({"hlru", "forward", 2, "cpu"}, {})) EXPECT_EQ(p.count("reverse_channels"), 0u);
}

// BD-LRU's backward (one-pass form) and forward (sequential) also offer a block's rows in the
// SIMD lanes (vector_rows), for 2 <= m <= 8 (at m = 1 there is one row): widths 0 and half the
// natural one. The forward also offers the block counts whose m x w lanes fill or just fit in one
// or two natural vectors (three below m = 8), and only those past m = 8 (up to 16), where the
// natural width's lanes outgrow the registers.
// The in-register transpose of a block's logits (transpose_logits) only where a vector holds one
// block (vector_width 1) and m is a power of two, in the BD-LRU forward alone.
TEST(TuneSpace, BdlruTransposesLogitsAtOneBlockPerVector) {
    auto transposed = [](const char *layer, const char *dir, int m, int lanes) {
        int n = 0;
        for (const Params &p : enumerate_space({layer, dir, m, "cpu"}, {}, lanes)) {
            if (!p.count("transpose_logits") || p.count("prefetch")) continue;  // each also prefetched
            EXPECT_EQ(p.at("transpose_logits"), "true") << params_key(p);
            EXPECT_EQ(p.at("vector_rows"), "true") << params_key(p);
            EXPECT_EQ(p.at("vector_width"), "1") << params_key(p);
            EXPECT_EQ(p.at("algorithm"), "sequential") << params_key(p);
            n++;
        }
        return n;
    };
    // One per tile (6: 64-1024 and one for the narrow bucket, 8 blocks at m = 16, else 16) and
    // vectors-per-iteration factor (unroll 1, 2, 4 while 4 natural vectors hold the unrolled lanes
    // and 600 logits their code): m = 16 x 1, 2; m = 8 on AVX2 x 1, 2, 4.
    EXPECT_EQ(transposed("bdlru", "forward", 16, 16), 12);
    EXPECT_EQ(transposed("bdlru", "forward", 16, 8), 12);
    EXPECT_EQ(transposed("bdlru", "forward", 8, 8), 18);
    EXPECT_EQ(transposed("bdlru", "forward", 8, 16), 0);   // AVX-512 puts 2 or 4 blocks in a vector
    EXPECT_EQ(transposed("bdlru", "forward", 5, 4), 0);    // one block per vector, but m = 5
    EXPECT_EQ(transposed("bdlru", "backward", 16, 16), 0);
    EXPECT_EQ(transposed("hlru", "forward", 8, 8), 0);
}

// The CPU forward's vectors per iteration (unroll 2 and 4, sequential only) where one vector's
// lanes (vector_width channels, or m x vector_width rows with vector_rows) fit in two natural
// vectors and the unrolled ones in four; a CPU backward never offers unroll (its generator
// refuses it), CUDA keeps its time-step unroll.
TEST(TuneSpace, ForwardUnrollsItsVectors) {
    auto unrolled = [](const char *layer, const char *dir, int m, int lanes) {
        std::set<std::string> seen;
        for (const Params &p : enumerate_space({layer, dir, m, "cpu"}, {}, lanes)) {
            if (!p.count("unroll")) continue;
            EXPECT_EQ(p.at("algorithm"), "sequential") << params_key(p);
            const bool rows = p.count("vector_rows") && p.at("vector_rows") == "true";
            if (layer == std::string("bdlru") && m > 1 && !rows) continue;  // the channels in the lanes: below
            const int w = std::stoi(p.at("vector_width")), u = std::stoi(p.at("unroll"));
            const int vec = (rows ? m : 1) * (w == 0 ? lanes : w);
            EXPECT_LE(vec, 2 * lanes) << params_key(p);
            EXPECT_LE(vec * u, 4 * lanes) << params_key(p);
            seen.insert(p.at("vector_width") + "x" + p.at("unroll"));
        }
        return seen;
    };
    // m = 5, AVX-512: 3, 6 blocks (15, 30 lanes) unrolled 2 and 4 / 2; 9, 10 blocks (45, 50 lanes) not.
    EXPECT_EQ(unrolled("bdlru", "forward", 5, 16), (std::set<std::string>{"3x2", "3x4", "4x2", "6x2"}));
    // m = 4: 4 blocks (one vector) x 2, 4; 8 blocks (two) x 2; the natural width (64 lanes) not.
    EXPECT_EQ(unrolled("bdlru", "forward", 4, 16), (std::set<std::string>{"4x2", "4x4", "8x2"}));
    // The channels in the lanes (H-LRU; BD-LRU m = 1): 16 lanes x 2, 4; 32 x 2; 8 x 2, 4.
    EXPECT_EQ(unrolled("hlru", "forward", 4, 16), (std::set<std::string>{"0x2", "0x4", "32x2", "8x2", "8x4"}));
    EXPECT_EQ(unrolled("bdlru", "forward", 1, 16), (std::set<std::string>{"0x2", "0x4", "32x2", "8x2", "8x4"}));
    // m = 16: one and two blocks (16, 32 lanes) x 2 only (4 copies of 272 logits did not compile in 60 s).
    EXPECT_EQ(unrolled("bdlru", "forward", 16, 16), (std::set<std::string>{"1x2", "2x2"}));
    EXPECT_TRUE(unrolled("bdlru", "backward", 4, 16).empty());
    EXPECT_TRUE(unrolled("hlru", "backward", 4, 16).empty());
    int cuda = 0;
    for (const Params &p : enumerate_space({"bdlru", "backward", 2, "cuda"}, {})) cuda += p.count("unroll") > 0;
    EXPECT_GT(cuda, 0);
}

// BD-LRU's one-pass backward with a row's logits in the lanes (vector_logits): m a power of two
// from 8, four tiles (from 8 blocks, for the narrow bucket's 16 blocks at m = 16) at the natural
// width (the generator caps the lanes at m), never with
// vector_rows or the two-pass form; not the forward, not H-LRU.
TEST(TuneSpace, BdlruBackwardOffersLogitsInTheLanes) {
    auto count = [](const char *layer, const char *dir, int m, int lanes) {
        int n = 0;
        for (const Params &p : enumerate_space({layer, dir, m, "cpu"}, {}, lanes)) {
            if (!p.count("vector_logits")) continue;
            EXPECT_EQ(p.at("vector_logits"), "true") << params_key(p);
            EXPECT_EQ(p.at("algorithm"), "sequential") << params_key(p);
            EXPECT_EQ(p.at("vector_width"), "0") << params_key(p);
            EXPECT_EQ(p.count("vector_rows") + p.count("two_pass"), 0u) << params_key(p);
            n++;
        }
        return n;
    };
    EXPECT_EQ(count("bdlru", "backward", 16, 16), 4);
    EXPECT_EQ(count("bdlru", "backward", 16, 8), 4);
    EXPECT_EQ(count("bdlru", "backward", 8, 16), 4);
    EXPECT_EQ(count("bdlru", "backward", 5, 16), 0);
    EXPECT_EQ(count("bdlru", "backward", 4, 16), 0);
    EXPECT_EQ(count("bdlru", "forward", 16, 16), 0);
    EXPECT_EQ(count("hlru", "backward", 8, 16), 0);
    for (const Params &p : enumerate_space({"bdlru", "backward", 16, "cuda"}, {})) EXPECT_EQ(p.count("vector_logits"), 0u);
}

TEST(TuneSpace, BdlruOffersRowsInTheLanes) {
    auto count = [](const char *dir, int m) {
        int n = 0;
        for (const Params &p : enumerate_space({"bdlru", dir, m, "cpu"}, {})) {
            if (p.count("vector_rows") && !p.count("prefetch")) {  // the forward's prefetched twins aside
                EXPECT_EQ(p.count("two_pass"), 0u) << params_key(p);  // a one-pass schedule
                EXPECT_EQ(p.at("algorithm"), "sequential") << params_key(p);
                n++;
            }
        }
        return n;
    };
    for (const char *dir : {"backward", "forward"}) {
        EXPECT_EQ(count(dir, 1), 0) << dir;
        // 5 tiles x widths 0 and 4 (AVX2's natural 8, halved); the forward's unrolled too (16 lanes
        // x 2, 8 lanes x 2 and 4: ForwardUnrollsItsVectors) and a sixth tile, 16 blocks, for the
        // narrow bucket.
        EXPECT_EQ(count(dir, 2), std::string(dir) == "forward" ? 30 : 10) << dir;
        for (const Params &p : enumerate_space({"hlru", dir, 2, "cpu"}, {})) EXPECT_EQ(p.count("vector_rows"), 0u) << dir;
    }
    EXPECT_EQ(count("backward", 8), 10);
    EXPECT_EQ(count("backward", 16), 0);
    // m = 8 on AVX2 (8 lanes): widths 0 and 4, and 1 and 2 blocks (8 and 16 lanes).
    std::set<std::string> w8, w16, w5_512;
    for (const Params &p : enumerate_space({"bdlru", "forward", 8, "cpu"}, {})) {
        if (p.count("vector_rows")) w8.insert(p.at("vector_width"));
    }
    EXPECT_EQ(w8, (std::set<std::string>{"0", "4", "1", "2"}));
    // 6 tiles (16 blocks and 64-1024) x 4 widths, width 1 with its logits transposed too, widths
    // 1 (x 2, 4) and 2 (x 2) unrolled.
    EXPECT_EQ(count("forward", 8), 60);
    // m = 16: one block (16 lanes) only; on AVX-512 one and two blocks.
    for (const Params &p : enumerate_space({"bdlru", "forward", 16, "cpu"}, {})) {
        if (p.count("vector_rows")) w16.insert(p.at("vector_width"));
    }
    EXPECT_EQ(w16, (std::set<std::string>{"1"}));
    // Nor twice the natural width past m = 8 (one such kernel did not compile in 4 minutes).
    for (const Params &p : enumerate_space({"bdlru", "forward", 16, "cpu"}, {})) EXPECT_NE(p.at("vector_width"), "16");
    bool wide8 = false;
    for (const Params &p : enumerate_space({"bdlru", "forward", 8, "cpu"}, {})) wide8 |= p.at("vector_width") == "16";
    EXPECT_TRUE(wide8);
    std::set<std::string> w16_512;
    for (const Params &p : enumerate_space({"bdlru", "forward", 16, "cpu"}, {}, 16)) {
        if (p.count("vector_rows")) w16_512.insert(p.at("vector_width"));
    }
    EXPECT_EQ(w16_512, (std::set<std::string>{"1", "2"}));
    // m = 5 on AVX-512: 0, 8, and the blocks whose lanes fill (4, 7, 10 blocks: 20, 35, 50
    // lanes) or just fit in (3, 6, 9: 15, 30, 45) one, two or three vectors of 16.
    for (const Params &p : enumerate_space({"bdlru", "forward", 5, "cpu"}, {}, 16)) {
        if (p.count("vector_rows")) w5_512.insert(p.at("vector_width"));
    }
    EXPECT_EQ(w5_512, (std::set<std::string>{"0", "8", "4", "7", "10", "3", "6", "9"}));
    // m = 4: three vectors of 16 are 12 blocks; m = 8 gets no third vector.
    std::set<std::string> w4_512, w8_512;
    for (const Params &p : enumerate_space({"bdlru", "forward", 4, "cpu"}, {}, 16)) {
        if (p.count("vector_rows")) w4_512.insert(p.at("vector_width"));
    }
    EXPECT_EQ(w4_512, (std::set<std::string>{"0", "8", "4", "12"}));
    for (const Params &p : enumerate_space({"bdlru", "forward", 8, "cpu"}, {}, 16)) {
        if (p.count("vector_rows")) w8_512.insert(p.at("vector_width"));
    }
    EXPECT_EQ(w8_512, (std::set<std::string>{"0", "8", "2", "4"}));
    EXPECT_EQ(count("forward", 17), 0);
}

// The second vector width is twice the tuning target's natural one: on AVX-512 a spelled-out 16
// would be vector_width 0 again (the same code timed twice, its "win" drift). The scans' third is
// half the natural one where that is 4 lanes or more (CPUs with vector units narrower than their
// ISA); the RNN cores keep two.
TEST(TuneSpace, VectorWidthsAreTheTargetsNaturalTwiceAndHalfIt) {
    EXPECT_EQ(natural_float_lanes("x86-64-linux-avx-avx2-avx512-avx512_skylake-f16c-fma-sse41"), 16);
    EXPECT_EQ(natural_float_lanes("x86-64-linux-avx-avx2-f16c-fma-sse41"), 8);
    EXPECT_EQ(natural_float_lanes("x86-64-linux-avx-sse41"), 8);
    EXPECT_EQ(natural_float_lanes("x86-64-linux-sse41"), 4);
    EXPECT_EQ(natural_float_lanes("arm-64-linux"), 4);
    auto widths = [](const KernelKey &k, int lanes) {
        std::set<std::string> w;
        for (const Params &p : enumerate_space(k, {}, lanes)) {
            if (p.count("vector_width")) w.insert(p.at("vector_width"));
        }
        return w;
    };
    for (const KernelKey &k : {KernelKey{"bdlru", "forward", 2, "cpu"}, KernelKey{"hlru", "backward", 4, "cpu"}}) {
        EXPECT_EQ(widths(k, 8), (std::set<std::string>{"0", "16", "4"})) << k.label();  // AVX2
        EXPECT_EQ(widths(k, 16), (std::set<std::string>{"0", "32", "8"})) << k.label();  // AVX-512
        // SSE4.1: no 2-lane vectors; the BD-LRU forward's rows in the lanes at 2 blocks (4 lanes).
        std::set<std::string> sse{"0", "8"};
        if (k.layer == "bdlru") sse.insert("2");
        EXPECT_EQ(widths(k, 4), sse) << k.label();
        // Same number of candidates on AVX2 and AVX-512.
        EXPECT_EQ(enumerate_space(k, {}, 16).size(), enumerate_space(k, {}, 8).size()) << k.label();
        EXPECT_LT(enumerate_space(k, {}, 4).size(), enumerate_space(k, {}, 8).size()) << k.label();
    }
    const KernelKey elman{"elman", "forward", 0, "cpu"};
    EXPECT_EQ(widths(elman, 8), (std::set<std::string>{"0", "16"}));
    EXPECT_EQ(widths(elman, 16), (std::set<std::string>{"0", "32"}));
    EXPECT_NE(error_of([] { enumerate_space({"bdlru", "forward", 1, "cpu"}, {}, 0); }).find("natural_lanes"), std::string::npos);
}

TEST(TuneSpace, BadKernelsAreRefusedByName) {
    EXPECT_NE(error_of([] { enumerate_space({"gru", "forward", 1, "cpu"}, {}); }).find("'gru'"), std::string::npos);
    EXPECT_NE(error_of([] { enumerate_space({"lstm", "forward", 1, "cpu"}, {}); }).find("m = 0"), std::string::npos);
    EXPECT_NE(error_of([] { enumerate_space({"elman", "forward", 0, "cuda"}, {}); }).find("CPU only"), std::string::npos);
    EXPECT_NE(error_of([] { enumerate_space({"wcrnn", "backward", 2, "cpu"}, {}); }).find("not tuned"), std::string::npos);
    EXPECT_NE(error_of([] { enumerate_space({"bdlru", "sideways", 1, "cpu"}, {}); }).find("'sideways'"), std::string::npos);
    EXPECT_NE(error_of([] { enumerate_space({"bdlru", "forward", 1, "tpu"}, {}); }).find("'tpu'"), std::string::npos);
}

// statemix_tune --only: the default (the entry's baseline) and the candidates that set every named
// knob to its value, in the space's order, before --max-candidates; a word that is not knob=value,
// or a slice with nothing in it, is an error that names it.
// The kernel the build runs now joins the search second, after the default, once.
TEST(TuneSpace, TheIncumbentJoinsTheSpaceSecondOnce) {
    const KernelKey k{"bdlru", "backward", 8, "cpu"};
    const Params dflt{{"algorithm", "sequential"}, {"tile", "64"}, {"vector_width", "0"}};
    std::vector<Params> space = enumerate_space(k, dflt, 16);
    const size_t n = space.size();
    // Another tier's winner with knobs this tier's space lacks (an eighth of its natural width).
    const Params other{{"algorithm", "sequential"}, {"tile", "1024"}, {"vector_width", "2"}};
    ASSERT_EQ(std::find(space.begin(), space.end(), other), space.end());
    with_incumbent(space, other);
    ASSERT_EQ(space.size(), n + 1);
    EXPECT_EQ(space[0], dflt);
    EXPECT_EQ(space[1], other);
    with_incumbent(space, other);  // already there
    with_incumbent(space, dflt);   // the default: already first
    with_incumbent(space, {});     // unknown
    EXPECT_EQ(space.size(), n + 1);
    std::vector<Params> none;
    with_incumbent(none, other);
    EXPECT_EQ(none, std::vector<Params>{other});
}

// What the build runs for a scan kernel at a bucket's shape here is a compiled kernel's knobs:
// the runtime's choice at that shape has exactly these params.
TEST(TuneSpace, TheIncumbentIsTheKernelTheRuntimeRuns) {
    for (const char *dir : {"forward", "backward"}) {
        const KernelKey k{"bdlru", dir, 8, "cpu"};
        Bucket b;
        b.B = 16;
        b.T = 2048;
        b.state = 1024;
        const Params p = registry_incumbent_params(k, b);
        ASSERT_TRUE(p.count("algorithm")) << dir;
        ScanConfig cfg;
        cfg.layer = Layer::bdlru;
        cfg.m = 8;
        const KernelEntry &e = select_kernel(cfg, dir, Device::cpu, {16, 2048, 128, 8});
        Params want = parse_params(e.params);
        want["algorithm"] = e.algorithm;
        EXPECT_EQ(p, want) << dir << ": " << e.name;
    }
    EXPECT_TRUE(registry_incumbent_params({"elman", "forward", 0, "cpu"}, Bucket{}).empty());
}

TEST(TuneSpace, OnlyKeepsTheCandidatesThatSetTheKnobs) {
    const KernelKey k{"bdlru", "backward", 16, "cpu"};
    // A default (the two-pass form, the build's m = 16 default until 2026-12-06), first.
    const Params dflt{{"algorithm", "sequential"}, {"tile", "64"}, {"two_pass", "true"}, {"vector_width", "8"}};
    const std::vector<Params> all = enumerate_space(k, dflt, 16);
    ASSERT_EQ(all[0], dflt);
    const std::vector<Params> w8 = select_candidates(all, k, {"vector_width=8"}, 0);
    size_t want = 0;
    for (const Params &p : all) want += p.count("vector_width") && p.at("vector_width") == "8";
    ASSERT_GT(want, 0u);
    EXPECT_LT(want, all.size());
    EXPECT_EQ(w8.size(), want);
    for (const Params &p : w8) EXPECT_EQ(p.at("vector_width"), "8") << params_key(p);
    const std::vector<Params> both = select_candidates(all, k, {"vector_width=8", "two_pass=true"}, 0);
    ASSERT_FALSE(both.empty());
    EXPECT_LT(both.size(), w8.size());
    for (const Params &p : both) EXPECT_EQ(p.at("two_pass"), "true") << params_key(p);
    const std::vector<Params> first2 = select_candidates(all, k, {"vector_width=8"}, 2);
    ASSERT_EQ(first2.size(), 2u);
    EXPECT_EQ(first2[0], w8[0]);
    EXPECT_EQ(first2[1], w8[1]);
    EXPECT_EQ(select_candidates(all, k, {}, 0), all);
    // The default reverses no channels; it stays first.
    const std::vector<Params> rev = select_candidates(all, k, {"reverse_channels=1"}, 0);
    ASSERT_GT(rev.size(), 1u);
    EXPECT_EQ(rev[0], all[0]);
    for (size_t i = 1; i < rev.size(); i++) EXPECT_EQ(rev[i].at("reverse_channels"), "1") << params_key(rev[i]);
    EXPECT_NE(error_of([&] { select_candidates(all, k, {"vector_width"}, 0); }).find("--only expects knob=value words"),
              std::string::npos);
    EXPECT_NE(error_of([&] { select_candidates(all, k, {"vector_rows=true"}, 0); })
                  .find("no candidate of bdlru backward m=16 cpu sets vector_rows=true"),
              std::string::npos);
}

// The RNN cores: the build's default (as the runtime picks it for the bucket) first, once, even
// when it spells fewer knobs than the space; both implementations; every candidate names its
// generator's own knobs only.
TEST(TuneSpace, RnnCoresHaveStepAndOneLaunchCandidates) {
    const KernelKey k{"elman", "forward", 0, "cpu"};
    const Params dflt = normalize_rnn_params({{"impl", "stepped"}, {"vector_width", "0"}});
    EXPECT_EQ(dflt, (Params{{"impl", "stepped"}, {"batch_tile", "0"}, {"strip", "1"}, {"vector_width", "0"}}));
    auto space = enumerate_space(k, dflt);
    ASSERT_FALSE(space.empty());
    EXPECT_EQ(space.front(), dflt);
    std::set<std::string> keys;
    int stepped = 0, scan = 0;
    for (const Params &p : space) {
        EXPECT_TRUE(keys.insert(params_key(p)).second) << "duplicate " << params_key(p);
        const bool st = p.at("impl") == "stepped";
        (st ? stepped : scan)++;
        EXPECT_EQ(generator_name(k, p), st ? "elman_step" : "elman_forward");
        const Params g = generator_params(k, p);
        EXPECT_EQ(g.count("impl"), 0u);
        EXPECT_EQ(g.count("k_unroll"), st ? 0u : 1u);  // the step kernels have no k_unroll
        EXPECT_EQ(g.count("strip"), st ? 1u : 0u);
    }
    EXPECT_EQ(stepped, 30);
    EXPECT_EQ(scan, 6);
    EXPECT_EQ(generator_name({"lstm", "forward_train", 0, "cpu"}, {{"impl", "stepped"}}), "lstm_step_train");
    EXPECT_EQ(generator_name({"lstm", "backward", 0, "cpu"}, {{"impl", "stepped"}}), "lstm_bstep");
    EXPECT_EQ(generator_name({"wcrnn", "forward", 2, "cpu"}, {{"impl", "scan"}}), "wcrnn_forward");
}

// CUDA backward: the two-pass form over threads x unroll, the one-pass form over threads, the
// chunked form over chunk x threads.
TEST(TuneSpace, CudaBackwardHasEveryForm) {
    int two = 0, one = 0, chunked = 0;
    for (const Params &p : enumerate_space({"bdlru", "backward", 2, "cuda"}, {})) {
        if (p.at("algorithm") == "chunked") chunked++;
        else if (p.count("two_pass") && p.at("two_pass") == "true") two++;
        else one++;
    }
    EXPECT_EQ(two, 12);
    EXPECT_EQ(one, 3);
    EXPECT_EQ(chunked, 6);
    // H-LRU m = 8: only chunks whose adjoint fits 48 KiB of shared memory at 32 channels (32).
    std::set<std::string> chunks;
    for (const Params &p : enumerate_space({"hlru", "backward", 8, "cuda"}, {})) {
        if (p.at("algorithm") == "chunked") chunks.insert(p.at("chunk"));
    }
    EXPECT_EQ(chunks, (std::set<std::string>{"32"}));
}

TEST(TuneParams, KeyRoundTrips) {
    Params p{{"tile", "256"}, {"algorithm", "chunked"}, {"chunk", "128"}};
    EXPECT_EQ(params_key(p), "algorithm=chunked chunk=128 tile=256");
    EXPECT_EQ(parse_params(params_key(p)), p);
    EXPECT_NE(error_of([] { parse_params("tile=256 oops"); }).find("'oops'"), std::string::npos);
}

Entry sample_entry(const std::string &bucket, double scale) {
    Entry e;
    e.target = "x86-64-linux-avx-avx2-f16c-fma-sse41";
    e.device = "cpu";
    e.layer = "bdlru";
    e.direction = "forward";
    e.m = 2;
    e.bucket = bucket;
    e.knobs_version = 1;
    e.complete = true;
    Measurement a, b;
    a.params = {{"algorithm", "sequential"}, {"tile", "256"}, {"vector_width", "0"}};
    a.ms = 70 * scale;
    a.reps = 5;
    a.spread = 0.1;
    b.params = {{"algorithm", "chunked"}, {"chunk", "128"}, {"tile", "64"}, {"vector_width", "0"}};
    b.ms = 50 * scale;
    b.reps = 5;
    Measurement bad;
    bad.params = {{"algorithm", "sequential"}, {"tile", "64"}, {"vector_width", "16"}};
    bad.status = "wrong: relative error 0.5";
    e.candidates = {a, b, bad};
    e.params = b.params;
    e.ms = b.ms;
    e.default_ms = a.ms;
    e.ceiling_gbs = 35;
    e.bytes = 1e9;
    e.search = "exhaustive";
    e.date = "2026-11-30 01:00 UTC";
    return e;
}

TEST(TuneDatabase, RoundTripsThroughTheFile) {
    Database db;
    db.entries = {sample_entry("wide", 1), sample_entry("narrow", 0.01)};
    // The wide entry carries a --force run's check against the winner it replaced.
    db.entries[0].confirm = {{{"algorithm", "sequential"}, {"tile", "64"}}, 52.5, 50.25, 5, true};
    const std::string path = temp_path("round.json");
    save_database(path, db);
    Database back = load_database(path);
    ASSERT_EQ(back.buckets.size(), db.buckets.size());
    EXPECT_EQ(back.buckets[0].name, "wide");
    EXPECT_EQ(back.buckets[0].lanes_max, INT64_MAX);
    ASSERT_EQ(back.entries.size(), 2u);
    const Entry *w = back.find(sample_entry("wide", 1).key());
    ASSERT_NE(w, nullptr);
    EXPECT_EQ(w->params, sample_entry("wide", 1).params);
    EXPECT_DOUBLE_EQ(w->ms, 50);
    EXPECT_TRUE(w->complete);
    ASSERT_EQ(w->candidates.size(), 3u);
    EXPECT_EQ(w->candidates[2].status, "wrong: relative error 0.5");
    const Measurement *best = best_candidate(*w);
    ASSERT_NE(best, nullptr);
    EXPECT_EQ(best->params.at("algorithm"), "chunked");
    EXPECT_EQ(w->confirm.previous, (Params{{"algorithm", "sequential"}, {"tile", "64"}}));
    EXPECT_DOUBLE_EQ(w->confirm.previous_ms, 52.5);
    EXPECT_DOUBLE_EQ(w->confirm.new_ms, 50.25);
    EXPECT_EQ(w->confirm.rounds, 5);
    EXPECT_TRUE(w->confirm.kept_previous);
    const Entry *n = back.find(sample_entry("narrow", 0.01).key());
    ASSERT_NE(n, nullptr);
    EXPECT_EQ(n->confirm.rounds, 0);  // written only where it ran
    // A missing file is a new database; load_database itself names the file.
    EXPECT_TRUE(load_or_new_database(temp_path("none.json")).entries.empty());
    EXPECT_NE(error_of([] { load_database(temp_path("none.json")); }).find("none.json"), std::string::npos);
}

TEST(TuneDatabase, MergeUnitesCandidatesAndKeepsOtherEntries) {
    Database a, b;
    a.entries = {sample_entry("wide", 1), sample_entry("narrow", 1)};
    Entry newer = sample_entry("wide", 1);
    newer.candidates[0].ms = 60;  // the same params measured again
    Measurement extra;
    extra.params = {{"algorithm", "sequential"}, {"tile", "512"}, {"vector_width", "0"}};
    extra.ms = 40;
    newer.candidates = {newer.candidates[0], extra};
    newer.params = extra.params;
    newer.ms = 40;
    Entry other = sample_entry("wide", 1);
    other.m = 4;
    b.entries = {newer, other};
    merge_database(a, b);
    ASSERT_EQ(a.entries.size(), 3u);
    const Entry *w = a.find(newer.key());
    ASSERT_NE(w, nullptr);
    EXPECT_EQ(w->candidates.size(), 4u);  // 3 old + 1 new, the re-measured one replaced
    EXPECT_DOUBLE_EQ(w->candidates[0].ms, 60);
    EXPECT_EQ(w->params, extra.params);
    EXPECT_NE(a.find(other.key()), nullptr);
    EXPECT_NE(a.find(sample_entry("narrow", 1).key()), nullptr);
    // An incomplete entry does not replace a complete one's winner.
    Database c;
    Entry partial = sample_entry("narrow", 1);
    partial.complete = false;
    partial.params = {{"algorithm", "sequential"}, {"tile", "64"}};
    c.entries = {partial};
    merge_database(a, c);
    EXPECT_EQ(a.find(partial.key())->params, sample_entry("narrow", 1).params);
}

TEST(TuneDatabase, CorruptFilesAreRefusedNamingTheFile) {
    const std::string path = temp_path("bad.json");
    write_file_atomic(path, "{\"format\": \"statemix-tuning-db\", \"version\": 1, \"buckets\": [");
    std::string msg = error_of([&] { load_database(path); });
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find("not valid JSON"), std::string::npos) << msg;

    write_file_atomic(path, "{\"format\": \"something-else\"}");
    msg = error_of([&] { load_database(path); });
    EXPECT_NE(msg.find("not a statemix tuning database"), std::string::npos) << msg;

    write_file_atomic(path, "{\"format\": \"statemix-tuning-db\", \"version\": 7, \"buckets\": [], \"entries\": []}");
    EXPECT_NE(error_of([&] { load_database(path); }).find("version 7"), std::string::npos);

    Database db;
    db.entries = {sample_entry("wide", 1)};
    save_database(path, db);
    std::string text = read_file(path);
    const std::string m_field = "\"m\": 2";
    ASSERT_NE(text.find(m_field), std::string::npos);
    text.replace(text.find(m_field), m_field.size(), "\"m\": \"two\"");
    write_file_atomic(path, text);
    msg = error_of([&] { load_database(path); });
    EXPECT_NE(msg.find("entries[0].m"), std::string::npos) << msg;
    EXPECT_NE(msg.find("expected an integer"), std::string::npos) << msg;

    // The optional --force check, malformed, is named by its place too.
    db.entries[0].confirm = {{{"tile", "64"}}, 52.5, 50.25, 5, false};
    save_database(path, db);
    text = read_file(path);
    const std::string rounds_field = "\"rounds\": 5";
    ASSERT_NE(text.find(rounds_field), std::string::npos);
    text.replace(text.find(rounds_field), rounds_field.size(), "\"rounds\": \"five\"");
    write_file_atomic(path, text);
    msg = error_of([&] { load_database(path); });
    EXPECT_NE(msg.find("entries[0].confirm.rounds"), std::string::npos) << msg;
}

// The default buckets and a file's: 'mid' falls back to 'narrow', kept through the file; a
// fallback naming no bucket, the bucket itself or a bucket with its own fallback is refused,
// naming the file and the bucket.
TEST(TuneDatabase, BucketFallbacksRoundTripAndBadOnesAreRefused) {
    Database db;
    ASSERT_EQ(db.buckets.size(), 3u);
    EXPECT_EQ(db.bucket("mid").fallback, "narrow");
    EXPECT_EQ(db.bucket("narrow").fallback, "");
    EXPECT_EQ(db.bucket("narrow").lanes_max + 1, db.bucket("mid").lanes_min);
    EXPECT_EQ(db.bucket("mid").lanes_max + 1, db.bucket("wide").lanes_min);
    const std::string path = temp_path("fallback.json");
    save_database(path, db);
    Database back = load_database(path);
    EXPECT_EQ(back.bucket("mid").fallback, "narrow");
    EXPECT_EQ(back.bucket("wide").fallback, "");
    EXPECT_EQ(read_file(path).find("\"fallback\": \"\""), std::string::npos);  // no empty field

    auto refused = [&](const std::string &bad, const std::string &what) {
        Database d;
        for (Bucket &b : d.buckets) {
            if (b.name == "mid") b.fallback = bad;
        }
        if (bad == "wide") {
            for (Bucket &b : d.buckets) {
                if (b.name == "wide") b.fallback = "narrow";
            }
        }
        save_database(path, d);
        const std::string msg = error_of([&] { load_database(path); });
        EXPECT_NE(msg.find(path), std::string::npos) << msg;
        EXPECT_NE(msg.find("bucket 'mid'.fallback"), std::string::npos) << msg;
        EXPECT_NE(msg.find(what), std::string::npos) << msg;
    };
    refused("nowhere", "'nowhere' is not a bucket of this database");
    refused("mid", "names the bucket itself");
    refused("wide", "'wide' has a fallback of its own ('narrow')");
}

TEST(TuneReport, DrawsEveryEntry) {
    Database db;
    Entry e1 = sample_entry("wide", 1), e2 = sample_entry("wide", 1.5);
    e2.m = 4;
    db.entries = {e1, e2};
    const std::string html = render_report(db, "tuning.json");
    EXPECT_NE(html.find("<svg"), std::string::npos);
    EXPECT_NE(html.find("<polyline"), std::string::npos);
    EXPECT_NE(html.find("copy ceiling"), std::string::npos);
    EXPECT_NE(html.find("Chunk length"), std::string::npos);
    EXPECT_NE(html.find("best chunked"), std::string::npos);
    // One table row per entry.
    size_t rows = 0;
    for (size_t p = html.find("<tr><td>"); p != std::string::npos; p = html.find("<tr><td>", p + 1)) rows++;
    EXPECT_EQ(rows, 2u);
}

// `statemix tune --layer elman|wcrnn ... --db`: the persistent CUDA forward's sweep (run-time knobs) as an entry. The
// fastest explicit configuration wins (impl=automatic is what the entry replaces: its time is the
// default), a failed row is kept with why, and the winner's spec is one the runtime parses.
TEST(TuneDatabase, SweepEntryPicksTheFastestExplicitConfiguration) {
    Entry key;
    key.target = "cuda-target";
    key.device = "cuda";
    key.layer = "elman";
    key.direction = "forward";
    key.m = 0;
    key.bucket = "wide";
    const std::vector<SweepRow> rows = {{spec_params("impl=automatic"), 2.0, "ok"},
                                        {spec_params("impl=halide"), 1.5, "ok"},
                                        {spec_params("impl=persistent,group=2,rows_per_warp=1"), 1.0, "ok"},
                                        {spec_params("impl=persistent,group=4"), 0.5, "run: no plan"},
                                        {spec_params("impl=automatic,group=8"), 0.1, "ok"}};
    const Entry e = sweep_entry(key, rows, 5, "today");
    EXPECT_TRUE(e.complete);
    EXPECT_EQ(params_spec(e.params), "impl=persistent,group=2,rows_per_warp=1");
    EXPECT_DOUBLE_EQ(e.ms, 1.0);
    EXPECT_DOUBLE_EQ(e.default_ms, 0.1);  // the last automatic row
    EXPECT_EQ(e.candidates.size(), rows.size());
    EXPECT_EQ(e.candidates[3].status, "run: no plan");
    EXPECT_EQ(e.key(), key.key());
    const RnnCudaOptions o = parse_rnn_cuda_options(params_spec(e.params));
    EXPECT_EQ(o.impl, RnnCudaImpl::persistent);
    EXPECT_EQ(o.knobs.group, 2);
    EXPECT_NE(error_of([&] { sweep_entry(key, {rows[0]}, 5, ""); }).find("no configuration"), std::string::npos);
    EXPECT_NE(error_of([] { spec_params("impl=halide,group"); }).find("'group'"), std::string::npos);
}

// Whether another choice of c's (layer, direction, device, m, bucket), naming another kernel, is
// taken before c for `tier` (dispatch::choice_order; a tie goes to the earlier row).
// Whether a CPU choice's kernel has code for this CPU (a bigger tier's winner may not).
static bool choice_runs_here(const KernelChoice &c) {
    return std::strcmp(c.device, "cpu") != 0 || dispatch::runs_on_tier(c.kernel_max_tier, dispatch::running_cpu_tier());
}

static bool outranked(const KernelChoice &c, int tier) {
    for (int j = 0; j < kKernelChoicesSize; j++) {
        const KernelChoice &o = kKernelChoices[j];
        if (!choice_runs_here(o)) continue;  // never taken on this CPU
        if (&o != &c && o.tuned && !std::strcmp(o.layer, c.layer) && !std::strcmp(o.direction, c.direction) &&
            !std::strcmp(o.device, c.device) && o.m == c.m && !std::strcmp(o.bucket, c.bucket) &&
            std::strcmp(o.kernel, c.kernel) != 0) {
            const int64_t oo = dispatch::choice_order(o, tier), co = dispatch::choice_order(c, tier);
            if (oo < co || (oo == co && &o < &c)) return true;
        }
    }
    return false;
}

// Within a tier, the choice tuned on a machine whose features this CPU has comes first (an Intel
// and an AMD AVX-512 machine share the tier and rank kernels differently; of two such machines the
// one with more features), else the machine with the fewest features beyond the tier's; the tier
// comes before the machine.
TEST(TuneDispatch, TheRunningMachinesChoiceComesFirstWithinATier) {
    auto has = [](int f) {
        uint64_t mask[(halide_target_feature_end + 63) / 64] = {};
        mask[f / 64] |= uint64_t(1) << (f % 64);
        return halide_can_use_target_features((int)(sizeof(mask) / sizeof(mask[0])), mask) != 0;
    };
    const int have[] = {halide_target_feature_sse41};
    ASSERT_TRUE(has(have[0]));
    int lacking = -1;
    for (int f : {halide_target_feature_avx512_sapphirerapids, halide_target_feature_avx512_zen5,
                  halide_target_feature_avx10_1, halide_target_feature_avx512_zen4, halide_target_feature_avx512,
                  halide_target_feature_avx2}) {
        if (!has(f) || !dispatch::cpu_has_undetected_feature(f)) {  // (Halide's runtime takes some as present)
            lacking = f;
            break;
        }
    }
    if (lacking < 0) GTEST_SKIP() << "this CPU has every feature the test could name as missing";
    const int other[] = {halide_target_feature_sse41, lacking};
    auto choice = [](const char *kernel, int tier, const int *feats, int nf, int extra) {
        KernelChoice c{"bdlru", "forward", "cpu", 2, "wide", 1, 1000, 1, 1000, kernel, true, tier};
        c.machine = "test";
        c.machine_features = feats;
        c.n_machine_features = nf;
        c.machine_extra = extra;
        return c;
    };
    auto pick = [](const std::vector<KernelChoice> &cs, int tier) {
        const char *k = dispatch::tuned_choice_in(cs.data(), (int)cs.size(), "bdlru", "forward", Device::cpu, 2, 16, 16, tier);
        return std::string(k ? k : "(none)");
    };
    const KernelChoice other_machine = choice("other", 0, other, 2, 1), this_machine = choice("this", 0, have, 1, 4);
    EXPECT_TRUE(dispatch::on_tuning_machine(this_machine));
    EXPECT_FALSE(dispatch::on_tuning_machine(other_machine));
    EXPECT_EQ(pick({other_machine, this_machine}, 0), "this");
    EXPECT_EQ(pick({this_machine, other_machine}, 0), "this");
    // Two machines match: the one with more features, the closer to this CPU.
    for (int f : {halide_target_feature_avx, halide_target_feature_fma, halide_target_feature_f16c}) {
        if (!has(f)) continue;
        const int more[] = {halide_target_feature_sse41, f};
        EXPECT_EQ(pick({this_machine, choice("closer", 0, more, 2, 5)}, 0), "closer");
        EXPECT_EQ(pick({choice("closer", 0, more, 2, 5), this_machine}, 0), "closer");
        break;
    }
    // A smaller machine's choice (extra >= 1000) after the tier's own, even one this CPU matches.
    EXPECT_EQ(pick({choice("smaller", 0, have, 1, 1002), other_machine}, 0), "other");
    // No machine of the tier matches: the fewest features beyond the tier's.
    EXPECT_EQ(pick({other_machine, choice("other0", 0, other, 2, 0)}, 0), "other0");
    // The running tier's choice before another tier's, whatever the machines.
    EXPECT_EQ(pick({choice("tier1", 1, have, 1, 0), other_machine}, 0), "other");
    EXPECT_EQ(pick({choice("tier1", 1, have, 1, 0), other_machine}, 1), "tier1");
    // Outside the bucket: none.
    EXPECT_EQ(dispatch::tuned_choice_in(&this_machine, 1, "bdlru", "forward", Device::cpu, 2, 5000, 16, 0), nullptr);
}

// The processor features Halide's runtime does not read from cpuid (it takes them as present)
// agree with the kernel's CPU flags in /proc/cpuinfo, and an Intel Sapphire Rapids machine's choice
// and an AMD Zen 5 machine's are each taken only on a CPU with the instructions of its own kind
// (before, a Sapphire Rapids CPU took the Zen 5's: it named one feature more).
TEST(TuneDispatch, ProcessorFeaturesHalidesRuntimeDoesNotReadAreChecked) {
    std::ifstream in("/proc/cpuinfo");
    std::string line, flags;
    bool amd = false;
    int family = 0;
    while (std::getline(in, line)) {
        if (line.rfind("vendor_id", 0) == 0) amd = line.find("AuthenticAMD") != std::string::npos;
        if (line.rfind("cpu family", 0) == 0) family = std::stoi(line.substr(line.find(':') + 1));
        if (line.rfind("flags", 0) == 0) {
            flags = " " + line.substr(line.find(':') + 1) + " ";
            break;
        }
    }
    if (flags.empty()) GTEST_SKIP() << "no x86 CPU flags in /proc/cpuinfo";
    auto flag = [&](const char *f) { return flags.find(std::string(" ") + f + " ") != std::string::npos; };
    const bool vnni = flag("avx_vnni");
    const bool zen4 = flag("avx512_vnni") && flag("avx512_bf16") && flag("avx512_vbmi2") && flag("avx512_bitalg") &&
                      flag("avx512_vpopcntdq") && flag("avx512ifma") && flag("avx512vbmi");
    EXPECT_EQ(dispatch::cpu_has_undetected_feature(halide_target_feature_avxvnni), vnni);
    EXPECT_EQ(dispatch::cpu_has_undetected_feature(halide_target_feature_avx512_zen4), zen4);
    const bool zen5 = zen4 && vnni && (flag("avx512_vp2intersect") || (amd && family >= 26));
    const bool spr = zen4 && vnni && (flag("amx_tile") || flag("avx512_fp16"));
    EXPECT_EQ(dispatch::cpu_has_undetected_feature(halide_target_feature_avx512_zen5), zen5);
    EXPECT_EQ(dispatch::cpu_has_undetected_feature(halide_target_feature_avx512_sapphirerapids), spr);
    EXPECT_TRUE(dispatch::cpu_has_undetected_feature(halide_target_feature_sse41));  // Halide's runtime's to answer
    // The two machines' features as their target strings name them (autotune/db/tuning.json).
    const int zen5_machine[] = {halide_target_feature_avx512_skylake, halide_target_feature_avx512_cannonlake,
                                halide_target_feature_avx512_zen4, halide_target_feature_avx512_zen5,
                                halide_target_feature_avxvnni};
    const int spr_machine[] = {halide_target_feature_avx512_skylake, halide_target_feature_avx512_cannonlake,
                               halide_target_feature_avx512_sapphirerapids, halide_target_feature_avxvnni};
    auto choice = [](const char *kernel, const int *feats, int nf) {
        KernelChoice c{"bdlru", "forward", "cpu", 2, "wide", 1, 1000, 1, 1000, kernel, true, 0};
        c.machine = "test";
        c.machine_features = feats;
        c.n_machine_features = nf;
        return c;
    };
    const std::vector<KernelChoice> cs{choice("zen5", zen5_machine, 5), choice("spr", spr_machine, 4)};
    const char *k = dispatch::tuned_choice_in(cs.data(), (int)cs.size(), "bdlru", "forward", Device::cpu, 2, 16, 16, 0);
    ASSERT_NE(k, nullptr);
    EXPECT_FALSE(dispatch::on_tuning_machine(cs[0]) && !zen5);
    EXPECT_FALSE(dispatch::on_tuning_machine(cs[1]) && !spr);
    if (spr && !zen5) EXPECT_STREQ(k, "spr");
    if (zen5 && !spr) EXPECT_STREQ(k, "zen5");
}

// A tuned variant is compiled for the tiers that can take it (cmake/StatemixKernels.cmake
// statemix_variant): its choices' tiers and the ones above, so every choice's tier is within the
// kernel's, and some AVX-512 winners (the database holds AVX-512 machines' entries) skip the
// smaller targets. A CPU below a kernel's tiers never takes its choice, even when asked for that
// tier's choices (STATEMIX_TUNED_TIER), and the kernel refuses to run there.
TEST(TuneDispatch, TunedVariantsAreCompiledForTheTiersThatTakeThem) {
    int restricted = 0, above_last = 0;
    for (int i = 0; i < kKernelChoicesSize; i++) {
        const KernelChoice &c = kKernelChoices[i];
        if (!c.tuned || std::strcmp(c.device, "cpu") != 0) continue;
        if (c.cpu_tier >= 0 && c.cpu_tier < kCpuTiersSize - 1) above_last++;
        if (c.kernel_max_tier < 0) continue;
        EXPECT_GE(c.kernel_max_tier, c.cpu_tier) << c.kernel;
        EXPECT_LT(c.kernel_max_tier, kCpuTiersSize - 1) << c.kernel << ": -1 stands for every tier";
        restricted++;
    }
    // Choices of tiers above the baseline (the checked-in database's AVX-512 and AVX2 machines'):
    // some of their winners leave out the smaller targets.
    if (above_last > 0) EXPECT_GT(restricted, 0) << "no tuned variant left out a tier";
    EXPECT_TRUE(dispatch::runs_on_tier(-1, 2));
    EXPECT_TRUE(dispatch::runs_on_tier(1, 0));
    EXPECT_TRUE(dispatch::runs_on_tier(1, 1));
    EXPECT_FALSE(dispatch::runs_on_tier(1, 2));
    auto choice = [](const char *kernel, int tier, int kernel_max_tier) {
        KernelChoice c{"hlru", "backward", "cpu", 3, "wide", 1, 1000, 1, 1000, kernel, true, tier};
        c.kernel_max_tier = kernel_max_tier;
        return c;
    };
    const std::vector<KernelChoice> cs{choice("avx512_only", 0, 0), choice("avx2_up", 1, 1)};
    auto pick = [&](int tier, int hw) {
        const char *k = dispatch::tuned_choice_in(cs.data(), (int)cs.size(), "hlru", "backward", Device::cpu, 3, 16, 16,
                                                  tier, hw);
        return std::string(k ? k : "none");
    };
    EXPECT_EQ(pick(0, 0), "avx512_only");
    EXPECT_EQ(pick(1, 0), "avx2_up");
    EXPECT_EQ(pick(0, 1), "avx2_up");  // asked for tier 0's choice on an AVX2 CPU: the one that runs
    EXPECT_EQ(pick(2, 2), "none");     // an SSE4.1 CPU: neither has code for it (the default serves)
    KernelEntry k{};
    k.name = "sm_test_variant";
    k.max_cpu_tier = 0;
    EXPECT_TRUE(dispatch::runs_here(k) == (dispatch::running_cpu_tier() == 0));
    k.max_cpu_tier = -1;
    EXPECT_TRUE(dispatch::runs_here(k));
}

// The tiers: the running CPU's own first, then the smaller machines' (nearest first), then the
// bigger machines'; untiered choices (CUDA) always first.
TEST(TuneDispatch, ChoicesOfTheRunningTierComeFirst) {
    using dispatch::choice_rank;
    EXPECT_EQ(choice_rank(0, 0), 0);
    EXPECT_EQ(choice_rank(-1, 1), 0);
    EXPECT_LT(choice_rank(1, 0), choice_rank(2, 0));   // AVX2's winners before SSE4.1's on an AVX-512 CPU
    EXPECT_LT(choice_rank(2, 1), choice_rank(0, 1));   // on an AVX2 CPU: SSE4.1's before AVX-512's
    EXPECT_LT(choice_rank(1, 2), choice_rank(0, 2));   // nearer bigger machines first
    ASSERT_GE(kCpuTiersSize, 1);
    const int run = dispatch::running_cpu_tier();
    EXPECT_GE(run, 0);
    EXPECT_LT(run, kCpuTiersSize);
    EXPECT_EQ(dispatch::parse_tuned_tier(nullptr), run);
    EXPECT_EQ(dispatch::parse_tuned_tier(""), run);
    EXPECT_EQ(dispatch::parse_tuned_tier("0"), 0);
    for (const char *bad : {"-1", "x", "1x", "99"}) {
        const std::string e = error_of([&] { dispatch::parse_tuned_tier(bad); });
        EXPECT_NE(e.find("STATEMIX_TUNED_TIER"), std::string::npos) << bad;
        EXPECT_NE(e.find(kCpuTiers[0].target), std::string::npos) << e;  // lists the tiers
    }
    // Every tier but a host build's names Halide features; the last is the baseline.
    if (kCpuTiersSize > 1) {
        for (int i = 0; i < kCpuTiersSize; i++) EXPECT_GT(kCpuTiers[i].n_features, 0) << kCpuTiers[i].target;
    }
}

// A CPU that has none of the tiers' features (one without AVX2 and FMA under the default targets)
// gets no tier, and the kernels refuse it with an Error naming the targets and the fix, instead of
// running the last target's code into an illegal instruction (Halide's multi-target fallback).
TEST(TuneDispatch, ACpuBelowEveryTierIsNamedNotRun) {
    auto has = [](int f) {
        uint64_t mask[(halide_target_feature_end + 63) / 64] = {};
        mask[f / 64] |= uint64_t(1) << (f % 64);
        return halide_can_use_target_features((int)(sizeof(mask) / sizeof(mask[0])), mask) != 0;
    };
    int lacking = -1;
    for (int f : {halide_target_feature_avx512_sapphirerapids, halide_target_feature_avx512_zen5,
                  halide_target_feature_avx10_1, halide_target_feature_avx512, halide_target_feature_avx2}) {
        if (!has(f)) {
            lacking = f;
            break;
        }
    }
    if (lacking < 0) GTEST_SKIP() << "this CPU has every feature the test could name as missing";
    const int lack[] = {halide_target_feature_sse41, lacking}, base[] = {halide_target_feature_sse41};
    const CpuTier none[] = {{"x86-64-linux-lacking", lack, 2}};
    EXPECT_EQ(dispatch::cpu_tier_in(none, 1), -1);
    const CpuTier two[] = {{"x86-64-linux-lacking", lack, 2}, {"x86-64-linux-sse41", base, 1}};
    EXPECT_EQ(dispatch::cpu_tier_in(two, 2), 1);
    const CpuTier host[] = {{"host", nullptr, 0}};
    EXPECT_EQ(dispatch::cpu_tier_in(host, 1), 0);
    const std::string e = dispatch::unsupported_cpu_message(none, 1);
    EXPECT_NE(e.find("x86-64-linux-lacking"), std::string::npos) << e;
    EXPECT_NE(e.find("STATEMIX_CPU_TARGETS"), std::string::npos) << e;
    // This build's tiers: the machine that runs the tests runs one of them.
    EXPECT_EQ(dispatch::cpu_tier_in(kCpuTiers, kCpuTiersSize), dispatch::running_cpu_tier());
}

// The build's choices, per tier: for a key tuned on two tiers, each tier's query returns its own
// tier's kernel, and an untuned tier gets the nearest tier's.
TEST(TuneDispatch, EachTierTakesItsOwnChoice) {
    int pairs = 0;
    for (int i = 0; i < kKernelChoicesSize; i++) {
        const KernelChoice &c = kKernelChoices[i];
        if (!c.tuned || c.cpu_tier < 0 || std::strcmp(c.device, "cpu") != 0 || !choice_runs_here(c)) continue;
        const int64_t lanes = std::max<int64_t>(1, c.lanes_min), T = std::max<int64_t>(1, c.t_min);
        if (!outranked(c, c.cpu_tier)) {
            EXPECT_STREQ(dispatch::tuned_choice(c.layer, c.direction, Device::cpu, c.m, lanes, T, c.cpu_tier), c.kernel)
                << c.layer << " " << c.direction << " m=" << c.m << " " << c.bucket << " tier " << c.cpu_tier;
        }
        for (int t = 0; t < kCpuTiersSize; t++) {
            if (t != c.cpu_tier && !outranked(c, t)) {
                EXPECT_STREQ(dispatch::tuned_choice(c.layer, c.direction, Device::cpu, c.m, lanes, T, t), c.kernel);
            }
        }
        pairs++;
    }
    if (pairs == 0) GTEST_SKIP() << "this build has no tiered CPU choices";
}

// The dispatch the build derived from the checked-in database: every choice names a compiled
// kernel of its own (layer, direction, device, m), and select_kernel returns the one of the
// running CPU's tier (or the nearest tier's) for a shape in its bucket.
TEST(TuneDispatch, ChoicesNameCompiledKernelsAndSelectKernelUsesThem) {
    int checked = 0;
    for (int i = 0; i < kKernelChoicesSize; i++) {
        const KernelChoice &c = kKernelChoices[i];
        if (!c.tuned) continue;
        if (std::strncmp(c.kernel, "impl=", 5) == 0) {  // the persistent CUDA RNN forward's run-time knobs
            EXPECT_NO_THROW(parse_rnn_cuda_options(c.kernel)) << c.kernel;
            continue;
        }
        const KernelEntry *k = nullptr;
        for (int j = 0; j < kKernelTableSize; j++) {
            if (std::strcmp(kKernelTable[j].name, c.kernel) == 0) k = &kKernelTable[j];
        }
        ASSERT_NE(k, nullptr) << c.kernel;
        EXPECT_STREQ(k->layer, c.layer);
        EXPECT_STREQ(k->device, c.device);
        EXPECT_EQ(k->m, c.m);
        EXPECT_EQ(k->max_cpu_tier, c.kernel_max_tier) << c.kernel;
        if (!choice_runs_here(c) || outranked(c, dispatch::cpu_tier())) continue;  // another tier's choice serves this CPU
        if (is_rnn(c.layer)) {
            // An RNN op's choice: a step kernel or the one-launch kernel of that op, which the
            // op's automatic choice takes at a shape in the bucket.
            EXPECT_STREQ(stepped::op_direction(k->direction), c.direction) << c.kernel;
            const int64_t H = std::max<int64_t>(1, c.lanes_min), T = std::max<int64_t>(1, c.t_min);
            stepped::set_cpu_impl(stepped::Impl::automatic);
            std::string picked;
            if (!std::strcmp(c.direction, "backward")) {
                const stepped::BackwardKernels bk = stepped::choose_backward("test", c.layer, 1, H, T);
                picked = bk.step ? bk.step->name : stepped::one_launch_kernel("test", c.layer, "backward", c.m, 1, H, T).name;
            } else {
                const char *sd = !std::strcmp(c.direction, "forward_train") ? "step_train" : "step";
                const KernelEntry *sk = stepped::choose("test", c.layer, sd, c.m, 1, H, T);
                picked = sk ? sk->name : stepped::one_launch_kernel("test", c.layer, c.direction, c.m, 1, H, T).name;
            }
            stepped::clear_cpu_impl();
            EXPECT_EQ(picked, c.kernel);
            checked++;
            continue;
        }
        EXPECT_STREQ(k->direction, c.direction);
        if (std::strcmp(c.device, "cpu") != 0) continue;
        ScanConfig cfg;
        cfg.layer = parse_layer(c.layer);
        cfg.m = c.m;
        // The smallest shape of the bucket: lanes_min (rounded up to whole blocks), t_min.
        const int64_t per_n = cfg.layer == Layer::bdlru ? c.m : 1;
        ScanDims d{1, std::max<int64_t>(1, c.t_min), std::max<int64_t>(1, (c.lanes_min + per_n - 1) / per_n), c.m};
        EXPECT_STREQ(select_kernel(cfg, c.direction, Device::cpu, d).name, c.kernel) << c.bucket;
        checked++;
    }
    if (checked == 0) GTEST_SKIP() << "this build has no tuned choices (no database entries for its target)";
}

// The tuner runs an RNN candidate through the runtime's ops by dispatch::ScopedKernelOverride:
// the op takes it (here the build's Elman step kernel behind a counting wrapper, as a JIT
// candidate is called) even where the rule of thumb picks the one-launch kernel, the result is
// the same, and the rule is back after the scope.
const KernelEntry *g_inner = nullptr;
int g_calls = 0;
int counted_call(const void *, void **args) {
    g_calls++;
    return g_inner->argv(args);
}

TEST(TuneDispatch, RnnOpsRunTheOverride) {
    g_inner = dispatch::find_kernel_or_null("elman", "step", Device::cpu, 0);
    if (!g_inner) GTEST_SKIP() << "this build has no Elman step kernel";
    KernelEntry counted = *g_inner;
    counted.name = "counted step";
    counted.call = counted_call;
    counted.jit_metadata = g_inner->metadata();
    stepped::set_cpu_impl(stepped::Impl::automatic);
    const int64_t B = 2, T = 5, H = 8;  // H < 512: the rule picks one launch
    std::vector<float> u((size_t)(B * T * H)), W((size_t)(H * H));
    for (size_t i = 0; i < u.size(); i++) u[i] = std::sin(0.3f * (float)i);
    for (size_t i = 0; i < W.size(); i++) W[i] = 0.2f * std::cos(0.7f * (float)i);
    const Tensor ut = Tensor::from_host({B, T, H}, u.data()), Wt = Tensor::from_host({H, H}, W.data());
    g_calls = 0;
    const RnnForwardResult want = elman_forward(ut, Wt, nullptr);
    EXPECT_EQ(g_calls, 0);
    EXPECT_NE(stepped::describe("elman", 0, B, H, T).find("scan"), std::string::npos);
    {
        dispatch::ScopedKernelOverride use(counted);
        EXPECT_NE(stepped::describe("elman", 0, B, H, T).find("counted step"), std::string::npos);
        const RnnForwardResult got = elman_forward(ut, Wt, nullptr);
        EXPECT_EQ(g_calls, T);
        double err = 0;
        for (int64_t i = 0; i < got.h.numel(); i++) err = std::max(err, (double)std::abs(got.h.data()[i] - want.h.data()[i]));
        EXPECT_LT(err, 1e-5);
    }
    EXPECT_NE(stepped::describe("elman", 0, B, H, T).find("scan"), std::string::npos);
    stepped::clear_cpu_impl();
}

}  // namespace
}  // namespace statemix::tune
