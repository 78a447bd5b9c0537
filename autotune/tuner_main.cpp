// statemix_tune: the autotuner (autotune/README.md). It links libHalide to JIT-compile candidates
// from the generators, so the runtime and the `statemix` tool stay free of LLVM; `statemix tune
// scan ...` hands over to it.
//
//   statemix_tune run [--layers bdlru hlru] [--orders 1 2] [--directions forward backward]
//                     [--buckets wide narrow] [--db autotune/db/tuning.json] [--reps 5]
//                     [--search auto|exhaustive|halving] [--force | --extend]
//   statemix_tune compare --layers bdlru --orders 2 --directions forward --buckets wide
//   statemix_tune space --layers bdlru --orders 2 --directions backward
//   statemix_tune report [--db FILE] [--out docs/tuning-report.html]
//   statemix_tune bundle --device cuda --orders 1 2 --out DIR   (then DIR/statemix_tune_runner DIR
//                                                                 on the GPU machine)
//   statemix_tune import DIR/results.json [--db FILE]
#include "report.h"
#include "search.h"
#include "space.h"
#include "statemix.h"
#include "tuner.h"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "Halide.h"

#include <cstdio>
#include <functional>
#include <memory>

using namespace statemix;
using namespace statemix::tune;

namespace {

void add_selection(CLI::App *cmd, TuneOptions &o) {
    cmd->add_option("--layers", o.layers, "bdlru, hlru (the scans); elman, wcrnn, lstm (the RNN cores, CPU)")->capture_default_str();
    cmd->add_option("--orders", o.orders, "m values (default: every m the build compiles)");
    cmd->add_option("--directions", o.directions, "forward and/or backward")->capture_default_str();
    cmd->add_option("--buckets", o.buckets, "shape buckets of the database (default: all)");
    cmd->add_option("--db", o.db, "the tuning database (read, merged into, written atomically)")->capture_default_str();
    cmd->add_option("--reps", o.reps, "timed runs per finalist (median)")->capture_default_str();
    cmd->add_option("--shape-scale", o.shape_scale, "scale each bucket's T by this (quick runs)")->capture_default_str();
    cmd->add_option("--max-candidates", o.max_candidates, "only the first N candidates of each space (0: all)");
    cmd->add_option("--only", o.only,
                    "knob=value ...: only the candidates that set these knobs to these values (a slice of the space; "
                    "the entry's search names it)");
    cmd->add_flag("--quiet", o.quiet, "no progress line");
    cmd->add_option("--device", o.device, "cpu (run, compare: this machine) or cuda (bundle)")->capture_default_str();
}

}  // namespace

