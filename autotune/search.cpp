#include "search.h"

#include "copy_ceiling.h"
#include "generators/scan_knobs_version.h"
#include "reference/scan_reference.h"
#include "statemix.h"

#include <fmt/core.h>
#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <mutex>
#include <random>
#include <thread>

namespace statemix::tune {

namespace {

using Clock = std::chrono::steady_clock;
constexpr double kTolerance = 2e-3;  // max |kernel - float64| / max(1, max |float64|)

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string now_utc() {
    std::time_t t = std::time(nullptr);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", std::gmtime(&t));
    return buf;
}

std::string duration_str(double s) {
    if (s < 60) return fmt::format("{:.0f}s", s);
    if (s < 3600) return fmt::format("{}m{:02d}s", (int)(s / 60), (int)s % 60);
    return fmt::format("{}h{:02d}m", (int)(s / 3600), (int)(s / 60) % 60);
}

// A progress line on stderr: done/total, what runs, elapsed and the time left at the pace so far.
class Progress {
public:
    Progress(int total, bool quiet) : total_(std::max(1, total)), quiet_(quiet), tty_(isatty(2)), t0_(Clock::now()) {}
    void add_total(int n) { total_ += n; }
    void step(const std::string &what) {
        done_++;
        if (quiet_) return;
        const double el = seconds_since(t0_);
        const double left = done_ ? el / done_ * std::max(0, total_ - done_) : 0;
        std::string line = fmt::format("[{:3d}/{:3d}] {:<70.70s} {} elapsed, ~{} left", done_, total_, what,
                                       duration_str(el), duration_str(left));
        std::fprintf(stderr, tty_ ? "\r%s\033[K" : "%s\n", line.c_str());
        std::fflush(stderr);
    }
    void finish() {
        if (!quiet_ && tty_) std::fprintf(stderr, "\n");
    }

private:
    int total_, done_ = 0;
    bool quiet_, tty_;
    Clock::time_point t0_;
};

ScanDims dims_for(const KernelKey &k, int64_t B, int64_t T, int64_t state) {
    const int64_t N = k.layer == "bdlru" ? std::max<int64_t>(1, state / k.m) : state;
    return {B, T, N, k.m};
}

// Inputs (and output buffers) of one scan problem, float32 on the CPU.
struct Problem {
    Device dev = Device::cpu;
    ScanConfig cfg;
    ScanDims d;
    Tensor z, v, h0, g, gf, h, hf, dz, dv, dh0;
};

Tensor random_tensor(const Shape &s, std::mt19937 &rng, float stddev) {
    Tensor t = Tensor::empty(s);
    std::normal_distribution<float> nd(0.f, stddev);
    float *p = t.data();
    for (int64_t i = 0; i < t.numel(); i++) p[i] = nd(rng);
    return t;
}

Problem make_problem(const KernelKey &k, const ScanDims &d, unsigned seed) {
    Problem p;
    p.dev = parse_device(k.device);
    p.cfg.layer = parse_layer(k.layer);
    p.cfg.m = k.m;
    p.cfg.norm = Norm::softmax;
    p.d = d;
    ScanShapes s = scan_shapes(p.cfg.layer, d);
    std::mt19937 rng(seed);
    p.z = random_tensor(s.z, rng, 1.f);
    p.v = random_tensor(s.v, rng, 1.f);
    p.h0 = random_tensor(s.state, rng, 0.5f);
    p.g = random_tensor(s.v, rng, 1.f);
    p.gf = random_tensor(s.state, rng, 1.f);
    p.h = Tensor::empty(s.v);
    p.hf = Tensor::empty(s.state);
    p.dz = Tensor::empty(s.z);
    p.dv = Tensor::empty(s.v);
    p.dh0 = Tensor::empty(s.state);
    if (p.dev != Device::cpu) {
        for (Tensor *t : {&p.z, &p.v, &p.h0, &p.g, &p.gf, &p.h, &p.hf, &p.dz, &p.dv, &p.dh0}) *t = t->to(p.dev);
    }
    return p;
}

class ScanWorkload : public Workload {
public:
    explicit ScanWorkload(Problem p) : p_(std::move(p)) {}
    void run(const KernelEntry &k) override;
    Problem &problem() { return p_; }

private:
    Problem p_;
};

// Runs the op of `kernel`'s direction (the backward after a forward by the build's kernel, so it
// reads a real h, done once per problem by the caller).
// A time-major kernel (time_major=true) reads and writes the same buffers as [T,B,...] sequences:
// timing does not care, check_against_reference transposes its reference to match.
void run_op(Problem &p, const KernelEntry &kernel) {
    ScanConfig cfg = p.cfg;
    cfg.kernel = &kernel;
    cfg.time_major = is_time_major(kernel);
    const ScanShapes s = scan_shapes(cfg.layer, p.d, cfg.time_major);
    Tensor z = p.z.reshape(s.z), v = p.v.reshape(s.v), h = p.h.reshape(s.v);
    if (std::strcmp(kernel.direction, "forward") == 0) {
        scan_forward(cfg, z, v, &p.h0, h, p.hf);
        p.h.sync();
    } else {
        Tensor g = p.g.reshape(s.v), dz = p.dz.reshape(s.z), dv = p.dv.reshape(s.v);
        scan_backward(cfg, z, v, &p.h0, h, g, &p.gf, dz, dv, p.dh0);
        p.dz.sync();
    }
}

// [d0,d1,rest] -> [d1,d0,rest].
std::vector<double> swap_leading(const std::vector<double> &x, int64_t d0, int64_t d1) {
    const size_t rest = x.size() / (size_t)(d0 * d1);
    std::vector<double> out(x.size());
    for (int64_t i = 0; i < d0; i++) {
        for (int64_t j = 0; j < d1; j++) {
            std::copy_n(x.begin() + (size_t)(i * d1 + j) * rest, rest, out.begin() + (size_t)(j * d0 + i) * rest);
        }
    }
    return out;
}

void ScanWorkload::run(const KernelEntry &k) { run_op(p_, k); }

// A real h for the backward to read.
void forward_for_h(const Backend &be, const KernelKey &k, Problem &p) {
    run_op(p, be.forward_for_h({k.layer, "forward", k.m, k.device}));
}

std::vector<double> to_double(const Tensor &t) {
    Tensor c = t.device() == Device::cpu ? t : t.to(Device::cpu);
    return std::vector<double>(c.data(), c.data() + c.numel());
}

double rel_err(const Tensor &got_any, const std::vector<double> &want) {
    const Tensor got = got_any.device() == Device::cpu ? got_any : got_any.to(Device::cpu);
    double scale = 1, err = 0;
    for (double w : want) scale = std::max(scale, std::abs(w));
    const float *g = got.data();
    for (size_t i = 0; i < want.size(); i++) {
        const double e = std::abs((double)g[i] - want[i]);
        if (!(e <= err)) err = std::isnan(e) ? INFINITY : e;
    }
    return err / scale;
}

// The candidate against the float64 reference on ragged shapes (odd N, prime T; several chunks
// with a ragged last one for a chunked kernel). Returns the largest relative error.
double check_against_reference(const Backend &be, const KernelKey &k, const KernelEntry &kernel) {
    if (is_rnn(k.layer)) return check_rnn_against_reference(k, kernel);
    std::vector<ScanDims> shapes = {{2, 37, 19, k.m}, {1, 1, 3, k.m}};
    if (kernel.chunk > 0) shapes.push_back({1, 2 * (int64_t)kernel.chunk + 37, 5, k.m});
    // An autoscheduled pipeline is made for its estimates (the bucket's shape, "estimate=BxTxS")
    // and may fail on other shapes (its tiles shift outside small outputs): checked there.
    if (std::strstr(kernel.params, "autoscheduler=")) {
        long long B = 16, T = 2048, S = 1024;
        if (const char *e = std::strstr(kernel.params, "estimate=")) std::sscanf(e, "estimate=%lldx%lldx%lld", &B, &T, &S);
        shapes = {dims_for(k, B, T, S)};
    }
    double worst = 0;
    unsigned seed = 7;
    // A time-major kernel sees the buffers as [T,B,...]: the reference runs on them transposed to
    // [B,T,...] and its sequences are transposed back.
    const bool tm = is_time_major(kernel);
    for (const ScanDims &d : shapes) {
        Problem p = make_problem(k, d, seed++);
        const bool bd = k.layer == "bdlru";
        const int B = (int)d.B, T = (int)d.T, N = (int)d.N, m = k.m;
        auto to_bm = [&](const std::vector<double> &x) { return tm ? swap_leading(x, T, B) : x; };
        auto to_kernel = [&](const std::vector<double> &x) { return tm ? swap_leading(x, B, T) : x; };
        const auto z = to_bm(to_double(p.z)), v = to_bm(to_double(p.v)), h0 = to_double(p.h0),
                   g = to_bm(to_double(p.g)), gf = to_double(p.gf);
        const auto rn = ref::Norm::softmax;
        std::vector<double> h(v.size()), hf(h0.size());
        if (bd) ref::bdlru_forward(B, T, N, m, rn, z.data(), v.data(), h0.data(), h.data(), hf.data());
        else ref::hlru_forward(B, T, N, m, rn, z.data(), v.data(), h0.data(), h.data(), hf.data());
        if (k.direction == "forward") {
            run_op(p, kernel);
            worst = std::max({worst, rel_err(p.h, to_kernel(h)), rel_err(p.hf, hf)});
        } else {
            std::vector<double> dz(z.size()), dv(v.size()), dh0(h0.size());
            if (bd) ref::bdlru_backward(B, T, N, m, rn, z.data(), v.data(), h0.data(), g.data(), gf.data(), dz.data(), dv.data(), dh0.data());
            else ref::hlru_backward(B, T, N, m, rn, z.data(), v.data(), h0.data(), g.data(), gf.data(), dz.data(), dv.data(), dh0.data());
            if (tm) {  // the forward's h in the kernel's layout, from the reference (float32)
                const std::vector<double> hk = to_kernel(h);
                Tensor hc = Tensor::empty(p.h.shape());
                std::transform(hk.begin(), hk.end(), hc.data(), [](double x) { return (float)x; });
                p.h = hc.to(p.dev);
            } else {
                forward_for_h(be, k, p);
            }
            run_op(p, kernel);
            worst = std::max({worst, rel_err(p.dz, to_kernel(dz)), rel_err(p.dv, to_kernel(dv)), rel_err(p.dh0, dh0)});
        }
    }
    return worst;
}

}  // namespace

Params registry_default_params(const KernelKey &k) {
    for (int i = 0; i < kKernelTableSize; i++) {
        const KernelEntry &e = kKernelTable[i];
        if (e.layer == k.layer && e.direction == k.direction && e.device == k.device && e.m == k.m &&
            std::strcmp(e.algorithm, "sequential") == 0) {
            Params p = parse_params(e.params);
            p["algorithm"] = "sequential";
            return p;
        }
    }
    return {};
}

Params registry_default_params(const KernelKey &k, const Bucket &b) {
    return is_rnn(k.layer) ? rnn_default_params(k, b.B, b.state) : registry_default_params(k);
}

Params registry_incumbent_params(const KernelKey &k, const Bucket &b) {
    if (is_rnn(k.layer)) return {};
    ScanConfig cfg;
    cfg.layer = parse_layer(k.layer);
    cfg.m = k.m;
    cfg.algorithm = Algorithm::automatic;
    const KernelEntry &e = select_kernel(cfg, k.direction.c_str(), parse_device(k.device), dims_for(k, b.B, b.T, b.state));
    Params p = parse_params(e.params);
    p["algorithm"] = e.algorithm;
    return p;
}

void with_incumbent(std::vector<Params> &space, const Params &incumbent) {
    if (incumbent.empty() || std::find(space.begin(), space.end(), incumbent) != space.end()) return;
    space.insert(space.begin() + (space.empty() ? 0 : 1), incumbent);
}

const KernelEntry &registry_forward(const KernelKey &k) {
    ScanConfig cfg;
    cfg.layer = parse_layer(k.layer);
    cfg.m = k.m;
    cfg.algorithm = Algorithm::sequential;
    return select_kernel(cfg, "forward", parse_device(k.device), {1, 1, 1, k.m});
}

std::vector<std::vector<double>> sample_interleaved(int n, int reps, const std::function<double(int)> &sample,
                                                    const std::function<void()> &after_pass) {
    std::vector<std::vector<double>> out((size_t)std::max(n, 0));
    std::vector<bool> dropped(out.size(), false);
    for (int r = 0; r < reps; r++) {
        for (int j = 0; j < n; j++) {
            const int i = (r + j) % n;
            if (dropped[(size_t)i]) continue;
            const double t = sample(i);
            out[(size_t)i].push_back(t);
            dropped[(size_t)i] = std::isnan(t);
        }
        if (after_pass) after_pass();
    }
    return out;
}

namespace {

// The compiled candidates of one kernel (shared by its buckets), or why one did not compile.
struct CompileCache {
    std::map<std::string, std::unique_ptr<CandidateKernel>> ok;
    std::map<std::string, std::string> failed;
};

// Compiles every candidate not yet in the cache, on all cores (Halide compiles independent
// pipelines thread-safely; LLVM's code generation is most of a candidate's cost and single-threaded).
void precompile(const Backend &be, const KernelKey &key, const std::vector<Params> &space, CompileCache &cache, bool quiet) {
    std::vector<const Params *> todo;
    for (const Params &p : space) {
        const std::string id = params_key(p);
        if (!cache.ok.count(id) && !cache.failed.count(id)) todo.push_back(&p);
    }
    if (todo.empty()) return;
    auto t0 = Clock::now();
    std::vector<std::unique_ptr<CandidateKernel>> made(todo.size());
    std::vector<std::string> errors(todo.size());
    std::atomic<size_t> next{0};
    size_t done = 0;
    std::mutex print_mutex;
    auto worker = [&] {
        for (size_t i; (i = next++) < todo.size();) {
            const auto c0 = Clock::now();
            try {
                made[i] = be.make(key, *todo[i]);
            } catch (const std::exception &e) {
                errors[i] = e.what();
            }
            // A line per candidate: a large-m space compiles for many minutes before the first
            // candidate is timed (the BD-LRU m = 16 backward: 5-6 minutes a candidate at 16 lanes).
            std::lock_guard<std::mutex> lock(print_mutex);
            done++;
            if (!quiet) {
                std::fprintf(stderr, "%s: compiled %zu/%zu in %.0f s: %s%s\n", key.label().c_str(), done, todo.size(),
                             seconds_since(c0), params_key(*todo[i]).c_str(), made[i] ? "" : " (does not compile)");
                std::fflush(stderr);
            }
        }
    };
    const unsigned n = std::max(1u, std::min<unsigned>(be.compile_threads, (unsigned)todo.size()));
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < n; t++) threads.emplace_back(worker);
    for (auto &t : threads) t.join();
    for (size_t i = 0; i < todo.size(); i++) {
        const std::string id = params_key(*todo[i]);
        if (made[i]) cache.ok[id] = std::move(made[i]);
        else cache.failed[id] = errors[i];
    }
    if (!quiet) {
        std::fprintf(stderr, "%s: compiled %zu candidates in %.0f s on %u threads\n", key.label().c_str(), todo.size(),
                     seconds_since(t0), n);
    }
}

// Everything one search needs; `save` is called after every measurement.
struct SearchContext {
    const Backend *be;
    KernelKey key;
    Workload *problem;
    Ceiling *ceiling;
    Progress *progress;
    int reps;
    std::function<void()> save;
    CompileCache *compiled;
};

Measurement &find_or_add(Entry &e, const Params &params, const std::string &source) {
    for (Measurement &c : e.candidates) {
        if (c.source == source && c.params == params) return c;
    }
    Measurement m;
    m.params = params;
    m.source = source;
    m.status = "pending";
    e.candidates.push_back(m);
    return e.candidates.back();
}

// One warm-up run; returns how many back-to-back runs make a sample of at least ~20 ms, so a
// sub-millisecond kernel is not timed by the clock's resolution and one stray interrupt.
int warm_up(Workload &p, const KernelEntry &kernel) {
    auto w0 = Clock::now();
    p.run(kernel);
    return (int)std::clamp(0.02 / std::max(1e-6, seconds_since(w0)), 1.0, 1000.0);
}

// Seconds per run of one sample of `inner` back-to-back runs.
double time_runs(Workload &p, const KernelEntry &kernel, int inner) {
    auto t0 = Clock::now();
    for (int i = 0; i < inner; i++) p.run(kernel);
    return seconds_since(t0) / inner;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// Compiles (once) and checks (once) `params`: its kernel, or nullptr when it does not compile or
// is wrong (the candidate's status says which).
const KernelEntry *prepare(SearchContext &sc, Entry &e, Measurement &c, const Params &params) {
    const std::string label = sc.key.label() + " " + e.bucket + ": " + params_key(params);
    const std::string id = params_key(params);
    precompile(*sc.be, sc.key, {params}, *sc.compiled, true);
    if (sc.compiled->failed.count(id)) {
        c.status = "compile: " + sc.compiled->failed[id];
        sc.save();
        sc.progress->step(label + " (does not compile)");
        return nullptr;
    }
    const KernelEntry &kernel = sc.compiled->ok[id]->entry();
    c.compile_s = sc.compiled->ok[id]->compile_seconds();
    if (c.status == "pending") {
        try {
            c.max_rel_err = check_against_reference(*sc.be, sc.key, kernel);
        } catch (const Error &err) {
            c.status = std::string("run: ") + err.what();
            sc.save();
            sc.progress->step(label + " (failed)");
            return nullptr;
        }
        if (!(c.max_rel_err <= kTolerance)) {
            c.status = fmt::format("wrong: relative error {:.3g} against the float64 reference (tolerance {:g})",
                                   c.max_rel_err, kTolerance);
            sc.save();
            sc.progress->step(label + " (WRONG)");
            return nullptr;
        }
    }
    return &kernel;
}

// Times each of `params` with `reps` timed runs (sample_interleaved: one run of each per pass), but
// those already measured with enough runs (a resumed search reuses them) and those that fail.
void measure_all(SearchContext &sc, Entry &e, const std::vector<Params> &params, int reps,
                 const std::string &source = "tuned") {
    struct Timed {
        Measurement *c;
        const KernelEntry *kernel;
        int inner;
        std::string label;
        std::vector<double> ts;
    };
    // Every candidate's Measurement first: adding one can move the others (e.candidates grows).
    for (const Params &p : params) find_or_add(e, p, source);
    std::vector<Timed> todo;
    for (const Params &p : params) {
        Measurement &c = find_or_add(e, p, source);
        if (c.status != "ok" && c.status != "pending") continue;
        if (c.status == "ok" && c.reps >= reps) continue;
        bool twice = false;
        for (const Timed &t : todo) twice |= t.c == &c;
        if (twice) continue;
        const KernelEntry *kernel = prepare(sc, e, c, p);
        if (!kernel) continue;
        int inner = 1;
        try {
            inner = warm_up(*sc.problem, *kernel);
        } catch (const Error &err) {
            c.status = std::string("run: ") + err.what();
            sc.save();
            sc.progress->step(sc.key.label() + " " + e.bucket + ": " + params_key(p) + " (failed)");
            continue;
        }
        todo.push_back({&c, kernel, inner, sc.key.label() + " " + e.bucket + ": " + params_key(p), {}});
    }
    if (todo.empty()) return;
    const auto samples = sample_interleaved(
        (int)todo.size(), reps,
        [&](int i) {
            Timed &t = todo[(size_t)i];
            try {
                return time_runs(*sc.problem, *t.kernel, t.inner);
            } catch (const Error &err) {
                t.c->status = std::string("run: ") + err.what();
                return std::nan("");
            }
        },
        [&] { sc.ceiling->sample(); });
    for (size_t i = 0; i < todo.size(); i++) {
        Timed &t = todo[i];
        Measurement &c = *t.c;
        std::vector<double> ts = samples[i];
        if (ts.empty() || std::isnan(ts.back())) {
            if (c.status == "ok" || c.status == "pending") c.status = "run: no time taken";
        } else {
            std::sort(ts.begin(), ts.end());
            c.ms = ts[ts.size() / 2] * 1e3;
            c.spread = (ts.back() - ts.front()) / ts[ts.size() / 2];
            c.reps = reps;
            c.status = "ok";
        }
        sc.save();
        sc.progress->step(t.label + (c.status == "ok" ? fmt::format(" {:.2f} ms", c.ms) : " (failed)"));
    }
}

// One candidate: measure_all of one.
const Measurement &measure(SearchContext &sc, Entry &e, const Params &params, int reps,
                           const std::string &source = "tuned") {
    measure_all(sc, e, {params}, reps, source);
    return find_or_add(e, params, source);
}

// Exhaustive: every candidate with full reps. Successive halving: every candidate once, then the
// faster half again with twice the runs, ..., the last two (and the default) with full reps.
void search(SearchContext &sc, Entry &e, const std::vector<Params> &space, const std::string &mode) {
    e.search = mode;
    if (mode == "exhaustive") {
        measure_all(sc, e, space, sc.reps);
        return;
    }
    std::vector<Params> alive = space;
    int reps = 1;
    while (alive.size() > 2) {
        std::vector<std::pair<double, Params>> scored;
        measure_all(sc, e, alive, reps);
        for (const Params &p : alive) {
            const Measurement &c = find_or_add(e, p, "tuned");
            if (c.status == "ok") scored.push_back({c.ms, p});
        }
        std::sort(scored.begin(), scored.end(), [](const auto &a, const auto &b) { return a.first < b.first; });
        alive.clear();
        for (size_t i = 0; i < (scored.size() + 1) / 2; i++) alive.push_back(scored[i].second);
        if (scored.size() <= 2) break;
        reps = std::min(sc.reps, reps * 2);
    }
    if (!space.empty()) alive.push_back(space.front());  // the default, at full reps (measure_all skips a repeat)
    measure_all(sc, e, alive, sc.reps);
}

// The --force check (Entry::confirm): the winner the run replaced (checked and timed once first,
// so a knob set the space no longer holds still runs correctly or loses) against the new one,
// `rounds` samples each, alternating which goes first. Sets e.params (and e.ms, the kept one's
// median here) to the previous winner unless the new one is kConfirmMargin faster. A run stopped
// during the check leaves the entry incomplete, and its resumption has no previous winner to check.
void confirm_against_previous(SearchContext &sc, Entry &e, const Params &previous, int rounds) {
    const Params fresh = e.params;
    const Measurement &pm = measure(sc, e, previous, 1);
    if (pm.status != "ok") return;  // it no longer compiles or runs correctly: the new one stands
    // Both were compiled in this run (a --force search starts over), but a missing one must not
    // become a null kernel: then there is nothing to compare and the new winner stands.
    auto kp_it = sc.compiled->ok.find(params_key(previous)), kn_it = sc.compiled->ok.find(params_key(fresh));
    if (kp_it == sc.compiled->ok.end() || kn_it == sc.compiled->ok.end() || !kp_it->second || !kn_it->second) return;
    const KernelEntry &kp = kp_it->second->entry();
    const KernelEntry &kn = kn_it->second->entry();
    Workload &p = *sc.problem;
    const int inner = std::max(warm_up(p, kp), warm_up(p, kn));
    std::vector<double> tp, tn;
    rounds = std::max(rounds, 3);
    for (int r = 0; r < rounds; r++) {
        if (r % 2 == 0) {
            tp.push_back(time_runs(p, kp, inner));
            tn.push_back(time_runs(p, kn, inner));
        } else {
            tn.push_back(time_runs(p, kn, inner));
            tp.push_back(time_runs(p, kp, inner));
        }
        sc.ceiling->sample();
    }
    e.confirm.previous = previous;
    e.confirm.previous_ms = median(tp) * 1e3;
    e.confirm.new_ms = median(tn) * 1e3;
    e.confirm.rounds = rounds;
    e.confirm.kept_previous = !(e.confirm.new_ms < e.confirm.previous_ms * (1 - kConfirmMargin));
    if (e.confirm.kept_previous) {
        e.params = previous;
        e.ms = e.confirm.previous_ms;
    } else {
        e.ms = e.confirm.new_ms;
    }
}

std::vector<int> orders_for(const std::string &layer, const std::vector<int> &asked, Device dev) {
    std::vector<int> compiled = supported_orders(parse_layer(layer), dev);
    if (asked.empty()) return compiled;
    for (int m : asked) {
        if (m < 1 || m > 64) throw Error("tune: --orders: m must be in 1..64, got " + std::to_string(m));
    }
    return asked;
}

std::string search_mode(const TuneOptions &o, size_t n) {
    if (o.search == "auto") return (int)n <= o.exhaustive_max ? "exhaustive" : "halving";
    if (o.search != "exhaustive" && o.search != "halving") {
        throw Error("tune: --search must be auto, exhaustive or halving, got '" + o.search + "'");
    }
    return o.search;
}

void print_entry(const Entry &e) {
    const double gb = e.bytes / 1e9;
    fmt::print("\n{} {} m={} {} bucket '{}' (search: {}; copy ceiling {:.1f} GB/s, best sample between its runs)\n",
               e.layer, e.direction, e.m, e.device, e.bucket, e.search, e.ceiling_gbs);
    if (e.flops > 0) fmt::print("{:>9} {:>16} {:>12} {:>8} {:>8}  {}\n", "ms", "mat-vecs", "moved", "spread", "vs dflt", "knobs");
    else fmt::print("{:>9} {:>8} {:>7} {:>8} {:>8}  {}\n", "ms", "GB/s", "% ceil", "spread", "vs dflt", "knobs");
    std::vector<const Measurement *> rows;
    for (const Measurement &c : e.candidates) rows.push_back(&c);
    std::sort(rows.begin(), rows.end(), [](const Measurement *a, const Measurement *b) {
        if ((a->status == "ok") != (b->status == "ok")) return a->status == "ok";
        return a->ms < b->ms;
    });
    for (const Measurement *c : rows) {
        if (c->status != "ok") {
            fmt::print("{:>9} {:>8} {:>7} {:>8} {:>8}  {}  [{}]\n", "-", "-", "-", "-", "-", params_key(c->params),
                       c->status.substr(0, 120));
            continue;
        }
        const double gbs = gb / (c->ms / 1e3);
        if (e.flops > 0) {  // an RNN core: compute-bound, GFLOP/s of its mat-vecs first
            fmt::print("{:9.2f} {:8.1f} GFLOP/s {:5.1f} GB/s {:7.0f}% {:7.2f}x  {}{}{}\n", c->ms, e.flops / (c->ms / 1e3) / 1e9,
                       gbs, 100 * c->spread, e.default_ms > 0 ? e.default_ms / c->ms : 0, params_key(c->params),
                       c->params == e.params ? "  <- chosen" : "", c->reps > 0 ? fmt::format("  ({} runs)", c->reps) : "");
            continue;
        }
        fmt::print("{:9.2f} {:8.1f} {:6.0f}% {:7.0f}% {:7.2f}x  {}{}{}\n", c->ms, gbs,
                   e.ceiling_gbs > 0 ? 100 * gbs / e.ceiling_gbs : 0, 100 * c->spread,
                   e.default_ms > 0 ? e.default_ms / c->ms : 0, params_key(c->params),
                   c->params == e.params ? "  <- chosen" : "", c->reps > 0 ? fmt::format("  ({} runs)", c->reps) : "");
    }
    if (e.confirm.rounds > 0) {
        const Entry::Confirmation &k = e.confirm;
        fmt::print("  the kernel it replaces, {}: {:.2f} ms against the new one's {:.2f} ms ({} alternating runs each): "
                   "{}\n",
                   params_key(k.previous), k.previous_ms, k.new_ms, k.rounds,
                   k.kept_previous ? fmt::format("kept (the new one is not {:.0f}% faster)", 100 * kConfirmMargin)
                                   : "replaced");
    }
}

}  // namespace

std::vector<std::string> autoschedulers_for(const TuneOptions &o) {
    std::vector<std::string> out;
    for (const std::string &a : o.autoschedulers) {
        if (a == "default") {
            if (o.device == "cuda") out.insert(out.end(), {"Anderson2021", "Li2018"});
            else out.insert(out.end(), {"Mullapudi2016", "Adams2019"});
        } else if (!a.empty() && a != "none") {
            out.push_back(a);
        }
    }
    return out;
}

Params autoscheduler_params(const std::string &autoscheduler, const Bucket &b, double shape_scale) {
    const int64_t T = std::max<int64_t>(1, (int64_t)std::llround((double)b.T * shape_scale));
    return {{"algorithm", "sequential"}, {"autoscheduler", autoscheduler}, {"estimate", fmt::format("{}x{}x{}", b.B, T, b.state)}};
}

std::vector<Work> plan_work(const TuneOptions &o, const Database &db) {
    if (o.reps < 1) throw Error("tune: --reps must be >= 1, got " + std::to_string(o.reps));
    if (!(o.shape_scale > 0 && o.shape_scale <= 1)) throw Error("tune: --shape-scale must be in (0, 1]");
    const Device dev = parse_device(o.device);
    std::vector<std::string> bucket_names = o.buckets;
    if (bucket_names.empty()) {
        for (const Bucket &b : db.buckets) bucket_names.push_back(b.name);
    }
    for (const std::string &b : bucket_names) db.bucket(b);  // Error naming an unknown bucket
    std::vector<Work> work;
    for (const std::string &layer : o.layers) {
        const bool rnn = is_rnn(layer);
        if (!rnn) parse_layer(layer);
        if (rnn && dev != Device::cpu) throw Error("tune: the RNN cores (" + layer + ") are tuned on the CPU only");
        // The RNN cores: m is the WCRNN residual's block size (2: per-unit 2x2 blocks; 0: dense).
        const std::vector<int> orders = !rnn ? orders_for(layer, o.orders, dev)
                                        : !o.orders.empty() ? o.orders
                                        : layer == "wcrnn" ? std::vector<int>{2, 0} : std::vector<int>{0};
        for (int m : orders) {
            if (rnn && !(m == 0 || (m == 2 && layer == "wcrnn"))) {
                throw Error("tune: --orders: " + layer + " has m = " + (layer == "wcrnn" ? "2 or 0" : "0") + ", got " +
                            std::to_string(m));
            }
            // Bucket outside direction: one problem (inputs at the bucket's shape) serves both.
            for (const std::string &b : bucket_names) {
                for (std::string dir : o.directions) {
                    if (dir != "forward" && dir != "backward") {
                        throw Error("tune: --directions: expected forward or backward, got '" + dir + "'");
                    }
                    // The LSTM's forward is tuned as training runs it (writing z for the backward).
                    if (layer == "lstm" && dir == "forward") dir = "forward_train";
                    if (layer == "wcrnn" && dir == "backward") {
                        if (o.directions.size() == 1) {
                            throw Error("tune: the WCRNN backward is not tuned (its stepped form is never chosen)");
                        }
                        continue;
                    }
                    work.push_back({{layer, dir, m, o.device}, b});
                }
            }
        }
    }
    return work;
}

namespace {

// An empty entry for one kernel and bucket on `target`, under this build's knob-set version.
Entry new_entry(const std::string &target, const Work &w) {
    Entry e;
    e.target = target;
    e.device = w.key.device;
    e.layer = w.key.layer;
    e.direction = w.key.direction;
    e.m = w.key.m;
    e.bucket = w.bucket;
    e.knobs_version = STATEMIX_SCAN_KNOBS_VERSION;
    return e;
}

// The problem at a bucket's shape (T scaled by shape_scale; the RNN cores' by kRnnTimeScale too),
// with a real forward's results for a backward.
std::unique_ptr<Workload> make_workload(const Backend &be, const KernelKey &k, const Bucket &b, double shape_scale) {
    const int64_t T = std::max<int64_t>(1, (int64_t)std::llround((double)b.T * shape_scale));
    if (is_rnn(k.layer)) return make_rnn_workload(k, b.B, std::max<int64_t>(1, T / kRnnTimeScale), b.state, 1);
    const ScanDims d = dims_for(k, b.B, T, b.state);
    auto w = std::make_unique<ScanWorkload>(make_problem(k, d, 1));
    forward_for_h(be, k, w->problem());
    const Problem &p = w->problem();
    w->bytes = (double)bytes_per_token(p.cfg.layer, d.N, d.m, k.direction == "backward") * d.B * d.T;
    return w;
}

// Whether candidate `c` was given up at a smaller --compile-limit than `limit_s` (0: none), so
// that this run may compile it: its status is the one compile_in_child's error makes (tuner.cpp).
bool given_up_below(const Measurement &c, double limit_s) {
    static const std::string prefix = std::string("compile: ") + kGivenUpAt;
    if (c.status.rfind(prefix, 0) != 0) return false;
    const double was = std::strtod(c.status.c_str() + prefix.size(), nullptr);
    return limit_s == 0 || limit_s > was;
}
int given_up_below(const Entry *e, double limit_s) {
    int n = 0;
    if (e) for (const Measurement &c : e->candidates) n += given_up_below(c, limit_s);
    return n;
}
// How many of `space` a (complete) entry has no row for.
int unmeasured(const Entry *e, const std::vector<Params> &space) {
    if (!e) return 0;
    int n = 0;
    for (const Params &p : space) {
        bool have = false;
        for (const Measurement &c : e->candidates) have |= c.source == "tuned" && c.params == p;
        n += !have;
    }
    return n;
}

// What a run does with a kernel's existing entry `e` over `space`: an up-to-date entry is skipped;
// else it is searched (resumed with its rows where it is current, i.e. complete, of this knob
// version and not --force).
struct EntryPlan {
    bool current = false;  // complete, of this knob version, and no --force
    int retried = 0;       // rows given up at a smaller --compile-limit, compiled again
    int missing = 0;       // candidates of `space` a current entry has no row for
    bool extending = false;  // --extend with missing > 0
    bool up_to_date = false;
};
EntryPlan plan_entry(const Entry *e, const std::vector<Params> &space, const TuneOptions &o) {
    EntryPlan p;
    p.current = e && e->complete && e->knobs_version == STATEMIX_SCAN_KNOBS_VERSION && !o.force;
    p.retried = o.force ? 0 : given_up_below(e, o.compile_limit_s);
    p.missing = p.current ? unmeasured(e, space) : 0;
    p.extending = o.extend && p.missing > 0;
    p.up_to_date = p.current && p.retried == 0 && !p.extending;
    return p;
}

}  // namespace

std::vector<Entry> tune_into(const TuneOptions &o, Database &db, const Backend &be, const std::function<void()> &save) {
    const std::string target = be.target;
    const int lanes = natural_float_lanes(target);
    const std::vector<Work> work = plan_work(o, db);
    const std::vector<std::string> autos = autoschedulers_for(o);
    fmt::print("statemix_tune: target {}, {} kernel/bucket pairs, database {}\n", target, work.size(), o.db);
    int total = 0;
    for (const Work &w : work) {
        const std::vector<Params> sp = select_candidates(
            enumerate_space(w.key, be.default_params(w.key, db.bucket(w.bucket)), lanes), w.key, o.only, o.max_candidates);
        const int n = (int)sp.size();
        const bool done = plan_entry(db.find(new_entry(target, w).key()), sp, o).up_to_date;
        // Halving times about n + n/2 + n/4 + ... candidates, plus the finalists and the default;
        // an up-to-date entry counts its candidates once, as skipped.
        total += done || search_mode(o, (size_t)n) != "halving" ? n : 2 * n + 3;
        for (const std::string &a : autos) total += !a.empty() && !is_rnn(w.key.layer);
    }
    Progress progress(total, o.quiet);
    Ceiling ceiling(parse_device(o.device));
    std::vector<Entry> made;
    // Problems are made once per (layer, m, bucket) and shared by both directions.
    std::string problem_id, cache_id;
    std::unique_ptr<Workload> problem;
    std::map<std::string, CompileCache> caches;  // per kernel of the current (layer, m)
    for (const Work &w : work) {
        const Entry fresh = new_entry(target, w);
        Entry *e = db.find(fresh.key());
        std::vector<Params> space = select_candidates(
            enumerate_space(w.key, be.default_params(w.key, db.bucket(w.bucket)), lanes), w.key, o.only, o.max_candidates);
        Params incumbent;  // what this build runs here now (confirmed against like `previous`)
        if (o.incumbent && be.incumbent_params) {
            const Params inc = be.incumbent_params(w.key, db.bucket(w.bucket));
            incumbent = inc;
            if (!inc.empty() && std::find(space.begin(), space.end(), inc) == space.end()) {
                fmt::print("{} {}: searching the kernel this build runs here now too: {}\n", w.key.label(), w.bucket,
                           params_key(inc));
            }
            with_incumbent(space, inc);
        }
        // Candidates given up at a smaller --compile-limit than this run's are compiled again, the
        // entry's other rows reused (a complete entry is searched again with them and its winner
        // confirmed against, as with --force).
        const EntryPlan plan = plan_entry(e, space, o);
        const int retried = plan.retried, missing = plan.missing;
        const bool extending = plan.extending, up_to_date = plan.up_to_date;
        Params previous;  // the complete entry a --force run replaces (confirm_against_previous)
        if (plan.current && !up_to_date) previous = e->params;
        // --extend: the rows the entry already has, measured in an earlier run (another state of
        // the machine, whose bandwidth moves by 1.5x within a day here): the new rows are not ranked
        // against them but their best is checked against the entry's winner, both timed now.
        std::vector<std::string> earlier_rows;
        if (extending) {
            for (const Measurement &c : e->candidates) earlier_rows.push_back(params_key(c.params));
        }
        bool autos_missing = false;  // an up-to-date entry still gets autoschedulers it lacks
        for (const std::string &a : autos) {
            if (a.empty() || !e || is_rnn(w.key.layer)) continue;
            bool have = false;
            // A row that failed under the generators' own (wide) estimates is retried with the bucket's.
            for (const Measurement &c : e->candidates) {
                have |= c.source == "autoscheduler:" + a && (c.status == "ok" || c.params.count("estimate"));
            }
            autos_missing |= !have;
        }
        if (up_to_date && !autos_missing) {
            if (missing > 0) {
                fmt::print("{} {}: up to date (measured {}; {} candidate(s) of this build's space not measured: --extend "
                           "measures them, --force measures again)\n", w.key.label(), w.bucket, e->date, missing);
            } else {
                fmt::print("{} {}: up to date (measured {}; --force measures again)\n", w.key.label(), w.bucket, e->date);
            }
            for (size_t i = 0; i < space.size(); i++) progress.step(w.key.label() + " " + w.bucket + " (up to date)");
            continue;
        }
        if (!up_to_date) {
            // An interrupted search (complete: false) resumes with what it measured; another knob
            // version or --force starts over.
            if (e && (e->knobs_version != STATEMIX_SCAN_KNOBS_VERSION || o.force)) {
                if (o.force && e->complete && e->knobs_version == STATEMIX_SCAN_KNOBS_VERSION) previous = e->params;
                *e = fresh;
            }
            if (!e) {
                db.entries.push_back(fresh);
                e = &db.entries.back();
            }
            e->complete = false;
            if (extending) {
                fmt::print("{} {}: measuring the {} candidate(s) of this build's space the entry lacks (--extend)\n",
                           w.key.label(), w.bucket, missing);
            }
            if (retried > 0) {
                fmt::print("{} {}: {} candidate(s) given up at a smaller --compile-limit compiled again (limit {})\n",
                           w.key.label(), w.bucket, retried,
                           o.compile_limit_s > 0 ? fmt::format("{:g} s", o.compile_limit_s) : std::string("none"));
                for (Measurement &c : e->candidates) {
                    if (!given_up_below(c, o.compile_limit_s)) continue;
                    Measurement again;
                    again.params = c.params;
                    again.source = c.source;
                    again.status = "pending";
                    c = again;
                }
            }
        }
        const Bucket &b = db.bucket(w.bucket);
        // One problem per kernel and bucket: the direction sets what a run moves (a backward
        // entry once recorded the forward's bytes, and its GB/s at half, when one problem served
        // both directions).
        const std::string pid = w.key.label() + " " + w.bucket;
        if (pid != problem_id) {
            problem.reset();
            problem = make_workload(be, w.key, b, o.shape_scale);
            problem_id = pid;
        }
        const std::string ekey = e->key();
        const std::string layer_m = w.key.layer + std::to_string(w.key.m);
        if (cache_id != layer_m) {  // the work for one (layer, m) is contiguous
            caches.clear();
            cache_id = layer_m;
        }
        CompileCache &cache = caches[w.key.label()];
        SearchContext sc{&be, w.key, problem.get(), &ceiling, &progress, o.reps, save, &cache};
        const size_t samples_before = ceiling.count();
        if (!up_to_date) {
            precompile(be, w.key, space, cache, o.quiet);
            search(sc, *db.find(ekey), space, search_mode(o, space.size()));
            if (!o.only.empty()) db.find(ekey)->search += " of the candidates with " + fmt::format("{}", fmt::join(o.only, " "));
        } else {
            for (size_t i = 0; i < space.size(); i++) progress.step(w.key.label() + " " + w.bucket + " (up to date)");
        }
        // Halide's autoschedulers on the same algorithm, for comparison (never chosen).
        for (const std::string &a : autos) {
            if (a.empty() || is_rnn(w.key.layer)) continue;  // the RNN cores: no estimates in their generators
            // Planned for this bucket's shape (the generators' own estimates are the wide one's).
            const Params ap = autoscheduler_params(a, b, o.shape_scale);
            measure(sc, *db.find(ekey), ap, o.reps, "autoscheduler:" + a);
        }
        e = db.find(ekey);
        if (up_to_date) {  // only the autoschedulers were missing: the winner stands
            progress.finish();
            print_entry(*e);
            made.push_back(*e);
            continue;
        }
        const Measurement *best = best_candidate(*e);
        if (extending) {
            const Measurement *fresh_best = nullptr;
            for (const Measurement &c : e->candidates) {
                const bool earlier = std::find(earlier_rows.begin(), earlier_rows.end(), params_key(c.params)) != earlier_rows.end();
                if (!earlier && c.status == "ok" && c.source == "tuned" && (!fresh_best || c.ms < fresh_best->ms)) fresh_best = &c;
            }
            if (fresh_best) best = fresh_best;  // confirmed against `previous` below, in alternating runs
        }
        if (!best) throw Error("tune: no candidate of " + w.key.label() + " ran correctly (every one is recorded with why)");
        e->params = best->params;
        e->ms = best->ms;
        // The winner replaces the entry it re-measures, or else the kernel running now, only if it
        // is kConfirmMargin faster, alternating with it.
        const Params &before = !previous.empty() ? previous : incumbent;
        if (!before.empty() && before != e->params) confirm_against_previous(sc, *e, before, o.reps);
        for (const Measurement &c : e->candidates) {
            if (c.params == space.front() && c.status == "ok") e->default_ms = c.ms;
        }
        e->ceiling_gbs = ceiling.best_since(samples_before);
        e->bytes = problem->bytes;
        e->flops = problem->flops;
        e->date = now_utc();
        e->complete = true;
        save();
        progress.finish();
        print_entry(*e);
        made.push_back(*e);
    }
    progress.finish();
    return made;
}

void compare_searches(const TuneOptions &o, const Backend &be) {
    if (o.layers.size() != 1 || o.orders.size() != 1 || o.directions.size() != 1 || o.buckets.size() != 1) {
        throw Error("tune compare: give exactly one --layers, --orders, --directions and --buckets value");
    }
    Database db = load_or_new_database(o.db);
    const KernelKey key{o.layers[0], o.directions[0], o.orders[0], o.device};
    const Bucket &b = db.bucket(o.buckets[0]);
    const std::vector<Params> space = select_candidates(enumerate_space(key, be.default_params(key, b), natural_float_lanes(be.target)),
                                                        key, o.only, o.max_candidates);
    std::unique_ptr<Workload> p = make_workload(be, key, b, o.shape_scale);
    Ceiling ceiling(parse_device(o.device));
    Progress progress((int)space.size() * 2, o.quiet);
    std::map<std::string, Entry> results;
    std::map<std::string, double> cost;
    std::map<std::string, int> runs;
    for (const std::string mode : {"halving", "exhaustive"}) {
        Entry e;
        e.bucket = b.name;
        CompileCache cache;  // each search compiles its own candidates: compile time is part of its cost
        SearchContext sc{&be, key, p.get(), &ceiling, &progress, o.reps, [] {}, &cache};
        auto t0 = Clock::now();
        precompile(be, key, space, cache, o.quiet);
        search(sc, e, space, mode);
        cost[mode] = seconds_since(t0);
        for (const Measurement &c : e.candidates) runs[mode] += c.reps + (c.reps ? 1 : 0);
        results[mode] = e;
    }
    progress.finish();
    const Measurement *h = best_candidate(results["halving"]), *x = best_candidate(results["exhaustive"]);
    if (!h || !x) throw Error("tune compare: no candidate ran");
    // The halving pick as the exhaustive search timed it, so both are judged on the same runs.
    double h_in_x = 0;
    for (const Measurement &c : results["exhaustive"].candidates) {
        if (c.params == h->params) h_in_x = c.ms;
    }
    fmt::print("{} bucket '{}', {} candidates:\n", key.label(), b.name, space.size());
    fmt::print("  exhaustive: best {} at {:.2f} ms; {} timed runs, {:.0f} s (with compiles)\n", params_key(x->params),
               x->ms, runs["exhaustive"], cost["exhaustive"]);
    fmt::print("  halving:    pick {} at {:.2f} ms (exhaustive timed it at {:.2f} ms: {:.1f}% slower than the best); "
               "{} timed runs, {:.0f} s\n",
               params_key(h->params), h->ms, h_in_x, 100 * (h_in_x / x->ms - 1), runs["halving"], cost["halving"]);
}

void measure_configs(const TuneOptions &o, const Backend &be, int64_t B, int64_t T, int64_t state,
                     const std::vector<Params> &configs) {
    if (o.layers.size() != 1 || o.orders.size() != 1 || o.directions.size() != 1) {
        throw Error("tune measure: give exactly one --layers, --orders and --directions value");
    }
    if (B < 1 || T < 1 || state < 1) throw Error("tune measure: --shape must be BxTxSTATE with every part >= 1");
    if (configs.empty()) throw Error("tune measure: give at least one --params");
    std::string dir = o.directions[0];
    if (o.layers[0] == "lstm" && dir == "forward") dir = "forward_train";
    const KernelKey key{o.layers[0], dir, o.orders[0], o.device};
    Bucket b;
    b.name = fmt::format("{}x{}x{}", B, T, state);
    b.B = B;
    b.T = is_rnn(key.layer) ? T * kRnnTimeScale : T;  // make_workload runs the RNN cores at T / kRnnTimeScale
    b.state = state;
    std::unique_ptr<Workload> p = make_workload(be, key, b, 1.0);
    Ceiling ceiling(parse_device(o.device));
    Progress progress((int)configs.size(), o.quiet);
    CompileCache cache;
    Entry e;
    e.bucket = b.name;
    SearchContext sc{&be, key, p.get(), &ceiling, &progress, o.reps, [] {}, &cache};
    const size_t samples_before = ceiling.count();
    measure_all(sc, e, configs, o.reps);  // one run of each per pass: a drifting host shifts them alike
    progress.finish();
    const double ceil_gbs = ceiling.best_since(samples_before);
    fmt::print("{} at B={} T={} state={} ({} runs each, median; copy ceiling {:.1f} GB/s, best of {} samples):\n",
               key.label(), B, T, state, o.reps, ceil_gbs, ceiling.count() - samples_before);
    const double base = e.candidates.front().status == "ok" ? e.candidates.front().ms : 0;
    for (const Measurement &c : e.candidates) {
        if (c.status != "ok") {
            fmt::print("  {:<60} {}\n", params_key(c.params), c.status);
            continue;
        }
        const double gbs = p->bytes / (c.ms * 1e-3) / 1e9;
        // The RNN cores are compute-bound: their mat-vecs' GFLOP/s instead of bytes.
        const std::string rate = p->flops > 0 ? fmt::format("{:6.1f} GFLOP/s", p->flops / (c.ms * 1e-3) / 1e9)
                                              : fmt::format("{:6.1f} GB/s  {:4.0f}% of copy", gbs, 100 * gbs / std::max(1e-9, ceil_gbs));
        fmt::print("  {:<60} {:9.3f} ms  spread {:4.0f}%  {}  {}\n", params_key(c.params), c.ms, 100 * c.spread, rate,
                   base > 0 ? fmt::format("{:.2f}x the first", base / c.ms) : std::string());
    }
}

}  // namespace statemix::tune
