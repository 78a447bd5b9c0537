// `statemix apply` end to end: .npy files in (float32 and float64), the binary run as a user
// would, .npy files out, compared with the float64 reference; and its errors on bad input.
#include "reference/scan_reference.h"
#include "runtime/kernel_registry.h"
#include "runtime/dispatch.h"
#include "runtime/scan_ops.h"
#include "runtime/npy.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <random>
#include <set>
#include <string>
#include <vector>

#ifndef STATEMIX_CLI
#error "STATEMIX_CLI (path of the statemix binary) must be defined by the build"
#endif

namespace {

struct Result {
    int status;
    std::string output;  // stdout + stderr
};

Result run_cli(const std::string &args) {
    std::string cmd = std::string(STATEMIX_CLI) + " " + args + " 2>&1";
    Result r{-1, ""};
    FILE *p = popen(cmd.c_str(), "r");
    if (!p) return r;
    std::array<char, 512> buf;
    while (fgets(buf.data(), buf.size(), p)) r.output += buf.data();
    int st = pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
}

std::string temp_dir(const std::string &name) {
    std::string d = ::testing::TempDir() + "statemix_cli_" + name + "_" + std::to_string(getpid());
    mkdir(d.c_str(), 0777);
    return d;
}

std::vector<double> randn(size_t n, std::mt19937 &rng) {
    std::normal_distribution<double> nd;
    std::vector<double> v(n);
    for (auto &x : v) x = nd(rng);
    return v;
}

double max_abs_diff(const std::vector<float> &a, const std::vector<double> &b) {
    double e = a.size() == b.size() ? 0.0 : INFINITY;
    for (size_t i = 0; i < a.size() && i < b.size(); i++) e = std::max(e, std::abs(a[i] - b[i]));
    return e;
}

TEST(Cli, ApplyBdlruForwardAndBackwardMatchReference) {
    const int B = 2, T = 9, N = 3, m = 2;
    const std::string d = temp_dir("bdlru");
    std::mt19937 rng(3);
    auto z = randn(B * T * N * m * (m + 1), rng), v = randn(B * T * N * m, rng), h0 = randn(B * N * m, rng),
         g = randn(B * T * N * m, rng);
    // float64 inputs for v and z, float32 for the others: both are accepted.
    statemix::npy::write_f64(d + "/z.npy", {B, T, N, m, m + 1}, z.data());
    statemix::npy::write_f64(d + "/v.npy", {B, T, N, m}, v.data());
    std::vector<float> h0f(h0.begin(), h0.end()), gf(g.begin(), g.end());
    statemix::npy::write(d + "/h0.npy", {B, N, m}, h0f.data());
    statemix::npy::write(d + "/g.npy", {B, T, N, m}, gf.data());
    // The reference sees the values the kernel sees (float32).
    for (auto *x : {&z, &v}) for (auto &e : *x) e = (float)e;
    for (size_t i = 0; i < h0.size(); i++) h0[i] = h0f[i];
    for (size_t i = 0; i < g.size(); i++) g[i] = gf[i];

    Result r = run_cli("apply bdlru --m 2 --norm sigmoid_l1 --in v=" + d + "/v.npy --in z=" + d + "/z.npy --in h0=" + d +
                       "/h0.npy --in g=" + d + "/g.npy --out " + d + "/out");
    ASSERT_EQ(r.status, 0) << r.output;

    using statemix::ref::Norm;
    std::vector<double> h(v.size()), hf(h0.size()), dz(z.size()), dv(v.size()), dh0(h0.size());
    statemix::ref::bdlru_forward(B, T, N, m, Norm::sigmoid_l1, z.data(), v.data(), h0.data(), h.data(), hf.data());
    statemix::ref::bdlru_backward<double>(B, T, N, m, Norm::sigmoid_l1, z.data(), v.data(), h0.data(), g.data(), nullptr,
                                  dz.data(), dv.data(), dh0.data());
    struct Check {
        const char *file;
        const std::vector<double> *want;
        std::vector<int64_t> shape;
    } checks[] = {{"h", &h, {B, T, N, m}},       {"h_final", &hf, {B, N, m}}, {"dz", &dz, {B, T, N, m, m + 1}},
                  {"dv", &dv, {B, T, N, m}},     {"dh0", &dh0, {B, N, m}}};
    for (const Check &c : checks) {
        auto a = statemix::npy::read(d + "/out/" + c.file + ".npy");
        EXPECT_EQ(a.shape, c.shape) << c.file;
        EXPECT_LT(max_abs_diff(a.data, *c.want), 1e-4) << c.file;
    }
}

TEST(Cli, ApplyHlruForwardOnlyWritesTwoFiles) {
    const int B = 1, T = 7, N = 5, m = 2;
    const std::string d = temp_dir("hlru");
    std::mt19937 rng(4);
    auto z = randn(B * T * N * (m + 1), rng), v = randn(B * T * N, rng);
    std::vector<float> zf(z.begin(), z.end()), vf(v.begin(), v.end());
    statemix::npy::write(d + "/z.npy", {B, T, N, m + 1}, zf.data());
    statemix::npy::write(d + "/v.npy", {B, T, N}, vf.data());
    Result r = run_cli("apply hlru --m 2 --in v=" + d + "/v.npy --in z=" + d + "/z.npy --out " + d + "/out");
    ASSERT_EQ(r.status, 0) << r.output;
    std::vector<double> zd(zf.begin(), zf.end()), vd(vf.begin(), vf.end()), s(v.size()), hf(B * N * m);
    statemix::ref::hlru_forward<double>(B, T, N, m, statemix::ref::Norm::softmax, zd.data(), vd.data(), nullptr, s.data(),
                                hf.data());
    auto a = statemix::npy::read(d + "/out/h.npy");
    EXPECT_EQ(a.shape, (std::vector<int64_t>{B, T, N}));
    EXPECT_LT(max_abs_diff(a.data, s), 1e-5);
    EXPECT_LT(max_abs_diff(statemix::npy::read(d + "/out/h_final.npy").data, hf), 1e-5);
    struct stat st;
    EXPECT_NE(stat((d + "/out/dz.npy").c_str(), &st), 0) << "no g given, so no gradients written";
}

TEST(Cli, BadInputGivesClearErrorsAndNonZeroExit) {
    const std::string d = temp_dir("bad");
    std::vector<float> x(2 * 3 * 4 * 2 * 3, 0.5f);
    statemix::npy::write(d + "/z.npy", {2, 3, 4, 2, 3}, x.data());
    statemix::npy::write(d + "/v_bad.npy", {2, 3, 4, 3}, x.data());
    {
        std::ofstream f(d + "/garbage.npy");
        f << "not a numpy file";
    }
    struct Case {
        std::string args, phrase;
    } cases[] = {
        {"apply bdlru --m 2 --in v=" + d + "/v_bad.npy --in z=" + d + "/z.npy --out " + d + "/o1", "'v'"},
        {"apply bdlru --m 2 --in v=" + d + "/missing.npy --in z=" + d + "/z.npy --out " + d + "/o2", "missing.npy"},
        {"apply bdlru --m 2 --in v=" + d + "/garbage.npy --in z=" + d + "/z.npy --out " + d + "/o3", "garbage.npy"},
        {"apply bdlru --m 2 --in z=" + d + "/z.npy --out " + d + "/o4", "missing required input 'v'"},
        {"apply bdlru --m 2 --in q=" + d + "/z.npy --out " + d + "/o5", "unknown input 'q'"},
        {"apply bdlru --m 7 --in v=" + d + "/v_bad.npy --in z=" + d + "/z.npy --out " + d + "/o6", "m"},
        {"apply bdlru --m 2 --norm softmin --in v=a --in z=b --out " + d + "/o7", "softmin"},
        // Shapes past Halide's 32-bit indexing (issue #11: these used to end in a segmentation fault).
        {"bench --layers bdlru --orders 1 --devices cpu --batch 100000 --seq 100000 --reps 1 --no-reference", "2^31 - 1"},
        {"bench --layers bdlru --orders 1 --devices cpu --batch 1 --seq 1100000 --width 4096 --reps 1 --no-reference",
         "2^31 - 1"},
        {"lyapunov --model elman --residual scalar --a 0.5 --eps 0 --hidden 50000 --steps 10 --warmup 1", "2^31 - 1"},
    };
    for (const Case &c : cases) {
        Result r = run_cli(c.args);
        EXPECT_NE(r.status, 0) << c.args;
        EXPECT_NE(r.output.find(c.phrase), std::string::npos) << c.args << "\n" << r.output;
    }
    struct stat st;
    EXPECT_NE(stat((d + "/o1").c_str(), &st), 0) << "a failed run writes nothing";
}

}  // namespace

