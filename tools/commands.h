// The statemix subcommands. Each registers its options on the CLI11 app and runs when chosen;
// errors are thrown as statemix::Error (or npy::Error) and reported by main with exit code 1.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace statemix::cli {

// `statemix apply {hlru|bdlru} ...`: one layer kernel on .npy tensors (tools/cmd_apply.cpp).
void add_apply_command(CLI::App &app, std::function<void()> &run);
// `statemix bench ...`: every variant, forward/backward, vs copy ceiling and reference
// (tools/cmd_bench.cpp).
void add_bench_command(CLI::App &app, std::function<void()> &run);
// `statemix lyapunov ...`: Lyapunov spectrum of a WCRNN (tools/cmd_lyapunov.cpp).
void add_lyapunov_command(CLI::App &app, std::function<void()> &run);
// `statemix tune ...`: the persistent CUDA RNN forward's knobs swept for one shape (tools/cmd_tune.cpp).
void add_tune_command(CLI::App &app, std::function<void()> &run);

// `statemix train [CONFIG]` / `statemix eval CHECKPOINT`: the training runtime (tools/cmd_train.cpp).
void add_train_command(CLI::App &app, std::function<void()> &run);
void add_eval_command(CLI::App &app, std::function<void()> &run);

}  // namespace statemix::cli
