#include "tuner.h"

#include "file_io.h"
#include "jit_kernel.h"
#include "loaded_kernel.h"
#include "statemix.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

namespace statemix::tune {

namespace {

Halide::Target tuning_target() {
    // The host's features, tuned for no particular CPU: what the build's AOT kernels are compiled
    // for (STATEMIX_CPU_TARGETS), so that a winner measured here is the code the build makes.
    Halide::Target t = Halide::get_host_target();
    t.processor_tune = Halide::Target::ProcessorGeneric;
    return t.without_feature(Halide::Target::JIT).without_feature(Halide::Target::UserContext);
}

class JitCandidate : public CandidateKernel {
public:
    JitCandidate(const KernelKey &k, const Params &p, const Halide::Target &t) : kernel_(k, p, t) {}
    const KernelEntry &entry() const override { return kernel_.entry(); }
    double compile_seconds() const override { return kernel_.compile_seconds(); }

private:
    JitKernel kernel_;
};

// What a tuner stopped by SIGINT, SIGTERM or SIGHUP leaves behind, cleaned up by the signal's
// handler with async-signal-safe calls only: the children compiling candidates (each in its own
// process group, with its linker) and the files sm_cand_<i>.{o,so,err} of the scratch directory,
// then the directory itself. The signal is then raised again with its default action, so the
// tuner still ends as killed by it. (A SIGKILL leaves the directory: nothing runs then.)
namespace on_signal {
constexpr int kChildSlots = 256;
std::atomic<pid_t> children[kChildSlots];
std::atomic<int> candidates{0};  // the next candidate's number: sm_cand_<i> for i below it
char dir[4096];                  // the scratch directory ("" when none)

void append(char *&at, const char *end, const char *text) {
    while (*text && at < end - 1) *at++ = *text++;
    *at = 0;
}
void append_number(char *&at, const char *end, int v) {  // at least 5 digits, as fmt's {:05d}
    char digits[16];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0 || n < 5);
    while (n > 0 && at < end - 1) *at++ = digits[--n];
    *at = 0;
}

extern "C" void handle(int sig) {
    for (auto &c : children) {
        const pid_t p = c.load();
        if (p > 0) {
            ::kill(-p, SIGKILL);
            ::kill(p, SIGKILL);
        }
    }
    for (auto &c : children) {
        const pid_t p = c.load();
        if (p > 0) ::waitpid(p, nullptr, 0);
    }
    if (dir[0]) {
        const int n = candidates.load();
        char path[sizeof dir + 64];
        for (int i = 0; i < n; i++) {
            for (const char *ext : {".o", ".so", ".err"}) {
                char *at = path;
                append(at, path + sizeof path, dir);
                append(at, path + sizeof path, "/sm_cand_");
                append_number(at, path + sizeof path, i);
                append(at, path + sizeof path, ext);
                ::unlink(path);
            }
        }
        ::rmdir(dir);
    }
    ::signal(sig, SIG_DFL);
    ::raise(sig);
}

void install() {
    static std::once_flag once;
    std::call_once(once, [] {
        struct sigaction sa {};
        sa.sa_handler = handle;
        sigemptyset(&sa.sa_mask);
        for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &sa, nullptr);
    });
}

// A child's slot while it compiles (the handler kills it), empty once it is reaped.
struct ChildSlot {
    std::atomic<pid_t> *slot = nullptr;
    explicit ChildSlot(pid_t pid) {
        for (auto &c : children) {
            pid_t empty = 0;
            if (c.compare_exchange_strong(empty, pid)) {
                slot = &c;
                return;
            }
        }
    }
    void release() {
        if (slot) slot->store(0);
        slot = nullptr;
    }
    ~ChildSlot() { release(); }
};
}  // namespace on_signal