namespace {

// `statemix bench ARGS --json FILE` in a fresh directory named after `name`; json: FILE's text.
Result run_bench(const std::string &name, const std::string &args, std::string &json) {
    const std::string file = temp_dir(name) + "/rows.json";
    Result r = run_cli("bench " + args + " --json " + file);
    std::ifstream f(file);
    json.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    return r;
}

// A tiny bench run: the rows it promises (fwd, bwd, fwd+bwd per algorithm) with positive
// throughput, a copy ceiling and a reference time. (Speed itself is in docs/, not in tests.)
TEST(Cli, BenchWritesRowsWithCeilingAndReference) {
    std::string json;
    Result r = run_bench("bench", "--layers bdlru --orders 2 --devices cpu --batch 2 --seq 64 --width 16 --reps 1", json);
    ASSERT_EQ(r.status, 0) << r.output;
    for (const char *key : {"\"fwd\"", "\"bwd\"", "\"fwd+bwd\"", "\"chunked\"", "\"sequential\"", "copy_gbps", "reference_ms"}) {
        EXPECT_NE(json.find(key), std::string::npos) << key << "\n" << json.substr(0, 400);
    }
    EXPECT_NE(r.output.find("%copy"), std::string::npos) << r.output;
    // The ceiling line: best sample, how many, their spread (interleaved with the kernel runs).
    EXPECT_NE(r.output.find("cpu ceiling: "), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("samples interleaved with the kernels; spread"), std::string::npos) << r.output;
}

// An --orders value no scan layer asked for compiles is an error naming it and the compiled
// ones, not an empty table (it was: the bench timed nothing and exited 0).
TEST(Cli, BenchRefusesOrdersNotCompiled) {
    for (const char *m : {"0", "1000"}) {
        Result r = run_cli(std::string("bench --layers hlru,bdlru --orders 2,") + m + " --devices cpu --batch 1 --seq 4 --width 16 --reps 1");
        EXPECT_NE(r.status, 0) << r.output;
        EXPECT_NE(r.output.find(std::string("--orders: m = ") + m + " is not compiled for hlru, bdlru; compiled: 1, 2"),
                  std::string::npos) << r.output;
    }
    // The RNN cores are not named among the layers the order is missing from.
    Result mixed = run_cli("bench --layers bdlru,elman --orders 9 --devices cpu --batch 1 --seq 4 --width 16 --reps 1");
    EXPECT_NE(mixed.status, 0) << mixed.output;
    EXPECT_NE(mixed.output.find("m = 9 is not compiled for bdlru; compiled: 1, 2"), std::string::npos) << mixed.output;
    Result cores = run_cli("bench --layers elman --orders 2 --devices cpu --batch 1 --seq 4 --width 16 --reps 1");
    EXPECT_NE(cores.status, 0) << cores.output;
    EXPECT_NE(cores.output.find("--orders applies to the scan layers"), std::string::npos) << cores.output;
}

// --variants: one row for every kernel the build compiled for the layer, device and m (the
// dispatch's choices and all the others, time-major ones named so), each direction.
TEST(Cli, BenchVariantsTimesEveryCompiledKernel) {
    std::string json;
    Result r = run_bench("bench_variants", "--layers bdlru --orders 2 --devices cpu --algorithms sequential --batch 2 "
                                           "--seq 16 --width 16 --reps 1 --no-reference --no-peers --variants", json);
    ASSERT_EQ(r.status, 0) << r.output;
    std::set<std::string> seen;
    bool time_major_row = false;
    for (const auto &row : nlohmann::json::parse(json)) {
        if (row["direction"] == "fwd+bwd") continue;
        EXPECT_GT(row["ms"].get<double>(), 0.0) << row.dump();
        seen.insert(row["kernel"].get<std::string>());
        time_major_row = time_major_row || row["algorithm"] == "time_major";
        // The printed table names each row's kernel too (its last column): the rows of one
        // layer, m and direction differ by nothing else.
        EXPECT_NE(r.output.find("  " + row["kernel"].get<std::string>() + "\n"), std::string::npos) << row.dump() << "\n" << r.output;
    }
    int compiled = 0;
    bool has_tm = false;
    for (int i = 0; i < statemix::kKernelTableSize; i++) {
        const statemix::KernelEntry &k = statemix::kKernelTable[i];
        if (std::string(k.layer) != "bdlru" || std::string(k.device) != "cpu" || k.m != 2) continue;
        if (!statemix::dispatch::runs_here(k)) continue;  // a bigger CPU tier's winner: bench skips it here
        compiled++;
        has_tm = has_tm || statemix::is_time_major(k);
        EXPECT_TRUE(seen.count(k.name)) << k.name << " has no row\n" << r.output;
    }
    EXPECT_EQ((int)seen.size(), compiled) << r.output;
    EXPECT_GT(compiled, 2);  // the default of each direction and at least one other
    EXPECT_EQ(time_major_row, has_tm) << r.output;
}

}  // namespace

