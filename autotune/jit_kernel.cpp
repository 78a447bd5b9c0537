#include "jit_kernel.h"

#include "dispatch.h"
#include "error.h"
#include "scratch.h"

#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace statemix::tune {

namespace {

// The JIT pipelines allocate their intermediate stages through the same scratch cache as the AOT
// kernels (runtime/scratch.h), so candidates and built kernels pay the same for memory.
void *jit_malloc(Halide::JITUserContext *ctx, size_t n) { return scratch_malloc(ctx, n); }
void jit_free(Halide::JITUserContext *ctx, void *p) { scratch_free(ctx, p); }

// Loads Halide's autoscheduler plugin `name` once (the build passes the plugins' paths).
void load_autoscheduler(const std::string &name) {
    static std::mutex mu;
    static std::set<std::string> loaded;
    std::lock_guard<std::mutex> lock(mu);
    if (loaded.count(name)) return;
    const std::map<std::string, std::string> plugins = {
#ifdef STATEMIX_PLUGIN_MULLAPUDI2016
        {"Mullapudi2016", STATEMIX_PLUGIN_MULLAPUDI2016},
#endif
#ifdef STATEMIX_PLUGIN_ADAMS2019
        {"Adams2019", STATEMIX_PLUGIN_ADAMS2019},
#endif
#ifdef STATEMIX_PLUGIN_LI2018
        {"Li2018", STATEMIX_PLUGIN_LI2018},
#endif
#ifdef STATEMIX_PLUGIN_ANDERSON2021
        {"Anderson2021", STATEMIX_PLUGIN_ANDERSON2021},
#endif
    };
    auto it = plugins.find(name);
    if (it == plugins.end()) throw Error("tune: no autoscheduler plugin named '" + name + "' in this build");
    Halide::load_plugin(it->second);
    loaded.insert(name);
}

// The generators' estimates (bdlru/hlru_generator.cpp set_estimates) are made for the wide
// bucket's shape, B = 16, T = 2048, state 1024; an autoscheduler candidate for another bucket
// gets them rescaled to "BxTxS" (params "estimate"): in every input and output, the last
// dimension (b) becomes B, a dimension estimated at 2048 (t) T, and one at the generator's N
// (1024/m for BD-LRU, 1024 for H-LRU) the bucket's N.
void set_bucket_estimates(Halide::Internal::AbstractGenerator &gen, Halide::Pipeline &pipeline, const KernelKey &k,
                          const std::string &shape) {
    long long B = 0, T = 0, S = 0;
    if (std::sscanf(shape.c_str(), "%lldx%lldx%lld", &B, &T, &S) != 3 || B < 1 || T < 1 || S < 1) {
        throw Error("tune: estimate must be BxTxS, got '" + shape + "'");
    }
    const bool bd = k.layer == "bdlru";
    const int n_est = bd ? 1024 / k.m : 1024;
    const long long N = bd ? std::max<long long>(1, S / k.m) : S;
    auto rescale = [&](bool batch_dim, int extent) -> int {
        if (batch_dim) return (int)B;
        if (extent == 2048) return (int)T;
        if (extent == n_est) return (int)N;
        return extent;
    };
    for (const auto &a : gen.arginfos()) {
        if (a.dir != Halide::Internal::ArgInfoDirection::Input || a.kind == Halide::Internal::ArgInfoKind::Scalar) continue;
        for (Halide::Parameter prm : gen.input_parameter(a.name)) {
            for (int d = 0; d < prm.dimensions(); d++) {
                const Halide::Expr e = prm.extent_constraint_estimate(d);
                const std::optional<int64_t> v = e.defined() ? Halide::Internal::as_const_int(e) : std::nullopt;
                if (v) prm.set_extent_constraint_estimate(d, rescale(d == prm.dimensions() - 1, (int)*v));
            }
        }
    }
    for (Halide::Func f : pipeline.outputs()) {
        std::vector<Halide::Internal::Bound> bounds = f.function().schedule().estimates();
        for (size_t d = 0; d < bounds.size(); d++) {
            const std::optional<int64_t> v = bounds[d].extent.defined() ? Halide::Internal::as_const_int(bounds[d].extent) : std::nullopt;
            const bool batch_dim = bounds[d].var == f.args().back().name();
            if (v) f.set_estimate(Halide::Var(bounds[d].var), bounds[d].min, rescale(batch_dim, (int)*v));
        }
    }
}

// Halide's message reaches the Error that dispatch::call_kernel throws.
void jit_error(Halide::JITUserContext *, const char *msg) { dispatch::set_kernel_error_message(msg); }

}  // namespace