// A directory of this process's candidate objects, removed with the backend that made it (or by
// on_signal's handler).
struct ScratchDir {
    std::string path;
    ScratchDir() {
        const char *tmp = std::getenv("TMPDIR");
        std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/statemix_tune.XXXXXX";
        if (tmpl.size() >= sizeof on_signal::dir) throw Error("tune: TMPDIR is too long: " + tmpl);
        if (!::mkdtemp(tmpl.data())) throw Error("tune: cannot make a directory for the candidates (" + tmpl + "): " + std::strerror(errno));
        path = tmpl;
        std::memcpy(on_signal::dir, path.c_str(), path.size() + 1);
        on_signal::install();
    }
    ~ScratchDir() {
        on_signal::dir[0] = 0;
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

std::string read_text(const std::string &file) {
    std::FILE *f = std::fopen(file.c_str(), "rb");
    if (!f) return "";
    std::string s;
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) s.append(buf, n);
    std::fclose(f);
    return s;
}

std::mutex &fork_mutex() {
    static std::mutex mu;
    return mu;
}

// Compiles a scan candidate ahead of time in a child process, into a shared object without a
// Halide runtime (it binds to the one this executable exports, as the build's kernels and a
// bundle's candidates do), and loads it here. The child is killed after `limit_s` seconds (0: no
// limit): an LLVM or autoscheduler run cannot be interrupted in-process, and some candidates
// compile for many minutes (the BD-LRU m = 16 backward at 16 lanes: 5-6 minutes; Mullapudi2016
// on the H-LRU m = 8 forward: past 15). Each candidate compiles once, in its child; several
// children run at once (precompile's threads).
std::unique_ptr<CandidateKernel> compile_in_child(const KernelKey &k, const Params &p, const Halide::Target &t,
                                                  double limit_s, const std::string &dir) {
    const std::string function = fmt::format("sm_cand_{:05d}", on_signal::candidates++);
    const std::string obj = dir + "/" + function + ".o", so = dir + "/" + function + ".so", err = dir + "/" + function + ".err";
    const char *cxx_env = std::getenv("CXX");
    const std::string cxx = cxx_env && *cxx_env ? cxx_env : "c++";
    const auto t0 = std::chrono::steady_clock::now();
    const pid_t parent = ::getpid();
    pid_t pid;
    {
        // Not while another thread holds the dynamic loader's lock (a dlopen below): the child
        // would inherit it held and hang at its first dlopen (an autoscheduler plugin's).
        std::lock_guard<std::mutex> lock(fork_mutex());
        std::fflush(nullptr);
        pid = ::fork();
    }
    if (pid < 0) return std::make_unique<JitCandidate>(k, p, t);  // no child: JIT in-process, no limit
    if (pid == 0) {
        // Its own process group (a kill on timeout takes its linker along), so a Ctrl-C at the
        // terminal does not reach it: it dies with the tuner instead.
        ::setpgid(0, 0);
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(1);  // the tuner died before the line above
        int rc = 0;
        std::string what;
        try {
            compile_candidate_object(k, p, t.with_feature(Halide::Target::NoRuntime), function, obj);
            const std::string cmd = "'" + cxx + "' -shared -o '" + so + "' '" + obj + "' > '" + err + "' 2>&1";
            if (std::system(cmd.c_str()) != 0) what = "linking " + so + " failed (" + cmd + "): " + read_text(err);
        } catch (const Halide::Error &e) {  // not a std::exception
            what = e.what();
        } catch (const std::exception &e) {
            what = e.what();
        } catch (...) {
            what = "an exception of unknown type";
        }
        if (!what.empty()) {
            rc = 1;
            if (std::FILE *f = std::fopen(err.c_str(), "wb")) {
                std::fwrite(what.data(), 1, what.size(), f);
                std::fclose(f);
            }
        }
        ::_exit(rc);
    }
    int st = 0;
    on_signal::ChildSlot slot(pid);
    for (;;) {
        const pid_t r = ::waitpid(pid, &st, WNOHANG);
        if (r == pid) {
            slot.release();  // reaped: its pid may be reused, so the handler must not kill it
            break;
        }
        if (r < 0 && errno != EINTR) throw Error(fmt::format("tune: waiting for the child compiling {} failed: {}", k.label(), std::strerror(errno)));
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (limit_s > 0 && s > limit_s) {
            ::kill(-pid, SIGKILL);
            ::kill(pid, SIGKILL);
            while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
            }
            throw Error(fmt::format("{}{:g} s (statemix_tune run --compile-limit)", kGivenUpAt, limit_s));
        }
        ::usleep(20000);
    }
    const double compile_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::error_code ec;
    std::filesystem::remove(obj, ec);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        std::string why = read_text(err);
        if (why.empty()) why = WIFSIGNALED(st) ? fmt::format("the compiling child died of signal {}", WTERMSIG(st)) : "the compiling child failed";
        std::filesystem::remove(err, ec);
        throw Error("tune: " + k.label() + " [" + params_key(p) + "] does not compile: " + why);
    }
    std::filesystem::remove(err, ec);
    std::unique_ptr<LoadedKernel> kernel;
    {
        std::lock_guard<std::mutex> lock(fork_mutex());
        kernel = std::make_unique<LoadedKernel>(so, function, k, p, compile_s);
    }
    std::filesystem::remove(so, ec);  // mapped: the loaded code stays
    return kernel;
}