namespace {

// `apply wcrnn` with a scalar residual: h_t = a·h_{t-1} + ε·tanh(W h_{t-1} + u_t), checked here by
// the plain loop; with g, the gradient files are written with the right shapes.
TEST(Cli, ApplyWcrnnMatchesPlainLoop) {
    const int B = 2, T = 6, H = 5;
    const double a = 0.9, eps = 0.1;
    const std::string d = temp_dir("wcrnn");
    std::mt19937 rng(9);
    auto u = randn(B * T * H, rng), W = randn(H * H, rng), g = randn(B * T * H, rng);
    std::vector<float> uf(u.begin(), u.end()), Wf(W.begin(), W.end()), gf(g.begin(), g.end()), af{(float)a};
    statemix::npy::write(d + "/u.npy", {B, T, H}, uf.data());
    statemix::npy::write(d + "/W.npy", {H, H}, Wf.data());
    statemix::npy::write(d + "/a.npy", {1}, af.data());
    statemix::npy::write(d + "/g.npy", {B, T, H}, gf.data());
    Result r = run_cli("apply wcrnn --residual scalar --eps 0.1 --act tanh --in u=" + d + "/u.npy --in W=" + d +
                       "/W.npy --in a=" + d + "/a.npy --in g=" + d + "/g.npy --out " + d + "/out");
    ASSERT_EQ(r.status, 0) << r.output;
    std::vector<double> want(B * T * H);
    for (int b = 0; b < B; b++) {
        std::vector<double> h(H, 0.0), next(H);
        for (int t = 0; t < T; t++) {
            for (int i = 0; i < H; i++) {
                double acc = uf[(b * T + t) * H + i];
                for (int k = 0; k < H; k++) acc += Wf[i * H + k] * h[k];
                next[i] = a * h[i] + eps * std::tanh(acc);
            }
            h = next;
            for (int i = 0; i < H; i++) want[(b * T + t) * H + i] = h[i];
        }
    }
    auto got = statemix::npy::read(d + "/out/h.npy");
    EXPECT_EQ(got.shape, (std::vector<int64_t>{B, T, H}));
    EXPECT_LT(max_abs_diff(got.data, want), 1e-5);
    EXPECT_EQ(statemix::npy::read(d + "/out/dW.npy").shape, (std::vector<int64_t>{H, H}));
    EXPECT_EQ(statemix::npy::read(d + "/out/du.npy").shape, (std::vector<int64_t>{B, T, H}));
    // a as a 0-d array (what np.save("a.npy", 0.9) writes): the same result.
    statemix::npy::write(d + "/a0.npy", {}, af.data());
    Result r0 = run_cli("apply wcrnn --residual scalar --eps 0.1 --act tanh --in u=" + d + "/u.npy --in W=" + d +
                        "/W.npy --in a=" + d + "/a0.npy --out " + d + "/out0");
    ASSERT_EQ(r0.status, 0) << r0.output;
    EXPECT_EQ(statemix::npy::read(d + "/out0/h.npy").data, got.data);
    Result bad = run_cli("apply wcrnn --residual rotation --in u=" + d + "/u.npy --in W=" + d + "/W.npy --out " + d + "/o2");
    EXPECT_NE(bad.status, 0);
    EXPECT_NE(bad.output.find("rotation"), std::string::npos) << bad.output;
}

// `lyapunov` with ε = 0 and ρ = a·Q: every exponent is log a (spec §7's first check), printed.
TEST(Cli, LyapunovPrintsTheSpectrum) {
    const std::string d = temp_dir("lyap");
    Result r = run_cli("lyapunov --residual orthogonal --a 0.9 --eps 0 --hidden 6 --steps 300 --warmup 50 --json " + d +
                       "/spec.json");
    ASSERT_EQ(r.status, 0) << r.output;
    std::ifstream f(d + "/spec.json");
    std::string json((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    EXPECT_NE(json.find("\"exponents\""), std::string::npos) << json;
    EXPECT_NE(r.output.find("-0.105361"), std::string::npos) << "log(0.9) = -0.105361\n" << r.output;
    Result bad = run_cli("lyapunov --steps 10 --warmup 20");
    EXPECT_NE(bad.status, 0);
    EXPECT_NE(bad.output.find("--steps"), std::string::npos) << bad.output;
}

// `lyapunov --model elman`: W from the weakly coupled init R + ε·W0 with R = 0.5·I and ε = 0,
// driven by (almost) no noise, stays at h = 0 where J = tanh'(0)·W = 0.5·I: every exponent is
// log 0.5 (a residual or ε left in the Elman mapping would move them).
TEST(Cli, LyapunovElmanModel) {
    Result r = run_cli("lyapunov --model elman --residual scalar --a 0.5 --eps 0 --hidden 4 --steps 200 --warmup 20 "
                       "--noise 1e-20");
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("model=elman"), std::string::npos) << r.output;
    size_t n = 0;
    for (size_t at = r.output.find("-0.693147"); at != std::string::npos; at = r.output.find("-0.693147", at + 1)) n++;
    EXPECT_EQ(n, 4u) << "log(0.5) = -0.693147 four times\n" << r.output;
    Result bad = run_cli("lyapunov --model gru");
    EXPECT_NE(bad.status, 0);
    EXPECT_NE(bad.output.find("--model"), std::string::npos) << bad.output;
}

// `tune` sweeps the persistent CUDA forward: without a GPU it says so and fails; bad --layer too.
TEST(Cli, TuneNeedsAGpuAndAValidLayer) {
    Result r = run_cli("tune --layer elman --batch 2 --seq 4 --width 8 --reps 1");
    if (r.status == 0) {
        EXPECT_NE(r.output.find("fastest"), std::string::npos) << r.output;
    } else {
        EXPECT_NE(r.output.find("GPU"), std::string::npos) << r.output;
    }
    Result bad = run_cli("tune --layer lstm --width 8");
    EXPECT_NE(bad.status, 0);
    EXPECT_NE(bad.output.find("--layer"), std::string::npos) << bad.output;
    EXPECT_NE(bad.output.find("lstm"), std::string::npos) << bad.output;
}

// `tune scan ...` hands over to the autotuner next to the binary (autotune/), with its arguments.
TEST(Cli, TuneScanHandsOverToTheTuner) {
    Result r = run_cli("tune scan target");
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("x86-64-linux"), std::string::npos) << r.output;
    Result bad = run_cli("tune scan run --layers gru --orders 1 --db /nonexistent/tuning.json --quiet");
    EXPECT_NE(bad.status, 0);
    EXPECT_NE(bad.output.find("'gru'"), std::string::npos) << bad.output;
    // The RNN cores are tuned too, with their own m (the WCRNN residual's block size; 0 otherwise).
    Result bad_m = run_cli("tune scan run --layers lstm --orders 1 --db /nonexistent/tuning.json --quiet");
    EXPECT_NE(bad_m.status, 0);
    EXPECT_NE(bad_m.output.find("lstm has m = 0, got 1"), std::string::npos) << bad_m.output;
}

// A scan knob out of its range is refused by the generator with a message naming it (Halide 21
// does not enforce a GeneratorParam's min and max: m=0 used to reach a division by zero), and
// the tuner reports that candidate as not compiling.
TEST(Cli, TuneRefusesScanKnobsOutOfRange) {
    for (const std::string &knob : {"gates_n_inner=2", "unroll_rows=7", "tile=0"}) {
        const std::string want = knob + (knob == "tile=0" ? ": expected 1 or more" : ": expected -1 to 1");
        Result r = run_cli("tune scan measure --layers bdlru --orders 2 --directions backward --shape 2x16x16 --reps 1 "
                           "--quiet --params \"" + knob + "\"");
        EXPECT_NE(r.output.find("does not compile: " + want), std::string::npos) << knob << "\n" << r.output;
    }
    // A bool knob given something else: the configuration and the value named.
    Result flag = run_cli("tune scan measure --layers bdlru --orders 2 --directions backward --shape 2x16x16 --reps 1 "
                          "--quiet --params \"gates_per_vector=2\"");
    EXPECT_NE(flag.output.find("gates_per_vector=2] does not compile: Error: Unable to parse bool: 2"), std::string::npos)
        << flag.output;
    // A knob that the algorithm asked for cannot take: named, with what it needs.
    Result rows = run_cli("tune scan measure --layers bdlru --orders 2 --directions forward --shape 2x16x16 --reps 1 "
                          "--quiet --params \"algorithm=chunked vector_rows=true\"");
    EXPECT_NE(rows.output.find("does not compile: bdlru_forward: vector_rows needs algorithm=sequential"), std::string::npos)
        << rows.output;
    // The in-register transpose of the logits wants one block of a power-of-two m per vector.
    Result tr = run_cli("tune scan measure --layers bdlru --orders 3 --directions forward --shape 2x16x18 --reps 1 "
                        "--quiet --params \"vector_rows=true vector_width=1 transpose_logits=true\"");
    EXPECT_NE(tr.output.find("does not compile: bdlru_forward: transpose_logits needs vector_rows=true, vector_width=1 "
                             "(one block per vector), m a power of two >= 2 and a CPU target; got vector_rows=true, "
                             "vector_width=1, m=3"),
              std::string::npos)
        << tr.output;
    // A row's logits in the lanes (the backward): the one-pass sequential form, m a power of two.
    for (const char *bad : {"two_pass=true", "vector_rows=true", "algorithm=chunked"}) {
        Result vl = run_cli("tune scan measure --layers bdlru --orders 8 --directions backward --shape 2x16x16 --reps 1 "
                            "--quiet --params \"vector_logits=true " + std::string(bad) + "\"");
        EXPECT_NE(vl.output.find("does not compile: bdlru_backward: vector_logits needs the one-pass sequential form "
                                 "(two_pass=false, algorithm=sequential) on a CPU target, vector_rows=false and m a "
                                 "power of two >= 4; got m=8"),
                  std::string::npos)
            << bad << "\n" << vl.output;
    }
    Result vl5 = run_cli("tune scan measure --layers bdlru --orders 5 --directions backward --shape 2x16x15 --reps 1 "
                         "--quiet --params \"vector_logits=true\"");
    EXPECT_NE(vl5.output.find("vector_logits needs"), std::string::npos) << vl5.output;
    EXPECT_NE(vl5.output.find("got m=5"), std::string::npos) << vl5.output;
    // ... and the sequential scan: the chunked form's rescan reads the logits unshuffled.
    Result trc = run_cli("tune scan measure --layers bdlru --orders 2 --directions forward --shape 2x16x16 --reps 1 "
                         "--quiet --params \"algorithm=chunked transpose_logits=true\"");
    EXPECT_NE(trc.output.find("does not compile: bdlru_forward: transpose_logits needs algorithm=sequential"),
              std::string::npos)
        << trc.output;
}

// `tune scan measure` of `candidates` candidates of one kernel (`args`: everything after
// "measure"; two by default): each must pass the tuner's float64 reference check and be timed.
// Returns the output.
std::string expect_both_measured(const std::string &what, const std::string &args, size_t candidates = 2) {
    Result r = run_cli("tune scan measure " + args);
    EXPECT_EQ(r.status, 0) << what << "\n" << r.output;
    size_t timed = 0;
    for (size_t at = r.output.find(" ms  spread"); at != std::string::npos; at = r.output.find(" ms  spread", at + 1)) timed++;
    EXPECT_EQ(timed, candidates) << what << ": each passes the reference check and runs\n" << r.output;
    return r.output;
}

// The BD-LRU forward with each block's logits transposed in registers (transpose_logits) passes
// the tuner's float64 reference check (odd block counts, 37 steps and 1) and runs, next to the same
// schedule without it, at m = 2, 4 and 8 (one, two and three perfect shuffles).
TEST(Cli, TuneMeasuresTheForwardWithItsLogitsTransposed) {
    for (int m : {2, 4, 8}) {
        expect_both_measured("m = " + std::to_string(m),
                             "--layers bdlru --orders " + std::to_string(m) + " --directions forward --shape 3x17x" +
                                 std::to_string(5 * m) + " --reps 1 --quiet "
                                 "--params \"tile=64 vector_rows=true vector_width=1 transpose_logits=true\" "
                                 "--params \"tile=64 vector_rows=true vector_width=1\"");
    }
}

// The forward with several vectors per iteration of its vector loop (unroll) passes the tuner's
// float64 reference check and runs: BD-LRU with the rows in the lanes at m = 2, 5 and 16 (16 with
// its logits transposed, two vectors per iteration), batch-major and time-major, 13 blocks (the
// last vector shifted inwards) in tiles of 16 whose 5 vectors of 3 blocks end off the factor 4
// (m = 16: 13 vectors of one, off 2); and H-LRU with the channels in the lanes (lanes_over_n),
// unrolled 3 times, 56 channels in vectors of 8.
TEST(Cli, TuneMeasuresTheForwardWithVectorsUnrolled) {
    for (int m : {2, 5, 16}) {
        const std::string rows = m == 16 ? "vector_rows=true vector_width=1 transpose_logits=true unroll=2"
                                         : "vector_rows=true vector_width=3 unroll=4";
        expect_both_measured("m = " + std::to_string(m),
                             "--layers bdlru --orders " + std::to_string(m) + " --directions forward --shape 3x17x" +
                                 std::to_string(13 * m) + " --reps 1 --quiet --params \"tile=16 " + rows + "\" "
                                 "--params \"tile=16 " + rows + " time_major=true batch_rows=2\"");
    }
    expect_both_measured("hlru", "--layers hlru --orders 3 --directions forward --shape 3x17x56 --reps 1 --quiet "
                                 "--params \"tile=32 vector_width=8 unroll=3\" --params \"tile=32 vector_width=8\"");
}

// On a CPU only the sequential forward takes unroll (a tile's vectors per iteration): the
// backward and the chunked forward refuse it, naming the value.
TEST(Cli, TuneRefusesUnrollOutsideTheCpuForward) {
    Result bwd = run_cli("tune scan measure --layers bdlru --orders 2 --directions backward --shape 2x16x16 --reps 1 "
                         "--quiet --params \"unroll=2\"");
    EXPECT_NE(bwd.output.find("does not compile: the backward: unroll=2 on a CPU target: only the sequential forward "
                              "unrolls its loop over vectors (algorithm=sequential); expected unroll=1"),
              std::string::npos)
        << bwd.output;
    Result ch = run_cli("tune scan measure --layers hlru --orders 2 --directions forward --shape 2x16x16 --reps 1 "
                        "--quiet --params \"algorithm=chunked unroll=4\"");
    EXPECT_NE(ch.output.find("does not compile: the chunked forward: unroll=4 on a CPU target"), std::string::npos)
        << ch.output;
}

// prefetch is read by two loops only: the sequential forward's (the step_prefetch.h pass) and the
// batch-major one-pass backward's. Every other form refuses it, naming the value and the form,
// instead of building a kernel its name misdescribes; the two that take it pass the float64
// reference check with a prefetch distance of 3 at 17 steps (the last steps' prefetches point
// past the end of z and v, which a prefetch may) and the forward also at 1 step (every one does).
// (A backward compiles in ~20 s here, so it is measured once.)
TEST(Cli, TuneRefusesPrefetchWhereNothingReadsIt) {
    struct Case {
        std::string args, expected;
    };
    const std::string measure = "tune scan measure --directions ";
    const std::string tail = " --shape 2x16x16 --reps 1 --quiet --params ";
    const std::string only = ": prefetch=1: only the sequential forward and the batch-major one-pass backward";
    for (const Case &c : std::vector<Case>{
             {"forward --layers hlru --orders 2" + tail + "\"algorithm=chunked prefetch=1\"",
              "does not compile: the chunked forward" + only},
             {"backward --layers hlru --orders 2" + tail + "\"algorithm=chunked prefetch=1\"",
              "does not compile: the chunked backward" + only},
             {"backward --layers bdlru --orders 2" + tail + "\"two_pass=true prefetch=1\"",
              "does not compile: the two-pass backward" + only},
             {"backward --layers bdlru --orders 2" + tail + "\"time_major=true batch_rows=2 prefetch=1\"",
              "does not compile: the time-major backward" + only},
             {"backward --layers bdlru --orders 4" + tail + "\"vector_logits=true prefetch=1\"",
              "does not compile: the backward with its logits in the lanes" + only},
         }) {
        Result r = run_cli(measure + c.args);
        EXPECT_NE(r.output.find(c.expected), std::string::npos) << c.args << "\n" << r.output;
    }
    for (const char *steps : {"17", "1"}) {
        expect_both_measured(std::string("forward, T = ") + steps,
                             std::string("--layers hlru --orders 3 --directions forward --shape 3x") + steps +
                                 "x56 --reps 1 --quiet --params \"tile=32 vector_width=8 prefetch=3\" "
                                 "--params \"tile=32 vector_width=8\"");
    }
    expect_both_measured("backward, T = 17",
                         "--layers bdlru --orders 2 --directions backward --shape 3x17x26 --reps 1 --quiet "
                         "--params \"tile=8 prefetch=3\"",
                         1);
}

// The BD-LRU backward with a row's logits in the lanes (vector_logits) passes the tuner's float64
// reference check (odd block counts, 37 steps and 1) and runs, batch-major and time-major, at
// m = 4, 8 and 16 (two, three and four reduction stages); two blocks per task, so tiles end
// ragged. (test_scan_kernels checks the compiled defaults at m = 8 and 16 for every norm.)
TEST(Cli, TuneMeasuresTheBackwardWithLogitsInTheLanes) {
    for (int m : {4, 8, 16}) {
        expect_both_measured("m = " + std::to_string(m),
                             "--layers bdlru --orders " + std::to_string(m) + " --directions backward --shape 3x17x" +
                                 std::to_string(5 * m) + " --reps 1 --quiet "
                                 "--params \"tile=2 vector_logits=true\" "
                                 "--params \"tile=2 vector_logits=true time_major=true batch_rows=2\"");
    }
}

// The one-pass backward's step gates once per tile (gates_per_vector=false, the placement before
// the twenty-ninth session; the default computes them per vector of channels) still compiles and
// agrees with the float64 reference, next to the default, for both layers (a ragged shape: 17
// steps, BD-LRU 16 blocks of 3 rows, H-LRU 48 channels, neither a multiple of the tile).
TEST(Cli, TuneMeasuresTheBackwardWithItsGatesPerTile) {
    for (const std::string layer : {"bdlru", "hlru"}) {
        const std::string out = expect_both_measured(
            layer, "--layers " + layer + " --orders 3 --directions backward --shape 3x17x48 "
                   "--reps 1 --quiet --params \"tile=128 gates_per_vector=false\" --params \"tile=128\"");
        EXPECT_NE(out.find("gates_per_vector=false"), std::string::npos) << out;
    }
}

// `bench` on the RNN cores: fwd, bwd and fwd+bwd rows (LSTM: and fwd-infer) with positive
// throughput, and, where the oneDNN peer was built next to the binary, its rows side by side.
TEST(Cli, BenchRnnCoresWithPeers) {
    std::string json;
    Result r = run_bench("bench_rnn", "--layers elman,wcrnn,lstm --devices cpu --batch 2 --seq 8 --width 16 --reps 1", json);
    ASSERT_EQ(r.status, 0) << r.output;
    const nlohmann::json rows = nlohmann::json::parse(json);
    for (const char *core : {"elman", "wcrnn", "lstm"}) {
        int n = 0;
        for (const auto &row : rows) {
            if (row["layer"] != core || row["peer"] != "") continue;
            EXPECT_GT(row["mtokens_per_s"].get<double>(), 0) << row.dump();
            EXPECT_GT(row["copy_gbps"].get<double>(), 0) << row.dump();
            n++;
        }
        const int want = std::string(core) == "lstm" ? 4 : 3;  // lstm: also the inference forward
        EXPECT_EQ(n, want) << core << " (fwd, bwd, fwd+bwd[, fwd-infer])\n" << r.output;
    }
    const std::string cli = STATEMIX_CLI;
    const std::string peer = cli.substr(0, cli.rfind('/')) + "/statemix_peer_onednn";
    if (access(peer.c_str(), X_OK) == 0) {
        int n = 0;
        for (const auto &row : rows) {
            if (row["peer"] == "") continue;
            EXPECT_GT(row["mtokens_per_s"].get<double>(), 0) << row.dump();
            EXPECT_GT(row["statemix_over_peer"].get<double>(), 0) << row.dump();
            n++;
        }
        EXPECT_EQ(n, 6) << "tanh and lstm, three directions each\n" << r.output;
    }
    Result bad = run_cli("bench --layers elman,foo --devices cpu");
    EXPECT_NE(bad.status, 0);
    EXPECT_NE(bad.output.find("--layers"), std::string::npos) << bad.output;
    EXPECT_NE(bad.output.find("foo"), std::string::npos) << bad.output;
}

}  // namespace

