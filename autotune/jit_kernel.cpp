#include "jit_kernel.h"

#include "dispatch.h"
#include "error.h"
#include "scratch.h"

#include <chrono>
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

// Halide's message reaches the Error that dispatch::call_kernel throws.
void jit_error(Halide::JITUserContext *, const char *msg) { dispatch::set_kernel_error_message(msg); }

}  // namespace

JitKernel::JitKernel(const KernelKey &k, const Params &params, const Halide::Target &target)
    : layer_(k.layer), device_(k.device) {
    auto t0 = std::chrono::steady_clock::now();
    // The generator's own direction (an RNN op's candidate is a step or a one-launch kernel).
    const std::string generator = generator_name(k, params);
    direction_ = generator.substr(k.layer.size() + 1);
    Params p = generator_params(k, params);
    algorithm_ = p.count("algorithm") ? p["algorithm"] : "sequential";
    p["m"] = std::to_string(k.m);
    params_str_ = params_key(params);
    name_ = "jit " + k.label() + " [" + params_str_ + "]";
    int chunk = 0;
    if (algorithm_ == "chunked") chunk = p.count("chunk") ? std::stoi(p["chunk"]) : 64;
    try {
        // "autoscheduler": one of Halide's autoschedulers schedules the same algorithm from the
        // generator's estimates instead of schedules/ (for comparison; never a winner).
        std::string autosched;
        if (p.count("autoscheduler")) {
            autosched = p["autoscheduler"];
            p.erase("autoscheduler");
            load_autoscheduler(autosched);
        }
        Halide::GeneratorContext context(target);
        auto gen = Halide::Internal::GeneratorRegistry::create(generator, context);
        for (const auto &[key, value] : p) gen->set_generatorparam_value(key, value);
        if (!autosched.empty()) gen->set_generatorparam_value("autoscheduler", autosched);
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
        if (autosched.empty()) {
            callable_ = gen->compile_to_callable(&handlers);
        } else {
            // What compile_to_callable does, with the autoscheduler applied in between (the
            // generator applies it only when it builds a module).
            Halide::Pipeline pipeline = gen->build_pipeline();
            Halide::AutoschedulerParams ap(autosched);
            if (autosched == "Mullapudi2016" || autosched == "Adams2019") {
                ap.extra["parallelism"] = std::to_string(std::max(1u, std::thread::hardware_concurrency()));
            }
            pipeline.apply_autoscheduler(target, ap);
            std::vector<Halide::Argument> inputs;
            for (const auto &a : gen->arginfos()) {
                if (a.dir != Halide::Internal::ArgInfoDirection::Input) continue;
                for (const Halide::Parameter &prm : gen->input_parameter(a.name)) {
                    inputs.emplace_back(prm.name(), prm.is_buffer() ? Halide::Argument::InputBuffer : Halide::Argument::InputScalar,
                                        prm.type(), prm.dimensions(), Halide::ArgumentEstimates{});
                }
            }
            pipeline.jit_handlers() = handlers;
            callable_ = pipeline.compile_to_callable(inputs, target);
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
