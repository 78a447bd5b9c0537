// `statemix tune` (the RNN sweep): sweeps the knobs of the persistent CUDA forward (runtime/cuda/
// rnn_persistent.h) for one Elman / WCRNN shape, next to the Halide kernel, and reports each
// configuration's time and the fastest. The winner can be passed on as STATEMIX_RNN_CUDA=... (the
// line printed last) and, with --json, is written with every row for the autotuner's records.
#include "commands.h"
#include "json_file.h"
#include "statemix.h"
#include "autotune/tuning_db.h"
#include "generators/scan_knobs_version.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <chrono>
#include <cmath>
#include <ctime>
#include <random>
#include <string>
#include <vector>

namespace statemix::cli {
namespace {

struct TuneOptions {
    std::string layer = "elman";
    int64_t batch = 16, seq = 2048, width = 256;
    int reps = 5;
    std::string json;
    std::string db;  // merge the sweep into this tuning database (autotune/README.md)
};

struct Candidate {
    std::string spec;  // the STATEMIX_RNN_CUDA string
    RnnCudaOptions opts;
};

std::string knob_spec(const cuda_persistent::Knobs &k) {
    std::string s = "impl=persistent";
    if (k.group) s += ",group=" + std::to_string(k.group);
    if (k.rows_per_warp) s += ",rows_per_warp=" + std::to_string(k.rows_per_warp);
    if (k.rows_per_cta) s += ",rows_per_cta=" + std::to_string(k.rows_per_cta);
    if (k.batch_per_cta) s += ",batch_per_cta=" + std::to_string(k.batch_per_cta);
    if (k.batch_split) s += ",batch_split=" + std::to_string(k.batch_split);
    return s;
}

// The automatic choice, the Halide kernel, and a grid over group kind × rows per warp × batch per
// CTA × batch split (× rows per CTA for grid groups); candidates whose plan is refused are skipped.
std::vector<Candidate> candidates(int64_t B, int64_t H) {
    std::vector<Candidate> out;
    out.push_back({"impl=halide", parse_rnn_cuda_options("impl=halide")});
    out.push_back({"impl=automatic", parse_rnn_cuda_options("impl=automatic")});
    std::vector<cuda_persistent::Knobs> grid;
    for (int group : {1, 2, 4, 8, -1}) {
        for (int r : {1, 2, 4}) {
            for (int bg : {0, 1, 2, 4}) {
                for (int bs : {0, 1, 2, 4}) {
                    if (bg && bg > B) continue;
                    if (group > 0) {
                        grid.push_back({group, r, 0, bg, bs});
                    } else {
                        for (int hc : {0, 4, 8, 16, 32}) {
                            if (hc && hc % r) continue;
                            grid.push_back({group, r, hc, bg, bs});
                        }
                    }
                }
            }
        }
    }
    for (const auto &k : grid) {
        if (!cuda_persistent::plan(B, H, k).ok) continue;
        RnnCudaOptions o;
        o.impl = RnnCudaImpl::persistent;
        o.knobs = k;
        out.push_back({knob_spec(k), o});
    }
    return out;
}

// The sweep as the tuning database's entry for the CUDA forward of this layer in the bucket that
// holds the shape; the build makes its winner the runtime's automatic choice there
// (cmake/StatemixTuning.cmake statemix_tuned_rnn_cuda_choices).
void merge_into_database(const TuneOptions &o, const std::vector<tune::SweepRow> &sweep) {
    tune::Database db = tune::load_or_new_database(o.db);
    const int64_t lanes = o.batch * o.width;
    const tune::Bucket *bucket = nullptr;
    for (const tune::Bucket &b : db.buckets) {
        if (!bucket && lanes >= b.lanes_min && lanes <= b.lanes_max && o.seq >= b.t_min && o.seq <= b.t_max) bucket = &b;
    }
    if (!bucket) {
        throw Error(fmt::format("tune: --db: B·H = {} and T = {} are in no bucket of {}; measure a shape inside one",
                                lanes, o.seq, o.db));
    }
    tune::Entry key;
    key.target = STATEMIX_CUDA_TARGET_STRING;
    key.device = "cuda";
    key.layer = o.layer;
    key.direction = "forward";
    key.m = o.layer == "wcrnn" ? 2 : 0;
    key.bucket = bucket->name;
    key.knobs_version = STATEMIX_SCAN_KNOBS_VERSION;
    key.bytes = 4.0 * 2 * o.batch * o.seq * o.width;                 // u in, h out
    key.flops = 2.0 * o.batch * o.seq * o.width * (double)o.width;  // W h_{t-1}
    std::time_t now = std::time(nullptr);
    char date[32];
    std::strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
    tune::Database one;
    one.buckets = db.buckets;
    one.entries = {tune::sweep_entry(key, sweep, o.reps, date)};
    tune::merge_database(db, one);
    tune::save_database(o.db, db);
    fmt::print("merged into {} as {} (bucket '{}'); rebuild to make it the automatic choice\n", o.db, key.key(), bucket->name);
}

void run_tune(const TuneOptions &o) {
    if (o.layer != "elman" && o.layer != "wcrnn") throw Error("tune: --layer must be elman or wcrnn, got '" + o.layer + "'");
    if (o.batch < 1 || o.seq < 1 || o.width < 1) throw Error("tune: --batch, --seq and --width must be >= 1");
    if (o.reps < 1) throw Error("tune: --reps must be >= 1");
    if (!cuda_available()) throw Error("tune: needs a GPU: " + cuda_unavailable_reason());
    const int64_t B = o.batch, T = o.seq, H = o.width;
    std::mt19937 rng(1);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    std::vector<float> u((size_t)(B * T * H)), W((size_t)(H * H));
    for (float &x : u) x = nd(rng);
    for (float &x : W) x = nd(rng) * 0.9f / std::sqrt((float)H);
    Tensor ud = Tensor::from_host({B, T, H}, u.data()).to(Device::cuda);
    Tensor Wd = Tensor::from_host({H, H}, W.data()).to(Device::cuda);
    Tensor h = Tensor::empty({B, T, H}, Device::cuda), hf = Tensor::empty({B, H}, Device::cuda);
    WcrnnConfig cfg;
    ResidualInit init;
    init.kind = ResidualKind::rotation;
    init.a = 0.99;
    if (o.layer == "wcrnn") cfg.residual = make_residual(init, H, 1);
    ResidualCoeffs coeffs;
    if (o.layer == "wcrnn") coeffs = residual_coeffs(cfg.residual, H, Device::cuda);
    auto forward = [&] {
        if (o.layer == "elman") elman_forward(ud, Wd, nullptr, h, hf);
        else wcrnn_forward(cfg, ud, Wd, nullptr, h, hf, &coeffs);
        hf.sync();
    };

    const RnnCudaOptions saved = rnn_cuda_options();
    nlohmann::json rows = nlohmann::json::array();
    std::vector<tune::SweepRow> sweep;
    double best = 1e30;
    std::string best_spec;
    fmt::print("tune {} forward, cuda, B={} T={} H={} (median of {} runs after a warm-up)\n", o.layer, B, T, H, o.reps);
    fmt::print("{:>10} {:>12}  {}\n", "ms", "M tokens/s", "configuration");
    for (const Candidate &c : candidates(B, H)) {
        set_rnn_cuda_options(c.opts);
        std::vector<double> ts;
        try {
            forward();
            for (int r = 0; r < o.reps; r++) {
                auto t0 = std::chrono::steady_clock::now();
                forward();
                ts.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
            }
        } catch (const Error &e) {
            fmt::print("{:>10} {:>12}  {}: {}\n", "-", "-", c.spec, e.what());
            sweep.push_back({tune::spec_params(c.spec), 0, std::string("run: ") + e.what()});
            continue;
        }
        std::sort(ts.begin(), ts.end());
        const double s = ts[ts.size() / 2];
        const std::string plan = rnn_cuda_forward_plan(B, H);
        fmt::print("{:10.3f} {:12.2f}  {}  [{}]\n", s * 1e3, B * T / s / 1e6, c.spec, plan);
        rows.push_back({{"spec", c.spec}, {"ms", s * 1e3}, {"mtok_s", B * T / s / 1e6}, {"plan", plan}});
        sweep.push_back({tune::spec_params(c.spec), s * 1e3, "ok"});
        if (c.spec != "impl=halide" && s < best) {
            best = s;
            best_spec = c.spec;
        }
    }
    set_rnn_cuda_options(saved);
    if (best_spec.empty()) throw Error("tune: no persistent configuration ran for this shape");
    fmt::print("fastest: {:.3f} ms, {:.2f} M tokens/s: STATEMIX_RNN_CUDA={}\n", best * 1e3, B * T / best / 1e6,
               best_spec);
    if (!o.db.empty()) merge_into_database(o, sweep);
    if (!o.json.empty()) {
        write_json_atomically(o.json, {{"layer", o.layer}, {"device", "cuda"}, {"batch", B}, {"seq", T}, {"width", H},
                                       {"reps", o.reps}, {"rows", rows}, {"best", best_spec}, {"best_ms", best * 1e3}});
    }
}

// Replaces this process with statemix_tune (next to this executable) and `args`.
[[noreturn]] void exec_tuner(const std::vector<std::string> &args) {
    char self[4096];
    const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
    std::string dir = ".";
    if (n > 0) {
        self[n] = 0;
        dir = std::string(self);
        dir = dir.substr(0, dir.rfind('/'));
    }
    const std::string tuner = dir + "/statemix_tune";
    std::vector<char *> argv;
    argv.push_back(const_cast<char *>(tuner.c_str()));
    for (const std::string &a : args) argv.push_back(const_cast<char *>(a.c_str()));
    if (args.empty()) argv.push_back(const_cast<char *>("--help"));
    argv.push_back(nullptr);
    ::execv(tuner.c_str(), argv.data());
    throw Error("tune scan: cannot run " + tuner + ": " + std::strerror(errno) +
                " (it is built with the project: cmake --build build --target statemix_tune)");
}

}  // namespace

void add_tune_command(CLI::App &app, std::function<void()> &run) {
    auto o = std::make_shared<TuneOptions>();
    CLI::App *cmd = app.add_subcommand("tune", "sweep the persistent CUDA RNN forward's knobs for one shape; "
                                               "`tune scan ...`: the scan kernels' autotuner");
    cmd->add_option("--layer", o->layer, "elman or wcrnn (rotation residual)")->capture_default_str();
    cmd->add_option("--batch", o->batch, "B")->capture_default_str();
    cmd->add_option("--seq", o->seq, "T")->capture_default_str();
    cmd->add_option("--width", o->width, "H")->capture_default_str();
    cmd->add_option("--reps", o->reps, "timed runs per configuration (median)")->capture_default_str();
    cmd->add_option("--json", o->json, "also write every row and the winner as JSON");
    cmd->add_option("--db", o->db, "merge the sweep into this tuning database (e.g. autotune/db/tuning.json): the "
                                   "build makes its winner the automatic choice for the shape's bucket");
    // `statemix tune scan ARGS...`: the autotuner of the scan kernels, its own executable
    // (autotune/: it links libHalide, which this tool does not), found next to this one.
    auto scan_args = std::make_shared<std::vector<std::string>>();
    CLI::App *scan = cmd->add_subcommand("scan", "the scan kernels' autotuner: runs statemix_tune with the rest of "
                                                 "the arguments (statemix tune scan --help)");
    scan->prefix_command();
    scan->set_help_flag();
    cmd->callback([o, scan, scan_args, &run] {
        if (scan->parsed()) {
            *scan_args = scan->remaining();
            run = [scan_args] { exec_tuner(*scan_args); };
        } else {
            run = [o] { run_tune(*o); };
        }
    });
}

}  // namespace statemix::cli