Backend jit_backend(const TuneOptions &o) {
    if (o.device != "cpu") {
        throw Error("tune: --device " + o.device + " cannot be tuned in-process; make a bundle for a machine with one "
                    "(statemix_tune bundle --device " + o.device + ")");
    }
    Backend be;
    be.target = host_target_string();
    const Halide::Target t = tuning_target();
    const double limit = o.compile_limit_s;
    // The RNN cores (step kernels and one-launch kernels, a few seconds each) compile with the
    // JIT in-process; the scans in children (compile_in_child).
    auto dir = std::make_shared<ScratchDir>();
    be.make = [t, limit, dir](const KernelKey &k, const Params &p) -> std::unique_ptr<CandidateKernel> {
        if (is_rnn(k.layer)) return std::make_unique<JitCandidate>(k, p, t);
        return compile_in_child(k, p, t, limit, dir->path);
    };
    be.compile_threads = std::max(1u, std::thread::hardware_concurrency());
    be.default_params = [](const KernelKey &k, const Bucket &b) { return registry_default_params(k, b); };
    be.forward_for_h = [](const KernelKey &k) -> const KernelEntry & { return registry_forward(k); };
    be.incumbent_params = [](const KernelKey &k, const Bucket &b) { return registry_incumbent_params(k, b); };
    return be;
}

std::string self_dir() {
    char self[4096];
    const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return ".";
    self[n] = 0;
    std::string s(self);
    return s.substr(0, s.rfind('/'));
}

nlohmann::json params_json(const Params &p) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto &[k, v] : p) j[k] = v;
    return j;
}

}  // namespace

std::string host_target_string() { return tuning_target().to_string(); }

std::vector<Entry> run_tuning(const TuneOptions &o) {
    Database db = load_or_new_database(o.db);
    const Backend be = jit_backend(o);
    return tune_into(o, db, be, [&] { save_database(o.db, db); });
}

void compare_with_jit(const TuneOptions &o) { compare_searches(o, jit_backend(o)); }

void measure_with_jit(const TuneOptions &o, int64_t B, int64_t T, int64_t state, const std::vector<Params> &configs) {
    measure_configs(o, jit_backend(o), B, T, state, configs);
}

