#pragma once
// Checkpoints of a run directory:
//   RUN_DIR/checkpoints/step-00000100/model.safetensors      weights by parameter name; metadata
//                                                            "format":"statemix", "config_hash", "step"
//                                    optimizer.safetensors  AdamW moments "<param>.m", "<param>.v"
//                                    config.json            the resolved run config
//                                    state.json             step, RNG states, data position, ...
//   RUN_DIR/checkpoints/latest                               "step-00000100\n"
// A checkpoint is written as step-00000100.tmp-<pid>/ (every file fsynced), then renamed into
// place, then `latest` is replaced atomically, and only then are older checkpoints removed. A
// crash or a full disk at any point leaves the previous checkpoint and `latest` as they were.
#include "train/safetensors.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace statemix::train {

struct CheckpointData {
    std::vector<TensorRef> weights;
    std::vector<TensorRef> optimizer;  // may be empty (optimizer.safetensors then holds no tensor)
    nlohmann::json config;             // written as config.json
    nlohmann::json state;              // written as state.json; must hold "step" equal to the step saved
};

// Writes RUN_DIR/checkpoints/step-<step, 8 digits>/ (creating RUN_DIR/checkpoints if needed) and
// returns that directory. A checkpoint of the same step already there is replaced atomically (a
// resumed run reaching that step again). Then removes the older complete checkpoints (smaller step)
// beyond the newest `keep` (the new one included), and leftover temporary directories of dead
// processes; checkpoints with a larger step (an abandoned branch of a resumed run) are left alone.
// Error naming the path and the cause on failure; the previous checkpoint and `latest` are
// untouched then, and no temporary directory is left behind.
std::string save_checkpoint(const std::string &run_dir, int64_t step, const CheckpointData &c, int keep = 2);

struct LoadedCheckpoint {
    std::string dir;  // the checkpoint directory read
    SafetensorsFile weights, optimizer;
    nlohmann::json config, state;
};

// Accepts a run directory (reads checkpoints/latest) or a checkpoint directory itself. Error
// naming the path for: no checkpoint, `latest` naming a missing directory, a missing file, a
// corrupt/truncated safetensors file (read_safetensors), config.json or state.json not JSON,
// state.json without an integer "step".
LoadedCheckpoint load_checkpoint(const std::string &path);

// The "config_hash" stored in model.safetensors: FNV-1a 64 of config.dump(), 16 hex digits. The
// trainer compares it to refuse weights written for a different model config.
std::string config_hash(const nlohmann::json &config);

// "step-00000100".
std::string checkpoint_name(int64_t step);

}  // namespace statemix::train