int main(int argc, char **argv) {
    CLI::App app{"statemix_tune: search the scan kernels' and RNN cores' schedules and keep the winners in the tuning database"};
    app.require_subcommand(1);
    auto o = std::make_shared<TuneOptions>();
    std::string report_out = "docs/tuning-report.html";
    std::function<void()> run;

    CLI::App *r = app.add_subcommand("run", "tune kernels and write the winners into the database");
    add_selection(r, *o);
    r->add_option("--search", o->search, "auto (exhaustive up to --exhaustive-max candidates), exhaustive or halving")
        ->capture_default_str();
    r->add_option("--exhaustive-max", o->exhaustive_max, "auto: the largest space searched exhaustively")->capture_default_str();
    CLI::Option *force = r->add_flag("--force", o->force, "measure complete entries again");
    r->add_flag("--extend", o->extend,
                "measure the candidates of this build's space that a complete entry lacks (its other rows reused; "
                "the new winner replaces the old one only if 3% faster, as with --force)")
        ->excludes(force);
    r->add_option("--autoschedulers", o->autoschedulers,
                  "Halide autoschedulers measured for comparison (default: Mullapudi2016 Adams2019 on the CPU, "
                  "Anderson2021 Li2018 for CUDA; none: --autoschedulers none)")
        ->capture_default_str();
    r->add_option("--compile-limit", o->compile_limit_s,
                  "seconds a candidate may compile (in its child process) before it is recorded as not compiled (0: no limit); "
                  "a rerun with a larger limit compiles such candidates again")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    r->add_flag("!--no-incumbent", o->incumbent,
                "search the space only, without the kernel this build runs here now (by default it is searched "
                "too, so that a new entry never loses to it)");
    r->callback([&] { run = [&] { run_tuning(*o); }; });

    CLI::App *c = app.add_subcommand("compare", "successive halving against the exhaustive search on one kernel and bucket");
    add_selection(c, *o);
    c->callback([&] { run = [&] { compare_with_jit(*o); }; });

    std::string shape = "16x2048x1024";
    std::vector<std::string> configs;
    CLI::App *me = app.add_subcommand("measure", "time given configurations of one kernel at one shape (no database)");
    add_selection(me, *o);
    me->add_option("--shape", shape, "BxTxSTATE: batch, time steps, state width (BD-LRU: N*m, N = STATE/m; H-LRU: N = STATE channels, as the buckets count lanes)")->capture_default_str();
    me->add_option("--params", configs,
                   "a configuration as knob=value words (\"tile=256 prefetch=2\"); one --params per configuration, the "
                   "first is the baseline")
        ->required();
    me->callback([&] {
        run = [&] {
            long long B = 0, T = 0, S = 0;
            char tail = 0;
            if (std::sscanf(shape.c_str(), "%lldx%lldx%lld%c", &B, &T, &S, &tail) != 3) {
                throw statemix::Error("tune measure: --shape must be BxTxSTATE (e.g. 16x2048x1024), got '" + shape + "'");
            }
            std::vector<Params> ps;
            for (const std::string &c : configs) {
                Params p = parse_params(c);
                if (!is_rnn(o->layers.at(0))) p.emplace("algorithm", "sequential");
                ps.push_back(p);
            }
            measure_with_jit(*o, B, T, S, ps);
        };
    });

    std::string bundle_dir, bundle_target;
    CLI::App *bun = app.add_subcommand("bundle", "compile the candidates ahead of time into a bundle for another machine");
    add_selection(bun, *o);
    bun->add_option("--search", o->search, "the search the runner will do")->capture_default_str();
    bun->add_option("--out", bundle_dir, "the bundle directory")->required();
    bun->add_option("--autoschedulers", o->autoschedulers,
                    "Halide autoschedulers compiled into the bundle for comparison (default: the device's)")
        ->capture_default_str();
    bun->add_option("--target", bundle_target, "Halide target (default: the build's CUDA target, or this CPU's)");
    bun->callback([&] { run = [&] { make_bundle(*o, bundle_dir, bundle_target); }; });

    std::string import_file;
    CLI::App *imp = app.add_subcommand("import", "merge a bundle's results.json into the database");
    imp->add_option("FILE", import_file, "the results file")->required();
    imp->add_option("--db", o->db, "the tuning database")->capture_default_str();
    imp->callback([&] { run = [&] { import_results(import_file, o->db); }; });

    CLI::App *s = app.add_subcommand("space", "list the candidates of each selected kernel's knob space (for this CPU's vector width)");
    add_selection(s, *o);
    s->callback([&] {
        run = [&] {
            const Database db = load_or_new_database(o->db);
            for (const Work &w : plan_work(*o, db)) {
                // The first candidate is the build's default for the bucket (what runs without an entry).
                const auto space = select_candidates(enumerate_space(w.key, registry_default_params(w.key, db.bucket(w.bucket)),
                                                                     natural_float_lanes(host_target_string())),
                                                     w.key, o->only, o->max_candidates);
                fmt::print("{} bucket '{}': {} candidates\n", w.key.label(), w.bucket, space.size());
                for (const Params &p : space) fmt::print("  {}\n", params_key(p));
            }
        };
    });

    CLI::App *rep = app.add_subcommand("report", "an HTML page of SVG plots from the database");
    rep->add_option("--db", o->db, "the tuning database")->capture_default_str();
    rep->add_option("--out", report_out, "the page to write")->capture_default_str();
    rep->callback([&] {
        run = [&] {
            write_report(load_database(o->db), o->db, report_out);
            fmt::print("wrote {}\n", report_out);
        };
    });

    CLI::App *tgt = app.add_subcommand("target", "print the Halide target the database keys this machine by");
    tgt->callback([&] { run = [] { fmt::print("{}\n", host_target_string()); }; });

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError &e) {
        return app.exit(e);
    }
    try {
        statemix::flush_denormals_from_env();  // as `statemix` does (thread_pool.h)
        run();
    } catch (const statemix::Error &e) {
        std::fprintf(stderr, "statemix_tune: error: %s\n", e.what());
        return 1;
    } catch (const Halide::Error &e) {
        std::fprintf(stderr, "statemix_tune: Halide error: %s\n", e.what());
        return 1;
    }
    return 0;
}
