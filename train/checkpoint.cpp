// Checkpoint directories of a run. See checkpoint.h for the layout and the contract.
#include "train/checkpoint.h"

#include "runtime/error.h"
#include "runtime/file_io.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace statemix::train {

namespace {

const char *const kModelFile = "model.safetensors";
const char *const kOptimizerFile = "optimizer.safetensors";
const char *const kConfigFile = "config.json";
const char *const kStateFile = "state.json";
const char *const kLatestFile = "latest";

// The step of a complete checkpoint directory name "step-<digits>", or -1 for anything else
// (temporary directories, `latest`, files a user put there).
int64_t parse_checkpoint_name(const std::string &name) {
    if (name.size() <= 5 || name.compare(0, 5, "step-") != 0 || name.size() > 5 + 18) return -1;
    int64_t step = 0;
    for (size_t i = 5; i < name.size(); ++i) {
        if (name[i] < '0' || name[i] > '9') return -1;
        step = step * 10 + (name[i] - '0');
    }
    return step;
}

// The pid in "<anything>.tmp-<pid>", or -1.
long parse_tmp_pid(const std::string &name) {
    size_t at = name.rfind(".tmp-");
    if (at == std::string::npos || at + 5 == name.size()) return -1;
    long pid = 0;
    for (size_t i = at + 5; i < name.size(); ++i) {
        if (name[i] < '0' || name[i] > '9' || pid > 1'000'000'000) return -1;
        pid = pid * 10 + (name[i] - '0');
    }
    return pid;
}

// Removes the temporary checkpoint directory on every exit path (a throw included); after a
// successful rename it no longer exists, or holds the checkpoint that was replaced.
struct TmpDirGuard {
    std::string dir;
    ~TmpDirGuard() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

nlohmann::json read_json(const std::string &path) {
    const std::string text = read_file(path);
    nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) throw Error("'" + path + "' is not valid JSON");
    return j;
}

void require_file(const std::string &dir, const std::string &file) {
    std::error_code ec;
    if (!fs::is_regular_file(dir + "/" + file, ec))
        throw Error("checkpoint '" + dir + "' is incomplete: '" + dir + "/" + file + "' is missing");
}

}  // namespace

std::string checkpoint_name(int64_t step) { return fmt::format("step-{:08d}", step); }

std::string config_hash(const nlohmann::json &config) {
    uint64_t h = 14695981039346656037ull;
    for (unsigned char ch : config.dump()) {
        h ^= ch;
        h *= 1099511628211ull;
    }
    return fmt::format("{:016x}", h);
}

std::string save_checkpoint(const std::string &run_dir, int64_t step, const CheckpointData &c, int keep) {
    if (step < 0) throw Error("save_checkpoint: step must be >= 0, got " + std::to_string(step));
    if (keep < 1) throw Error("save_checkpoint: keep must be >= 1, got " + std::to_string(keep));
    if (!c.state.is_object() || !c.state.contains("step") || !c.state["step"].is_number_integer())
        throw Error("save_checkpoint: state must be a JSON object holding an integer \"step\", got " + c.state.dump());
    if (c.state["step"].get<int64_t>() != step)
        throw Error("save_checkpoint: state.step is " + c.state["step"].dump() + " but the step saved is " +
                    std::to_string(step));

    const std::string root = run_dir + "/checkpoints";
    std::error_code ec;
    fs::create_directories(root, ec);
    if (ec) throw Error("cannot create checkpoint directory '" + root + "': " + ec.message());

    const std::string name = checkpoint_name(step);
    const std::string final_dir = root + "/" + name;
    TmpDirGuard tmp{final_dir + ".tmp-" + std::to_string(::getpid())};
    fs::remove_all(tmp.dir, ec);  // a leftover of an earlier failed save by a process with our pid
    if (::mkdir(tmp.dir.c_str(), 0755) != 0)
        throw Error("cannot create checkpoint directory '" + tmp.dir + "': " + std::strerror(errno));

    // Each file goes through write_file_atomic, which fsyncs it and the temporary directory, so
    // the directory is complete on disk before it is renamed into place.
    const std::map<std::string, std::string> meta = {
        {"format", "statemix"}, {"config_hash", config_hash(c.config)}, {"step", std::to_string(step)}};
    write_safetensors(tmp.dir + "/" + kModelFile, c.weights, meta);
    write_safetensors(tmp.dir + "/" + kOptimizerFile, c.optimizer, {{"format", "statemix"}, {"step", std::to_string(step)}});
    write_file_atomic(tmp.dir + "/" + kConfigFile, c.config.dump(2) + "\n");
    write_file_atomic(tmp.dir + "/" + kStateFile, c.state.dump(2) + "\n");

    bool replaced = false;
    if (::rename(tmp.dir.c_str(), final_dir.c_str()) != 0) {
        int e = errno;
        if (e != ENOTEMPTY && e != EEXIST)
            throw Error("cannot rename '" + tmp.dir + "' to '" + final_dir + "': " + std::strerror(e));
        // A checkpoint of this step exists (a resumed run reached the step again). Swap the two
        // atomically, so `latest` never names a missing or half-written directory; the old one
        // lands at the temporary name and the guard removes it.
        if (::renameat2(AT_FDCWD, tmp.dir.c_str(), AT_FDCWD, final_dir.c_str(), RENAME_EXCHANGE) != 0)
            throw Error("cannot replace checkpoint '" + final_dir + "' with '" + tmp.dir + "': " + std::strerror(errno));
        replaced = true;
    }
    try {
        fsync_dir(root);
        write_file_atomic(root + "/" + kLatestFile, name + "\n");
    } catch (const Error &) {
        // `latest` still names the previous checkpoint; drop the new one so nothing refers to a
        // checkpoint the run never acknowledged. (A replaced same-step one cannot be restored.)
        if (!replaced) fs::remove_all(final_dir, ec);
        throw;
    }

    // Pruning only now that the new checkpoint and `latest` are durable.
    std::vector<std::pair<int64_t, std::string>> older;
    std::vector<std::string> stale;
    try {
        for (const auto &entry : fs::directory_iterator(root)) {
            const std::string entry_name = entry.path().filename().string();
            const int64_t s = parse_checkpoint_name(entry_name);
            const long pid = parse_tmp_pid(entry_name);
            if (s >= 0 && s < step && entry.is_directory()) {
                older.emplace_back(s, entry.path().string());
            } else if (pid > 0 && pid != ::getpid() && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
                stale.push_back(entry.path().string());  // a crashed process's half-written checkpoint or file
            }
        }
    } catch (const fs::filesystem_error &e) {
        throw Error("checkpoint saved to '" + final_dir + "', but cannot list '" + root + "': " + e.what());
    }
    std::sort(older.rbegin(), older.rend());
    for (size_t i = static_cast<size_t>(keep - 1); i < older.size(); ++i) stale.push_back(older[i].second);
    for (const std::string &path : stale) {
        fs::remove_all(path, ec);
        if (ec)
            throw Error("checkpoint saved to '" + final_dir + "', but cannot remove old '" + path + "': " + ec.message());
    }
    if (!stale.empty()) fsync_dir(root);
    return final_dir;
}

LoadedCheckpoint load_checkpoint(const std::string &path) {
    std::error_code ec;
    std::string dir;
    const std::string latest = path + "/checkpoints/" + kLatestFile;
    if (fs::exists(latest, ec)) {
        std::string name = read_file(latest);
        while (!name.empty() && std::isspace(static_cast<unsigned char>(name.back()))) name.pop_back();
        if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
            throw Error("'" + latest + "' should hold a checkpoint directory name like step-00000100, but holds '" +
                        name + "'");
        dir = path + "/checkpoints/" + name;
        if (!fs::is_directory(dir, ec))
            throw Error("'" + latest + "' names '" + name + "', but '" + dir + "' does not exist");
    } else if (fs::is_directory(path + "/checkpoints", ec)) {
        throw Error("no checkpoint in run directory '" + path + "': '" + latest + "' does not exist");
    } else if (!fs::exists(path, ec)) {
        throw Error("cannot load checkpoint: '" + path + "' does not exist");
    } else if (fs::exists(path + "/" + kModelFile, ec) || fs::exists(path + "/" + kStateFile, ec)) {
        dir = path;
    } else {
        throw Error("no checkpoint in '" + path + "': expected a run directory (holding checkpoints/latest) or a " +
                    "checkpoint directory (holding model.safetensors)");
    }

    for (const char *file : {kModelFile, kOptimizerFile, kConfigFile, kStateFile}) require_file(dir, file);
    LoadedCheckpoint out;
    out.dir = dir;
    out.weights = read_safetensors(dir + "/" + kModelFile);
    out.optimizer = read_safetensors(dir + "/" + kOptimizerFile);
    out.config = read_json(dir + "/" + kConfigFile);
    out.state = read_json(dir + "/" + kStateFile);
    if (!out.state.is_object() || !out.state.contains("step") || !out.state["step"].is_number_integer())
        throw Error("'" + dir + "/" + kStateFile + "' has no integer \"step\"");
    return out;
}

}  // namespace statemix::train