void make_bundle(const TuneOptions &o, const std::string &dir, const std::string &target_str) {
    namespace fs = std::filesystem;
    if (o.device != "cpu" && o.device != "cuda") throw Error("tune bundle: --device must be cpu or cuda, got '" + o.device + "'");
    Halide::Target target;
    if (!target_str.empty()) {
        if (!Halide::Target::validate_target_string(target_str)) {
            throw Error("tune bundle: --target '" + target_str + "' is not a Halide target string");
        }
        target = Halide::Target(target_str);
    } else if (o.device == "cuda") {
        target = Halide::Target(STATEMIX_CUDA_TARGET_STRING);
    } else {
        target = tuning_target();
    }
    if ((o.device == "cuda") != target.has_feature(Halide::Target::CUDA)) {
        throw Error("tune bundle: target " + target.to_string() + " does not match --device " + o.device);
    }
    const Database db = load_or_new_database(o.db);
    const std::vector<Work> work = plan_work(o, db);
    for (const Work &w : work) {
        if (is_rnn(w.key.layer)) {
            throw Error("tune bundle: the RNN cores (" + w.key.layer + ") are tuned in-process on the CPU only "
                        "(statemix_tune run --layers " + w.key.layer + ")");
        }
    }
    fs::create_directories(dir);
    const std::string runner_src = self_dir() + "/statemix_tune_runner";
    if (!fs::exists(runner_src)) throw Error("tune bundle: the runner " + runner_src + " is missing (build statemix_tune_runner)");

    // Every candidate of every selected kernel, plus each (layer, m)'s default forward (the
    // backward's h comes from it).
    struct Item {
        KernelKey key;
        Params params;
        std::string function;
    };
    std::vector<Item> items;
    std::set<std::string> seen;
    auto add = [&](const KernelKey &k, const Params &p) {
        const std::string id = k.label() + "|" + params_key(p);
        if (seen.insert(id).second) items.push_back({k, p, fmt::format("sm_cand_{:04d}", items.size())});
    };
    nlohmann::json defaults = nlohmann::json::array();
    for (const Work &w : work) {
        const Params dflt = registry_default_params(w.key);
        const std::vector<Params> space =
            select_candidates(enumerate_space(w.key, dflt, natural_float_lanes(target.to_string())), w.key, o.only, o.max_candidates);
        for (const Params &p : space) add(w.key, p);
        // Halide's autoschedulers for the device, planned for the bucket's shape (the runner
        // measures them next to the space, as statemix_tune run does).
        for (const std::string &a : autoschedulers_for(o)) add(w.key, autoscheduler_params(a, db.bucket(w.bucket), o.shape_scale));
        const KernelKey fwd{w.key.layer, "forward", w.key.m, w.key.device};
        add(fwd, registry_default_params(fwd));
        defaults.push_back({{"layer", w.key.layer}, {"direction", w.key.direction}, {"m", w.key.m},
                            {"params", params_json(dflt)}});
        defaults.push_back({{"layer", fwd.layer}, {"direction", "forward"}, {"m", fwd.m},
                            {"params", params_json(registry_default_params(fwd))}});
    }
    // AOT: an object per candidate without a Halide runtime (the runner's own, as in the build),
    // linked into a shared object the runner dlopens. On all cores.
    const Halide::Target aot = target.with_feature(Halide::Target::NoRuntime);
    std::vector<std::string> errors(items.size());
    std::atomic<size_t> next{0}, done{0};
    const char *cxx_env = std::getenv("CXX");
    const std::string cxx = cxx_env && *cxx_env ? cxx_env : "c++";
    auto worker = [&] {
        for (size_t i; (i = next++) < items.size();) {
            const Item &it = items[i];
            const std::string obj = dir + "/" + it.function + ".o", so = dir + "/" + it.function + ".so";
            try {
                compile_candidate_object(it.key, it.params, aot, it.function, obj);
                const std::string cmd = "'" + cxx + "' -shared -o '" + so + "' '" + obj + "' 2>&1";
                if (std::system(cmd.c_str()) != 0) throw Error("linking " + so + " failed (" + cmd + ")");
                fs::remove(obj);
            } catch (const Halide::Error &e) {
                errors[i] = e.what();
            } catch (const std::exception &e) {
                errors[i] = e.what();
            }
            const size_t d = ++done;
            if (!o.quiet) std::fprintf(stderr, isatty(2) ? "\r[%zu/%zu] compiled for the bundle\033[K" : "[%zu/%zu] compiled for the bundle\n", d, items.size());
        }
    };
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < std::max(1u, std::thread::hardware_concurrency()); t++) threads.emplace_back(worker);
    for (auto &t : threads) t.join();
    if (!o.quiet && isatty(2)) std::fprintf(stderr, "\n");

    nlohmann::json kernels = nlohmann::json::array();
    int failed = 0;
    for (size_t i = 0; i < items.size(); i++) {
        const Item &it = items[i];
        nlohmann::json k = {{"layer", it.key.layer}, {"direction", it.key.direction}, {"m", it.key.m},
                            {"device", it.key.device}, {"params", params_json(it.params)}, {"function", it.function}};
        if (errors[i].empty()) {
            k["file"] = it.function + ".so";
        } else {
            k["error"] = errors[i];
            failed++;
        }
        kernels.push_back(k);
    }
    nlohmann::json buckets = nlohmann::json::array();
    for (const Bucket &b : db.buckets) buckets.push_back(bucket_json(b));
    nlohmann::json layers = o.layers, dirs = o.directions, bnames = o.buckets, orders = nlohmann::json::array();
    for (const Work &w : work) {
        if (std::find(orders.begin(), orders.end(), w.key.m) == orders.end()) orders.push_back(w.key.m);
    }
    nlohmann::json manifest = {
        {"format", "statemix-tune-bundle"}, {"version", 1}, {"target", target.to_string()}, {"device", o.device},
        {"options", {{"layers", layers}, {"orders", orders}, {"directions", dirs}, {"buckets", bnames},
                     {"autoschedulers", autoschedulers_for(o)},
                     {"reps", o.reps}, {"search", o.search}, {"exhaustive_max", o.exhaustive_max},
                     {"shape_scale", o.shape_scale}, {"max_candidates", o.max_candidates},
                     {"only", o.only}}},
        {"buckets", buckets}, {"defaults", defaults}, {"kernels", kernels}};
    write_file_atomic(dir + "/manifest.json", manifest.dump(1) + "\n");
    fs::copy_file(runner_src, dir + "/statemix_tune_runner", fs::copy_options::overwrite_existing);
    uintmax_t bytes = 0;
    for (const auto &f : fs::directory_iterator(dir)) {
        if (f.is_regular_file()) bytes += f.file_size();
    }
    fmt::print("bundle {}: {} candidates for {} ({} did not compile), {:.1f} MiB with the runner\n"
               "copy {} to the machine, run {}/statemix_tune_runner {} there, bring back {}/results.json and run "
               "statemix_tune import results.json here\n",
               dir, items.size(), target.to_string(), failed, bytes / 1048576.0, dir, dir, dir, dir);
    if (bytes > (64u << 20)) {
        fmt::print("warning: the bundle is over 64 MiB; select fewer kernels (--orders, --directions)\n");
    }
}

void import_results(const std::string &file, const std::string &db_path) {
    const Database results = load_database(file);
    Database db = load_or_new_database(db_path);
    merge_database(db, results);
    save_database(db_path, db);
    fmt::print("merged {} entries of {} into {}\n", results.entries.size(), file, db_path);
}

}  // namespace statemix::tune