// `statemix train` / `eval` / `lyapunov --checkpoint` as a user runs them.
TEST(CliTrain, TrainEvalAndLyapunovOfATrainedModel) {
    const std::string d = temp_dir("train");
    const std::string cfg = d + "/run.json";
    std::ofstream(cfg) << R"({"model": {"d_model": 8, "n_layers": 1, "mlp": "none",
                                       "mixer": {"kind": "wcrnn", "hidden": 8, "residual": "rotation", "a": 0.9}},
                             "task": {"name": "adding", "seq_len": 12, "n_train": 64, "n_test": 32},
                             "train": {"steps": 4, "batch": 16, "log_every": 2}})";
    Result r = run_cli("train " + cfg + " --out " + d + "/run");
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("test loss"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("step 4/4"), std::string::npos) << r.output;  // the progress line
    Result e = run_cli("eval " + d + "/run");
    ASSERT_EQ(e.status, 0) << e.output;
    EXPECT_NE(e.output.find("eval step 4: test loss"), std::string::npos) << e.output;
    Result l = run_cli("lyapunov --checkpoint " + d + "/run --steps 300 --warmup 50 --json " + d + "/ly.json");
    ASSERT_EQ(l.status, 0) << l.output;
    std::ifstream f(d + "/ly.json");
    nlohmann::json j = nlohmann::json::parse(f);
    EXPECT_EQ(j["hidden"], 8);
    EXPECT_EQ(j["residual"], "rotation");
    ASSERT_EQ(j["exponents"].size(), 8u);
    // ρ = 0.9·rotation, ε = 0.05: every exponent near log 0.9 (spec §7's bound, ε‖W‖ small)
    for (const auto &x : j["exponents"]) EXPECT_NEAR(x.get<double>(), std::log(0.9), 0.1);
    // an LSTM checkpoint has no WCRNN / Elman core
    Result bad = run_cli("lyapunov --checkpoint /nonexistent/run");
    EXPECT_NE(bad.status, 0);
    EXPECT_NE(bad.output.find("/nonexistent/run"), std::string::npos) << bad.output;
}

TEST(CliTrain, BadConfigNamesTheField) {
    const std::string d = temp_dir("train_bad");
    std::ofstream(d + "/bad.json") << R"({"task": {"name": "group"}, "model": {"mixer": {"kind": "bdlru", "m": 2}, "width": 3}})";
    Result r = run_cli("train " + d + "/bad.json --out " + d + "/run");
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.output.find("model.width"), std::string::npos) << r.output;
    std::ofstream(d + "/broken.json") << "{ not json";
    r = run_cli("train " + d + "/broken.json --out " + d + "/run");
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.output.find("broken.json"), std::string::npos) << r.output;
}
