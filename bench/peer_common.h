// What the peer benchmarks (statemix_peer_onednn, statemix_peer_cudnn) share: one command line,
// one row format, one table and one JSON layout, which `statemix bench` parses
// (tools/cmd_bench.cpp). Each peer times one library's own RNN layer (one layer, unidirectional,
// float32, input size C = hidden size H, input [T,B,C]) at the shape it is given.
//
//   statemix_peer_X --cell tanh,lstm --batch B --seq T --hidden H --reps N [--json FILE]
//
// Exit status: 0 when every requested row was measured, 1 when some failed (the others are still
// printed and written), 2 when nothing could run at all (no GPU, bad arguments).
#pragma once

#include "json_file.h"

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace statemix::peer {

struct Options {
    std::vector<std::string> cells = {"tanh", "lstm"};
    int64_t batch = 16, seq = 256, hidden = 256;
    int reps = 5;
    std::string json;
};

// Parses argv into o; returns -1 to go on, else the exit status to return (help or an error,
// already printed; errors name the argument).
inline int parse_options(int argc, char **argv, const std::string &description, Options &o) {
    CLI::App app{description};
    app.add_option("--cell", o.cells, "tanh (vanilla RNN, tanh) and/or lstm")->delimiter(',')
        ->check(CLI::IsMember({"tanh", "lstm"}));
    app.add_option("--batch", o.batch, "B")->capture_default_str()->check(CLI::Range(int64_t(1), int64_t(1) << 20));
    app.add_option("--seq", o.seq, "T")->capture_default_str()->check(CLI::Range(int64_t(1), int64_t(1) << 24));
    app.add_option("--hidden", o.hidden, "H (the input size C is H too)")->capture_default_str()
        ->check(CLI::Range(int64_t(1), int64_t(1) << 16));
    app.add_option("--reps", o.reps, "timed runs (median), after one warm-up")->capture_default_str()
        ->check(CLI::Range(1, 1000));
    app.add_option("--json", o.json, "also write the rows as JSON to this file");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError &e) {
        const int rc = app.exit(e);
        return rc == 0 ? 0 : 2;
    }
    return -1;
}

// One measured row. direction: "fwd" (forward, training mode), "bwd" (backward data + weights
// after that forward), "fwd+bwd" (both, timed together). input_gemm_ms: the time of the input
// projection (x·W_layerᵀ over all steps, and its two backward GEMMs for bwd), measured on its own,
// where the peer measures it (0 = not measured).
struct Row {
    std::string peer, cell, device, direction, variant;
    int64_t B = 0, T = 0, H = 0;
    double ms = 0, input_gemm_ms = 0;
    double mtokens_per_s() const { return B * T / (ms * 1e-3) / 1e6; }
};

inline double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
}

// Median ms of forward, backward and both over `reps` runs after one warm-up. run() does one
// forward then one backward and returns their times in ms as a std::pair.
struct Timings {
    double fwd = 0, bwd = 0, both = 0;
};
template <typename Run>
Timings time_runs(int reps, Run run) {
    std::vector<double> tf, tb, tfb;
    for (int i = 0; i <= reps; i++) {
        const auto [f, b] = run();
        if (i == 0) continue;  // warm-up
        tf.push_back(f);
        tb.push_back(b);
        tfb.push_back(f + b);
    }
    return {median(tf), median(tb), median(tfb)};
}

// The three rows (fwd, bwd, fwd+bwd) of one measurement; `base` holds everything but the times.
inline std::vector<Row> rows_of(const Row &base, const Timings &t, const Timings &input_gemm = {}) {
    std::vector<Row> rows(3, base);
    const char *dirs[3] = {"fwd", "bwd", "fwd+bwd"};
    const double ms[3] = {t.fwd, t.bwd, t.both}, gemm[3] = {input_gemm.fwd, input_gemm.bwd, input_gemm.both};
    for (int k = 0; k < 3; k++) {
        rows[k].direction = dirs[k];
        rows[k].ms = ms[k];
        rows[k].input_gemm_ms = gemm[k];
    }
    return rows;
}

// Runs f(), which returns rows, and appends them; on an exception prints "<program>: error:
// <what>: <why>" and counts a failure, so that the other measurements still run.
template <typename F>
void attempt(const char *program, const std::string &what, std::vector<Row> &rows, int &failures, F f) {
    try {
        for (Row &r : f()) rows.push_back(r);
    } catch (const std::exception &e) {
        fmt::print(stderr, "{}: error: {}: {}\n", program, what, e.what());
        failures++;
    }
}

inline void print_rows(const std::vector<Row> &rows) {
    fmt::print("{:<5} {:<5} {:<51} {:<8} {:>10} {:>9} {:>12}\n", "dev", "cell", "peer (variant)", "dir", "ms", "Mtok/s",
               "in-GEMM ms");
    for (const Row &r : rows) {
        std::string name = r.variant.empty() ? r.peer : r.peer + " (" + r.variant + ")";
        std::string gemm = r.input_gemm_ms > 0 ? fmt::format("{:.3f}", r.input_gemm_ms) : "-";
        fmt::print("{:<5} {:<5} {:<51} {:<8} {:>10.3f} {:>9.3f} {:>12}\n", r.device, r.cell, name, r.direction, r.ms,
                   r.mtokens_per_s(), gemm);
    }
}

inline void write_rows(const std::string &path, const std::vector<Row> &rows) {
    nlohmann::json j = nlohmann::json::array();
    for (const Row &r : rows) {
        j.push_back({{"peer", r.peer}, {"cell", r.cell}, {"device", r.device}, {"direction", r.direction},
                     {"variant", r.variant}, {"B", r.B}, {"T", r.T}, {"H", r.H}, {"ms", r.ms},
                     {"mtokens_per_s", r.mtokens_per_s()}, {"input_gemm_ms", r.input_gemm_ms}});
    }
    cli::write_json_atomically(path, j);
}

// Prints the table, writes --json, returns the exit status (see the top of this file).
inline int finish(const Options &o, const std::vector<Row> &rows, int failures) {
    print_rows(rows);
    if (!o.json.empty()) {
        try {
            write_rows(o.json, rows);
        } catch (const std::exception &e) {
            fmt::print(stderr, "error: {}\n", e.what());
            return 2;
        }
    }
    if (rows.empty()) return 2;
    return failures ? 1 : 0;
}

}  // namespace statemix::peer