Prepared prepare(const KernelKey &k, const Params &params, const Halide::Target &target) {
    Params p = generator_params(k, params);
    p["m"] = std::to_string(k.m);
    // "autoscheduler": one of Halide's autoschedulers schedules the same algorithm from the
    // estimates ("estimate": the bucket's shape) instead of schedules/ (for comparison; never a
    // winner).
    std::string autosched, estimate;
    if (p.count("autoscheduler")) {
        autosched = p["autoscheduler"];
        p.erase("autoscheduler");
        load_autoscheduler(autosched);
    }
    if (p.count("estimate")) {
        estimate = p["estimate"];
        p.erase("estimate");
    }
    Prepared out;
    out.gen = Halide::Internal::GeneratorRegistry::create(generator_name(k, params), Halide::GeneratorContext(target));
    for (const auto &[key, value] : p) out.gen->set_generatorparam_value(key, value);
    if (autosched.empty()) return out;
    out.gen->set_generatorparam_value("autoscheduler", autosched);
    // What compile_to_callable / build_module do, with the estimates and the autoscheduler
    // applied in between.
    Halide::Pipeline pipeline = out.gen->build_pipeline();
    if (!estimate.empty()) set_bucket_estimates(*out.gen, pipeline, k, estimate);
    Halide::AutoschedulerParams ap(autosched);
    if (autosched == "Mullapudi2016" || autosched == "Adams2019") {
        ap.extra["parallelism"] = std::to_string(std::max(1u, std::thread::hardware_concurrency()));
    }
    pipeline.apply_autoscheduler(target, ap);
    for (const auto &a : out.gen->arginfos()) {
        if (a.dir != Halide::Internal::ArgInfoDirection::Input) continue;
        for (const Halide::Parameter &prm : out.gen->input_parameter(a.name)) {
            out.inputs.emplace_back(prm.name(), prm.is_buffer() ? Halide::Argument::InputBuffer : Halide::Argument::InputScalar,
                                    prm.type(), prm.dimensions(), Halide::ArgumentEstimates{});
        }
    }
    out.autoscheduled = pipeline;
    return out;
}

void compile_candidate_object(const KernelKey &k, const Params &params, const Halide::Target &target,
                              const std::string &function, const std::string &object_file) {
    Prepared prep = prepare(k, params, target);
    const Halide::Module module = prep.autoscheduled ? prep.autoscheduled->compile_to_module(prep.inputs, function, target)
                                                     : prep.gen->build_module(function);
    module.compile({{Halide::OutputFileType::object, object_file}});
}

JitKernel::JitKernel(const KernelKey &k, const Params &params, const Halide::Target &target)
    : layer_(k.layer), device_(k.device) {
    auto t0 = std::chrono::steady_clock::now();
    // The generator's own direction (an RNN op's candidate is a step or a one-launch kernel).
    const std::string generator = generator_name(k, params);
    direction_ = generator.substr(k.layer.size() + 1);
    Params p = generator_params(k, params);
    algorithm_ = p.count("algorithm") ? p["algorithm"] : "sequential";
    params_str_ = params_key(params);
    name_ = "jit " + k.label() + " [" + params_str_ + "]";
    int chunk = 0;
    if (algorithm_ == "chunked") chunk = p.count("chunk") ? std::stoi(p["chunk"]) : 64;
    try {
        Prepared prep = prepare(k, params, target);
        auto &gen = prep.gen;
        // Argument names in the order the Callable takes them: inputs, then outputs (a Tuple
        // output's elements as name.0, name.1, ..., as in the AOT kernels' metadata).
        std::vector<halide_filter_argument_t> args;
        for (const auto &a : gen->arginfos()) {
            const bool buffer = a.kind != Halide::Internal::ArgInfoKind::Scalar;
            const bool output = a.dir == Halide::Internal::ArgInfoDirection::Output;
            for (size_t i = 0; i < a.types.size(); i++) {
                arg_names_.push_back(a.types.size() > 1 ? a.name + "." + std::to_string(i) : a.name);
                halide_filter_argument_t fa{};
                fa.kind = output ? halide_argument_kind_output_buffer
                                 : buffer ? halide_argument_kind_input_buffer : halide_argument_kind_input_scalar;
                fa.dimensions = a.dimensions;
                fa.type = a.types[i];
                args.push_back(fa);
            }
        }
        Halide::JITHandlers handlers;
        handlers.custom_malloc = jit_malloc;
        handlers.custom_free = jit_free;
        handlers.custom_error = jit_error;
        if (!prep.autoscheduled) {
            callable_ = gen->compile_to_callable(&handlers);
        } else {
            prep.autoscheduled->jit_handlers() = handlers;
            callable_ = prep.autoscheduled->compile_to_callable(prep.inputs, target);
        }
        args_ = std::move(args);
    } catch (const Halide::Error &e) {
        throw Error("tune: " + k.label() + " [" + params_str_ + "] does not compile: " + e.what());
    }
    for (size_t i = 0; i < args_.size(); i++) args_[i].name = arg_names_[i].c_str();
    metadata_.version = halide_filter_metadata_t::VERSION;
    metadata_.num_arguments = (int32_t)args_.size();
    metadata_.arguments = args_.data();
    metadata_.target = nullptr;
    metadata_.name = name_.c_str();
    entry_.name = name_.c_str();
    entry_.layer = layer_.c_str();
    entry_.direction = direction_.c_str();
    entry_.algorithm = algorithm_.c_str();
    entry_.m = k.m;
    entry_.device = device_.c_str();
    entry_.chunk = chunk;
    entry_.argv = nullptr;
    entry_.metadata = nullptr;
    entry_.params = params_str_.c_str();
    entry_.call = &JitKernel::call;
    entry_.ctx = this;
    entry_.jit_metadata = &metadata_;
    compile_s_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int JitKernel::call(const void *self, void **args) {
    const JitKernel &k = *static_cast<const JitKernel *>(self);
    // Callable's argv: a JITUserContext** first, then the arguments as the AOT argv takes them.
    Halide::JITUserContext context;
    Halide::JITUserContext *context_ptr = &context;
    std::vector<const void *> argv;
    argv.reserve(k.args_.size() + 1);
    argv.push_back(&context_ptr);
    for (size_t i = 0; i < k.args_.size(); i++) argv.push_back(args[i]);
    return k.callable_.call_argv_fast(argv.size(), argv.data());
}

}  // namespace statemix::tune
