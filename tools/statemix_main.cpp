// statemix: command-line front end of the runtime. `statemix --help` lists the subcommands.
#include "commands.h"
#include "npy.h"
#include "statemix.h"

#include <cstdio>
#include <functional>

int main(int argc, char **argv) {
    // OpenMP (oneDNN's pool) must not spin on the cores the Halide kernels need next: it reads its
    // wait policy only at load time, so this re-executes the program with it set (dense_ops.h).
    statemix::use_passive_openmp_wait(argv);
    CLI::App app{"statemix: structured recurrent layers (H-LRU, BD-LRU, WCRNN) compiled with Halide"};
    app.require_subcommand(1);
    std::function<void()> run;
    statemix::cli::add_train_command(app, run);
    statemix::cli::add_eval_command(app, run);
    statemix::cli::add_apply_command(app, run);
    statemix::cli::add_bench_command(app, run);
    statemix::cli::add_lyapunov_command(app, run);
    statemix::cli::add_tune_command(app, run);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError &e) {
        return app.exit(e);
    }
    try {
        statemix::flush_denormals_from_env();  // thread_pool.h: a 3.4x faster training step on Intel
        run();
    } catch (const statemix::Error &e) {
        std::fprintf(stderr, "statemix: error: %s\n", e.what());
        return 1;
    } catch (const statemix::npy::Error &e) {
        std::fprintf(stderr, "statemix: error: %s\n", e.what());
        return 1;
    }
    return 0;
}
