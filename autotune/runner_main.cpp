// statemix_tune_runner DIR: the part of a tuning bundle that runs on the machine being tuned
// (`statemix_tune bundle` made DIR on another one). It loads the bundle's AOT-compiled candidates
// (DIR/manifest.json names them), runs the same search as the tuner (search.h: the float64 check,
// the timing between copy-ceiling samples, halving or exhaustive), and writes DIR/results.json, a
// tuning database that `statemix_tune import` merges. An interrupted run resumes from it.
//
// It links the runtime but no libHalide and no kernel table: the candidates bring their code and
// bind to this executable's Halide runtime (exported), as the build's kernels bind to theirs.
#include "search.h"
#include "file_io.h"
#include "loaded_kernel.h"
#include "statemix.h"

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <map>
#include <memory>
#include <mutex>

// No kernel table: every kernel this program runs comes from the bundle (ScanConfig::kernel).
namespace statemix {
const KernelEntry kKernelTable[] = {{"", "", "", "", 0, "", 0, nullptr, nullptr}};
const int kKernelTableSize = 0;
const KernelChoice kKernelChoices[] = {{"", "", "", 0, "", 0, -1, 0, -1, "", false}};
const int kKernelChoicesSize = 0;
const CpuTier kCpuTiers[] = {{"host", nullptr, 0}};
const int kCpuTiersSize = 1;
}  // namespace statemix

using namespace statemix;
using namespace statemix::tune;
using nlohmann::json;

namespace {

Params params_of(const json &j) {
    Params p;
    for (auto it = j.begin(); it != j.end(); ++it) p[it.key()] = it.value().get<std::string>();
    return p;
}

}  // namespace

int main(int argc, char **argv) {
    CLI::App app{"statemix_tune_runner: run a tuning bundle here and write DIR/results.json"};
    std::string dir;
    int reps = 0;
    bool quiet = false;
    app.add_option("DIR", dir, "the bundle directory (with manifest.json)")->required();
    app.add_option("--reps", reps, "override the bundle's timed runs per finalist");
    app.add_flag("--quiet", quiet, "no progress line");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError &e) {
        return app.exit(e);
    }
    try {
        statemix::flush_denormals_from_env();  // as `statemix` does (thread_pool.h)
        const std::string mpath = dir + "/manifest.json";
        json m;
        try {
            m = json::parse(read_file(mpath));
        } catch (const json::exception &e) {
            throw Error("runner: " + mpath + " is not a bundle manifest: " + e.what());
        }
        if (!m.is_object() || m.value("format", "") != "statemix-tune-bundle" || m.value("version", 0) != 1) {
            throw Error("runner: " + mpath + " is not a version 1 statemix-tune-bundle manifest");
        }
        TuneOptions o;
        const json &op = m.at("options");
        o.device = m.at("device").get<std::string>();
        o.layers = op.at("layers").get<std::vector<std::string>>();
        o.orders = op.at("orders").get<std::vector<int>>();
        o.directions = op.at("directions").get<std::vector<std::string>>();
        o.buckets = op.at("buckets").get<std::vector<std::string>>();
        o.reps = reps > 0 ? reps : op.at("reps").get<int>();
        o.search = op.at("search").get<std::string>();
        o.exhaustive_max = op.at("exhaustive_max").get<int>();
        o.shape_scale = op.at("shape_scale").get<double>();
        o.max_candidates = op.at("max_candidates").get<int>();
        o.only = op.value("only", std::vector<std::string>{});  // none in bundles made before --only
        o.quiet = quiet;
        // The autoschedulers compiled into the bundle (none in bundles made before they were).
        o.autoschedulers = op.value("autoschedulers", std::vector<std::string>{});
        if (o.autoschedulers.empty()) o.autoschedulers = {""};
        if (o.device == "cuda" && !cuda_available()) throw Error("runner: this bundle is for CUDA: " + cuda_unavailable_reason());

        // The candidates by (kernel, params), and the build's defaults the tuner recorded.
        std::map<std::string, json> by_id;
        for (const json &k : m.at("kernels")) {
            KernelKey key{k.at("layer"), k.at("direction"), k.at("m").get<int>(), k.at("device")};
            by_id[key.label() + "|" + params_key(params_of(k.at("params")))] = k;
        }
        std::map<std::string, Params> defaults;
        for (const json &d : m.at("defaults")) {
            KernelKey key{d.at("layer"), d.at("direction"), d.at("m").get<int>(), o.device};
            defaults[key.label()] = params_of(d.at("params"));
        }
        Backend be;
        be.target = m.at("target").get<std::string>();
        be.make = [&](const KernelKey &k, const Params &p) -> std::unique_ptr<CandidateKernel> {
            auto it = by_id.find(k.label() + "|" + params_key(p));
            if (it == by_id.end()) throw Error("not in this bundle");
            if (it->second.contains("error")) throw Error(it->second.at("error").get<std::string>());
            try {
                return std::make_unique<LoadedKernel>(dir + "/" + it->second.at("file").get<std::string>(),
                                                      it->second.at("function").get<std::string>(), k, p);
            } catch (const Error &e) {
                throw Error(std::string("runner: ") + e.what());
            }
        };
        be.compile_threads = 1;
        auto default_of = [&](const KernelKey &k) { return defaults.count(k.label()) ? defaults[k.label()] : Params{}; };
        be.default_params = [&](const KernelKey &k, const Bucket &) { return default_of(k); };
        std::map<std::string, std::unique_ptr<CandidateKernel>> forwards;
        std::mutex fmu;
        be.forward_for_h = [&](const KernelKey &k) -> const KernelEntry & {
            std::lock_guard<std::mutex> lock(fmu);
            auto &slot = forwards[k.label()];
            if (!slot) slot = be.make(k, default_of(k));
            return slot->entry();
        };
        const std::string out = dir + "/results.json";
        Database db = load_or_new_database(out);
        db.buckets.clear();
        const json &bs = m.at("buckets");
        for (size_t i = 0; i < bs.size(); i++) {
            db.buckets.push_back(bucket_from_json(bs[i], "buckets[" + std::to_string(i) + "]", dir + "/manifest.json"));
        }
        check_fallbacks(db.buckets, dir + "/manifest.json");
        tune_into(o, db, be, [&] { save_database(out, db); });
        save_database(out, db);
        fmt::print("wrote {}\n", out);
    } catch (const Error &e) {
        std::fprintf(stderr, "statemix_tune_runner: error: %s\n", e.what());
        return 1;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "statemix_tune_runner: error: %s\n", e.what());
        return 1;
    }
    return 0;
}
